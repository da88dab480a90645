/*
 * The executor: one event is expect -> call -> compare -> apply (the
 * memory calls are in memcalls.c, the others in calls.c).  The
 * rulebook (rules.c) says what the call must return; the core is
 * called; the result is compared (check.c); on success the rulebook's
 * effect is applied to the shadow; then the cheap checks of what the
 * event touched.  A predicted refusal is now and then (and after every
 * injected failure) bracketed by the system statistics or the digest
 * (the first Refirst of each call and result, then every Refevery-th;
 * every 4th large allocation; the digest for every call after an
 * injected metadata failure): a failed call changes nothing.  The
 * statistics walk every area and span, so the bracket is sampled by
 * cell: a kind of refusal is checked from its first occurrences on,
 * and a common one (a stranger's PERM) does not pay for the rare ones.
 */
#include "sim.h"
#include "rules.h"

enum {
	OK	= PEBBLE_ERR_OK,
	NOMEM	= PEBBLE_ERR_NOMEM,
	Refirst	= 8,	/* refusals of a cell always bracketed */
	Refevery	= 128,	/* ... then one in this many */
};

/* is this one of the first n, or of every k-th after, counting in *c */
int
sample(uvlong *c, uvlong n, uvlong k)
{
	uvlong i;

	i = (*c)++;
	return i < n || i % k == 0;
}

SProc	*touched;	/* an owner whose statistics an event changed */

/* the bracket around a call that may fail */
static struct {
	int	on, full, armed;
	uvlong	d0;
	PebbleSysStats	s0;
} sw;

void
guard(Ev *e, Want *w, usize big)
{
	sw.on = sw.full = 0;
	if(e->op == Ofork)
		return;
	if(sim.sandwichnext || sw.armed)
		sw.full = 1;
	else if((w->r < 0 && w->r > -Nres && sample(&sim.nref[e->op][-w->r], Refirst, Refevery)) || (big && sample(&sim.nbig, 0, 4)))
		sw.on = 1;
	sim.sandwichnext = 0;
	if(sw.full)
		sw.d0 = pebble_secure_digest();
	else if(sw.on)
		pebble_secure_sysstats(&sw.s0);
}

static void
guarded(Ev *e, vlong got)
{
	PebbleSysStats s1;

	if(got >= 0 || sim.fail || !(sw.on || sw.full))
		return;
	sim.sandwiches++;
	if(sw.full){
		sim.inv[Idigest]++;
		if(pebble_secure_digest() != sw.d0)
			violation(e, "%s failed with %s but changed the core's state", opname[e->op], resname[-got]);
		return;
	}
	sim.inv[Irefused]++;
	pebble_secure_sysstats(&s1);
	sw.s0.audit_logged = s1.audit_logged;	/* a denial may be logged */
	sw.s0.audit_dropped = s1.audit_dropped;
	if(memcmp(&sw.s0, &s1, sizeof s1) != 0)
		violation(e, "%s failed with %s but changed the system statistics (free %lu -> %lu, largest %lu -> %lu, metadata %lu -> %lu)",
			opname[e->op], resname[-got], (ulong)sw.s0.free_bytes, (ulong)s1.free_bytes,
			(ulong)sw.s0.largest_free, (ulong)s1.largest_free, (ulong)sw.s0.metadata, (ulong)s1.metadata);
}

/* compare, and log the DENIED entry a refusal naming an allocation makes */
int
compare(Ev *e, vlong got, Want *w)
{
	want(e, got, w);
	guarded(e, got);
	if((got == w->r && w->denied) || (got == w->alt && got != w->r && w->altdenied))
		auditexp(w->t, 1);
	return got == OK && w->r == OK;
}

/*
 * The checker reads every allocated byte (new memory must read zero,
 * scans compare it), teardown wipes it, and the shadow keeps a copy of
 * every written one: a run holds up to twice what is allocated (a page
 * read before it is written is a page too) plus what is written.  Past
 * --max-memory the run stops (exit 2) before it touches more.
 */
int
overmem(Ev *e, usize more)
{
	if(sim.maxmem == 0 || sim.fail || 2*sim.inuse + sim.shadowbytes + more <= sim.maxmem)
		return 0;
	sim.fail = Xparse;
	sim.failev = sim.nev;
	sim.failed = *e;
	snprintf(sim.msg, sizeof sim.msg, "the run needs more than --max-memory %lu bytes (%lu allocated, %lu written, %lu more)",
		(ulong)sim.maxmem, (ulong)sim.inuse, (ulong)sim.shadowbytes, (ulong)more);
	return 1;
}

/* is an injected metadata failure armed for this event? */
int
armed(void)
{
	return sw.armed;
}

