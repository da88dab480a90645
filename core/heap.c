/*
 * The secure heap's pages.  The arena is one block from the host;
 * this file hands out runs of whole pages (spans) to the slab layer
 * and to large allocations.
 *
 * Design: a two-level segregated fit over page counts, as in TLSF.
 * Free spans sit in bins: exact counts below 64 pages, four bins per
 * power of two above.  A bitmap finds the first non-empty bin that is
 * certain to fit, so getting and putting pages take bounded time
 * however many spans are live.  Freed spans coalesce with their
 * neighbours, found through the page map.  All bookkeeping (spans,
 * the page map) lives outside the arena.  Free pages are always zero:
 * an area wipes whatever it still holds unwiped before it gives pages
 * back (slab.c), so no proc's bytes ever sit in the free heap, and a
 * proc that exits leaves nothing of its own behind there.
 *
 * heaplk is the only lock here and is taken only when an area needs
 * a new run or gives one back, never on an ordinary alloc or free.
 */
#include "pebble.h"
#include "dat.h"
#include "fns.h"

enum {
	NEXACT	= 64,
	Rowfree	= 1U<<31,	/* rows[]: the span is in a bin */
};

static int
binof(ulong n)
{
	int fl;

	if(n < NEXACT)
		return n;
	fl = 63 - __builtin_clzl(n);
	return NEXACT + (fl-6)*4 + ((n >> (fl-2)) & 3);
}

/* the first bin every span of which holds n pages */
static int
fitbin(ulong n)
{
	int fl;

	if(n < NEXACT)
		return n;
	fl = 63 - __builtin_clzl(n);
	n += (1UL << (fl-2)) - 1;
	return binof(n);
}

/*
 * Span structures come in pages, each page all one area's or all the
 * heap's, and a run (or a large allocation) gets its structure from
 * its own area's pages.  A pair writes its run's structure: two procs
 * whose structures alternated in one page ran at 60 ns a pair each
 * where one alone, or two processes, ran at 36 (tools/threadprobe),
 * though neither wrote the other's lines: the processors' prefetchers
 * fetch lines beside and ahead of the ones used, within the page, and
 * the other processor must take each back before it writes there.
 * With each area's structures in pages of its own, two procs ran as
 * fast as two processes.  A structure let go returns to its page, so
 * an area's pages stay its own and their number is bounded by the
 * most spans it had at once; pages are given back only at shutdown (a
 * reader may still hold a structure it found in the page map, struct
 * Span).  All of it is under heaplk.
 */
enum { SPANCHUNK = PGSIZE/sizeof(Span) };	/* the first place holds the Spanpage */

static Spanpage**
ownlist(Area *a)
{
	return a != nil ? &a->spanpg : &pb->spanpg;
}

/* a page with a structure free goes on its owner's list; newspan takes from the first, and unlists it when it is used up */
static void
listin(Spanpage *p)
{
	Spanpage **h;

	h = ownlist(p->owner);
	p->onext = *h;
	*h = p;
}

/* a new page of structures for a (the heap if nil); 0 if the host has none */
static int
pagenew(Area *a)
{
	Spanpage *p;
	Span *s;
	int i;

	_Static_assert(sizeof(Spanpage) <= sizeof(Span), "a Spanpage heads its page in the first Span's place");
	s = metaalloc(PGSIZE);	/* the host starts a block of whole pages on a page (host.h) */
	if(s == nil)
		return 0;
	p = (Spanpage*)s;
	memset(p, 0, sizeof *p);
	p->owner = a;
	p->next = pb->pages;
	pb->pages = p;
	for(i = SPANCHUNK-1; i >= 1; i--){
		s[i].page = p;
		s[i].next = p->free;
		p->free = &s[i];
	}
	p->nfree = SPANCHUNK-1;
	listin(p);
	return 1;
}

