/*
 * The shadow: the simulator's own record of what it did, kept apart
 * from the core.  Procs with their budgets and settings, allocations
 * with their owner, grants and every byte written.  Content is sparse:
 * an allocation's bytes live in chunks of 4 KiB made on the first
 * write to them, so a trace costs memory in proportion to what it
 * writes, not to what it allocates.  The rulebook (rules.c) reads and
 * changes this record; nothing here decides what a call returns.
 */
#include "sim.h"

Sim	sim;

void
siminit(Conf *c)
{
	int i;

	memset(&sim, 0, sizeof sim);
	sim.conf = *c;
	sim.tab = emalloc(c->nproc * sizeof(Proc));
	sim.slot = emalloc(c->nproc * sizeof(SProc*));
	sim.freeslot = emalloc(c->nproc * sizeof(int));
	sim.slotlog = emalloc(c->nproc * sizeof(uvlong));
	/* a stack, lowest slot on top: the order is part of the determinism */
	for(i = 0; i < c->nproc; i++)
		sim.freeslot[i] = c->nproc - 1 - i;
	sim.nfree = c->nproc;
	for(i = 0; i < c->nproc; i++)
		sim.tab[i].slot = i;
	sim.enabled = 1;
	sim.maxbudget = c->maxbudget;
	sim.auditing = 1;
	sim.scanevery = 1<<16;
	sim.nscratch = 1<<16;
	sim.scratch = emalloc(sim.nscratch);
}

static void
freealloc(void *v)
{
	SAlloc *a;

	a = v;
	shadowfree(a);
	free(a->g);
}

static void
freeproc(void *v)
{
	SProc *p;

	p = v;
	vecfree(&p->kids);
	vecfree(&p->owned);
	vecfree(&p->held);
	burn(p->res, p->capres * sizeof p->res[0]);
	free(p->res);
}

void
simfree(void)
{
	mapeach(&sim.handles, freealloc);
	mapeach(&sim.pids, freeproc);
	poolfree(&sim.sallocs);
	poolfree(&sim.sprocs);
	freechunks();
	mapfree(&sim.handles);
	mapfree(&sim.pids);
	vecfree(&sim.procs);
	vecfree(&sim.live);
	free(sim.tab);
	free(sim.slot);
	free(sim.slotlog);
	free(sim.freeslot);
	burn(sim.scratch, sim.nscratch);
	free(sim.scratch);
	zerofree();
	memset(&sim, 0, sizeof sim);
}

SProc*
findproc(ulong pid)
{
	return mapget(&sim.pids, pid);
}

SAlloc*
findalloc(uvlong h)
{
	return mapget(&sim.handles, h + 1);
}

/* the live allocation starting exactly at v */
SAlloc*
allocat(uintptr v)
{
	SAlloc *a;

	a = treefloor(v);
	return a != nil && a->ptr == v ? a : nil;
}

/* the live allocation holding byte v */
SAlloc*
allocin(uintptr v)
{
	SAlloc *a;

	a = treefloor(v);
	return a != nil && v - a->ptr < a->size ? a : nil;
}

int
hasgrant(SAlloc *a, SProc *p)
{
	int i;

	for(i = 0; i < a->ng; i++)
		if(a->g[i].holder == p)
			return a->g[i].perm;
	return 0;
}

void
addgrant(SAlloc *a, SProc *p, int perm)
{
	int i;

	for(i = 0; i < a->ng; i++)
		if(a->g[i].holder == p){
			a->g[i].perm = perm;
			return;
		}
	if(a->ng == a->gcap){
		a->gcap = a->gcap ? 2*a->gcap : 2;
		a->g = erealloc(a->g, a->gcap * sizeof a->g[0]);
	}
	a->g[a->ng].holder = p;
	a->g[a->ng].perm = perm;
	a->ng++;
	vecpush(&p->held, a);
}

void
delgrant(SAlloc *a, SProc *p)
{
	int i;

	for(i = 0; i < a->ng; i++)
		if(a->g[i].holder == p){
			a->g[i] = a->g[--a->ng];
			break;
		}
	i = vecfind(&p->held, a);
	if(i >= 0)
		vecdel(&p->held, i);
}

void
auditexp(SAlloc *a, int n)
{
	int s, i;

	if(!a->audited)
		return;
	sim.audithead += n;
	a->naudit += n;
	s = a->owner->slot;
	sim.slotlog[s] += n;
	for(i = 0; i < sim.nlogged && i < (int)nelem(sim.logged); i++)
		if(sim.logged[i] == s)
			return;
	if(sim.nlogged < (int)nelem(sim.logged))
		sim.logged[sim.nlogged] = s;
	sim.nlogged++;
}

void
chargep(SProc *p, usize n)
{
	p->used += n;
	if(p->used > p->peak)
		p->peak = p->used;
	sim.inuse += n;
	if(sim.inuse > sim.peak)
		sim.peak = sim.inuse;
}

void
unchargep(SProc *p, usize n)
{
	p->used -= n;
	sim.inuse -= n;
}

/* a new live allocation of p's: the handle names it from now on */
SAlloc*
newalloc(uvlong h, SProc *p, uintptr ptr, usize size, int prot)
{
	SAlloc *a;

	a = poolalloc(&sim.sallocs, sizeof *a);
	a->h = h;
	a->ptr = a->org = ptr;
	a->size = a->osize = size;
	a->prot = prot;
	a->live = 1;
	a->owner = p;
	a->auditbase = sim.audithead;
	mapput(&sim.handles, h + 1, a);
	treeput(a);
	chargep(p, size);
	p->nalloc++;
	a->oidx = p->owned.n;
	vecpush(&p->owned, a);
	a->lidx = sim.live.n;
	vecpush(&sim.live, a);
	return a;
}

static void
unown(SAlloc *a)
{
	SProc *o;
	SAlloc *m;

	o = a->owner;
	m = o->owned.v[o->owned.n-1];
	m->oidx = a->oidx;
	vecdel(&o->owned, a->oidx);
	unchargep(o, a->size);
	o->nalloc--;
}

/* inheritance: a passes to np, with its charge */
void
moveowner(SAlloc *a, SProc *np)
{
	unown(a);
	a->owner = np;
	chargep(np, a->size);
	np->nalloc++;
	a->oidx = np->owned.n;
	vecpush(&np->owned, a);
}

/* a's allocation is gone: off the owner, the holders, the tree */
void
killalloc(SAlloc *a)
{
	SAlloc *m;

	while(a->ng > 0)
		delgrant(a, a->g[0].holder);
	unown(a);
	m = sim.live.v[sim.live.n-1];
	m->lidx = a->lidx;
	vecdel(&sim.live, a->lidx);
	treedel(a);
	a->live = 0;
	shadowfree(a);
}
