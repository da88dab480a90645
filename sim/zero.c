/*
 * The checker's zero test: new memory must read as zeros, and so must
 * bytes released with a wipe.  Reading every such byte was the largest
 * single cost of a run (swarm, seed 1, a million events: 13.4 GB
 * tested for 2.2 MB the procs wrote, 29% of its time), so the test
 * reads where a nonzero byte can be and samples the rest.
 *
 * A byte of the arena can be nonzero only if something wrote it: a
 * simulated proc (touch, in memcalls.c), or the core.  The core writes
 * the arena in two ways: zeros (its wipes and the zeroing of reused
 * slots) and, through the pager, a page brought back from swap.  So
 * the checker keeps a bit per 64-byte line of the arena, set when a
 * proc writes into the line or the host tells it a page came back
 * (detswapinhook), and cleared when a zero test has read every byte of
 * the line as zero.  A zero test reads every line whose bit is set,
 * the first and the last line of its range, and one line in Zstride
 * of the rest, at an offset that turns from test to test.  What that
 * misses is a core that writes something other than zeros where
 * nothing was written: a wipe or a zeroing that writes garbage writes
 * every line of its range, so the first line, always read, catches it.
 * Reads of live memory (shadowcmp) are not sampled, and neither are the
 * full scans: they compare every byte as before.
 */
#include "sim.h"

enum {
	Line	= 64,
	Page	= 4096,	/* the host's swap unit */
	Zstride	= 64,
};

static void	swappedin(uvlong);

static void
mark(usize l)
{
	sim.lines[l/64] |= 1ULL << (l%64);
}

/* after sim.arena is known; calloc's pages are made as the bits are set */
void
zeroinit(void)
{
	sim.nlines = (sim.arenasize + Line - 1) / Line;
	sim.lines = emalloc((sim.nlines + 63) / 64 * sizeof(uvlong));
	detswapinhook(swappedin);
}

void
zerofree(void)
{
	detswapinhook(nil);
	free(sim.lines);
	sim.lines = nil;
}

/* a proc writes [v, v+n) */
void
zerowrote(uintptr v, usize n)
{
	usize l, last;

	if(n == 0 || sim.lines == nil || v < sim.arena || v - sim.arena >= sim.arenasize)
		return;
	last = (v - sim.arena + n - 1) / Line;
	for(l = (v - sim.arena) / Line; l <= last && l < sim.nlines; l++)
		mark(l);
}

/* the host brings page pg back from swap: its bytes are whatever the pager makes them */
static void
swappedin(uvlong pg)
{
	zerowrote(sim.arena + pg*Page, Page);
}

/* line l's part of [v, v+n) reads zero; a line read whole is clear */
static int
lineok(usize l, uintptr v, usize n)
{
	uintptr lo, hi, a;

	a = sim.arena + l*Line;
	lo = v > a ? v : a;
	hi = v + n < a + Line ? v + n : a + Line;
	if(!iszero((uchar*)lo, hi - lo))
		return 0;
	if(lo == a && hi == a + Line)
		sim.lines[l/64] &= ~(1ULL << (l%64));
	return 1;
}

/* does [v, v+n) read as zeros, as far as a nonzero byte can be there? */
int
zeroread(uintptr v, usize n)
{
	usize first, last, l, w;
	uvlong bits, rot;

	if(n == 0)
		return 1;
	if(sim.lines == nil || v < sim.arena || v - sim.arena > sim.arenasize || n > sim.arena + sim.arenasize - v)
		return iszero((uchar*)v, n);
	first = (v - sim.arena) / Line;
	last = (v - sim.arena + n - 1) / Line;
	rot = sim.nzero++ % Zstride;
	if(!lineok(first, v, n) || !lineok(last, v, n))
		return 0;
	for(l = first + (Zstride - (first + rot) % Zstride) % Zstride; l < last; l += Zstride)
		if(l > first && !lineok(l, v, n))
			return 0;
	for(w = first/64; w <= last/64; w++)
		for(bits = sim.lines[w]; bits != 0; bits &= bits - 1){
			l = w*64 + __builtin_ctzll(bits);
			if(l > first && l < last && !lineok(l, v, n))
				return 0;
		}
	return 1;
}
