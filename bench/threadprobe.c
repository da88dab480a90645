/*
 * Two procs on two processors: what do they lose to sharing one
 * process?  threadprobe THREADS AUDIT CPU0 [SEQ] runs THREADS (1 or 2)
 * threads, thread t on processor CPU0+t with its own proc (slot 1+t),
 * each freeing a random one of 1,000 live 256 B allocations and
 * allocating anew, PAIRS times (default 10,000,000), audit on or off,
 * and prints each thread's ns a pair.  SEQ 1 fills the live sets one
 * thread after the other, so that their runs are not interleaved page
 * by page in the arena.  tools/threadprobe runs it as two threads of
 * one process and as two one-thread processes at the same moment (the
 * reference: two processes share nothing), side by side.  The random
 * indices come from a fixed generator: no clock but the timer's.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "pebble.h"
#include "host/posix.h"
#include "host/proc.h"

enum { Live = 1000, Size = 256, Nproc = 8 };

static Proc	procs[Nproc];
static int	nthr, cpu0, seq, audit;
static long	npair = 10000000;
static double	secs[2];
static int	filled;

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec*1e-9;
}

static void
die(char *what, int r)
{
	fprintf(stderr, "threadprobe: %s: %s\n", what, pebble_strerror(r));
	exit(1);
}

static void*
run(void *arg)
{
	long t, i;
	Proc *p;
	void *v[Live];
	unsigned x;
	cpu_set_t s;
	double a;
	int k, r;

	t = (long)arg;
	p = &procs[1+t];
	x = 12345 + t;
	CPU_ZERO(&s);
	CPU_SET(cpu0 + t, &s);
	if(pthread_setaffinity_np(pthread_self(), sizeof s, &s) != 0)
		die("cannot pin", PEBBLE_ERR_INVALID);
	while(seq && __atomic_load_n(&filled, __ATOMIC_ACQUIRE) != t)
		;
	for(i = 0; i < Live; i++)
		if((r = pebble_secure_alloc_simple(p, Size, &v[i])) != 0)
			die("alloc", r);
	__atomic_add_fetch(&filled, 1, __ATOMIC_ACQ_REL);
	while(__atomic_load_n(&filled, __ATOMIC_ACQUIRE) != nthr)
		;
	a = now();
	for(i = 0; i < npair; i++){
		x = x*1103515245 + 12345;
		k = (x >> 8) % Live;
		if((r = pebble_secure_free(p, v[k])) != 0 || (r = pebble_secure_alloc_simple(p, Size, &v[k])) != 0)
			die("pair", r);
	}
	secs[t] = now() - a;
	for(i = 0; i < Live; i++)
		pebble_secure_free(p, v[i]);
	return nil;
}

int
main(int argc, char **argv)
{
	Pebbleconf c;
	pthread_t th[2];
	int i, r;

	if(argc < 4){
		fprintf(stderr, "usage: threadprobe THREADS AUDIT CPU0 [SEQ [PAIRS]]\n");
		return 2;
	}
	nthr = atoi(argv[1]) == 2 ? 2 : 1;
	audit = atoi(argv[2]) != 0;
	cpu0 = atoi(argv[3]);
	seq = argc > 4 && atoi(argv[4]) != 0;
	if(argc > 5)
		npair = atol(argv[5]);
	memset(&c, 0, sizeof c);
	c.heapsize = 64<<20;
	c.nproc = Nproc;
	c.auditsize = 16384;
	c.budget = 64<<20;
	c.unlocked = 1;	/* a measurement may run unlocked */
	if((r = pebbleinit(&c)) != 0)
		die("pebbleinit", r);
	for(i = 0; i < Nproc; i++){
		procs[i].slot = i;
		procs[i].pid = 100 + i;
		strcpy(procs[i].user, "glenda");
		if((r = pebble_secure_attach(nil, &procs[i])) != 0)
			die("attach", r);
		if((r = pebble_set_secure_conf(&procs[i], "pebble.secure.audit", audit ? "1" : "0")) != 0)
			die("audit", r);
	}
	for(i = 0; i < nthr; i++)
		pthread_create(&th[i], nil, run, (void*)(long)i);
	for(i = 0; i < nthr; i++)
		pthread_join(th[i], nil);
	for(i = 0; i < nthr; i++)
		printf("cpu %d audit %d: %.1f ns a pair\n", cpu0 + i, audit, secs[i]*1e9/npair);
	pebbleshutdown();
	return 0;
}
