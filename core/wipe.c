/*
 * Wiping.  secwipe is for bytes that held secrets: the compiler must
 * not drop it because nothing reads the memory afterwards, so it is
 * explicit_bzero, and the asm barrier keeps even an inlining libc
 * honest.  zero is for memory about to be handed out, where an
 * ordinary memset is what we want and faster.
 */
#include "pebble.h"
#include "dat.h"
#include "fns.h"

void
secwipe(void *p, usize n)
{
	explicit_bzero(p, n);
	__asm__ __volatile__("" : : "r"(p) : "memory");
}

void
zero(void *p, usize n)
{
	memset(p, 0, n);
}
