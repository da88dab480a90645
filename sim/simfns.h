/*
 * pebblesim's functions, file by file: what each one offers the
 * others.  Included by sim.h, after the types; never on its own.
 */

/* names.c */
extern char	*opname[Nop];
extern char	*resname[7];
extern char	*invname[Ninv];
extern char	*boundname[Nbound];
int	countop(int op);
char*	fmtres(char*, vlong, int op);

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
void	mapeach(Map*, void(*)(void*));
void	mapfree(Map*);
void*	poolalloc(Pool*, usize);
void	poolfree(Pool*);
void*	emalloc(usize);
void*	erealloc(void*, usize);
uvlong	mix64(uvlong);
void	pattern(uchar*, uvlong h, uvlong off, usize n);
int	iszero(uchar*, usize);
void	burn(void*, usize);
char*	readfile(char*, usize*);

/* tree.c: live allocations by address */
void	treeput(SAlloc*);
void	treedel(SAlloc*);
SAlloc*	treefloor(uintptr);
SAlloc*	treeceil(uintptr);
void	treewalk(void (*)(SAlloc*, void*), void*);

/* peek.c: the core's internals the checker reads */
uvlong	peekaudithead(void);
uvlong	peekslotlogged(int slot);
uvlong	peekauditsize(void);
uintptr	peekarena(usize*);
uvlong	peekpagedout(void);

/* zero.c: the zero test of new and wiped memory */
void	zeroinit(void);
void	zerofree(void);
void	zerowrote(uintptr, usize);
int	zeroread(uintptr, usize);

/* shadow.c: the simulator's record */
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
SAlloc*	newalloc(uvlong h, SProc*, uintptr, usize, int prot);
void	moveowner(SAlloc*, SProc*);
void	killalloc(SAlloc*);

/* content.c: the shadow's bytes */
void	shadowwrite(SAlloc*, usize off, uchar*, usize);
void	shadowzero(SAlloc*, usize off, usize n);
int	shadowcmp(SAlloc*, usize off, uchar *mem, usize n);
uchar*	shadowword(SAlloc*, usize off);
void	shadowcut(SAlloc*, usize n);
void	shadowfree(SAlloc*);
void	freechunks(void);
void	residue(SProc*, SAlloc*, usize off, usize n);

/* procs.c: the Plan 9 proc table */
int	procfork(Ev*, SProc**);
void	procexit(SProc*);
Proc*	hostproc(SProc*, ulong pid, int which);
Proc*	procof(SProc*);
int	attached(SProc*);
int	iseve(SProc*);

/* exec.c: one event, expected, made and checked (rules.h: the rulebook and the checks) */
int	execev(Ev*);
extern char	*confkeys[4];

/* scan.c: the periodic full scans */
void	checkfull(int deep);
void	checkswap(Ev*);

/* cover.c */
void	coverprint(FILE*, uvlong cov[Nop][Nres], uvlong *inv, uvlong *bound);
void	coverjson(FILE*, uvlong cov[Nop][Nres], uvlong *inv, uvlong *bound);
int	reachable(int op, int r);

/* fail.c */
void	violation(Ev*, char *fmt, ...);
void	tracebad(Ev*, char *msg);
void	report(FILE*, char *file);
void	reproduce(FILE*, Runopt*, Conf*);
void	failtrace(Runopt*);

/* crash.c */
void	crashcatch(void);
void	crashrun(Runopt*, Conf*, int crashing);
void	crashreplay(char *file, FILE *rec, int quiet, int json);
void	crashdone(void);

/* trace.c, tracefmt.c */
extern char	*argspec[Nop];
int	isname(char*, int max);
int	parsetrace(char *text, usize n, Conf*, Ev**, int *nev, char *err, int nerr);
int	fmtev(char *buf, int n, Ev*);
void	fmthdr(FILE*, Conf*);

/* queue.c */
void	qpush(uvlong t, ulong pid);
int	qpop(uvlong *t, ulong *pid);
void	qfree(void);

/* workload.c, swarm.c, faults.c: in wl.h */

/* engine.c */
int	simrun(Runopt*);
int	coreinit(Conf*, usize maxmem);
void	coredone(void);
extern Sim	lastrun;	/* the counters of the run just ended */
extern uvlong	lastdigest;
int	replaytext(char *name, char *text, usize n, usize maxmem, int lenient, int json, int quiet);
int	replay(char *file, Ev *evs, int nev, Conf *c, usize maxmem, int lenient, int json, int quiet);
void	summary(FILE*, int json, char *mode, char *extra);
int	shrink(char *file, char *out);
