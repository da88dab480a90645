/* sharing, revoking, the access check and info: DESIGN.md "Sharing", "Info" */
#include "fix.h"

void
testshare(void)
{
	Proc *a, *b, *c, *bob, *eve, *stranger;
	uchar *p, *ro;
	SecureAllocation info;
	SecureAuditEntry e[16];

	setup(1<<20, 1<<16);
	a = attached(0, "glenda", nil);
	b = attached(1, "glenda", nil);
	c = attached(2, "glenda", nil);
	bob = attached(3, "bob", nil);
	eve = attached(4, "eve", nil);
	stranger = mkproc(5, "glenda", nil, 0);
	OK(pebble_secure_alloc(a, 64, (void**)&p, PEBBLE_READ|PEBBLE_WRITE));
	OK(pebble_secure_alloc(a, 64, (void**)&ro, PEBBLE_READ));

	FAILS(pebble_secure_share(nil, b, p, PEBBLE_READ), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_share(a, nil, p, PEBBLE_READ), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_share(a, b, nil, PEBBLE_READ), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_share(a, a, p, PEBBLE_READ), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_share(a, b, p, 0), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_share(a, b, p, 9), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_share(a, stranger, p, PEBBLE_READ), PEBBLE_ERR_NOTFOUND);
	FAILS(pebble_secure_share(stranger, b, p, PEBBLE_READ), PEBBLE_ERR_NOTFOUND);
	FAILS(pebble_secure_share(a, b, p+1, PEBBLE_READ), PEBBLE_ERR_NOTFOUND);
	FAILS(pebble_secure_share(b, c, p, PEBBLE_READ), PEBBLE_ERR_PERM);	/* only the owner */
	FAILS(pebble_secure_share(a, b, ro, PEBBLE_WRITE), PEBBLE_ERR_PERM);	/* a subset of the protection */
	FAILS(pebble_secure_share(a, b, p, PEBBLE_EXEC), PEBBLE_ERR_PERM);
	FAILS(pebble_secure_share(a, bob, p, PEBBLE_READ), PEBBLE_ERR_PERM);	/* across users */
	detfailmalloc(1);
	FAILS(pebble_secure_share(a, b, p, PEBBLE_READ), PEBBLE_ERR_NOMEM);
	/* the refusal names p: logged as DENIED with its code, after the PERMs above */
	EQ(pebble_secure_audit(a, p, e, nelem(e)), 5);	/* ALLOC, 3 PERM, NOMEM */
	EQ(e[4].operation, PEBBLE_AUDIT_DENIED);
	EQ(e[4].result, PEBBLE_ERR_NOMEM);
	EQ(e[4].pid, a->pid);
	EQ(e[3].result, PEBBLE_ERR_PERM);

	OK(pebble_secure_share(a, b, p, PEBBLE_READ));
	EQ(stats(a).used_budget, 128);	/* grants cost nothing */
	EQ(stats(b).used_budget, 0);
	OK(pebble_secure_check(b, p, 64, PEBBLE_READ));
	FAILS(pebble_secure_check(b, p, 1, PEBBLE_WRITE), PEBBLE_ERR_PERM);
	/* sharing again replaces the grant */
	OK(pebble_secure_share(a, b, p, PEBBLE_READ|PEBBLE_WRITE));
	OK(pebble_secure_check(b, p+3, 5, PEBBLE_WRITE));
	OK(pebble_secure_info(a, p, &info));
	EQ(info.ngrants, 1);
	OK(pebble_secure_share(a, b, p, PEBBLE_WRITE));
	FAILS(pebble_secure_check(b, p, 1, PEBBLE_READ), PEBBLE_ERR_PERM);
	/* the host owner may share across users */
	OK(pebble_secure_alloc_simple(eve, 32, (void**)&ro));
	OK(pebble_secure_share(eve, bob, ro, PEBBLE_READ));
	OK(pebble_secure_check(bob, ro, 32, PEBBLE_READ));

	FAILS(pebble_secure_revoke(nil, b, p), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_revoke(a, nil, p), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_revoke(a, b, nil), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_revoke(a, a, p), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_revoke(a, stranger, p), PEBBLE_ERR_NOTFOUND);
	FAILS(pebble_secure_revoke(a, c, p), PEBBLE_ERR_NOTFOUND);	/* no such grant */
	FAILS(pebble_secure_revoke(a, b, p+2), PEBBLE_ERR_NOTFOUND);
	FAILS(pebble_secure_revoke(c, b, p), PEBBLE_ERR_PERM);
	FAILS(pebble_secure_revoke(b, c, p), PEBBLE_ERR_PERM);
	OK(pebble_secure_revoke(a, b, p));
	FAILS(pebble_secure_check(b, p, 1, PEBBLE_WRITE), PEBBLE_ERR_PERM);
	FAILS(pebble_secure_revoke(a, b, p), PEBBLE_ERR_NOTFOUND);
	OK(pebble_secure_info(a, p, &info));
	EQ(info.ngrants, 0);
	/* the access map: a bit for each proc holding some grant here */
	EQ(info.ramdisk->access_map[0], 0);
	OK(pebble_secure_share(a, c, p, PEBBLE_READ));
	EQ(info.ramdisk->access_map[0], 1UL << 2);
	OK(pebble_secure_free(a, p));
	EQ(info.ramdisk->access_map[0], 0);
	teardown();
}

