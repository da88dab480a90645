/*
 * Secure areas: finding the area that owns an address, and budgets
 * (a proc's own area is procarea, in fns.h).
 *
 * The owner of an
 * address is found through the page map without any lock, then
 * confirmed under the owner's lock: spans move between areas only
 * under their owner's lock, so a span still owned once that lock is
 * held stays owned until it is let go.
 */
#include "pebble.h"
#include "dat.h"
#include "fns.h"

/*
 * The allocation of a's at address v: its start if exact, else any
 * byte of it.  The caller holds a's lock.
 */
int
findrec(Area *a, uintptr v, int exact, Span **sp, uint *ip)
{
	Span *s;
	Rec *r;
	uint i;
	uintptr start;

	s = addrspan(v);
	if(s == nil || spanarea(s) != a || s->kind == Sfree)
		return 0;
	if(v < s->base || v >= s->base + (s->npage << PGSHIFT))
		return 0;
	i = slotof(s, v);
	if(i >= s->nslot)
		return 0;
	r = &s->rec[i];
	if((r->word & Flive) == 0)
		return 0;
	start = slotaddr(s, i) + r->head;
	if(exact ? v != start : v < start || v - start >= r->size)
		return 0;
	*sp = s;
	*ip = i;
	return 1;
}

void
unlockarea(Area *a, int write)
{
	if(write)
		wunlock(&a->rd.lock);
	else
		runlock(&a->rd.lock);
}

static void
lockarea(Area *a, int write)
{
	if(write)
		wlock(&a->rd.lock);
	else
		rlock(&a->rd.lock);
}

/*
 * Find and lock the owner of the allocation at v.  Returns 1 with the
 * owner locked, or 0 (NOTFOUND) with nothing locked.
 */
int
lockowner(uintptr v, int exact, int write, Area **ap, Span **sp, uint *ip)
{
	Span *s;
	Area *a;

	for(;;){
		s = addrspan(v);
		if(s == nil)
			return 0;
		a = spanarea(s);
		if(a == nil)
			return 0;
		lockarea(a, write);
		if(spanarea(s) == a && addrspan(v) == s)
			break;
		unlockarea(a, write);	/* moved while we looked: look again */
	}
	if(a->state == Aidle || !findrec(a, v, exact, sp, ip)){
		unlockarea(a, write);
		return 0;
	}
	*ap = a;
	return 1;
}

/* ids are taken from the instance in blocks, so areas do not share a counter's cache line */
uvlong
newid(Area *a)
{
	if(a->idnext == a->idlim){
		a->idnext = __atomic_fetch_add(&pb->idnext, IDBLOCK, __ATOMIC_RELAXED);
		a->idlim = a->idnext + IDBLOCK;
	}
	return a->idnext++;
}

static void
setlimit(Area *a, usize n)
{
	a->budget.limit = n;
	a->rd.total_size = n;
	budgetsync(a);
}

usize
pebble_secure_budget_get(Proc *p)
{
	Area *a;
	usize n;

	if(p == nil || pb == nil || (a = procarea(p)) == nil)
		return 0;
	rlock(&a->rd.lock);
	n = mine(a, p) ? a->budget.limit : 0;
	runlock(&a->rd.lock);
	return n;
}

/* pebble.secure.budget goes through here too */
int
budgetset(Area *a, usize v)
{
	if(v < a->budget.used)
		return PEBBLE_ERR_BUSY;
	if(v > pebble_secure_max_budget)
		return PEBBLE_ERR_BUDGET;
	setlimit(a, v);
	return PEBBLE_ERR_OK;
}

static int
budgetadd(Area *a, usize v)
{
	if(v > pebble_secure_max_budget || a->budget.limit > pebble_secure_max_budget - v)
		return PEBBLE_ERR_BUDGET;
	setlimit(a, a->budget.limit + v);
	return PEBBLE_ERR_OK;
}

static int
budgetsub(Area *a, usize v)
{
	if(v > a->budget.limit)
		return PEBBLE_ERR_INVALID;
	if(a->budget.limit - v < a->budget.used)
		return PEBBLE_ERR_BUSY;
	setlimit(a, a->budget.limit - v);
	return PEBBLE_ERR_OK;
}

/* the budget calls' common shape: checks in DESIGN order, then op */
static int
budgetop(Proc *p, usize v, int (*op)(Area*, usize), int extends)
{
	Area *a;
	int err;

	if(p == nil || pb == nil)
		return PEBBLE_ERR_INVALID;
	if(extends && !pebble_secure_enabled)
		return PEBBLE_ERR_PERM;
	if((a = procarea(p)) == nil)
		return PEBBLE_ERR_NOTFOUND;
	wlock(&a->rd.lock);
	if(!mine(a, p))
		err = PEBBLE_ERR_NOTFOUND;
	else
		err = op(a, v);
	wunlock(&a->rd.lock);
	return err;
}

int
pebble_secure_budget_set(Proc *p, usize budget)
{
	return budgetop(p, budget, budgetset, 1);
}

int
pebble_secure_budget_increase(Proc *p, usize additional)
{
	return budgetop(p, additional, budgetadd, 1);
}

int
pebble_secure_budget_decrease(Proc *p, usize reduction)
{
	return budgetop(p, reduction, budgetsub, 0);
}
