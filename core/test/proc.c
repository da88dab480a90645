/* attach and detach: DESIGN.md "Process lifecycle" */
#include "fix.h"

void
testproc(void)
{
	Proc *par, *kid, *nw, *gk, *other, *stranger, old;
	uchar *keep, *big, *plain, *mine, *held;
	SecureAllocation info;
	PebbleSecureStats s;
	usize rem;
	int extra;

	setup(1<<20, 1<<16);
	par = attached(0, "glenda", nil);
	stranger = mkproc(9, "glenda", nil, 0);
	FAILS(pebble_secure_attach(par, nil), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_attach(par, par), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_attach(nil, par), PEBBLE_ERR_BUSY);
	FAILS(pebble_secure_attach(stranger, mkproc(1, "glenda", stranger, 0)), PEBBLE_ERR_NOTFOUND);

	/* the child gets its parent's limit and settings, and nothing else */
	OK(pebble_secure_budget_set(par, 5000));
	OK(pebble_set_secure_conf(par, "pebble.secure.auto_wipe", "0"));
	OK(pebble_set_secure_conf(par, "pebble.secure.encryption", "1"));
	OK(pebble_secure_alloc_simple(par, 100, (void**)&mine));
	kid = mkproc(1, "glenda", par, 0);
	OK(pebble_secure_attach(par, kid));
	s = stats(kid);
	EQ(s.total_budget, 5000);
	EQ(s.used_budget, 0);
	EQ(s.num_allocations, 0);
	CHECK(strcmp(pebble_get_secure_conf(kid, "pebble.secure.auto_wipe"), "0") == 0);
	CHECK(strcmp(pebble_get_secure_conf(kid, "pebble.secure.encryption"), "1") == 0);
	FAILS(pebble_secure_check(kid, mine, 1, PEBBLE_READ), PEBBLE_ERR_PERM);
	FAILS(pebble_secure_free(kid, mine), PEBBLE_ERR_PERM);
	OK(pebble_secure_detach(kid));
	OK(pebble_set_secure_conf(par, "pebble.secure.auto_wipe", "1"));
	OK(pebble_set_secure_conf(par, "pebble.secure.encryption", "0"));

	/* exit: granted and fitting passes to the parent; the rest is wiped */
	kid = attached(1, "glenda", par);
	OK(pebble_secure_budget_set(kid, 60000));
	OK(pebble_secure_alloc_simple(kid, 1000, (void**)&keep));
	OK(pebble_secure_alloc_simple(kid, 8000, (void**)&big));
	OK(pebble_secure_alloc_simple(kid, 300, (void**)&plain));
	other = attached(2, "glenda", nil);
	OK(pebble_secure_share(kid, par, keep, PEBBLE_READ));
	OK(pebble_secure_share(kid, other, keep, PEBBLE_READ));
	OK(pebble_secure_share(kid, par, big, PEBBLE_READ));	/* 8000 > 5000-100 left */
	OK(pebble_secure_alloc_simple(other, 40, (void**)&held));
	OK(pebble_secure_share(other, kid, held, PEBBLE_READ));
	fill(keep, 1000, 1);
	fill(big, 8000, 2);
	fill(plain, 300, 3);
	OK(pebble_secure_detach(kid));
	FAILS(pebble_secure_detach(kid), PEBBLE_ERR_NOTFOUND);
	FAILS(pebble_secure_stats(kid, &s), PEBBLE_ERR_NOTFOUND);
	FAILS(pebble_secure_alloc_simple(kid, 1, (void**)&mine), PEBBLE_ERR_NOTFOUND);
	EQ(pebble_secure_budget_get(kid), 0);
	CHECK(isfill(keep, 1000, 1));
	CHECK(iszero(big, 8000));
	CHECK(iszero(plain, 300));
	OK(pebble_secure_info(par, keep, &info));
	CHECK(info.owner == par);
	EQ(info.permissions, PEBBLE_READ|PEBBLE_WRITE);	/* ownership: the allocation's own */
	EQ(info.ngrants, 1);	/* other's grant stays */
	OK(pebble_secure_check(other, keep, 1000, PEBBLE_READ));
	s = stats(par);
	EQ(s.used_budget, 1100);
	EQ(s.num_allocations, 2);
	OK(pebble_secure_info(other, held, &info));
	EQ(info.ngrants, 0);	/* what kid held is dropped */
	FAILS(pebble_secure_info(par, big, &info), PEBBLE_ERR_NOTFOUND);
	OK(pebble_secure_free(par, keep));
	CHECK(iszero(keep, 1000));

	/* RFNOWAIT: no parent to inherit */
	nw = mkproc(3, "glenda", par, 1);
	OK(pebble_secure_attach(par, nw));
	OK(pebble_secure_alloc_simple(nw, 64, (void**)&keep));
	OK(pebble_secure_share(nw, par, keep, PEBBLE_READ));
	fill(keep, 64, 4);
	OK(pebble_secure_detach(nw));
	CHECK(iszero(keep, 64));
	FAILS(pebble_secure_info(par, keep, &info), PEBBLE_ERR_NOTFOUND);

	/* a grandchild's inheritance stops at its parent, even if that one is dying later */
	kid = attached(1, "glenda", par);
	gk = attached(4, "glenda", kid);
	OK(pebble_secure_alloc_simple(gk, 10, (void**)&keep));
	OK(pebble_secure_share(gk, kid, keep, PEBBLE_READ));
	OK(pebble_secure_share(gk, par, keep, PEBBLE_READ));
	OK(pebble_secure_detach(gk));
	OK(pebble_secure_info(kid, keep, &info));
	CHECK(info.owner == kid);
	OK(pebble_secure_check(par, keep, 10, PEBBLE_READ));
	OK(pebble_secure_detach(kid));	/* par holds a grant: it passes on again */
	OK(pebble_secure_info(par, keep, &info));
	CHECK(info.owner == par);
	EQ(stats(par).total_wiped, 1000);	/* kid's wipes count for kid, not par */
	FAILS(pebble_secure_detach(nil), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_detach(stranger), PEBBLE_ERR_NOTFOUND);

	/* the boundary: exactly the parent's remaining budget passes, one byte more is wiped */
	s = stats(par);
	rem = s.total_budget - s.used_budget;
	CHECK(rem > 0 && rem < 60000);
	for(extra = 0; extra < 2; extra++){
		kid = attached(1, "glenda", par);
		OK(pebble_secure_budget_set(kid, 60000));
		OK(pebble_secure_alloc_simple(kid, rem + extra, (void**)&keep));
		OK(pebble_secure_share(kid, par, keep, PEBBLE_READ));
		fill(keep, rem + extra, 5);
		OK(pebble_secure_detach(kid));
		if(extra == 0){
			OK(pebble_secure_info(par, keep, &info));
			CHECK(info.owner == par);
			CHECK(isfill(keep, rem, 5));
			EQ(stats(par).used_budget, s.total_budget);
			OK(pebble_secure_free(par, keep));
		}else{
			FAILS(pebble_secure_info(par, keep, &info), PEBBLE_ERR_NOTFOUND);
			CHECK(iszero(keep, rem + 1));
			EQ(stats(par).used_budget, s.used_budget);
		}
	}

	/* a slot is reused by a new proc: the old one's name no longer works */
	kid = attached(1, "glenda", par);
	old = *kid;
	OK(pebble_secure_detach(kid));
	kid->pid = 999;
	OK(pebble_secure_attach(par, kid));
	FAILS(pebble_secure_stats(&old, &s), PEBBLE_ERR_NOTFOUND);
	FAILS(pebble_secure_detach(&old), PEBBLE_ERR_NOTFOUND);
	EQ(stats(kid).used_budget, 0);

	/*
	 * The parent exits and the host gives its Proc structure to a new
	 * process, in the same slot or another: the child's grant to the
	 * newcomer is an ordinary grant, and nothing passes to it at exit.
	 */
	for(extra = 0; extra < 2; extra++){
		nw = attached(5, "glenda", nil);
		kid = attached(6, "glenda", nw);
		OK(pebble_secure_alloc_simple(kid, 200, (void**)&keep));
		fill(keep, 200, 6);
		OK(pebble_secure_detach(nw));
		nw->pid = 2000 + extra;
		nw->slot = 5 + 2*extra;	/* 5, then 7 */
		OK(pebble_secure_attach(nil, nw));
		OK(pebble_secure_share(kid, nw, keep, PEBBLE_READ));
		OK(pebble_secure_detach(kid));
		CHECK(iszero(keep, 200));
		FAILS(pebble_secure_info(nw, keep, &info), PEBBLE_ERR_NOTFOUND);
		s = stats(nw);
		EQ(s.used_budget, 0);
		EQ(s.num_allocations, 0);
		OK(pebble_secure_detach(nw));
	}
	teardown();
}
