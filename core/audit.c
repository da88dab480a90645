/*
 * The audit log: a ring whose size is fixed at initialisation, written
 * without any lock or counter that two procs share on every call.
 *
 * A large ring is cut into blocks of Ablk entries.  A proc slot (its
 * Aslot) takes a block and then fills it alone; only when the block is
 * full and it needs room for another entry does it let it go and take
 * the next.  Every entry on an area's allocations is written under
 * that area's lock: under the write lock the writer is alone, and the
 * refusals logged under the read lock (check, info, audit) take the
 * Aslot's lock as well, so the block has one writer at a time and the
 * common path pays for no lock of its own.  Entries that fall off when
 * a block is taken again are counted by the slot that takes it,
 * entries logged by the slot that logs them; the system statistics
 * add the slots up.
 *
 * Which block a slot takes: the oldest it let go itself, if that one
 * may be overwritten; else one never taken; else the oldest of another
 * slot's that may be.  Taking back its own keeps a block's lines in
 * the cache of the processor that wrote them: with one queue of blocks
 * for all, a block passed from proc to proc, every line of it was
 * fetched from the other processor, and two audited procs ran at
 * 1.1-1.3x one.  A turn writes one line that other slots write too,
 * the count of blocks taken (taken); the slot's list of blocks it let
 * go lives in its Aslot's second line and in one line a block (Ablock),
 * under a lock of the slot's own, which another slot takes only to
 * take one of its blocks.
 *
 * When a block may be overwritten: the entries of a block let go are
 * older than those of every block taken after it was let go.  Of the
 * T blocks taken since, at most H (the slots that hold a block) are
 * not yet full, so at least (T - H)*blk entries were logged after its
 * newest; take number c overwrites it only when c - (taken when it was
 * let go) >= ceil(n/blk) + H, so the newest n entries logged are
 * always still there.  A block is always to be had: at most
 * ceil(n/blk) + H let-go blocks are too young (one is let go per block
 * taken) and H are held, and the ring has nblk = ceil(n/blk) + 2*nproc
 * + 2 blocks.  A slot's list is in the order it let its blocks go, so
 * its first is its oldest: the test is one subtraction.  With procs
 * logging at once on several processors the order of takes is the
 * order of the atomic count, and "newest" is as exact as that.
 *
 * A small ring (fewer than Ablkmin entries: tests, the simulator's
 * small configurations) is written one entry at a time under fifolk:
 * it is exactly a ring of n entries in the order they were logged.
 *
 * The host gives the ring zeroed and a large one lazily (pages made
 * when first written), so a ring costs what is written of it, not
 * what it could hold: a slot that takes back its own blocks writes
 * little more than ceil(n/blk) + 2*H of them.
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
enum { Apre = 16 };

#define STR(f, v)	__atomic_store_n(&(f), (v), __ATOMIC_RELEASE)
#define LD(f)		__atomic_load_n(&(f), __ATOMIC_ACQUIRE)

int
auditinit(int n)
{
	Auditlog *l;
	int i;

	l = &pb->audit;
	l->n = n;
	if(n >= Ablkmin){
		l->blk = Ablk;
		l->need = (n + Ablk-1)/Ablk;
		l->nblk = l->need + 2*pb->conf.nproc + 2;
		l->node = metazalloc(l->nblk * sizeof(Ablock));
		if(l->node == nil)
			return -1;
	}else{
		l->blk = 1;
		l->need = 0;
		l->nblk = n;
		l->node = nil;
	}
	l->ring = metazalloc(l->nblk * l->blk * sizeof(Auditent));
	l->slot = metazalloc(pb->conf.nproc * sizeof(Aslot));
	if(l->ring == nil || l->slot == nil)
		return -1;
	for(i = 0; i < pb->conf.nproc; i++)
		l->slot[i].head = l->slot[i].tail = -1;
	l->taken = 0;
	l->fresh = 0;
	l->holders = 0;
	return 0;
}

void
auditfree(void)
{
	Auditlog *l;

	l = &pb->audit;
	metafree(l->ring, l->nblk * l->blk * sizeof(Auditent));
	if(l->node != nil)
		metafree(l->node, l->nblk * sizeof(Ablock));
	metafree(l->slot, pb->conf.nproc * sizeof(Aslot));
}

static Auditent*
entry(uvlong seq)
{
	Auditlog *l;

	l = &pb->audit;
	return &l->ring[(seq / l->blk) % l->nblk * l->blk + seq % l->blk];
}

/* a's block, by number */
static long
blockof(Auditlog *l, Aslot *a)
{
	return (a->ent - l->ring) / l->blk;
}

/* may take c overwrite let-go block b? (the argument at the top) */
static int
old(Auditlog *l, uvlong c, long b)
{
	return c - l->node[b].stamp >= l->need + ATOMLOAD(&l->holders);
}

/* let-go block b, at take c, to the back of a's list; the caller holds a->listlk */
static void
append(Auditlog *l, Aslot *a, long b, uvlong c)
{
	l->node[b].stamp = c;
	l->node[b].next = -1;
	if(a->tail >= 0)
		l->node[a->tail].next = b;
	else
		ATOMSTORE(&a->head, b);
	a->tail = b;
}

/* the oldest block s let go, if take c may overwrite it, else -1; the caller holds s->listlk */
static long
popold(Auditlog *l, Aslot *s, uvlong c)
{
	long b;

	b = s->head;
	if(b < 0 || !old(l, c, b))
		return -1;
	ATOMSTORE(&s->head, l->node[b].next);
	if(s->head < 0)
		s->tail = -1;
	return b;
}

