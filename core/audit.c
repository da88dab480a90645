/*
 * The audit log: a ring whose size is fixed at initialisation, written
 * without any lock or counter that two procs share on every call.
 *
 * The ring is cut into blocks.  A proc slot's area claims a block with
 * one atomic add on the ring's claim counter and then fills it alone;
 * only when the block is full does it claim the next.  Every entry on
 * an area's allocations is written under that area's lock: under the
 * write lock the writer is alone, and the refusals logged under the
 * read lock (check, info, audit) take the area's auditlk as well, so
 * the area's block has one writer at a time and the common path pays
 * for no lock of its own.
 * Two procs auditing at once thus share one written line once a block
 * (Ablk entries), not once an entry.  A block is held while its area
 * writes in it: a claim that comes round to a held block passes it
 * by, so no two writers ever write one entry.  Entries that fall off
 * when the ring wraps are counted by the slot that overwrites them,
 * entries logged by the slot that logs them; the system statistics
 * add the slots up.
 *
 * A small ring (fewer than Ablkmin entries: tests, the simulator's
 * small configurations) has blocks of one entry, and is then exactly
 * a ring of n entries in the order they were logged.  A large ring
 * keeps, besides its n entries, room for every slot's part-filled
 * block and for the held blocks a claim passes by (2*nproc+2 blocks):
 * so the newest n entries logged are always still there.
 *
 * The host gives the ring zeroed and a large one lazily (pages made
 * when first written), so a ring costs what is written of it, not
 * what it could hold.
 *
 * Entries name the allocation by its id, never by address: an address
 * is reused, an id is not.  Each entry also links to the one before
 * it for the same allocation by its sequence (claim*blk + place in the
 * block, unique for the instance's life), and the allocation's run
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
	Wop	= IDBITS,
	Wperm	= IDBITS+4,
	Wresult	= IDBITS+8,
};
#define Wid	((1ULL<<IDBITS)-1)
enum { Apre = 4 };
#define Hfull	(~0ULL)	/* Auditlog.held: let go, full of entries the next claim drops */

#define STR(f, v)	__atomic_store_n(&(f), (v), __ATOMIC_RELEASE)
#define LD(f)		__atomic_load_n(&(f), __ATOMIC_ACQUIRE)

int
auditinit(int n)
{
	Auditlog *l;

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
	l->held = metazalloc(l->nblk * sizeof(uvlong));
	if(l->ring == nil || l->held == nil)
		return -1;
	return 0;
}

void
auditfree(void)
{
	Auditlog *l;

	l = &pb->audit;
	metafree(l->ring, l->nblk * l->blk * sizeof(Auditent));
	metafree(l->held, l->nblk * sizeof(uvlong));
}

static Auditent*
entry(uvlong seq)
{
	Auditlog *l;

	l = &pb->audit;
	return &l->ring[(seq / l->blk) % l->nblk * l->blk + seq % l->blk];
}

/*
 * a's next block: at most nblk claims, so bounded even if every block
 * is held (a ring smaller than the writers at once); 0 if none.
 */
static int
claim(Area *a)
{
	Auditlog *l;
	uvlong c, t, old, *h;

	l = &pb->audit;
	for(t = 0; t < l->nblk; t++){
		c = __atomic_fetch_add(&l->claims, 1, __ATOMIC_RELAXED);
		h = &l->held[c % l->nblk];
		old = __atomic_load_n(h, __ATOMIC_RELAXED);
		if((old == 0 || old == Hfull) && __atomic_compare_exchange_n(h, &old, c+1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)){
			if(old == Hfull)	/* a block is let go only full: all of it falls off now */
				ATOMSTORE(&a->adropped, a->adropped + l->blk);
			a->ablk = c+1;
			a->aent = &l->ring[c % l->nblk * l->blk];
			a->aoff = 0;
			return 1;
		}
	}
	return 0;
}

static void
count(uvlong *n)
{
	ATOMSTORE(n, *n + 1);	/* only under auditlk; sysstats reads it without */
}

/* log on slot i of s; the caller holds the owner's write lock, or its read lock and auditlk */
void
auditput(Span *s, uint i, int op, Proc *by, usize size, ulong peer, int perms, int result)
{
	uvlong seq, prev;
	Auditent *e;
	Auditlog *l;
	Area *a;
	Rec *r;

	l = &pb->audit;
	r = &s->rec[i];
	a = spanarea(s);
	count(&a->alogged);
	if(a->ablk == 0 && !claim(a)){
		count(&a->adropped);
		return;
	}
	seq = (a->ablk-1)*l->blk + a->aoff;
	e = a->aent + a->aoff;
	prev = ATOMLOAD(&s->alast[i]);
	ATOMSTORE(&s->alast[i], seq+1);
	__atomic_store_n(&e->seq, 0, __ATOMIC_RELAXED);
	STR(e->time, hostnsec());
	STR(e->word, RID(r) | (uvlong)op << Wop | (uvlong)perms << Wperm | (uvlong)-result << Wresult);
	STR(e->proc, by);
	STR(e->pid, procpid(by));
	STR(e->peer, peer);
	STR(e->size, size);
	STR(e->prev, prev);
	__atomic_store_n(&e->seq, seq+1, __ATOMIC_RELEASE);
	/* lines a few entries on are on their way before they are written: no store waits for one */
	if(a->aoff+Apre < l->blk)
		__builtin_prefetch(e+Apre, 1);
	if(++a->aoff == l->blk){
		/* full: let the next lap have it */
		__atomic_store_n(&l->held[(a->aent - l->ring) / l->blk], Hfull, __ATOMIC_RELEASE);
		a->ablk = 0;
	}
}

/* what the system statistics report: entries logged, and dropped when the ring wrapped */
uvlong
auditcount(uvlong *dropped)
{
	uvlong n, d;
	int i;

	n = d = 0;
	for(i = 0; i < pb->conf.nproc; i++){
		n += ATOMLOAD(&pb->areas[i].alogged);
		d += ATOMLOAD(&pb->areas[i].adropped);
	}
	if(dropped != nil)
		*dropped = d;
	return n;
}

/* a refusal: the caller may hold only the owner's read lock, shared with other refusals */
void
auditdenied(Span *s, uint i, Proc *by, int err)
{
	Area *a;

	if(!(s->rec[i].word & Faudit))
		return;
	a = spanarea(s);
	lock(&a->auditlk);
	auditput(s, i, PEBBLE_AUDIT_DENIED, by, 0, 0, 0, err);
	unlock(&a->auditlk);
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
