/*
 * The executor: one event is expect -> call -> compare -> apply.  The
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
	Partfirst	= 32,	/* partial frees releasing pages always checked */
	Partevery	= 16,
};

/* is this one of the first n, or of every k-th after, counting in *c */
static int
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
static int
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

/* the id the core gave a, learnt from info: never reused, increasing within one proc */
static void
learnid(Ev *e, SAlloc *a)
{
	SecureAllocation in;

	if(pebble_secure_info(procof(a->owner), (void*)a->ptr, &in) != OK){
		violation(e, "info of the new #%llu failed", a->h);
		return;
	}
	a->id = in.id;
	if(a->owner->lastid != 0 && in.id <= a->owner->lastid)
		violation(e, "#%llu has id %llu, not above pid %lu's last %llu", a->h, in.id, a->owner->pid, a->owner->lastid);
	a->owner->lastid = in.id;
}

static vlong
xalloc(Ev *e, SProc *p)
{
	SAlloc *a;
	Want w;
	vlong got;
	void *ptr;
	PebbleSysStats st;

	w = rulealloc(p, e->n[0], e->n[1]);
	guard(e, &w, w.r == OK && e->n[0] >= (sim.arenasize - sim.inuse) / 8);
	ptr = nil;
	got = pebble_secure_alloc(hostproc(p, e->pid, 0), e->n[0], &ptr, e->n[1]);
	if(got == NOMEM && w.r == OK && !sw.armed && !sim.fail && e->n[0] > 65536){
		/*
		 * heap NOMEM: then no allocation of this size could succeed.  Only
		 * for sizes of whole pages (docs/core.md: above 64 KiB): a smaller
		 * one needs a run of its class, which may not fit where the largest
		 * single allocation would.
		 */
		sim.inv[Ilargest]++;
		pebble_secure_sysstats(&st);
		if(((e->n[0] + 4095) & ~(uvlong)4095) <= st.largest_free)
			violation(e, "alloc of %llu was NOMEM, yet largest_free is %lu", e->n[0], (ulong)st.largest_free);
	}
	if(!compare(e, got, &w))
		return got;
	if(findalloc(e->h) != nil){
		tracebad(e, "alloc names a handle already used in this trace");
		return got;
	}
	if(overmem(e, 2*e->n[0]))
		return got;
	a = newalloc(e->h, p, (uintptr)ptr, e->n[0], e->n[1]);
	a->audited = p->audit && sim.auditing;
	a->time = e->time;
	a->mkpid = p->pid;
	auditexp(a, 1);		/* ALLOC */
	checknew(e, a);
	learnid(e, a);
	return got;
}

/* write and read through the access check, a piece of scratch at a time */
static void
touch(Ev *e, SAlloc *t, uintptr v, usize len)
{
	usize k, off;
	uchar *b;

	b = sim.scratch;
	for(off = v - t->ptr; len > 0; off += k, len -= k){
		k = len < sim.nscratch ? len : sim.nscratch;
		if(e->op == Owrite){
			pattern(b, e->h, off, k);
			memmove((void*)(t->ptr + off), b, k);
			shadowwrite(t, off, b, k);
		}else{
			sim.inv[Ibytes]++;
			if(shadowcmp(t, off, (uchar*)(t->ptr + off), k) != 0){
				violation(e, "#%llu: %lu bytes at offset %lu differ from what was written", t->h, (ulong)k, (ulong)off);
				return;
			}
		}
	}
}

static vlong
xtouch(Ev *e, SProc *p)
{
	SAlloc *a;
	uintptr v;
	Want w;
	vlong got;
	int perm;

	if((a = handle(e)) == nil)
		return Rnone;
	v = a->ptr + e->n[0];
	perm = e->op == Owrite ? PEBBLE_WRITE : e->op == Oread ? PEBBLE_READ : (int)e->n[2];
	w = ruleaccess(p, v, e->n[1], perm);
	if(w.denied && w.t->owner != p && !hasgrant(w.t, p))
		sim.inv[Istranger]++;
	guard(e, &w, 0);
	got = pebble_secure_check(hostproc(p, e->pid, 0), (void*)v, e->n[1], perm);
	if(compare(e, got, &w) && e->op != Ocheck && !(e->op == Owrite && overmem(e, e->n[1])))
		touch(e, w.t, v, e->n[1]);
	return got;
}

/* the bytes of whole pages in [v, v+n) */
static usize
wholepages(uintptr v, usize n)
{
	uintptr lo, hi;

	lo = (v + 4095) & ~(uintptr)4095;
	hi = (v + n) & ~(uintptr)4095;
	return hi > lo ? hi - lo : 0;
}

static void
partialfree(Ev *e, uintptr v, usize n, PebbleSysStats *s0)
{
	PebbleSysStats s1;
	usize whole;

	whole = wholepages(v, n);
	sim.inv[Ipartial]++;
	pebble_secure_sysstats(&s1);
	if(s1.free_bytes < s0->free_bytes + whole)
		violation(e, "a partial free of %lu bytes released %lu whole pages, but free bytes grew %lu -> %lu",
			(ulong)n, (ulong)whole/4096, (ulong)s0->free_bytes, (ulong)s1.free_bytes);
}

static vlong
xmemop(Ev *e, SProc *p)
{
	SAlloc *a, *t;
	uintptr v;
	Want w;
	vlong got;
	Proc *hp;
	PebbleSysStats s0;
	int part, wipe;

	if((a = handle(e)) == nil)
		return Rnone;
	v = a->ptr;
	w = rulememop(e->op, p, v, e->op == Ofree ? 0 : e->n[0]);
	/* the statistics are read around a partial free only when it releases a page (sampled): they walk the heap */
	part = w.r == OK && e->op == Ofreesize && w.n < w.t->size && wholepages(v, w.n) > 0
		&& sample(&sim.npart, Partfirst, Partevery);
	if(part)
		pebble_secure_sysstats(&s0);
	guard(e, &w, 0);
	hp = hostproc(p, e->pid, 0);
	switch(e->op){
	case Ofree:	got = pebble_secure_free(hp, (void*)v); break;
	case Ofreesize:	got = pebble_secure_free_size(hp, (void*)v, e->n[0]); break;
	case Owipe:	got = pebble_secure_wipe(hp, (void*)v, e->n[0]); break;
	default:	got = pebble_secure_wipe_and_free(hp, (void*)v, e->n[0]); break;
	}
	if(!compare(e, got, &w))
		return got;
	t = w.t;
	touched = t->owner;
	wipe = e->op == Owipe || e->op == Owipefree || t->owner->wipe;
	applymemop(e->op, &w);
	if(wipe)
		checkwiped(e, t, v, w.n);
	if(part && !sim.fail)
		partialfree(e, v, w.n, &s0);
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
