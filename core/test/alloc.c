/* allocation, free, partial free, wipe: DESIGN.md "Allocation", "Free", "Wipe" */
#include "fix.h"

void
testalloc(void)
{
	Proc *a, *stranger;
	void *p, *q;
	SecureAllocation info;
	PebbleSecureStats s;
	int i;

	setup(1<<20, 4096);
	a = attached(0, "glenda", nil);
	stranger = mkproc(1, "glenda", nil, 0);

	FAILS(pebble_secure_alloc(nil, 16, &p, PEBBLE_READ), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_alloc(a, 16, nil, PEBBLE_READ), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_alloc(a, 0, &p, PEBBLE_READ), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_alloc(a, 16, &p, 0), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_alloc(a, 16, &p, 8), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_alloc(a, 16, &p, PEBBLE_READ|16), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_alloc_simple(a, 0, &p), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_alloc_simple(nil, 1, &p), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_alloc(stranger, 16, &p, PEBBLE_READ), PEBBLE_ERR_NOTFOUND);
	FAILS(pebble_secure_alloc_simple(stranger, 16, &p), PEBBLE_ERR_NOTFOUND);

	/* the budget is charged exactly what was asked: 4096 fits, 4097 does not */
	FAILS(pebble_secure_alloc(a, 4097, &p, PEBBLE_READ), PEBBLE_ERR_BUDGET);
	FAILS(pebble_secure_alloc(a, (usize)-1, &p, PEBBLE_READ), PEBBLE_ERR_BUDGET);
	OK(pebble_secure_alloc(a, 4000, &p, PEBBLE_READ|PEBBLE_WRITE));
	EQ(stats(a).used_budget, 4000);
	OK(pebble_secure_alloc(a, 96, &q, PEBBLE_READ));
	EQ(stats(a).used_budget, 4096);
	FAILS(pebble_secure_alloc(a, 1, &p, PEBBLE_READ), PEBBLE_ERR_BUDGET);
	FAILS(pebble_secure_alloc_simple(a, 1, &p), PEBBLE_ERR_BUDGET);
	s = stats(a);
	EQ(s.num_allocations, 2);
	EQ(s.peak_usage, 4096);
	EQ(s.total_budget, 4096);
	OK(pebble_secure_info(a, q, &info));
	EQ(info.size, 96);
	EQ(info.permissions, PEBBLE_READ);
	EQ(info.protection, PEBBLE_READ);
	OK(pebble_secure_free(a, q));
	OK(pebble_secure_free(a, p));
	EQ(stats(a).peak_usage, 4096);
	EQ(stats(a).used_budget, 0);

	/* the peak follows usage up by a single byte, and never down */
	OK(pebble_secure_budget_set(a, 8192));
	OK(pebble_secure_alloc_simple(a, 4097, &p));
	EQ(stats(a).peak_usage, 4097);
	OK(pebble_secure_alloc_simple(a, 1, &q));
	EQ(stats(a).peak_usage, 4098);
	OK(pebble_secure_free(a, q));
	OK(pebble_secure_free(a, p));
	EQ(stats(a).peak_usage, 4098);
	OK(pebble_secure_budget_set(a, 4096));

	/* alloc_simple is READ|WRITE; every size in range works and reads zero */
	OK(pebble_secure_budget_set(a, 1<<20));
	for(i = 1; i <= 70000; i = i < 64 ? i+1 : i*3/2){
		OK(pebble_secure_alloc_simple(a, i, &p));
		CHECK(iszero(p, i));
		OK(pebble_secure_info(a, p, &info));
		EQ(info.permissions, PEBBLE_READ|PEBBLE_WRITE);
		EQ(info.size, i);
		fill(p, i, i);
		OK(pebble_secure_free(a, p));
	}
	/* heap exhaustion is NOMEM, not BUDGET, and changes nothing */
	FAILS(pebble_secure_alloc(a, (1<<20) + 1, &p, PEBBLE_READ), PEBBLE_ERR_BUDGET);
	OK(pebble_secure_alloc(a, 1<<20, &p, PEBBLE_READ|PEBBLE_WRITE));
	OK(pebble_secure_budget_set(a, 2<<20 > pebble_secure_max_budget ? pebble_secure_max_budget : 2<<20));
	OK(pebble_secure_free(a, p));
	OK(pebble_secure_alloc(a, (1<<19) + 1, &p, PEBBLE_READ));
	OK(pebble_secure_alloc_simple(a, 5000, &q));	/* leaves an empty run cached, */
	OK(pebble_secure_free(a, q));	/* which the refusal below takes back: not state */
	FAILS(pebble_secure_alloc(a, 127*4096 + 1, &q, PEBBLE_READ), PEBBLE_ERR_NOMEM);
	OK(pebble_secure_free(a, p));
	/* a metadata allocation that fails in the host is NOMEM and changes nothing */
	detfailmalloc(1);
	FAILS(pebble_secure_alloc(a, 100000, &p, PEBBLE_READ), PEBBLE_ERR_NOMEM);
	OK(pebble_secure_alloc(a, 100000, &p, PEBBLE_READ));
	OK(pebble_secure_free(a, p));
	teardown();
}

