/*
 * The POSIX host: real threads, the monotonic clock, getrandom, and
 * an arena mmap'd with a guard page on each side, mlock'd so it is
 * never swapped, MADV_DONTDUMP so no core file holds it, and
 * MADV_DONTFORK so no child of the process inherits it.  Used by the
 * benchmarks, the thread stress test and the example.
 */
#ifndef PEBBLE_POSIX_H
#define PEBBLE_POSIX_H

#include "proc.h"

/* how the arena was set up, for reports: 1 if mlock succeeded */
int	posixlocked(void);

#endif
