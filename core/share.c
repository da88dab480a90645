/*
 * Grants: sharing, revoking, and the access check hosts make before
 * touching secure memory (the simulator's MMU).
 *
 * A grant hangs on two lists: its span's, under the owner's lock, and
 * its holder's, under the holder's heldlk.  heldlk is a leaf: it is
 * taken while an owner's lock is held, never the other way round, so
 * sharing in both directions at once cannot deadlock.  The owner's
 * access_map has a bit for every proc slot holding some grant on its
 * memory, so the common refusal costs one bit test.
 */
#include "pebble.h"
#include "dat.h"
#include "fns.h"

Grant*
findgrant(Span *s, uint i, Area *holder)
{
	Grant *g;

	if(!(s->rec[i].word & Fshared))
		return nil;
	for(g = s->grants; g != nil; g = g->next)
		if(g->idx == (int)i && g->holder == holder)
			return g;
	return nil;
}

void
setmapbit(Area *a, int slot, int on)
{
	ulong *m, bit;

	passert(slot >= 0 && slot < pb->conf.nproc && slot != a->rd.base.slot);	/* a grant is to another proc */
	m = &a->rd.access_map[slot / (8*sizeof(ulong))];
	bit = 1UL << (slot % (8*sizeof(ulong)));
	if(on)
		ATOMSTORE(m, *m | bit);
	else
		ATOMSTORE(m, *m & ~bit);
}

int
testmapbit(Area *a, int slot)
{
	return (ATOMLOAD(&a->rd.access_map[slot / (8*sizeof(ulong))]) >> (slot % (8*sizeof(ulong)))) & 1;
}

/* after a grant from a to h went away: does h still hold any of a's? */
void
fixmapbit(Area *a, Area *h)
{
	Grant *g;
	int any;

	any = 0;
	lock(&h->heldlk);
	for(g = h->held; g != nil; g = g->hnext)
		if(ATOMLOAD(&g->owner) == a)
			any = 1;
	unlock(&h->heldlk);
	setmapbit(a, h->rd.base.slot, any);
}

static void
heldin(Area *h, Grant *g)
{
	g->hprev = nil;
	g->hnext = h->held;
	if(h->held != nil)
		h->held->hprev = g;
	h->held = g;
}

void
heldout(Area *h, Grant *g)
{
	if(g->hprev != nil)
		g->hprev->hnext = g->hnext;
	else
		h->held = g->hnext;
	if(g->hnext != nil)
		g->hnext->hprev = g->hprev;
	g->hnext = g->hprev = nil;
}

/* take g off its allocation's list; the owner's lock is held */
void
dropspangrant(Grant *g)
{
	Grant **l;
	Span *s;
	int any;

	s = g->span;
	any = 0;
	for(l = &s->grants; *l != nil; ){
		if(*l == g)
			*l = g->next;
		else{
			if((*l)->idx == g->idx)
				any = 1;
			l = &(*l)->next;
		}
	}
	if(!any)
		s->rec[g->idx].word &= ~Fshared;
}

/*
 * Remove grant g from its allocation and its holder.  The caller
 * holds the owner a's lock.
 */
void
dropgrant(Area *a, Grant *g)
{
	Area *h;

	h = g->holder;
	dropspangrant(g);
	lock(&h->heldlk);
	heldout(h, g);
	unlock(&h->heldlk);
	fixmapbit(a, h);
	metafree(g, sizeof *g);
}

/* free and exit: every grant on slot i of s goes */
void
revokeall(Area *a, Span *s, uint i)
{
	Grant *g, *n;

	for(g = s->grants; g != nil; g = n){
		n = g->next;
		if(g->idx == (int)i)
			dropgrant(a, g);
	}
}

static int
sameuser(Proc *a, Proc *b)
{
	return strcmp(procuser(a), procuser(b)) == 0;
}

