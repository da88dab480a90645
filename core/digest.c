/*
 * A digest of all the state a call may change: switches, every area's
 * budget, settings and access map, every live allocation (place,
 * size, id, permissions, time, owner), every grant, and every byte of
 * the arena that is not known to be zero (arenadigest).  Tests compare digests around a failed call to prove it
 * changed nothing; the simulator prints one to prove two runs alike.
 * Addresses enter as offsets in the arena and procs as slots and
 * pids, so the digest does not depend on where the host put things.
 * The audit log is left out: a refusal may be logged.  Call it only
 * when no other call is running.
 */
#include "pebble.h"
#include "dat.h"
#include "fns.h"

enum {
	Fnvoff	= 0xcbf29ce484222325ULL,
	Fnvprime	= 0x100000001b3ULL,
};

static uvlong
mix(uvlong h, uvlong v)
{
	return (h ^ v) * Fnvprime;
}

static uvlong
mixbytes(uvlong h, uchar *p, usize n)
{
	usize i;
	uvlong w;

	for(i = 0; i + 8 <= n; i += 8){
		memmove(&w, p+i, 8);
		h = mix(h, w);
	}
	for(; i < n; i++)
		h = mix(h, p[i]);
	return h;
}

static uvlong
areadigest(uvlong h, Area *a)
{
	PebbleBudget *b;

	h = mix(h, a->state);
	if(a->state == Aidle)
		return h;
	b = &a->budget;
	h = mix(h, a->rd.base.pid);
	h = mix(mix(mix(h, b->limit), b->used), b->peak);
	h = mix(mix(mix(h, b->wiped), b->deferred), b->nalloc);
	h = mix(mix(mix(h, a->rd.encrypted), a->rd.wipe_on_free), a->audit);
	return mixbytes(h, (uchar*)a->rd.access_map, pb->mapwords*sizeof(ulong));
}

/* grants in any order give the same sum */
static uvlong
grantdigest(Span *s)
{
	Grant *g;
	uvlong sum;

	sum = 0;
	for(g = s->grants; g != nil; g = g->next)
		sum += mix(mix(mix(Fnvoff, g->idx), g->holder->rd.base.slot), g->perm);
	return sum;
}

static uvlong
spandigest(uvlong h, Span *s)
{
	uint i;
	Rec *r;

	/* only live slots: which empty runs an area keeps cached is not state */
	for(i = 0; i < s->nslot; i++){
		r = &s->rec[i];
		if((r->word & Flive) == 0)
			continue;
		h = mix(mix(h, spanarea(s)->rd.base.slot), recaddr(s, i) - (uintptr)pb->arena);
		h = mix(h, r->size);
		h = mix(mix(h, r->word), r->time);
	}
	return s->grants != nil ? mix(h, grantdigest(s)) : h;
}

/*
 * The arena's bytes: every non-zero word with its offset, so that the
 * value is the arena's content whatever the spans over it.  Spans in
 * the free bins are zero (dirty bytes never leave their area unwiped,
 * and every allocation is checked to read zero), so they are skipped: a big, little
 * used heap is not read end to end, nor faulted in page by page.
 */
static uvlong
mixnonzero(uvlong h, uchar *p, usize n)
{
	usize i;
	uvlong w;

	for(i = 0; i + 8 <= n; i += 8){
		memmove(&w, p+i, 8);
		if(w != 0)
			h = mix(mix(h, (uintptr)(p+i) - (uintptr)pb->arena), w);
	}
	return h;
}

static uvlong
arenadigest(uvlong h)
{
	ulong pg;
	Span *s;

	if(pb->pagemap == nil || pb->pagemap[0] == nil)
		return mixnonzero(h, pb->arena, pb->size);
	for(pg = 0; pg < pb->npage; pg += s->npage){
		s = pb->pagemap[pg];
		if(s == nil || s->npage == 0)
			return mixnonzero(h, pb->arena, pb->size);	/* not tiled: take it all */
		if(!s->inbin)
			h = mixnonzero(h, (uchar*)s->base, s->npage << PGSHIFT);
	}
	return h;
}

uvlong
pebble_secure_digest(void)
{
	uvlong h;
	ulong pg;
	int i;
	Span *s;

	if(pb == nil)
		return 0;
	h = Fnvoff;
	h = mix(mix(h, pebble_secure_enabled), pebble_secure_max_budget);
	h = mix(mix(h, pebble_secure_encryption), pebble_secure_auditing);
	for(i = 0; i < pb->conf.nproc; i++)
		h = areadigest(h, slotarea(i));
	for(pg = 0; pg < pb->npage; pg++){
		s = pb->pagemap[pg];
		if(s != nil && s->kind != Sfree && spanarea(s) != nil
		&& s->base == (uintptr)pb->arena + ((uintptr)pg << PGSHIFT))
			h = spandigest(h, s);
	}
	h = mixbytes(h, pb->pager.out, pb->npage);
	return arenadigest(h);
}
