/*
 * Real threads on the POSIX host, more of them than cores: procs
 * allocating, filling, sharing, revoking, wiping and freeing at once
 * (two worker threads in each proc), guests that exit and whose slots
 * are given to new procs while the workers share with them, a thread
 * forking and exiting children whose memory its proc inherits, a
 * thread reading and setting settings, and the pager sending the
 * encrypted procs' pages to swap.  Run in the plain, ASan+UBSan and
 * TSan builds by the test command.
 *
 * Every result is judged exactly where the interleaving fixes it:
 *  - a share with a guest that stayed attached across the call is OK,
 *    one with a guest that had exited before it is NOTFOUND; a revoke
 *    likewise, by whether this worker's grant is there;
 *  - a new guest, before anyone is told it exists, holds no grant:
 *    every check it makes on shared memory is refused;
 *  - an owner's own access, pinned, sees exactly what it wrote, with
 *    the pager running;
 *  - a settings string is canonical and, for a key nobody sets, the
 *    value it was;
 *  - the system statistics are one moment: no more in the largest free
 *    block than is free, and in use, rounding and free add up to the
 *    heap, while every other thread allocates, frees and exits;
 *  - an exit is one step: once a call has found the forked child gone,
 *    no later call sees the allocation it left to its parent still
 *    the child's, nor the one it shared with another proc still there,
 *    and until then the child's access to its parent's memory is
 *    allowed, never PERM (the exit observer).
 * Afterwards every worker's memory must hold what it wrote, budgets
 * must match, and the heap must be empty once every proc has exited.
 * A watchdog prints every thread's last call and aborts if no call
 * completes for 10 s.
 *
 * usage: pebblestress [seconds]
 */
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <stdlib.h>
#include "t.h"
#include "host/posix.h"
#include "host/lock.h"

enum {
	NPROC	= 4,		/* procs with worker threads, slots 0..NPROC-1 */
	NWORK	= 2*NPROC,	/* two threads in each */
	NLIVE	= 64,		/* allocations a worker keeps */
	NBOARD	= 64,		/* pointers published for others to try */
	NGUEST	= 3,		/* guest slots, after the forker's */
	Forker	= NPROC,	/* the proc that forks children */
	Kid	= NPROC+1,
	Guest0	= NPROC+2,
	Setter	= Guest0+NGUEST,	/* a proc the settings thread owns */
	Obs	= Setter+1,		/* the forked children share with it too */
	NSLOT	= Obs+1,
	NPUB	= 64,		/* forked children published to the exit observer */
	Budget	= 4<<20,
	Stall	= 10,		/* seconds without a completed call */
};

/* a guest's life, in order; a new guest is a new Proc */
enum {
	Gattached = 1,		/* not yet published */
	Gpublished,
	Gexiting,
	Gexited,
};

typedef struct Guest Guest;
struct Guest {
	Proc	p;
	int	state;		/* atomic */
	Guest	*old;		/* every guest ever, freed at the end */
};

int	nfail;
int	nchecks;
char	*curtest = "stress";

static Proc	procs[NSLOT];
static Guest	*guests[NGUEST];	/* the published guest of each guest slot (atomic) */
static Guest	*allguests;
static void	*board[NBOARD];		/* shared allocations, for others to try */
static int	stop;
static double	seconds = 3;
static long	nexit;			/* detaches: guests and forked children (atomic) */

typedef struct Thr Thr;
struct Thr {
	char	*name;
	Proc	*p;
	uvlong	rng;
	char	*last;		/* the call it is in or made last (atomic) */
	long	ops;		/* calls completed (atomic) */
	long	errs[8];	/* by -code */
	void	*ptr[NLIVE];
	usize	size[NLIVE];
	uchar	pat[NLIVE];
	Guest	*gto[NLIVE];	/* the guest it last shared the slot with, nil if none held */
	usize	used;		/* bytes this worker holds */
};

static Thr	thr[NWORK+6];

