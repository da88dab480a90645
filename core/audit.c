/*
 * The audit log: a ring whose size is fixed at initialisation, written
 * without any lock or counter that two procs share on every call.
 *
 * The ring is cut into blocks.  A proc slot (its Aslot, a cache line
 * of its own) takes a block from a queue of free blocks and then
 * fills it alone; only when the block is full and it needs room for
 * another entry does it let it go, to the queue's tail, and take the
 * next, both in one turn of the queue's lock.  Every entry on an area's
 * allocations is written under that area's lock: under the write lock
 * the writer is alone, and the refusals logged under the read lock
 * (check, info, audit) take the Aslot's lock as well, so the block has
 * one writer at a time and the common path pays for no lock of its
 * own.  Two procs auditing at
 * once thus share one written line (the queue's lock) once a block
 * (Ablk entries), not once an entry.  Entries that fall off when a
 * block is taken again are counted by the slot that takes it, entries
 * logged by the slot that logs them; the system statistics add the
 * slots up.
 *
 * Why a queue and not a counter walking the ring: a block is reused
 * only after every block let go before it, so an entry, logged at the
 * latest when its block is let go, outlives the entries of the at least
 * nblk - nproc blocks queued ahead of it, all of them taken and, but
 * for one a slot, filled after it.  A ring of n entries keeps nblk =
 * n/Ablk + 2*nproc + 2 blocks, so the newest n entries logged are
 * always still there.  (A counter that passed blocks still held could
 * come back to one just let go and overwrite its newest entry at once:
 * the simulator found that.)
 *
 * A small ring (fewer than Ablkmin entries: tests, the simulator's
 * small configurations) has blocks of one entry, and is then exactly
 * a ring of n entries in the order they were logged.

 * The host gives the ring zeroed and a large one lazily (pages made
 * when first written), so a ring costs what is written of it, not
 * what it could hold.
 *
 * Entries name the allocation by its id, never by address: an address
 * is reused, an id is not.  Each entry also links to the one before
 * it for the same allocation by its sequence ((claim*nblk + block)*blk
 * + place in the block, unique for the instance's life), and the allocation's run
 * keeps its newest entry's (alast), so a query walks only that
 * allocation's entries, not the ring.
 */
#include "pebble.h"
#include "dat.h"
#include "fns.h"

/*
 * A seqlock without fences: each field is stored with release and
 * loaded with acquire, so a reader that sees any field of a newer
 * entry also sees the zeroed seq stored before it, and its second
 * look at seq (after the acquiring loads) catches the change.
 */
/* Auditent.word */
enum {
	Wop	= IDBITS,	/* AUDITHOW's layout, shifted up */
	Wperm	= IDBITS+4,
	Wresult	= IDBITS+8,
};
#define Wid	((1ULL<<IDBITS)-1)
enum { Apre = 16 };

#define STR(f, v)	__atomic_store_n(&(f), (v), __ATOMIC_RELEASE)
#define LD(f)		__atomic_load_n(&(f), __ATOMIC_ACQUIRE)

int
auditinit(int n)
{
	Auditlog *l;
	uvlong b;

	l = &pb->audit;
	l->n = n;
	if(n >= Ablkmin){
		l->blk = Ablk;
		l->nblk = (n + Ablk-1)/Ablk + 2*pb->conf.nproc + 2;
	}else{
		l->blk = 1;
		l->nblk = n;
	}
	l->ring = metazalloc(l->nblk * l->blk * sizeof(Auditent));
	l->fifo = metazalloc(l->nblk * sizeof(uvlong));
	l->slot = metazalloc(pb->conf.nproc * sizeof(Aslot));
	if(l->ring == nil || l->fifo == nil || l->slot == nil)
		return -1;
	for(b = 0; b < l->nblk; b++)
		l->fifo[b] = b<<1;
	l->head = 0;
	l->tail = l->nblk;
	return 0;
}

void
auditfree(void)
{
	Auditlog *l;

	l = &pb->audit;
	metafree(l->ring, l->nblk * l->blk * sizeof(Auditent));
	metafree(l->fifo, l->nblk * sizeof(uvlong));
	metafree(l->slot, pb->conf.nproc * sizeof(Aslot));
}

static Auditent*
entry(uvlong seq)
{
	Auditlog *l;

	l = &pb->audit;
	return &l->ring[(seq / l->blk) % l->nblk * l->blk + seq % l->blk];
}

/* a's block to the back of the queue; the caller holds fifolk */
static void
putback(Auditlog *l, Aslot *a)
{
	l->fifo[l->tail++ % l->nblk] = (a->ent - l->ring) / l->blk << 1 | 1;
	a->ent = nil;
}

