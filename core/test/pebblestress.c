/*
 * Real threads on the POSIX host: procs allocating, filling, checking,
 * sharing, revoking, wiping and freeing at once, a proc with two
 * threads in it, and a thread forking and exiting children whose
 * memory its proc inherits.  Run under TSan by the test command.
 * Afterwards every thread's memory must hold what it wrote, budgets
 * must match, and the heap must be empty once every proc has exited.
 *
 * usage: pebblestress [seconds]
 */
#include <pthread.h>
#include <time.h>
#include "t.h"
#include "host/posix.h"

enum {
	NPROC	= 4,		/* procs with worker threads */
	NWORK	= NPROC+1,	/* proc 0 has two */
	NLIVE	= 64,		/* allocations a worker keeps */
	NBOARD	= 64,		/* pointers published for others to check */
};

int	nfail;
int	nchecks;
char	*curtest = "stress";

static Proc	procs[NPROC+2];
static void	*board[NBOARD];	/* shared allocations, for others to try */
static int	stop;
static double	seconds = 3;

typedef struct Work Work;
struct Work {
	int	id;
	Proc	*p;
	uvlong	rng;
	void	*ptr[NLIVE];
	usize	size[NLIVE];
	uchar	pat[NLIVE];
	usize	used;		/* bytes this worker holds */
	long	ops;
	long	errs[8];	/* by -code */
};

static uvlong
rnd(Work *w)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return w->rng;
}

static usize
rndsize(Work *w)
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

static void
count(Work *w, int r)
{
	w->ops++;
	if(r < 0 && r > -8)
		w->errs[-r]++;
}

static void
slotop(Work *w, int i)
{
	int r, t;
	Proc *other;

	if(w->ptr[i] == nil){
		w->size[i] = rndsize(w);
		r = pebble_secure_alloc_simple(w->p, w->size[i], &w->ptr[i]);
		count(w, r);
		if(r != PEBBLE_ERR_OK){
			CHECK(r == PEBBLE_ERR_BUDGET || r == PEBBLE_ERR_NOMEM);
			w->ptr[i] = nil;
			return;
		}
		w->used += w->size[i];
		CHECK(holds(w->ptr[i], w->size[i], 0));
		w->pat[i] = 1 + rnd(w) % 255;
		OK(pebble_secure_check(w->p, w->ptr[i], w->size[i], PEBBLE_WRITE));
		memset(w->ptr[i], w->pat[i], w->size[i]);
		return;
	}
	CHECK(holds(w->ptr[i], w->size[i], w->pat[i]));
	other = &procs[rnd(w) % NPROC];
	switch(rnd(w) % 6){
	case 0:
		OK(pebble_secure_free(w->p, w->ptr[i]));
		w->used -= w->size[i];
		w->ptr[i] = nil;
		break;
	case 1:
		r = pebble_secure_share(w->p, other, w->ptr[i], PEBBLE_READ);
		count(w, r);
		CHECK(r == PEBBLE_ERR_OK || (other == w->p && r == PEBBLE_ERR_INVALID));
		__atomic_store_n(&board[rnd(w) % NBOARD], w->ptr[i], __ATOMIC_RELAXED);
		break;
	case 2:
		r = pebble_secure_revoke(w->p, other, w->ptr[i]);
		count(w, r);
		CHECK(r == PEBBLE_ERR_OK || r == PEBBLE_ERR_NOTFOUND || r == PEBBLE_ERR_INVALID);
		break;
	case 3:
		OK(pebble_secure_wipe(w->p, w->ptr[i], 0));
		CHECK(holds(w->ptr[i], w->size[i], 0));
		memset(w->ptr[i], w->pat[i], w->size[i]);
		break;
	default:
		t = rnd(w) % NBOARD;
		r = pebble_secure_check(w->p, __atomic_load_n(&board[t], __ATOMIC_RELAXED), 1, PEBBLE_READ);
		count(w, r);
		CHECK(r == PEBBLE_ERR_OK || r == PEBBLE_ERR_PERM || r == PEBBLE_ERR_NOTFOUND || r == PEBBLE_ERR_INVALID);
		r = pebble_secure_check(w->p, __atomic_load_n(&board[t], __ATOMIC_RELAXED), 1, PEBBLE_WRITE);
		count(w, r);
		CHECK(r == PEBBLE_ERR_OK || r == PEBBLE_ERR_PERM || r == PEBBLE_ERR_NOTFOUND || r == PEBBLE_ERR_INVALID);
	}
}

