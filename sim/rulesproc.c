/*
 * The rulebook, continued (rules.c has the header and the calls on
 * memory): procs and their settings.  attach and detach with
 * inheritance, budgets, getconf and setconf, from DESIGN.md section 2
 * ("Budgets", "Process lifecycle", "Configuration") and docs/decisions.md.
 */
#include "sim.h"
#include "rules.h"

enum { OK = PEBBLE_ERR_OK, PERM = PEBBLE_ERR_PERM, NOTFOUND = PEBBLE_ERR_NOTFOUND,
	INVALID = PEBBLE_ERR_INVALID, BUDGET = PEBBLE_ERR_BUDGET, BUSY = PEBBLE_ERR_BUSY };

char *confkeys[4] = { PEBBLE_CONF_BUDGET, PEBBLE_CONF_ENCRYPTION, PEBBLE_CONF_AUDIT, PEBBLE_CONF_AUTOWIPE };
enum { Kbudget, Kencryption, Kaudit, Kautowipe };

/* attach(parent, p); named: a parent was given (not nil) */
Want
ruleattach(SProc *parent, int named)
{
	if(!sim.enabled)
		return wantres(PERM);
	if(named && !attached(parent))
		return wantres(NOTFOUND);
	return wantres(OK);
}

/* "the parent's budget limit and settings"; attach(nil, p): the system defaults */
void
applyattach(SProc *p, SProc *parent)
{
	usize b;

	p->attached = 1;
	if(parent != nil){
		p->limit = parent->limit;
		p->enc = parent->enc;
		p->wipe = parent->wipe;
		p->audit = parent->audit;
		return;
	}
	/* decisions.md: a default budget above the heap (or the maximum) is clipped to it */
	b = sim.conf.budget;
	if(b > sim.conf.heap)
		b = sim.conf.heap;
	if(b > sim.maxbudget)
		b = sim.maxbudget;
	p->limit = b;
	p->enc = sim.encryption != 0;
	p->wipe = 1;
	p->audit = 1;
}

/* Budgets: set above the maximum BUDGET, below usage BUSY; increase past it BUDGET; decrease past 0 INVALID */
Want
rulebudget(int op, SProc *p, usize v)
{
	if(v > (usize)-1 / 2)
		sim.bound[Bbigbudget]++;
	if(op != Obudgetdec && !sim.enabled)
		return wantres(PERM);
	if(!attached(p))
		return wantres(NOTFOUND);
	switch(op){
	case Obudgetset:
		return wantres(v < p->used ? BUSY : v > sim.maxbudget ? BUDGET : OK);
	case Obudgetinc:
		return wantres(v > sim.maxbudget || p->limit > sim.maxbudget - v ? BUDGET : OK);
	default:
		return wantres(v > p->limit ? INVALID : p->limit - v < p->used ? BUSY : OK);
	}
}

void
applybudget(int op, SProc *p, usize v)
{
	if(op == Obudgetset)
		p->limit = v;
	else if(op == Obudgetinc)
		p->limit += v;
	else
		p->limit -= v;
}

int
confkey(char *k)
{
	int i;

	for(i = 0; i < (int)nelem(confkeys); i++)
		if(strcmp(k, confkeys[i]) == 0)
			return i;
	return -1;
}

/*
 * decisions.md, Settings: "decimal digits with an optional k, m or g
 * (either case, powers of 1024); nothing else, no spaces, no sign;
 * overflow is INVALID".
 */
static int
budgetvalue(char *s, usize *v)
{
	usize n, shift;
	char *d;

	n = 0;
	for(d = s; *d >= '0' && *d <= '9'; d++){
		if(n > ((usize)-1 - (*d - '0')) / 10)
			return -1;
		n = 10*n + (*d - '0');
	}
	if(d == s)
		return -1;
	shift = 0;
	if(*d != 0 && strchr("kKmMgG", *d) != nil)
		shift = *d == 'k' || *d == 'K' ? 10 : *d == 'm' || *d == 'M' ? 20 : 30, d++;
	if(*d != 0 || n > (usize)-1 >> shift)
		return -1;
	*v = n << shift;
	return 0;
}

