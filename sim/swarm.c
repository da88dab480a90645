/*
 * Swarm exploration and boundary values.
 *
 * Swarm testing (Groce et al., as TigerBeetle's VOPR does): a seed
 * draws which actions and which fault kinds are on and their weights,
 * sizes, lifetimes and populations, so that each seed leans hard on a
 * few features instead of spreading thin over all.  What a seed drew
 * is printed in the run's header: the seed alone reproduces it.
 *
 * The boundary generator: the values where off-by-one errors live.
 * 0, 1, exactly the remaining budget and one past it, exactly the end
 * of an allocation and one past it, sizes around powers of two and
 * page multiples, SIZE_MAX and near it, malformed setting strings.
 */
#include "sim.h"
#include "wl.h"

static char *actname[Nact] = {
	"alloc", "write", "read", "probe", "free", "partial", "wipe", "wipefree", "share",
	"revoke", "info", "stats", "audit", "budget", "conf", "fork", "exit",
};
static char *faultname[Nfault] = { "kill", "malloc", "budget", "heap", "off", "pager" };

/* each action on with probability 1/2 (alloc and exit always), its weight log-uniform */
static void
drawmix(Rng *r, int *mix)
{
	int i;

	for(i = 0; i < Nact; i++)
		mix[i] = rchance(r, 500) ? rlog(r, 1, 40) : 0;
	if(mix[Aalloc] == 0)
		mix[Aalloc] = rlog(r, 1, 40);
	if(mix[Afork] == 0 && rchance(r, 500))
		mix[Afork] = rlog(r, 1, 10);
}

void
swarmdraw(Rng *r, Prof *p)
{
	int i;

	drawmix(r, p->mix);
	if(p->mix[Aexit] == 0)
		p->mix[Aexit] = rlog(r, 1, 10);
	memmove(p->rootmix, p->mix, sizeof p->mix);
	p->rootmix[Aexit] = 0;
	if(p->rootmix[Afork] == 0)
		p->rootmix[Afork] = rlog(r, 1, 20);
	p->szlo = rlog(r, 1, 4096);
	p->szhi = p->szlo + rlog(r, 1, 65536);
	p->bigp = rbelow(r, 100);
	p->biglo = rlog(r, 4096, 65536);
	p->bighi = p->biglo + rlog(r, 4096, 1<<20);
	p->lifelo = rlog(r, 2, 100);
	p->lifehi = p->lifelo + rlog(r, 1, 1000);
	p->maxown = rlog(r, 2, 128);
	p->nowaitp = rbelow(r, 500);
	p->memp = rbelow(r, 500);
	p->userp = rbelow(r, 800);
	p->maxdepth = rlog(r, 1, 24);
	p->roots = rrange(r, 1, 4);
	p->shareup = rbelow(r, 1000);
	p->rdonly = rchance(r, 200);
	p->faultgap = rlog(r, 100, 8000);
	p->heaplo = rlog(r, 1, 16);
	p->heaphi = p->heaplo + rlog(r, 1, 48);
	p->perproc = rchance(r, 500) ? 16384 : 65536;
	p->budlo = rlog(r, 16, 1024);
	p->budhi = p->budlo + rlog(r, 16, 8192);
	p->faults = 0;
	for(i = 0; i < Nfault; i++){
		p->fweight[i] = rchance(r, 600) ? rlog(r, 1, 20) : 0;
		if(p->fweight[i])
			p->faults |= 1 << i;
	}
	p->wipeoffp = rbelow(r, 600);
	p->keyfill = rchance(r, 300);
	p->boundp = rlog(r, 10, 400);
	p->badp = rlog(r, 1, 100);
	p->overfill = rchance(r, 200);
}