int
pebble_secure_share(Proc *source, Proc *target, void *ptr, int perms)
{
	Area *a, *c, *t;
	Span *s;
	uint i;
	Grant *g, *o;
	Rec *r;

	if(source == nil || target == nil || ptr == nil || source == target || badperm(perms) || pb == nil)
		return PEBBLE_ERR_INVALID;
	if(!pebble_secure_enabled){
		/* a refusal naming a live allocation: DENIED in its log */
		if(lockowner((uintptr)ptr, 1, 0, &a, &s, &i)){
			auditdenied(s, i, source, PEBBLE_ERR_PERM);
			runlock(&a->rd.lock);
		}
		return PEBBLE_ERR_PERM;
	}
again:
	if((c = procarea(source)) == nil || (t = procarea(target)) == nil)
		return PEBBLE_ERR_NOTFOUND;
	g = metaalloc(sizeof *g);	/* before any lock: the host may sleep for it */
	if(!lockowner((uintptr)ptr, 1, 1, &a, &s, &i)){
		metafree(g, sizeof *g);
		return PEBBLE_ERR_NOTFOUND;
	}
	r = &s->rec[i];
	/*
	 * Either proc may have exited, and its slot been given to another,
	 * since we looked.  t's state changes under its heldlk, and its
	 * identity only while it is not Alive: holding heldlk from here
	 * until the grant is on t's list, the grant lands on target or
	 * nowhere.
	 */
	lock(&t->heldlk);
	if(t->state == Aclosing && isproc(t, target)){
		/*
		 * target's exit has begun and will take the lock of every
		 * area it holds grants on: a grant now could miss it.  This
		 * share comes after the exit: wait for it, holding nothing.
		 */
		unlock(&t->heldlk);
		wunlock(&a->rd.lock);
		metafree(g, sizeof *g);
		while(ATOMLOAD(&t->state) == Aclosing && isproc(t, target))
			yield();
		goto again;
	}
	if(!isproc(c, source) || t->state != Alive || !isproc(t, target)){
		unlock(&t->heldlk);
		wunlock(&a->rd.lock);
		metafree(g, sizeof *g);
		return PEBBLE_ERR_NOTFOUND;
	}
	if(a != c || (perms & ~RPERM(r)) != 0 || (!proceve(source) && !sameuser(source, target))){
		unlock(&t->heldlk);
		auditdenied(s, i, source, PEBBLE_ERR_PERM);
		wunlock(&a->rd.lock);
		metafree(g, sizeof *g);
		return PEBBLE_ERR_PERM;
	}
	if((o = findgrant(s, i, t)) != nil){
		unlock(&t->heldlk);
		metafree(g, sizeof *g);
		o->perm = perms;
	}else{
		if(g == nil){
			unlock(&t->heldlk);
			auditdenied(s, i, source, PEBBLE_ERR_NOMEM);
			wunlock(&a->rd.lock);
			return PEBBLE_ERR_NOMEM;
		}
		memset(g, 0, sizeof *g);
		g->owner = a;
		g->holder = t;
		g->span = s;
		g->idx = i;
		g->perm = perms;
		heldin(t, g);
		unlock(&t->heldlk);
		g->next = s->grants;
		s->grants = g;
		r->word |= Fshared;
		setmapbit(a, t->rd.base.slot, 1);
	}
	auditlog(s, i, PEBBLE_AUDIT_SHARE, source, r->size, procpid(target), perms, 0);
	wunlock(&a->rd.lock);
	return PEBBLE_ERR_OK;
}

int
pebble_secure_revoke(Proc *source, Proc *target, void *ptr)
{
	Area *a, *c, *t;
	Span *s;
	uint i;
	Grant *g;

	if(source == nil || target == nil || ptr == nil || source == target || pb == nil)
		return PEBBLE_ERR_INVALID;
	if((c = procarea(source)) == nil || (t = procarea(target)) == nil)
		return PEBBLE_ERR_NOTFOUND;
	if(!lockowner((uintptr)ptr, 1, 1, &a, &s, &i))
		return PEBBLE_ERR_NOTFOUND;
	/*
	 * Either proc may have exited and its slot been taken since we
	 * looked.  Holding a's lock, target cannot finish exiting while
	 * it still holds a grant here, so a grant found below is its.
	 */
	if(!isproc(c, source) || !isproc(t, target)){
		wunlock(&a->rd.lock);
		return PEBBLE_ERR_NOTFOUND;
	}
	if(a != c){
		auditdenied(s, i, source, PEBBLE_ERR_PERM);
		wunlock(&a->rd.lock);
		return PEBBLE_ERR_PERM;
	}
	g = findgrant(s, i, t);
	if(g == nil){
		wunlock(&a->rd.lock);
		return PEBBLE_ERR_NOTFOUND;
	}
	auditlog(s, i, PEBBLE_AUDIT_REVOKE, source, s->rec[i].size, procpid(target), g->perm, 0);
	dropgrant(a, g);
	wunlock(&a->rd.lock);
	return PEBBLE_ERR_OK;
}

