/*
 * What the heap gets back, and when (DESIGN.md, Free, Info and
 * Process lifecycle): a partial free gives back every whole page of
 * the freed front at once; largest_free is the largest allocation that
 * could succeed now; a refused alloc leaves every system statistic as
 * it was; an exiting proc leaves no plaintext of its own anywhere.
 */
#include "fix.h"
#include "dat.h"

static PebbleSysStats
sys(void)
{
	PebbleSysStats s;

	OK(pebble_secure_sysstats(&s));
	return s;
}

/* no byte of the arena outside [lo, hi) is non-zero */
static usize
dirtyoutside(uintptr lo, uintptr hi)
{
	uchar *p;
	usize i, n;

	n = 0;
	p = pb->arena;
	for(i = 0; i < pb->size; i++)
		if(p[i] != 0 && ((uintptr)&p[i] < lo || (uintptr)&p[i] >= hi))
			n++;
	return n;
}

/* the reproduction: 4 MiB heap, a frees all but a page of its 4 MiB, b can allocate */
static void
partialgivesback(void)
{
	Proc *a, *b;
	void *p, *q;
	PebbleSysStats s0, s1;
	SecureAllocation in;

	setup(4<<20, 1<<20);
	a = attached(0, "glenda", nil);
	b = attached(1, "glenda", nil);
	OK(pebble_secure_budget_set(a, 4<<20));
	OK(pebble_secure_alloc_simple(a, 4<<20, &p));
	fill((char*)p + (4<<20) - 4096, 4096, 7);
	EQ(sys().free_bytes, 0);
	OK(pebble_secure_free_size(a, p, (4<<20) - 4096));
	EQ(stats(a).used_budget, 4096);
	EQ(sys().free_bytes, (4<<20) - 4096);
	EQ(sys().largest_free, (4<<20) - 4096);
	OK(pebble_secure_alloc(b, 16, &q, PEBBLE_READ|PEBBLE_WRITE));
	CHECK(iszero(q, 16));
	q = (char*)p + (4<<20) - 4096;
	OK(pebble_secure_info(a, q, &in));
	EQ(in.size, 4096);
	CHECK(isfill(q, 4096, 7));
	/* the freed front is another's now, or nobody's */
	FAILS(pebble_secure_info(a, (char*)p + 8192, &in), PEBBLE_ERR_NOTFOUND);
	FAILS(pebble_secure_check(a, (char*)p + 8192, 1, PEBBLE_READ), PEBBLE_ERR_NOTFOUND);
	CHECK(iszero((char*)p + 8192, 4096));
	OK(pebble_secure_free(a, q));
	teardown();

	/* a 32-page allocation frees its first 16 pages */
	setup(4<<20, 1<<20);
	a = attached(0, "glenda", nil);
	OK(pebble_secure_alloc_simple(a, 32*4096, &p));
	s0 = sys();
	OK(pebble_secure_free_size(a, p, 16*4096));
	s1 = sys();
	EQ(s1.free_bytes - s0.free_bytes, 16*4096);
	EQ(s1.in_use, 16*4096);
	EQ(s1.rounding, 0);
	teardown();
}

/* a page-sized class: the sub-page rest of the front stays, as rounding, until a page completes */
static void
partialpages(void)
{
	Proc *a;
	char *p;
	PebbleSysStats s0, s1;
	int wipe;

	for(wipe = 0; wipe < 2; wipe++){
		setup(1<<20, 1<<20);
		a = attached(0, "glenda", nil);
		OK(pebble_set_secure_conf(a, "pebble.secure.auto_wipe", wipe ? "1" : "0"));
		OK(pebble_secure_alloc_simple(a, 20000, (void**)&p));
		CHECK(((uintptr)p & 4095) == 0);
		fill(p + 16488, 20000 - 16488, 3);
		memset(p, 0xEE, 16488);
		s0 = sys();
		OK(pebble_secure_free_size(a, p, 12288));
		s1 = sys();
		EQ(s1.free_bytes - s0.free_bytes, 12288);
		CHECK(iszero(p, 12288));	/* back in the heap: wiped, whatever auto_wipe says */
		s0 = s1;
		OK(pebble_secure_free_size(a, p + 12288, 4000));
		s1 = sys();
		EQ(s1.free_bytes, s0.free_bytes);	/* under a page: it stays */
		EQ(s1.rounding - s0.rounding, 4000);
		OK(pebble_secure_free_size(a, p + 16288, 200));
		s0 = s1;
		s1 = sys();
		EQ(s1.free_bytes - s0.free_bytes, 4096);
		EQ(stats(a).used_budget, 20000 - 12288 - 4200);
		if(wipe)
			EQ(dirtyoutside((uintptr)p + 16488, (uintptr)p + 20000), 0);
		else
			CHECK(iszero(p, 16384));
		CHECK(isfill(p + 16488, 20000 - 16488, 3));
		OK(pebble_secure_free(a, p + 16488));
		EQ(sys().free_bytes, 1<<20);
		if(!wipe)
			EQ(stats(a).total_deferred, 20000);
		teardown();
	}
}

