/*
 * The POSIX host (see posix.h).  If mlock fails (RLIMIT_MEMLOCK) the
 * subsystem does not start, unless the caller set Pebbleconf.unlocked:
 * then the arena is used unpinned and the system statistics say
 * locked 0.  A host never claims a pinning it did not get, and never
 * drops it silently.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/random.h>
#include <unistd.h>
#include <pthread.h>
#include "posix.h"
#include "swap.h"

char	hosteve[KNAMELEN] = "eve";
static int	locked;

/*
 * The clock.  A kernel stamps allocations with its tick count, a load
 * from memory; a clock read here costs 10-30 ns, a fifth to a half of
 * an allocation.  So while an arena exists a ticker thread (the
 * kernel's clock interrupt) stores the monotonic time every
 * millisecond, and hostnsec reads that: nanoseconds, at the
 * resolution of a tick.
 */
enum { TICK = 1000*1000 };

static uvlong	ticks;
static int	ticking;
static pthread_t	ticker;

static uvlong
monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uvlong)ts.tv_sec*1000000000ULL + ts.tv_nsec;
}

static void*
tickproc(void *arg)
{
	struct timespec ts = { 0, TICK };

	while(__atomic_load_n(&ticking, __ATOMIC_RELAXED)){
		__atomic_store_n(&ticks, monotonic(), __ATOMIC_RELAXED);
		nanosleep(&ts, nil);
	}
	return nil;
}

/* 0, or -1 if the ticker cannot run: then there is no arena either, so hostnsec never needs another clock */
static int
tickstart(void)
{
	__atomic_store_n(&ticks, monotonic(), __ATOMIC_RELAXED);
	__atomic_store_n(&ticking, 1, __ATOMIC_RELAXED);
	if(pthread_create(&ticker, nil, tickproc, nil) != 0){
		__atomic_store_n(&ticking, 0, __ATOMIC_RELAXED);
		return -1;
	}
	return 0;
}

static void
tickstop(void)
{
	if(!__atomic_load_n(&ticking, __ATOMIC_RELAXED))
		return;
	__atomic_store_n(&ticking, 0, __ATOMIC_RELAXED);
	pthread_join(ticker, nil);
}

/*
 * A load, and nothing else: the core stamps every audit entry, and a
 * clock with a fallback call in it makes the logging path keep its
 * values where a call cannot clobber them.  The ticker runs whenever
 * an arena exists (hostarena fails without it); before the first
 * arena this is 0, and after the last the last tick.
 */
uvlong
hostnsec(void)
{
	return __atomic_load_n(&ticks, __ATOMIC_RELAXED);
}

void
hostrand(void *buf, usize n)
{
	uchar *p;
	ssize_t r;

	for(p = buf; n > 0; p += r, n -= r){
		r = getrandom(p, n, 0);
		if(r < 0)
			hostpanic("posix: getrandom failed");
	}
}

void
hostpanic(char *msg)
{
	fprintf(stderr, "%s\n", msg);
	abort();
}

/*
 * Metadata on cache lines of its own: two procs' records never share
 * one; and a block of whole pages on a page of its own (host.h).
 * Blocks of Lazy bytes or more are mapped: zero pages, made when
 * first written, so a large zeroed block (the audit ring) costs what
 * is written of it.
 */
enum { Lazy = 1<<20, Page = 4096 };

void*
hostmalloc(usize n)
{
	void *p;

	if(n >= Lazy){
		p = mmap(nil, n, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
		return p == MAP_FAILED ? nil : p;
	}
	if(n % Page == 0)
		return aligned_alloc(Page, n);
	return aligned_alloc(64, (n + 63) & ~(usize)63);
}

void*
hostzalloc(usize n)
{
	void *p;

	p = hostmalloc(n);
	if(p != nil && n < Lazy)
		memset(p, 0, n);
	return p;
}

void
hostfree(void *p, usize n)
{
	if(p != nil && n >= Lazy)
		munmap(p, n);
	else
		free(p);
}

enum { HUGE = 2<<20 };

/*
 * The arena sits on a 2 MiB boundary and asks for transparent huge
 * pages, so that a large live set costs fewer TLB misses; a
 * PROT_NONE guard page lies on each side of it.
 */
/*
 * DESIGN.md (Encryption): a real host locks the arena in RAM or does
 * not start, unless the caller chose to run unlocked.  Say which
 * limit stood in the way and what was asked, so that it can be fixed.
 */
static void
lockfailed(usize size, int err)
{
	struct rlimit rl;
	char lim[32];

	if(getrlimit(RLIMIT_MEMLOCK, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		snprintf(lim, sizeof lim, "unlimited");
	else
		snprintf(lim, sizeof lim, "%llu bytes", (unsigned long long)rl.rlim_cur);
	fprintf(stderr, "pebble: cannot lock the secure heap in RAM: mlock of %zu bytes failed (%s); "
		"RLIMIT_MEMLOCK is %s. Raise it (ulimit -l %zu, or memlock in /etc/security/limits.conf, "
		"or run with CAP_IPC_LOCK), or set Pebbleconf.unlocked to run unlocked.\n",
		size, strerror(err), lim, (size + 1023) / 1024);
}

void*
hostarena(usize size, int mayunlock, int *lockedp)
{
	uchar *raw, *p, *end;
	usize pg, total;

	pg = sysconf(_SC_PAGESIZE);
	total = size + HUGE + 2*pg;
	raw = mmap(nil, total, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
	if(raw == MAP_FAILED)
		return nil;
	p = (uchar*)(((uintptr)raw + pg + HUGE-1) & ~(uintptr)(HUGE-1));
	end = raw + total;
	if(p - pg > raw)
		munmap(raw, p - pg - raw);
	if(p + size + pg < end)
		munmap(p + size + pg, end - (p + size + pg));
	if(mprotect(p - pg, pg, PROT_NONE) < 0 || mprotect(p + size, pg, PROT_NONE) < 0){
		munmap(p - pg, size + 2*pg);
		return nil;
	}
	madvise(p, size, MADV_HUGEPAGE);
	madvise(p, size, MADV_DONTDUMP);
	madvise(p, size, MADV_DONTFORK);
	locked = mlock(p, size) == 0;
	if(!locked && !mayunlock)
		lockfailed(size, errno);	/* the core will not start: say why */
	if(tickstart() < 0){
		if(locked)
			munlock(p, size);
		munmap(p - pg, size + 2*pg);
		return nil;
	}
	*lockedp = locked;
	return p;
}

void
hostarenafree(void *base, usize size)
{
	usize pg;

	tickstop();
	pg = sysconf(_SC_PAGESIZE);
	if(locked)
		munlock(base, size);
	munmap((uchar*)base - pg, size + 2*pg);
}

int
posixlocked(void)
{
	return locked;
}

int
hostswapout(uvlong key, void *buf, usize n)
{
	return swapput(key, buf, n);
}

