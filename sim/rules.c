/*
 * The rulebook: for every call, the result DESIGN.md section 2 (and
 * docs/decisions.md where it is silent) says the core must return,
 * predicted from the shadow before the call, and the effect of a
 * success on the shadow.  This is the one place the simulator states
 * the rules; it is written from those two documents, not from core/.
 *
 * The check order is DESIGN's: arguments (INVALID) -> subsystem
 * disabled (PERM) -> unknown proc or allocation (NOTFOUND) -> caller
 * not allowed (PERM) -> in use (BUSY) -> budget (BUDGET) -> heap
 * (NOMEM).  A refusal naming a live allocation logs DENIED when the
 * allocation is audited (decisions.md, Audit).
 */
#include "sim.h"
#include "rules.h"

enum { OK = PEBBLE_ERR_OK, NOMEM = PEBBLE_ERR_NOMEM, PERM = PEBBLE_ERR_PERM,
	NOTFOUND = PEBBLE_ERR_NOTFOUND, INVALID = PEBBLE_ERR_INVALID,
	BUDGET = PEBBLE_ERR_BUDGET, BUSY = PEBBLE_ERR_BUSY };


Want
wantres(vlong r)
{
	Want w;

	memset(&w, 0, sizeof w);
	w.r = w.alt = r;
	return w;
}

static Want
denied(vlong r, SAlloc *t)
{
	Want w;

	w = wantres(r);
	w.t = t;
	w.denied = 1;
	return w;
}

/* "A permission argument of 0 or with other bits set is INVALID" */
static int
badperm(vlong perm)
{
	return perm == 0 || (perm & ~PEBBLE_RWX) != 0;
}

/* what p may do to t: its protection for the owner, the grant for a grantee, else 0 */
static int
rights(SAlloc *t, SProc *p)
{
	return t->owner == p ? t->prot : hasgrant(t, p);
}

/* "size 0 ... is INVALID"; BUDGET is this proc's budget, NOMEM the heap */
Want
rulealloc(SProc *p, usize size, int perms)
{
	Want w;

	if(size == 0 || badperm(perms))
		return wantres(INVALID);
	if(!sim.enabled)
		return wantres(PERM);
	if(!attached(p))
		return wantres(NOTFOUND);
	if(size == p->limit - p->used)
		sim.bound[Bremain]++;
	if(size == p->limit - p->used + 1)
		sim.bound[Bremain1]++;
	if(size > p->limit - p->used)
		return wantres(BUDGET);
	w = wantres(OK);
	w.alt = NOMEM;
	return w;
}

/*
 * pebble_secure_check: [v, v+len) must lie in one live allocation;
 * a proc that neither owns nor holds a grant on it gets PERM whatever
 * len is; past the end is NOTFOUND; missing permission is PERM.
 */
Want
ruleaccess(SProc *p, uintptr v, usize len, int perm)
{
	SAlloc *t;
	Want w;

	if(v == 0 || len == 0 || badperm(perm))
		return wantres(INVALID);
	if(!attached(p))
		return wantres(NOTFOUND);
	if((t = allocin(v)) == nil)
		return wantres(NOTFOUND);
	if(rights(t, p) == 0)
		return denied(PERM, t);
	if(len == t->ptr + t->size - v)
		sim.bound[Bend]++;
	if(len > t->ptr + t->size - v){
		if(len == t->ptr + t->size - v + 1)
			sim.bound[Bend1]++;
		return wantres(NOTFOUND);
	}
	if((perm & ~rights(t, p)) != 0)
		return denied(PERM, t);
	w = wantres(OK);
	w.t = t;
	w.have = rights(t, p);
	return w;
}

/*
 * free, free_size, wipe, wipe_and_free at v with size n: only the
 * owner frees; the owner or a grantee holding WRITE wipes; a size is
 * judged after permission (a stranger learns nothing of it).
 */
