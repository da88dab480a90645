/*
 * Allocating, freeing and wiping secure memory.
 *
 * Every call checks in DESIGN.md's order: arguments, the subsystem
 * switch, unknown proc or allocation, permission, busy, budget, heap;
 * a size that can only be judged against the allocation is judged
 * after permission, so a proc learns nothing of memory it may not
 * touch.  A call that fails changes nothing but the audit log.
 */
#include "pebble.h"
#include "dat.h"
#include "fns.h"

int
pebble_secure_alloc(Proc *p, usize size, void **secure_ptr, int perms)
{
	Area *a;
	Span *s;
	Rec *r;
	uint i;
	int err, audit;

	if(p == nil || secure_ptr == nil || size == 0 || badperm(perms) || pb == nil)
		return PEBBLE_ERR_INVALID;
	if(!pebble_secure_enabled)
		return PEBBLE_ERR_PERM;
	if((a = procarea(p)) == nil)
		return PEBBLE_ERR_NOTFOUND;
	wlock(&a->rd.lock);
	err = PEBBLE_ERR_OK;
	audit = a->audit && pebble_secure_auditing;
	if(!mine(a, p))
		err = PEBBLE_ERR_NOTFOUND;
	else if(size > a->budget.limit - a->budget.used)
		err = PEBBLE_ERR_BUDGET;
	else if(size > pb->size || (r = slotalloc(a, size, audit, &s, &i)) == nil)
		err = PEBBLE_ERR_NOMEM;
	if(err != PEBBLE_ERR_OK){
		wunlock(&a->rd.lock);
		return err;
	}
	r->time = hostnsec();
	r->word = newid(a) | (uvlong)perms << IDBITS | Flive;
	if(audit)
		r->word |= Faudit;
	r->head = 0;
	r->size = size;
	charge(a, size);
	a->budget.nalloc++;
	auditlog(s, i, PEBBLE_AUDIT_ALLOC, p, size, 0, perms, 0);
	*secure_ptr = (void*)slotaddr(s, i);
	wunlock(&a->rd.lock);
	return PEBBLE_ERR_OK;
}

int
pebble_secure_alloc_simple(Proc *p, usize size, void **secure_ptr)
{
	return pebble_secure_alloc(p, size, secure_ptr, PEBBLE_READ|PEBBLE_WRITE);
}

/* wipe n bytes at v of a's allocation, counting them for its owner */
static void
wipebytes(Area *a, uintptr v, usize n)
{
	pagein(v, n);
	secwipe((void*)v, n);
	a->budget.wiped += n;
}

/* release n bytes at v: wiped now, or marked to be zeroed before reuse */
static void
release(Area *a, Rec *r, uintptr v, usize n, int wipe)
{
	if(wipe || a->rd.wipe_on_free)
		wipebytes(a, v, n);
	else{
		a->budget.deferred += n;
		r->word |= Fdirty;
	}
	uncharge(a, n);
}

/*
 * free slot i of s, owned by a (locked), for pebble_secure_free or the
 * owner's exit: the FREE or EXIT entry it logs is only a place in the
 * ring (auditgone)
 */
void
dofree(Area *a, Span *s, uint i, int wipe)
{
	Rec *r;
	usize n;

	r = &s->rec[i];
	if(r->word & Fshared)
		revokeall(a, s, i);
	n = r->size;
	if(r->word & Faudit)
		auditgone(s);
	release(a, r, recaddr(s, i), n, wipe);
	passert(a->budget.nalloc > 0 && (r->word & Fshared) == 0);	/* its grants went with revokeall */
	a->budget.nalloc--;
	slotfree(a, s, i);
}

/*
 * Lock the owner of the allocation starting at v for caller c (p's):
 * c itself (the common case, one lookup) or another area.
 */
static int
locate(Area *c, Proc *p, uintptr v, Area **ap, Span **sp, uint *ip)
{
	wlock(&c->rd.lock);
	if(mine(c, p) && findrec(c, v, 1, sp, ip)){
		*ap = c;
		return 1;
	}
	wunlock(&c->rd.lock);
	return lockowner(v, 1, 1, ap, sp, ip);
}

/*
 * The first n bytes of slot i of s leave the allocation; every whole
 * page they complete goes back to the heap (only a one-slot span can
 * have any).  The span structure that takes those pages is had first:
 * without it the call is NOMEM and changes nothing.  Unlocks a.
 */