void
testfree(void)
{
	Proc *a, *b, *stranger;
	uchar *p, *q;
	SecureAllocation info;
	PebbleSecureStats s;

	setup(1<<20, 1<<16);
	a = attached(0, "glenda", nil);
	b = attached(1, "glenda", nil);
	stranger = mkproc(2, "glenda", nil, 0);
	OK(pebble_secure_alloc_simple(a, 100, (void**)&p));
	fill(p, 100, 7);

	FAILS(pebble_secure_free(nil, p), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_free(a, nil), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_free(stranger, p), PEBBLE_ERR_NOTFOUND);
	FAILS(pebble_secure_free(a, p+1), PEBBLE_ERR_NOTFOUND);	/* interior */
	FAILS(pebble_secure_free(a, p+100), PEBBLE_ERR_NOTFOUND);
	FAILS(pebble_secure_free(a, (void*)&info), PEBBLE_ERR_NOTFOUND);	/* not in the heap */
	FAILS(pebble_secure_free(b, p), PEBBLE_ERR_PERM);	/* only the owner frees */
	OK(pebble_secure_share(a, b, p, PEBBLE_READ|PEBBLE_WRITE));
	FAILS(pebble_secure_free(b, p), PEBBLE_ERR_PERM);	/* a grantee neither */
	FAILS(pebble_secure_free_size(b, p, 10), PEBBLE_ERR_PERM);
	FAILS(pebble_secure_wipe_and_free(b, p, 0), PEBBLE_ERR_PERM);

	/* free wipes before returning (auto_wipe on) and counts the bytes */
	OK(pebble_secure_free(a, p));
	CHECK(iszero(p, 100));
	s = stats(a);
	EQ(s.total_wiped, 100);
	EQ(s.used_budget, 0);
	EQ(s.num_allocations, 0);
	FAILS(pebble_secure_free(a, p), PEBBLE_ERR_NOTFOUND);	/* twice */
	/* freeing revoked the grant: a new allocation in the same place is not b's */
	OK(pebble_secure_alloc_simple(a, 100, (void**)&q));
	CHECK(q == p);
	FAILS(pebble_secure_check(b, q, 1, PEBBLE_READ), PEBBLE_ERR_PERM);
	FAILS(pebble_secure_info(b, q, &info), PEBBLE_ERR_PERM);
	FAILS(pebble_secure_revoke(a, b, q), PEBBLE_ERR_NOTFOUND);
	OK(pebble_secure_free(a, q));

	/* free_size: the first n bytes go, the rest stays at ptr+n */
	OK(pebble_secure_alloc_simple(a, 300, (void**)&p));
	fill(p, 300, 3);
	FAILS(pebble_secure_free_size(a, p, 0), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_free_size(a, p, 301), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_free_size(nil, p, 1), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_free_size(a, p+1, 1), PEBBLE_ERR_NOTFOUND);
	OK(pebble_secure_free_size(a, p, 100));
	CHECK(iszero(p, 100));
	CHECK(isfill(p+100, 200, 3+100*31));
	EQ(stats(a).used_budget, 200);
	EQ(stats(a).num_allocations, 1);
	EQ(stats(a).total_wiped, 300);	/* p's 100, q's 100, and these */
	FAILS(pebble_secure_info(a, p, &info), PEBBLE_ERR_NOTFOUND);
	OK(pebble_secure_info(a, p+100, &info));
	EQ(info.size, 200);
	FAILS(pebble_secure_free(a, p), PEBBLE_ERR_NOTFOUND);
	FAILS(pebble_secure_free_size(a, p+100, 201), PEBBLE_ERR_INVALID);
	OK(pebble_secure_free_size(a, p+100, 200));	/* n == size frees all */
	EQ(stats(a).num_allocations, 0);
	EQ(stats(a).used_budget, 0);
	CHECK(iszero(p, 300));

	/* auto_wipe off: the wipe waits for reuse, the stats say so, and reuse reads zero */
	OK(pebble_set_secure_conf(a, "pebble.secure.auto_wipe", "0"));
	OK(pebble_secure_alloc_simple(a, 64, (void**)&p));
	fill(p, 64, 9);
	s = stats(a);
	OK(pebble_secure_free(a, p));
	EQ(stats(a).total_wiped, s.total_wiped);
	EQ(stats(a).total_deferred, 64);
	CHECK(isfill(p, 64, 9));
	OK(pebble_secure_alloc_simple(a, 64, (void**)&q));
	CHECK(q == p);
	CHECK(iszero(q, 64));
	OK(pebble_secure_free(a, q));
	/* the same through another size class sharing the pages, and a partial free */
	OK(pebble_secure_alloc_simple(a, 4000, (void**)&p));
	fill(p, 4000, 5);
	OK(pebble_secure_free_size(a, p, 1000));
	EQ(stats(a).total_deferred, 64+64+1000);
	OK(pebble_secure_free(a, p+1000));
	OK(pebble_secure_alloc_simple(a, 4000, (void**)&q));
	CHECK(iszero(q, 4000));
	OK(pebble_secure_free(a, q));
	teardown();
}