/* a zeroed structure from a's pages (the heap's if a is nil); nil if none can be had */
static Span*
newspan(Area *a)
{
	Spanpage *p;
	Span *s;

	if(*ownlist(a) == nil && !pagenew(a))
		return nil;
	p = *ownlist(a);
	s = p->free;
	p->free = s->next;
	if(--p->nfree == 0){
		*ownlist(a) = p->onext;
		p->onext = nil;
	}
	memset(s, 0, sizeof *s);
	s->page = p;
	return s;
}

static void
oldspan(Span *s)
{
	Spanpage *p;

	p = s->page;
	s->kind = Sfree;
	s->npage = 0;
	s->next = p->free;
	p->free = s;
	if(p->nfree++ == 0)
		listin(p);
}

static void
setmap(Span *s, ulong first, ulong n)
{
	ulong pg, i;

	pg = (s->base - (uintptr)pb->arena) >> PGSHIFT;
	for(i = first; i < first+n; i++)
		ATOMSTORE(&pb->pagemap[pg+i], s);
}

/*
 * What longestrow walks: each span's length and whether it is free,
 * at its first page, in one small table beside the page map, so that
 * the walk's next step never waits on a Span structure.  Kept under
 * heaplk, by whatever changes a span's pages or its bin.
 */
static void
setrow(Span *s)
{
	pb->rows[(s->base - (uintptr)pb->arena) >> PGSHIFT] = s->npage | (s->inbin ? Rowfree : 0);
}

/* free spans need only their end pages mapped, for coalescing */
static void
mapends(Span *s)
{
	setmap(s, 0, 1);
	setmap(s, s->npage-1, 1);
}

/*
 * Whether a free asks for its metadata and its first line before it
 * takes the lock (alloc.c, memop).  Among a few thousand allocations
 * all of it is in the cache and the asking is pure cost, 1.5 ns of a
 * 31 ns pair; among a million it hides a miss (485 -> 400 ns a pair
 * on 3 December).  The arena's pages in use stand for the working
 * set, against a second-level cache of about 2 MiB; the flag turns
 * with hysteresis, so the line that every call reads is seldom
 * written.  The caller holds heaplk, and calls it once a take or a
 * give is done: in between, a free span out of its bin for a moment
 * would count as in use.
 */
static void
coldcheck(void)
{
	ulong used;

	used = pb->npage - pb->freepages;
	if(!pb->cold && used > Coldpages)
		ATOMSTORE(&pb->cold, 1);
	else if(pb->cold && used < Coldpages/2)
		ATOMSTORE(&pb->cold, 0);
}

static void
binput(Span *s)
{
	int b;

	s->kind = Sfree;
	ATOMSTORE(&s->area, (Area*)nil);
	passert(!s->inbin && s->npage > 0);	/* a span is in at most one bin */
	b = binof(s->npage);
	s->inbin = 1;
	s->prev = nil;
	s->next = pb->bin[b];
	if(s->next != nil)
		s->next->prev = s;
	pb->bin[b] = s;
	pb->binmap[b/64] |= 1ULL << (b%64);
	pb->freepages += s->npage;
	mapends(s);
	setrow(s);
}

static void
binremove(Span *s)
{
	int b;

	passert(s->inbin && pb->freepages >= s->npage);
	b = binof(s->npage);
	if(s->prev != nil)
		s->prev->next = s->next;
	else
		pb->bin[b] = s->next;
	if(s->next != nil)
		s->next->prev = s->prev;
	if(pb->bin[b] == nil)
		pb->binmap[b/64] &= ~(1ULL << (b%64));
	s->next = s->prev = nil;
	s->inbin = 0;
	pb->freepages -= s->npage;
}

static int
firstbin(int b)
{
	int w;
	uvlong m;

	for(w = b/64; w < NBIN/64; w++){
		m = pb->binmap[w];
		if(w == b/64)
			m &= ~0ULL << (b%64);
		if(m != 0)
			return w*64 + __builtin_ctzll(m);
	}
	return -1;
}