/* a forked child and what it holds, published by forkchurn for the exit observer */
typedef struct Pub Pub;
struct Pub {
	long	gen;		/* its generation once whole, 0 while written (atomic) */
	Proc	*kid;		/* every field atomic */
	void	*x;		/* shared with the parent: inherited at exit */
	uvlong	xid;
	void	*q;		/* shared with Obs: freed at exit */
	uvlong	qid;
	void	*y;		/* the parent's, shared with the child */
};
static Pub	pubs[NPUB];
static long	pubgen;		/* the newest whole one (atomic) */
static Proc	kids[4*NPUB];		/* forked children's Procs, reused in turn */
static long	watching;		/* the generation the observer is looking at, 0 if none (atomic) */
static long	nobserved;	/* observations made after the child was found gone */
static int	nthr;

static uvlong
rnd(Thr *w)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return w->rng;
}

static usize
rndsize(Thr *w)
{
	uvlong r;

	r = rnd(w);
	if(r % 16 == 0)
		return 1 + r/16 % 70000;
	if(r % 4 == 0)
		return 1 + r/16 % 4096;
	return 1 + r/16 % 256;
}

static int
holds(uchar *p, usize n, uchar pat)
{
	usize i;

	for(i = 0; i < n; i++)
		if(p[i] != pat)
			return 0;
	return 1;
}

/* say what call a thread is in, for the watchdog */
static void
in(Thr *w, char *call)
{
	__atomic_store_n(&w->last, call, __ATOMIC_RELAXED);
}

static int
done(Thr *w, int r)
{
	__atomic_add_fetch(&w->ops, 1, __ATOMIC_RELAXED);
	if(r < 0 && r > -8)
		w->errs[-r]++;
	return r;
}

/* the owner's own access: pinned, so the pager cannot take the bytes from under it */
static int
pinned(Thr *w, int i, uchar want, uchar put)
{
	int ok;

	in(w, "pin");
	OK(done(w, pebble_secure_pin(w->p, w->ptr[i], w->size[i], PEBBLE_READ|PEBBLE_WRITE)));
	ok = holds(w->ptr[i], w->size[i], want);
	memset(w->ptr[i], put, w->size[i]);
	in(w, "unpin");
	OK(done(w, pebble_secure_unpin(w->p, w->ptr[i], w->size[i])));
	return ok;
}

static int
gstate(Guest *g)
{
	return __atomic_load_n(&g->state, __ATOMIC_ACQUIRE);
}

static void
share(Thr *w, int i)
{
	Guest *g;
	int r, before, after;

	/* a slot is shared with one guest at a time, so revoke can be judged */
	g = w->gto[i];
	if(g == nil)
		g = __atomic_load_n(&guests[rnd(w) % NGUEST], __ATOMIC_ACQUIRE);
	before = gstate(g);
	in(w, "share");
	r = done(w, pebble_secure_share(w->p, &g->p, w->ptr[i], PEBBLE_READ));
	after = gstate(g);
	if(before == Gexited)
		EQ(r, PEBBLE_ERR_NOTFOUND);
	else if(before == Gpublished && after == Gpublished)
		EQ(r, PEBBLE_ERR_OK);
	else
		CHECK(r == PEBBLE_ERR_OK || r == PEBBLE_ERR_NOTFOUND);
	if(r == PEBBLE_ERR_OK){
		w->gto[i] = g;
		__atomic_store_n(&board[rnd(w) % NBOARD], w->ptr[i], __ATOMIC_RELAXED);
	}else
		w->gto[i] = nil;	/* it exited, and its grants with it */
}

static void
revoke(Thr *w, int i)
{
	Guest *g;
	int r, before, after;

	g = w->gto[i];
	if(g == nil || rnd(w) % 4 == 0)
		g = __atomic_load_n(&guests[rnd(w) % NGUEST], __ATOMIC_ACQUIRE);
	before = gstate(g);
	in(w, "revoke");
	r = done(w, pebble_secure_revoke(w->p, &g->p, w->ptr[i]));
	after = gstate(g);
	if(before == Gexited || g != w->gto[i])
		EQ(r, PEBBLE_ERR_NOTFOUND);
	else if(before == Gpublished && after == Gpublished)
		EQ(r, PEBBLE_ERR_OK);
	else
		CHECK(r == PEBBLE_ERR_OK || r == PEBBLE_ERR_NOTFOUND);
	if(g == w->gto[i])
		w->gto[i] = nil;
}