/* the permissions caller c has on slot i of s, owned by a (locked) */
int
mayaccess(Area *a, Area *c, Span *s, uint i, int want)
{
	Grant *g;
	int have;

	if(a == c)
		have = RPERM(&s->rec[i]);
	else if(!testmapbit(a, c->rd.base.slot) || (g = findgrant(s, i, c)) == nil)
		have = 0;
	else
		have = g->perm;
	return (want & ~have) == 0;
}

/* check, and with pin set hold the pages in RAM for the access */
static int
checkpin(Proc *p, void *addr, usize len, int perm, int pin)
{
	Area *c, *a;
	Span *s;
	uint i;
	uintptr v, end;
	Rec *r;

	if(p == nil || addr == nil || len == 0 || badperm(perm) || pb == nil)
		return PEBBLE_ERR_INVALID;
	if((c = procarea(p)) == nil)
		return PEBBLE_ERR_NOTFOUND;
	v = (uintptr)addr;
	if(!lockowner(v, 0, 0, &a, &s, &i))
		return PEBBLE_ERR_NOTFOUND;
	if(!isproc(c, p)){
		runlock(&a->rd.lock);
		return PEBBLE_ERR_NOTFOUND;
	}
	r = &s->rec[i];
	end = recaddr(s, i) + r->size;
	/* a stranger learns nothing of the extent: PERM whatever len is */
	if(a != c && (!testmapbit(a, c->rd.base.slot) || findgrant(s, i, c) == nil)){
		auditdenied(s, i, p, PEBBLE_ERR_PERM);
		runlock(&a->rd.lock);
		return PEBBLE_ERR_PERM;
	}
	if(len > end - v){
		runlock(&a->rd.lock);
		return PEBBLE_ERR_NOTFOUND;
	}
	if(!mayaccess(a, c, s, i, perm)){
		auditdenied(s, i, p, PEBBLE_ERR_PERM);
		runlock(&a->rd.lock);
		return PEBBLE_ERR_PERM;
	}
	if(pagetouch(v, len)){
		/* the pages must come back from swap: that changes the area */
		runlock(&a->rd.lock);
		if(lockowner(v, 0, 1, &a, &s, &i)){
			pagein(v, len);
			wunlock(&a->rd.lock);
		}
		return checkpin(p, addr, len, perm, pin);
	}
	if(pin)
		pagepin(v, len);
	runlock(&a->rd.lock);
	return PEBBLE_ERR_OK;
}

int
pebble_secure_check(Proc *p, void *addr, usize len, int perm)
{
	return checkpin(p, addr, len, perm, 0);
}

int
pebble_secure_pin(Proc *p, void *addr, usize len, int perm)
{
	return checkpin(p, addr, len, perm, 1);
}

/*
 * A pin is released by the thread that took it, like a kernel's page
 * reference: unpin asks only that p is attached and that every page of
 * the range holds a pin, so it works after the allocation was freed.
 */
int
pebble_secure_unpin(Proc *p, void *addr, usize len)
{
	if(p == nil || addr == nil || len == 0 || pb == nil)
		return PEBBLE_ERR_INVALID;
	if(procarea(p) == nil)
		return PEBBLE_ERR_NOTFOUND;
	if(!pageunpin((uintptr)addr, len))
		return PEBBLE_ERR_INVALID;
	return PEBBLE_ERR_OK;
}