void
swarmprint(FILE *f, Prof *p)
{
	int i;

	fprintf(f, "swarm actions");
	for(i = 0; i < Nact; i++)
		if(p->mix[i])
			fprintf(f, " %s:%d", actname[i], p->mix[i]);
	fprintf(f, "; fault weights");
	for(i = 0; i < Nfault; i++)
		if(p->fweight[i])
			fprintf(f, " %s:%d", faultname[i], p->fweight[i]);
	fprintf(f, "\nswarm sizes %lu..%lu big %d/1000 %lu..%lu life %ld..%ld own %d depth %d roots %d "
		"boundaries %d/1000 wrong %d/1000 auto_wipe off %d/1000 fault gap %d%s\n",
		(ulong)p->szlo, (ulong)p->szhi, p->bigp, (ulong)p->biglo, (ulong)p->bighi, p->lifelo, p->lifehi,
		p->maxown, p->maxdepth, p->roots, p->boundp, p->badp, p->wipeoffp, p->faultgap, p->overfill ? " overfill" : "");
}

/* a size at a boundary: of p's budget, of a's size, of powers of two and pages, of SIZE_MAX */
usize
boundsize(Rng *r, SProc *p, SAlloc *a)
{
	usize rem, b;

	rem = p->limit - p->used;
	switch(rbelow(r, 8)){
	case 0:
		sim.bound[Bzero]++;
		return 0;
	case 1:
		sim.bound[Bone]++;
		return 1;
	case 2:
		return rem > 0 ? rem : 1;
	case 3:
		return rem + 1;
	case 4:
		sim.bound[Bclass]++;
		b = (usize)1 << rrange(r, 4, 17);
		return b - 1 + rbelow(r, 3);
	case 5:
		sim.bound[Bpage]++;
		b = 4096 * rrange(r, 1, 32);
		return b - 1 + rbelow(r, 3);
	case 6:
		sim.bound[Bsizemax]++;
		return (usize)-1 - rbelow(r, 4);
	default:
		return a != nil ? a->size + rbelow(r, 2) : rem - rbelow(r, rem < 16 ? rem + 1 : 16);
	}
}

/* a length from off to a's end: exactly, one past, one, or far past */
usize
boundlen(Rng *r, SAlloc *a, usize off)
{
	switch(rbelow(r, 6)){
	case 0:
	case 1:
		return a->size - off;
	case 2:
		return a->size - off + 1;
	case 3:
		sim.bound[Bone]++;
		return 1;
	case 4:
		sim.bound[Bzero]++;
		return 0;
	default:
		sim.bound[Bsizemax]++;
		return (usize)-1 - rbelow(r, 2);
	}
}

/* a setting's value that DESIGN's grammar refuses, or one at its edge */
void
boundconf(Rng *r, char *val, int n)
{
	static char *bad[] = {
		"1x", "", "-1", "18446744073709551616", "0x10", " 1", "1 ", "\t", "yes", "2", "01",
		"+1", "1kk", "1t", "k", "17179869184g", "18014398509481984k", "1.5", "%",
	};
	static char *edge[] = { "0", "1", "0k", "1K", "1m", "1G", "18446744073709551615", "4096" };

	if(rchance(r, 700)){
		sim.bound[Bbadconf]++;
		snprintf(val, n, "%s", bad[rbelow(r, nelem(bad))]);
	}else
		snprintf(val, n, "%s", edge[rbelow(r, nelem(edge))]);
}

/* a budget value at a boundary: usage, usage - 1, the maximum, SIZE_MAX, the limit */
usize
boundbudget(Rng *r, SProc *p, int op)
{
	switch(rbelow(r, 6)){
	case 0:
		return op == Obudgetset ? p->used : p->limit - p->used;
	case 1:
		return op == Obudgetset ? p->used - (p->used > 0) : p->limit - p->used + 1;
	case 2:
		return op == Obudgetinc ? sim.maxbudget - p->limit : sim.maxbudget;
	case 3:
		return op == Obudgetinc ? sim.maxbudget - p->limit + 1 : sim.maxbudget + 1;
	case 4:
		return (usize)-1 - rbelow(r, 2);
	default:
		return op == Obudgetdec ? p->limit + rbelow(r, 2) : 0;
	}
}
