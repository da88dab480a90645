/*
 * Lock and RWLock for both hosts: spin locks on the compiler's atomics.
 * The core never sleeps holding one and holds them for short,
 * bounded work, so spinning is what a kernel would do here too
 * (9front's lock() spins; only qlock sleeps).  Readers and writers
 * share one word: a count of readers, or -1 with a writer in.  A
 * waiting writer sets Wwait so new readers hold back and it is not
 * starved.
 *
 * A kernel spins with preemption off, so the holder is running on
 * another processor and lets go within the bounded work.  A thread
 * here can be preempted holding a lock, and then spinning burns the
 * waiter's whole time slice for nothing: so a waiter spins Nspin
 * times (a holder that is running lets go well within that), then
 * gives the processor away with sched_yield at each further look.
 * Yielding is not sleeping on the lock: no one has to wake the
 * waiter, it is runnable all along.
 *
 * Letting go of a lock not held is a bug in the caller, found here at
 * once rather than as a race later, as 9front's unlock reports "not
 * locked": a look at a word the holder already owns, so it costs
 * nothing a pair could measure.
 */
#include <sched.h>
#include "../host.h"

enum {
	Wwait	= 1L<<30,
	Wheld	= -1,
	Nspin	= 128,	/* pauses before yielding: a few microseconds */
};

#ifdef LOCKHOOK
/*
 * The deterministic host's test hook (det.h, detlockhook): called once
 * at the next lock, rlock, wlock or canwlock, before it is taken, so a test can
 * stop a call between its unlocked look-ups and its first lock.
 */
void	(*detlockfn)(void*);
void	*detlockarg;

static void
hook(void)
{
	void (*f)(void*);

	if(__atomic_load_n(&detlockfn, __ATOMIC_RELAXED) == nil)
		return;
	f = __atomic_exchange_n(&detlockfn, nil, __ATOMIC_ACQ_REL);
	if(f != nil)
		f(detlockarg);
}
#else
#define hook()
#endif

/* the n'th look at a busy lock */
static void
relax(int n)
{
	if(n >= Nspin){
		sched_yield();
		return;
	}
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

void
yield(void)
{
	sched_yield();
}

int
canlock(Lock *l)
{
	return __atomic_exchange_n(&l->key, 1, __ATOMIC_ACQUIRE) == 0;
}

void
lock(Lock *l)
{
	int n;

	hook();
	n = 0;
	while(!canlock(l))
		while(__atomic_load_n(&l->key, __ATOMIC_RELAXED))
			relax(n++);
}

void
unlock(Lock *l)
{
	if(__atomic_load_n(&l->key, __ATOMIC_RELAXED) == 0)
		hostpanic("unlock: not locked");
	__atomic_store_n(&l->key, 0, __ATOMIC_RELEASE);
}

void
rlock(RWLock *l)
{
	long s;
	int n;

	hook();
	for(n = 0;; n++){
		s = __atomic_load_n(&l->state, __ATOMIC_RELAXED);
		if(s >= 0 && (s & Wwait) == 0
		&& __atomic_compare_exchange_n(&l->state, &s, s+1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
		relax(n);
	}
}

void
runlock(RWLock *l)
{
	long s;

	s = __atomic_sub_fetch(&l->state, 1, __ATOMIC_RELEASE);
	if(s < 0 || (s & (Wwait-1)) == Wwait-1)
		hostpanic("runlock: not read-locked");
}

int
canwlock(RWLock *l)
{
	long s;

	hook();
	s = 0;
	return __atomic_compare_exchange_n(&l->state, &s, Wheld, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

void
wlock(RWLock *l)
{
	long s;
	int n;

	hook();
	for(n = 0;; n++){
		s = __atomic_load_n(&l->state, __ATOMIC_RELAXED);
		if((s == 0 || s == Wwait)
		&& __atomic_compare_exchange_n(&l->state, &s, Wheld, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
		if(s > 0 && (s & Wwait) == 0)
			__atomic_fetch_or(&l->state, Wwait, __ATOMIC_RELAXED);
		relax(n);
	}
}

void
wunlock(RWLock *l)
{
	if(__atomic_load_n(&l->state, __ATOMIC_RELAXED) != Wheld)
		hostpanic("wunlock: not write-locked");
	__atomic_store_n(&l->state, 0, __ATOMIC_RELEASE);
}