static void
slotop(Thr *w, int i)
{
	int r, t;
	void *p;

	if(w->ptr[i] == nil){
		w->size[i] = rndsize(w);
		in(w, "alloc");
		r = done(w, pebble_secure_alloc_simple(w->p, w->size[i], &w->ptr[i]));
		if(r != PEBBLE_ERR_OK){
			CHECK(r == PEBBLE_ERR_BUDGET || r == PEBBLE_ERR_NOMEM);
			w->ptr[i] = nil;
			return;
		}
		w->used += w->size[i];
		w->pat[i] = 1 + rnd(w) % 255;
		CHECK(pinned(w, i, 0, w->pat[i]));	/* new memory reads zero */
		w->gto[i] = nil;
		return;
	}
	switch(rnd(w) % 7){
	case 0:
		CHECK(pinned(w, i, w->pat[i], w->pat[i]));
		in(w, "free");
		OK(done(w, pebble_secure_free(w->p, w->ptr[i])));
		w->used -= w->size[i];
		w->ptr[i] = nil;
		break;
	case 1:
		share(w, i);
		break;
	case 2:
		revoke(w, i);
		break;
	case 3:
		in(w, "wipe");
		OK(done(w, pebble_secure_wipe(w->p, w->ptr[i], 0)));
		CHECK(pinned(w, i, 0, w->pat[i]));
		break;
	case 4:
		CHECK(pinned(w, i, w->pat[i], w->pat[i]));
		break;
	default:
		/* someone's shared memory: a grant it holds, or a refusal; never a byte read (the owner writes it) */
		t = rnd(w) % NBOARD;
		p = __atomic_load_n(&board[t], __ATOMIC_RELAXED);
		in(w, "check");
		r = done(w, pebble_secure_pin(w->p, p, 1, PEBBLE_READ));
		CHECK(r == PEBBLE_ERR_OK || r == PEBBLE_ERR_PERM || r == PEBBLE_ERR_NOTFOUND || r == PEBBLE_ERR_INVALID);
		if(r == PEBBLE_ERR_OK){
			in(w, "unpin");
			OK(done(w, pebble_secure_unpin(w->p, p, 1)));
		}
	}
}

static void*
worker(void *arg)
{
	Thr *w;

	w = arg;
	while(!__atomic_load_n(&stop, __ATOMIC_RELAXED))
		slotop(w, rnd(w) % NLIVE);
	return nil;
}

static Guest*
newguest(int k, ulong pid)
{
	Guest *g;

	g = calloc(1, sizeof *g);
	g->p.slot = Guest0 + k;
	g->p.pid = pid;
	strcpy(g->p.user, "glenda");
	g->old = allguests;
	allguests = g;
	return g;
}

/*
 * Guests exit and new ones take their slots while workers share with
 * them.  A new guest, before it is published, holds nothing: no one
 * could have named it.
 */
static void*
guestchurn(void *arg)
{
	Thr *w;
	Guest *g, *n;
	ulong pid;
	int k, t, r;
	void *p;

	w = arg;
	pid = 10000;
	while(!__atomic_load_n(&stop, __ATOMIC_RELAXED)){
		k = rnd(w) % NGUEST;
		g = guests[k];
		__atomic_store_n(&g->state, Gexiting, __ATOMIC_RELEASE);
		in(w, "detach");
		OK(done(w, pebble_secure_detach(&g->p)));
		__atomic_store_n(&g->state, Gexited, __ATOMIC_RELEASE);
		__atomic_add_fetch(&nexit, 1, __ATOMIC_RELAXED);
		n = newguest(k, pid++);
		in(w, "attach");
		OK(done(w, pebble_secure_attach(nil, &n->p)));
		__atomic_store_n(&n->state, Gattached, __ATOMIC_RELEASE);
		for(t = 0; t < NBOARD; t++){
			p = __atomic_load_n(&board[t], __ATOMIC_RELAXED);
			in(w, "check");
			r = done(w, pebble_secure_check(&n->p, p, 1, PEBBLE_READ));
			CHECK(r == PEBBLE_ERR_PERM || r == PEBBLE_ERR_NOTFOUND || r == PEBBLE_ERR_INVALID);
		}
		__atomic_store_n(&n->state, Gpublished, __ATOMIC_RELEASE);
		__atomic_store_n(&guests[k], n, __ATOMIC_RELEASE);
	}
	return nil;
}

