/*
 * The deterministic host (see det.h).  Every block the core takes is
 * threaded on a list, so a test can see what is outstanding after a
 * teardown and a simulated crash dump can walk exactly what a kernel
 * dump would hold: the core's metadata, never the arena.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "det.h"
#include "swap.h"

typedef struct Blk Blk;
struct Blk {
	Blk	*next;
	Blk	*prev;
	usize	n;
	usize	mapped;		/* 1: pages of its own (hostzalloc), unmapped when freed */
	uchar	pad[64 - 4*sizeof(void*)];	/* what follows is on a cache line of its own, as from the POSIX host */
};

char	hosteve[KNAMELEN] = "eve";

static Blk	blocks = { &blocks, &blocks, 0, 0, {0} };
static Lock	blklk;
static long	nblock;
static usize	nbytes;
static long	nmalloc;
static long	failat;
static long	failevery;
static long	nswapout;
static long	swapfailat;
static uvlong	vclock;
static uvlong	rngstate;
static int	checkarena;
static int	refuselock;
static usize	arenaleft;
static Lock	rnglk;

void
detreset(uvlong seed)
{
	__atomic_store_n(&vclock, 0, __ATOMIC_RELAXED);
	lock(&rnglk);
	rngstate = seed;
	unlock(&rnglk);
	failat = failevery = swapfailat = 0;
	refuselock = 0;
	nmalloc = nswapout = 0;
	swapclear();
	__atomic_store_n(&swapinhook, nil, __ATOMIC_RELEASE);
}

void
detrefuselock(int on)
{
	refuselock = on;
}

void
detsetclock(uvlong ns)
{
	__atomic_store_n(&vclock, ns, __ATOMIC_RELAXED);
}

void
detadvance(uvlong ns)
{
	__atomic_add_fetch(&vclock, ns, __ATOMIC_RELAXED);
}

uvlong
detclock(void)
{
	return __atomic_load_n(&vclock, __ATOMIC_RELAXED);
}

uvlong
hostnsec(void)
{
	return detclock();
}

/* splitmix64: small, seedable, good enough for keys nobody attacks */
void
hostrand(void *buf, usize n)
{
	uchar *p;
	uvlong z;
	usize i;

	z = 0;
	p = buf;
	lock(&rnglk);
	for(i = 0; i < n; i++){
		if(i % 8 == 0){
			z = (rngstate += 0x9e3779b97f4a7c15ULL);
			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
			z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
			z ^= z >> 31;
		}
		p[i] = z >> (8*(i%8));
	}
	unlock(&rnglk);
}

void
hostpanic(char *msg)
{
	fprintf(stderr, "%s\n", msg);
	abort();
}

extern void	(*detlockfn)(void*);	/* lock.c, built with LOCKHOOK */
extern void	*detlockarg;

void
detlockhook(void (*fn)(void*), void *arg)
{
	detlockarg = arg;
	__atomic_store_n(&detlockfn, fn, __ATOMIC_RELEASE);
}

void
detswapinhook(void (*fn)(uvlong))
{
	__atomic_store_n(&swapinhook, fn, __ATOMIC_RELEASE);
}

void
detfailmalloc(long n)
{
	lock(&blklk);
	failat = n > 0 ? nmalloc + n : 0;
	unlock(&blklk);
}

void
detfailmallocevery(long n)
{
	lock(&blklk);
	failevery = n;
	unlock(&blklk);
}

long
detmallocs(void)
{
	return __atomic_load_n(&nmalloc, __ATOMIC_RELAXED);
}

usize
detmetabytes(void)
{
	return __atomic_load_n(&nbytes, __ATOMIC_RELAXED);
}

long
detblocks(void)
{
	return __atomic_load_n(&nblock, __ATOMIC_RELAXED);
}

static int
shouldfail(void)
{
	nmalloc++;
	if(failat != 0 && nmalloc == failat){
		failat = 0;
		return 1;
	}
	return failevery > 0 && nmalloc % failevery == 0;
}

static void
linkblk(Blk *b, usize n)
{
	b->n = n;
	lock(&blklk);
	b->next = blocks.next;
	b->prev = &blocks;
	blocks.next->prev = b;
	blocks.next = b;
	nblock++;
	nbytes += n;
	unlock(&blklk);
}

/*
 * Small blocks given back are kept by size, as a kernel's pool keeps
 * them, and handed out again: a simulated run makes and drops a run's
 * records at every turn, and aligned_alloc's search costs more than
 * the rest of the event.  The sanitizer builds go straight to libc,
 * so that a use after free or a race on freed metadata is still seen.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
enum { Keepblk = 0 };
#else
enum { Keepblk = 32<<10 };
#endif
static Blk	*keptblk[Keepblk/64 + 1];

static usize
blksize(usize n)
{
	return (sizeof(Blk) + n + 63) & ~(usize)63;
}

void*
hostmalloc(usize n)
{
	usize t;
	Blk *b;

	t = blksize(n);
	lock(&blklk);
	if(shouldfail()){
		unlock(&blklk);
		return nil;
	}
	b = nil;
	if(t <= Keepblk && (b = keptblk[t/64]) != nil)
		keptblk[t/64] = b->next;
	unlock(&blklk);
	if(b == nil && (b = aligned_alloc(64, t)) == nil)
		return nil;
	b->mapped = 0;
	linkblk(b, n);
	return b+1;
}

enum { Bigzero = 256<<10, Pg = 4096 };

/*
 * A big zeroed block is pages of its own, zero until first touched:
 * an audit ring of 2^24 entries costs what the run writes into it.
 * Its header sits at the end of a page in front of it.
 */
