/*
 * The audit log: entries written without any lock or counter that two
 * procs share on every call, and an allocation's entries read back.
 * Where an entry goes, and when it may be overwritten: auditring.c.
 *
 * Every entry on an area's allocations is written under that area's
 * lock: under the write lock the writer is alone, and the refusals
 * logged under the read lock (check, info, audit) take the Aslot's lock
 * as well, so a slot's block has one writer at a time and the common
 * path pays for no lock of its own.
 *
 * Entries name the allocation by its id, never by address: an address
 * is reused, an id is not.  Each entry also links to the one before
 * it for the same allocation by its sequence ((take*nblk + block)*blk
 * + place in the block, or the take for a small ring: unique for the
 * instance's life), and the allocation's run keeps its newest entry's
 * (alast), so a query walks only that allocation's entries, not the
 * ring.
 */
#include "pebble.h"
#include "dat.h"
#include "fns.h"

/*
 * A seqlock without fences: the writer stores the entry's new
 * sequence first, then each field with release, and a reader loads
 * them with acquire.  A reader of the old entry that sees any field
 * of the new one also sees the new sequence stored before it, so its
 * second look at seq (after the acquiring loads) catches the change.
 * A reader of the new entry learnt its sequence from the allocation's
 * newest (alast), stored last, or from the entry after it, written
 * later still: it sees the whole entry.
 */
/* Auditent.word */
enum {
	Wop	= IDBITS,	/* AUDITHOW's layout, shifted up */
	Wperm	= IDBITS+4,
	Wresult	= IDBITS+8,
};
#define Wid	((1ULL<<IDBITS)-1)

#define STR(f, v)	__atomic_store_n(&(f), (v), __ATOMIC_RELEASE)
#define LD(f)		__atomic_load_n(&(f), __ATOMIC_ACQUIRE)

static void
count(uvlong *n)
{
	ATOMSTORE(n, *n + 1);	/* only by the slot's one writer; sysstats reads it without */
}

/* entry e, sequence seq, for slot i of s; inline in both paths, so no call passes its eight arguments */
static inline __attribute__((always_inline)) void
fill(Auditent *e, uvlong seq, Span *s, uint i, uint how, Proc *by, usize size, ulong peer)
{
	uvlong prev, *al;

	al = s->alast;
	prev = ATOMLOAD(&al[i]);
	__atomic_store_n(&e->seq, seq+1, __ATOMIC_RELAXED);
	STR(e->word, RID(&s->rec[i]) | (uvlong)how << Wop);
	STR(e->proc, by);
	STR(e->pid, procpid(by));
	STR(e->peer, peer);
	STR(e->size, size);
	STR(e->prev, prev);
	STR(e->time, hostnsec());
	ATOMSTORE(&al[i], seq+1);
}

/*
 * The slot's next place, its sequence and the slot's count, nil when
 * its block is full.
 * Lines 16 entries on are on their way, owned, before they are
 * written: a block comes back to its slot only after ceil(n/blk) + H
 * others were taken, so its lines are no longer in the first caches,
 * and fetching one takes longer than a few entries.  Write prefetches
 * (prefetchw: the build passes -mprfchw), so the store does not ask
 * again.
 */
static inline __attribute__((always_inline)) Auditent*
place(Aslot *a, uvlong *seq, uvlong *np)
{
	uvlong n;

	n = *np = a->n;
	if(n == a->end)
		return nil;
	if(n+Apre < a->end)
		__builtin_prefetch(a->cur+Apre, 1);
	*seq = a->seq;
	return a->cur;
}

/* past place e, of sequence seq, once it is written; n is the slot's count, kept from before the stores into the ring */
static inline __attribute__((always_inline)) void
advance(Aslot *a, Auditent *e, uvlong seq, uvlong n)
{
	a->cur = e+1;
	a->seq = seq+1;
	ATOMSTORE(&a->n, n+1);
}