/* a seqlock's fields: sequentially consistent, so no store or load passes the generation's */
#define ASTORE(p, v)	__atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define ALOAD(p)	__atomic_load_n((p), __ATOMIC_SEQ_CST)

static uvlong
idof(Thr *w, Proc *p, void *m)
{
	SecureAllocation info;

	in(w, "info");
	OK(done(w, pebble_secure_info(p, m, &info)));
	return info.id;
}

static void
publish(long gen, Proc *kid, void *x, uvlong xid, void *q, uvlong qid, void *y)
{
	Pub *e;

	e = &pubs[gen % NPUB];
	ASTORE(&e->gen, 0);
	ASTORE(&e->kid, kid);
	ASTORE(&e->x, x);
	ASTORE(&e->xid, xid);
	ASTORE(&e->q, q);
	ASTORE(&e->qid, qid);
	ASTORE(&e->y, y);
	ASTORE(&e->gen, gen);
	ASTORE(&pubgen, gen);
}

/*
 * Fork a child (a new Proc each time: Plan 9 recycles Procs, but the
 * observer must not read a pid being rewritten), let it allocate and
 * share one allocation with us and one with Obs, publish it, exit it:
 * we inherit the first, the second is freed.
 */
static void*
forkchurn(void *arg)
{
	Thr *w;
	Proc *kid;
	void *p, *q, *y;
	uvlong pid;
	long gen;
	int r, rq;

	w = arg;
	pid = 1000000;
	in(w, "alloc");
	OK(done(w, pebble_secure_alloc_simple(w->p, 64, &y)));	/* shared with every child */
	for(gen = 1; !__atomic_load_n(&stop, __ATOMIC_RELAXED); gen++){
		/* the observer may still name the child of gen-nelem(kids), which used this Proc */
		while(gen > (long)nelem(kids) && ALOAD(&watching) == gen - (long)nelem(kids) && !ALOAD(&stop))
			sched_yield();
		kid = &kids[gen % nelem(kids)];
		memset(kid, 0, sizeof *kid);
		kid->slot = Kid;
		kid->pid = pid++;
		kid->parent = w->p;
		strcpy(kid->user, "glenda");
		in(w, "attach");
		OK(done(w, pebble_secure_attach(w->p, kid)));
		in(w, "share");
		OK(done(w, pebble_secure_share(w->p, kid, y, PEBBLE_READ)));
		in(w, "alloc");
		r = done(w, pebble_secure_alloc_simple(kid, rndsize(w), &p));
		in(w, "alloc");
		rq = done(w, pebble_secure_alloc_simple(kid, rndsize(w), &q));
		if(r == PEBBLE_ERR_OK){
			in(w, "share");
			OK(done(w, pebble_secure_share(kid, w->p, p, PEBBLE_READ)));
			__atomic_store_n(&board[rnd(w) % NBOARD], p, __ATOMIC_RELAXED);
		}
		if(rq == PEBBLE_ERR_OK){
			in(w, "share");
			OK(done(w, pebble_secure_share(kid, &procs[Obs], q, PEBBLE_READ)));
		}
		if(r == PEBBLE_ERR_OK && rq == PEBBLE_ERR_OK)
			publish(gen, kid, p, idof(w, kid, p), q, idof(w, kid, q), y);
		in(w, "detach");
		OK(done(w, pebble_secure_detach(kid)));
		__atomic_add_fetch(&nexit, 1, __ATOMIC_RELAXED);
		if(r == PEBBLE_ERR_OK){
			in(w, "free");
			OK(done(w, pebble_secure_free(w->p, p)));	/* ours now */
		}
	}
	in(w, "free");
	OK(done(w, pebble_secure_free(w->p, y)));
	return nil;
}

/*
 * The exit observer: finds the newest published child gone or not,
 * then looks at what it held.  Once the child is NOTFOUND its exit is
 * over for every later call: the parent's allocation is the parent's
 * (or freed since, or the address another's), never the child's; the
 * one shared with Obs is gone.  Ids are never reused, so an address
 * given again is told apart.  The generation it looks at is announced
 * (watching) before it is confirmed still published, so its Proc is
 * not given to a new child meanwhile.
 */
