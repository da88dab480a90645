/*
 * Lock and RWLock for both hosts: spin locks on the compiler's atomics.
 * The core never sleeps holding one and holds them for short,
 * bounded work, so spinning is what a kernel would do here too
 * (9front's lock() spins; only qlock sleeps).  Readers and writers
 * share one word: a count of readers, or -1 with a writer in.  A
 * waiting writer sets Wwait so new readers hold back and it is not
 * starved.
 */
#include "../host.h"

enum {
	Wwait	= 1L<<30,
	Wheld	= -1,
};

static void
relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

int
canlock(Lock *l)
{
	return __atomic_exchange_n(&l->key, 1, __ATOMIC_ACQUIRE) == 0;
}

void
lock(Lock *l)
{
	while(!canlock(l))
		while(__atomic_load_n(&l->key, __ATOMIC_RELAXED))
			relax();
}

void
unlock(Lock *l)
{
	__atomic_store_n(&l->key, 0, __ATOMIC_RELEASE);
}

void
rlock(RWLock *l)
{
	long s;

	for(;;){
		s = __atomic_load_n(&l->state, __ATOMIC_RELAXED);
		if(s >= 0 && (s & Wwait) == 0
		&& __atomic_compare_exchange_n(&l->state, &s, s+1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
		relax();
	}
}

void
runlock(RWLock *l)
{
	__atomic_sub_fetch(&l->state, 1, __ATOMIC_RELEASE);
}

int
canwlock(RWLock *l)
{
	long s;

	s = 0;
	return __atomic_compare_exchange_n(&l->state, &s, Wheld, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

void
wlock(RWLock *l)
{
	long s;

	for(;;){
		s = __atomic_load_n(&l->state, __ATOMIC_RELAXED);
		if((s == 0 || s == Wwait)
		&& __atomic_compare_exchange_n(&l->state, &s, Wheld, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
		if(s > 0 && (s & Wwait) == 0)
			__atomic_fetch_or(&l->state, Wwait, __ATOMIC_RELAXED);
		relax();
	}
}

void
wunlock(RWLock *l)
{
	__atomic_store_n(&l->state, 0, __ATOMIC_RELEASE);
}