static Span*
takespan(ulong n)
{
	int b;
	Span *s;

	b = fitbin(n);
	if(b < NBIN && (b = firstbin(b)) >= 0){
		s = pb->bin[b];
		while(s != nil && s->npage < n)	/* only exact bins can hold short spans */
			s = s->next;
		if(s != nil)
			return s;
	}
	/* no bin certain to fit: n's own bin may still hold a span big enough */
	for(s = pb->bin[binof(n)]; s != nil; s = s->next)
		if(s->npage >= n)
			return s;
	return nil;
}

/*
 * A span of n zeroed pages for a, its structure from a's pages (the
 * heap's if a is nil), its page map set, not yet a's; nil if the heap
 * has no such run or no structure can be had, and then nothing
 * changed.  The free span it is cut from keeps its structure for what
 * is left.
 */
Span*
pageget(ulong npage, Area *a)
{
	Span *f, *s;

	if(npage == 0 || npage > pb->npage)
		return nil;
	lock(&pb->heaplk);
	if((f = takespan(npage)) == nil || (s = newspan(a)) == nil){
		unlock(&pb->heaplk);
		return nil;
	}
	binremove(f);
	s->base = f->base;
	s->npage = npage;
	if(f->npage > npage){
		f->base += npage << PGSHIFT;
		f->npage -= npage;
		binput(f);
	}else
		oldspan(f);
	setmap(s, 0, npage);
	setrow(s);
	s->kind = Staken;	/* a neighbour's pageput must not take it back */
	coldcheck();
	unlock(&pb->heaplk);
	return s;
}

/* give pages back, under heaplk; their owner has already wiped and dropped them */
static void
putlocked(Span *s)
{
	Span *n;
	ulong pg;

	s->kind = Sfree;
	s->grants = nil;
	pg = (s->base - (uintptr)pb->arena) >> PGSHIFT;
	if(pg > 0){
		n = ATOMLOAD(&pb->pagemap[pg-1]);
		if(n != nil && n->inbin && n->base + (n->npage<<PGSHIFT) == s->base){
			binremove(n);
			n->npage += s->npage;
			oldspan(s);
			s = n;
		}
	}
	pg = ((s->base - (uintptr)pb->arena) >> PGSHIFT) + s->npage;
	if(pg < pb->npage){
		n = ATOMLOAD(&pb->pagemap[pg]);
		if(n != nil && n->inbin && n->base == s->base + (s->npage<<PGSHIFT)){
			binremove(n);
			s->npage += n->npage;
			oldspan(n);
		}
	}
	binput(s);
	coldcheck();
}

void
pageput(Span *s)
{
	lock(&pb->heaplk);
	putlocked(s);
	unlock(&pb->heaplk);
}

/*
 * A span structure for pagesplit, got before anything changes so that
 * a partial free that cannot have one changes nothing (NOMEM).
 */
Span*
spanget(void)
{
	Span *s;

	lock(&pb->heaplk);
	s = newspan(nil);
	unlock(&pb->heaplk);
	return s;
}

/*
 * The first k pages of s (in use, their bytes already wiped) go back
 * to the heap in f, from spanget; s keeps the rest.  Pages past s's
 * new start still map to s; the front's map to f or to the free span
 * f merged into, and a stale entry inside a free span is never read
 * without checking the span's bounds.
 */
void
pagesplit(Span *s, Span *f, ulong k)
{
	lock(&pb->heaplk);
	f->base = s->base;
	f->npage = k;
	s->base += k << PGSHIFT;
	s->npage -= k;
	setrow(s);
	putlocked(f);
	unlock(&pb->heaplk);
}

/*
 * The longest row of pages that are free or in a run some area keeps
 * empty for reuse (reclaim hands those back on demand).  Spans tile
 * the arena and rows names each at its first page; heaplk keeps the
 * tiling still.  Bounded by the number of spans, and a free span
 * costs one look at rows: the sysstats call and reclaimfits pay it.
 */
