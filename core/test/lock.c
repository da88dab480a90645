/*
 * The hosts' biased RWLock (core/host/lock.c): a thread that takes a
 * lock Nbias times in a row gets it biased, then takes it without
 * touching the lock's word; another thread's take revokes the bias and
 * waits for the biased holder to leave; a try (canwlock) never waits.
 * Then two threads hammer fresh locks, one in streaks long enough to
 * be biased, the other cutting in, and a pair of counters written
 * under the lock must never be seen apart and must add up.  Run in
 * the plain, ASan+UBSan and TSan builds: TSan sees the exclusion only
 * through the record and word the lock hands over, so a gap is a race.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>
#include "fix.h"
#include "host/lock.h"

enum {
	Nbias	= 64,		/* lock.c's */
	Paid	= Nbias<<4,	/* lock.c's */
	Rounds	= 300,
	Streak	= 200,		/* takes by the biased thread a round */
	Cuts	= 9,		/* the other thread's calls a round: 3 bumps, 3 looks, 3 tries */
	Cutbumps	= 6,	/* ... of which write */
	Limit	= 60,		/* seconds: the test takes well under one; a lock that never lets go hangs it */
};

static RWLock	lk;
static volatile long	x, y;	/* written together under lk */
static int	stage;		/* the two threads' turns in the exact cases */
static int	bin, bout;	/* the other thread is in, and has left */

static void
await(int *v, int want)
{
	while(__atomic_load_n(v, __ATOMIC_ACQUIRE) != want)
		sched_yield();
}

static void
put(int *v, int n)
{
	__atomic_store_n(v, n, __ATOMIC_RELEASE);
}

/* n write takes of lk in a row by this thread */
static void
turns(int n)
{
	while(n-- > 0){
		wlock(&lk);
		wunlock(&lk);
	}
}

/* the other thread: try while the biased thread is in, then revoke and wait it out */
static void*
cutin(void *arg)
{
	void *b;

	await(&stage, 1);
	b = lk.bias;
	CHECK(!canwlock(&lk));		/* the biased holder is in: a try fails ... */
	CHECK(lk.bias == b);		/* ... and leaves the bias with it */
	CHECK(lk.state == 0);		/* and the word as it found it */
	put(&stage, 2);
	await(&stage, 3);
	wlock(&lk);			/* the holder is in again: revoke, and wait */
	put(&bin, 1);
	EQ(lk.state, -1);
	CHECK(lk.bias == nil);
	x++;
	y++;
	wunlock(&lk);
	put(&bout, 1);
	return nil;
}

/* a reader: in while the biased thread is, it would see x and y apart */
static int	rin, rout;

static void*
reader(void *arg)
{
	rlock(&lk);
	__atomic_add_fetch(&rin, 1, __ATOMIC_ACQ_REL);
	EQ(x, y);
	runlock(&lk);
	__atomic_add_fetch(&rout, 1, __ATOMIC_ACQ_REL);
	return nil;
}

static void
biased(void)
{
	memset(&lk, 0, sizeof lk);
	turns(Nbias);
	CHECK(lk.bias != nil);
}

/* wait (yielding) until l's bias is no longer b: a revoker is at work */
static void
awaitrevoke(void *b)
{
	while(__atomic_load_n(&lk.bias, __ATOMIC_ACQUIRE) == b)
		sched_yield();
}

/*
 * Two readers revoke while the biased thread is in: the first marks
 * the bias and waits for the holder, the second must wait too, not
 * take the mark's clearing for the holder's leaving.
 */
static void
tworeaders(void)
{
	pthread_t t1, t2;
	void *b;
	int i;

	biased();
	b = lk.bias;
	rin = rout = 0;
	wlock(&lk);
	EQ(lk.state, 0);
	x++;				/* x and y apart while in */
	pthread_create(&t1, nil, reader, nil);
	awaitrevoke(b);
	pthread_create(&t2, nil, reader, nil);
	while(__atomic_load_n(&lk.state, __ATOMIC_ACQUIRE) != 2)
		sched_yield();
	for(i = 0; i < 100; i++)
		sched_yield();
	EQ(__atomic_load_n(&rin, __ATOMIC_ACQUIRE), 0);
	y++;
	wunlock(&lk);
	pthread_join(t1, nil);
	pthread_join(t2, nil);
	EQ(rout, 2);
	CHECK(lk.bias == nil);
	EQ(lk.state, 0);
}

/* another thread takes l once and lets it go */
static void*
takeonce(void *arg)
{
	wlock(&lk);
	wunlock(&lk);
	return nil;
}

static void
intrude(void)
{
	pthread_t t;

	pthread_create(&t, nil, takeonce, nil);
	pthread_join(t, nil);
}

/*
 * Revoked soon after it was given, a bias needs a streak twice as long
 * the next time; revoked after it served Paid takes, the count starts
 * again (a pager's occasional try must not unbias an area for good).
 */
