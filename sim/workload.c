/*
 * Workloads: what the simulated procs do.  A profile (named fields)
 * gives the mix of actions, the sizes and the lifetimes; swarm.c draws
 * a profile from the seed instead.  Everything comes from streams that
 * the run's one seed makes, so a seed is a whole run.  The workload
 * reads the shadow (sim.procs, each proc's owned and held allocations)
 * to choose what to do next; it never looks at the core.
 */
#include "sim.h"
#include "wl.h"

/*                        alloc write read probe free part wipe wfree share revoke info stats audit budget conf fork exit */
Prof profs[] = {
{	.name = "keyserver",
	.mix =		{ 2, 1, 40, 8, 1, 0, 1, 1, 1, 0, 4, 2, 2, 0, 1, 3, 6 },
	.rootmix =	{ 6, 4, 4, 2, 2, 1, 1, 1, 30, 3, 2, 1, 2, 1, 1, 25, 0 },
	.szlo = 32, .szhi = 4096, .bigp = 5, .biglo = 8192, .bighi = 65536,
	.lifelo = 4, .lifehi = 40, .maxown = 64, .nowaitp = 100, .memp = 100, .userp = 300,
	.maxdepth = 3, .roots = 2, .shareup = 0, .rdonly = 1, .faultgap = 4000,
	.heaplo = 16, .heaphi = 64, .perproc = 65536, .budlo = 256, .budhi = 4096,
	.faults = Fall, .fweight = { 1, 1, 1, 1, 1, 1 }, .keyfill = 1, .boundp = 5, .badp = 10 },
{	.name = "tls",
	.mix =		{ 30, 25, 20, 2, 24, 2, 2, 4, 3, 1, 2, 1, 1, 1, 1, 2, 1 },
	.rootmix =	{ 30, 25, 20, 2, 24, 2, 2, 4, 3, 1, 2, 1, 1, 1, 1, 6, 0 },
	.szlo = 16, .szhi = 512, .bigp = 10, .biglo = 1024, .bighi = 16384,
	.lifelo = 50, .lifehi = 400, .maxown = 24, .nowaitp = 100, .memp = 50, .userp = 100,
	.maxdepth = 4, .roots = 4, .shareup = 300, .faultgap = 5000,
	.heaplo = 8, .heaphi = 64, .perproc = 65536, .budlo = 64, .budhi = 1024,
	.faults = Fall, .fweight = { 1, 1, 1, 1, 1, 1 }, .wipeoffp = 100, .boundp = 5, .badp = 10 },
{	.name = "forkstorm",
	.mix =		{ 8, 6, 6, 3, 3, 1, 1, 1, 8, 1, 1, 1, 1, 1, 1, 25, 12 },
	.rootmix =	{ 6, 4, 4, 2, 2, 1, 1, 1, 6, 1, 1, 1, 1, 1, 1, 40, 0 },
	.szlo = 16, .szhi = 8192, .bigp = 20, .biglo = 16384, .bighi = 131072,
	.lifelo = 3, .lifehi = 30, .maxown = 16, .nowaitp = 150, .memp = 150, .userp = 200,
	.maxdepth = 24, .roots = 1, .shareup = 800, .faultgap = 3000,
	.heaplo = 16, .heaphi = 64, .perproc = 65536, .budlo = 128, .budhi = 2048,
	.faults = Fall, .fweight = { 1, 1, 1, 1, 1, 1 }, .wipeoffp = 50, .boundp = 5, .badp = 10 },
{	.name = "pressure",
	.mix =		{ 30, 12, 10, 2, 10, 4, 2, 3, 3, 1, 1, 2, 1, 8, 4, 2, 1 },
	.rootmix =	{ 30, 12, 10, 2, 10, 4, 2, 3, 3, 1, 1, 2, 1, 8, 4, 6, 0 },
	.szlo = 256, .szhi = 32768, .bigp = 50, .biglo = 65536, .bighi = 524288,
	.lifelo = 100, .lifehi = 2000, .maxown = 64, .nowaitp = 100, .memp = 50, .userp = 100,
	.maxdepth = 4, .roots = 4, .shareup = 300, .faultgap = 400,
	.heaplo = 1, .heaphi = 4, .perproc = 16384, .budlo = 256, .budhi = 2048,
	.faults = Fall, .fweight = { 1, 1, 1, 1, 1, 1 }, .wipeoffp = 200, .boundp = 5, .badp = 10 },
{	.name = "mixed",
	.mix =		{ 15, 12, 14, 4, 10, 3, 3, 3, 8, 2, 2, 2, 2, 2, 2, 6, 3 },
	.rootmix =	{ 15, 12, 14, 4, 10, 3, 3, 3, 8, 2, 2, 2, 2, 2, 2, 12, 0 },
	.szlo = 16, .szhi = 16384, .bigp = 20, .biglo = 16384, .bighi = 262144,
	.lifelo = 20, .lifehi = 400, .maxown = 32, .nowaitp = 150, .memp = 100, .userp = 200,
	.maxdepth = 10, .roots = 3, .shareup = 400, .faultgap = 1500,
	.heaplo = 4, .heaphi = 32, .perproc = 65536, .budlo = 128, .budhi = 4096,
	.faults = Fall, .fweight = { 1, 1, 1, 1, 1, 1 }, .wipeoffp = 150, .boundp = 10, .badp = 10 },
{	.name = "swarm" },	/* every field drawn from the seed: swarm.c */
};
int	nprofs = nelem(profs);