/*
 * The first place of a's next block (a small ring's next entry, with
 * fifolk held until ringdone), or nil with the entry counted as logged
 * and lost.  The slow paths below are out of line, so that the common
 * paths call nothing and keep their values in the registers a call
 * would clobber anyway.
 */
static Auditent*
renew(Aslot *a, uvlong *seq, uvlong *np)
{
	if(auditrenew(a)){
		*seq = a->seq;
		*np = a->n;
		return a->cur;
	}
	count(&a->nolog);
	count(&a->dropped);
	return nil;
}

/* a small ring's entry is written: let the next writer in */
static void
ringdone(void)
{
	if(pb->audit.blk == 1)
		unlock(&pb->audit.fifolk);
}

/* auditput's first entry of a block, and every entry of a small ring */
static void __attribute__((noinline))
putslow(Span *s, uint i, uint how, Proc *by, usize size, ulong peer)
{
	Auditent *e;
	uvlong seq, n;
	Aslot *a;

	a = spanarea(s)->aslot;
	if((e = renew(a, &seq, &n)) == nil)
		return;
	fill(e, seq, s, i, how, by, size, peer);
	advance(a, e, seq, n);
	ringdone();
}

/* the same for auditgone */
static void __attribute__((noinline))
goneslow(Aslot *a)
{
	Auditent *e;
	uvlong seq, n;

	if((e = renew(a, &seq, &n)) == nil)
		return;
	__atomic_store_n(&e->seq, seq+1, __ATOMIC_RELAXED);
	advance(a, e, seq, n);
	ringdone();
}

/*
 * Log on slot i of s; the caller holds the owner's write lock, or its
 * read lock and the Aslot's lk.  how is op | perms<<4 | -result<<8.
 * It runs once in every audited alloc/free pair (the free's entry is
 * auditgone's), and such a pair is bound by its instructions, so it
 * makes few: the entry's eight stores, the allocation's newest
 * sequence, and the slot's next entry, its sequence and its count,
 * each kept as it is used rather than worked out from the block's
 * start (which made a chain of four loads and sums before the first
 * store: 20.5% over audit off against 19.0%, seven alternating runs
 * of each binary on 6 December).  A small ring's slot always has
 * n == end (its blocks hold one entry), so only a large ring's entries
 * after the first of a block take the common path, and there the
 * block has Ablk entries.
 */
void
auditput(Span *s, uint i, uint how, Proc *by, usize size, ulong peer)
{
	Auditent *e;
	uvlong seq, n;
	Aslot *a;

	a = spanarea(s)->aslot;
	if((e = place(a, &seq, &n)) == nil){
		putslow(s, i, how, by, size, peer);
		return;
	}
	fill(e, seq, s, i, how, by, size, peer);
	advance(a, e, seq, n);
}

/*
 * A FREE or EXIT entry: its allocation goes with the call, and a query
 * names a live allocation, so nothing can ever read the entry.  It is
 * logged all the same (it is counted, and takes its place in the ring
 * as any entry does, so what an allocation keeps is what it would keep
 * had the entry been written whole), but only its sequence is stored:
 * that makes the place's older entry unreadable, as overwriting it
 * would, and is one store where a whole entry is eight and the
 * allocation's chain.  The chain is left as it was: a query of the
 * slot's next tenant stops at the first entry naming another id, as
 * it always has.  On the alloc/free pair of a benchmark this took the
 * cost of auditing from 32% over audit off to about 20% (docs/core.md).
 */
void
auditgone(Span *s)
{
	Auditent *e;
	uvlong seq, n;
	Aslot *a;

	a = spanarea(s)->aslot;
	if((e = place(a, &seq, &n)) == nil){
		goneslow(a);
		return;
	}
	__atomic_store_n(&e->seq, seq+1, __ATOMIC_RELAXED);
	advance(a, e, seq, n);
}

/* a refusal: the caller may hold only the owner's read lock, shared with other refusals */
void
auditdenied(Span *s, uint i, Proc *by, int err)
{
	Aslot *a;

	if(!(s->rec[i].word & Faudit))
		return;
	a = spanarea(s)->aslot;
	lock(&a->lk);
	auditput(s, i, AUDITHOW(PEBBLE_AUDIT_DENIED, 0, err), by, 0, 0);
	unlock(&a->lk);
}