Want
rulememop(int op, SProc *p, uintptr v, usize n)
{
	SAlloc *t;
	Want w;
	int ok;

	if(op == Ofreesize && n == 0)
		return wantres(INVALID);
	if(!attached(p) || (t = allocat(v)) == nil)
		return wantres(NOTFOUND);
	ok = t->owner == p || (op == Owipe && (hasgrant(t, p) & PEBBLE_WRITE));
	if(!ok)
		return denied(PERM, t);
	if(op != Ofree && n == t->size)
		sim.bound[Bend]++;
	if(op != Ofree && n == t->size + 1)
		sim.bound[Bend1]++;
	if(n > t->size || (op == Owipefree && n != 0 && n != t->size))
		return denied(INVALID, t);
	w = wantres(OK);
	w.t = t;
	w.n = n == 0 || op == Owipefree || op == Ofree ? t->size : n;
	return w;
}

/* bytes of t released by its owner: wiped now, or left for reuse or detach */
void
release(SAlloc *t, usize off, usize n, int wipe)
{
	SProc *o;

	o = t->owner;
	if(wipe){
		o->wiped += n;
		sim.wiped += n;
		shadowzero(t, off, n);
	}else{
		o->deferred += n;
		sim.deferred += n;
		residue(o, t, off, n);
	}
}

void
applymemop(int op, Want *w)
{
	SAlloc *t;

	t = w->t;
	auditexp(t, 1);		/* WIPE, FREE or PARTIAL_FREE */
	switch(op){
	case Owipe:
		release(t, 0, w->n, 1);
		break;
	case Owipefree:
		release(t, 0, t->size, 1);
		killalloc(t);
		break;
	default:
		release(t, 0, w->n, t->owner->wipe);
		if(w->n == t->size){
			killalloc(t);
			break;
		}
		/* the allocation continues at ptr+n with size-n, same id, same grants */
		unchargep(t->owner, w->n);
		shadowcut(t, w->n);
	}
}

/*
 * share and revoke: only the owner; the target another attached proc;
 * grants a subset of the protection; across users only for eve.
 */
Want
ruleshare(int op, SProc *p, SProc *q, int same, uintptr v, int perms)
{
	SAlloc *t;
	Want w;

	if(same || (op == Oshare && badperm(perms)))
		return wantres(INVALID);
	if(op == Oshare && !sim.enabled)	/* a refusal naming a live allocation is logged */
		return (t = allocat(v)) != nil ? denied(PERM, t) : wantres(PERM);
	if(!attached(p) || !attached(q) || (t = allocat(v)) == nil)
		return wantres(NOTFOUND);
	if(t->owner != p || (perms & ~t->prot) != 0
	|| (op == Oshare && !iseve(p) && strcmp(p->user, q->user) != 0))
		return denied(PERM, t);
	if(op == Orevoke && !hasgrant(t, q))
		return wantres(NOTFOUND);
	w = wantres(OK);
	w.t = t;
	if(op == Oshare && sim.failarmed && !hasgrant(t, q)){
		w.alt = NOMEM;	/* a new grant takes metadata; the refusal names t */
		w.altdenied = 1;
	}
	return w;
}

void
applyshare(int op, Want *w, SProc *q, int perms)
{
	auditexp(w->t, 1);
	if(op == Oshare)
		addgrant(w->t, q, perms);
	else
		delgrant(w->t, q);
}

/* info: the start of a live allocation, the owner or a grantee */
Want
ruleinfo(SProc *p, uintptr v)
{
	SAlloc *t;
	Want w;

	if(!attached(p) || (t = allocat(v)) == nil)
		return wantres(NOTFOUND);
	if(rights(t, p) == 0)
		return denied(PERM, t);
	w = wantres(OK);
	w.t = t;
	w.have = rights(t, p);
	return w;
}

/* audit queries: "for the owner or eve; others get PERM" */
Want
ruleaudit(SProc *p, uintptr v, int max)
{
	SAlloc *t;
	Want w;

	if(max <= 0)
		return wantres(INVALID);
	if(!attached(p) || (t = allocat(v)) == nil)
		return wantres(NOTFOUND);
	if(t->owner != p && !iseve(p))
		return denied(PERM, t);
	w = wantres(OK);
	w.t = t;
	return w;
}

