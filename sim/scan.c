/*
 * The full scans (every sim.scanevery events and at the end): every
 * live allocation in the heap, apart, every byte as written; the
 * system statistics; no plaintext of a live allocation in swap or,
 * on a deep scan, in a crash dump of the core's memory.
 *
 * The plaintext fingerprint is 16 bytes that were all written (the
 * write pattern never makes a zero byte): a hash of the first 8 finds
 * candidates, the next 8 confirm them.  A chance match is 2^-128 per
 * place, where the 8-byte fingerprint of old coincided with small
 * numbers in the core's own bookkeeping when only some of its bytes
 * had been written.
 */
#include "sim.h"
#include "rules.h"

/* swap page pg holds ciphertext: no 16-byte window of it may equal what a live allocation holds there */
static void
swappage(Ev *e, uvlong pg, uchar *buf, usize n)
{
	uintptr base, v;
	SAlloc *a;
	uchar *w;

	base = sim.arena + (pg << 12);
	a = treefloor(base);
	if(a == nil || a->ptr + a->size <= base)
		a = treeceil(base);
	for(; a != nil && a->ptr < base + n && !sim.fail; a = treeceil(a->ptr + 1)){
		/* an area with encryption off is pinned: none of its pages leaves RAM */
		sim.inv[Ipinned]++;
		if(!a->owner->enc){
			violation(e, "swap page %llu holds #%llu of pid %lu, whose encryption is off", pg, a->h, a->owner->pid);
			return;
		}
		if(a->chunk == nil)
			continue;
		v = a->ptr > base ? a->ptr : base;
		for(; v + 16 <= base + n && v + 16 <= a->ptr + a->size; v += 16)
			if((w = shadowword(a, v - a->ptr)) != nil && memcmp(w, buf + (v - base), 16) == 0){
				violation(e, "swap page %llu holds plaintext of the live #%llu", pg, a->h);
				return;
			}
	}
}

void
checkswap(Ev *e)
{
	int i, n;
	uvlong key;
	uchar *buf;
	usize len;

	n = detswapcount();
	sim.inv[Iswap]++;
	for(i = 0; i < n && !sim.fail; i++)
		if(detswapread(i, &key, &buf, &len) == 0)
			swappage(e, key, buf, len);
}

typedef struct Fp Fp;
struct Fp {
	uvlong	*k;		/* the first 8 bytes */
	uvlong	*k2;		/* the next 8 */
	SAlloc	**who;
	usize	cap;
	uvlong	bloom[1024];
	Ev	*e;
};

static void
fpadd(Fp *f, uchar *b, SAlloc *a)
{
	uvlong w, w2;
	usize i;

	memmove(&w, b, 8);
	memmove(&w2, b+8, 8);
	f->bloom[(w >> 6) & 1023] |= 1ULL << (w & 63);
	for(i = mix64(w) & (f->cap-1); f->k[i] != 0 && f->k[i] != w; i = (i+1) & (f->cap-1))
		;
	f->k[i] = w;
	f->k2[i] = w2;
	f->who[i] = a;
}

static SAlloc*
fpfind(Fp *f, uchar *b)
{
	uvlong w, w2;
	usize i;

	memmove(&w, b, 8);
	if(!(f->bloom[(w >> 6) & 1023] & (1ULL << (w & 63))))
		return nil;
	memmove(&w2, b+8, 8);
	for(i = mix64(w) & (f->cap-1); f->k[i] != 0; i = (i+1) & (f->cap-1))
		if(f->k[i] == w && f->k2[i] == w2)
			return f->who[i];
	return nil;
}

static void
fpcount(SAlloc *a, void *arg)
{
	if(a->chunk != nil)
		*(usize*)arg += a->size/64 + 1;
}

/* a fingerprint every 64 bytes of each live allocation's written bytes */
static void
fpfill(SAlloc *a, void *arg)
{
	usize off;
	uchar *w;

	if(a->chunk == nil)
		return;
	for(off = 0; off + 16 <= a->size; off += 64)
		if((w = shadowword(a, off)) != nil)
			fpadd(arg, w, a);
}

static void
dumpblock(void *buf, usize n, void *arg)
{
	Fp *f;
	uchar *p;
	usize k, run;
	SAlloc *a;

	f = arg;
	p = buf;
	/* a fingerprint is 16 non-zero bytes: only the starts of such rows are looked up */
	run = 0;
	for(k = 0; k < n && !sim.fail; k++){
		if(k % 8 == 0 && k + 8 <= n && iszero(p+k, 8)){
			run = 0;
			k += 7;
			continue;
		}
		if(p[k] == 0){
			run = 0;
			continue;
		}
		if(++run >= 16 && (a = fpfind(f, p+k-15)) != nil)
			violation(f->e, "a crash dump holds plaintext of the live #%llu (a block of %lu bytes, at %lu)", a->h, (ulong)n, (ulong)(k-15));
	}
}

