/* budgets, settings and the system switches: DESIGN.md "Budgets", "Configuration" */
#include "fix.h"

void
testbudget(void)
{
	Proc *a, *b, *stranger;
	void *p;
	usize max;

	setup(1<<20, 1<<16);
	a = attached(0, "glenda", nil);
	stranger = mkproc(1, "glenda", nil, 0);
	max = pebble_secure_max_budget;
	EQ(max, 1<<20);
	EQ(pebble_secure_budget_get(a), 1<<16);
	EQ(pebble_secure_budget_get(nil), 0);
	EQ(pebble_secure_budget_get(stranger), 0);

	FAILS(pebble_secure_budget_set(nil, 1), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_budget_set(stranger, 1), PEBBLE_ERR_NOTFOUND);
	FAILS(pebble_secure_budget_set(a, max+1), PEBBLE_ERR_BUDGET);
	OK(pebble_secure_budget_set(a, max));
	EQ(pebble_secure_budget_get(a), max);
	CHECK(strcmp(pebble_get_secure_conf(a, "pebble.secure.budget"), "1048576") == 0);
	OK(pebble_secure_alloc_simple(a, 1000, &p));
	FAILS(pebble_secure_budget_set(a, 999), PEBBLE_ERR_BUSY);
	OK(pebble_secure_budget_set(a, 1000));
	OK(pebble_secure_budget_set(a, 2000));

	FAILS(pebble_secure_budget_increase(nil, 1), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_budget_increase(stranger, 1), PEBBLE_ERR_NOTFOUND);
	FAILS(pebble_secure_budget_increase(a, (usize)-1), PEBBLE_ERR_BUDGET);	/* overflows */
	FAILS(pebble_secure_budget_increase(a, (usize)-1 - 1000), PEBBLE_ERR_BUDGET);
	FAILS(pebble_secure_budget_increase(a, max - 2000 + 1), PEBBLE_ERR_BUDGET);
	OK(pebble_secure_budget_increase(a, max - 2000));
	EQ(pebble_secure_budget_get(a), max);
	OK(pebble_secure_budget_increase(a, 0));

	FAILS(pebble_secure_budget_decrease(nil, 1), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_budget_decrease(stranger, 1), PEBBLE_ERR_NOTFOUND);
	FAILS(pebble_secure_budget_decrease(a, max+1), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_budget_decrease(a, max-999), PEBBLE_ERR_BUSY);
	OK(pebble_secure_budget_decrease(a, max-1000));
	EQ(pebble_secure_budget_get(a), 1000);
	CHECK(strcmp(pebble_get_secure_conf(a, "pebble.secure.budget"), "1000") == 0);

	/* down to nothing, exactly: then nothing fits */
	b = attached(2, "glenda", nil);
	OK(pebble_secure_budget_decrease(b, pebble_secure_budget_get(b)));
	EQ(pebble_secure_budget_get(b), 0);
	FAILS(pebble_secure_alloc_simple(b, 1, &p), PEBBLE_ERR_BUDGET);
	FAILS(pebble_secure_budget_decrease(b, 1), PEBBLE_ERR_INVALID);

	/* a smaller system maximum binds the next set, not budgets already given */
	pebble_secure_max_budget = 500;
	FAILS(pebble_secure_budget_set(a, 1000), PEBBLE_ERR_BUDGET);
	FAILS(pebble_secure_budget_set(a, 600), PEBBLE_ERR_BUSY);	/* in use before budget */
	FAILS(pebble_set_secure_conf(a, "pebble.secure.budget", "600"), PEBBLE_ERR_BUSY);
	FAILS(pebble_secure_budget_increase(a, 1), PEBBLE_ERR_BUDGET);
	EQ(pebble_secure_budget_get(a), 1000);
	teardown();
}

