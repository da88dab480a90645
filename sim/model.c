/*
 * The shadow: the simulator's own record of what it did, kept
 * independently of the core.  Procs with their budgets and settings,
 * allocations with their owner, grants and every byte written.  The
 * checker predicts each call's result from it and compares.
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
	/* a stack, lowest slot on top: the order is part of the determinism */
	for(i = 0; i < c->nproc; i++)
		sim.freeslot[i] = c->nproc - 1 - i;
	sim.nfree = c->nproc;
	for(i = 0; i < c->nproc; i++)
		sim.tab[i].slot = i;
	sim.idnext = 1;
	sim.enabled = 1;
	sim.maxbudget = c->maxbudget;
	sim.encryption = 0;
	sim.auditing = 1;
	sim.scanevery = 1<<16;
	sim.nscratch = 1<<16;
	sim.scratch = emalloc(sim.nscratch);
}

/*
 * Shadow bytes are copies of secrets: wiped before the memory goes back
 * to malloc, or a later core metadata block could carry them into the
 * crash dump scan and be blamed for it.
 */
void
shadowfree(SAlloc *a)
{
	if(a->shbase != nil){
		memset(a->shbase, 0, a->shsize);
		__asm__ __volatile__("" : : "r"(a->shbase) : "memory");
		free(a->shbase);
	}
	a->sh = a->shbase = nil;
}

static void
freealloc(SAlloc *a)
{
	shadowfree(a);
	free(a->g);
	free(a);
}

void
simfree(void)
{
	usize i;
	SProc *p;

	for(i = 0; i < sim.handles.cap; i++)
		if(sim.handles.k[i] != 0)
			freealloc(sim.handles.v[i]);
	for(i = 0; i < sim.pids.cap; i++)
		if(sim.pids.k[i] != 0){
			p = sim.pids.v[i];
			vecfree(&p->owned);
			vecfree(&p->held);
			free(p);
		}
	mapfree(&sim.handles);
	mapfree(&sim.pids);
	vecfree(&sim.procs);
	vecfree(&sim.live);
	free(sim.tab);
	free(sim.slot);
	free(sim.freeslot);
	memset(sim.scratch, 0, sim.nscratch);
	free(sim.scratch);
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
	if(a->audited){
		sim.audithead += n;
		a->naudit += n;
	}
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

/* the core takes ids in blocks of 2^16 per area; the shadow does the same */
uvlong
modelid(SProc *p)
{
	if(p->idnext == p->idlim){
		p->idnext = sim.idnext;
		sim.idnext += 1<<16;
		p->idlim = p->idnext + (1<<16);
	}
	return p->idnext++;
}

static void
shadowneed(SAlloc *a)
{
	if(a->sh == nil){
		a->shbase = a->sh = emalloc(a->size);
		a->shsize = a->size;
	}
}

void
shadowwrite(SAlloc *a, usize off, uchar *src, usize n)
{
	shadowneed(a);
	memmove(a->sh + off, src, n);
}

void
shadowzero(SAlloc *a, usize off, usize n)
{
	if(a->sh != nil)
		memset(a->sh + off, 0, n);
}

/* a's allocation is gone: off the owner, the holders, the tree */
void
killalloc(SAlloc *a)
{
	SProc *o;
	SAlloc *m;

	while(a->ng > 0)
		delgrant(a, a->g[0].holder);
	o = a->owner;
	m = o->owned.v[o->owned.n-1];
	m->oidx = a->oidx;
	vecdel(&o->owned, a->oidx);
	m = sim.live.v[sim.live.n-1];
	m->lidx = a->lidx;
	vecdel(&sim.live, a->lidx);
	treedel(a);
	a->live = 0;
	shadowfree(a);
}
