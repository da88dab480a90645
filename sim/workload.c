/*
 * Workloads: what the simulated procs do.  A profile gives the mix
 * of operations, the sizes and the lifetimes; the event queue, ordered
 * by (virtual time, sequence number), says whose turn it is; the host
 * driver (pid 0) injects the faults.  Everything is drawn from streams
 * that the run's one seed makes, so a seed is a whole run.
 *
 * The workload reads the shadow (sim.procs, each proc's owned and held
 * allocations) to choose what to do next; it never looks at the core.
 */
#include "sim.h"

enum {
	Aalloc, Awrite, Aread, Aprobe, Afree, Apartial, Awipe, Awipefree, Ashare,
	Arevoke, Ainfo, Astats, Aaudit, Abudget, Aconf, Afork, Aexit, Nact,
};

enum {
	Fkill = 1, Fmalloc = 2, Fbudget = 4, Fheap = 8, Foff = 16, Fpager = 32, Fall = 63,
};

static char *faultnames[] = { "kill", "malloc", "budget", "heap", "off", "pager" };

typedef struct Prof Prof;
struct Prof {
	char	*name;
	int	w[Nact];	/* children's mix */
	int	wroot[Nact];	/* the roots' mix */
	usize	szlo, szhi;	/* log-uniform sizes */
	int	bigp;		/* permille of allocations that are large */
	usize	biglo, bighi;
	long	lifelo, lifehi;	/* operations a child lives */
	int	maxown;		/* live allocations a proc keeps */
	int	nowaitp, memp, userp;	/* permille of forks */
	int	maxdepth;
	int	roots;
	int	shareup;	/* permille of shares that go to the parent */
	int	rdonly;		/* shares are READ */
	int	faultgap;	/* events between faults, on average */
	usize	heaplo, heaphi;	/* MiB */
	usize	budlo, budhi;	/* default budget, KiB */
	int	faults;		/* the faults it may draw */
	int	wipeoffp;	/* permille of procs with auto_wipe off */
};

/*                        alloc write read probe free part wipe wfree share revoke info stats audit budget conf fork exit */
static Prof profs[] = {
	{ "keyserver",
		{ 2, 1, 40, 8, 1, 0, 1, 1, 1, 0, 4, 2, 2, 0, 1, 3, 6 },
		{ 6, 4, 4, 2, 2, 1, 1, 1, 30, 3, 2, 1, 2, 1, 1, 25, 0 },
		32, 4096, 5, 8192, 65536, 4, 40, 64, 100, 100, 300, 3, 2, 0, 1, 4000, 16, 64, 256, 4096, Fall, 0 },
	{ "tls",
		{ 30, 25, 20, 2, 24, 2, 2, 4, 3, 1, 2, 1, 1, 1, 1, 2, 1 },
		{ 30, 25, 20, 2, 24, 2, 2, 4, 3, 1, 2, 1, 1, 1, 1, 6, 0 },
		16, 512, 10, 1024, 16384, 50, 400, 24, 100, 50, 100, 4, 4, 300, 0, 5000, 8, 64, 64, 1024, Fall, 100 },
	{ "forkstorm",
		{ 8, 6, 6, 3, 3, 1, 1, 1, 8, 1, 1, 1, 1, 1, 1, 25, 12 },
		{ 6, 4, 4, 2, 2, 1, 1, 1, 6, 1, 1, 1, 1, 1, 1, 40, 0 },
		16, 8192, 20, 16384, 131072, 3, 30, 16, 150, 150, 200, 24, 1, 800, 0, 3000, 16, 64, 128, 2048, Fall, 50 },
	{ "pressure",
		{ 30, 12, 10, 2, 10, 4, 2, 3, 3, 1, 1, 2, 1, 8, 4, 2, 1 },
		{ 30, 12, 10, 2, 10, 4, 2, 3, 3, 1, 1, 2, 1, 8, 4, 6, 0 },
		256, 32768, 50, 65536, 524288, 100, 2000, 64, 100, 50, 100, 4, 4, 300, 0, 400, 1, 4, 256, 2048, Fall, 200 },
	{ "mixed",
		{ 15, 12, 14, 4, 10, 3, 3, 3, 8, 2, 2, 2, 2, 2, 2, 6, 3 },
		{ 15, 12, 14, 4, 10, 3, 3, 3, 8, 2, 2, 2, 2, 2, 2, 12, 0 },
		16, 16384, 20, 16384, 262144, 20, 400, 32, 150, 100, 200, 10, 3, 400, 0, 1500, 4, 32, 128, 4096, Fall, 150 },
};
enum { Nprof = nelem(profs) };

