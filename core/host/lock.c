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
 *
 * RWLocks are biased.  Every call takes its area's lock (DESIGN.md,
 * Threads), nearly always from the thread that took it last, the
 * proc's own; and a locked instruction costs what a pair's other work
 * does (bench: pair/lock_floor), and waits for every store before it,
 * a 64 KiB wipe's included.  A kernel's per-processor data needs no
 * locked instruction either, with preemption off.  So after Nbias
 * write takes in a row by one thread, the lock is biased to it: that
 * thread takes it, for reading or writing, by naming the lock in its
 * own Bias record (one plain store) and then seeing the bias still
 * its own, and lets go by clearing the record.  Any other thread takes
 * the lock's word the usual way, then revokes the bias: marks it
 * Revoking, runs membarrier(2), which puts a full barrier in every
 * running thread of the process, waits until the biased thread's
 * record no longer names the lock, and only then clears it (readers
 * share the word: a second reader must not see it clear while the
 * first still waits for the holder).  The barrier is what makes the
 * two plain stores a Dekker pair (as userspace RCU's sys_membarrier
 * does): a biased take either ran before it, and its record shows, or
 * after it, and sees the bias gone and takes the word.  A bias is
 * given again only after a streak twice as long as the last (Nbias <<
 * the times revoked), so a lock that threads share soon stays unbiased
 * and costs one look at the bias more than before; a bias that served
 * Paid takes before it was taken away starts the count again, so a
 * pager's or a reclaim's occasional try does not unbias an area for
 * good.  Where membarrier is missing (an old kernel, a sandbox that
 * filters it) nothing is ever biased.
 */
#include <sched.h>
#include <stdlib.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/membarrier.h>
#include "../host.h"
#include "lock.h"

enum {
	Wwait	= 1L<<30,
	Wheld	= -1,
	Nspin	= 128,	/* pauses before yielding: a few microseconds */
	Nbias	= 64,	/* write takes in a row by one thread before it is biased */
	Maxrevoked	= 20,	/* ... at most Nbias<<Maxrevoked */
	Paid	= Nbias<<4,	/* takes by a bias after which its revoking costs the next streak nothing */
};

#define Revoking	((void*)1)	/* RWLock.bias while a reader takes the bias away */

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

/*
 * A thread's bias record: the lock it holds by a bias, if any.  Only
 * its thread writes it; a revoking thread reads it.  Records outlive
 * their threads (a lock may still name one), so they are never freed:
 * a thread's exit puts its record on a list for the next new thread,
 * which then holds the old one's biases, as harmless as its own.
 */
typedef struct Bias Bias;
struct Bias {
	RWLock	*hold;
	Bias	*next;
};	/* a page each (mybias): its thread writes it on every take, and a line beside another's draws the prefetcher to it (docs/core.md) */

static __thread Bias	*me;
static Bias	*spare;		/* records of threads that have exited */
static Lock	sparelk;	/* taken with canlock: lock() would run the test hook */
static int	biasok;		/* membarrier registered: 1; not available: -1 */
static pthread_key_t	biaskey;
static pthread_once_t	biasonce = PTHREAD_ONCE_INIT;
static uvlong	ngiven, ntaken;	/* biases given and taken away, for lockcounts */

static void
sparelock(void)
{
	int n;

	for(n = 0; !canlock(&sparelk); n++)
		relax(n);
}

/*
 * A thread exits: its record goes to the next new one.  The thread
 * forgets it first: another key's destructor may still take a lock,
 * and must not do it through a record a new thread now has.
 */
static void
biasdone(void *v)
{
	Bias *b;

	b = v;
	if(me == b)
		me = nil;
	sparelock();
	b->next = spare;
	spare = b;
	unlock(&sparelk);
}

static void
biasinit(void)
{
	if(syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) != 0
	|| pthread_key_create(&biaskey, biasdone) != 0){
		__atomic_store_n(&biasok, -1, __ATOMIC_RELEASE);
		return;
	}
	__atomic_store_n(&biasok, 1, __ATOMIC_RELEASE);
}

/* this thread's record, made when it is first to be biased; nil if it cannot be */
static Bias*
mybias(void)
{
	Bias *b;

	if(me != nil)
		return me;
	pthread_once(&biasonce, biasinit);
	if(__atomic_load_n(&biasok, __ATOMIC_ACQUIRE) != 1)
		return nil;
	sparelock();
	if((b = spare) != nil)
		spare = b->next;
	unlock(&sparelk);
	if(b == nil && (b = aligned_alloc(4096, 4096)) == nil)
		return nil;
	b->hold = nil;
	b->next = nil;
	if(pthread_setspecific(biaskey, b) != 0){
		biasdone(b);
		return nil;
	}
	me = b;
	return b;
}

/*
 * Take l by this thread's bias: name it in the record, then look.
 * Between the store and the load a revoker's membarrier stands in
 * for the fence (above); the compiler must not swap them either.
 */
