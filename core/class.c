/*
 * Size classes.  Allocations up to 64 KiB are carved from runs of
 * equal slots; above that they take whole pages.  Classes are 16
 * bytes apart up to 256, then eight to sixteen to a power of two, so
 * that rounding costs about 2-4% of the bytes asked for (OpenSSL's
 * power-of-two buddy loses up to half).  Each class's run is sized so
 * that the tail of the run wastes at most 1/64 of it and the span's
 * bookkeeping is shared by at least 16 slots where the class allows.
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
	{8, 8}, {9, 8}, {10, 16}, {11, 16}, {12, 8}, {13, 8}, {14, 8}, {15, 8},
};
static int	cutbase[16];

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

	minslot = c->size <= 8192 ? 16 : 4;
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
		cutbase[cuts[i].lg] = k;
		step = (1U << cuts[i].lg) / cuts[i].n;
		for(j = 1; j <= cuts[i].n; j++)
			classes[k++].size = (1U << cuts[i].lg) + j*step;
	}
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
	int lg, i;

	if(n <= 4096)
		return small[(n + QUANTUM-1) / QUANTUM];
	if(n > MAXCLASS)
		return -1;
	lg = 63 - __builtin_clzl(n-1);
	for(i = 0; cuts[i].lg != lg; i++)
		;
	return cutbase[lg] + (((n-1) - (1UL<<lg)) >> (lg - (31 - __builtin_clz(cuts[i].n))));
}
