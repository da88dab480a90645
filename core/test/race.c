/*
 * A call that names a proc acts on that proc and no other (DESIGN.md
 * "Threads"): if the proc exits during the call and its slot is given
 * to a new proc, the call is NOTFOUND and the new proc is untouched.
 *
 * Each case stops one call between its unlocked look-ups and its first
 * lock (detlockhook), exits the named proc there, attaches a newcomer
 * in its slot, lets the call go on, and judges the outcome.  One
 * thread does it all: the interleaving is fixed, the result exact.
 */
#include <pthread.h>
#include <time.h>
#include "fix.h"
#include "dat.h"
#include "fns.h"

enum { Slot = 1 };

static Proc	newp;		/* the newcomer: the exited proc's slot, a new pid */
static Proc	*owner;		/* shares with the proc that exits */
static Proc	*gone;		/* the proc that exits mid-call */
static void	*newmem;	/* the newcomer's allocation, at the old one's address if any */
static usize	newsize;
static int	newshare;	/* the hook has owner share its memory with the newcomer */
static void	*ownmem;

static Proc*
newcomer(void)
{
	memset(&newp, 0, sizeof newp);
	newp.slot = Slot;
	newp.pid = 900;
	strcpy(newp.user, "glenda");
	return &newp;
}

/* the named proc exits; another is attached in its slot and given memory */
static void
exitandreuse(void *arg)
{
	EQ(pebble_secure_detach(gone), PEBBLE_ERR_OK);
	EQ(pebble_secure_attach(nil, newcomer()), PEBBLE_ERR_OK);
	EQ(pebble_secure_budget_set(&newp, 5000), PEBBLE_ERR_OK);
	if(newsize > 0){
		EQ(pebble_secure_alloc_simple(&newp, newsize, &newmem), PEBBLE_ERR_OK);
		fill(newmem, newsize, 7);
	}
	if(newshare)
		EQ(pebble_secure_share(owner, &newp, ownmem, PEBBLE_READ|PEBBLE_WRITE), PEBBLE_ERR_OK);
}

/* a fresh world: owner in slot 0 with ownmem, gone in Slot holding gonemem of size n */
static void*
world(usize n)
{
	void *m;

	setup(1<<20, 1<<16);
	owner = attached(0, "glenda", nil);
	gone = attached(Slot, "glenda", nil);
	OK(pebble_secure_alloc_simple(owner, 100, &ownmem));
	m = nil;
	if(n > 0)
		OK(pebble_secure_alloc_simple(gone, n, &m));
	newsize = n;
	newmem = nil;
	newshare = 0;
	return m;
}

/* the newcomer holds nothing of owner's and its own memory is as it made it */
static void
untouched(void)
{
	SecureAllocation info;
	PebbleSecureStats st;

	EQ(pebble_secure_check(&newp, ownmem, 1, PEBBLE_READ), newshare ? PEBBLE_ERR_OK : PEBBLE_ERR_PERM);
	OK(pebble_secure_info(owner, ownmem, &info));
	EQ(info.ngrants, newshare);
	OK(pebble_secure_stats(&newp, &st));
	EQ(st.total_budget, 5000);
	EQ(st.num_allocations, newsize > 0);
	EQ(st.used_budget, newsize);
	if(newsize > 0){
		OK(pebble_secure_info(&newp, newmem, &info));
		EQ(info.size, newsize);
		CHECK(isfill(newmem, newsize, 7));
	}
	EQ(pebble_secure_budget_get(gone), 0);
	OK(pebble_secure_detach(&newp));
	teardown();
}

static void
testshare1(void)
{
	/* the share stops inside its grant allocation (the first lock it takes) */
	world(0);
	detlockhook(exitandreuse, nil);
	EQ(pebble_secure_share(owner, gone, ownmem, PEBBLE_READ), PEBBLE_ERR_NOTFOUND);
	untouched();

	/* a share again, where the owner has shared with the newcomer meanwhile: its grant keeps its permissions */
	world(0);
	newshare = 1;
	OK(pebble_secure_share(owner, gone, ownmem, PEBBLE_READ|PEBBLE_WRITE));
	detlockhook(exitandreuse, nil);
	EQ(pebble_secure_share(owner, gone, ownmem, PEBBLE_READ), PEBBLE_ERR_NOTFOUND);
	EQ(pebble_secure_check(&newp, ownmem, 1, PEBBLE_WRITE), PEBBLE_ERR_OK);
	untouched();

}

