/*
 * What the hosts' lock.c says about itself, for tests and reports:
 * how many times an RWLock was biased to a thread and how many times a
 * bias was taken away (lock.c), since the process started; and whether
 * biasing is possible here at all (membarrier(2) registered).
 */
#ifndef PEBBLE_HOSTLOCK_H
#define PEBBLE_HOSTLOCK_H

#include "../host.h"

void	lockcounts(uvlong *given, uvlong *taken);
int	lockcanbias(void);

#endif