/* a partial free that cannot have the span it needs is NOMEM and changes nothing */
static void
partialnomem(void)
{
	Proc *a;
	void *p;
	int i, r, nomem, ok;

	setup(8<<20, 8<<20);
	a = attached(0, "glenda", nil);
	nomem = ok = 0;
	for(i = 0; i < 600 && nomem == 0; i++){
		OK(pebble_secure_alloc_simple(a, 3*4096, &p));
		detfailmalloc(1);
		r = pebble_secure_free_size(a, p, 4096 + 10);
		detfailmalloc(0);
		if(r == PEBBLE_ERR_OK){
			ok++;
			continue;
		}
		EQ(r, PEBBLE_ERR_NOMEM);
		nomem++;
		detfailmalloc(1);
		FAILS(pebble_secure_free_size(a, p, 4096 + 10), PEBBLE_ERR_NOMEM);
		detfailmalloc(0);
		OK(pebble_secure_free_size(a, p, 4096 + 10));
	}
	EQ(nomem, 1);
	CHECK(ok > 0);
	teardown();
}

/* largest_free: an allocation of exactly that much by a fresh proc succeeds, one byte more does not */
static void
largest(void)
{
	Proc *a, *b, *c;
	void *p, *q[64];
	usize lf;
	uvlong x;
	int i, k;

	setup(4<<20, 4<<20);
	a = attached(0, "glenda", nil);
	b = attached(1, "glenda", nil);
	OK(pebble_secure_alloc_simple(a, 5000, &p));
	OK(pebble_secure_free(a, p));	/* a keeps the empty run: still free */
	EQ(sys().largest_free, 4<<20);
	OK(pebble_secure_alloc_simple(b, 4<<20, &p));	/* takes a's empty run back, under a's lock */
	FAILS(pebble_secure_alloc_simple(a, 5000, &q[0]), PEBBLE_ERR_NOMEM);	/* the lock let go, the run gone */
	OK(pebble_secure_free(b, p));
	OK(pebble_secure_alloc_simple(a, 5000, &q[0]));
	OK(pebble_secure_free(a, q[0]));
	teardown();

	x = 7;
	for(k = 0; k < 40; k++){
		setup(1<<20, 1<<20);
		a = attached(0, "glenda", nil);
		for(i = 0; i < (int)nelem(q); i++){
			x = x*6364136223846793005ULL + 1442695040888963407ULL;
			if(pebble_secure_alloc_simple(a, 1 + (x >> 33) % ((x >> 62) ? 5000 : 70000), &q[i]) != PEBBLE_ERR_OK)
				q[i] = nil;
		}
		for(i = 0; i < (int)nelem(q); i++)
			if(q[i] != nil && (x >> (i % 60)) & 1)
				OK(pebble_secure_free(a, q[i]));
		lf = sys().largest_free;
		CHECK(lf <= sys().free_bytes);
		c = attached(1, "glenda", nil);
		pebble_secure_max_budget = 2<<20;
		OK(pebble_secure_budget_set(c, 2<<20));
		FAILS(pebble_secure_alloc_simple(c, lf + 1, &p), PEBBLE_ERR_NOMEM);
		if(lf > 0){
			OK(pebble_secure_alloc_simple(c, lf, &p));
			OK(pebble_secure_free(c, p));
		}
		teardown();
	}
}

/* a refused alloc, whichever metadata allocation fails, changes no system statistic */
static void
refusedalloc(void)
{
	static usize sizes[] = { 16, 5000, 100000 };
	Proc *a;
	void *p;
	PebbleSysStats s0, s1;
	uvlong d;
	int i, k, audit, r;

	for(audit = 0; audit < 2; audit++)
	for(k = 0; k < (int)nelem(sizes); k++){
		setup(4<<20, 4<<20);
		a = attached(0, "glenda", nil);
		OK(pebble_set_secure_conf(a, "pebble.secure.audit", audit ? "1" : "0"));
		for(i = 1; ; i++){
			d = pebble_secure_digest();
			s0 = sys();
			detfailmalloc(i);
			r = pebble_secure_alloc_simple(a, sizes[k], &p);
			if(r == PEBBLE_ERR_OK)
				break;
			EQ(r, PEBBLE_ERR_NOMEM);
			s1 = sys();
			EQ(pebble_secure_digest(), d);
			CHECK(memcmp(&s0, &s1, sizeof s0) == 0);
			EQ(s1.metadata, s0.metadata);
			EQ(s1.largest_free, s0.largest_free);
		}
		detfailmalloc(0);
		CHECK(i > 1);
		teardown();
	}
}

