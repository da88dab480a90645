/*
 * The few core internals the checker reads directly: where the arena
 * is, how many audit entries were logged, how many pages are out.
 * Nothing here writes; the core does not know the simulator exists.
 */
#include "pebble.h"
#include "dat.h"
#include "sim.h"

uvlong
peekaudithead(void)
{
	return __atomic_load_n(&pb->audit.head, __ATOMIC_RELAXED);
}

uvlong
peekauditsize(void)
{
	return pb->audit.n;
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
