/*
 * The core's own structures.  Everything hangs off one Pebble
 * instance (pb), so that a host can make and tear down as many
 * instances as it likes, one at a time.
 */

typedef struct Ablock Ablock;
typedef struct Area Area;
typedef struct Auditent Auditent;
typedef struct Aslot Aslot;
typedef struct Auditlog Auditlog;
typedef struct Class Class;
typedef struct Grant Grant;
typedef struct Pager Pager;
typedef struct Pebble Pebble;
typedef struct Rec Rec;
typedef struct Span Span;
typedef struct Spanpage Spanpage;

enum {
	PGSHIFT		= 12,
	PGSIZE		= 1<<PGSHIFT,
	QUANTUM		= 16,		/* alignment and smallest class */
	MAXCLASS	= 64*1024,	/* larger allocations get whole pages */
	NSMALL		= 64,		/* classes up to a page */
	NCLASS		= NSMALL + MAXCLASS/PGSIZE - 1,	/* then one a page count */
	MAXSLOT		= 512,		/* slots in one run */
	NBIN		= 128,		/* free page lists */
	NCONF		= 4,
	CONFLEN		= 24,
	IDBLOCK		= 1<<16,	/* ids an area takes at a time */
	Ablk		= 256,		/* audit entries an area claims at a time */
	Ablkmin		= PEBBLE_AUDITEXACT,	/* ... in a ring of at least this many (smaller: blocks of one) */
	Apre		= 16,		/* audit entries written ahead of are prefetched, owned (audit.c) */
	Coldpages	= 512,		/* arena pages in use (2 MiB) past which frees prefetch (heap.c, coldcheck) */
	Hintpages	= 255,		/* runs of at most this many pages have a pagehint (slab.c) */
	Hintclass	= 48,		/* a pagehint: the record pointer below, its class+1 from here */
	Hintpage	= 56,		/* ... and the page's place in its run from here */
};

/* span kinds */
enum {
	Sfree	= 0,
	Srun,		/* slots of one size class */
	Slarge,		/* one allocation of whole pages */
	Staken,		/* out of the free bins, not yet given a use */
};

/* area states */
enum {
	Aidle	= 0,
	Alive,
	Aclosing,	/* alive to every call, but its exit has begun: no new grants to it */
	Adying,		/* gone; only seen by a call that waits for its detach to end */
};

/* Rec.word: the id in the low bits, flags above */
enum {
	IDBITS	= 48,
	Fperm	= 7ULL<<IDBITS,
	Flive	= 1ULL<<(IDBITS+3),
	Faudit	= 1ULL<<(IDBITS+4),
	Fdirty	= 1ULL<<(IDBITS+5),	/* slot bytes not all zero */
	Fshared	= 1ULL<<(IDBITS+6),	/* grants exist in span->grants */
	Finherit	= 1ULL<<(IDBITS+7),	/* passes to the parent at exit (proc.c) */
};
#define RID(r)		((r)->word & ((1ULL<<IDBITS)-1))
#define RPERM(r)	((int)(((r)->word & Fperm) >> IDBITS))

/*
 * One allocation, or a free slot.  Kept outside the arena, 24 bytes:
 * an overflow of secret data cannot reach it.  Its owner is its
 * span's area; its address is its slot's plus head.
 */
struct Rec {
	uvlong	time;
	uvlong	word;
	uint	head;		/* bytes released from the front */
	uint	size;		/* bytes charged */
};

struct Grant {
	Grant	*next;		/* span->grants, under the owner's lock */
	Grant	*hnext;		/* holder->held, under holder->heldlk */
	Grant	*hprev;
	Area	*owner;		/* changes only at inheritance (atomic) */
	Area	*holder;
	Span	*span;
	int	idx;		/* slot in span */
	int	perm;
};

/*
 * A run of pages.  Span structures are never freed while the instance
 * lives, so a reader that loaded one from the page map may lock its
 * area and look again.
 */