/*
 * a's full block (if it holds one) to the back of the queue, and its
 * next block from the front: the one let go longest ago.  Both under
 * one turn of the shared lock: a full block is let go when the slot
 * next needs room, not when it fills, so a block costs the slot one
 * lock, not two.  Holding a full block a while longer only delays its
 * reuse.  0 if every block is held (a ring smaller than its writers).
 */
static int
renew(Aslot *a)
{
	Auditlog *l;
	uvlong c, b, k;
	int drop;

	l = &pb->audit;
	lock(&l->fifolk);
	if(a->ent != nil)
		putback(l, a);
	if(l->head == l->tail){
		unlock(&l->fifolk);
		return 0;
	}
	c = l->head++;
	b = l->fifo[c % l->nblk];
	drop = b & 1;
	b >>= 1;
	unlock(&l->fifolk);
	if(drop)
		ATOMSTORE(&a->dropped, a->dropped + l->blk);
	a->seq0 = (c*l->nblk + b) * l->blk;
	a->start = a->n;
	a->end = a->n + l->blk;
	a->ent = &l->ring[b * l->blk];
	for(k = 0; k < Apre && k < l->blk; k++)
		__builtin_prefetch(a->ent+k, 1);
	return 1;
}

/* a small ring's one-entry block, written: to the back of the queue at once, so the ring keeps the order entries were logged in */
static void
letgo(Aslot *a)
{
	Auditlog *l;

	l = &pb->audit;
	lock(&l->fifolk);
	putback(l, a);
	unlock(&l->fifolk);
}

static void
count(uvlong *n)
{
	ATOMSTORE(n, *n + 1);	/* only by the slot's one writer; sysstats reads it without */
}

/* the owner's place in the log */
static Aslot*
aslot(Area *o)
{
	return &pb->audit.slot[o->rd.base.slot];
}

/*
 * Log on slot i of s; the caller holds the owner's write lock, or its
 * read lock and the Aslot's lk.  how is op | perms<<4 | -result<<8.
 * This runs twice in every audited alloc/free pair, and such a pair is
 * bound by its stores, so it makes few: the entry's nine, the
 * allocation's newest sequence and the slot's count, which is also
 * where in its block the slot is.  The clock is read last, so that
 * little has to live across the call.
 */
void
auditput(Span *s, uint i, uint how, Proc *by, usize size, ulong peer)
{
	uvlong seq, k, prev;
	Auditent *e;
	Area *o;
	Aslot *a;
	ulong pid;

	o = spanarea(s);
	a = aslot(o);
	if(a->n == a->end && !renew(a)){
		count(&a->nolog);
		count(&a->dropped);
		return;
	}
	k = a->n - a->start;
	e = a->ent + k;
	seq = a->seq0 + k;
	pid = by == ATOMLOAD(&o->rd.base.proc) ? ATOMLOAD(&o->rd.base.pid) : procpid(by);
	prev = ATOMLOAD(&s->alast[i]);
	__atomic_store_n(&e->seq, 0, __ATOMIC_RELAXED);
	STR(e->word, RID(&s->rec[i]) | (uvlong)how << Wop);
	STR(e->proc, by);
	STR(e->pid, pid);
	STR(e->peer, peer);
	STR(e->size, size);
	STR(e->prev, prev);
	ATOMSTORE(&s->alast[i], seq+1);
	ATOMSTORE(&a->n, a->n+1);
	/*
	 * Lines 16 entries on are on their way, owned, before they are
	 * written: a block was last written by whichever proc had it,
	 * often on another processor, and fetching a line from there takes
	 * longer than a few entries.  Write prefetches (prefetchw: the
	 * build passes -mprfchw), so the store does not ask again.
	 */
	if(k+Apre < pb->audit.blk)
		__builtin_prefetch(e+Apre, 1);
	STR(e->time, hostnsec());
	__atomic_store_n(&e->seq, seq+1, __ATOMIC_RELEASE);
	if(pb->audit.blk == 1)
		letgo(a);
}

/* what the system statistics report: entries logged, and dropped when the ring wrapped */
uvlong
auditcount(uvlong *dropped)
{
	uvlong n, d;
	int i;

	n = d = 0;
	for(i = 0; i < pb->conf.nproc; i++){
		n += ATOMLOAD(&pb->audit.slot[i].n) + ATOMLOAD(&pb->audit.slot[i].nolog);
		d += ATOMLOAD(&pb->audit.slot[i].dropped);
	}
	if(dropped != nil)
		*dropped = d;
	return n;
}

/* a refusal: the caller may hold only the owner's read lock, shared with other refusals */
void
auditdenied(Span *s, uint i, Proc *by, int err)
{
	Aslot *a;

	if(!(s->rec[i].word & Faudit))
		return;
	a = aslot(spanarea(s));
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

	e = entry(k);
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
