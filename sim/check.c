/*
 * The checker's scans: one proc's statistics against the shadow
 * (after every event that touches it), and the full scan (every
 * sim.scanevery events and at the end): allocations in the heap and
 * apart, every byte of every live allocation as written, the system
 * statistics, and no plaintext of a live allocation in swap or, on a
 * deep scan, in a crash dump of the core's memory.
 */
#include "sim.h"

static Proc*
procof(SProc *p)
{
	return &sim.tab[p->slot];
}

/* a proc's budget and figures, as the core reports them */
int
checkproc(SProc *p, Ev *e)
{
	PebbleSecureStats st;
	int r;

	if(!p->alive)
		return 0;
	r = pebble_secure_stats(procof(p), &st);
	if(!p->attached){
		if(r != PEBBLE_ERR_NOTFOUND)
			violation(e, "stats of unattached pid %lu returned %d", p->pid, r);
		return 0;
	}
	if(r != PEBBLE_ERR_OK){
		violation(e, "stats of pid %lu returned %s", p->pid, r < 0 && r > -7 ? resname[-r] : "?");
		return -1;
	}
	if(st.total_budget != p->limit || st.used_budget != p->used || st.num_allocations != (usize)p->nalloc
	|| st.peak_usage != p->peak || st.total_wiped != p->wiped || st.total_deferred != p->deferred){
		violation(e, "stats of pid %lu: budget %lu used %lu allocs %lu peak %lu wiped %lu deferred %lu; "
			"the model has %lu %lu %ld %lu %lu %lu", p->pid,
			(ulong)st.total_budget, (ulong)st.used_budget, (ulong)st.num_allocations,
			(ulong)st.peak_usage, (ulong)st.total_wiped, (ulong)st.total_deferred,
			(ulong)p->limit, (ulong)p->used, p->nalloc, (ulong)p->peak, (ulong)p->wiped, (ulong)p->deferred);
		return -1;
	}
	if(pebble_secure_budget_get(procof(p)) != p->limit){
		violation(e, "budget_get of pid %lu differs from its stats", p->pid);
		return -1;
	}
	return 0;
}

/*
 * Swap page pg holds ciphertext: no run of 16 bytes may equal what a
 * live allocation holds at the same place (written bytes are never
 * zero, so a run of them is a fingerprint).
 */