static void*
exitwatch(void *arg)
{
	Thr *w;
	Pub *e, c;
	PebbleSecureStats st;
	SecureAllocation info;
	long g, cur;
	int r;

	w = arg;
	cur = 0;
	while(!__atomic_load_n(&stop, __ATOMIC_RELAXED)){
		/* follow one child until it is gone or its record is reused, then the newest */
		g = cur != 0 ? cur : ALOAD(&pubgen);
		if(g == 0){
			sched_yield();
			continue;
		}
		e = &pubs[g % NPUB];
		ASTORE(&watching, g);
		c.kid = ALOAD(&e->kid);
		c.x = ALOAD(&e->x);
		c.xid = ALOAD(&e->xid);
		c.q = ALOAD(&e->q);
		c.qid = ALOAD(&e->qid);
		c.y = ALOAD(&e->y);
		if(ALOAD(&e->gen) != g){	/* reused, or being written */
			ASTORE(&watching, 0L);
			cur = 0;
			continue;
		}
		/* the child's access to its parent's y: allowed until it is gone, never PERM */
		in(w, "check");
		r = done(w, pebble_secure_check(c.kid, c.y, 1, PEBBLE_READ));
		CHECK(r == PEBBLE_ERR_OK || r == PEBBLE_ERR_NOTFOUND);
		in(w, "stats");
		if(r == PEBBLE_ERR_NOTFOUND)
			EQ(done(w, pebble_secure_stats(c.kid, &st)), PEBBLE_ERR_NOTFOUND);
		r = done(w, pebble_secure_stats(c.kid, &st));
		if(r == PEBBLE_ERR_OK){
			cur = g;
			sched_yield();	/* more threads than cores: let the child's exit run */
			continue;
		}
		EQ(r, PEBBLE_ERR_NOTFOUND);
		__atomic_add_fetch(&nobserved, 1, __ATOMIC_RELAXED);
		in(w, "info");
		r = done(w, pebble_secure_info(w->p, c.x, &info));
		if(r == PEBBLE_ERR_OK && info.id == c.xid)
			EQ(info.pid, procpid(w->p));	/* inherited, not still the child's */
		in(w, "info");
		r = done(w, pebble_secure_info(&procs[Obs], c.q, &info));
		if(r == PEBBLE_ERR_OK)
			CHECK(info.id != c.qid);	/* freed with its owner */
		ASTORE(&watching, 0L);
		/* the next one: not this again */
		while(ALOAD(&pubgen) == g && !__atomic_load_n(&stop, __ATOMIC_RELAXED))
			sched_yield();
		cur = 0;
	}
	return nil;
}

static int
canonical(const char *s, int isbool)
{
	int i;

	if(s == nil || s[0] == 0)
		return 0;
	if(isbool)
		return (s[0] == '0' || s[0] == '1') && s[1] == 0;
	for(i = 0; s[i] != 0; i++)
		if(s[i] < '0' || s[i] > '9' || (i == 0 && s[i] == '0' && s[1] != 0))
			return 0;
	return 1;
}

/*
 * Settings read while set: the switches of the worker procs flip
 * (encryption among them, so the pager has work and loses it), and
 * their budget strings, which no one sets, must read as they were.
 * This thread's own proc has its budget set and read back.
 */
static void*
settings(void *arg)
{
	static char *keys[] = { "pebble.secure.encryption", "pebble.secure.audit", "pebble.secure.auto_wipe" };
	Thr *w;
	Proc *p;
	const char *s;
	char want[32];
	int k;
	usize b;

	w = arg;
	snprintf(want, sizeof want, "%d", Budget);
	while(!__atomic_load_n(&stop, __ATOMIC_RELAXED)){
		p = &procs[rnd(w) % NPROC];
		k = rnd(w) % 3;
		in(w, "setconf");
		OK(done(w, pebble_set_secure_conf(p, keys[k], rnd(w) % 3 ? "1" : "0")));
		p = &procs[rnd(w) % NPROC];
		for(k = 0; k < 3; k++){
			in(w, "getconf");
			s = pebble_get_secure_conf(p, keys[k]);
			done(w, 0);
			CHECK(canonical(s, 1));
		}
		in(w, "getconf");
		s = pebble_get_secure_conf(p, "pebble.secure.budget");
		done(w, 0);
		CHECK(s != nil && strcmp(s, want) == 0);
		b = 4096 + rnd(w) % (1<<20);
		in(w, "budget_set");
		OK(done(w, pebble_secure_budget_set(w->p, b)));
		in(w, "getconf");
		s = pebble_get_secure_conf(w->p, "pebble.secure.budget");
		done(w, 0);
		CHECK(canonical(s, 0) && strtoull(s, nil, 10) == b);
	}
	return nil;
}