static void
testsharer(void)
{
	void *m;
	Proc *target;

	/* gone shares its m with target; it exits first and the newcomer has memory at m */
	setup(1<<20, 1<<16);
	owner = attached(0, "glenda", nil);
	target = attached(2, "glenda", nil);
	gone = attached(Slot, "glenda", nil);
	OK(pebble_secure_alloc_simple(owner, 100, &ownmem));
	OK(pebble_secure_alloc_simple(gone, 100, &m));
	newsize = 100;
	newshare = 0;
	detlockhook(exitandreuse, nil);
	EQ(pebble_secure_share(gone, target, m, PEBBLE_READ), PEBBLE_ERR_NOTFOUND);
	CHECK(newmem == m);
	EQ(pebble_secure_check(target, newmem, 1, PEBBLE_READ), PEBBLE_ERR_PERM);
	untouched();
}

static void
testrevoke1(void)
{
	/* gone's grant goes with it; the newcomer is given one; revoking gone's must not take it */
	world(0);
	newshare = 1;
	OK(pebble_secure_share(owner, gone, ownmem, PEBBLE_READ));
	detlockhook(exitandreuse, nil);
	EQ(pebble_secure_revoke(owner, gone, ownmem), PEBBLE_ERR_NOTFOUND);
	untouched();
}

/* calls naming gone and its allocation m: each NOTFOUND, the newcomer's memory at m untouched */
static void
testown(void)
{
	void *m, *q;
	SecureAllocation info;
	PebbleSecureStats st;
	SecureAuditEntry e[4];
	Proc *kid;
	int i;

	for(i = 0; i < 13; i++){
		m = world(100);
		detlockhook(exitandreuse, nil);
		switch(i){
		case 0:	EQ(pebble_secure_free(gone, m), PEBBLE_ERR_NOTFOUND); break;
		case 1:	EQ(pebble_secure_free_size(gone, m, 10), PEBBLE_ERR_NOTFOUND); break;
		case 2:	EQ(pebble_secure_wipe(gone, m, 0), PEBBLE_ERR_NOTFOUND); break;
		case 3:	EQ(pebble_secure_wipe_and_free(gone, m, 0), PEBBLE_ERR_NOTFOUND); break;
		case 4:	EQ(pebble_secure_info(gone, m, &info), PEBBLE_ERR_NOTFOUND); break;
		case 5:	EQ(pebble_secure_check(gone, m, 1, PEBBLE_READ), PEBBLE_ERR_NOTFOUND); break;
		case 6:	EQ(pebble_secure_audit(gone, m, e, 4), PEBBLE_ERR_NOTFOUND); break;
		case 7:	EQ(pebble_secure_alloc_simple(gone, 10, &q), PEBBLE_ERR_NOTFOUND); break;
		case 8:	EQ(pebble_secure_budget_set(gone, 9000), PEBBLE_ERR_NOTFOUND); break;
		case 9:	EQ(pebble_secure_budget_decrease(gone, 10), PEBBLE_ERR_NOTFOUND); break;
		case 10: EQ(pebble_set_secure_conf(gone, "pebble.secure.budget", "9000"), PEBBLE_ERR_NOTFOUND); break;
		case 11: EQ(pebble_secure_stats(gone, &st), PEBBLE_ERR_NOTFOUND); break;
		case 12: EQ(pebble_secure_detach(gone), PEBBLE_ERR_NOTFOUND); break;
		}
		CHECK(newmem == m);	/* the newcomer's memory is where gone's was: the case bites */
		untouched();
	}

	/* a child attached under gone gets nothing of the newcomer's settings */
	world(0);
	detlockhook(exitandreuse, nil);
	kid = mkproc(3, "glenda", gone, 0);
	EQ(pebble_secure_attach(gone, kid), PEBBLE_ERR_NOTFOUND);
	EQ(pebble_secure_budget_get(kid), 0);
	untouched();
}

