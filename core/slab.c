/*
 * Slots within an area's runs.  Each area owns its runs outright, the
 * way a Plan 9 process owns its segments: allocating and freeing touch
 * only the area (under its lock) and its runs, so two procs never
 * contend unless the heap must find pages.  An area keeps one empty
 * run per class to absorb alloc/free churn; the rest go back to the
 * heap at once, and those kept go back when the heap runs short.
 *
 * Free slots are zero unless marked dirty (freed with auto_wipe off);
 * a dirty slot is zeroed when it is handed out again, or wiped when
 * its run leaves the area, whichever comes first: dirty bytes never
 * leave the area that owned them.
 */
#include "pebble.h"
#include "dat.h"
#include "fns.h"

void
areaspan(Area *a, Span *s)
{
	s->aprev = nil;
	s->anext = a->spans;
	if(a->spans != nil)
		a->spans->aprev = s;
	a->spans = s;
	setspanarea(s, a);
}

void
unareaspan(Area *a, Span *s)
{
	if(s->aprev != nil)
		s->aprev->anext = s->anext;
	else
		a->spans = s->anext;
	if(s->anext != nil)
		s->anext->aprev = s->aprev;
	s->anext = s->aprev = nil;
}

void
partialin(Area *a, Span *s)
{
	Span **h;

	h = &a->runs[s->class];
	s->prev = nil;
	s->next = *h;
	if(*h != nil)
		(*h)->prev = s;
	*h = s;
	s->inpartial = 1;
}

void
partialout(Area *a, Span *s)
{
	if(s->prev != nil)
		s->prev->next = s->next;
	else
		a->runs[s->class] = s->next;
	if(s->next != nil)
		s->next->prev = s->prev;
	s->next = s->prev = nil;
	s->inpartial = 0;
}

/*
 * The heap may be short because areas keep empty runs: take them back,
 * but only when that will do, so that a refused request leaves every
 * cached run and the metadata as they were.
 */
static Span*
getpages(Area *a, ulong npage)
{
	Span *s;

	s = pageget(npage, a);
	if(s == nil && reclaimfits(npage, a)){
		reclaim(a);
		s = pageget(npage, a);
	}
	return s;
}

/*
 * Among a million live allocations a free's metadata is far from the
 * cache, and findrec reaches it one load after another: page map,
 * span, record, each waiting on the last.  pagehint lets a free ask
 * for the record (and the span) at once, beside the bytes it will
 * wipe: for each page of a run, the run's records, its class and the
 * page's place in the run, in one word, so the record's address is
 * known from the page alone.  It is only a hint: nothing reads it
 * but a prefetch (fns.h, prefetchmeta), so a stale one (the run
 * gone, the page reused by a large span) costs a wasted fetch and
 * never a wrong answer, and it needs no lock.  The record pointer
 * keeps its low 48 bits, sign-extended back (user or kernel half).
 */
static void
sethint(Span *s, int c)
{
	ulong pg, i;
	uvlong h;

	if(s->npage > Hintpages)
		return;
	pg = (s->base - (uintptr)pb->arena) >> PGSHIFT;
	h = (uvlong)(uintptr)s->rec & Hintrec;
	for(i = 0; i < s->npage; i++)
		ATOMSTORE(&pb->pagehint[pg+i], h | (uvlong)(c+1) << Hintclass | (uvlong)i << Hintpage);
}

static Span*
newrun(Area *a, int c, int audit)
{
	Class *k;
	Span *s;
	usize msize;
	uchar *m;
	uvlong *al;
	int i;

	k = &classes[c];
	msize = k->nslot*sizeof(Rec) + (k->nslot+63)/64*sizeof(uvlong);
	m = metaalloc(msize);
	if(m == nil)
		return nil;
	al = nil;	/* the audit index, had with the rest so that nothing fails later */
	if(audit && (al = metazalloc(k->nslot*sizeof(uvlong))) == nil){
		metafree(m, msize);
		return nil;
	}
	s = getpages(a, k->npage);
	if(s == nil){
		metafree(al, k->nslot*sizeof(uvlong));
		metafree(m, msize);
		return nil;
	}
	memset(m, 0, msize);
	s->kind = Srun;
	s->class = c;
	s->size = k->size;
	s->magic = k->magic;
	s->rec = (Rec*)m;
	s->freemap = (uvlong*)(m + k->nslot*sizeof(Rec));
	s->alast = al;
	s->metasize = msize;
	s->nslot = k->nslot;
	s->nfree = k->nslot;
	s->hint = 0;
	for(i = 0; i < k->nslot; i++)
		s->freemap[i/64] |= 1ULL << (i%64);
	sethint(s, c);
	areaspan(a, s);
	partialin(a, s);
	return s;
}

