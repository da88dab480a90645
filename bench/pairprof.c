/*
 * What one steady-state pair costs in instructions and cache misses,
 * for callgrind (tools/pairprof runs it):
 *
 *	build/bench/pairprof ALLOC SIZE LIVE PAIRS
 *
 * ALLOC is pebble (audit off), pebble_audit or glibc_bzero.  LIVE
 * allocations of SIZE bytes are made first, uninstrumented; then PAIRS
 * times a random one of them is freed and allocated anew, as
 * steady/A/size:N/live:L in bench/steady.cc does, with callgrind's
 * instrumentation on for exactly those pairs.  The random indices are
 * drawn before, so the count is the allocator's and the loop's only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/callgrind.h>
#include "pebble.h"
#include "host/posix.h"

enum { Heap = 768<<20, Nring = 1<<16 };

static Proc	me;
static int	which;	/* 0 glibc, 1 pebble, 2 pebble_audit */

static void
die(char *what, int r)
{
	fprintf(stderr, "pairprof: %s: %d\n", what, r);
	exit(1);
}

static void*
get(usize n)
{
	void *v;
	int r;

	if(which == 0)
		return malloc(n);
	if((r = pebble_secure_alloc(&me, n, &v, PEBBLE_READ|PEBBLE_WRITE)) != 0)
		die("alloc", r);
	return v;
}

static void
put(void *v, usize n)
{
	int r;

	if(which == 0){
		explicit_bzero(v, n);
		free(v);
		return;
	}
	if((r = pebble_secure_free(&me, v)) != 0)
		die("free", r);
}

static void
setup(void)
{
	Pebbleconf c;
	int r;

	memset(&c, 0, sizeof c);
	c.heapsize = Heap;
	c.nproc = 4;
	c.auditsize = 16384;
	c.budget = Heap;
	c.unlocked = 1;
	if((r = pebbleinit(&c)) != 0)
		die("pebbleinit", r);
	pebble_secure_max_budget = Heap;
	me.slot = 0;
	me.pid = 100;
	strcpy(me.user, "glenda");
	if((r = pebble_secure_attach(nil, &me)) != 0)
		die("attach", r);
	if((r = pebble_secure_budget_set(&me, Heap)) != 0)
		die("budget_set", r);
	if((r = pebble_set_secure_conf(&me, "pebble.secure.audit", which == 2 ? "1" : "0")) != 0)
		die("audit", r);
}

int
main(int argc, char **argv)
{
	usize n, live, pairs, i, k;
	uint *ring;
	void **v;
	uvlong x;

	if(argc != 5){
		fprintf(stderr, "usage: pairprof pebble|pebble_audit|glibc_bzero SIZE LIVE PAIRS\n");
		return 1;
	}
	which = strcmp(argv[1], "glibc_bzero") == 0 ? 0 : strcmp(argv[1], "pebble") == 0 ? 1 :
		strcmp(argv[1], "pebble_audit") == 0 ? 2 : -1;
	n = strtoull(argv[2], nil, 0);
	live = strtoull(argv[3], nil, 0);
	pairs = strtoull(argv[4], nil, 0);
	if(which < 0 || n == 0 || live == 0)
		die("bad arguments", -1);
	setup();
	v = malloc(live * sizeof v[0]);
	ring = malloc(Nring * sizeof ring[0]);
	if(v == nil || ring == nil)
		die("malloc", -1);
	x = 0x9e3779b97f4a7c15ULL;
	for(i = 0; i < Nring; i++){
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		ring[i] = x % live;
	}
	for(i = 0; i < live; i++)
		v[i] = get(n);
	CALLGRIND_ZERO_STATS;
	CALLGRIND_START_INSTRUMENTATION;
	for(i = 0; i < pairs; i++){
		k = ring[i % Nring];
		put(v[k], n);
		v[k] = get(n);
	}
	CALLGRIND_STOP_INSTRUMENTATION;
	CALLGRIND_DUMP_STATS_AT("pairs");
	printf("%s %zu %zu %zu\n", argv[1], n, live, pairs);
	return 0;
}
