/*
 * Attaching a secure area when a proc is made (rfork) and taking it
 * apart when the proc exits.
 *
 * Secure memory never crosses fork: a child gets an empty area with
 * its parent's budget and settings, nothing more.  At exit, each of
 * the proc's allocations on which its parent holds a grant passes to
 * the parent if it fits the parent's budget (in increasing id); every
 * other one is wiped and freed, every grant the proc holds is dropped,
 * whatever it freed with auto_wipe off and is still unwiped is wiped
 * now (counted in its total_wiped, and so in the system's), and the
 * area itself is wiped.
 *
 * An exit is one atomic step for every other call (DESIGN.md,
 * Threads): no call sees the proc gone while its memory, its grants or
 * its heir's inheritance are still as they were.  So detach first
 * closes the area (alive to every call, but no new grant may land on
 * it), then write-locks its lock set: the area, its parent's, and every
 * area whose memory it holds grants on.  Only with all of them held
 * does anything change, and the proc is gone for a call only once it
 * can see nothing of the exit half done.  The set is taken with
 * try-locks after a blocking lock of the area itself (holding nothing
 * else); after a few refusals it is taken in slot order, blocking, as
 * every holder of more than one area lock takes them.  Either way no
 * wait can close a cycle.
 */
#include "pebble.h"
#include "dat.h"
#include "fns.h"

void
areainit(Area *a, int slot)
{
	a->rd.access_map = pb->maps + slot*pb->mapwords;
	a->rd.base.slot = slot;
	a->rd.budget_owner = &a->budget;
	a->aslot = &pb->audit.slot[slot];
}

/* state changes under the area's lock and its heldlk: share reads it under heldlk alone */
static void
setstate(Area *a, int st)
{
	lock(&a->heldlk);
	ATOMSTORE(&a->state, st);
	unlock(&a->heldlk);
}

int
pebble_secure_attach(Proc *parent, Proc *child)
{
	Area *a, *pa;
	Area tmpl;
	Proc *pp;
	ulong ppid;
	int slot;

	if(child == nil || child == parent || pb == nil)
		return PEBBLE_ERR_INVALID;
	slot = procslot(child);
	if(slot < 0 || slot >= pb->conf.nproc)
		return PEBBLE_ERR_INVALID;
	if(!pebble_secure_enabled)
		return PEBBLE_ERR_PERM;
	pa = nil;
	if(parent != nil && (pa = procarea(parent)) == nil)
		return PEBBLE_ERR_NOTFOUND;
	if(pa != nil){
		/* the settings only: the rest of pa is not ours to read */
		rlock(&pa->rd.lock);
		if(!mine(pa, parent)){	/* exited since we looked */
			runlock(&pa->rd.lock);
			return PEBBLE_ERR_NOTFOUND;
		}
		tmpl.budget.limit = pa->budget.limit;
		tmpl.rd.encrypted = pa->rd.encrypted;
		tmpl.rd.wipe_on_free = pa->rd.wipe_on_free;
		tmpl.audit = pa->audit;
		tmpl.rd.base.pid = pa->rd.base.pid;
		runlock(&pa->rd.lock);
		pa = &tmpl;
	}
	/*
	 * The parent for inheritance is the host's, by the pid it has now;
	 * if that is the parent just read, by the pid read with its
	 * settings: it may exit, and its Proc be given to another process,
	 * before the child is in its slot.
	 */
	ppid = 0;
	if((pp = procparent(child)) != nil)
		ppid = pp == parent && pa != nil ? pa->rd.base.pid : procpid(pp);
	a = slotarea(slot);
	wlock(&a->rd.lock);
	if(a->state != Aidle){
		wunlock(&a->rd.lock);
		return PEBBLE_ERR_BUSY;
	}
	ATOMSTORE(&a->rd.base.proc, child);
	ATOMSTORE(&a->rd.base.pid, procpid(child));
	a->ppid = ppid;
	confdefaults(a, pa);
	hostrand(a->key, sizeof a->key);
	setstate(a, Alive);
	wunlock(&a->rd.lock);
	return PEBBLE_ERR_OK;
}