void*
hostzalloc(usize n)
{
	uchar *p;
	Blk *b;

	if(n < Bigzero){
		p = hostmalloc(n);
		if(p != nil)
			memset(p, 0, n);
		return p;
	}
	lock(&blklk);
	if(shouldfail()){
		unlock(&blklk);
		return nil;
	}
	unlock(&blklk);
	p = mmap(nil, Pg + n, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
	if(p == MAP_FAILED)
		return nil;
	b = (Blk*)(p + Pg) - 1;
	b->mapped = 1;
	linkblk(b, n);
	return b+1;
}

void
hostfree(void *p, usize n)
{
	Blk *b;

	if(p == nil)
		return;
	b = (Blk*)p - 1;
	if(b->n != n)
		hostpanic("det: hostfree size differs from hostmalloc's");
	lock(&blklk);
	b->prev->next = b->next;
	b->next->prev = b->prev;
	nblock--;
	nbytes -= n;
	unlock(&blklk);
	if(b->mapped)
		munmap((uchar*)p - Pg, Pg + n);
	else if(blksize(n) <= Keepblk){
		lock(&blklk);
		b->next = keptblk[blksize(n)/64];
		keptblk[blksize(n)/64] = b;
		unlock(&blklk);
	}else
		free(b);
}

void
detdump(void (*fn)(void*, usize, void*), void *arg)
{
	Blk *b;

	for(b = blocks.next; b != &blocks; b = b->next)
		fn(b+1, b->n, arg);
}

/*
 * Tests and fuzzers make thousands of small instances a second: a
 * small arena given back is kept for the next one of its size and
 * zeroed then, which costs less than a new mapping's page faults and
 * the old one's TLB shootdown.  A few sizes are kept at once, as the
 * api fuzzer draws its heap from six.
 */
enum { Keepmax = 1<<20, Nkeep = 8 };
static struct {
	void	*p;
	usize	size;
}	kept[Nkeep];
static int	keepnext;	/* the slot to evict when all are taken */
static long	narena;		/* arenas given and not yet taken back */

void*
hostarena(usize size, int mayunlock, int *locked)
{
	void *p;
	int i;

	/*
	 * Simulated RAM stands for a kernel's memory, which nothing pages
	 * but the core's own pager: locked, unless a test asks for a host
	 * that cannot lock (detrefuselock), to check the core's rule.
	 */
	*locked = !refuselock;
	p = nil;
	for(i = 0; i < Nkeep && p == nil; i++)
		if(kept[i].p != nil && kept[i].size == size){
			p = kept[i].p;
			kept[i].p = nil;
			memset(p, 0, size);
		}
	if(p == nil){
		p = mmap(nil, size, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
		if(p == MAP_FAILED)
			return nil;	/* else zero pages, made when first touched */
	}
	__atomic_add_fetch(&narena, 1, __ATOMIC_RELAXED);
	return p;
}

long
detarenas(void)
{
	return __atomic_load_n(&narena, __ATOMIC_RELAXED);
}

static void
keeparena(void *base, usize size)
{
	int i;

	for(i = 0; i < Nkeep && kept[i].p != nil; i++)
		;
	if(i == Nkeep){
		i = keepnext;
		keepnext = (keepnext+1) % Nkeep;
		munmap(kept[i].p, kept[i].size);
	}
	kept[i].p = base;
	kept[i].size = size;
}

/* when asked, count what teardown left unwiped in the arena */
void
detcheckarena(int on)
{
	checkarena = on;
	arenaleft = 0;
}

usize
detarenaleft(void)
{
	return arenaleft;
}

void
hostarenafree(void *base, usize size)
{
	uvlong *w;
	uchar *p;
	usize i, j;

	__atomic_sub_fetch(&narena, 1, __ATOMIC_RELAXED);
	/* a word at a time: the fuzzers' api target tears an arena down on every input */
	if(checkarena){
		w = base;
		for(i = 0; i < size/8; i++)
			if(w[i] != 0)
				for(p = (uchar*)&w[i], j = 0; j < 8; j++)
					arenaleft += p[j] != 0;
		for(p = base, i = size/8*8; i < size; i++)
			arenaleft += p[i] != 0;
	}
	if(size <= Keepmax){
		keeparena(base, size);
		return;
	}
	munmap(base, size);
}

void
detfailswap(long n)
{
	lock(&blklk);
	swapfailat = n > 0 ? nswapout + n : 0;
	unlock(&blklk);
}

int
hostswapout(uvlong key, void *buf, usize n)
{
	int fail;

	lock(&blklk);
	nswapout++;
	fail = swapfailat != 0 && nswapout == swapfailat;
	if(fail)
		swapfailat = 0;
	unlock(&blklk);
	if(fail)
		return -1;
	return swapput(key, buf, n);
}


int
detswapcount(void)
{
	return swapcount();
}

int
detswapread(int i, uvlong *key, uchar **buf, usize *n)
{
	return swapread(i, key, buf, n);
}
