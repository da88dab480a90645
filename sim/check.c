/*
 * The checks that run after every event: the result against the
 * rulebook's, one proc's statistics against the shadow, a new
 * allocation's place and zeros, wiped bytes, every field of info and
 * of audit entries, and, after a detach, no plaintext of what the
 * proc freed unwiped.  Each check counts in the coverage report.
 */
#include "sim.h"
#include "rules.h"

void
want(Ev *e, vlong got, Want *w)
{
	char b1[32], b2[32], b3[32];

	sim.inv[Iresult]++;
	if(got == w->r || got == w->alt)
		return;
	if(w->alt != w->r)
		violation(e, "%s returned %s, the rules say %s or %s", opname[e->op],
			fmtres(b1, got, Oalloc), fmtres(b2, w->r, Oalloc), fmtres(b3, w->alt, Oalloc));
	else
		violation(e, "%s returned %s, the rules say %s", opname[e->op],
			fmtres(b1, got, Oalloc), fmtres(b2, w->r, Oalloc));
}

/* a proc's budget and figures, as the core reports them */
int
checkproc(SProc *p, Ev *e)
{
	PebbleSecureStats st;
	int r;

	if(!p->alive)
		return 0;
	sim.inv[Istats]++;
	r = pebble_secure_stats(procof(p), &st);
	if(!p->attached){
		if(r != PEBBLE_ERR_NOTFOUND)
			violation(e, "stats of unattached pid %lu returned %d", p->pid, r);
		return 0;
	}
	if(r != PEBBLE_ERR_OK){
		violation(e, "stats of pid %lu returned %s", p->pid, r < 0 && r > -7 ? resname[-r] : "?");
		return -1;
	}
	if(st.total_budget != p->limit || st.used_budget != p->used || st.num_allocations != (usize)p->nalloc
	|| st.peak_usage != p->peak || st.total_wiped != p->wiped || st.total_deferred != p->deferred){
		violation(e, "stats of pid %lu: budget %lu used %lu allocs %lu peak %lu wiped %lu deferred %lu; "
			"the shadow has %lu %lu %ld %lu %lu %lu", p->pid,
			(ulong)st.total_budget, (ulong)st.used_budget, (ulong)st.num_allocations,
			(ulong)st.peak_usage, (ulong)st.total_wiped, (ulong)st.total_deferred,
			(ulong)p->limit, (ulong)p->used, p->nalloc, (ulong)p->peak, (ulong)p->wiped, (ulong)p->deferred);
		return -1;
	}
	if(pebble_secure_budget_get(procof(p)) != p->limit){
		violation(e, "budget_get of pid %lu differs from its stats", p->pid);
		return -1;
	}
	return 0;
}

/* the pages under [v, v+n) back from swap, through the access check as a host would */
void
ownerpagein(Ev *e, SAlloc *a, uintptr v, usize n)
{
	int r;

	if(peekpagedout() == 0)
		return;
	r = pebble_secure_check(procof(a->owner), (void*)v, n, a->prot & -a->prot);
	if(r != PEBBLE_ERR_OK)
		violation(e, "the owner's access check on #%llu returned %s", a->h, resname[-r]);
}

/* a new allocation: in the heap, over no live one, reading as zeros */
void
checknew(Ev *e, SAlloc *a)
{
	SAlloc *n;

	sim.inv[Iplace]++;
	if(a->ptr < sim.arena || a->ptr - sim.arena > sim.arenasize || a->size > sim.arena + sim.arenasize - a->ptr){
		violation(e, "#%llu lies outside the secure heap", a->h);
		return;
	}
	if((n = treefloor(a->ptr + a->size - 1)) != nil && n != a && n->ptr + n->size > a->ptr)
		violation(e, "#%llu overlaps the live #%llu", a->h, n->h);
	if((n = treefloor(a->ptr - 1)) != nil && n != a && n->ptr + n->size > a->ptr)
		violation(e, "#%llu overlaps the live #%llu", a->h, n->h);
	ownerpagein(e, a, a->ptr, a->size);
	sim.inv[Izero]++;
	if(!sim.fail && !zeroread(a->ptr, a->size))
		violation(e, "new allocation #%llu does not read as zeros", a->h);
}

