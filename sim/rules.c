/*
 * The rulebook: for every call, the result DESIGN.md section 2 (and
 * docs/decisions.md where it is silent) says the core must return,
 * predicted from the shadow before the call, and the effect of a
 * success on the shadow.  This is the one place the simulator states
 * the rules; it is written from those two documents, not from core/.
 *
 * The check order is DESIGN's: arguments (INVALID) -> subsystem
 * disabled (PERM) -> unknown proc or allocation (NOTFOUND) -> caller
 * not allowed (PERM) -> in use (BUSY) -> budget (BUDGET) -> heap
 * (NOMEM).  A refusal naming a live allocation logs DENIED when the
 * allocation is audited (decisions.md, Audit).
 */
#include "sim.h"

enum { OK = PEBBLE_ERR_OK, NOMEM = PEBBLE_ERR_NOMEM, PERM = PEBBLE_ERR_PERM,
	NOTFOUND = PEBBLE_ERR_NOTFOUND, INVALID = PEBBLE_ERR_INVALID,
	BUDGET = PEBBLE_ERR_BUDGET, BUSY = PEBBLE_ERR_BUSY };

char *confkeys[4] = { PEBBLE_CONF_BUDGET, PEBBLE_CONF_ENCRYPTION, PEBBLE_CONF_AUDIT, PEBBLE_CONF_AUTOWIPE };
enum { Kbudget, Kencryption, Kaudit, Kautowipe };

static Want
res(vlong r)
{
	Want w;

	memset(&w, 0, sizeof w);
	w.r = w.alt = r;
	return w;
}

static Want
denied(vlong r, SAlloc *t)
{
	Want w;

	w = res(r);
	w.t = t;
	w.denied = 1;
	return w;
}

/* "A permission argument of 0 or with other bits set is INVALID" */
static int
badperm(vlong perm)
{
	return perm == 0 || (perm & ~PEBBLE_RWX) != 0;
}

/* what p may do to t: its protection for the owner, the grant for a grantee, else 0 */
static int
rights(SAlloc *t, SProc *p)
{
	return t->owner == p ? t->prot : hasgrant(t, p);
}

