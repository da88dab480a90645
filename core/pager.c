/*
 * The pager.  Under heap pressure a host asks for pages back
 * (pebble_secure_pageout); only pages of areas with encryption on may
 * go, and they go only as ciphertext: ChaCha20 under the area's key
 * (from host entropy at attach, wiped at detach) with a fresh nonce
 * per page-out, so no nonce is used twice under one key.  The page in
 * the arena is wiped once its ciphertext is in swap, and brought back
 * and decrypted in place on the next touch.  Areas with encryption
 * off are pinned: the pager never looks at them.
 *
 * Victims are chosen by a clock hand over the arena, skipping areas
 * whose lock is busy: the pager never waits for a proc.
 *
 * pgout[pg] is set and cleared under the owning area's write lock;
 * readers holding the read lock may test it.
 *
 * Pins: a thread that pebble_secure_pin let in holds a count on each
 * page of its range, taken under the owner's read lock once the pages
 * are in; the pager evicts only under the owner's write lock and
 * passes a pinned page by, so no page is wiped under a pinned access.
 */
#include "pebble.h"
#include "dat.h"
#include "fns.h"

/* bring page pg back; the owner's write lock is held */
static void
pagein1(ulong pg)
{
	Span *s;
	Area *a;
	uchar *p;

	s = ATOMLOAD(&pb->pagemap[pg]);
	a = spanarea(s);
	p = pb->arena + ((uintptr)pg << PGSHIFT);
	if(hostswapin(pg, p, PGSIZE) < 0)
		hostpanic("pebble: swap lost a page");
	chacha20(p, p, PGSIZE, a->key, pb->pager.nonce[pg], 0);
	hostswapdrop(pg);
	ATOMSTORE(&pb->pager.out[pg], 0);
	ATOMADD(&pb->pager.pagedout, -1);
}

static int
pagerange(uintptr v, usize n, ulong *first, ulong *last)
{
	uintptr base;

	base = (uintptr)pb->arena;
	if(n == 0 || v < base || v - base >= pb->size)
		return 0;
	*first = (v - base) >> PGSHIFT;
	*last = (v - base + n - 1) >> PGSHIFT;
	if(*last >= pb->npage)
		*last = pb->npage - 1;
	return 1;
}

void
pagein(uintptr v, usize n)
{
	ulong pg, last;

	if(ATOMLOAD(&pb->pager.pagedout) == 0 || !pagerange(v, n, &pg, &last))
		return;
	for(; pg <= last; pg++)
		if(ATOMLOAD(&pb->pager.out[pg]))
			pagein1(pg);
}

/* does touching [v, v+n) need a page from swap? */
int
pagetouch(uintptr v, usize n)
{
	ulong pg, last;

	if(ATOMLOAD(&pb->pager.pagedout) == 0 || !pagerange(v, n, &pg, &last))
		return 0;
	for(; pg <= last; pg++)
		if(ATOMLOAD(&pb->pager.out[pg]))
			return 1;
	return 0;
}

/* the pages are being given up: their swap copies go unread */
void
pagerdrop(uintptr v, usize n)
{
	ulong pg, last;

	if(ATOMLOAD(&pb->pager.pagedout) == 0 || !pagerange(v, n, &pg, &last))
		return;
	for(; pg <= last; pg++)
		if(ATOMLOAD(&pb->pager.out[pg])){
			hostswapdrop(pg);
			ATOMSTORE(&pb->pager.out[pg], 0);
			ATOMADD(&pb->pager.pagedout, -1);
		}
}

void
pageinall(Area *a)
{
	Span *s;

	for(s = a->spans; s != nil; s = s->anext)
		pagein(s->base, s->npage << PGSHIFT);
}

