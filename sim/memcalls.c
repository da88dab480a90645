/*
 * The executor's memory calls: alloc (its id learnt from info, its new
 * bytes checked zero), write, read and check through the access check,
 * and the four ways of giving memory back.  Each is expect (the
 * rulebook) -> call (the core) -> compare -> apply (the rulebook), then
 * the checks of what it touched.  A partial free that releases whole
 * pages is bracketed by the system statistics, sampled: they walk the
 * heap.
 */
#include "sim.h"
#include "rules.h"

enum {
	OK	= PEBBLE_ERR_OK,
	NOMEM	= PEBBLE_ERR_NOMEM,
	Partfirst	= 32,	/* partial frees releasing pages always checked */
	Partevery	= 16,
};

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

vlong
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
	if(got == NOMEM && w.r == OK && !armed() && !sim.fail && e->n[0] > 65536){
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
			zerowrote(t->ptr + off, k);
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

vlong
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

vlong
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