typedef struct Qe Qe;
struct Qe {
	uvlong	time;
	uvlong	seq;
	ulong	pid;	/* 0: the host driver */
};

static struct {
	Prof	*p;
	Rng	rw;		/* the procs' choices */
	Rng	rf;		/* the host driver's faults */
	Qe	*q;
	int	nq, capq;
	uvlong	seq;
	Ev	pend[64];	/* events to run before the next turn */
	int	npend, pendhead;
	ulong	nextpid;
	uvlong	nexth;
	uvlong	now;
	int	faults;
	int	procs;
	uvlong	offuntil;	/* the subsystem is off until this time */
	uvlong	dead[64];	/* handles recently freed, for double frees */
	int	ndead;
} w;

int
profilebyname(char *s)
{
	int i;

	for(i = 0; i < Nprof; i++)
		if(strcmp(s, profs[i].name) == 0)
			return i;
	return -1;
}

char*
profilename(int i)
{
	return i >= 0 && i < Nprof ? profs[i].name : "none";
}

int
nprofiles(void)
{
	return Nprof;
}

static int
qless(Qe *a, Qe *b)
{
	return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static void
qpush(uvlong t, ulong pid)
{
	int i;
	Qe e, tmp;

	if(w.nq == w.capq){
		w.capq = w.capq ? 2*w.capq : 1024;
		w.q = erealloc(w.q, w.capq * sizeof w.q[0]);
	}
	e.time = t;
	e.seq = w.seq++;
	e.pid = pid;
	i = w.nq++;
	w.q[i] = e;
	while(i > 0 && qless(&w.q[i], &w.q[(i-1)/2])){
		tmp = w.q[i];
		w.q[i] = w.q[(i-1)/2];
		w.q[(i-1)/2] = tmp;
		i = (i-1)/2;
	}
}

static Qe
qpop(void)
{
	Qe top, tmp;
	int i, c;

	top = w.q[0];
	w.q[0] = w.q[--w.nq];
	for(i = 0; ; i = c){
		c = 2*i + 1;
		if(c >= w.nq)
			break;
		if(c+1 < w.nq && qless(&w.q[c+1], &w.q[c]))
			c++;
		if(!qless(&w.q[c], &w.q[i]))
			break;
		tmp = w.q[i];
		w.q[i] = w.q[c];
		w.q[c] = tmp;
	}
	return top;
}

static int
parsefaults(char *s)
{
	int f, i, n;
	char *p;

	if(strcmp(s, "all") == 0)
		return Fall;
	if(strcmp(s, "none") == 0)
		return 0;
	f = 0;
	for(p = s; *p; ){
		n = strcspn(p, ",");
		for(i = 0; i < (int)nelem(faultnames); i++)
			if((int)strlen(faultnames[i]) == n && strncmp(p, faultnames[i], n) == 0)
				break;
		if(i == (int)nelem(faultnames)){
			fprintf(stderr, "pebblesim: unknown fault \"%.*s\" (kill malloc budget heap off pager, all, none)\n", n, p);
			exit(Xusage);
		}
		f |= 1 << i;
		p += n;
		if(*p == ',')
			p++;
	}
	return f;
}

static void
printfaults(FILE *out, int f)
{
	int i, first;

	first = 1;
	for(i = 0; i < (int)nelem(faultnames); i++)
		if(f & (1 << i)){
			fprintf(out, "%s%s", first ? "" : ",", faultnames[i]);
			first = 0;
		}
	if(first)
		fprintf(out, "none");
}

/* ev at the front of the pending queue */
static Ev*
pend(void)
{
	Ev *e;

	e = &w.pend[(w.pendhead + w.npend++) % nelem(w.pend)];
	memset(e, 0, sizeof *e);
	e->time = w.now;
	e->result = Rnone;
	return e;
}

static ulong
forkev(Ev *e, SProc *par, char *user)
{
	e->op = Ofork;
	e->pid = w.nextpid++;
	e->peer = par != nil ? par->pid : 0;
	strcpy(e->user, user);
	if(par != nil){
		if(rchance(&w.rw, w.p->nowaitp))
			e->flags |= Fnowait;
		if(rchance(&w.rw, w.p->memp))
			e->flags |= Fmem;
	}
	return e->pid;
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
	long events;
	usize heap, budget;
	Prof *p;

	memset(&w, 0, sizeof w);
	rngseed(&m, o->seed);
	prof = rbelow(&m, Nprof);
	if(o->workload != nil && (prof = profilebyname(o->workload)) < 0){
		fprintf(stderr, "pebblesim: unknown workload \"%s\" (", o->workload);
		for(i = 0; i < Nprof; i++)
			fprintf(stderr, "%s%s", i ? " " : "", profs[i].name);
		fprintf(stderr, ")\n");
		exit(Xusage);
	}
	p = &profs[prof];
	procs = rlog(&m, 8, 512);
	heap = rlog(&m, p->heaplo, p->heaphi) << 20;
	budget = rlog(&m, p->budlo, p->budhi) << 10;
	audit = rlog(&m, 1024, 65536);
	faults = 0;
	for(i = 0; i < (int)nelem(faultnames); i++)
		if(rchance(&m, 700))
			faults |= 1 << i;
	faults &= p->faults;
	rngseed(&w.rw, rnext(&m));
	rngseed(&w.rf, rnext(&m));
	events = 100000;

	if(o->procs > 0)
		procs = o->procs;
	/*
	 * Each area owns whole runs of pages, so the heap a population
	 * needs grows with it; pressure gets a little, the others plenty.
	 */
	heap += (usize)procs * (p == &profs[3] ? 16384 : 65536);
	if(heap > PEBBLE_MAXHEAP)
		heap = PEBBLE_MAXHEAP;
	if(o->heap > 0)
		heap = o->heap;
	if(o->events > 0)
		events = o->events;
	if(o->audit > 0)
		audit = o->audit;
	if(o->faults != nil)
		faults = parsefaults(o->faults);
	o->events = events;
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
	c->workload = prof;
	strcpy(c->wname, p->name);

	w.p = p;
	w.faults = faults;
	w.procs = procs;
	w.nextpid = 1;
	w.nexth = 1;
	if(out != nil){
		fprintf(out, "seed %llu\n", o->seed);
		fprintf(out, "workload %s procs %d events %ld heap %lu nproc %d audit %d budget %lu faults ",
			p->name, procs, events, (ulong)heap, c->nproc, audit, (ulong)budget);
		printfaults(out, faults);
		fprintf(out, "\n");
	}
	/* the roots: eve first, then other users' */
	for(i = 0; i < p->roots; i++)
		forkev(pend(), nil, i == 0 ? "eve" : i % 2 ? "glenda" : "bootes");
	if(faults & Fpager){
		Ev *e = pend();
		e->op = Oencryption;
		e->n[0] = 1;
	}
	qpush(w.now + 1000, 0);
}

void
wlfree(void)
{
	free(w.q);
	memset(&w, 0, sizeof w);
}

static SAlloc*
pick(Vec *v)
{
	return v->n > 0 ? v->v[rbelow(&w.rw, v->n)] : nil;
}

/* an allocation p may write: its own, or one it holds WRITE on */
static SAlloc*
pickwritable(SProc *p)
{
	SAlloc *a;

	if(p->held.n > 0 && rchance(&w.rw, 300)){
		a = pick(&p->held);
		if(hasgrant(a, p) & PEBBLE_WRITE)
			return a;
	}
	return pick(&p->owned);
}

static SAlloc*
pickreadable(SProc *p)
{
	if(p->held.n > 0 && (p->owned.n == 0 || rchance(&w.rw, 500)))
		return pick(&p->held);
	return pick(&p->owned);
}

static usize
drawsize(void)
{
	Prof *p;

	p = w.p;
	if(rchance(&w.rw, p->bigp))
		return rlog(&w.rw, p->biglo, p->bighi);
	return rlog(&w.rw, p->szlo, p->szhi);
}

static int
drawperm(void)
{
	static int perms[] = { 6, 6, 6, 6, 6, 4, 7, 2, 5 };

	return perms[rbelow(&w.rw, nelem(perms))];
}

/* offset and length of a touch: inside, now and then running past the end */
static void
span(Ev *e, SAlloc *a, int full)
{
	usize off, len;

	off = full ? 0 : rbelow(&w.rw, a->size);
	len = full ? a->size : 1 + rbelow(&w.rw, a->size - off < 256 ? a->size - off : 256);
	if(rchance(&w.rw, 15))
		len = a->size - off + 1 + rbelow(&w.rw, 16);
	if(len > 65536)
		len = 65536;
	e->n[0] = off;
	e->n[1] = len;
}

static SProc*
randproc(void)
{
	return sim.procs.n > 0 ? sim.procs.v[rbelow(&w.rw, sim.procs.n)] : nil;
}

static void
deadpush(uvlong h)
{
	w.dead[w.ndead++ % nelem(w.dead)] = h;
}

static int
choose(SProc *p)
{
	int *wt, tot, i, r;

	wt = p->depth == 0 ? w.p->wroot : w.p->w;
	tot = 0;
	for(i = 0; i < Nact; i++)
		tot += wt[i];
	r = rbelow(&w.rw, tot);
	for(i = 0; r >= wt[i]; i++)
		r -= wt[i];
	return i;
}

static char*
childuser(SProc *p)
{
	if(strcmp(p->user, "eve") == 0 && rchance(&w.rw, w.p->userp))
		return rchance(&w.rw, 500) ? "glenda" : "bootes";
	return p->user;
}

/* one turn of proc p: fills e */
static void
act(SProc *p, Ev *e)
{
	SAlloc *a;
	SProc *q;
	int k, n;
	static char *keys[] = { "pebble.secure.budget", "pebble.secure.encryption", "pebble.secure.audit", "pebble.secure.auto_wipe" };

	e->pid = p->pid;
	if(!p->attached && p->left > 2)
		p->left = 2;	/* forked while the subsystem was off: it has nothing to do */
	if(p->left-- <= 0){
		e->op = Oexit;
		return;
	}
	k = choose(p);
	if(k == Afork && (sim.procs.n >= w.procs || p->depth >= w.p->maxdepth || sim.nfree == 0))
		k = Aalloc;
	if(k == Aexit && p->depth == 0)
		k = Astats;
	if(k == Aalloc && p->owned.n >= w.p->maxown)
		k = Afree;
	if(k != Aalloc && k != Afork && k != Aexit && k != Abudget && k != Aconf && k != Astats && k != Aprobe && p->owned.n == 0 && p->held.n == 0)
		k = Aalloc;
	switch(k){
	case Aalloc:
		e->op = Oalloc;
		e->n[0] = drawsize();
		e->n[1] = drawperm();
		if(rchance(&w.rw, 10))
			e->n[0] = rchance(&w.rw, 500) ? 0 : p->limit + 1;
		if(rchance(&w.rw, 5))
			e->n[1] = rchance(&w.rw, 500) ? 0 : 8 + rbelow(&w.rw, 8);
		e->h = w.nexth++;
		/* a key server fills a new key at once */
		if(w.p == &profs[0] && p->depth == 0){
			Ev *f = pend();
			f->pid = p->pid;
			f->op = Owrite;
			f->h = e->h;
			f->n[0] = 0;
			f->n[1] = e->n[0] > 0 && e->n[0] <= 65536 ? e->n[0] : 1;
		}
		return;
	case Awrite:
	case Aread:
		a = k == Awrite ? pickwritable(p) : pickreadable(p);
		if(a == nil)
			break;
		e->op = k == Awrite ? Owrite : Oread;
		e->h = a->h;
		span(e, a, 0);
		return;
	case Aprobe:
		/* someone else's memory: mostly refused, and the refusal is checked */
		if(sim.live.n == 0)
			break;
		a = sim.live.v[rbelow(&w.rw, sim.live.n)];
		e->h = a->h;
		k = rbelow(&w.rw, 4);
		e->op = k == 0 ? Owrite : k == 1 ? Oread : k == 2 ? Ocheck : Oinfo;
		if(e->op != Oinfo)
			span(e, a, 0);
		e->n[2] = 1 << rbelow(&w.rw, 3);
		return;
	case Afree:
	case Awipefree:
		if(w.ndead > 0 && rchance(&w.rw, 20)){
			e->op = Ofree;
			e->h = w.dead[rbelow(&w.rw, w.ndead < 64 ? w.ndead : 64)];
			return;
		}
		if((a = pick(&p->owned)) == nil)
			break;
		e->op = k == Afree ? Ofree : Owipefree;
		e->h = a->h;
		if(k == Awipefree)
			e->n[0] = rchance(&w.rw, 500) ? 0 : rchance(&w.rw, 950) ? a->size : a->size + 1;
		deadpush(a->h);
		return;
	case Apartial:
		if((a = pick(&p->owned)) == nil)
			break;
		e->op = Ofreesize;
		e->h = a->h;
		e->n[0] = rchance(&w.rw, 30) ? a->size + 1 : 1 + rbelow(&w.rw, a->size);
		return;
	case Awipe:
		if((a = pickwritable(p)) == nil)
			break;
		e->op = Owipe;
		e->h = a->h;
		e->n[0] = rchance(&w.rw, 400) ? 0 : 1 + rbelow(&w.rw, a->size + (rchance(&w.rw, 30) ? 8 : 0));
		return;
	case Ashare:
		if((a = pick(&p->owned)) == nil)
			break;
		q = nil;
		if(p->parent != nil && rchance(&w.rw, w.p->shareup))
			q = p->parent;
		else if(p->lastchild != 0 && rchance(&w.rw, 700))
			q = findproc(p->lastchild);
		if(q == nil || !q->alive)
			q = randproc();
		if(q == nil)
			break;
		e->op = Oshare;
		e->h = a->h;
		e->peer = q->pid;
		e->n[0] = w.p->rdonly ? PEBBLE_READ : a->prot & (rchance(&w.rw, 500) ? PEBBLE_READ|PEBBLE_WRITE : PEBBLE_READ);
		if(e->n[0] == 0 || rchance(&w.rw, 20))
			e->n[0] = drawperm();
		return;
	case Arevoke:
		if((a = pick(&p->owned)) == nil)
			break;
		e->op = Orevoke;
		e->h = a->h;
		q = a->ng > 0 && rchance(&w.rw, 900) ? a->g[rbelow(&w.rw, a->ng)].holder : randproc();
		if(q == nil)
			break;
		e->peer = q->pid;
		return;
	case Ainfo:
	case Aaudit:
		if((a = pickreadable(p)) == nil)
			break;
		e->h = a->h;
		e->op = k == Ainfo ? Oinfo : Oaudit;
		if(k == Aaudit)
			e->n[0] = rchance(&w.rw, 20) ? 0 : 1 + rbelow(&w.rw, 64);
		return;
	case Abudget:
		k = rbelow(&w.rw, 3);
		e->op = k == 0 ? Obudgetset : k == 1 ? Obudgetinc : Obudgetdec;
		e->n[0] = k == 0 ? p->used + rbelow(&w.rw, p->limit + 1) : rbelow(&w.rw, p->limit/4 + 1);
		return;
	case Aconf:
		if(rchance(&w.rw, 300)){
			e->op = Ogetconf;
			strcpy(e->key, keys[rbelow(&w.rw, 4)]);
			return;
		}
		e->op = Osetconf;
		n = rbelow(&w.rw, 4);
		strcpy(e->key, keys[n]);
		if(n == 0)
			snprintf(e->val, sizeof e->val, "%luk", (ulong)((p->used >> 10) + rbelow(&w.rw, 2048)));
		else if(n == 3)
			strcpy(e->val, rchance(&w.rw, w.p->wipeoffp) ? "0" : "1");
		else if(n == 1)
			strcpy(e->val, (w.faults & Fpager) && rchance(&w.rw, 800) ? "1" : "0");
		else
			strcpy(e->val, rchance(&w.rw, 800) ? "1" : "0");
		if(rchance(&w.rw, 20))
			strcpy(e->val, "yes");
		return;
	case Afork:
		p->lastchild = forkev(e, p, childuser(p));
		return;
	case Aexit:
		e->op = Oexit;
		return;
	}
	e->op = Ostats;
}

/* the host driver's turn: the population and the faults */
static void
host(Ev *e)
{
	SProc *p;
	SAlloc *a;
	int k, i;
	Ev *f;

	e->pid = 0;
	if(sim.procs.n == 0 || (sim.procs.n < w.procs / 4 && rchance(&w.rf, 300))){
		forkev(e, nil, rchance(&w.rf, 500) ? "eve" : "glenda");
		e->pid = w.nextpid - 1;
		return;
	}
	if(w.offuntil != 0 && w.now >= w.offuntil){
		w.offuntil = 0;
		e->op = Oenable;
		e->n[0] = 1;
		return;
	}
	e->op = Ostats;
	p = sim.procs.v[rbelow(&w.rf, sim.procs.n)];
	e->pid = p->pid;
	if(w.faults == 0)
		return;
	do
		k = rbelow(&w.rf, 6);
	while(!(w.faults & (1 << k)));
	switch(1 << k){
	case Fkill:
		e->op = Okill;
		return;
	case Fmalloc:
		/* the next call that takes host memory fails: it must return NOMEM and change nothing */
		e->pid = 0;
		e->op = Ofailmalloc;
		e->n[0] = 1;
		f = pend();
		f->pid = p->pid;
		if(p->owned.n > 0 && rchance(&w.rf, 500) && (a = p->owned.v[rbelow(&w.rf, p->owned.n)]) != nil){
			f->op = Oshare;
			f->h = a->h;
			f->peer = sim.procs.n > 1 ? ((SProc*)sim.procs.v[rbelow(&w.rf, sim.procs.n)])->pid : p->pid;
			f->n[0] = PEBBLE_READ;
		}else{
			f->op = Oalloc;
			f->n[0] = rlog(&w.rf, 16, 65536);
			f->n[1] = 6;
			f->h = w.nexth++;
		}
		return;
	case Fbudget:
		/* cuts under load: to just above usage, below it (BUSY), or the system maximum */
		k = rbelow(&w.rf, 4);
		if(k == 3){
			e->pid = 0;
			e->op = Omaxbudget;
			e->n[0] = rchance(&w.rf, 500) ? sim.conf.heap : rlog(&w.rf, 4096, sim.conf.heap);
			return;
		}
		e->op = k == 2 ? Obudgetdec : Obudgetset;
		e->n[0] = k == 0 ? p->used + rbelow(&w.rf, 4096) : k == 1 && p->used > 0 ? p->used - 1 : p->limit / 2;
		return;
	case Fheap:
		/* a burst of large allocations, to run the heap dry */
		e->op = Obudgetset;
		e->n[0] = sim.maxbudget;
		for(i = 0; i < 8 && w.npend < (int)nelem(w.pend); i++){
			f = pend();
			f->pid = p->pid;
			f->op = Oalloc;
			f->n[0] = rlog(&w.rf, 4096, sim.conf.heap / 8 + 4096);
			f->n[1] = 6;
			f->h = w.nexth++;
		}
		return;
	case Foff:
		e->pid = 0;
		if(w.offuntil != 0 || !sim.enabled){
			e->op = Oauditing;
			e->n[0] = rchance(&w.rf, 700);
			return;
		}
		e->op = Oenable;
		e->n[0] = 0;
		w.offuntil = w.now + rrange(&w.rf, 100, 20000);
		return;
	case Fpager:
		e->pid = 0;
		e->op = Opageout;
		e->n[0] = rlog(&w.rf, 1, 256);
		return;
	}
}

/* the next event to run; 0 when there is none */
int
wlnext(Ev *e)
{
	Qe q;
	SProc *p;
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
		if(w.nq == 0)
			return 0;
		q = qpop();
		w.now = q.time;
		memset(e, 0, sizeof *e);
		e->time = w.now;
		e->result = Rnone;
		if(q.pid == 0){
			gap = (uvlong)w.p->faultgap * 5000 / (sim.procs.n + 1);
			qpush(w.now + 1 + rrange(&w.rf, gap/2, gap + gap/2), 0);
			host(e);
			return 1;
		}
		p = findproc(q.pid);
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

	if(e->op != Ofork || (p = findproc(e->pid)) == nil || !p->alive)
		return;
	if(p->parent == nil)
		p->depth = 0;
	p->left = p->depth == 0 ? (uvlong)w.p->lifehi * 50 : rrange(&w.rw, w.p->lifelo, w.p->lifehi);
	if(p->depth == 0 && p->attached && rchance(&w.rw, w.p->wipeoffp)){
		Ev *f = pend();
		f->pid = p->pid;
		f->op = Osetconf;
		strcpy(f->key, "pebble.secure.auto_wipe");
		strcpy(f->val, "0");
	}
	qpush(w.now + rrange(&w.rw, 100, 5000), p->pid);
}