static void*
worker(void *arg)
{
	Work *w;

	w = arg;
	while(!__atomic_load_n(&stop, __ATOMIC_RELAXED))
		slotop(w, rnd(w) % NLIVE);
	return nil;
}

/* fork a child, let it allocate and share with us, exit it: we inherit */
static void*
churn(void *arg)
{
	Work *w;
	Proc *kid;
	void *p;
	int r;

	w = arg;
	kid = &procs[NPROC+1];
	while(!__atomic_load_n(&stop, __ATOMIC_RELAXED)){
		kid->pid += NPROC+2;
		OK(pebble_secure_attach(w->p, kid));
		r = pebble_secure_alloc_simple(kid, rndsize(w), &p);
		if(r == PEBBLE_ERR_OK){
			OK(pebble_secure_share(kid, w->p, p, PEBBLE_READ));
			__atomic_store_n(&board[rnd(w) % NBOARD], p, __ATOMIC_RELAXED);
		}
		OK(pebble_secure_detach(kid));
		if(r == PEBBLE_ERR_OK)
			OK(pebble_secure_free(w->p, p));	/* ours now */
		w->ops += 5;
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

int
main(int argc, char **argv)
{
	static Work w[NWORK+1];
	pthread_t t[NWORK+1];
	Pebbleconf c;
	PebbleSecureStats st;
	PebbleSysStats ss;
	double t0;
	long ops;
	int i, k;
	usize used;

	if(argc > 1)
		seconds = atof(argv[1]);
	memset(&c, 0, sizeof c);
	c.heapsize = 64<<20;
	c.nproc = 16;
	c.budget = 4<<20;
	OK(pebbleinit(&c));
	for(i = 0; i < NPROC+2; i++){
		procs[i].slot = i;
		procs[i].pid = i+1;
		strcpy(procs[i].user, "glenda");
	}
	for(i = 0; i <= NPROC; i++)
		OK(pebble_secure_attach(nil, &procs[i]));
	procs[NPROC+1].parent = &procs[NPROC];
	for(i = 0; i <= NWORK; i++){
		w[i].id = i;
		w[i].p = &procs[i < NPROC ? i : i == NPROC ? 0 : NPROC];
		w[i].rng = 0x9e3779b97f4a7c15ULL * (i+1);
		pthread_create(&t[i], nil, i == NWORK ? churn : worker, &w[i]);
	}
	t0 = now();
	while(now() - t0 < seconds){
		struct timespec ts = { 0, 50*1000*1000 };
		nanosleep(&ts, nil);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	ops = 0;
	for(i = 0; i <= NWORK; i++){
		pthread_join(t[i], nil);
		ops += w[i].ops;
	}

	/* quiet now: everything written is still there, and budgets add up */
	for(i = 0; i < NPROC; i++){
		used = 0;
		for(k = 0; k < NWORK; k++)
			if(w[k].p == &procs[i])
				used += w[k].used;
		OK(pebble_secure_stats(&procs[i], &st));
		EQ(st.used_budget, used);
	}
	OK(pebble_secure_stats(&procs[NPROC], &st));
	EQ(st.used_budget, 0);
	for(k = 0; k < NWORK; k++)
		for(i = 0; i < NLIVE; i++)
			if(w[k].ptr[i] != nil)
				CHECK(holds(w[k].ptr[i], w[k].size[i], w[k].pat[i]));
	for(i = 0; i <= NPROC; i++)
		OK(pebble_secure_detach(&procs[i]));
	OK(pebble_secure_sysstats(&ss));
	EQ(ss.live_allocations, 0);
	EQ(ss.in_use, 0);
	EQ(ss.attached, 0);
	EQ(ss.free_bytes, ss.heap_size);
	printf("stress: %d threads, %.1f s, %ld calls (%.0f/s), arena %s\n", NWORK+1, seconds, ops,
		ops/seconds, ss.locked ? "mlock'd" : "not mlock'd");
	printf("refusals: nomem %ld budget %ld perm %ld notfound %ld invalid %ld\n",
		w[0].errs[1]+w[1].errs[1], w[0].errs[5]+w[1].errs[5], w[0].errs[2]+w[1].errs[2],
		w[0].errs[3]+w[1].errs[3], w[0].errs[4]+w[1].errs[4]);
	pebbleshutdown();
	printf("%d checks, %d failed\n", nchecks, nfail);
	printf("%d passed, %d failed\n", nfail == 0, nfail != 0);
	return nfail != 0;
}