void
testconf(void)
{
	Proc *a, *stranger;
	void *p;
	static char *bad[] = { "", "x", "-1", "1x", "1kk", " 1", "1 ", "0x10", "18446744073709551616", "99999999999999999999g", "20000000000g" };
	static char *badbool[] = { "", "2", "01", "true", "-0", "1 ", "yes" };
	static char *keys[] = { "pebble.secure.encryption", "pebble.secure.audit", "pebble.secure.auto_wipe" };
	int i, k;

	setup(1<<20, 1<<16);
	a = attached(0, "glenda", nil);
	stranger = mkproc(1, "glenda", nil, 0);
	CHECK(strcmp(pebble_get_secure_conf(a, "pebble.secure.budget"), "65536") == 0);
	CHECK(strcmp(pebble_get_secure_conf(a, "pebble.secure.encryption"), "0") == 0);
	CHECK(strcmp(pebble_get_secure_conf(a, "pebble.secure.audit"), "1") == 0);
	CHECK(strcmp(pebble_get_secure_conf(a, "pebble.secure.auto_wipe"), "1") == 0);
	CHECK(pebble_get_secure_conf(a, "pebble.secure.nosuch") == nil);
	CHECK(pebble_get_secure_conf(a, nil) == nil);
	CHECK(pebble_get_secure_conf(nil, "pebble.secure.budget") == nil);
	CHECK(pebble_get_secure_conf(stranger, "pebble.secure.budget") == nil);

	FAILS(pebble_set_secure_conf(nil, "pebble.secure.audit", "1"), PEBBLE_ERR_INVALID);
	FAILS(pebble_set_secure_conf(a, nil, "1"), PEBBLE_ERR_INVALID);
	FAILS(pebble_set_secure_conf(a, "pebble.secure.audit", nil), PEBBLE_ERR_INVALID);
	FAILS(pebble_set_secure_conf(a, "pebble.secure.nosuch", "1"), PEBBLE_ERR_INVALID);
	FAILS(pebble_set_secure_conf(a, "pebble.secure.Budget", "1"), PEBBLE_ERR_INVALID);
	FAILS(pebble_set_secure_conf(stranger, "pebble.secure.audit", "1"), PEBBLE_ERR_NOTFOUND);
	for(i = 0; i < (int)nelem(bad); i++)
		FAILS(pebble_set_secure_conf(a, "pebble.secure.budget", bad[i]), PEBBLE_ERR_INVALID);
	for(k = 0; k < (int)nelem(keys); k++)
		for(i = 0; i < (int)nelem(badbool); i++)
			FAILS(pebble_set_secure_conf(a, keys[k], badbool[i]), PEBBLE_ERR_INVALID);

	OK(pebble_set_secure_conf(a, "pebble.secure.budget", "2k"));
	EQ(pebble_secure_budget_get(a), 2048);
	CHECK(strcmp(pebble_get_secure_conf(a, "pebble.secure.budget"), "2048") == 0);
	OK(pebble_set_secure_conf(a, "pebble.secure.budget", "1M"));
	EQ(pebble_secure_budget_get(a), 1<<20);
	FAILS(pebble_set_secure_conf(a, "pebble.secure.budget", "1g"), PEBBLE_ERR_BUDGET);
	OK(pebble_set_secure_conf(a, "pebble.secure.budget", "00300"));
	CHECK(strcmp(pebble_get_secure_conf(a, "pebble.secure.budget"), "300") == 0);
	OK(pebble_secure_alloc_simple(a, 200, &p));
	FAILS(pebble_set_secure_conf(a, "pebble.secure.budget", "199"), PEBBLE_ERR_BUSY);
	for(k = 0; k < (int)nelem(keys); k++){
		OK(pebble_set_secure_conf(a, keys[k], "1"));
		CHECK(strcmp(pebble_get_secure_conf(a, keys[k]), "1") == 0);
		OK(pebble_set_secure_conf(a, keys[k], "0"));
		CHECK(strcmp(pebble_get_secure_conf(a, keys[k]), "0") == 0);
	}

	/* a string stays as it was until that key is set: setting others, or failing to set it, leaves it alone */
	{
		const char *b, *e;

		b = pebble_get_secure_conf(a, "pebble.secure.budget");
		e = pebble_get_secure_conf(a, "pebble.secure.encryption");
		OK(pebble_set_secure_conf(a, "pebble.secure.encryption", "1"));
		OK(pebble_set_secure_conf(a, "pebble.secure.auto_wipe", "1"));
		FAILS(pebble_secure_budget_set(a, 100), PEBBLE_ERR_BUSY);
		CHECK(strcmp(b, "300") == 0 && strcmp(e, "0") == 0);
		OK(pebble_secure_budget_increase(a, 1));	/* a budget call sets the budget key */
		CHECK(strcmp(b, "300") == 0);	/* the old string is still whole */
		CHECK(strcmp(pebble_get_secure_conf(a, "pebble.secure.budget"), "301") == 0);
	}
	teardown();
}