/* a block never taken, or -1 */
static long
freshblock(Auditlog *l)
{
	uvlong f;

	if(ATOMLOAD(&l->fresh) >= l->nblk)
		return -1;
	f = __atomic_fetch_add(&l->fresh, 1, __ATOMIC_RELAXED);
	return f < l->nblk ? (long)f : -1;
}

/*
 * A block another slot let go that take c may overwrite.  Only when
 * a's own are too young and none is fresh (rates shifting between
 * slots), so a walk over the slots is cheap enough; the argument at
 * the top says one of their oldest will do.
 */
static long
steal(Auditlog *l, Aslot *a, uvlong c)
{
	Aslot *s;
	long b;
	int i, np;

	np = pb->conf.nproc;
	for(i = 1; i < np; i++){
		s = &l->slot[(a - l->slot + i) % np];
		if(ATOMLOAD(&s->head) < 0)
			continue;
		lock(&s->listlk);
		b = popold(l, s, c);
		unlock(&s->listlk);
		if(b >= 0)
			return b;
	}
	return -1;
}

/*
 * A large ring: a's full block (if it holds one) let go, and its next
 * taken.  One shared line is written, the take count; the rest is
 * a's own lines and blocks.  A full block is let go when the slot next
 * needs room, not when it fills: holding it a while longer only
 * delays its reuse.  -1 if there is no block to take (more slots
 * logging at once than the argument at the top allows for).
 */
static long
take(Auditlog *l, Aslot *a, uvlong *c, int *drop)
{
	long b;

	if(!a->holder){
		a->holder = 1;
		ATOMADD(&l->holders, 1);	/* for good: a large ring's slot keeps a block */
	}
	*c = __atomic_fetch_add(&l->taken, 1, __ATOMIC_RELAXED);
	lock(&a->listlk);
	if(a->ent != nil){
		append(l, a, blockof(l, a), *c);
		a->ent = nil;
	}
	b = popold(l, a, *c);
	unlock(&a->listlk);
	*drop = 1;
	if(b < 0 && (b = freshblock(l)) >= 0)
		*drop = 0;
	if(b < 0)
		b = steal(l, a, *c);
	return b;
}

/*
 * a's next block, once a block (out of line: the logging path then
 * keeps fewer registers).  A small ring's is the next entry of the ring, and
 * auditput writes it holding fifolk, so the ring is exactly n entries
 * in the order they were logged.  0 if there is none.
 */
static int __attribute__((noinline))
renew(Aslot *a)
{
	Auditlog *l;
	uvlong c, k;
	long b;
	int drop;

	l = &pb->audit;
	if(l->blk == 1){
		lock(&l->fifolk);	/* auditput lets go once the entry is written */
		c = l->taken++;
		b = c % l->nblk;
		drop = c >= l->nblk;
		a->seq0 = c;
	}else{
		if((b = take(l, a, &c, &drop)) < 0)
			return 0;
		a->seq0 = (c*l->nblk + b) * l->blk;
	}
	if(drop)
		ATOMSTORE(&a->dropped, a->dropped + l->blk);
	a->start = a->n;
	a->end = a->n + l->blk;
	a->ent = &l->ring[b * l->blk];
	for(k = 0; k < Apre && k < l->blk; k++)
		__builtin_prefetch(a->ent+k, 1);
	return 1;
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
	return o->aslot;
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
 * The first entry of a new block, and every entry of a small ring:
 * out of line, so that the common path below calls nothing and keeps
 * its values in the registers a call would clobber anyway.
 */
static void __attribute__((noinline))
putslow(Span *s, uint i, uint how, Proc *by, usize size, ulong peer)
{
	Aslot *a;

	a = aslot(spanarea(s));
	if(!renew(a)){
		count(&a->nolog);
		count(&a->dropped);
		return;
	}
	fill(a->ent, a->seq0, s, i, how, by, size, peer);
	ATOMSTORE(&a->n, a->n+1);
	if(pb->audit.blk == 1)
		unlock(&pb->audit.fifolk);
}

/*
 * Log on slot i of s; the caller holds the owner's write lock, or its
 * read lock and the Aslot's lk.  how is op | perms<<4 | -result<<8.
 * This runs twice in every audited alloc/free pair, and such a pair is
 * bound by its stores, so it makes few: the entry's nine, the
 * allocation's newest sequence and the slot's count, which is also
 * where in its block the slot is.  A small ring's slot always has
 * n == end (its blocks hold one entry), so only a large ring's entries
 * after the first of a block take the common path, and there the
 * block has Ablk entries.
 */
void
auditput(Span *s, uint i, uint how, Proc *by, usize size, ulong peer)
{
	uvlong k, n;
	Auditent *e;
	Aslot *a;

	a = aslot(spanarea(s));
	n = a->n;
	if(n == a->end){
		putslow(s, i, how, by, size, peer);
		return;
	}
	k = n - a->start;
	e = a->ent + k;
	/*
	 * Lines 16 entries on are on their way, owned, before they are
	 * written: a block comes back to its slot only after ceil(n/blk)
	 * + H others were taken, so its lines are no longer in the first
	 * caches, and fetching one takes longer than a few entries.  Write
	 * prefetches (prefetchw: the build passes -mprfchw), so the store
	 * does not ask again.
	 */
	if(k+Apre < Ablk)
		__builtin_prefetch(e+Apre, 1);
	fill(e, a->seq0 + k, s, i, how, by, size, peer);
	ATOMSTORE(&a->n, n+1);
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