SAlloc*
handle(Ev *e)
{
	SAlloc *a;

	a = findalloc(e->h);
	if(a == nil && !sim.lenient)
		tracebad(e, "handle not defined by an earlier successful alloc");
	return a;
}

static vlong
xfork(Ev *e)
{
	SProc *p, *par;
	Want w;
	vlong got;
	int r;

	if((r = procfork(e, &p)) < 0)
		return r == -1 ? Rnone : NOMEM;	/* the host's table is full: no proc, no call */
	par = e->peer != 0 ? findproc(e->peer) : nil;
	w = ruleattach(par, e->peer != 0);
	guard(e, &w, 0);
	got = pebble_secure_attach(e->peer != 0 ? hostproc(par, e->peer, 0) : nil, procof(p));
	if(compare(e, got, &w))
		applyattach(p, e->peer != 0 ? par : nil);
	return got;
}

static vlong
dispatch(Ev *e)
{
	SProc *p;

	if(e->op == Ofork)
		return xfork(e);
	if(e->op >= Oenable)
		return xsys(e);
	p = findproc(e->pid);
	if(sim.lenient && (p == nil || !p->alive))
		return Rnone;
	switch(e->op){
	case Oalloc:	return xalloc(e, p);
	case Owrite:
	case Oread:
	case Ocheck:	return xtouch(e, p);
	case Ofree:
	case Ofreesize:
	case Owipe:
	case Owipefree:	return xmemop(e, p);
	case Oshare:
	case Orevoke:	return xshare(e, p);
	case Oinfo:	return xinfo(e, p);
	case Ostats:	return xstats(e, p);
	case Oaudit:	return xaudit(e, p);
	case Obudgetset:
	case Obudgetinc:
	case Obudgetdec:	return xbudget(e, p);
	case Osetconf:
	case Ogetconf:	return xconf(e, p);
	default:	return xexit(e, p);
	}
}

static void
count(Ev *e, vlong got)
{
	int r;

	sim.nev++;
	sim.ops[e->op]++;
	r = got >= 0 && countop(e->op) ? Rcount : got <= 0 && got > -7 ? -got : -1;
	if(r >= 0){
		sim.res[r]++;
		sim.cov[e->op][r]++;
	}
}

/*
 * after the event: the audit log's length, the procs it touched, the
 * recorded result, the period.  The core counts entries per proc slot
 * (no counter two procs share), so the count of each slot the event
 * logged on is compared after every event, and the total, a walk over
 * every slot, every 1024th event and after an event that logged on
 * more slots than are kept track of.
 */
static void
auditcheck(Ev *e)
{
	int i, s;

	for(i = 0; i < sim.nlogged && i < (int)nelem(sim.logged) && !sim.fail; i++){
		s = sim.logged[i];
		sim.inv[Iaudit]++;
		if(peekslotlogged(s) != sim.slotlog[s])
			violation(e, "proc slot %d's audit log has %llu entries, the shadow expected %llu", s, peekslotlogged(s), sim.slotlog[s]);
	}
	if(sim.conf.nproc <= 64 || sim.nev % 1024 == 0 || sim.nlogged > (int)nelem(sim.logged)){
		sim.inv[Iaudit]++;
		if(!sim.fail && peekaudithead() != sim.audithead)
			violation(e, "the audit log has %llu entries, the shadow expected %llu", peekaudithead(), sim.audithead);
	}
	sim.nlogged = 0;
}

static void
after(Ev *e, vlong got)
{
	SProc *p;
	char b1[32], b2[32];

	auditcheck(e);
	p = findproc(e->pid);
	if(!sim.fail && p != nil)
		checkproc(p, e);
	if(!sim.fail && touched != nil && touched != p)
		checkproc(touched, e);
	if(!sim.fail && e->result != Rnone && e->result != got && !sim.lenient){
		sim.fail = Xdiverge;
		sim.failev = sim.nev;
		sim.failed = *e;
		snprintf(sim.msg, sizeof sim.msg, "expected %s, got %s", fmtres(b1, e->result, e->op), fmtres(b2, got, e->op));
	}
	if(!sim.fail && sim.nev % sim.scanevery == 0)
		checkfull(sim.nev % (8*(uvlong)sim.scanevery) == 0);
}

/*
 * Run e.  Returns the result (Rnone if the event was skipped);
 * sim.fail says whether anything broke.
 */
int
execev(Ev *e)
{
	vlong got;

	detsetclock(e->time);
	sim.cur = *e;
	sw.armed = sim.failarmed && e->op != Ofailmalloc;
	sw.on = sw.full = 0;
	touched = nil;
	got = dispatch(e);
	if(sw.armed){
		detfailmalloc(0);
		sim.failarmed = 0;
	}
	if(got == Rnone)
		return Rnone;
	count(e, got);
	after(e, got);
	return got;
}
