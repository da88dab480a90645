/*
 * The queries: what a caller may learn of one allocation (info) and
 * of its own area (stats).  Queries keep working with the subsystem
 * switched off, so a proc can always find what it has to free.
 */
#include "pebble.h"
#include "dat.h"
#include "fns.h"

/*
 * A detach takes effect, for everyone else, when it marks its area
 * dying: from then on calls naming the proc are NOTFOUND, so its grants
 * are no longer counted, though it drops them one by one after.
 */
static int
ngrants(Span *s, uint i)
{
	Grant *g;
	int n;

	n = 0;
	for(g = s->grants; g != nil; g = g->next)
		if(g->idx == (int)i && alive(ATOMLOAD(&g->holder->state)))
			n++;
	return n;
}

int
pebble_secure_info(Proc *p, void *ptr, SecureAllocation *info)
{
	Area *c, *a;
	Span *s;
	Rec *r;
	Grant *g;
	uint i;
	int have;

	if(p == nil || ptr == nil || info == nil || pb == nil)
		return PEBBLE_ERR_INVALID;
	if((c = procarea(p)) == nil)
		return PEBBLE_ERR_NOTFOUND;
	if(!lockowner((uintptr)ptr, 1, 0, &a, &s, &i))
		return PEBBLE_ERR_NOTFOUND;
	if(!isproc(c, p)){
		runlock(&a->rd.lock);
		return PEBBLE_ERR_NOTFOUND;
	}
	r = &s->rec[i];
	have = RPERM(r);
	if(a != c){
		g = findgrant(s, i, c);
		if(g == nil){
			auditdenied(s, i, p, PEBBLE_ERR_PERM);
			runlock(&a->rd.lock);
			return PEBBLE_ERR_PERM;
		}
		have = g->perm;
	}
	memset(info, 0, sizeof *info);
	info->ptr = ptr;
	info->size = r->size;
	info->owner = a->rd.base.proc;
	info->permissions = have;
	info->alloc_time = r->time;
	info->ramdisk = &a->rd;
	info->pid = a->rd.base.pid;
	info->id = RID(r);
	info->ngrants = ngrants(s, i);
	info->protection = RPERM(r);
	runlock(&a->rd.lock);
	return PEBBLE_ERR_OK;
}

int
pebble_secure_stats(Proc *p, PebbleSecureStats *st)
{
	Area *a;

	if(p == nil || st == nil || pb == nil)
		return PEBBLE_ERR_INVALID;
	if((a = procarea(p)) == nil)
		return PEBBLE_ERR_NOTFOUND;
	rlock(&a->rd.lock);
	if(!mine(a, p)){
		runlock(&a->rd.lock);
		return PEBBLE_ERR_NOTFOUND;
	}
	st->total_budget = a->budget.limit;
	st->used_budget = a->budget.used;
	st->num_allocations = a->budget.nalloc;
	st->peak_usage = a->budget.peak;
	st->total_wiped = a->budget.wiped;
	st->total_deferred = a->budget.deferred;
	runlock(&a->rd.lock);
	return PEBBLE_ERR_OK;
}