/* the pager, as a kernel's would run under memory pressure */
static void*
pager(void *arg)
{
	Thr *w;
	int r;

	w = arg;
	while(!__atomic_load_n(&stop, __ATOMIC_RELAXED)){
		in(w, "pageout");
		r = done(w, pebble_secure_pageout(64));
		CHECK(r >= 0);
		if(r == 0)
			sched_yield();
	}
	return nil;
}

/*
 * The system statistics, ten times a second: read as one moment, their
 * figures agree with each other.  A call waits out every exit in
 * flight and then holds every area's lock a moment; with this churn of
 * exits and more threads than cores it takes 10 ms on average in the
 * plain build and 90 ms under TSan (measured 4 December, the same with
 * areas read one at a time), and the others wait meanwhile.  Under
 * TSan, 8 s: without this thread 105,000-143,000 calls/s, with it
 * 50,000-58,000, and with it every 20 ms 20,000.
 */
static void*
sysstats(void *arg)
{
	struct timespec ts = { 0, 100*1000*1000 };
	PebbleSysStats ss;
	Thr *w;

	w = arg;
	while(!__atomic_load_n(&stop, __ATOMIC_RELAXED)){
		in(w, "sysstats");
		OK(done(w, pebble_secure_sysstats(&ss)));
		EQ(ss.in_use + ss.rounding + ss.free_bytes, ss.heap_size);
		CHECK(ss.largest_free <= ss.free_bytes);
		CHECK(ss.attached <= NSLOT);
		nanosleep(&ts, nil);
	}
	return nil;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec/1e9;
}

static long
progress(void)
{
	long n;
	int i;

	n = 0;
	for(i = 0; i < nthr; i++)
		n += __atomic_load_n(&thr[i].ops, __ATOMIC_RELAXED);
	return n;
}

static void
watchdog(void)
{
	int i;

	fprintf(stderr, "stress: no call completed for %d s; each thread's last call:\n", Stall);
	for(i = 0; i < nthr; i++)
		fprintf(stderr, "\t%-10s %-10s after %ld calls\n", thr[i].name,
			__atomic_load_n(&thr[i].last, __ATOMIC_RELAXED), __atomic_load_n(&thr[i].ops, __ATOMIC_RELAXED));
	abort();
}

static Thr*
mkthr(char *name, Proc *p)
{
	Thr *w;

	w = &thr[nthr];
	w->name = name;
	w->p = p;
	w->rng = 0x9e3779b97f4a7c15ULL * (nthr+1);
	w->last = "start";
	nthr++;
	return w;
}