/*
 * For a hook that must run at a call's n'th lock: counts in *arg and
 * sets the hook again until then.
 */
static int
nthlock(void (*self)(void*), void *arg, int n)
{
	if(++*(int*)arg < n){
		detlockhook(self, arg);
		return 0;
	}
	return 1;
}

/*
 * A detach stopped after it closed its area, before it took its lock
 * set: its exit has begun but nothing of it is done, so every call
 * still sees the proc and its grant as they were (DESIGN.md, Threads:
 * a call's result is one some serial order would give).
 */
static void
midexit(void *arg)
{
	SecureAllocation info;
	PebbleSecureStats st;

	if(!nthlock(midexit, arg, 3))	/* the detach's third lock (exitlk): the area closed, nothing held */
		return;
	OK(pebble_secure_check(gone, ownmem, 1, PEBBLE_READ));
	OK(pebble_secure_info(owner, ownmem, &info));
	EQ(info.ngrants, 1);
	OK(pebble_secure_stats(gone, &st));
	EQ(pebble_secure_budget_get(gone), 1<<16);
	CHECK(pebble_get_secure_conf(gone, "pebble.secure.budget") != nil);
}

static void
testdying(void)
{
	SecureAllocation info;
	PebbleSecureStats st;
	int n;

	world(0);
	OK(pebble_secure_share(owner, gone, ownmem, PEBBLE_READ));
	n = 0;
	detlockhook(midexit, &n);
	OK(pebble_secure_detach(gone));
	EQ(n, 3);
	OK(pebble_secure_info(owner, ownmem, &info));
	EQ(info.ngrants, 0);
	EQ(pebble_secure_check(gone, ownmem, 1, PEBBLE_READ), PEBBLE_ERR_NOTFOUND);
	EQ(pebble_secure_stats(gone, &st), PEBBLE_ERR_NOTFOUND);
	EQ(pebble_secure_revoke(owner, gone, ownmem), PEBBLE_ERR_NOTFOUND);
	OK(pebble_secure_detach(owner));
	teardown();
}

/*
 * attach(parent, kid) stopped after it read the parent's settings,
 * before the kid is in its slot: the parent exits and its Proc is given
 * to another process (a new pid).  The kid's parent for inheritance is
 * the process that was its parent, now gone: the newcomer in the
 * parent's Proc inherits nothing from the kid's exit.
 */
static Proc	*kid;

static void
parentrecycled(void *arg)
{
	if(!nthlock(parentrecycled, arg, 2))	/* attach's second lock: the kid's slot */
		return;
	EQ(pebble_secure_detach(gone), PEBBLE_ERR_OK);
	gone->pid = 900;	/* Plan 9 recycles the Proc, not the pid */
	EQ(pebble_secure_attach(nil, gone), PEBBLE_ERR_OK);
}

static void
testattachrecycle(void)
{
	PebbleSecureStats st;
	SecureAllocation info;
	void *m;
	int n;

	world(0);
	OK(pebble_secure_budget_set(gone, 3000));
	kid = mkproc(3, "glenda", gone, 0);
	n = 0;
	detlockhook(parentrecycled, &n);
	OK(pebble_secure_attach(gone, kid));
	EQ(n, 2);
	EQ(pebble_secure_budget_get(kid), 3000);	/* the parent's settings when attach read them */
	OK(pebble_secure_alloc_simple(kid, 100, &m));
	OK(pebble_secure_share(kid, gone, m, PEBBLE_READ));
	OK(pebble_secure_detach(kid));
	EQ(pebble_secure_info(gone, m, &info), PEBBLE_ERR_NOTFOUND);
	OK(pebble_secure_stats(gone, &st));
	EQ(st.num_allocations, 0);
	EQ(st.used_budget, 0);
	OK(pebble_secure_detach(gone));
	OK(pebble_secure_detach(owner));
	teardown();
}