static Span*
newlarge(Area *a, usize n, int audit)
{
	Span *s;
	Rec *r;
	uvlong *al;

	r = metaalloc(sizeof(Rec));
	if(r == nil)
		return nil;
	al = nil;
	if(audit && (al = metazalloc(sizeof(uvlong))) == nil){
		metafree(r, sizeof(Rec));
		return nil;
	}
	s = getpages(a, (n + PGSIZE-1) >> PGSHIFT);
	if(s == nil){
		metafree(al, sizeof(uvlong));
		metafree(r, sizeof(Rec));
		return nil;
	}
	memset(r, 0, sizeof *r);
	s->kind = Slarge;
	s->class = -1;
	s->size = s->npage << PGSHIFT;
	s->magic = 0;
	s->rec = r;
	s->alast = al;
	s->metasize = sizeof(Rec);
	s->nslot = 1;
	s->nfree = 0;
	areaspan(a, s);
	return s;
}

static uint
takeslot(Area *a, Span *s)
{
	int w, nw;
	uint i;

	nw = (s->nslot+63)/64;
	for(w = s->hint; s->freemap[w] == 0; )
		if(++w == nw)
			w = 0;
	s->hint = w;
	i = w*64 + __builtin_ctzll(s->freemap[w]);
	s->freemap[w] &= ~(1ULL << (i%64));
	s->nfree--;
	if(s->empty)
		ATOMSTORE(&s->empty, 0);
	return i;
}

/*
 * A zeroed slot for n bytes in a's runs, or nil (NOMEM).  Everything
 * that can fail (records, the audit index, pages) is had before the
 * slot is taken or a dirty one zeroed: a refused alloc changes
 * nothing.  The caller holds a's lock and fills in the record.
 */
Rec*
slotalloc(Area *a, usize n, int audit, Span **sp, uint *ip)
{
	Span *s;
	Rec *r;
	uint i;
	int c;

	c = sizeclass(n);
	if(c < 0){
		s = newlarge(a, n, audit);
		if(s == nil)
			return nil;
		i = 0;
	}else{
		s = a->runs[c];
		if(s != nil){
			if(audit && auditindex(s) < 0)
				return nil;
		}else if((s = newrun(a, c, audit)) == nil)
			return nil;
		i = takeslot(a, s);
		if(s->nfree == 0)
			partialout(a, s);
	}
	r = &s->rec[i];
	if(r->word & Fdirty){
		pagein(slotaddr(s, i), slotsize(s));
		zero((void*)slotaddr(s, i), slotsize(s));
	}
	r->word = 0;
	a->slotbytes += slotsize(s);
	*sp = s;
	*ip = i;
	return r;
}

/*
 * A partial free left k whole pages at the front of s's one slot:
 * they go back to the heap in f (DESIGN.md, Free).  Bytes there that
 * were released unwiped are wiped first: nothing of a proc's reaches
 * the free heap.  What is left of the front is under a page.
 */
void
givefront(Area *a, Span *s, Span *f, ulong k)
{
	Rec *r;
	usize len;

	r = &s->rec[0];
	len = k << PGSHIFT;
	pagerdrop(s->base, len);
	if(r->word & Fdirty)
		secwipe((void*)s->base, len);
	r->head -= len;
	if(r->head == 0)
		r->word &= ~Fdirty;
	a->slotbytes -= len;
	if(s->kind == Srun){
		/* no longer its class's shape: it goes back whole when freed */
		s->kind = Slarge;
		s->class = -1;
		s->magic = 0;
	}
	pagesplit(s, f, k);
	s->size = s->npage << PGSHIFT;
}

