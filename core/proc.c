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
 * Detach takes locks child first, then parent; nothing takes them the
 * other way round, and a parent's own exit holds only its own lock
 * while it waits for its parent's, so the chain cannot close.
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

int
pebble_secure_attach(Proc *parent, Proc *child)
{
	Area *a, *pa;
	Area tmpl;
	Proc *pp;
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
		runlock(&pa->rd.lock);
		pa = &tmpl;
	}
	a = &pb->areas[slot];
	wlock(&a->rd.lock);
	if(a->state != Aidle){
		wunlock(&a->rd.lock);
		return PEBBLE_ERR_BUSY;
	}
	ATOMSTORE(&a->rd.base.proc, child);
	ATOMSTORE(&a->rd.base.pid, procpid(child));
	a->ppid = (pp = procparent(child)) != nil ? procpid(pp) : 0;
	confdefaults(a, pa);
	hostrand(a->key, sizeof a->key);
	lock(&a->heldlk);
	ATOMSTORE(&a->state, Alive);
	unlock(&a->heldlk);
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

/* drop every grant a holds; a is dying, so it gets no new ones */
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
		wlock(&o->rd.lock);
		dropheld(a, o, p);
		wunlock(&o->rd.lock);
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
				dofree(a, s, i, p, PEBBLE_AUDIT_EXIT, 1);
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
	if(a->spans != nil)
		hostpanic("pebble: an exiting area still holds runs");
	secwipe(a->key, sizeof a->key);
	memset(&a->budget, 0, sizeof a->budget);
	memset(a->runs, 0, sizeof a->runs);
	/* budgetstr stays: a caller may still hold it, and it holds no secret */
	memset(a->rd.access_map, 0, pb->mapwords*sizeof(ulong));
	ATOMSTORE(&a->rd.base.proc, (Proc*)nil);
	ATOMSTORE(&a->rd.base.pid, 0UL);
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

int
pebble_secure_detach(Proc *p)
{
	Area *a, *pa;
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
	lock(&a->heldlk);
	ATOMSTORE(&a->state, Adying);
	unlock(&a->heldlk);
	wunlock(&a->rd.lock);

	dropallheld(a, p);

	wlock(&a->rd.lock);
	pa = nil;
	/*
	 * The parent is the process p had when attached, as Plan 9's pexit
	 * checks parentpid: a Proc structure the host has since given to
	 * another process, in the parent's slot or any other, inherits
	 * nothing.
	 */
	pp = procnowait(p) ? nil : procparent(p);
	if(pp != nil && procpid(pp) != a->ppid)
		pp = nil;
	if(pp != nil && (pa = procarea(pp)) != nil){
		wlock(&pa->rd.lock);
		if(!mine(pa, pp)){	/* the parent exited: its slot's new proc inherits nothing */
			wunlock(&pa->rd.lock);
			pa = nil;
		}
	}
	if(pa != nil)
		inherit(a, pa, p);
	freeall(a, p);
	settle(a);
	ATOMADD(&pb->exitwiped, a->budget.wiped);
	ATOMADD(&pb->exitdeferred, a->budget.deferred);
	if(pa != nil){
		handover(a, pa);
		wunlock(&pa->rd.lock);
	}
	emptyruns(a);
	wipearea(a);
	lock(&a->heldlk);
	ATOMSTORE(&a->state, Aidle);
	unlock(&a->heldlk);
	wunlock(&a->rd.lock);
	return PEBBLE_ERR_OK;
}