static void
checkdump(Ev *e)
{
	Fp f;
	usize n;

	n = 0;
	treewalk(fpcount, &n);
	if(n == 0)
		return;		/* nothing written is live: nothing to find */
	memset(&f, 0, sizeof f);
	for(f.cap = 1024; f.cap < 2*n; f.cap *= 2)
		;
	f.k = emalloc(f.cap * sizeof f.k[0]);
	f.k2 = emalloc(f.cap * sizeof f.k2[0]);
	f.who = emalloc(f.cap * sizeof f.who[0]);
	f.e = e;
	treewalk(fpfill, &f);
	sim.inv[Idump]++;
	detdump(dumpblock, &f);
	/* the fingerprints are secret bytes too */
	burn(f.k, f.cap * sizeof f.k[0]);
	burn(f.k2, f.cap * sizeof f.k2[0]);
	free(f.k);
	free(f.k2);
	free(f.who);
}

typedef struct Walk Walk;
struct Walk {
	Ev	*e;
	SAlloc	*prev;
	usize	n;
	usize	bytes;
};

/* one live allocation: in the heap, apart from the one before, its bytes as written */
static void
checkalloc(SAlloc *a, void *arg)
{
	Walk *w;

	w = arg;
	if(sim.fail)
		return;
	w->n++;
	w->bytes += a->size;
	sim.inv[Iplace]++;
	if(a->ptr < sim.arena || a->ptr + a->size > sim.arena + sim.arenasize)
		violation(w->e, "#%llu lies outside the secure heap", a->h);
	else if(w->prev != nil && w->prev->ptr + w->prev->size > a->ptr)
		violation(w->e, "#%llu and #%llu overlap", w->prev->h, a->h);
	w->prev = a;
	if(sim.fail)
		return;
	ownerpagein(w->e, a, a->ptr, a->size);
	sim.inv[Ibytes]++;
	if(!sim.fail && shadowcmp(a, 0, (uchar*)a->ptr, a->size) != 0)
		violation(w->e, "the bytes of #%llu differ from what was written", a->h);
}

static void
checksys(Ev *e, Walk *w)
{
	PebbleSysStats st;
	usize attached, wiped, deferred;
	uvlong dropped;
	long nalloc;
	int i;
	SProc *p;

	attached = 0;
	wiped = sim.exitwiped;		/* totals since init, exited procs included */
	deferred = sim.exitdeferred;
	nalloc = 0;
	for(i = 0; i < sim.procs.n; i++){
		p = sim.procs.v[i];
		if(p->attached){
			attached++;
			wiped += p->wiped;
			deferred += p->deferred;
			nalloc += p->nalloc;
		}
		if(checkproc(p, e) < 0)
			return;
	}
	if(pebble_secure_sysstats(&st) != PEBBLE_ERR_OK){
		violation(e, "sysstats failed");
		return;
	}
	/*
	 * DESIGN: a bounded ring, entries dropped when it wraps counted.  It
	 * keeps at least the ring size set at init (docs/decisions.md: a
	 * large ring may keep more), so at most the excess is dropped.
	 */
	dropped = sim.audithead > (uvlong)sim.conf.audit ? sim.audithead - sim.conf.audit : 0;
	if(st.audit_dropped <= dropped)
		dropped = st.audit_dropped;
	sim.inv[Isys]++;
	if(st.attached != attached || st.in_use != sim.inuse || st.live_allocations != w->n
	|| (long)w->n != nalloc || st.in_use != w->bytes || st.wiped != wiped || st.deferred != deferred
	|| st.audit_logged != sim.audithead || st.audit_dropped != dropped || st.paged_out != (usize)detswapcount()
	|| st.heap_size != sim.arenasize || st.free_bytes > st.heap_size - st.in_use
	|| st.rounding != st.heap_size - st.free_bytes - st.in_use)
		violation(e, "system statistics: attached %lu in use %lu live %lu wiped %lu deferred %lu audit %llu dropped %llu paged %lu; "
			"the shadow has %lu %lu %lu %lu %lu %llu %llu %d",
			(ulong)st.attached, (ulong)st.in_use, (ulong)st.live_allocations, (ulong)st.wiped,
			(ulong)st.deferred, st.audit_logged, st.audit_dropped, (ulong)st.paged_out,
			(ulong)attached, (ulong)sim.inuse, (ulong)w->n, (ulong)wiped, (ulong)deferred,
			sim.audithead, dropped, detswapcount());
	/* DESIGN: the largest allocation that could succeed now; with nothing live, the whole heap */
	sim.inv[Ilargest]++;
	if(!sim.fail && (st.largest_free > st.free_bytes || (w->n == 0 && st.largest_free != st.heap_size)))
		violation(e, "largest_free %lu with %lu bytes free and %lu live allocations (heap %lu)",
			(ulong)st.largest_free, (ulong)st.free_bytes, (ulong)w->n, (ulong)st.heap_size);
}

/* the whole state; deep adds the crash dump scan */
void
checkfull(int deep)
{
	Walk w;

	sim.fullscans++;
	checkswap(nil);
	if(deep && !sim.fail)
		checkdump(nil);
	memset(&w, 0, sizeof w);
	if(!sim.fail)
		treewalk(checkalloc, &w);
	if(!sim.fail)
		checksys(nil, &w);
	/* the digest hashes the whole arena: every 4th scan proves a failed call changed nothing */
	sim.sandwichnext = sim.fullscans % 4 == 1;
}
