/*
 * The workload generator's types: profiles, and the state that
 * workload.c, swarm.c, faults.c and actions.c share.  Only the files
 * that make events include it; the executor and the checker see
 * events, never how they were drawn.
 */
typedef struct Prof Prof;
enum {	/* what a proc's turn may do */
	Aalloc, Awrite, Aread, Aprobe, Afree, Apartial, Awipe, Awipefree, Ashare,
	Arevoke, Ainfo, Astats, Aaudit, Abudget, Aconf, Afork, Aexit, Nact,
};
enum {	/* what the host driver may inject */
	Fkill = 1, Fmalloc = 2, Fbudget = 4, Fheap = 8, Foff = 16, Fpager = 32, Fall = 63, Nfault = 6,
};
/* a workload profile: every field by name */
struct Prof {
	char	*name;
	int	mix[Nact];	/* children's mix of actions */
	int	rootmix[Nact];	/* the roots' mix */
	usize	szlo, szhi;	/* log-uniform sizes */
	int	bigp;		/* permille of allocations that are large */
	usize	biglo, bighi;
	long	lifelo, lifehi;	/* actions a child lives */
	int	maxown;		/* live allocations a proc keeps */
	int	nowaitp, memp, userp;	/* permille of forks with RFNOWAIT, RFMEM, another user */
	int	maxdepth;
	int	roots;
	int	shareup;	/* permille of shares that go to the parent */
	int	rdonly;		/* shares are READ */
	int	faultgap;	/* events between faults, on average */
	usize	heaplo, heaphi;	/* MiB */
	usize	perproc;	/* heap bytes added per proc */
	usize	budlo, budhi;	/* default budget, KiB */
	int	faults;		/* the faults it may draw */
	int	fweight[Nfault];	/* how often each fault kind fires, relatively */
	int	wipeoffp;	/* permille of procs with auto_wipe off */
	int	keyfill;	/* a root fills a new allocation at once */
	int	boundp;		/* permille of values drawn at a boundary */
	int	badp;		/* permille of deliberately wrong arguments */
	int	overfill;	/* the population outgrows the host's proc table */
};
/* the workload's state, shared by workload.c, swarm.c and faults.c */
typedef struct Wl Wl;
struct Wl {
	Prof	p;		/* the profile, drawn for swarm */
	Rng	rw;		/* the procs' choices */
	Rng	rf;		/* the host driver's faults */
	Ev	pend[64];	/* events to run before the next turn */
	int	npend, pendhead;
	ulong	nextpid;
	uvlong	nexth;
	uvlong	now;
	int	faults;
	int	procs;
	uvlong	offuntil;	/* the subsystem is off until this time */
	uvlong	dead[64];	/* handles recently freed, for double frees */
	int	ndead;
};
extern Wl	w;
Ev*	pend(void);
ulong	forkev(Ev*, SProc*, char *user);
int	profilebyname(char*);
void	wlsetup(Runopt*, Conf*, FILE*);
int	wlnext(Ev*);
void	act(SProc*, Ev*);
void	wlafter(Ev*, vlong);
void	wlfree(void);
void	swarmdraw(Rng*, Prof*);
void	swarmprint(FILE*, Prof*);
usize	boundsize(Rng*, SProc*, SAlloc*);
usize	boundlen(Rng*, SAlloc*, usize off);
void	boundconf(Rng*, char *val, int n);
usize	boundbudget(Rng*, SProc*, int op);
extern Prof	profs[];
extern int	nprofs;
int	parsefaults(char*);
int	wlfaults(void);
void	printfaults(FILE*, int);
void	hostturn(Ev*);