/*
 * h, exiting, holds a grant on the allocation m of c, whose parent P
 * holds one too.  h's exit reads m's owner (c) and is stopped before
 * it try-locks c; c exits there and m passes to P, with h's grant
 * now on P's memory.  h's lock set must take P, not only c: it reads
 * the owner again under the lock (without, its drop of the grant ran
 * without P's lock and broke the set's invariant).
 */
static Proc	*hc;

static void
ownerexits(void *arg)
{
	if(!nthlock(ownerexits, arg, 6))	/* h's exit: close (2 locks), exitlk, its own lock, heldlk, then c's try-lock */
		return;
	OK(pebble_secure_detach(hc));
}

static void
testownermoves(void)
{
	Proc *pp, *h;
	SecureAllocation info;
	void *m;
	int n;

	setup(1<<20, 1<<16);
	pp = attached(0, "glenda", nil);
	h = attached(2, "glenda", nil);
	hc = attached(3, "glenda", pp);
	OK(pebble_secure_alloc_simple(hc, 100, &m));
	OK(pebble_secure_share(hc, pp, m, PEBBLE_READ));
	OK(pebble_secure_share(hc, h, m, PEBBLE_READ));
	n = 0;
	detlockhook(ownerexits, &n);
	OK(pebble_secure_detach(h));
	EQ(n, 6);
	OK(pebble_secure_info(pp, m, &info));	/* inherited, h's grant gone with h */
	EQ(info.pid, pp->pid);
	EQ(info.ngrants, 0);
	OK(pebble_secure_free(pp, m));
	OK(pebble_secure_detach(pp));
	teardown();
}

/*
 * The detach's twin of testattachrecycle: the exiting kid found its
 * parent (by the pid recorded at attach), then, before its lock set,
 * the parent exits and its Proc is given to a new process (pid 900)
 * in the same slot, which the kid shares with.  The newcomer is not
 * the kid's parent: it inherits nothing.
 */
static void *recm;

static void
heirrecycled(void *arg)
{
	if(!nthlock(heirrecycled, arg, 3))	/* the kid's third lock (exitlk): closed, its heir found, nothing held */
		return;
	OK(pebble_secure_detach(gone));
	gone->pid = 900;
	OK(pebble_secure_attach(nil, gone));
	OK(pebble_secure_share(kid, gone, recm, PEBBLE_READ));
}

static void
testheirrecycle(void)
{
	SecureAllocation info;
	PebbleSecureStats st;
	int n;

	world(0);
	kid = attached(3, "glenda", gone);
	OK(pebble_secure_alloc_simple(kid, 100, &recm));
	n = 0;
	detlockhook(heirrecycled, &n);
	OK(pebble_secure_detach(kid));
	EQ(n, 3);
	EQ(pebble_secure_info(gone, recm, &info), PEBBLE_ERR_NOTFOUND);
	OK(pebble_secure_stats(gone, &st));
	EQ(st.num_allocations, 0);
	OK(pebble_secure_detach(gone));
	OK(pebble_secure_detach(owner));
	teardown();
}

/*
 * The system statistics are one moment (DESIGN.md, Threads: every call
 * is atomic).  Stopped between its looks at two areas, another thread
 * allocates in the area already looked at and then frees in the one
 * not yet looked at: reading the areas one at a time would count
 * neither allocation, which no serial order gives (the alloc comes
 * first).  Holding every area's lock until all is read, the other
 * thread waits, and the statistics see the moment before it.
 */
static Proc	*sa, *sb;
static void	*sy;
static int	sdone;

static void*
allocfree(void *arg)
{
	void *x;

	(void)arg;
	EQ(pebble_secure_alloc_simple(sa, 100, &x), PEBBLE_ERR_OK);
	EQ(pebble_secure_free(sb, sy), PEBBLE_ERR_OK);
	__atomic_store_n(&sdone, 1, __ATOMIC_RELEASE);
	return nil;
}

