/* the core's own functions, by file */

#include <string.h>	/* mem* and str*: all the core takes of libc */

/* heap.c: pages of the arena */
int	heapinit(usize);
void	heapfree(void);
Span*	pageget(ulong npage, Area*);
void	pageput(Span*);
Span*	spanget(void);
void	pagesplit(Span*, Span*, ulong);
usize	largestfree(void);
int	reclaimfits(ulong, Area*);

/* class.c: size classes */
void	classinit(void);
int	sizeclass(usize);
usize	fitsin(ulong);

/* slab.c: slots within an area's runs */
Rec*	slotalloc(Area*, usize, int, Span**, uint*);
void	givefront(Area*, Span*, Span*, ulong);
void	settle(Area*);
void	slotfree(Area*, Span*, uint);
void	spanrelease(Area*, Span*);
void	areaspan(Area*, Span*);
void	unareaspan(Area*, Span*);
void	reclaim(Area*);
void	emptyruns(Area*);
void	partialin(Area*, Span*);
void	partialout(Area*, Span*);

/* area.c: secure areas, lookups, budgets */
int	findrec(Area*, uintptr, int, Span**, uint*);
int	lockowner(uintptr, int, int, Area**, Span**, uint*);
void	unlockarea(Area*, int);
int	budgetset(Area*, usize);
uvlong	newid(Area*);

/* alloc.c */
void	dofree(Area*, Span*, uint, int);

/* share.c: grants */
Grant*	findgrant(Span*, uint, Area*);
void	dropgrant(Area*, Grant*);
void	dropspangrant(Grant*);
void	heldout(Area*, Grant*);
void	revokeall(Area*, Span*, uint);
int	mayaccess(Area*, Area*, Span*, uint, int);
void	setmapbit(Area*, int, int);
int	testmapbit(Area*, int);
void	fixmapbit(Area*, Area*);

/* auditring.c */
int	auditinit(int);
void	auditfree(void);
int	auditrenew(Aslot*);
Auditent*	auditent(uvlong);
uvlong	auditcount(uvlong*);
uvlong	auditslotcount(int);

/* audit.c */
void	auditput(Span*, uint, uint, Proc*, usize, ulong);
void	auditgone(Span*);
int	auditindex(Span*);
void	auditdenied(Span*, uint, Proc*, int);

/* conf.c */
void	confdefaults(Area*, Area*);
void	budgetsync(Area*);

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
int	pagerinit(void);
void	pagepin(uintptr, usize);
int	pageunpin(uintptr, usize);
void	pagerfree(void);

/* chacha.c */
void	chacha20(uchar *dst, uchar *src, usize, uchar key[32], uvlong nonce, uvlong ctr);

/* pebble.c: the instance, and host metadata with accounting */
void*	metaalloc(usize);
void*	metazalloc(usize);
void	metafree(void*, usize);

#define ATOMLOAD(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define ATOMSTORE(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define ATOMADD(p, v)	__atomic_add_fetch((p), (v), __ATOMIC_RELAXED)
#define nelem(x)	(sizeof(x)/sizeof((x)[0]))

/*
 * The few things on every allocation and free path, inline: finding a
 * span from an address, a slot from a span, charging a budget.
 */
static inline Span*
addrspan(uintptr a)
{
	uintptr base;

	base = (uintptr)pb->arena;
	if(a - base >= pb->size)	/* below base wraps round: also out */
		return nil;
	return ATOMLOAD(&pb->pagemap[(a - base) >> PGSHIFT]);
}

/* the record pagehint names for arena offset off (slab.c, sethint), or 0: a hint, maybe stale */
static inline uintptr
hintrec(uintptr off)
{
	uvlong h, i;

	h = ATOMLOAD(&pb->pagehint[off >> PGSHIFT]);
	if(h == 0)
		return 0;
	i = (((h >> Hintpage) << PGSHIFT) + (off & (PGSIZE-1))) * classes[(h >> Hintclass & 0xFF) - 1].magic >> 40;
	return (uintptr)((vlong)(h << (64-Hintclass)) >> (64-Hintclass)) + i*sizeof(Rec);
}

/*
 * Ask for the metadata a call on the allocation at v will walk (its
 * record and the span's two lines) all at once, before the call takes
 * a lock: slab.c (sethint) says why.  Addresses only, from words that
 * may be stale: a prefetch never faults.
 */
static inline void
prefetchmeta(uintptr v)
{
	uintptr off, r;
	Span *s;

	off = v - (uintptr)pb->arena;
	if(off >= pb->size)
		return;
	if((r = hintrec(off)) != 0){
		__builtin_prefetch((void*)r, 1);
		__builtin_prefetch((void*)(r + sizeof(Rec) - 1), 1);	/* a record may cross a line */
	}
	if((s = addrspan(v)) != nil){
		__builtin_prefetch(s, 0);
		__builtin_prefetch((char*)s + 64, 1);
	}
}