/* every grant a holds on o's memory goes; the caller holds o's lock */
static void
dropheld(Area *a, Area *o, Proc *p)
{
	Grant *g, *n, *mine;

	mine = nil;
	lock(&a->heldlk);
	for(g = a->held; g != nil; g = n){
		n = g->hnext;
		if(ATOMLOAD(&g->owner) == o){
			heldout(a, g);
			g->hnext = mine;
			mine = g;
		}
	}
	unlock(&a->heldlk);
	for(g = mine; g != nil; g = n){
		n = g->hnext;
		auditlog(g->span, g->idx, PEBBLE_AUDIT_REVOKE, p, g->span->rec[g->idx].size, procpid(p), g->perm, 0);
		g->hnext = nil;
		g->holder = nil;
		dropspangrant(g);
		metafree(g, sizeof *g);
	}
	setmapbit(o, a->rd.base.slot, 0);
}

/* drop every grant a holds; its owners are in a's lock set */
static void
dropallheld(Area *a, Proc *p)
{
	Grant *g;
	Area *o;

	for(;;){
		lock(&a->heldlk);
		g = a->held;
		o = g != nil ? ATOMLOAD(&g->owner) : nil;
		unlock(&a->heldlk);
		if(g == nil)
			return;
		passert(ATOMLOAD(&o->locker) == a);
		dropheld(a, o, p);
	}
}

/* a's allocation with the smallest id above last on which pa holds a grant */
static Grant*
nextheir(Area *a, Area *pa, uvlong last)
{
	Span *s;
	Grant *g, *best;
	uvlong id, bid;

	best = nil;
	bid = 0;
	for(s = a->spans; s != nil; s = s->anext)
		for(g = s->grants; g != nil; g = g->next){
			if(g->holder != pa)
				continue;
			id = RID(&s->rec[g->idx]);
			if(id > last && (best == nil || id < bid)){
				best = g;
				bid = id;
			}
		}
	return best;
}

static void
inherit(Area *a, Area *pa, Proc *p)
{
	Grant *g;
	Rec *r;
	uvlong last;

	for(last = 0; (g = nextheir(a, pa, last)) != nil; ){
		r = &g->span->rec[g->idx];
		last = RID(r);
		if(r->size > pa->budget.limit - pa->budget.used)
			continue;
		auditlog(g->span, g->idx, PEBBLE_AUDIT_INHERIT, p, r->size, pa->rd.base.pid, 0, 0);
		r->word |= Finherit;
		uncharge(a, r->size);
		a->budget.nalloc--;
		charge(pa, r->size);
		pa->budget.nalloc++;
		lock(&pa->heldlk);
		heldout(pa, g);
		unlock(&pa->heldlk);
		dropspangrant(g);
		metafree(g, sizeof *g);
	}
}

/*
 * The slots of s in use, from freemap word w: only their records are
 * looked at, so an exit costs what the proc holds, not what its runs
 * could hold.  A large span's one slot is always in use.
 */
static uvlong
takenslots(Span *s, uint w, uint nslot)
{
	uvlong m;

	if(s->kind == Slarge)
		return 1;
	m = ~s->freemap[w];
	if(w == (nslot-1)/64 && nslot%64 != 0)
		m &= (1ULL << nslot%64) - 1;
	return m;
}

/* wipe and free what does not pass to the parent */
static void
freeall(Area *a, Proc *p)
{
	Span *s, *n;
	uvlong m;
	uint i, w, nslot;

	/*
	 * Freeing a run's last slot may give the run back to the heap,
	 * where another proc may take it and rewrite it at once: nslot and
	 * each freemap word are read before, and nothing of s after it is
	 * gone.
	 */
	for(s = a->spans; s != nil; s = n){
		n = s->anext;
		nslot = s->nslot;
		for(w = 0; w < (nslot+63)/64; w++)
			for(m = takenslots(s, w, nslot); m != 0; m &= m-1){
				i = w*64 + __builtin_ctzll(m);
				if((s->rec[i].word & (Flive|Finherit)) != Flive)
					continue;
				dofree(a, s, i, 1);
				if(spanarea(s) != a)
					goto next;
			}
	next:;
	}
}