static pthread_t	sthr;

static void
midstats(void *arg)
{
	struct timespec ts = {0, 1000000};
	int i;

	if(!nthlock(midstats, arg, 3))	/* exitlk, slot 0's lock, then this: before slot 1's */
		return;
	CHECK(pthread_create(&sthr, nil, allocfree, nil) == 0);
	/* long enough for the other thread to do both, were slot 0 not held */
	for(i = 0; i < 200 && !__atomic_load_n(&sdone, __ATOMIC_ACQUIRE); i++)
		nanosleep(&ts, nil);
}

static void
teststatsmoment(void)
{
	PebbleSysStats st;
	int n;

	setup(1<<20, 1<<16);
	sa = attached(0, "glenda", nil);
	sb = attached(1, "glenda", nil);
	OK(pebble_secure_alloc_simple(sb, 200, &sy));
	sdone = 0;
	n = 0;
	detlockhook(midstats, &n);
	OK(pebble_secure_sysstats(&st));
	EQ(n, 3);
	CHECK(pthread_join(sthr, nil) == 0);
	EQ(sdone, 1);
	EQ(st.live_allocations, 1);	/* before both: y alone */
	EQ(st.in_use, 200);
	OK(pebble_secure_sysstats(&st));
	EQ(st.live_allocations, 1);	/* after both: x alone */
	EQ(st.in_use, 100);
	teardown();
}

/*
 * A detach whose lock set cannot be had by trying (another thread
 * holds the heir's lock through every round of Ntry) takes it in slot
 * order, waiting: the exit waits for the holder, then happens whole.
 * The exiting kid's memory, which its parent holds a grant on, passes
 * to the parent; the grant the kid held on a third proc's memory goes,
 * and that proc's lock was part of the set.
 */
static Proc	*opar, *okid, *ox;
static void	*okm, *oxm;
static int	oheld, oreleased;
static pthread_t	othr;

static void*
holdheir(void *arg)
{
	struct timespec ts = {0, 20000000};

	(void)arg;
	wlock(&slotarea(0)->rd.lock);
	__atomic_store_n(&oheld, 1, __ATOMIC_RELEASE);
	nanosleep(&ts, nil);	/* far longer than Ntry rounds of trying */
	__atomic_store_n(&oreleased, 1, __ATOMIC_RELEASE);
	wunlock(&slotarea(0)->rd.lock);
	return nil;
}

/*
 * until the other thread sets *flag; it should within microseconds.
 * A core that lets that thread finish without reaching the lock it
 * was to stop at leaves this one waiting inside a lock hook, under
 * locks, where no check can fail and the test go on: after 10 s
 * that is a failure of the whole run, not a hang.
 */
static void
waitfor(int *flag)
{
	struct timespec ts = {0, 100000};
	long n;

	for(n = 0; !__atomic_load_n(flag, __ATOMIC_ACQUIRE); n++){
		if(n == 100000){
			fprintf(stderr, "%s: FAIL: the other thread never reached the lock it was to stop at (10 s)\n", curtest);
			exit(1);
		}
		nanosleep(&ts, nil);
	}
}

static void
heirheld(void *arg)
{
	if(!nthlock(heirheld, arg, 3))	/* the kid's third lock (exitlk): closed, nothing held */
		return;
	CHECK(pthread_create(&othr, nil, holdheir, nil) == 0);
	waitfor(&oheld);
}

