/*
 * The C tests' few helpers: a check that reports file and line and
 * goes on, and FAILS, which asserts a call returns an error code and
 * that the digest of all the core's state is what it was before.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pebble.h"

extern int	nfail;
extern int	nchecks;
extern char	*curtest;

/* a broken rule can fail thousands of checks: only the first 30 are reported */
#define CHECK(c) do{ \
	__atomic_add_fetch(&nchecks, 1, __ATOMIC_RELAXED); \
	if(!(c)){ \
		if(__atomic_fetch_add(&nfail, 1, __ATOMIC_RELAXED) < 30) \
		fprintf(stderr, "%s:%d: %s: check failed: %s\n", __FILE__, __LINE__, curtest, #c); \
	} \
}while(0)

#define EQ(a, b) do{ \
	long long _a = (long long)(a), _b = (long long)(b); \
	__atomic_add_fetch(&nchecks, 1, __ATOMIC_RELAXED); \
	if(_a != _b){ \
		if(__atomic_fetch_add(&nfail, 1, __ATOMIC_RELAXED) < 30) \
		fprintf(stderr, "%s:%d: %s: %s == %lld, want %s == %lld\n", __FILE__, __LINE__, curtest, #a, _a, #b, _b); \
	} \
}while(0)

/*
 * The system statistics are the same, but for the audit log having
 * recorded at most one denial (DESIGN.md: a failed call changes no
 * statistic, per-proc or system-wide).
 */
static inline int
samesys(PebbleSysStats *b, PebbleSysStats *a)
{
	PebbleSysStats x;

	if(!pebblelive())
		return 1;
	x = *a;
	if(x.audit_logged - b->audit_logged <= 1){
		x.audit_logged = b->audit_logged;
		x.audit_dropped = b->audit_dropped;
	}
	return memcmp(&x, b, sizeof x) == 0;
}

static inline PebbleSysStats
sysnow(void)
{
	PebbleSysStats s;

	memset(&s, 0, sizeof s);
	if(pebblelive())
		pebble_secure_sysstats(&s);
	return s;
}

/* the call fails with code and changes nothing: no state, no statistic */
#define FAILS(call, code) do{ \
	uvlong _d = pebble_secure_digest(); \
	PebbleSysStats _s = sysnow(), _t; \
	EQ((call), (code)); \
	__atomic_add_fetch(&nchecks, 1, __ATOMIC_RELAXED); \
	_t = sysnow(); \
	if(pebble_secure_digest() != _d || !samesys(&_s, &_t)){ \
		if(__atomic_fetch_add(&nfail, 1, __ATOMIC_RELAXED) < 30) \
		fprintf(stderr, "%s:%d: %s: failed call changed state: %s\n", __FILE__, __LINE__, curtest, #call); \
	} \
}while(0)

#define OK(call)	EQ((call), PEBBLE_ERR_OK)
#define nelem(x)	(sizeof(x)/sizeof((x)[0]))