static void
paid(void)
{
	int i;

	biased();
	intrude();
	EQ(lk.revoked, 1);
	turns(2*Nbias-1);
	CHECK(lk.bias == nil);		/* 2*Nbias-1 takes: one short */
	wlock(&lk);
	wunlock(&lk);
	CHECK(lk.bias != nil);
	turns(Paid-1);
	intrude();
	EQ(lk.revoked, 2);		/* Paid-1 takes by the bias: not yet paid */
	turns(4*Nbias);
	CHECK(lk.bias != nil);
	for(i = 0; i < Paid; i++){
		rlock(&lk);
		runlock(&lk);
	}
	intrude();
	EQ(lk.revoked, 0);		/* paid: reads count too */
	turns(Nbias);
	CHECK(lk.bias != nil);
}

static void
exact(void)
{
	pthread_t t;
	void *b;
	int i;

	memset(&lk, 0, sizeof lk);
	turns(Nbias-1);
	CHECK(lk.bias == nil);
	wlock(&lk);
	wunlock(&lk);
	CHECK(lk.bias != nil);		/* the streak's end */
	wlock(&lk);
	EQ(lk.state, 0);		/* held by the bias: the word untouched */
	wunlock(&lk);
	rlock(&lk);
	EQ(lk.state, 0);
	runlock(&lk);
	CHECK(canwlock(&lk));
	EQ(lk.state, 0);
	wunlock(&lk);

	x = y = 0;
	bin = bout = 0;
	put(&stage, 0);
	b = lk.bias;
	pthread_create(&t, nil, cutin, nil);
	wlock(&lk);
	EQ(lk.state, 0);
	put(&stage, 1);
	await(&stage, 2);
	wunlock(&lk);
	wlock(&lk);			/* the failed try left the bias */
	EQ(lk.state, 0);
	CHECK(lk.bias == b);
	put(&stage, 3);
	awaitrevoke(b);
	for(i = 0; i < 50; i++)
		sched_yield();
	EQ(__atomic_load_n(&bin, __ATOMIC_ACQUIRE), 0);	/* it waits while this thread is in */
	wunlock(&lk);
	await(&bout, 1);
	EQ(x, 1);
	EQ(y, 1);
	pthread_join(t, nil);
	EQ(lk.revoked, 1);		/* the next bias needs a streak twice as long */
	wlock(&lk);
	EQ(lk.state, -1);		/* the bias is gone: the word */
	wunlock(&lk);

	tworeaders();
	paid();
}

typedef struct Ham Ham;
struct Ham {
	RWLock	l;
	long	want;
	int	done;
};

static Ham	ham;

static void
bump(RWLock *l)
{
	wlock(l);
	x++;
	y++;
	wunlock(l);
}

static void
look(RWLock *l)
{
	rlock(l);
	EQ(x, y);
	runlock(l);
}

static void*
hammer(void *arg)
{
	int r, i;

	for(r = 0; r < Rounds; r++){
		await(&stage, 2*r+1);
		for(i = 0; i < Cuts; i++){
			switch(i % 3){
			case 0:
				bump(&ham.l);
				break;
			case 1:
				look(&ham.l);
				break;
			default:
				if(canwlock(&ham.l)){
					x++;
					y++;
					wunlock(&ham.l);
				}else
					bump(&ham.l);
			}
			sched_yield();
		}
		put(&stage, 2*r+2);
	}
	return nil;
}

static void
hammered(void)
{
	pthread_t t;
	int r, i;
	uvlong g0, t0, g1, t1;

	lockcounts(&g0, &t0);
	x = y = 0;
	put(&stage, 0);
	pthread_create(&t, nil, hammer, nil);
	for(r = 0; r < Rounds; r++){
		memset(&ham.l, 0, sizeof ham.l);	/* no one holds the old one */
		for(i = 0; i < Nbias; i++)
			bump(&ham.l);
		CHECK(ham.l.bias != nil);
		put(&stage, 2*r+1);		/* the other thread cuts in ... */
		for(i = 0; i < Streak; i++){	/* ... while this one takes it by its bias */
			bump(&ham.l);
			if(i % 16 == 0)
				look(&ham.l);
		}
		await(&stage, 2*r+2);
	}
	pthread_join(t, nil);
	EQ(x, (long)Rounds*(Nbias + Streak + Cutbumps));
	EQ(x, y);
	lockcounts(&g1, &t1);
	CHECK(g1 - g0 >= Rounds);	/* each round biased its fresh lock ... */
	CHECK(t1 - t0 >= Rounds);	/* ... and the other thread took it away */
}

/* a hang is a failure: a revoker that does not wait, or a holder never seen to leave */
static void
stuck(int sig)
{
	static char msg[] = "testlock: no progress in 60 s: a thread waits for a lock that is never let go\n";

	if(sig == SIGALRM && write(2, msg, sizeof msg - 1) < 0)
		_exit(2);
	_exit(1);
}

void
testlock(void)
{
	signal(SIGALRM, stuck);
	alarm(Limit);
	if(!lockcanbias()){
		fprintf(stderr, "%s: membarrier(2) is not available: the bias cannot be tested here\n", curtest);
		CHECK(0);
		alarm(0);
		return;
	}
	exact();
	hammered();
	alarm(0);
	signal(SIGALRM, SIG_DFL);
}