/* what is left holds inherited allocations: it moves to the parent */
static void
handover(Area *a, Area *pa)
{
	Span *s;
	Grant *g;
	uint i;

	emptyruns(a);
	while((s = a->spans) != nil){
		pagein(s->base, s->npage << PGSHIFT);
		unareaspan(a, s);
		if(s->inpartial)
			partialout(a, s);
		for(i = 0; i < s->nslot; i++)
			if(s->rec[i].word & Flive){
				s->rec[i].word &= ~Finherit;
				a->slotbytes -= slotsize(s);
				pa->slotbytes += slotsize(s);
			}
		for(g = s->grants; g != nil; g = g->next){
			ATOMSTORE(&g->owner, pa);
			setmapbit(pa, g->holder->rd.base.slot, 1);
		}
		areaspan(pa, s);
		if(s->kind == Srun && s->nfree > 0)
			partialin(pa, s);
	}
}

static void
wipearea(Area *a)
{
	int i;

	if(a->spans != nil)
		hostpanic("pebble: an exiting area still holds runs");
	secwipe(a->key, sizeof a->key);
	memset(&a->budget, 0, sizeof a->budget);
	memset(a->runs, 0, sizeof a->runs);
	/* budgetstr stays: a caller may still hold it, and it holds no secret */
	for(i = 0; i < pb->mapwords; i++)
		ATOMSTORE(&a->rd.access_map[i], 0UL);	/* an exit's orderlock reads it without the lock */
	/* rd.base.proc and pid: cleared by detach before it let the lock set go */
	a->rd.encrypted = a->rd.wipe_on_free = 0;
	a->rd.total_size = a->rd.used_size = 0;
	a->audit = 0;
	a->spans = nil;
	a->slotbytes = 0;
	ATOMSTORE(&a->hasempty, 0);	/* reclaim reads it without the lock */
	a->nonce = 0;
	a->ppid = 0;
	a->idnext = a->idlim = 0;
}

enum {
	Ntry	= 8,	/* try-lock rounds before the lock set is taken in slot order */
};

/*
 * The lock set: o is in a's once a holds o's write lock for its exit;
 * the areas are listed from a->lockset through locknext, each link
 * written by the thread holding that area's lock.
 */
static int
setlock(Area *a, Area *o, int block)
{
	if(o == nil || ATOMLOAD(&o->locker) == a)
		return 1;
	if(block)
		wlock(&o->rd.lock);
	else if(!canwlock(&o->rd.lock))
		return 0;
	ATOMSTORE(&o->locker, a);
	o->locknext = a->lockset;
	a->lockset = o;
	return 1;
}

/* let the set go, but for a itself if keep */
static void
unlockset(Area *a, int keep)
{
	Area *o, *n;

	o = a->lockset;
	a->lockset = nil;
	for(; o != nil; o = n){
		n = o->locknext;
		o->locknext = nil;
		if(o == a && keep){
			a->lockset = a;
			continue;
		}
		ATOMSTORE(&o->locker, (Area*)nil);
		wunlock(&o->rd.lock);
	}
}

/*
 * Lock, without waiting, every area whose memory a holds grants on.
 * Once a is closed its held grants only go, or change owner under the
 * old owner's lock: a set found whole stays whole.  But an owner read
 * before its lock is taken may have handed the grant on (its exit) in
 * between: the owner is read again under the lock until it holds still.
 */