void
testcheck(void)
{
	Proc *a, *b, *stranger;
	uchar *p;

	setup(1<<20, 1<<16);
	a = attached(0, "glenda", nil);
	b = attached(1, "glenda", nil);
	stranger = mkproc(2, "glenda", nil, 0);
	OK(pebble_secure_alloc(a, 100, (void**)&p, PEBBLE_READ|PEBBLE_WRITE));

	FAILS(pebble_secure_check(nil, p, 1, PEBBLE_READ), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_check(a, nil, 1, PEBBLE_READ), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_check(a, p, 0, PEBBLE_READ), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_check(a, p, 1, 0), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_check(a, p, 1, 12), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_check(stranger, p, 1, PEBBLE_READ), PEBBLE_ERR_NOTFOUND);
	FAILS(pebble_secure_check(a, p+100, 1, PEBBLE_READ), PEBBLE_ERR_NOTFOUND);
	FAILS(pebble_secure_check(a, p+50, 51, PEBBLE_READ), PEBBLE_ERR_NOTFOUND);	/* runs past */
	FAILS(pebble_secure_check(a, p, (usize)-1, PEBBLE_READ), PEBBLE_ERR_NOTFOUND);
	FAILS(pebble_secure_check(a, p, 1, PEBBLE_EXEC), PEBBLE_ERR_PERM);	/* protection binds the owner */
	FAILS(pebble_secure_check(b, p, 1, PEBBLE_READ), PEBBLE_ERR_PERM);
	OK(pebble_secure_check(a, p, 100, PEBBLE_READ|PEBBLE_WRITE));
	OK(pebble_secure_check(a, p+99, 1, PEBBLE_WRITE));
	OK(pebble_secure_check(a, p+50, 50, PEBBLE_READ));

	/* a proc with no grant learns nothing of the extent: PERM whatever len (DESIGN.md, Sharing) */
	FAILS(pebble_secure_check(b, p, 100, PEBBLE_READ), PEBBLE_ERR_PERM);
	FAILS(pebble_secure_check(b, p, 101, PEBBLE_READ), PEBBLE_ERR_PERM);
	FAILS(pebble_secure_check(b, p+50, 1000, PEBBLE_WRITE), PEBBLE_ERR_PERM);
	FAILS(pebble_secure_check(b, p+99, (usize)-1, PEBBLE_READ), PEBBLE_ERR_PERM);
	/* a grantee still gets NOTFOUND past the end, and PERM for what it was not granted */
	OK(pebble_secure_share(a, b, p, PEBBLE_READ));
	OK(pebble_secure_check(b, p, 100, PEBBLE_READ));
	FAILS(pebble_secure_check(b, p, 101, PEBBLE_READ), PEBBLE_ERR_NOTFOUND);
	FAILS(pebble_secure_check(b, p+50, 51, PEBBLE_WRITE), PEBBLE_ERR_NOTFOUND);
	FAILS(pebble_secure_check(b, p+50, 50, PEBBLE_WRITE), PEBBLE_ERR_PERM);
	OK(pebble_secure_revoke(a, b, p));
	FAILS(pebble_secure_check(b, p, 101, PEBBLE_READ), PEBBLE_ERR_PERM);
	teardown();
}

void
testinfo(void)
{
	Proc *a, *b, *c, *stranger;
	uchar *p, *q;
	SecureAllocation info, info2;
	PebbleSecureStats s;

	setup(1<<20, 1<<16);
	a = attached(0, "glenda", nil);
	b = attached(1, "glenda", nil);
	c = attached(2, "glenda", nil);
	stranger = mkproc(3, "glenda", nil, 0);
	detsetclock(12345);
	OK(pebble_secure_alloc(a, 77, (void**)&p, PEBBLE_READ|PEBBLE_WRITE|PEBBLE_EXEC));
	OK(pebble_secure_share(a, b, p, PEBBLE_READ));

	FAILS(pebble_secure_info(nil, p, &info), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_info(a, nil, &info), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_info(a, p, nil), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_info(stranger, p, &info), PEBBLE_ERR_NOTFOUND);
	FAILS(pebble_secure_info(a, p+1, &info), PEBBLE_ERR_NOTFOUND);
	FAILS(pebble_secure_info(c, p, &info), PEBBLE_ERR_PERM);
	OK(pebble_secure_info(a, p, &info));
	CHECK(info.ptr == p);
	EQ(info.size, 77);
	CHECK(info.owner == a);
	EQ(info.pid, a->pid);
	EQ(info.permissions, 7);
	EQ(info.protection, 7);
	EQ(info.alloc_time, 12345);
	CHECK(info.ramdisk != nil && info.ramdisk->total_size == 1<<16 && info.ramdisk->used_size == 77);
	CHECK(info.ramdisk->wipe_on_free == 1 && info.ramdisk->encrypted == 0);
	OK(pebble_secure_info(b, p, &info));	/* a grantee sees its own permissions */
	EQ(info.permissions, PEBBLE_READ);
	EQ(info.protection, 7);

	FAILS(pebble_secure_stats(nil, &s), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_stats(a, nil), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_stats(stranger, &s), PEBBLE_ERR_NOTFOUND);
	OK(pebble_secure_stats(a, &s));
	EQ(s.total_budget, 1<<16);
	EQ(s.used_budget, 77);
	EQ(s.num_allocations, 1);
	EQ(s.peak_usage, 77);
	EQ(s.total_wiped, 0);

	/* the id: a later allocation of the same proc has a larger one, and info reports it */
	OK(pebble_secure_info(a, p, &info));
	OK(pebble_secure_alloc_simple(a, 10, (void**)&q));
	OK(pebble_secure_info(a, q, &info2));
	CHECK(info2.id > info.id);
	OK(pebble_secure_free(a, q));
	teardown();
}
