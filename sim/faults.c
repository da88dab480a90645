/*
 * The fault driver: the host (pid 0) takes a turn every faultgap
 * events on average and injects what the run's fault set allows, in
 * proportion to the profile's fault weights: kills, host metadata
 * allocation failures, budget cuts under load, heap exhaustion, the
 * subsystem switched off, and memory pressure driving the pager.
 */
#include "sim.h"
#include "wl.h"

static char *faultnames[Nfault] = { "kill", "malloc", "budget", "heap", "off", "pager" };

int
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
		for(i = 0; i < Nfault; i++)
			if((int)strlen(faultnames[i]) == n && strncmp(p, faultnames[i], n) == 0)
				break;
		if(i == Nfault){
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

void
printfaults(FILE *out, int f)
{
	int i, first;

	first = 1;
	for(i = 0; i < Nfault; i++)
		if(f & (1 << i)){
			fprintf(out, "%s%s", first ? "" : ",", faultnames[i]);
			first = 0;
		}
	if(first)
		fprintf(out, "none");
}

/* a fault kind the run allows, by the profile's weights (all 1 when it gives none) */
static int
drawfault(void)
{
	int i, tot, r, wt[Nfault];

	tot = 0;
	for(i = 0; i < Nfault; i++){
		wt[i] = (w.faults & (1 << i)) ? (w.p.fweight[i] > 0 ? w.p.fweight[i] : 1) : 0;
		tot += wt[i];
	}
	r = rbelow(&w.rf, tot);
	for(i = 0; r >= wt[i]; i++)
		r -= wt[i];
	return 1 << i;
}

static Ev*
pendfor(SProc *p, int op)
{
	Ev *f;

	f = pend();
	f->pid = p->pid;
	f->op = op;
	return f;
}

static Ev*
pendalloc(SProc *p, uvlong size)
{
	Ev *f;

	f = pendfor(p, Oalloc);
	f->n[0] = size;
	f->n[1] = 6;
	f->h = w.nexth++;
	return f;
}

static void
pendconf(SProc *p, char *key, int on)
{
	Ev *f;

	f = pendfor(p, Osetconf);
	strcpy(f->key, key);
	strcpy(f->val, on ? "1" : "0");
}

/* the next call that takes host memory fails: it must return NOMEM and change nothing */
static void
armfail(Ev *e)
{
	e->pid = 0;
	e->op = Ofailmalloc;
	e->n[0] = 1;
}

/* ... a share or an allocation, half the time of a size the proc holds (a run it has) */
static void
failmalloc(Ev *e, SProc *p)
{
	Ev *f;
	SAlloc *a;
	uvlong sz;

	armfail(e);
	if(p->owned.n > 0 && rchance(&w.rf, 500) && (a = p->owned.v[rbelow(&w.rf, p->owned.n)]) != nil){
		f = pendfor(p, Oshare);
		f->h = a->h;
		f->peer = sim.procs.n > 1 ? ((SProc*)sim.procs.v[rbelow(&w.rf, sim.procs.n)])->pid : p->pid;
		f->n[0] = PEBBLE_READ;
		return;
	}
	sz = rlog(&w.rf, 16, 65536);
	if(p->owned.n > 0 && rchance(&w.rf, 500) && (a = p->owned.v[rbelow(&w.rf, p->owned.n)]) != nil)
		sz = a->osize;
	pendalloc(p, sz);
}

/*
 * A metadata failure where a failed allocation has most to undo: the
 * first audited allocation into memory the proc got while its own
 * auditing was off, with a wipe still owed there.  The proc turns its
 * audit off, allocates, writes and frees with auto_wipe off (written,
 * so that the owed wipe has bytes to wipe: a failed call that wiped
 * them early would change the arena), turns its audit back on, and
 * allocates the same size again as the host's next metadata
 * allocation fails; then its settings are put back.
 */
static void
owedfail(Ev *e, SProc *p)
{
	Ev *f;
	uvlong sz, h;

	sz = rlog(&w.rf, 16, 4096);
	e->pid = p->pid;
	e->op = Osetconf;
	strcpy(e->key, PEBBLE_CONF_AUDIT);
	strcpy(e->val, "0");
	h = pendalloc(p, sz)->h;
	pendconf(p, PEBBLE_CONF_AUTOWIPE, 0);
	f = pendfor(p, Owrite);
	f->h = h;
	f->n[0] = 0;
	f->n[1] = sz;
	f = pendfor(p, Ofree);
	f->h = h;
	pendconf(p, PEBBLE_CONF_AUDIT, 1);
	armfail(pend());
	pendalloc(p, sz);
	pendconf(p, PEBBLE_CONF_AUTOWIPE, p->wipe);
	pendconf(p, PEBBLE_CONF_AUDIT, p->audit);
}

/* cuts under load: to just above usage, below it (BUSY), half, or the system maximum */
static void
budgetcut(Ev *e, SProc *p)
{
	int k;

	k = rbelow(&w.rf, 4);
	if(k == 3){
		e->pid = 0;
		e->op = Omaxbudget;
		e->n[0] = rchance(&w.rf, 500) ? sim.conf.heap : rlog(&w.rf, 4096, sim.conf.heap);
		return;
	}
	e->op = k == 2 ? Obudgetdec : Obudgetset;
	e->n[0] = k == 0 ? p->used + rbelow(&w.rf, 4096) : k == 1 && p->used > 0 ? p->used - 1 : p->limit / 2;
}

/* a burst of large allocations, to run the heap dry */
static void
heapburst(Ev *e, SProc *p)
{
	int i;

	e->op = Obudgetset;
	e->n[0] = sim.maxbudget;
	for(i = 0; i < 8 && w.npend < (int)nelem(w.pend); i++)
		pendalloc(p, rlog(&w.rf, 4096, sim.conf.heap / 8 + 4096));
}

/* the host driver's turn: the population and the faults */
void
hostturn(Ev *e)
{
	SProc *p;

	e->pid = 0;
	/*
	 * Switching the subsystem back on comes first: while it is off no
	 * fork attaches, the population dies out, and a driver that forked
	 * first would fork for ever and never switch it on again.
	 */
	if(w.offuntil != 0 && w.now >= w.offuntil){
		w.offuntil = 0;
		e->op = Oenable;
		e->n[0] = 1;
		return;
	}
	if(sim.procs.n == 0 || (sim.procs.n < w.procs / 4 && rchance(&w.rf, 300))){
		forkev(e, nil, rchance(&w.rf, 500) ? "eve" : "glenda");
		return;
	}
	e->op = Ostats;
	p = sim.procs.v[rbelow(&w.rf, sim.procs.n)];
	e->pid = p->pid;
	if(w.faults == 0)
		return;
	switch(drawfault()){
	case Fkill:
		e->op = Okill;
		if(rchance(&w.rf, 100))
			e->pid = 1 + rbelow(&w.rf, w.nextpid - 1);	/* perhaps one that is gone: NOTFOUND */
		return;
	case Fmalloc:
		if(p->attached && rchance(&w.rf, 250) && w.npend + 9 <= (int)nelem(w.pend))
			owedfail(e, p);
		else
			failmalloc(e, p);
		return;
	case Fbudget:
		budgetcut(e, p);
		return;
	case Fheap:
		heapburst(e, p);
		return;
	case Foff:
		e->pid = 0;
		if(w.offuntil != 0 || !sim.enabled || rchance(&w.rf, 300)){
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