static int
setwhole(Area *a)
{
	Grant *g;
	Area *o;
	int ok;

	ok = 1;
	lock(&a->heldlk);
	for(g = a->held; g != nil && ok; g = g->hnext)
		do{
			o = ATOMLOAD(&g->owner);
			ok = setlock(a, o, 0);
		}while(ok && ATOMLOAD(&g->owner) != o);
	unlock(&a->heldlk);
	return ok;
}

/* slot order, blocking: a, pa and every area with a bit for a's slot in its access map */
static void
orderlock(Area *a, Area *pa)
{
	int j, me;
	Area *o;

	me = a->rd.base.slot;
	for(j = 0; j < pb->conf.nproc; j++){
		o = slotarea(j);
		if(o == a || o == pa || testmapbit(o, me))
			setlock(a, o, 1);
	}
}

static void
lockset(Area *a, Area *pa)
{
	int n;

	for(n = 0;; n++){
		if(n < Ntry){
			setlock(a, a, 1);	/* holding nothing else: it may wait */
			if(setlock(a, pa, 0) && setwhole(a))
				return;
		}else{
			orderlock(a, pa);
			if(setwhole(a))
				return;
		}
		unlockset(a, 0);
		yield();
	}
}

/*
 * The area of p's host parent, to lock with p's own; whether it is
 * the heir is decided under its lock (pebble_secure_detach).
 */
static Area*
heirarea(Proc *p, Proc **ppp)
{
	Proc *pp;

	pp = procnowait(p) ? nil : procparent(p);
	*ppp = pp;
	return pp != nil ? procarea(pp) : nil;
}

int
pebble_secure_detach(Proc *p)
{
	Area *a, *pa, *heir;
	Proc *pp;

	if(p == nil || pb == nil)
		return PEBBLE_ERR_INVALID;
	if((a = procarea(p)) == nil)
		return PEBBLE_ERR_NOTFOUND;
	wlock(&a->rd.lock);
	if(!mine(a, p)){
		wunlock(&a->rd.lock);
		return PEBBLE_ERR_NOTFOUND;
	}
	if(a->state == Aclosing){
		/* another thread is detaching p: this call comes after it */
		wunlock(&a->rd.lock);
		while(ATOMLOAD(&a->state) == Aclosing && isproc(a, p))
			yield();
		return PEBBLE_ERR_NOTFOUND;
	}
	setstate(a, Aclosing);
	wunlock(&a->rd.lock);

	pa = heirarea(p, &pp);
	rlock(&pb->exitlk);	/* holding nothing: the system statistics see no exit half done */
	lockset(a, pa);
	/*
	 * The step every other call sees whole.  The area stays closed
	 * (alive to a look-up without a lock) until all of it is done,
	 * memory back in the heap included: a call that finds p gone
	 * must find what p held free.
	 *
	 * The heir is the process p had as parent when attached, as Plan
	 * 9's pexit checks parentpid: a parent that exited inherits
	 * nothing, nor does the process its Proc structure was given to
	 * since, in the parent's slot or any other, before this exit or
	 * while it took its locks.
	 */
	heir = pa != nil && pa != a && mine(pa, pp) && pa->rd.base.pid == a->ppid ? pa : nil;
	dropallheld(a, p);
	if(heir != nil)
		inherit(a, heir, p);
	freeall(a, p);
	settle(a);
	ATOMADD(&pb->exitwiped, a->budget.wiped);
	ATOMADD(&pb->exitdeferred, a->budget.deferred);
	if(heir != nil)
		handover(a, heir);
	emptyruns(a);
	setstate(a, Adying);
	/* gone for every call before any lock of the set is let go, even to one that checks only who holds the slot */
	ATOMSTORE(&a->rd.base.proc, (Proc*)nil);
	ATOMSTORE(&a->rd.base.pid, 0UL);
	unlockset(a, 1);
	wipearea(a);
	setstate(a, Aidle);
	unlockset(a, 0);
	runlock(&pb->exitlk);
	return PEBBLE_ERR_OK;
}
