/*
 * The Plan 9 proc table, as the host keeps it: a fixed table of
 * conf.nproc slots, a free-slot stack, pids that count up and are
 * never reused.  rfork(RFPROC) takes a free slot; exit gives it back
 * and makes the proc's children orphans.  As in Plan 9, an orphan's
 * Proc.parent still points at the slot its parent had, whoever holds
 * it now: the core must tell its parent from the slot's next tenant
 * by pid (the parentpid it records at attach), and the workload
 * shares with that tenant to see that it does.  This
 * is the host's side only; what the secure storage core does at
 * attach and detach is the rulebook's.
 */
#include "sim.h"

static Proc	ghost[2];

Proc*
procof(SProc *p)
{
	return &sim.tab[p->slot];
}

/* the host's Proc for pid: its slot's, or a ghost the core does not know */
Proc*
hostproc(SProc *p, ulong pid, int which)
{
	Proc *g;

	if(p != nil && p->alive)
		return &sim.tab[p->slot];
	g = &ghost[which];
	memset(g, 0, sizeof *g);
	g->slot = 0;
	g->pid = pid;
	strcpy(g->user, p != nil ? p->user : "none");
	return g;
}

int
attached(SProc *p)
{
	return p != nil && p->alive && p->attached;
}

int
iseve(SProc *p)
{
	return strcmp(p->user, hosteve) == 0;
}

/*
 * rfork(RFPROC) for e: 0 and the new proc in *np, -1 if e cannot run
 * (a pid used before: a malformed trace), -2 if the table is full.
 */
int
procfork(Ev *e, SProc **np)
{
	SProc *p, *par;
	Proc *hp;

	*np = nil;
	if(e->pid == 0 || findproc(e->pid) != nil){
		if(!sim.lenient)
			tracebad(e, "fork names a pid already used in this trace");
		return -1;
	}
	if(sim.nfree == 0)
		return -2;
	par = e->peer != 0 ? findproc(e->peer) : nil;
	p = poolalloc(&sim.sprocs, sizeof *p);
	p->pid = e->pid;
	p->slot = sim.freeslot[--sim.nfree];
	p->alive = 1;
	p->nowait = (e->flags & Fnowait) != 0;
	p->mem = (e->flags & Fmem) != 0;
	strcpy(p->user, e->user);
	p->parent = par != nil && par->alive ? par : nil;
	p->depth = p->parent != nil ? p->parent->depth + 1 : 0;
	p->pslot = p->parent != nil ? p->parent->slot : -1;
	if(p->parent != nil){
		p->kidx = p->parent->kids.n;
		vecpush(&p->parent->kids, p);
	}
	mapput(&sim.pids, p->pid, p);
	p->pidx = sim.procs.n;
	vecpush(&sim.procs, p);
	sim.slot[p->slot] = p;
	hp = &sim.tab[p->slot];
	memset(hp, 0, sizeof *hp);
	hp->slot = p->slot;
	hp->pid = p->pid;
	strcpy(hp->user, p->user);
	hp->parent = p->parent != nil ? &sim.tab[p->parent->slot] : nil;
	hp->nowait = p->nowait;
	hp->aux = p;
	*np = p;
	return 0;
}

/* the proc is gone: its children are orphans, its slot is free */
void
procexit(SProc *p)
{
	SProc *c, *par;
	int i;

	for(i = 0; i < p->kids.n; i++){
		c = p->kids.v[i];
		c->parent = nil;
	}
	vecfree(&p->kids);
	if((par = p->parent) != nil){
		c = par->kids.v[par->kids.n-1];
		c->kidx = p->kidx;
		vecdel(&par->kids, p->kidx);
	}
	p->alive = 0;
	p->attached = 0;
	memset(&sim.tab[p->slot], 0, sizeof(Proc));
	sim.tab[p->slot].slot = p->slot;
	sim.slot[p->slot] = nil;
	sim.freeslot[sim.nfree++] = p->slot;
	c = sim.procs.v[sim.procs.n-1];
	c->pidx = p->pidx;
	vecdel(&sim.procs, p->pidx);
}