static ulong
longestrow(void)
{
	ulong pg, n, row, best;
	uint v;
	Span *s;

	row = best = 0;
	for(pg = 0; pg < pb->npage; pg += n){
		v = pb->rows[pg];
		n = v & ~Rowfree;
		if(n == 0 || n > pb->npage - pg)
			hostpanic("pebble: the spans do not tile the arena");
		if(v & Rowfree){
			row += n;
		}else{
			/* only a span in use is looked at, and the walk runs ahead of the look */
			s = ATOMLOAD(&pb->pagemap[pg]);
			if(s == nil || s->npage != n || s->inbin)
				hostpanic("pebble: the page map does not tile the arena");
			if(ATOMLOAD(&s->empty))
				row += n;
			else
				row = 0;
		}
		if(row > best)
			best = row;
	}
	return best;
}

/* DESIGN.md: the largest single allocation that could succeed now */
usize
largestfree(void)
{
	ulong n;

	lock(&pb->heaplk);
	n = longestrow();
	unlock(&pb->heaplk);
	if((usize)n << PGSHIFT > pb->size)
		n = pb->size >> PGSHIFT;
	return fitsin(n);
}

/*
 * Would taking back every kept empty run give a row of npage pages?
 * Asked before reclaiming, so that a request reclaim cannot satisfy
 * is refused with the heap and the metadata as they were.  A span
 * structure of a's is kept ready for the run pageget will then cut.
 */
int
reclaimfits(ulong npage, Area *a)
{
	Span *s;
	int ok;

	if(!ATOMLOAD(&pb->hasempty))
		return 0;
	lock(&pb->heaplk);
	ok = longestrow() >= npage;
	if(ok && *ownlist(a) == nil){
		if((s = newspan(a)) == nil)
			ok = 0;
		else
			oldspan(s);
	}
	unlock(&pb->heaplk);
	return ok;
}

int
heapinit(usize size)
{
	Span *s;

	pb->size = size;
	pb->npage = size >> PGSHIFT;
	pb->arena = hostarena(size, pb->conf.unlocked, &pb->locked);
	if(pb->arena == nil)
		return -1;
	if(!pb->locked && !pb->conf.unlocked){
		/*
		 * DESIGN.md (Encryption): locked in RAM, or no start unless
		 * the caller chose to run unlocked; the host has said why.
		 * Decided here, not in each host, so that the simulator's
		 * host can be made to refuse and the rule be checked.
		 */
		hostarenafree(pb->arena, size);
		pb->arena = nil;
		return -1;
	}
	pb->pagemap = metazalloc(pb->npage * sizeof(Span*));
	pb->rows = metazalloc(pb->npage * sizeof(uint));
	pb->pagehint = metazalloc(pb->npage * sizeof(uvlong));
	if(pb->pagemap == nil || pb->rows == nil || pb->pagehint == nil)
		return -1;
	s = newspan(nil);
	if(s == nil)
		return -1;
	s->base = (uintptr)pb->arena;
	s->npage = pb->npage;
	binput(s);
	return 0;
}

/*
 * At teardown, wipe what may hold secrets: every span in use.  Free
 * pages are zero already, so a big, little used heap is not written
 * end to end.  Spans tile the arena and the page map names each one
 * at its first page.
 */
static void
wipeheld(void)
{
	ulong pg;
	Span *s;

	if(pb->pagemap == nil || pb->pagemap[0] == nil)
		return;	/* init failed before the heap was laid out: nothing was handed out */
	for(pg = 0; pg < pb->npage; pg += s->npage){
		s = pb->pagemap[pg];
		if(s == nil || s->base != (uintptr)pb->arena + ((uintptr)pg << PGSHIFT) || s->npage == 0)
			hostpanic("pebble: the page map does not tile the arena");
		if(!s->inbin)
			secwipe((void*)s->base, s->npage << PGSHIFT);
	}
}

void
heapfree(void)
{
	Spanpage *p;

	if(pb->arena != nil){
		wipeheld();
		hostarenafree(pb->arena, pb->size);
	}
	if(pb->pagemap != nil)
		metafree(pb->pagemap, pb->npage * sizeof(Span*));
	metafree(pb->rows, pb->npage * sizeof(uint));
	metafree(pb->pagehint, pb->npage * sizeof(uvlong));
	while((p = pb->pages) != nil){
		pb->pages = p->next;
		metafree(p, PGSIZE);
	}
}