Wl	w;

int
profilebyname(char *s)
{
	int i;

	for(i = 0; i < nprofs; i++)
		if(strcmp(s, profs[i].name) == 0)
			return i;
	return -1;
}

/* an event at the front of the pending queue */
Ev*
pend(void)
{
	Ev *e;

	e = &w.pend[(w.pendhead + w.npend++) % nelem(w.pend)];
	memset(e, 0, sizeof *e);
	e->time = w.now;
	e->result = Rnone;
	return e;
}

ulong
forkev(Ev *e, SProc *par, char *user)
{
	e->op = Ofork;
	e->pid = w.nextpid++;
	e->peer = par != nil ? par->pid : 0;
	strcpy(e->user, user);
	if(par != nil){
		if(rchance(&w.rw, w.p.nowaitp))
			e->flags |= Fnowait;
		if(rchance(&w.rw, w.p.memp))
			e->flags |= Fmem;
	}
	return e->pid;
}

static void
header(FILE *out, uvlong seed, long events, Conf *c)
{
	fprintf(out, "seed %llu\n", seed);
	fprintf(out, "workload %s procs %d events %ld heap %lu nproc %d audit %d budget %lu faults ",
		c->wname, w.procs, events, (ulong)c->heap, c->nproc, c->audit, (ulong)c->budget);
	printfaults(out, w.faults);
	fprintf(out, "\n");
	if(strcmp(c->wname, "swarm") == 0)
		swarmprint(out, &w.p);
}

static void
start(void)
{
	int i;
	Ev *e;

	/* the roots: eve first, then other users' */
	for(i = 0; i < w.p.roots; i++)
		forkev(pend(), nil, i == 0 ? "eve" : i % 2 ? "glenda" : "bootes");
	if(w.faults & Fpager){
		e = pend();
		e->op = Oencryption;
		e->n[0] = 1;
	}
	qpush(w.now + 1000, 0);
}

/*
 * Draw every setting from the seed, then apply what the command line
 * fixed; the draws happen either way, so fixing one setting does not
 * change the others.
 */