static void
swappage(Ev *e, uvlong pg, uchar *buf, usize n)
{
	uintptr base, v;
	SAlloc *a;
	usize i, run;
	uchar *sh;

	base = sim.arena + (pg << 12);
	a = treefloor(base);
	if(a == nil || a->ptr + a->size <= base)
		a = treeceil(base);
	for(; a != nil && a->ptr < base + n; a = treeceil(a->ptr + 1)){
		if(a->sh == nil)
			continue;
		run = 0;
		for(i = 0; i < n; i++){
			v = base + i;
			if(v < a->ptr || v >= a->ptr + a->size){
				run = 0;
				continue;
			}
			sh = a->sh + (v - a->ptr);
			run = *sh != 0 && *sh == buf[i] ? run + 1 : 0;
			if(run >= 16){
				violation(e, "swap page %llu holds plaintext of the live #%llu", pg, a->h);
				return;
			}
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
	for(i = 0; i < n && !sim.fail; i++)
		if(detswapread(i, &key, &buf, &len) == 0)
			swappage(e, key, buf, len);
}

/* fingerprints of live secret bytes: every 32nd word of each allocation's writes */
typedef struct Fp Fp;
struct Fp {
	uvlong	*k;
	usize	cap;
	uvlong	bloom[1024];
	SAlloc	**who;
	Ev	*e;
};

static void
fpadd(Fp *f, uvlong w, SAlloc *a)
{
	usize i;

	f->bloom[(w >> 6) & 1023] |= 1ULL << (w & 63);
	for(i = mix64(w) & (f->cap-1); f->k[i] != 0 && f->k[i] != w; i = (i+1) & (f->cap-1))
		;
	f->k[i] = w;
	f->who[i] = a;
}

static SAlloc*
fpfind(Fp *f, uvlong w)
{
	usize i;

	if(!(f->bloom[(w >> 6) & 1023] & (1ULL << (w & 63))))
		return nil;
	for(i = mix64(w) & (f->cap-1); f->k[i] != 0; i = (i+1) & (f->cap-1))
		if(f->k[i] == w)
			return f->who[i];
	return nil;
}

static void
fpcount(SAlloc *a, void *arg)
{
	if(a->sh != nil)
		*(usize*)arg += a->size/32 + 1;
}

static void
fpfill(SAlloc *a, void *arg)
{
	usize off;
	uvlong w;

	if(a->sh == nil)
		return;
	for(off = 0; off + 8 <= a->size; off += 32){
		memmove(&w, a->sh + off, 8);
		if((w & 0xff) != 0 && (w >> 56) != 0 && w != 0)
			fpadd(arg, w, a);
	}
}

static void
dumpblock(void *buf, usize n, void *arg)
{
	Fp *f;
	uchar *p;
	usize i;
	uvlong w;
	SAlloc *a;

	f = arg;
	p = buf;
	for(i = 0; i + 8 <= n && !sim.fail; i++){
		memmove(&w, p+i, 8);
		if((a = fpfind(f, w)) != nil)
			violation(f->e, "a crash dump holds plaintext of the live #%llu (a block of %lu bytes, at %lu)", a->h, (ulong)n, (ulong)i);
	}
}

static void
checkdump(Ev *e)
{
	Fp f;
	usize n;

	n = 0;
	treewalk(fpcount, &n);
	memset(&f, 0, sizeof f);
	for(f.cap = 1024; f.cap < 2*n; f.cap *= 2)
		;
	f.k = emalloc(f.cap * sizeof f.k[0]);
	f.who = emalloc(f.cap * sizeof f.who[0]);
	f.e = e;
	treewalk(fpfill, &f);
	detdump(dumpblock, &f);
	/* the fingerprints are secret bytes too: a later core block must not inherit them */
	memset(f.k, 0, f.cap * sizeof f.k[0]);
	__asm__ __volatile__("" : : "r"(f.k) : "memory");
	free(f.k);
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
	int r;

	w = arg;
	if(sim.fail)
		return;
	w->n++;
	w->bytes += a->size;
	if(a->ptr < sim.arena || a->ptr + a->size > sim.arena + sim.arenasize)
		violation(w->e, "#%llu lies outside the secure heap", a->h);
	else if(w->prev != nil && w->prev->ptr + w->prev->size > a->ptr)
		violation(w->e, "#%llu and #%llu overlap", w->prev->h, a->h);
	w->prev = a;
	if(sim.fail)
		return;
	if(peekpagedout() > 0){
		r = pebble_secure_check(procof(a->owner), (void*)a->ptr, a->size, a->prot & -a->prot);
		if(r != PEBBLE_ERR_OK){
			violation(w->e, "the owner's access check on #%llu returned %d", a->h, r);
			return;
		}
	}
	if(a->sh == nil ? !iszero((uchar*)a->ptr, a->size) : memcmp((void*)a->ptr, a->sh, a->size) != 0)
		violation(w->e, "the bytes of #%llu differ from what was written", a->h);
}

static void
checksys(Ev *e, Walk *w)
{
	PebbleSysStats st;
	usize attached, wiped, deferred;
	long nalloc;
	int i;
	SProc *p;

	attached = 0;
	wiped = sim.exitwiped;
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
	if(st.attached != attached || st.in_use != sim.inuse || st.live_allocations != w->n
	|| (long)w->n != nalloc || st.in_use != w->bytes || st.wiped != wiped || st.deferred != deferred
	|| st.audit_logged != sim.audithead || st.paged_out != (usize)detswapcount()
	|| st.heap_size != sim.arenasize || st.free_bytes > st.heap_size - st.in_use)
		violation(e, "system statistics: attached %lu in use %lu live %lu wiped %lu deferred %lu audit %llu paged %lu; "
			"the model has %lu %lu %lu %lu %lu %llu %d",
			(ulong)st.attached, (ulong)st.in_use, (ulong)st.live_allocations, (ulong)st.wiped,
			(ulong)st.deferred, st.audit_logged, (ulong)st.paged_out,
			(ulong)attached, (ulong)sim.inuse, (ulong)w->n, (ulong)wiped, (ulong)deferred,
			sim.audithead, detswapcount());
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
	w.e = nil;
	if(!sim.fail)
		treewalk(checkalloc, &w);
	if(!sim.fail)
		checksys(nil, &w);
	/* the digest hashes the whole arena: every 4th scan proves a failed call changed nothing */
	sim.sandwichnext = sim.fullscans % 4 == 1;
}
