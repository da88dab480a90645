/* the core's own functions, by file */

#include <string.h>	/* mem* and str*: all the core takes of libc */

/* heap.c: pages of the arena */
int	heapinit(usize);
void	heapfree(void);
Span*	pageget(ulong npage);
void	pageput(Span*);
Span*	addrspan(uintptr);
void	setspanarea(Span*, Area*);
Area*	spanarea(Span*);
usize	largestfree(void);

/* class.c: size classes */
void	classinit(void);
int	sizeclass(usize);
uint	slotof(Span*, uintptr);
uintptr	slotaddr(Span*, uint);
uint	slotsize(Span*);

/* slab.c: slots within an area's runs */
Rec*	slotalloc(Area*, usize, Span**, uint*);
void	slotfree(Area*, Span*, uint);
void	spanrelease(Area*, Span*);
void	areaspan(Area*, Span*);
void	unareaspan(Area*, Span*);
void	reclaim(Area*);
void	emptyruns(Area*);
uintptr	recaddr(Span*, uint);
void	partialin(Area*, Span*);
void	partialout(Area*, Span*);

/* area.c: secure areas, lookups, budgets */
Area*	procarea(Proc*);
int	findrec(Area*, uintptr, int, Span**, uint*);
int	lockowner(uintptr, int, int, Area**, Span**, uint*);
void	unlockarea(Area*, int);
void	charge(Area*, usize);
void	uncharge(Area*, usize);
int	budgetset(Area*, usize);
uvlong	newid(Area*);

/* alloc.c */
void	dofree(Area*, Span*, uint, Proc*, int, int);
int	badperm(int);

/* share.c: grants */
Grant*	findgrant(Span*, uint, Area*);
void	dropgrant(Area*, Grant*);
void	dropspangrant(Grant*);
void	heldout(Area*, Grant*);
void	revokeall(Area*, Span*, uint, Proc*);
int	mayaccess(Area*, Area*, Span*, uint, int);
void	setmapbit(Area*, int, int);
void	fixmapbit(Area*, Area*);

/* audit.c */
int	auditinit(int);
void	auditfree(void);
void	auditlog(Rec*, int, Proc*, usize, ulong, int, int);
void	auditdenied(Span*, uint, Proc*, int);

/* conf.c */
void	confdefaults(Area*, Area*);
void	confsync(Area*);

/* proc.c */
void	areainit(Area*, int);

/* wipe.c */
void	secwipe(void*, usize);
void	zero(void*, usize);

/* pager.c */
void	pagein(uintptr, usize);
void	pagerdrop(uintptr, usize);
int	pagetouch(uintptr, usize);
void	pageinall(Area*);
void	pagerfree(void);

/* chacha.c */
void	chacha20(uchar *dst, uchar *src, usize, uchar key[32], uvlong nonce, uvlong ctr);

/* pebble.c: the instance, and host metadata with accounting */
void*	metaalloc(usize);
void	metafree(void*, usize);

#define ATOMLOAD(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define ATOMSTORE(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define ATOMADD(p, v)	__atomic_add_fetch((p), (v), __ATOMIC_RELAXED)
#define nelem(x)	(sizeof(x)/sizeof((x)[0]))