/* attach(parent, p); named: a parent was given (not nil) */
Want
ruleattach(SProc *parent, int named)
{
	if(!sim.enabled)
		return res(PERM);
	if(named && !attached(parent))
		return res(NOTFOUND);
	return res(OK);
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

/* "size 0 ... is INVALID"; BUDGET is this proc's budget, NOMEM the heap */
Want
rulealloc(SProc *p, usize size, int perms)
{
	Want w;

	if(size == 0 || badperm(perms))
		return res(INVALID);
	if(!sim.enabled)
		return res(PERM);
	if(!attached(p))
		return res(NOTFOUND);
	if(size == p->limit - p->used)
		sim.bound[Bremain]++;
	if(size == p->limit - p->used + 1)
		sim.bound[Bremain1]++;
	if(size > p->limit - p->used)
		return res(BUDGET);
	w = res(OK);
	w.alt = NOMEM;
	return w;
}

/*
 * pebble_secure_check: [v, v+len) must lie in one live allocation;
 * a proc that neither owns nor holds a grant on it gets PERM whatever
 * len is; past the end is NOTFOUND; missing permission is PERM.
 */
Want
ruleaccess(SProc *p, uintptr v, usize len, int perm)
{
	SAlloc *t;
	Want w;

	if(v == 0 || len == 0 || badperm(perm))
		return res(INVALID);
	if(!attached(p))
		return res(NOTFOUND);
	if((t = allocin(v)) == nil)
		return res(NOTFOUND);
	if(rights(t, p) == 0)
		return denied(PERM, t);
	if(len == t->ptr + t->size - v)
		sim.bound[Bend]++;
	if(len > t->ptr + t->size - v){
		if(len == t->ptr + t->size - v + 1)
			sim.bound[Bend1]++;
		return res(NOTFOUND);
	}
	if((perm & ~rights(t, p)) != 0)
		return denied(PERM, t);
	w = res(OK);
	w.t = t;
	w.have = rights(t, p);
	return w;
}

/*
 * free, free_size, wipe, wipe_and_free at v with size n: only the
 * owner frees; the owner or a grantee holding WRITE wipes; a size is
 * judged after permission (a stranger learns nothing of it).
 */
Want
rulememop(int op, SProc *p, uintptr v, usize n)
{
	SAlloc *t;
	Want w;
	int ok;

	if(op == Ofreesize && n == 0)
		return res(INVALID);
	if(!attached(p) || (t = allocat(v)) == nil)
		return res(NOTFOUND);
	ok = t->owner == p || (op == Owipe && (hasgrant(t, p) & PEBBLE_WRITE));
	if(!ok)
		return denied(PERM, t);
	if(op != Ofree && n == t->size)
		sim.bound[Bend]++;
	if(op != Ofree && n == t->size + 1)
		sim.bound[Bend1]++;
	if(n > t->size || (op == Owipefree && n != 0 && n != t->size))
		return denied(INVALID, t);
	w = res(OK);
	w.t = t;
	w.n = n == 0 || op == Owipefree || op == Ofree ? t->size : n;
	return w;
}

/* bytes of t released by its owner: wiped now, or left for reuse or detach */
static void
release(SAlloc *t, usize off, usize n, int wipe)
{
	SProc *o;

	o = t->owner;
	if(wipe){
		o->wiped += n;
		sim.wiped += n;
		shadowzero(t, off, n);
	}else{
		o->deferred += n;
		sim.deferred += n;
		residue(o, t, off, n);
	}
}

void
applymemop(int op, Want *w)
{
	SAlloc *t;

	t = w->t;
	auditexp(t, 1);		/* WIPE, FREE or PARTIAL_FREE */
	switch(op){
	case Owipe:
		release(t, 0, w->n, 1);
		break;
	case Owipefree:
		release(t, 0, t->size, 1);
		killalloc(t);
		break;
	default:
		release(t, 0, w->n, t->owner->wipe);
		if(w->n == t->size){
			killalloc(t);
			break;
		}
		/* the allocation continues at ptr+n with size-n, same id, same grants */
		unchargep(t->owner, w->n);
		shadowcut(t, w->n);
	}
}

/*
 * share and revoke: only the owner; the target another attached proc;
 * grants a subset of the protection; across users only for eve.
 */
Want
ruleshare(int op, SProc *p, SProc *q, int same, uintptr v, int perms)
{
	SAlloc *t;
	Want w;

	if(same || (op == Oshare && badperm(perms)))
		return res(INVALID);
	if(op == Oshare && !sim.enabled)
		return res(PERM);
	if(!attached(p) || !attached(q) || (t = allocat(v)) == nil)
		return res(NOTFOUND);
	if(t->owner != p || (perms & ~t->prot) != 0
	|| (op == Oshare && !iseve(p) && strcmp(p->user, q->user) != 0))
		return denied(PERM, t);
	if(op == Orevoke && !hasgrant(t, q))
		return res(NOTFOUND);
	w = res(OK);
	w.t = t;
	if(op == Oshare && sim.failarmed && !hasgrant(t, q))
		w.alt = NOMEM;	/* a new grant takes metadata */
	return w;
}

void
applyshare(int op, Want *w, SProc *q, int perms)
{
	auditexp(w->t, 1);
	if(op == Oshare)
		addgrant(w->t, q, perms);
	else
		delgrant(w->t, q);
}

/* info: the start of a live allocation, the owner or a grantee */
Want
ruleinfo(SProc *p, uintptr v)
{
	SAlloc *t;
	Want w;

	if(!attached(p) || (t = allocat(v)) == nil)
		return res(NOTFOUND);
	if(rights(t, p) == 0)
		return denied(PERM, t);
	w = res(OK);
	w.t = t;
	w.have = rights(t, p);
	return w;
}

/* audit queries: "for the owner or eve; others get PERM" */
Want
ruleaudit(SProc *p, uintptr v, int max)
{
	SAlloc *t;
	Want w;

	if(max <= 0)
		return res(INVALID);
	if(!attached(p) || (t = allocat(v)) == nil)
		return res(NOTFOUND);
	if(t->owner != p && !iseve(p))
		return denied(PERM, t);
	w = res(OK);
	w.t = t;
	return w;
}

/* Budgets: set above the maximum BUDGET, below usage BUSY; increase past it BUDGET; decrease past 0 INVALID */
Want
rulebudget(int op, SProc *p, usize v)
{
	if(v > (usize)-1 / 2)
		sim.bound[Bbigbudget]++;
	if(op != Obudgetdec && !sim.enabled)
		return res(PERM);
	if(!attached(p))
		return res(NOTFOUND);
	switch(op){
	case Obudgetset:
		return res(v < p->used ? BUSY : v > sim.maxbudget ? BUDGET : OK);
	case Obudgetinc:
		return res(v > sim.maxbudget || p->limit > sim.maxbudget - v ? BUDGET : OK);
	default:
		return res(v > p->limit ? INVALID : p->limit - v < p->used ? BUSY : OK);
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

	w = res(OK);
	w.key = k = confkey(key);
	if(k == Kbudget)
		ok = budgetvalue(val, &w.v) == 0;
	else
		ok = k >= 0 && (strcmp(val, "0") == 0 || strcmp(val, "1") == 0);
	if(!ok){
		sim.bound[Bbadconf]++;
		return res(INVALID);
	}
	if(k != Kbudget)
		w.v = val[0] - '0';
	if(!sim.enabled)
		return res(PERM);
	if(!attached(p))
		return res(NOTFOUND);
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
	return res(attached(p) ? OK : NOTFOUND);
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