static void
testorderlock(void)
{
	SecureAllocation info;
	int n;

	setup(1<<20, 1<<16);
	opar = attached(0, "glenda", nil);
	okid = attached(1, "glenda", opar);
	ox = attached(2, "glenda", nil);
	OK(pebble_secure_alloc_simple(okid, 100, &okm));
	OK(pebble_secure_share(okid, opar, okm, PEBBLE_READ));
	OK(pebble_secure_alloc_simple(ox, 200, &oxm));
	OK(pebble_secure_share(ox, okid, oxm, PEBBLE_READ));
	oheld = oreleased = 0;
	n = 0;
	detlockhook(heirheld, &n);
	OK(pebble_secure_detach(okid));
	EQ(n, 3);
	EQ(__atomic_load_n(&oreleased, __ATOMIC_ACQUIRE), 1);	/* it waited for the heir's lock */
	CHECK(pthread_join(othr, nil) == 0);
	OK(pebble_secure_info(opar, okm, &info));	/* the parent owns it now */
	EQ(info.ngrants, 0);
	EQ(stats(opar).num_allocations, 1);
	OK(pebble_secure_info(ox, oxm, &info));
	EQ(info.ngrants, 0);	/* the kid's grant on x's memory went with it */
	EQ(pebble_secure_check(okid, oxm, 1, PEBBLE_READ), PEBBLE_ERR_NOTFOUND);
	OK(pebble_secure_free(opar, okm));
	OK(pebble_secure_detach(ox));
	OK(pebble_secure_detach(opar));
	teardown();
}

/*
 * A call that finds its proc closing (another thread's detach of it
 * has begun) lets go of what it holds, waits for the exit, and is
 * NOTFOUND: a share naming the closing proc as target, and a second
 * detach of it.  The exiting thread is stopped with its area closed
 * and nothing held until the other call has reached the closing
 * proc's lock; were that call to keep a lock while it waits, the exit
 * could never take its lock set, and were it to return before the exit
 * is done, a later call of its thread would still find the proc.
 */
enum { Cshare, Cdetach };
static int	cwhich, cat, creached;
static vlong	cgot, cafter;
static pthread_t	cthr;

/* the call, then a stats of gone: the call came after the exit, so this does too */
static void*
closingcall(void *arg)
{
	PebbleSecureStats st;

	(void)arg;
	if(cwhich == Cshare)
		cgot = pebble_secure_share(owner, gone, ownmem, PEBBLE_READ);
	else
		cgot = pebble_secure_detach(gone);
	cafter = pebble_secure_stats(gone, &st);
	return nil;
}

/* the other call's lock at which it next looks at gone's state */
static void
reached(void *arg)
{
	if(!nthlock(reached, arg, cat))
		return;
	__atomic_store_n(&creached, 1, __ATOMIC_RELEASE);
}

static void
exitclosed(void *arg)
{
	struct timespec settle = {0, 5000000};
	static int m;

	if(!nthlock(exitclosed, arg, 3))	/* gone's detach, third lock (exitlk): closed, nothing held */
		return;
	m = 0;
	detlockhook(reached, &m);
	CHECK(pthread_create(&cthr, nil, closingcall, nil) == 0);
	waitfor(&creached);
	nanosleep(&settle, nil);	/* for it to see the state and begin to wait */
}

static void
testclosing(int which)
{
	SecureAllocation info;
	int n;

	world(100);
	cwhich = which;
	cat = which == Cshare ? 2 : 1;	/* share: its owner's lock, then gone's heldlk; detach: gone's lock */
	creached = 0;
	cgot = cafter = 1;
	n = 0;
	detlockhook(exitclosed, &n);
	OK(pebble_secure_detach(gone));
	CHECK(pthread_join(cthr, nil) == 0);
	EQ(n, 3);
	EQ(cgot, PEBBLE_ERR_NOTFOUND);
	EQ(cafter, PEBBLE_ERR_NOTFOUND);	/* it did not return before the exit was done */
	OK(pebble_secure_info(owner, ownmem, &info));
	EQ(info.ngrants, 0);
	OK(pebble_secure_alloc_simple(owner, 50, &newmem));	/* owner's lock is free */
	EQ(pebble_secure_detach(gone), PEBBLE_ERR_NOTFOUND);
	OK(pebble_secure_detach(owner));
	teardown();
}

void
testrace(void)
{
	teststatsmoment();
	testdying();
	testattachrecycle();
	testownermoves();
	testheirrecycle();
	testorderlock();
	testclosing(Cshare);
	testclosing(Cdetach);
	testshare1();
	testsharer();
	testrevoke1();
	testown();
}
