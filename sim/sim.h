/*
 * pebblesim: the deterministic simulator of Plan 9 procs using the
 * secure storage core.  This header holds the types every file shares;
 * simfns.h, which it includes, says file by file what each one offers.
 * Each .c file has one job and includes this header (wl.h and rules.h
 * add the workloads' and the rulebook's declarations); the dependencies
 * between the files run one way, from the command line down to the shadow:
 *
 *	main.c, py.c		the command line, the Python entry points
 *	engine.c		runs and replays: set up, loop, summary
 *	workload.c, swarm.c	what the procs do (named profiles; swarm)
 *	faults.c		the host driver: kills, failures, pressure
 *	queue.c			the event queue (virtual time, then sequence)
 *	exec.c			one event: expect -> call -> compare -> apply
 *	memcalls.c, calls.c	the calls: memory ones; the rest
 *	rules.c, rulesproc.c	the rulebook: DESIGN.md section 2, call by call
 *	procs.c			the Plan 9 proc table: rfork, exit, orphans
 *	shadow.c, tree.c	the simulator's own record of what it did
 *	content.c		the shadow's bytes, in sparse 4 KiB chunks
 *	check.c, scan.c		the checks: per event, and the periodic scans
 *	cover.c			the coverage report: calls x results, checks, boundaries
 *	fail.c			the failure record and the reproduce line
 *	crash.c			a crash's report, and its trace
 *	trace.c, shrink.c	traces as text; delta debugging
 *	names.c, rng.c, util.c	names of things, random streams, containers
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pebble.h"
#include "host/det.h"

#define nelem(x)	(sizeof(x)/sizeof((x)[0]))

typedef struct Ev Ev;
typedef struct Rng Rng;
typedef struct SProc SProc;
typedef struct SAlloc SAlloc;
typedef struct SGrant SGrant;
typedef struct Sim Sim;
typedef struct Conf Conf;
typedef struct Vec Vec;
typedef struct Map Map;
typedef struct Pool Pool;
typedef struct Want Want;
typedef struct Runopt Runopt;
typedef struct Residue Residue;

/* exit codes: what kind of failure */
enum {
	Xok		= 0,
	Xusage		= 1,	/* bad command line, unreadable file */
	Xparse		= 2,	/* a trace line is malformed, or it cannot fit --max-memory */
	Xdiverge	= 3,	/* replay saw a different result */
	Xcheck		= 4,	/* the checker found a broken invariant */
};

/* operations: trace verbs */
enum {
	Ofork = 0,
	Oalloc,
	Owrite,
	Oread,
	Ocheck,
	Ofree,
	Ofreesize,
	Owipe,
	Owipefree,
	Oshare,
	Orevoke,
	Oinfo,
	Ostats,
	Oaudit,
	Obudgetset,
	Obudgetinc,
	Obudgetdec,
	Osetconf,
	Ogetconf,
	Oexit,
	Okill,
	/* the host's (pid 0) */
	Oenable,
	Omaxbudget,
	Oencryption,
	Oauditing,
	Opageout,
	Ofailmalloc,
	Nop,
};

enum {
	Rnone = -999,		/* no result recorded, or the event was skipped */
	Fnowait = 1,		/* fork flags */
	Fmem = 2,
	USERLEN = KNAMELEN,
	KEYLEN = 32,
	Nres = 8,		/* OK, the six errors, and a count (audit, pageout) */
	Rcount = 7,
};

struct Ev {
	uvlong	time;
	ulong	pid;
	int	op;
	int	flags;
	uvlong	h;		/* handle */
	uvlong	n[3];		/* numeric arguments in order */
	ulong	peer;		/* fork parent (0: none), share/revoke target */
	char	user[USERLEN];
	char	key[KEYLEN];
	char	val[KEYLEN];
	vlong	result;		/* recorded or actual; Rnone if absent */
	int	line;		/* in its trace, 0 if made here */
};

/* the instance parameters a trace header carries */
struct Conf {
	uvlong	seed;
	usize	heap;
	int	nproc;
	int	audit;
	usize	budget;
	usize	maxbudget;
	char	wname[32];	/* the header's workload=, "" if none */
};

/* xoshiro256**, one per stream */
struct Rng {
	uvlong	s[4];
};

struct Vec {
	void	**v;
	int	n;
	int	cap;
};

/*
 * uvlong keys (never 0) to pointers (never nil).  Handles and pids
 * count up from 1, so a key near the ones seen is an index into d;
 * any other (a trace may name handles as it likes) goes to the open
 * addressing table.  A key in both: d's value is the newer.
 */
struct Map {
	void	**d;
	usize	dcap;
	uvlong	*k;
	void	**v;
	usize	n;
	usize	cap;
};

struct SGrant {
	SProc	*holder;
	int	perm;
};

enum { Chunk = 4096 };

/* the shadow of one allocation: what the simulator did to it */
struct SAlloc {
	uvlong	h;
	uintptr	ptr;		/* current start */
	usize	size;		/* bytes charged now */
	int	prot;
	int	live;
	int	audited;
	SProc	*owner;
	uvlong	id;		/* as the core reported it at alloc */
	ulong	mkpid;		/* who made it (its ALLOC entry's pid) */
	uvlong	time;
	uvlong	auditbase;	/* audit head when it was made */
	long	naudit;		/* entries logged for it */
	/* content, sparse: chunk i holds bytes [i*Chunk, (i+1)*Chunk) from org; nil: zero */
	uintptr	org;		/* the start when it was made */
	usize	osize;		/* the size when it was made */
	uchar	**chunk;	/* nil until the first write */
	SGrant	*g;
	int	ng;
	int	gcap;
	int	oidx;		/* index in owner->owned */
	int	lidx;		/* index in sim.live */
	/* treap of live allocations by address */
	SAlloc	*tl;
	SAlloc	*tr;
	uvlong	prio;
};