/* wipe what slot i of s still holds unwiped: all of a free one, the released front of a live one */
static void
settleslot(Span *s, uint i)
{
	Rec *r;

	r = &s->rec[i];
	if(!(r->word & Fdirty))
		return;
	pagein(slotaddr(s, i), slotsize(s));
	secwipe((void*)slotaddr(s, i), r->word & Flive ? r->head : slotsize(s));
	r->word &= ~Fdirty;
}

/*
 * At exit: no byte that held a's data stays in plaintext (DESIGN.md,
 * Process lifecycle), even in runs passing to the parent, and every
 * byte whose wipe was deferred is counted wiped.
 */
void
settle(Area *a)
{
	Span *s;
	uint i;

	if(a->budget.deferred == 0)
		return;
	for(s = a->spans; s != nil; s = s->anext)
		for(i = 0; i < s->nslot; i++)
			settleslot(s, i);
	a->budget.wiped += a->budget.deferred;
}

/* give a span back to the heap; what it still holds unwiped is wiped first */
void
spanrelease(Area *a, Span *s)
{
	uint i;

	if(s->inpartial)
		partialout(a, s);
	unareaspan(a, s);
	pagerdrop(s->base, s->npage << PGSHIFT);
	for(i = 0; i < s->nslot; i++)
		settleslot(s, i);
	if(s->empty)
		ATOMSTORE(&s->empty, 0);
	metafree(s->rec, s->metasize);
	metafree(s->alast, s->nslot * sizeof(uvlong));
	s->alast = nil;
	s->rec = nil;
	s->freemap = nil;
	setspanarea(s, nil);
	pageput(s);
}

/*
 * Flags, not counts, say where empty runs may be kept, so that reclaim
 * looks only there: a flag already set is only read, so the alloc and
 * free paths of different procs never write a shared cache line.
 */
static void
keptempty(Area *a)
{
	if(!ATOMLOAD(&a->hasempty))
		ATOMSTORE(&a->hasempty, 1);
	if(!ATOMLOAD(&pb->hasempty))
		ATOMSTORE(&pb->hasempty, 1);
}

/* slot i of s is no longer an allocation; the caller has wiped or marked it */
void
slotfree(Area *a, Span *s, uint i)
{
	Span *o;

	a->slotbytes -= slotsize(s);
	s->rec[i].word &= Fdirty;
	if(s->kind == Slarge){
		spanrelease(a, s);
		return;
	}
	s->freemap[i/64] |= 1ULL << (i%64);
	s->hint = i/64;	/* the next allocation here takes a slot still in the cache */
	s->nfree++;
	if(s->nfree == 1)
		partialin(a, s);
	if(s->nfree == s->nslot){
		/* keep one empty run of a class, release the others */
		o = s->next != nil ? s->next : s->prev;
		if(o != nil)
			spanrelease(a, s);
		else{
			ATOMSTORE(&s->empty, 1);
			keptempty(a);
		}
	}
}

/* release a's empty runs; the caller holds a's lock */
void
emptyruns(Area *a)
{
	int c;
	Span *s, *n;

	if(!ATOMLOAD(&a->hasempty))
		return;
	for(c = 0; c < NCLASS; c++)
		for(s = a->runs[c]; s != nil; s = n){
			n = s->next;
			if(s->nfree == s->nslot)
				spanrelease(a, s);
		}
	ATOMSTORE(&a->hasempty, 0);
}

/* heap exhaustion: take back every empty run no one is busy with */
void
reclaim(Area *self)
{
	int i;
	Area *a;

	emptyruns(self);
	if(!ATOMLOAD(&pb->hasempty))
		return;
	ATOMSTORE(&pb->hasempty, 0);
	for(i = 0; i < pb->conf.nproc; i++){
		a = slotarea(i);
		if(a == self || !ATOMLOAD(&a->hasempty) || !alive(ATOMLOAD(&a->state)))
			continue;
		if(canwlock(&a->rd.lock)){
			if(alive(a->state))
				emptyruns(a);
			wunlock(&a->rd.lock);
		}else
			keptempty(a);	/* busy: look again next time */
	}
}
