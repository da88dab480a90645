/*
 * The deterministic host: a virtual clock its caller advances, entropy
 * from a seeded generator, plain memory, an in-memory swap store, and
 * failure injection.  Used by the C tests, the CFFI library and the
 * simulator.  Its locks are real, so threads may use it too; only
 * their interleaving is then left to the machine.
 */
#ifndef PEBBLE_DET_H
#define PEBBLE_DET_H

#include "proc.h"

void	detreset(uvlong seed);		/* clock 0, entropy reseeded, faults off, swap emptied */
void	detsetclock(uvlong ns);
void	detadvance(uvlong ns);
uvlong	detclock(void);
void	detfailmalloc(long n);		/* fail the nth hostmalloc from now (1 = next); 0 off */
void	detfailmallocevery(long n);	/* fail every nth hostmalloc; 0 off */
long	detmallocs(void);		/* hostmalloc calls so far */
usize	detmetabytes(void);		/* host memory the core holds now */
long	detblocks(void);		/* blocks the core holds now */
int	detswapcount(void);		/* pages in the swap store */
int	detswapread(int i, uvlong *key, uchar **buf, usize *n);
void	detfailswap(long n);		/* fail the nth hostswapout from now; 0 off */
/* call fn(page) at each hostswapin, before the page is written; detreset turns it off */
void	detswapinhook(void (*fn)(uvlong page));
void	detrefuselock(int on);		/* hostarena cannot lock the arena; detreset turns it off */
void	detcheckarena(int on);	/* at teardown, count the arena's non-zero bytes */
usize	detarenaleft(void);		/* what the last teardown left: 0 */
long	detarenas(void);		/* arenas the core holds now */
/*
 * Call fn(arg) once, at the next lock, rlock or wlock any call takes,
 * before taking it: a test stops a call between the look-ups it makes
 * without a lock and its first lock, and changes the world there.
 */
void	detlockhook(void (*fn)(void*), void *arg);
/* a crash dump: every block of host memory the core holds (never the arena) */
void	detdump(void (*fn)(void *buf, usize n, void *arg), void *arg);

#endif