/* the case 6: a dirty slot is not touched by an alloc that then fails on its audit index */
static void
dirtyslotrefused(void)
{
	Proc *a;
	void *p, *q;

	setup(1<<20, 1<<20);
	a = attached(0, "glenda", nil);
	OK(pebble_set_secure_conf(a, "pebble.secure.audit", "0"));
	OK(pebble_set_secure_conf(a, "pebble.secure.auto_wipe", "0"));
	OK(pebble_secure_alloc_simple(a, 100, &p));
	fill(p, 100, 9);
	OK(pebble_secure_alloc_simple(a, 100, &q));	/* keeps the run from going back */
	OK(pebble_secure_free(a, p));
	OK(pebble_set_secure_conf(a, "pebble.secure.audit", "1"));
	detfailmalloc(1);
	FAILS(pebble_secure_alloc_simple(a, 100, &p), PEBBLE_ERR_NOMEM);
	detfailmalloc(0);
	OK(pebble_secure_alloc_simple(a, 100, &p));
	CHECK(iszero(p, 100));
	teardown();
}

/* exit: nothing a proc freed unwiped is left in plaintext, and those wipes are counted */
static void
exitwipes(void)
{
	Proc *a, *c;
	char *p, *q, *r;
	PebbleSysStats s0, s1;

	detcheckarena(1);
	setup(1<<20, 1<<20);
	a = attached(0, "glenda", nil);
	OK(pebble_set_secure_conf(a, "pebble.secure.auto_wipe", "0"));
	OK(pebble_secure_alloc_simple(a, 20000, (void**)&p));
	memset(p, 0xEE, 20000);
	OK(pebble_secure_free(a, p));
	OK(pebble_secure_alloc_simple(a, 300, (void**)&q));
	memset(q, 0xEE, 300);
	OK(pebble_secure_alloc_simple(a, 200, (void**)&r));
	OK(pebble_secure_free(a, q));
	OK(pebble_secure_alloc_simple(a, 100000, (void**)&q));
	memset(q, 0xEE, 100000);
	OK(pebble_secure_free(a, q));
	OK(pebble_secure_alloc_simple(a, 9000, (void**)&q));
	memset(q, 0xEE, 9000);
	OK(pebble_secure_free_size(a, q, 3000));	/* the front stays, unwiped */
	s0 = sys();
	EQ(stats(a).total_deferred, 20000 + 300 + 100000 + 3000);
	OK(pebble_secure_detach(a));
	s1 = sys();
	EQ(dirtyoutside(0, 0), 0);
	EQ(s1.wiped - s0.wiped, 200 + 6000 + 20000 + 300 + 100000 + 3000);
	EQ(s1.deferred, s0.deferred);
	teardown();
	EQ(detarenaleft(), 0);

	/* the front of an allocation that passes to the parent is wiped too */
	setup(1<<20, 1<<20);
	a = attached(0, "glenda", nil);
	c = attached(1, "glenda", a);
	OK(pebble_set_secure_conf(c, "pebble.secure.auto_wipe", "0"));
	OK(pebble_secure_alloc_simple(c, 9000, (void**)&q));
	memset(q, 0xEE, 9000);
	OK(pebble_secure_share(c, a, q, PEBBLE_READ));
	OK(pebble_secure_free_size(c, q, 3000));
	OK(pebble_secure_detach(c));
	EQ(stats(a).used_budget, 6000);
	EQ(dirtyoutside((uintptr)q + 3000, (uintptr)q + 9000), 0);
	CHECK(iszero(q, 3000));
	OK(pebble_secure_free(a, q + 3000));
	teardown();
	detcheckarena(0);
}

/*
 * New pages that need a span structure from a new page of the area's
 * structures, when none can be had: NOMEM, nothing changed, and the
 * heap usable at once (the heap's lock let go on that path too).
 */
static void
pagenomem(void)
{
	Proc *a;
	void *p;
	int i, r, nomem;

	setup(8<<20, 8<<20);
	a = attached(0, "glenda", nil);
	OK(pebble_set_secure_conf(a, "pebble.secure.audit", "0"));	/* no audit block: the record, then the pages */
	nomem = 0;
	for(i = 0; i < 200; i++){
		detfailmalloc(2);	/* the record is the first; a new page of span structures the second */
		r = pebble_secure_alloc_simple(a, 3*4096, &p);
		detfailmalloc(0);
		if(r == PEBBLE_ERR_OK)
			continue;	/* kept: every one takes a span structure */
		EQ(r, PEBBLE_ERR_NOMEM);
		nomem++;
		detfailmalloc(2);
		FAILS(pebble_secure_alloc_simple(a, 3*4096, &p), PEBBLE_ERR_NOMEM);
		detfailmalloc(0);
		OK(pebble_secure_alloc_simple(a, 3*4096, &p));
		OK(pebble_secure_free(a, p));
	}
	/* the first alloc needs the area's first page of structures; later ones only every page's worth */
	CHECK(nomem >= 2 && nomem <= 200/20);
	teardown();
}

void
testrelease(void)
{
	partialgivesback();
	partialpages();
	partialnomem();
	pagenomem();
	largest();
	refusedalloc();
	dirtyslotrefused();
	exitwipes();
}