/* bytes released with a wipe must read zero at once */
void
checkwiped(Ev *e, SAlloc *a, uintptr v, usize n)
{
	sim.inv[Iwiped]++;
	if(!zeroread(v, n))
		violation(e, "%lu bytes of #%llu released with a wipe are not zero", (ulong)n, a->h);
}

void
checkinfo(Ev *e, SecureAllocation *in, SAlloc *t, int have)
{
	sim.inv[Iinfo]++;
	if(in->ptr != (void*)t->ptr || in->size != t->size || in->permissions != have
	|| in->pid != t->owner->pid || in->owner != procof(t->owner)
	|| in->id != t->id || in->ngrants != t->ng || in->protection != t->prot
	|| in->alloc_time != t->time)
		violation(e, "info on #%llu: size %lu perms %d pid %lu id %llu grants %d prot %d time %llu; "
			"the shadow has size %lu perms %d pid %lu id %llu grants %d prot %d time %llu",
			t->h, (ulong)in->size, in->permissions, in->pid, in->id, in->ngrants, in->protection, in->alloc_time,
			(ulong)t->size, have, t->owner->pid, t->id, t->ng, t->prot, t->time);
}

/*
 * all of t's entries while the ring has not wrapped past them, ALLOC
 * first, in time order; once it has, in a ring that keeps exactly its
 * newest entries, no ALLOC (t's is older than all of those)
 */
void
checkaudit(Ev *e, SAlloc *t, SecureAuditEntry *ents, vlong got, int max)
{
	vlong lo, hi;
	int i;

	sim.inv[Iauditq]++;
	hi = t->audited ? t->naudit : 0;
	if(hi > max)
		hi = max;
	lo = hi;
	if(sim.audithead - t->auditbase > peekauditsize())
		lo = 0;
	if(got < lo || got > hi){
		violation(e, "audit of #%llu returned %lld entries, the shadow expected %lld..%lld", t->h, got, lo, hi);
		return;
	}
	for(i = 0; i < got && !sim.fail; i++){
		if(ents[i].operation < PEBBLE_AUDIT_ALLOC || ents[i].operation > PEBBLE_AUDIT_EXIT)
			violation(e, "audit entry %d of #%llu has operation %d", i, t->h, ents[i].operation);
		else if(ents[i].timestamp > e->time || (i > 0 && ents[i].timestamp < ents[i-1].timestamp))
			violation(e, "audit entry %d of #%llu is out of time order", i, t->h);
		else if(ents[i].timestamp < t->time)
			violation(e, "audit entry %d of #%llu is older than the allocation", i, t->h);
		else if(ents[i].operation == PEBBLE_AUDIT_ALLOC && lo != hi && peekauditsize() < PEBBLE_AUDITEXACT)
			violation(e, "audit of #%llu returned its ALLOC, %llu entries back in a ring that keeps exactly the newest %llu",
				t->h, sim.audithead - t->auditbase, peekauditsize());
		else if(i == 0 && lo == hi && (ents[i].operation != PEBBLE_AUDIT_ALLOC
		|| ents[i].pid != t->mkpid || ents[i].size != t->osize || ents[i].perms != t->prot))
			violation(e, "the first audit entry of #%llu is not its ALLOC (op %d pid %lu size %lu perms %d)",
				t->h, ents[i].operation, ents[i].pid, (ulong)ents[i].size, ents[i].perms);
	}
}

/*
 * After p's detach, none of the bytes it freed unwiped may still be in
 * the arena in plaintext (DESIGN.md, Process lifecycle): every sample
 * outside a live allocation (reuse zeroes and rewrites) must be gone.
 */
void
checkresidue(Ev *e, SProc *p)
{
	int i;
	SAlloc *a;

	for(i = 0; i < p->nres && !sim.fail; i++){
		sim.inv[Iresidue]++;
		a = allocin(p->res[i].addr);
		if(a == nil)
			a = allocin(p->res[i].addr + 15);
		if(a == nil && memcmp((void*)p->res[i].addr, p->res[i].b, 16) == 0)
			violation(e, "pid %lu detached, but bytes it freed unwiped are still in the arena at offset %lu",
				p->pid, (ulong)(p->res[i].addr - sim.arena));
	}
	burn(p->res, p->capres * sizeof p->res[0]);
	free(p->res);
	p->res = nil;
	p->nres = p->capres = 0;
}