/* entry k of the log, if it is still there and whole */
static int
readent(uvlong k, Auditent *out)
{
	Auditent *e;
	uvlong seq;

	e = auditent(k);
	seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
	if(seq != k+1)
		return 0;
	out->time = LD(e->time);
	out->word = LD(e->word);
	out->proc = LD(e->proc);
	out->pid = LD(e->pid);
	out->peer = LD(e->peer);
	out->size = LD(e->size);
	out->prev = LD(e->prev);
	return __atomic_load_n(&e->seq, __ATOMIC_RELAXED) == seq;
}

/*
 * Audited allocations need their run's alast array; made at the
 * first audited allocation in a run, under the owner's write lock.
 */
int
auditindex(Span *s)
{
	usize n;

	if(s->alast != nil)
		return 0;
	n = s->nslot * sizeof(uvlong);
	s->alast = metazalloc(n);
	if(s->alast == nil)
		return -1;
	return 0;
}

/* an entry of this allocation, by 1 + its sequence, or 0 at the end of the chain */
static uvlong
chainnext(uvlong k1, uvlong id, Auditent *e)
{
	if(k1 == 0 || !readent(k1-1, e) || (e->word & Wid) != id)
		return 0;
	return 1;
}

static void
putentry(SecureAuditEntry *a, Auditent *e)
{
	a->timestamp = e->time;
	a->operation = e->word >> Wop & 0xF;
	a->process = e->proc;
	a->size = e->size;
	a->pid = e->pid;
	a->peer = e->peer;
	a->perms = e->word >> Wperm & 0xF;
	a->result = -(int)(e->word >> Wresult & 0xFF);
}

/*
 * The retained entries of slot i of s, oldest first, at most max.
 * The chain runs newest to oldest, so count it, then walk it again
 * filling from the back.  The chain ends at an entry of another
 * allocation (the slot's earlier tenant) or one the ring overwrote.
 */
static int
auditread(Span *s, uint i, SecureAuditEntry *audit, int max)
{
	uvlong start, k1, id;
	Auditent e;
	long n, m, skip, j;

	if(s->alast == nil)
		return 0;
	id = RID(&s->rec[i]);
	start = ATOMLOAD(&s->alast[i]);
	n = 0;
	for(k1 = start; chainnext(k1, id, &e) && n < (long)(pb->audit.nblk*pb->audit.blk); k1 = e.prev)
		n++;
	m = n < max ? n : max;
	skip = n - m;
	j = m;
	for(k1 = start; j > 0 && chainnext(k1, id, &e); k1 = e.prev)
		if(skip > 0)
			skip--;
		else
			putentry(&audit[--j], &e);
	if(j > 0)	/* overwritten between the walks: close the gap */
		memmove(audit, audit+j, (m-j) * sizeof audit[0]);
	return m - j;
}

int
pebble_secure_audit(Proc *p, void *ptr, SecureAuditEntry *audit, int max_entries)
{
	Area *c, *a;
	Span *s;
	uint i;
	int n;

	if(p == nil || ptr == nil || audit == nil || max_entries <= 0 || pb == nil)
		return PEBBLE_ERR_INVALID;
	if((c = procarea(p)) == nil)
		return PEBBLE_ERR_NOTFOUND;
	if(!lockowner((uintptr)ptr, 1, 0, &a, &s, &i))
		return PEBBLE_ERR_NOTFOUND;
	if(!isproc(c, p)){
		runlock(&a->rd.lock);
		return PEBBLE_ERR_NOTFOUND;
	}
	if(a != c && !proceve(p)){
		auditdenied(s, i, p, PEBBLE_ERR_PERM);
		runlock(&a->rd.lock);
		return PEBBLE_ERR_PERM;
	}
	n = auditread(s, i, audit, max_entries);
	runlock(&a->rd.lock);
	return n;
}
