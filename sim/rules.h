/*
 * The rulebook, the executor and the per-event checks: what DESIGN.md
 * says each call returns and changes (rules.c, rulesproc.c), how an
 * event is expected, made, compared and applied (exec.c, memcalls.c,
 * calls.c), and what is checked after it (check.c).  Included after
 * sim.h by the files that predict or judge a call; the rest of sim/
 * needs only execev, in simfns.h.
 */
/* rules.c, rulesproc.c: what DESIGN.md says each call returns, and what it changes */
struct Want {
	vlong	r;		/* the result */
	vlong	alt;		/* another result the rules allow (heap or metadata NOMEM), or r */
	SAlloc	*t;		/* the allocation it acts on */
	int	denied;		/* a refusal naming t: a DENIED entry if t is audited */
	int	altdenied;	/* so is alt, when it is not r */
	int	have;		/* the caller's permissions on t */
	usize	n;		/* the size it acts on, resolved */
	usize	v;		/* a parsed value */
	int	key;		/* a setting: its index in confkeys, -1 unknown */
};
Want	wantres(vlong);
void	release(SAlloc*, usize off, usize n, int wipe);
int	confkey(char*);
Want	ruleattach(SProc *parent, int named);
void	applyattach(SProc*, SProc *parent);
Want	rulealloc(SProc*, usize size, int perms);
Want	ruleaccess(SProc*, uintptr, usize len, int perm);
Want	rulememop(int op, SProc*, uintptr, usize n);
void	applymemop(int op, Want*);
Want	ruleshare(int op, SProc*, SProc *q, int same, uintptr, int perms);
void	applyshare(int op, Want*, SProc *q, int perms);
Want	ruleinfo(SProc*, uintptr);
Want	ruleaudit(SProc*, uintptr, int max);
Want	rulebudget(int op, SProc*, usize);
void	applybudget(int op, SProc*, usize);
Want	rulesetconf(SProc*, char *key, char *val);
void	applysetconf(SProc*, Want*);
int	rulegetconf(SProc*, char *key, char *buf, int n);
Want	ruledetach(SProc*);
void	applydetach(SProc*);
SProc*	heirof(SProc*);

/* exec.c, memcalls.c, calls.c: the executor */
extern SProc	*touched;
int	sample(uvlong *c, uvlong n, uvlong k);
void	guard(Ev*, Want*, usize big);
int	armed(void);
int	compare(Ev*, vlong got, Want*);
int	overmem(Ev*, usize more);
SAlloc*	handle(Ev*);
vlong	xalloc(Ev*, SProc*);
vlong	xtouch(Ev*, SProc*);
vlong	xmemop(Ev*, SProc*);
vlong	xshare(Ev*, SProc*);
vlong	xinfo(Ev*, SProc*);
vlong	xaudit(Ev*, SProc*);
vlong	xbudget(Ev*, SProc*);
vlong	xconf(Ev*, SProc*);
vlong	xexit(Ev*, SProc*);
vlong	xsys(Ev*);
vlong	xstats(Ev*, SProc*);

/* check.c: after every event */
void	want(Ev*, vlong got, Want*);
int	checkproc(SProc*, Ev*);
void	checknew(Ev*, SAlloc*);
void	checkwiped(Ev*, SAlloc*, uintptr, usize);
void	checkinfo(Ev*, SecureAllocation*, SAlloc*, int have);
void	checkaudit(Ev*, SAlloc*, SecureAuditEntry*, vlong got, int max);
void	checkresidue(Ev*, SProc*);
void	ownerpagein(Ev*, SAlloc*, uintptr, usize);