Want
rulesetconf(SProc *p, char *key, char *val)
{
	Want w;
	int k, ok;

	w = wantres(OK);
	w.key = k = confkey(key);
	if(k == Kbudget)
		ok = budgetvalue(val, &w.v) == 0;
	else
		ok = k >= 0 && (strcmp(val, "0") == 0 || strcmp(val, "1") == 0);
	if(!ok){
		sim.bound[Bbadconf]++;
		return wantres(INVALID);
	}
	if(k != Kbudget)
		w.v = val[0] - '0';
	if(!sim.enabled)
		return wantres(PERM);
	if(!attached(p))
		return wantres(NOTFOUND);
	if(k == Kbudget)
		w.r = w.alt = w.v < p->used ? BUSY : w.v > sim.maxbudget ? BUDGET : OK;
	return w;
}

void
applysetconf(SProc *p, Want *w)
{
	switch(w->key){
	case Kbudget:	p->limit = w->v; break;
	case Kencryption:	p->enc = w->v; break;
	case Kaudit:	p->audit = w->v; break;
	case Kautowipe:	p->wipe = w->v; break;
	}
}

/* the canonical string of key on p, or NOTFOUND (nil) for an unknown key or proc */
int
rulegetconf(SProc *p, char *key, char *buf, int n)
{
	int k;

	k = confkey(key);
	if(k < 0 || !attached(p))
		return NOTFOUND;
	if(k == Kbudget)
		snprintf(buf, n, "%lu", (ulong)p->limit);
	else
		snprintf(buf, n, "%d", k == Kencryption ? p->enc : k == Kaudit ? p->audit : p->wipe);
	return OK;
}

Want
ruledetach(SProc *p)
{
	return wantres(attached(p) ? OK : NOTFOUND);
}

/* who inherits from p: its parent, unless it was made with RFNOWAIT */
SProc*
heirof(SProc *p)
{
	SProc *pa;

	pa = p->nowait ? nil : p->parent;
	return attached(pa) ? pa : nil;
}

static int
byid(const void *a, const void *b)
{
	SAlloc *x, *y;

	x = *(SAlloc**)a;
	y = *(SAlloc**)b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* in increasing id, each allocation the heir holds a grant on and that fits its budget passes */
static void
inherit(SProc *p, SProc *pa)
{
	SAlloc *x, **heirs;
	int i, n;

	heirs = emalloc((p->owned.n + 1) * sizeof *heirs);
	for(n = i = 0; i < p->owned.n; i++)
		if(hasgrant(p->owned.v[i], pa))
			heirs[n++] = p->owned.v[i];
	qsort(heirs, n, sizeof *heirs, byid);
	for(i = 0; i < n; i++){
		x = heirs[i];
		if(x->size == pa->limit - pa->used)
			sim.bound[Binherit]++;
		if(x->size == pa->limit - pa->used + 1)
			sim.bound[Binherit1]++;
		if(x->size > pa->limit - pa->used)
			continue;
		auditexp(x, 1);	/* INHERIT */
		delgrant(x, pa);	/* the grant becomes ownership */
		moveowner(x, pa);
	}
	free(heirs);
}

/*
 * detach: what passes to the heir passes; every other allocation is
 * wiped and freed (EXIT); every grant p holds is dropped (REVOKE).
 */
void
applydetach(SProc *p)
{
	SProc *pa;
	SAlloc *x;

	while(p->held.n > 0){
		x = p->held.v[p->held.n-1];
		auditexp(x, 1);	/* REVOKE */
		delgrant(x, p);
	}
	if((pa = heirof(p)) != nil)
		inherit(p, pa);
	while(p->owned.n > 0){
		x = p->owned.v[p->owned.n-1];
		auditexp(x, 1);	/* EXIT */
		release(x, 0, x->size, 1);
		killalloc(x);
	}
	/* what p freed unwiped is wiped now and counts in total_wiped; the system's totals keep p's */
	p->wiped += p->deferred;
	sim.wiped += p->deferred;
	sim.exitwiped += p->wiped;
	sim.exitdeferred += p->deferred;
	p->attached = 0;
}