int
main(int argc, char **argv)
{
	static char names[NWORK][16];
	pthread_t t[nelem(thr)];
	void *(*fn[nelem(thr)])(void*);
	Pebbleconf c;
	PebbleSecureStats st;
	PebbleSysStats ss;
	Guest *g;
	double t0, tp;
	long ops, lastops;
	uvlong given, taken;
	int i, k;
	usize used;

	if(argc > 1)
		seconds = atof(argv[1]);
	memset(&c, 0, sizeof c);
	c.heapsize = 64<<20;
	c.nproc = 16;
	c.budget = Budget;
	OK(pebbleinit(&c));
	for(i = 0; i < NSLOT; i++){
		procs[i].slot = i;
		procs[i].pid = i+1;
		strcpy(procs[i].user, "glenda");
	}
	for(i = 0; i < NPROC; i++){
		OK(pebble_secure_attach(nil, &procs[i]));
		if(i % 2 == 0)	/* half the procs' pages may go to swap */
			OK(pebble_set_secure_conf(&procs[i], "pebble.secure.encryption", "1"));
	}
	OK(pebble_secure_attach(nil, &procs[Forker]));
	OK(pebble_secure_attach(nil, &procs[Setter]));
	OK(pebble_secure_attach(nil, &procs[Obs]));
	for(k = 0; k < NGUEST; k++){
		g = newguest(k, 1000+k);
		OK(pebble_secure_attach(nil, &g->p));
		g->state = Gpublished;
		guests[k] = g;
	}
	for(i = 0; i < NWORK; i++){
		snprintf(names[i], sizeof names[i], "worker%d", i);
		fn[nthr] = worker;
		mkthr(names[i], &procs[i % NPROC]);
	}
	fn[nthr] = guestchurn;
	mkthr("guests", nil);
	fn[nthr] = forkchurn;
	mkthr("forker", &procs[Forker]);
	fn[nthr] = exitwatch;
	mkthr("exitwatch", &procs[Forker]);
	fn[nthr] = settings;
	mkthr("settings", &procs[Setter]);
	fn[nthr] = pager;
	mkthr("pager", nil);
	fn[nthr] = sysstats;
	mkthr("sysstats", nil);
	for(i = 0; i < nthr; i++)
		pthread_create(&t[i], nil, fn[i], &thr[i]);
	t0 = tp = now();
	lastops = 0;
	while(now() - t0 < seconds){
		struct timespec ts = { 0, 50*1000*1000 };
		nanosleep(&ts, nil);
		ops = progress();
		if(ops != lastops){
			lastops = ops;
			tp = now();
		}else if(now() - tp > Stall)
			watchdog();
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for(i = 0; i < nthr; i++)
		pthread_join(t[i], nil);
	ops = progress();

	/* quiet now: everything written is still there, and budgets add up */
	for(i = 0; i < NPROC; i++){
		used = 0;
		for(k = 0; k < NWORK; k++)
			if(thr[k].p == &procs[i])
				used += thr[k].used;
		OK(pebble_secure_stats(&procs[i], &st));
		EQ(st.used_budget, used);
	}
	OK(pebble_secure_stats(&procs[Forker], &st));
	EQ(st.used_budget, 0);
	for(k = 0; k < NWORK; k++)
		for(i = 0; i < NLIVE; i++)
			if(thr[k].ptr[i] != nil)
				CHECK(pinned(&thr[k], i, thr[k].pat[i], thr[k].pat[i]));
	for(i = 0; i < NPROC; i++)
		OK(pebble_secure_detach(&procs[i]));
	OK(pebble_secure_detach(&procs[Forker]));
	OK(pebble_secure_detach(&procs[Setter]));
	OK(pebble_secure_detach(&procs[Obs]));
	for(k = 0; k < NGUEST; k++)
		OK(pebble_secure_detach(&guests[k]->p));
	OK(pebble_secure_sysstats(&ss));
	EQ(ss.live_allocations, 0);
	EQ(ss.in_use, 0);
	EQ(ss.attached, 0);
	EQ(ss.free_bytes, ss.heap_size);
	printf("stress: %d threads, %.1f s, %ld calls (%.0f/s), %ld exits (%ld children seen gone mid-run), arena %s\n", nthr, seconds, ops,
		ops/seconds, __atomic_load_n(&nexit, __ATOMIC_RELAXED), nobserved, ss.locked ? "mlock'd" : "not mlock'd");
	for(i = 1; i < 7; i++){
		ops = 0;
		for(k = 0; k < nthr; k++)
			ops += thr[k].errs[i];
		printf("%s%s %ld", i == 1 ? "refusals:" : "", pebble_strerror(-i), ops);
		printf(i == 6 ? "\n" : ";");
	}
	lockcounts(&given, &taken);	/* the area locks' biases: the run must have given some and taken some away */
	printf("lock biases: %llu given, %llu taken away%s\n", given, taken,
		lockcanbias() ? "" : " (membarrier(2) missing: no lock is biased here)");
	pebbleshutdown();
	while((g = allguests) != nil){
		allguests = g->old;
		free(g);
	}
	printf("%d checks, %d failed\n", nchecks, nfail);
	printf("%d passed, %d failed\n", nfail == 0, nfail != 0);
	return nfail != 0;
}