/* an area whose proc every call still sees: one whose exit has only begun is alive */
static inline int
alive(int state)
{
	return state == Alive || state == Aclosing;
}

/*
 * Slot i's Area, each on pages of its own.  Two procs' Areas in one
 * page cost a thread of each 20% of its pairs (40 against 34 ns,
 * tools/threadprobe), though no line is written by both: a processor
 * fetches lines beside and ahead of those it uses within a page, and
 * the other must take them back before it writes there (heap.c says
 * the same of span structures).  So the Areas take a page a slot:
 * 4 MiB for the default 1,024 slots.
 */
#define AREASTRIDE	((sizeof(Area) + PGSIZE-1) & ~(usize)(PGSIZE-1))
#define AREACOLOURS	32	/* offsets a line apart, a power of two: procarea pays no division */

static inline Area*
slotarea(int i)
{
	return (Area*)(pb->areas + (usize)i*AREASTRIDE + (usize)(i & (AREACOLOURS-1))*64);
}

/*
 * A proc's area is the one in its slot, if it was attached for this
 * very proc: a Proc is recycled, its pid is not.
 */
static inline Area*
procarea(Proc *p)
{
	int s;
	Area *a;

	s = procslot(p);
	if(s < 0 || s >= pb->conf.nproc)
		return nil;
	a = slotarea(s);
	if(!alive(ATOMLOAD(&a->state)) || ATOMLOAD(&a->rd.base.proc) != p || ATOMLOAD(&a->rd.base.pid) != procpid(p))
		return nil;
	return a;
}

/*
 * Is area a still p's?  A proc's identity in its slot is set before
 * the area goes Alive and cleared only at the end of its detach, both
 * under the area's lock: read under that lock it is stable, read under
 * the lock of an area whose memory p holds grants on it cannot go
 * before those grants do.  Every call that looked an area up without
 * a lock looks again here once it holds one: a slot may have been
 * given to another proc meanwhile.
 */
static inline int
isproc(Area *a, Proc *p)
{
	return ATOMLOAD(&a->rd.base.proc) == p && ATOMLOAD(&a->rd.base.pid) == procpid(p);
}

/* a is p's and alive; the caller holds a's lock */
static inline int
mine(Area *a, Proc *p)
{
	return alive(a->state) && isproc(a, p);
}

static inline Area*
spanarea(Span *s)
{
	return ATOMLOAD(&s->area);
}

static inline void
setspanarea(Span *s, Area *a)
{
	ATOMSTORE(&s->area, a);
}

/* (off*magic)>>40 == off/size for every offset in a run; large spans have magic 0 */
static inline uint
slotof(Span *s, uintptr a)
{
	return ((uvlong)(a - s->base) * s->magic) >> 40;
}

static inline uint
slotsize(Span *s)
{
	return s->size;
}

static inline uintptr
slotaddr(Span *s, uint i)
{
	return s->base + (uintptr)i * s->size;
}

static inline uintptr
recaddr(Span *s, uint i)
{
	return slotaddr(s, i) + s->rec[i].head;
}

static inline int
badperm(int perm)
{
	return perm == 0 || (perm & ~PEBBLE_RWX) != 0;
}

/*
 * passert: an invariant of the slot, page and grant bookkeeping.  On in
 * every build of this project (the deterministic host, the simulator,
 * the tests, the sanitizer builds, the benchmarks: a compare each); a
 * kernel build that defines PEBBLE_NOASSERT compiles them out.  A
 * broken invariant is a bug in the core, never a caller's error: it
 * panics rather than return a code.
 */
#define PASSERTSTR1(x)	#x
#define PASSERTSTR(x)	PASSERTSTR1(x)
#ifdef PEBBLE_NOASSERT
#define passert(c)	((void)0)
#else
#define passert(c)	((c) ? (void)0 : hostpanic("pebble: " __FILE__ ":" PASSERTSTR(__LINE__) ": broken invariant: " #c))
#endif

static inline void
charge(Area *a, usize n)
{
	passert(n <= a->budget.limit - a->budget.used);	/* callers checked the budget */
	a->budget.used += n;
	if(a->budget.used > a->budget.peak)
		a->budget.peak = a->budget.used;
	a->rd.used_size = a->budget.used;
}

static inline void
uncharge(Area *a, usize n)
{
	passert(n <= a->budget.used);
	a->budget.used -= n;
	a->rd.used_size = a->budget.used;
}

/* an entry's op, perms and result, packed as Auditent.word keeps them above the id: auditput's six arguments all go in registers */
#define AUDITHOW(op, perms, result)	((uint)(op) | (uint)(perms)<<4 | (uint)-(result)<<8)

/* most allocations are not audited: the test costs nothing then */
static inline void
auditlog(Span *s, uint i, int op, Proc *by, usize size, ulong peer, int perms, int result)
{
	if(s->rec[i].word & Faudit)
		auditput(s, i, AUDITHOW(op, perms, result), by, size, peer);
}