struct Span {
	uintptr	base;
	ulong	npage;
	uvlong	magic;		/* of its class; 0 for a large span */
	Area	*area;		/* owner, nil when free (atomic) */
	Span	*next;		/* free bin, or area's partial list */
	Span	*prev;
	Span	*anext;		/* area's list of all its spans */
	Span	*aprev;
	Rec	*rec;		/* nslot records */
	uvlong	*freemap;	/* bit set: slot free */
	Grant	*grants;
	uvlong	*alast;		/* per slot: 1 + log sequence of its newest audit entry; nil until audited */
	usize	metasize;	/* bytes of rec and freemap */
	Spanpage	*page;	/* the page of structures this one is in (heap.c) */
	uint	size;		/* of a slot; a large span's one slot is all of it */
	uchar	kind;
	schar	class;		/* -1: not a run of a class */
	ushort	nslot;
	ushort	nfree;
	ushort	hint;		/* freemap word to look in first */
	uchar	empty;		/* a run kept with no allocation in it (atomic): free for largestfree */
	uchar	inpartial;
	uchar	inbin;		/* in a free bin: read and written only under heaplk */
} __attribute__((aligned(64)));	/* two cache lines: spans of two procs never share one */

/*
 * A page of span structures, all of them for one area's spans or all
 * for the heap's (heap.c): this heads it, in the first Span's place.
 */
struct Spanpage {
	Spanpage	*next;	/* every page, to give back at shutdown */
	Spanpage	*onext;	/* its owner's pages with a structure free */
	Span	*free;
	Area	*owner;		/* nil: the heap's */
	int	nfree;
};

struct Class {
	uint	size;
	ushort	npage;
	ushort	nslot;
	uvlong	magic;		/* (off*magic)>>32 == off/size */
};

struct Area {
	SecureRamdisk	rd;	/* rd.lock guards all but held and state changes */
	PebbleBudget	budget;
	int	state;		/* Alive etc, changed under rd.lock and heldlk */
	int	audit;		/* pebble.secure.audit */
	Aslot	*aslot;		/* its slot's place in the audit log, found once */
	Span	*runs[NCLASS];	/* runs with free slots */
	Span	*spans;		/* everything this area owns */
	Spanpage	*spanpg;	/* its pages of span structures with one free (heaplk) */
	uvlong	idnext;
	uvlong	idlim;
	usize	slotbytes;	/* heap bytes its live allocations occupy */
	int	hasempty;	/* may keep empty runs (atomic) */
	Lock	heldlk;
	Grant	*held;		/* grants this proc holds on others' memory */
	char	budgetstr[2][CONFLEN];	/* pebble.secure.budget, canonical: old and new */
	int	budgetcur;	/* which of them getconf hands out (atomic) */
	uchar	key[32];	/* pager's, from host entropy */
	uvlong	nonce;
	ulong	ppid;		/* pid of the host parent it had when attached, 0 if none (Plan 9's parentpid) */
	Area	*locker;	/* the exiting area holding this one's write lock in its lock set (proc.c) */
	Area	*locknext;	/* the next area in that set, under this one's lock */
	Area	*lockset;	/* the set this area's exit holds, while it holds it */
} __attribute__((aligned(64)));	/* a page each: slotarea (fns.h) */

/* one cache line: a logging proc writes whole lines of its own block */
struct Auditent {
	uvlong	seq;		/* 1 + its sequence; 0 while being written */
	uvlong	time;
	uvlong	word;		/* the allocation's id, and op, perms, -result above IDBITS */
	Proc	*proc;
	ulong	pid;
	ulong	peer;
	usize	size;
	uvlong	prev;		/* 1 + the sequence of the allocation's entry before, or 0 */
} __attribute__((aligned(64)));

/*
 * A proc slot's place in the audit log, kept from one proc in the slot
 * to the next: two lines each, in one array, so that logging writes
 * only its own first line (its second once a block) and the system
 * statistics add the counts up from one array, not from each Area.
 */
struct Aslot {
	Lock	lk;		/* taken by whoever logs on the slot's allocations under its read lock */
	Auditent	*ent;	/* its block's first entry, nil if it holds none */
	Auditent	*cur;	/* the next entry to write in it */
	uvlong	seq;		/* that entry's sequence: (claim*nblk + block)*blk + its place */
	uvlong	end;		/* n when it took the block, plus blk: n == end, it needs another */
	uvlong	n;		/* entries written to blocks by the slot (atomic) */
	uvlong	nolog;		/* entries logged with no block to hold them (atomic) */
	uvlong	dropped;	/* of all logged by the slot, how many later overwritten or never kept (atomic) */
	/* a second line, touched once a block: the blocks it let go, oldest first */
	Lock	listlk __attribute__((aligned(64)));	/* taken by the slot, and by another slot taking one of them */
	long	head;		/* -1 if none (atomic: looked at without the lock) */
	long	tail;
	int	holder;		/* it has taken a block, and is counted in Auditlog.holders */
	int	reused;		/* its block held older entries when taken: end-n of them are still there (atomic) */
} __attribute__((aligned(64)));