void
wlsetup(Runopt *o, Conf *c, FILE *out)
{
	Rng m;
	int prof, procs, audit, faults, i;
	usize heap, budget;

	memset(&w, 0, sizeof w);
	rngseed(&m, o->seed);
	prof = rbelow(&m, nprofs - 1);	/* a named profile; swarm only when asked */
	if(o->workload != nil && (prof = profilebyname(o->workload)) < 0){
		fprintf(stderr, "pebblesim: unknown workload \"%s\" (", o->workload);
		for(i = 0; i < nprofs; i++)
			fprintf(stderr, "%s%s", i ? " " : "", profs[i].name);
		fprintf(stderr, ")\n");
		exit(Xusage);
	}
	w.p = profs[prof];
	procs = rlog(&m, 8, 512);
	if(strcmp(w.p.name, "swarm") == 0)
		swarmdraw(&m, &w.p);
	heap = rlog(&m, w.p.heaplo, w.p.heaphi) << 20;
	budget = rlog(&m, w.p.budlo, w.p.budhi) << 10;
	audit = rlog(&m, 1024, 65536);
	faults = 0;
	for(i = 0; i < Nfault; i++)
		if(rchance(&m, 700))
			faults |= 1 << i;
	faults &= w.p.faults;
	rngseed(&w.rw, rnext(&m));
	rngseed(&w.rf, rnext(&m));

	if(o->procs > 0)
		procs = o->procs;
	/* each area owns whole runs of pages, so the heap a population needs grows with it */
	heap += (usize)procs * w.p.perproc;
	if(heap > PEBBLE_MAXHEAP)
		heap = PEBBLE_MAXHEAP;
	if(o->heap > 0)
		heap = o->heap;
	if(o->events <= 0)
		o->events = 100000;
	if(o->audit > 0)
		audit = o->audit;
	if(o->faults != nil)
		faults = parsefaults(o->faults);
	o->procs = procs;
	heap = (heap + 4095) & ~(usize)4095;

	memset(c, 0, sizeof *c);
	c->seed = o->seed;
	c->heap = heap;
	c->nproc = procs + procs/4 + 8;
	if(c->nproc > PEBBLE_MAXNPROC)
		c->nproc = PEBBLE_MAXNPROC;
	c->audit = audit;
	c->budget = budget;
	c->maxbudget = heap;
	strcpy(c->wname, w.p.name);
	w.faults = faults;
	w.procs = w.p.overfill ? c->nproc + 8 : procs;
	w.nextpid = 1;
	w.nexth = 1;
	if(out != nil)
		header(out, o->seed, o->events, c);
	start();
}

void
wlfree(void)
{
	qfree();
	memset(&w, 0, sizeof w);
}

int
wlfaults(void)
{
	return w.faults;
}

/* the next event to run; 0 when there is none */
int
wlnext(Ev *e)
{
	SProc *p;
	ulong pid;
	uvlong gap;

	for(;;){
		if(w.npend > 0){
			*e = w.pend[w.pendhead];
			w.pendhead = (w.pendhead + 1) % nelem(w.pend);
			w.npend--;
			e->time = w.now;
			if(e->op >= Owrite && e->op <= Oaudit && e->op != Ostats && findalloc(e->h) == nil)
				continue;	/* its alloc failed */
			return 1;
		}
		if(!qpop(&w.now, &pid))
			return 0;
		memset(e, 0, sizeof *e);
		e->time = w.now;
		e->result = Rnone;
		if(pid == 0){
			gap = (uvlong)w.p.faultgap * 5000 / (sim.procs.n + 1);
			qpush(w.now + 1 + rrange(&w.rf, gap/2, gap + gap/2), 0);
			hostturn(e);
			return 1;
		}
		p = findproc(pid);
		if(p == nil || !p->alive)
			continue;	/* it was killed */
		act(p, e);
		if(e->op != Oexit)
			qpush(w.now + rrange(&w.rw, 200, 9800), p->pid);
		return 1;
	}
}

/* after an event ran: new procs get their first turn */
void
wlafter(Ev *e, vlong r)
{
	SProc *p;
	Ev *f;

	(void)r;
	if(e->op != Ofork || (p = findproc(e->pid)) == nil || !p->alive)
		return;
	if(p->parent == nil)
		p->depth = 0;
	p->left = p->depth == 0 ? (uvlong)w.p.lifehi * 50 : rrange(&w.rw, w.p.lifelo, w.p.lifehi);
	if(p->depth == 0 && p->attached && rchance(&w.rw, w.p.wipeoffp)){
		f = pend();
		f->pid = p->pid;
		f->op = Osetconf;
		strcpy(f->key, PEBBLE_CONF_AUTOWIPE);
		strcpy(f->val, "0");
	}
	qpush(w.now + rrange(&w.rw, 100, 5000), p->pid);
}
