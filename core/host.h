/*
 * The host boundary: everything the core needs from a kernel.
 * The core includes this and nothing else of its host.  Each host
 * (host/det.c: deterministic, for tests, CFFI and the simulator;
 * host/posix.c: pthreads, a real clock, an mlock'd arena) implements
 * every function declared here.
 */
#ifndef PEBBLE_HOST_H
#define PEBBLE_HOST_H

#include <stddef.h>

#ifndef nil
#define nil	((void*)0)
#endif

typedef unsigned char	uchar;
typedef signed char	schar;
typedef unsigned short	ushort;
typedef unsigned int	uint;
typedef unsigned long	ulong;
typedef unsigned long long	uvlong;
typedef long long	vlong;
typedef size_t		usize;
typedef unsigned long	uintptr;

typedef struct Proc Proc;		/* the host's; opaque to the core */

/*
 * Locks are the core's storage and the host's protocol: the core embeds
 * them, the host decides what the words mean.  Neither sleeps: every
 * path must be callable where a kernel cannot sleep.
 */
typedef struct Lock Lock;
typedef struct RWLock RWLock;
struct Lock {
	long	key;
};
struct RWLock {
	long	state;		/* readers, or -1 held for writing */
	void	*bias;		/* the thread that may take it with plain stores (lock.c) */
	void	*last;		/* the thread that last took it for writing */
	uint	streak;		/* ... and how many times in a row */
	uint	revoked;	/* biases taken away soon after given: the next needs longer streaks */
	uint	nbias;		/* takes by the bias since it was given */
};

void	lock(Lock*);
void	unlock(Lock*);
int	canlock(Lock*);
void	rlock(RWLock*);
void	runlock(RWLock*);
void	wlock(RWLock*);
void	wunlock(RWLock*);
int	canwlock(RWLock*);
void	yield(void);		/* give the processor away: waiting for another's exit */

/* Proc identity */
int	procslot(Proc*);	/* index in the proc table, 0..nproc-1 */
ulong	procpid(Proc*);
char*	procuser(Proc*);
Proc*	procparent(Proc*);	/* nil if none */
int	procnowait(Proc*);	/* made with RFNOWAIT: no parent for inheritance */
int	proceve(Proc*);		/* runs as the host owner */

/* a broken invariant: never returns */
void	hostpanic(char *msg);

/* time and entropy */
uvlong	hostnsec(void);		/* monotonic; virtual in the simulator */
void	hostrand(void *buf, usize n);

/*
 * Memory.  hostarena gives the secure heap's pages (zeroed); its
 * locked result says whether they are pinned.  A host that cannot pin
 * them says why (a real one names its limit) unless mayunlock allows
 * running unpinned; the core then does not start (heap.c).  hostmalloc is for the core's metadata and may fail (the
 * simulator injects failures); hostzalloc is the same, zeroed: the
 * big tables (the audit ring, the access maps, the page tables) come
 * from it, so that a host can give them as lazily zeroed pages and an
 * untouched ring costs nothing.  A block of whole pages should start
 * on a page: the core keeps each area's span structures in pages of
 * their own, and two procs' structures in one page slow both (heap.c);
 * the det host need not, a block anywhere is only slower.
 */
void*	hostarena(usize size, int mayunlock, int *locked);
void	hostarenafree(void *base, usize size);
void*	hostmalloc(usize size);
void*	hostzalloc(usize size);	/* zeroed; a big block may be pages zeroed when first touched */
void	hostfree(void *p, usize size);

/*
 * Swap store for the pager: pages of encrypted areas leave the arena
 * only as ciphertext written here.  0 on success, -1 on failure.
 */
int	hostswapout(uvlong key, void *buf, usize n);
int	hostswapin(uvlong key, void *buf, usize n);
void	hostswapdrop(uvlong key);

#endif