void	secwipe(void*, usize);	/* core/wipe.c */

/* secwipe zeroes exactly [p, p+n) at every length and alignment its stores of each width meet */
static void
wipeexact(void)
{
	uchar buf[256];
	usize n, off, k;
	int bad;

	bad = 0;
	for(n = 0; n <= 140; n++)
		for(off = 0; off < 17; off++){
			memset(buf, 0xA5, sizeof buf);
			secwipe(buf+8+off, n);
			for(k = 0; k < sizeof buf; k++)
				if(buf[k] != (k >= 8+off && k < 8+off+n ? 0 : 0xA5))
					bad++;
		}
	EQ(bad, 0);
}

void
testwipe(void)
{
	Proc *a, *r, *w, *stranger;
	uchar *p;
	PebbleSecureStats s;

	setup(1<<20, 1<<16);
	a = attached(0, "glenda", nil);
	r = attached(1, "glenda", nil);
	w = attached(2, "glenda", nil);
	stranger = mkproc(3, "glenda", nil, 0);
	OK(pebble_secure_alloc_simple(a, 256, (void**)&p));
	OK(pebble_secure_share(a, r, p, PEBBLE_READ));
	OK(pebble_secure_share(a, w, p, PEBBLE_WRITE));
	fill(p, 256, 1);

	FAILS(pebble_secure_wipe(nil, p, 0), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_wipe(a, nil, 0), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_wipe(a, p, 257), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_wipe(stranger, p, 0), PEBBLE_ERR_NOTFOUND);
	FAILS(pebble_secure_wipe(a, p+1, 0), PEBBLE_ERR_NOTFOUND);
	FAILS(pebble_secure_wipe(r, p, 0), PEBBLE_ERR_PERM);	/* READ is not enough */
	FAILS(pebble_secure_wipe(r, p, 300), PEBBLE_ERR_PERM);	/* nor learns the size */

	/* the first n bytes, then the whole; both counted for the owner */
	OK(pebble_secure_wipe(a, p, 10));
	CHECK(iszero(p, 10));
	CHECK(isfill(p+10, 246, 1+10*31));
	EQ(stats(a).total_wiped, 10);
	OK(pebble_secure_wipe(w, p, 20));	/* a grantee with WRITE may */
	CHECK(iszero(p, 20));
	EQ(stats(a).total_wiped, 30);
	EQ(stats(w).total_wiped, 0);
	OK(pebble_secure_wipe(a, p, 0));
	CHECK(iszero(p, 256));
	EQ(stats(a).total_wiped, 286);
	EQ(stats(a).used_budget, 256);

	/* wipe_and_free: the whole allocation, n must be 0 or its size */
	fill(p, 256, 2);
	FAILS(pebble_secure_wipe_and_free(a, p, 10), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_wipe_and_free(a, p, 257), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_wipe_and_free(w, p, 0), PEBBLE_ERR_PERM);
	FAILS(pebble_secure_wipe_and_free(nil, p, 0), PEBBLE_ERR_INVALID);
	s = stats(a);
	OK(pebble_secure_wipe_and_free(a, p, 256));
	CHECK(iszero(p, 256));
	EQ(stats(a).total_wiped, s.total_wiped + 256);
	EQ(stats(a).num_allocations, 0);
	FAILS(pebble_secure_wipe_and_free(a, p, 0), PEBBLE_ERR_NOTFOUND);
	FAILS(pebble_secure_check(w, p, 1, PEBBLE_WRITE), PEBBLE_ERR_NOTFOUND);

	/* wipe_and_free wipes even with auto_wipe off */
	OK(pebble_set_secure_conf(a, "pebble.secure.auto_wipe", "0"));
	OK(pebble_secure_alloc_simple(a, 50, (void**)&p));
	fill(p, 50, 4);
	OK(pebble_secure_wipe_and_free(a, p, 0));
	CHECK(iszero(p, 50));
	EQ(stats(a).total_deferred, 0);
	teardown();
	wipeexact();
}
