/*
 * Size classes.  Allocations up to a page are carved from runs of
 * equal slots: classes are 16 bytes apart up to 256, then eight to
 * sixteen to a power of two, so that rounding costs about 2-4% of the
 * bytes asked for (OpenSSL's power-of-two buddy loses up to half).
 * Each such run is sized so that its tail wastes at most 1/64 of it
 * and the span's bookkeeping is shared by at least 16 slots.
 *
 * Above a page, up to 64 KiB, a class is a whole number of pages and
 * its run holds one slot: a partial free must give every whole page
 * of the freed front back to the heap at once (DESIGN.md, Free), and
 * a run of one slot can give its front pages away, where a slot
 * inside a shared run could not.  Areas still cache one empty run per
 * class, so steady churn at these sizes never reaches the heap.
 * Larger allocations take whole pages, uncached.
 */
#include "pebble.h"
#include "dat.h"
#include "fns.h"

Class	classes[NCLASS];
static uchar	small[4096/QUANTUM + 1];	/* (size+15)/16 -> class */

/* log2 ranges above 256: how many classes each is cut into */
static struct {
	int	lg;
	int	n;
} cuts[] = {
	{8, 8}, {9, 8}, {10, 16}, {11, 16},
};

static ulong
slotsin(uint size, ulong np)
{
	ulong n;

	n = (np << PGSHIFT) / size;
	return n > MAXSLOT ? MAXSLOT : n;
}

static void
geometry(Class *c)
{
	ulong np, best, minslot;
	uvlong run, waste, bwaste, brun;

	if(c->size > PGSIZE){
		c->npage = c->size >> PGSHIFT;
		c->nslot = 1;
		c->magic = 0;	/* slotof: always slot 0 */
		return;
	}
	minslot = 16;
	best = 0;
	bwaste = brun = 1;
	for(np = 1; np <= 64; np++){
		if(slotsin(c->size, np) < minslot && np < 64)
			continue;
		run = np << PGSHIFT;
		waste = run - slotsin(c->size, np)*c->size;
		if(waste*64 <= run){
			best = np;
			break;
		}
		if(best == 0 || waste*brun < bwaste*run){
			best = np;
			bwaste = waste;
			brun = run;
		}
	}
	c->npage = best;
	c->nslot = slotsin(c->size, best);
	c->magic = ((1ULL<<40) + c->size - 1) / c->size;
}

void
classinit(void)
{
	int i, k, j;
	uint sz, step;

	k = 0;
	for(sz = QUANTUM; sz <= 256; sz += QUANTUM)
		classes[k++].size = sz;
	for(i = 0; i < (int)nelem(cuts); i++){
		step = (1U << cuts[i].lg) / cuts[i].n;
		for(j = 1; j <= cuts[i].n; j++)
			classes[k++].size = (1U << cuts[i].lg) + j*step;
	}
	if(k != NSMALL)
		hostpanic("pebble: small classes do not end at a page");
	for(sz = 2*PGSIZE; sz <= MAXCLASS; sz += PGSIZE)
		classes[k++].size = sz;
	for(i = 0; i < NCLASS; i++)
		geometry(&classes[i]);
	k = 0;
	for(i = 0; i <= 4096/QUANTUM; i++){
		while(classes[k].size < (uint)i*QUANTUM)
			k++;
		small[i] = k;
	}
}

/* class of an allocation of n bytes, or -1 for whole pages */
int
sizeclass(usize n)
{
	if(n <= PGSIZE)
		return small[(n + QUANTUM-1) / QUANTUM];
	if(n > MAXCLASS)
		return -1;
	return NSMALL - 2 + ((n + PGSIZE-1) >> PGSHIFT);
}

/* the largest allocation a run of n free pages can hold */
usize
fitsin(ulong n)
{
	int c;

	if(n > MAXCLASS/PGSIZE)
		return (usize)n << PGSHIFT;
	for(c = NCLASS-1; c >= 0; c--)
		if(classes[c].npage <= n)
			return classes[c].size;
	return 0;
}