/* send page pg of a's to swap; a's write lock is held */
static int
pageout1(Area *a, ulong pg)
{
	uchar *p;
	uvlong nonce;

	p = pb->arena + ((uintptr)pg << PGSHIFT);
	nonce = ++a->nonce;
	chacha20(pb->pager.buf, p, PGSIZE, a->key, nonce, 0);
	if(hostswapout(pg, pb->pager.buf, PGSIZE) < 0)
		return 0;
	pb->pager.nonce[pg] = nonce;
	secwipe(p, PGSIZE);
	ATOMSTORE(&pb->pager.out[pg], 1);
	ATOMADD(&pb->pager.pagedout, 1);
	return 1;
}

/* is page pg in use by an area that lets it go? a's lock is held */
static int
evictable(Area *a, Span *s, ulong pg)
{
	uintptr v;

	v = (uintptr)pb->arena + ((uintptr)pg << PGSHIFT);
	return alive(a->state) && a->rd.encrypted && spanarea(s) == a
		&& s->kind != Sfree && v >= s->base && v < s->base + (s->npage << PGSHIFT)
		&& !ATOMLOAD(&pb->pager.out[pg]) && ATOMLOAD(&pb->pager.pin[pg]) == 0;
}

/* pin [v, v+n): the owner's read lock is held and the pages are in */
void
pagepin(uintptr v, usize n)
{
	ulong pg, last;

	if(!pagerange(v, n, &pg, &last))
		return;
	for(; pg <= last; pg++)
		ATOMADD(&pb->pager.pin[pg], 1);
}

/* let [v, v+n) go; 0 if some page of it holds no pin, and then nothing changed */
int
pageunpin(uintptr v, usize n)
{
	ulong pg, first, last;
	uint c;

	if(!pagerange(v, n, &first, &last))
		return 0;
	for(pg = first; pg <= last; pg++){
		c = ATOMLOAD(&pb->pager.pin[pg]);
		do
			if(c == 0){
				while(pg-- > first)	/* put back what was taken */
					ATOMADD(&pb->pager.pin[pg], 1);
				return 0;
			}
		while(!__atomic_compare_exchange_n(&pb->pager.pin[pg], &c, c-1, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
	}
	return 1;
}

int
pebble_secure_pageout(usize npages)
{
	ulong pg, scanned;
	usize n;
	Span *s;
	Area *a;

	if(pb == nil)
		return PEBBLE_ERR_INVALID;
	lock(&pb->pager.lk);
	n = 0;
	for(scanned = 0; scanned < pb->npage && n < npages; scanned++){
		pg = pb->pager.hand;
		pb->pager.hand = (pg + 1) % pb->npage;
		s = ATOMLOAD(&pb->pagemap[pg]);
		if(s == nil || (a = spanarea(s)) == nil || !canwlock(&a->rd.lock))
			continue;
		if(evictable(a, s, pg))
			n += pageout1(a, pg);
		wunlock(&a->rd.lock);
	}
	unlock(&pb->pager.lk);
	return n;
}

/* after heapinit: the page tables (zero until first touched) and the ciphertext buffer */
int
pagerinit(void)
{
	pb->pager.out = metazalloc(pb->npage);
	pb->pager.nonce = metazalloc(pb->npage * sizeof(uvlong));
	pb->pager.buf = metaalloc(PGSIZE);
	pb->pager.pin = metazalloc(pb->npage * sizeof(uint));
	if(pb->pager.out == nil || pb->pager.nonce == nil || pb->pager.buf == nil || pb->pager.pin == nil)
		return -1;
	return 0;
}

/* at teardown: nothing of this instance stays in swap, nothing of the pager in memory */
void
pagerfree(void)
{
	ulong pg;

	if(pb->pager.out != nil)
		for(pg = 0; pg < pb->npage; pg++)
			if(pb->pager.out[pg])
				hostswapdrop(pg);
	metafree(pb->pager.out, pb->npage);
	metafree(pb->pager.nonce, pb->npage * sizeof(uvlong));
	metafree(pb->pager.buf, PGSIZE);
	metafree(pb->pager.pin, pb->npage * sizeof(uint));
	pb->pager.pin = nil;
	pb->pager.out = nil;
	pb->pager.nonce = nil;
	pb->pager.buf = nil;
}
