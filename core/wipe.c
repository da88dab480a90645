/*
 * Wiping.  secwipe is for bytes that held secrets: the compiler must
 * not drop it because nothing reads the memory afterwards, so the asm
 * barrier after it says the memory is used.  Up to 64 bytes (most keys
 * and most frees) are stored in line, two to four overlapping stores
 * of one width that cover exactly [p, p+n), as a libc memset does
 * inside: a call to explicit_bzero through the PLT, and its memset's
 * size dispatch, cost more than the stores.  Larger wipes go to
 * explicit_bzero.  zero is for memory about to be handed out, where an
 * ordinary memset is what we want and faster.
 */
#include "pebble.h"
#include "dat.h"
#include "fns.h"

static const uchar zeros[16];

/* w-byte stores of zeros at p and p+n-w, and at p+w and p+n-2w if n > 2w: n in [w, 4w] */
#define OVERLAP(p, n, w)	do{ \
	__builtin_memcpy((p), zeros, (w)); \
	__builtin_memcpy((p)+(n)-(w), zeros, (w)); \
	if((n) > 2*(w)){ \
		__builtin_memcpy((p)+(w), zeros, (w)); \
		__builtin_memcpy((p)+(n)-2*(w), zeros, (w)); \
	} \
}while(0)

void
secwipe(void *v, usize n)
{
	uchar *p;

	p = v;
	if(n > 64)
		explicit_bzero(p, n);
	else if(n >= 16)
		OVERLAP(p, n, 16);
	else if(n >= 4)
		OVERLAP(p, n, 4);
	else
		while(n-- > 0)
			*p++ = 0;
	__asm__ __volatile__("" : : "r"(v) : "memory");
}

void
zero(void *p, usize n)
{
	memset(p, 0, n);
}