/* 16 written bytes left in the arena by a deferred free: they must be gone after detach */
struct Residue {
	uintptr	addr;
	uchar	b[16];
};

/* the shadow of one proc */
struct SProc {
	ulong	pid;
	int	slot;
	int	alive;		/* exists in the host */
	int	attached;	/* has a secure area */
	SProc	*parent;	/* live parent, nil if none */
	int	nowait;
	int	mem;
	char	user[USERLEN];
	usize	limit, used, peak, wiped, deferred;
	long	nalloc;
	int	enc, wipe, audit;
	uvlong	lastid;		/* the newest id of its allocations */
	int	pslot;		/* the slot its parent had, -1 if none: an orphan's stale Proc.parent points there */
	Vec	kids;		/* SProc* whose parent it is */
	int	kidx;		/* its place in its parent's kids */
	Vec	owned;		/* SAlloc* it owns */
	Vec	held;		/* SAlloc* it holds a grant on */
	Residue	*res;		/* samples of bytes it freed unwiped */
	int	nres, capres;
	/* workload */
	long	left;		/* operations until it exits */
	int	depth;
	ulong	lastchild;	/* pid of its newest child */
	int	pidx;		/* index in sim.procs */
};

/* the coverage report's counters */
enum {
	/* invariants the checker verified */
	Iresult = 0, Iaudit, Istats, Ibytes, Izero, Iwiped, Iplace, Iinfo, Iauditq, Igetconf,
	Irefused, Idigest, Ipartial, Ilargest, Iresidue, Istranger, Iswap, Ipinned, Idump, Isys, Iteardown,
	Ninv,
	/* boundaries the workload drew */
	Bzero = 0, Bone, Bremain, Bremain1, Bend, Bend1, Bclass, Bpage, Bsizemax, Bbadconf,
	Bbigbudget, Binherit, Binherit1,
	Nbound,
};

/*
 * Objects of one size that live until the run ends (dead procs and
 * allocations stay findable): handed out from blocks, freed together.
 */
struct Pool {
	uchar	*cur;		/* the block being handed out */
	usize	left;		/* bytes left in it */
	Vec	blocks;
};

/* the simulation: one per run or replay */
struct Sim {
	Conf	conf;
	Proc	*tab;		/* the host's proc table */
	SProc	**slot;		/* slot -> shadow */
	int	*freeslot;
	int	nfree;
	Map	pids;		/* pid -> SProc */
	Map	handles;	/* handle -> SAlloc */
	Pool	sprocs;		/* every SProc */
	Pool	sallocs;	/* every SAlloc */
	uchar	*freechunk;	/* shadow chunks given back, zero, linked through their first word */
	Vec	procs;		/* live SProc */
	Vec	live;		/* live SAlloc */
	SAlloc	*root;		/* treap */
	uvlong	audithead;	/* entries the core should have logged */
	uvlong	*slotlog;	/* ... on each proc slot's allocations (the core counts per slot) */
	int	logged[4];	/* slots the event logged on, -1 past the end; more: all */
	int	nlogged;
	/* system switches as modelled */
	int	enabled;
	usize	maxbudget;
	int	encryption;
	int	auditing;
	int	failarmed;
	/* what happened */
	uvlong	nev;		/* events executed */
	uvlong	ops[Nop];
	uvlong	res[Nres];	/* by -code, [Rcount]: counts */
	uvlong	cov[Nop][Nres];	/* calls x results */
	uvlong	inv[Ninv];	/* invariants checked */
	uvlong	bound[Nbound];	/* boundary values drawn */
	usize	inuse;
	usize	peak;
	uvlong	wiped;
	uvlong	deferred;
	uvlong	exitwiped;	/* total_wiped of procs that exited, deferred bytes included */
	uvlong	exitdeferred;
	uvlong	pagedout;
	uvlong	fullscans;
	uvlong	sandwiches;
	int	lenient;	/* shrinking: skip what cannot run, ignore recorded results */
	int	scanevery;	/* full scan period in events */
	int	sandwichnext;
	uvlong	nref[Nop][Nres], nbig, npart;	/* refusals by cell, large allocations, page-releasing partial frees seen: which to bracket */
	usize	maxmem;		/* --max-memory: what the shadow and the arena may hold */
	usize	shadowbytes;	/* bytes of shadow content held now */
	/* the first failure */
	int	fail;		/* exit code */
	char	msg[512];
	uvlong	failev;
	Ev	failed;
	Ev	cur;		/* the event being run, or the last one */
	uchar	*scratch;
	usize	nscratch;
	uintptr	arena;
	usize	arenasize;
	uvlong	*lines;		/* a bit per 64 bytes of the arena: may be nonzero (zero.c) */
	usize	nlines;
	uvlong	nzero;		/* zero tests so far: where the next one samples */
};

extern Sim	sim;

/* engine.c: how a run is asked for */
struct Runopt {
	uvlong	seed;
	char	*workload;
	long	procs;
	long	events;
	usize	heap;
	char	*faults;
	int	audit;		/* audit ring entries, 0: drawn */
	usize	maxmem;		/* --max-memory, 0: the default */
	int	json;
	int	quiet;
	int	nosum;		/* no summary: the report only */
	FILE	*rec;		/* record events here */
	uvlong	stopat;		/* stop after this many events (re-run for a failing trace) */
	char	*failtrace;	/* where to write a failing trace */
	int	crashing;	/* the re-run of a run that crashed: record it up to the crash */
};
enum { Defmaxmem = 1ULL<<30 };

#include "simfns.h"
