/*
 * The few core internals the checker reads directly: where the arena
 * is, how many audit entries were logged, how many pages are out.
 * Nothing here writes; the core does not know the simulator exists.
 */
#include "pebble.h"
#include "dat.h"
#include "fns.h"
#include "sim.h"

uvlong
peekaudithead(void)
{
	return auditcount(nil);
}

/* entries logged on slot s's allocations: the core's own count, kept per slot */
uvlong
peekslotlogged(int s)
{
	return auditslotcount(s);
}

uvlong
peekauditsize(void)
{
	return pb->audit.n;	/* entries the ring keeps at least */
}

uintptr
peekarena(usize *n)
{
	*n = pb->size;
	return (uintptr)pb->arena;
}

uvlong
peekpagedout(void)
{
	return __atomic_load_n(&pb->pager.pagedout, __ATOMIC_RELAXED);
}