/*
 * A large ring's block, let go: the next its slot let go after it, and
 * when.  A line each, written only by the slot that let it go (and by
 * one that takes it from that slot's list, under the list's lock).
 */
struct Ablock {
	long	next;		/* block, or -1 */
	uvlong	stamp;		/* Auditlog.taken when it was let go */
} __attribute__((aligned(64)));

struct Auditlog {
	Auditent	*ring;	/* nblk blocks of blk entries, zeroed by the host */
	Aslot	*slot;		/* per proc slot */
	Ablock	*node;		/* per block of a large ring */
	uvlong	n;		/* entries it retains at least: Pebbleconf.auditsize */
	uvlong	need;		/* ceil(n/blk) for a large ring */
	uvlong	nblk;
	uint	blk;		/* entries in a block: 1, or Ablk for a large ring */
	Lock	fifolk __attribute__((aligned(64)));	/* a small ring's: held while an entry is written */
	uvlong	taken;		/* blocks ever taken (atomic): a large ring's one line written by every slot, once a block */
	uvlong	fresh __attribute__((aligned(64)));	/* blocks never taken: fresh..nblk-1 (atomic) */
	uvlong	holders;	/* slots that have taken a block, and keep one (atomic) */
} __attribute__((aligned(64)));

/* the pager's state: set up and torn down in pager.c */
struct Pager {
	uvlong	pagedout;	/* pages now in swap; atomic */
	uchar	*out;		/* page -> 1 when its contents are in swap */
	uvlong	*nonce;		/* page -> nonce it was encrypted under */
	uchar	*buf;		/* the pager's ciphertext, never plaintext */
	uint	*pin;		/* page -> pins held on it (atomic): the pager passes it by */
	ulong	hand;		/* the clock over the arena */
	Lock	lk;		/* one pageout at a time */
};

struct Pebble {
	Pebbleconf	conf;
	uchar	*arena;
	usize	size;
	ulong	npage;
	int	locked;
	Span	**pagemap;	/* page -> span, atomic */
	uvlong	*pagehint;	/* page -> where its run's records are: a prefetch hint only (slab.c) */
	uchar	*areas;	/* a page for each slot's Area: slotarea (fns.h) */
	ulong	*maps;		/* storage for every area's access_map */
	int	mapwords;
	int	cold;		/* the arena in use is past the caches: frees ask for their metadata early (heap.c, coldcheck) */
	/*
	 * Every call reads the fields above; what some call writes
	 * starts a line of its own below, so that no proc's writes
	 * make another proc miss on a line it only reads.
	 */
	RWLock	exitlk __attribute__((aligned(64)));	/* exits read, the system statistics write (proc.c) */
	Lock	heaplk __attribute__((aligned(64)));	/* the free page lists */
	Span	*bin[NBIN];
	uvlong	binmap[NBIN/64];
	ulong	freepages;
	uint	*rows;		/* at a span's first page: its pages, | Rowfree if in a bin (heaplk) */
	Spanpage	*spanpg;	/* the heap's pages of span structures with one free */
	Spanpage	*pages;	/* every page of span structures */
	Auditlog	audit;
	uvlong	idnext __attribute__((aligned(64)));	/* atomic, in IDBLOCKs */
	usize	metabytes __attribute__((aligned(64)));	/* atomic */
	int	hasempty __attribute__((aligned(64)));	/* some area may keep empty runs (atomic) */
	usize	exitwiped __attribute__((aligned(64)));	/* total_wiped of procs that exited (atomic) */
	usize	exitdeferred;	/* and their total_deferred */
	Pager	pager;
};

#define Hintrec	((1ULL<<Hintclass)-1)	/* a pagehint's record pointer */

extern Pebble	*pb;
extern Class	classes[NCLASS];
