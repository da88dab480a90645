/*
 * pebblesim: the deterministic simulator of Plan 9 procs using the
 * secure storage core.  One header for the whole program: the event
 * record that is both a trace line and a simulated action, the shadow
 * state the checker keeps, and every file's functions.
 *
 * The shape: engine.c pops (time, seq) events, workload.c turns each
 * into an operation (an Ev), exec.c runs the Ev against the core and
 * against the shadow model (model.c) and reports any difference;
 * check.c does the periodic full scans; trace.c reads and writes Evs
 * as text; shrink.c cuts a failing trace down.
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
typedef struct Trace Trace;

/* exit codes: what kind of failure */
enum {
	Xok		= 0,
	Xusage		= 1,	/* bad command line, unreadable file */
	Xparse		= 2,	/* a trace line is malformed */
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
	int	workload;	/* profile index, -1 none */
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

/* open addressing, uvlong keys (never 0) to pointers */
struct Map {
	uvlong	*k;
	void	**v;
	usize	n;
	usize	cap;
};

struct SGrant {
	SProc	*holder;
	int	perm;
};

/* the shadow of one allocation: what the simulator did to it */
struct SAlloc {
	uvlong	h;
	uintptr	ptr;		/* current start */
	usize	size;		/* bytes charged now */
	int	prot;
	int	live;
	int	audited;
	SProc	*owner;
	uvlong	id;
	uvlong	time;
	uvlong	auditbase;	/* audit head when it was made */
	long	naudit;		/* entries logged for it */
	uchar	*sh;		/* content; nil: all zero */
	uchar	*shbase;
	usize	shsize;
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
	uvlong	idnext, idlim;
	Vec	owned;		/* SAlloc* it owns */
	Vec	held;		/* SAlloc* it holds a grant on */
	/* workload */
	int	role;
	long	left;		/* operations until it exits */
	int	depth;
	ulong	lastchild;	/* pid of its newest child */
	int	pidx;		/* index in sim.procs */
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
	Vec	procs;		/* live SProc */
	Vec	live;		/* live SAlloc */
	SAlloc	*root;		/* treap */
	uvlong	idnext;		/* the core's id counter, modelled */
	uvlong	audithead;	/* entries the core should have logged */
	/* system switches as modelled */
	int	enabled;
	usize	maxbudget;
	int	encryption;
	int	auditing;
	int	failarmed;
	/* what happened */
	uvlong	nev;		/* events executed */
	uvlong	ops[Nop];
	uvlong	res[8];		/* by -code, [7]: counts */
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
};

extern Sim	sim;
extern char	*opname[Nop];
extern char	*resname[7];

/* rng.c */
uvlong	splitmix(uvlong*);
void	rngseed(Rng*, uvlong);
uvlong	rnext(Rng*);
uvlong	rbelow(Rng*, uvlong);
uvlong	rrange(Rng*, uvlong lo, uvlong hi);
uvlong	rlog(Rng*, uvlong lo, uvlong hi);
int	rchance(Rng*, int permille);

/* util.c */
void	vecpush(Vec*, void*);
void	vecdel(Vec*, int);
void	vecfree(Vec*);
int	vecfind(Vec*, void*);
void	mapput(Map*, uvlong, void*);
void*	mapget(Map*, uvlong);
void	mapfree(Map*);
void*	emalloc(usize);
void*	erealloc(void*, usize);
uvlong	mix64(uvlong);
void	pattern(uchar*, uvlong h, uvlong off, usize n);

/* tree.c: live allocations by address */
void	treeput(SAlloc*);
void	treedel(SAlloc*);
SAlloc*	treefloor(uintptr);
SAlloc*	treeceil(uintptr);
void	treewalk(void (*)(SAlloc*, void*), void*);

/* peek.c: the core's internals the checker reads */
uvlong	peekaudithead(void);
uvlong	peekauditsize(void);
uintptr	peekarena(usize*);
uvlong	peekpagedout(void);

/* model.c: the shadow and its bookkeeping */
void	siminit(Conf*);
void	simfree(void);
SProc*	findproc(ulong pid);
SAlloc*	findalloc(uvlong h);
SAlloc*	allocat(uintptr);
SAlloc*	allocin(uintptr);
int	hasgrant(SAlloc*, SProc*);
void	addgrant(SAlloc*, SProc*, int);
void	delgrant(SAlloc*, SProc*);
void	auditexp(SAlloc*, int n);
void	chargep(SProc*, usize);
void	unchargep(SProc*, usize);
uvlong	modelid(SProc*);
void	shadowwrite(SAlloc*, usize off, uchar*, usize);
void	shadowzero(SAlloc*, usize off, usize n);
void	killalloc(SAlloc*);
void	shadowfree(SAlloc*);

/* exec.c */
int	execev(Ev*);
void	violation(Ev*, char *fmt, ...);
vlong	normres(vlong);

/* check.c */
void	checkfull(int deep);
void	checkswap(Ev*);
int	checkproc(SProc*, Ev*);
int	iszero(uchar*, usize);

/* trace.c */
int	parsetrace(char *text, usize n, Conf*, Ev**, int *nev, char *err, int nerr);
int	fmtev(char *buf, int n, Ev*);
void	fmthdr(FILE*, Conf*);
char*	readfile(char*, usize*);
char*	fmtres(char*, vlong, int op);
int	countop(int op);

/* workload.c */
typedef struct Runopt Runopt;
int	profilebyname(char*);
char*	profilename(int);
int	nprofiles(void);
void	wlsetup(Runopt*, Conf*, FILE*);
int	wlnext(Ev*);
void	wlafter(Ev*, vlong);
void	wlfree(void);

/* engine.c */
struct Runopt {
	uvlong	seed;
	char	*workload;
	long	procs;
	long	events;
	usize	heap;
	char	*faults;
	int	audit;		/* audit ring entries, 0: drawn */
	int	json;
	int	quiet;
	int	nosum;	/* no summary: the report only */
	FILE	*rec;		/* record events here */
	uvlong	stopat;		/* stop after this many events (re-run for a failing trace) */
	char	*failtrace;	/* where to write a failing trace */
};
int	simrun(Runopt*);
int	coreinit(Conf*);
void	coredone(void);
extern Sim	lastrun;	/* the counters of the run just ended */
extern uvlong	lastdigest;
int	replay(char *file, Ev *evs, int nev, Conf *c, int lenient, int json, int quiet);
void	summary(FILE*, int json, char *mode, char *extra);
int	shrink(char *file, char *out);