static int
partialfree(Area *a, Span *s, uint i, Proc *p, usize n)
{
	Rec *r;
	Span *f;
	ulong k;

	r = &s->rec[i];
	k = s->nslot == 1 ? (r->head + n) >> PGSHIFT : 0;
	f = nil;
	if(k > 0 && (f = spanget()) == nil){
		auditdenied(s, i, p, PEBBLE_ERR_NOMEM);
		wunlock(&a->rd.lock);
		return PEBBLE_ERR_NOMEM;
	}
	auditlog(s, i, PEBBLE_AUDIT_PARTIAL_FREE, p, n, 0, 0, 0);
	release(a, r, recaddr(s, i), n, 0);
	r->head += n;
	r->size -= n;
	if(k > 0)
		givefront(a, s, f, k);
	wunlock(&a->rd.lock);
	return PEBBLE_ERR_OK;
}

enum {
	Ofree,		/* free or free_size */
	Owipe,
	Owipefree,
};

/*
 * The shape shared by free, free_size, wipe and wipe_and_free:
 * n is the size argument, 0 meaning "the whole allocation".
 */
static int
memop(Proc *p, void *ptr, usize n, int op)
{
	Area *c, *a;
	Span *s;
	Rec *r;
	uint i;
	Grant *g;

	if(p == nil || ptr == nil || pb == nil)
		return PEBBLE_ERR_INVALID;
	/*
	 * Among many live allocations the bytes to wipe are far from the
	 * cache, and so is the metadata locate walks (page map, span,
	 * record), one load after another.  Ask for all of it now, so the
	 * misses overlap: of the bytes only the first line, owned, which
	 * is the allocation's own (a line further may be another proc's).
	 * A prefetch never faults, whatever ptr is.  Only when the arena
	 * in use is past the caches (heap.c, coldcheck): below, the
	 * asking costs more than it saves.
	 */
	if(ATOMLOAD(&pb->cold)){
		__builtin_prefetch(ptr, 1);
		prefetchmeta((uintptr)ptr);
	}
	if((c = procarea(p)) == nil)
		return PEBBLE_ERR_NOTFOUND;
	if(!locate(c, p, (uintptr)ptr, &a, &s, &i))
		return PEBBLE_ERR_NOTFOUND;
	if(!isproc(c, p)){	/* p exited while we looked */
		wunlock(&a->rd.lock);
		return PEBBLE_ERR_NOTFOUND;
	}
	r = &s->rec[i];
	if(a != c){
		g = findgrant(s, i, c);
		if(op != Owipe || g == nil || (g->perm & PEBBLE_WRITE) == 0){
			auditdenied(s, i, p, PEBBLE_ERR_PERM);
			wunlock(&a->rd.lock);
			return PEBBLE_ERR_PERM;
		}
	}
	if(n > r->size || (op == Owipefree && n != 0 && n != r->size)){
		auditdenied(s, i, p, PEBBLE_ERR_INVALID);
		wunlock(&a->rd.lock);
		return PEBBLE_ERR_INVALID;
	}
	if(n == 0 || op == Owipefree)
		n = r->size;
	switch(op){
	case Owipe:
		wipebytes(a, recaddr(s, i), n);
		auditlog(s, i, PEBBLE_AUDIT_WIPE, p, n, 0, 0, 0);
		break;
	case Owipefree:
		dofree(a, s, i, 1);
		break;
	default:
		if(n == r->size){
			dofree(a, s, i, 0);
			break;
		}
		return partialfree(a, s, i, p, n);
	}
	wunlock(&a->rd.lock);
	return PEBBLE_ERR_OK;
}

int
pebble_secure_free(Proc *p, void *ptr)
{
	return memop(p, ptr, 0, Ofree);
}

int
pebble_secure_free_size(Proc *p, void *ptr, usize size)
{
	if(size == 0)
		return PEBBLE_ERR_INVALID;
	return memop(p, ptr, size, Ofree);
}

int
pebble_secure_wipe(Proc *p, void *ptr, usize size)
{
	return memop(p, ptr, size, Owipe);
}

int
pebble_secure_wipe_and_free(Proc *p, void *ptr, usize size)
{
	return memop(p, ptr, size, Owipefree);
}