static inline __attribute__((always_inline)) int
takebias(RWLock *l)
{
	Bias *b;

	b = me;
	if(b == nil || b->hold != nil || __atomic_load_n(&l->bias, __ATOMIC_RELAXED) != b)
		return 0;
	__atomic_store_n(&b->hold, l, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if(__atomic_load_n(&l->bias, __ATOMIC_ACQUIRE) == b){
		__atomic_store_n(&l->nbias, __atomic_load_n(&l->nbias, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
		return 1;
	}
	__atomic_store_n(&b->hold, nil, __ATOMIC_RELEASE);
	return 0;
}

/* let go of l if this thread holds it by its bias */
static inline __attribute__((always_inline)) int
dropbias(RWLock *l)
{
	Bias *b;

	b = me;
	if(b == nil || __atomic_load_n(&b->hold, __ATOMIC_RELAXED) != l)
		return 0;
	__atomic_store_n(&b->hold, nil, __ATOMIC_RELEASE);
	return 1;
}

/*
 * The caller has taken l's word, shared or alone: no other thread may
 * be in by a bias when it returns 1.  Readers share the word, so two
 * may be here at once: one marks the bias Revoking and does the work,
 * and the others wait until it is gone; a bias shown gone is gone for
 * good.  A try (wait 0, holding the word alone) fails if the biased
 * thread is in, and gives the bias back as it was: clearing it with
 * the holder still in would let the next taker of the word in beside
 * it.
 */
static int
unbias(RWLock *l, int wait)
{
	void *v;
	Bias *b;
	int n;

	for(n = 0;; n++){
		v = __atomic_load_n(&l->bias, __ATOMIC_ACQUIRE);
		if(v == nil || v == me)
			return 1;
		if(v == Revoking){
			relax(n);
			continue;
		}
		b = v;
		if(!wait && __atomic_load_n(&b->hold, __ATOMIC_ACQUIRE) == l)
			return 0;
		if(__atomic_compare_exchange_n(&l->bias, &v, Revoking, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			break;
	}
	if(syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
		hostpanic("membarrier failed after registering");
	for(n = 0; __atomic_load_n(&b->hold, __ATOMIC_ACQUIRE) == l; n++){
		if(!wait){
			__atomic_store_n(&l->bias, b, __ATOMIC_RELEASE);
			return 0;
		}
		relax(n);
	}
	if(__atomic_load_n(&l->nbias, __ATOMIC_RELAXED) >= Paid)
		__atomic_store_n(&l->revoked, 0, __ATOMIC_RELAXED);
	else if(__atomic_load_n(&l->revoked, __ATOMIC_RELAXED) < Maxrevoked)
		__atomic_add_fetch(&l->revoked, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&ntaken, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&l->bias, nil, __ATOMIC_RELEASE);
	return 1;
}

/* l is held for writing the usual way: count the streak, bias it at its end */
static void
streak(RWLock *l)
{
	void *t;
	Bias *b;

	t = __builtin_thread_pointer();
	if(l->last != t){
		l->last = t;
		l->streak = 0;
	}
	if(++l->streak < (uint)Nbias << l->revoked || l->bias != nil)
		return;
	if((b = mybias()) != nil){
		l->nbias = 0;
		__atomic_store_n(&l->bias, b, __ATOMIC_RELEASE);
		__atomic_add_fetch(&ngiven, 1, __ATOMIC_RELAXED);
	}
}

void
lockcounts(uvlong *given, uvlong *taken)
{
	*given = __atomic_load_n(&ngiven, __ATOMIC_RELAXED);
	*taken = __atomic_load_n(&ntaken, __ATOMIC_RELAXED);
}

int
lockcanbias(void)
{
	pthread_once(&biasonce, biasinit);
	return __atomic_load_n(&biasok, __ATOMIC_ACQUIRE) == 1;
}

static void __attribute__((noinline))
rlockslow(RWLock *l)
{
	long s;
	int n;

	for(n = 0;; n++){
		s = __atomic_load_n(&l->state, __ATOMIC_RELAXED);
		if(s >= 0 && (s & Wwait) == 0
		&& __atomic_compare_exchange_n(&l->state, &s, s+1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			break;
		relax(n);
	}
	unbias(l, 1);
}

void
rlock(RWLock *l)
{
	hook();
	if(!takebias(l))
		rlockslow(l);
}

void
runlock(RWLock *l)
{
	long s;

	if(dropbias(l))
		return;
	s = __atomic_sub_fetch(&l->state, 1, __ATOMIC_RELEASE);
	if(s < 0 || (s & (Wwait-1)) == Wwait-1)
		hostpanic("runlock: not read-locked");
}

int
canwlock(RWLock *l)
{
	long s;

	hook();
	if(takebias(l))
		return 1;
	s = 0;
	if(!__atomic_compare_exchange_n(&l->state, &s, Wheld, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return 0;
	if(!unbias(l, 0)){
		__atomic_store_n(&l->state, 0, __ATOMIC_RELEASE);
		return 0;
	}
	streak(l);
	return 1;
}

static void __attribute__((noinline))
wlockslow(RWLock *l)
{
	long s;
	int n;

	for(n = 0;; n++){
		s = __atomic_load_n(&l->state, __ATOMIC_RELAXED);
		if((s == 0 || s == Wwait)
		&& __atomic_compare_exchange_n(&l->state, &s, Wheld, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			break;
		if(s > 0 && (s & Wwait) == 0)
			__atomic_fetch_or(&l->state, Wwait, __ATOMIC_RELAXED);
		relax(n);
	}
	unbias(l, 1);
	streak(l);
}

void
wlock(RWLock *l)
{
	hook();
	if(!takebias(l))
		wlockslow(l);
}

static void __attribute__((noinline))
wunlockslow(RWLock *l)
{
	if(__atomic_load_n(&l->state, __ATOMIC_RELAXED) != Wheld)
		hostpanic("wunlock: not write-locked");
	__atomic_store_n(&l->state, 0, __ATOMIC_RELEASE);
}

void
wunlock(RWLock *l)
{
	if(!dropbias(l))
		wunlockslow(l);
}