/* pebble_secure_enabled 0: nothing new, but nothing stranded */
void
testswitch(void)
{
	Proc *a, *b, *c;
	uchar *p, *q;
	SecureAllocation info;
	PebbleSecureStats s;
	SecureAuditEntry ae[4];

	setup(1<<20, 1<<16);
	a = attached(0, "glenda", nil);
	b = attached(1, "glenda", nil);
	OK(pebble_secure_alloc_simple(a, 100, (void**)&p));
	OK(pebble_secure_alloc_simple(a, 100, (void**)&q));
	OK(pebble_secure_share(a, b, p, PEBBLE_READ));
	fill(p, 100, 1);
	pebble_secure_enabled = 0;
	FAILS(pebble_secure_alloc_simple(a, 1, (void**)&q), PEBBLE_ERR_PERM);
	FAILS(pebble_secure_alloc(a, 1, (void**)&q, PEBBLE_READ), PEBBLE_ERR_PERM);
	FAILS(pebble_secure_share(a, b, q, PEBBLE_READ), PEBBLE_ERR_PERM);
	EQ(pebble_secure_audit(a, q, ae, 4), 2);	/* ALLOC, and the refused share names q: DENIED */
	EQ(ae[1].operation, PEBBLE_AUDIT_DENIED);
	EQ(ae[1].result, PEBBLE_ERR_PERM);
	FAILS(pebble_secure_attach(a, mkproc(2, "glenda", a, 0)), PEBBLE_ERR_PERM);
	FAILS(pebble_secure_attach(nil, mkproc(2, "glenda", nil, 0)), PEBBLE_ERR_PERM);
	FAILS(pebble_secure_budget_set(a, 10), PEBBLE_ERR_PERM);
	FAILS(pebble_secure_budget_increase(a, 10), PEBBLE_ERR_PERM);
	FAILS(pebble_set_secure_conf(a, "pebble.secure.audit", "0"), PEBBLE_ERR_PERM);
	/* bad arguments are still INVALID first */
	FAILS(pebble_secure_alloc_simple(a, 0, (void**)&q), PEBBLE_ERR_INVALID);
	FAILS(pebble_set_secure_conf(a, "pebble.secure.audit", "7"), PEBBLE_ERR_INVALID);
	/* what keeps working */
	OK(pebble_secure_info(a, p, &info));
	OK(pebble_secure_stats(a, &s));
	EQ(pebble_secure_budget_get(a), 1<<16);
	CHECK(pebble_get_secure_conf(a, "pebble.secure.audit") != nil);
	EQ(pebble_secure_audit(a, p, ae, 4), 2);
	OK(pebble_secure_check(b, p, 1, PEBBLE_READ));
	OK(pebble_secure_wipe(a, p, 10));
	OK(pebble_secure_revoke(a, b, p));
	OK(pebble_secure_budget_decrease(a, 10));
	OK(pebble_secure_free_size(a, p, 10));
	OK(pebble_secure_free(a, p+10));
	OK(pebble_secure_wipe_and_free(a, q, 0));
	c = b;
	OK(pebble_secure_detach(c));
	pebble_secure_enabled = 1;
	OK(pebble_secure_attach(nil, b));
	teardown();
}
