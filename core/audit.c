/*
 * The audit log: one ring for the instance, its size fixed at
 * initialisation.  Writers claim an entry with one atomic add and
 * publish it with a sequence number, so logging takes no lock and
 * procs auditing at once contend only on the counter.  When the ring
 * wraps the oldest entries are overwritten; how many is the counter
 * less the ring's size, reported in the system statistics.
 *
 * Entries name the allocation by its id, never by address: an address
 * is reused, an id is not.  Each entry also links to the one before
 * it for the same allocation, and the allocation's run keeps where
 * its newest entry is (alast), so a query walks only that
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
#define STR(f, v)	__atomic_store_n(&(f), (v), __ATOMIC_RELEASE)
#define LD(f)		__atomic_load_n(&(f), __ATOMIC_ACQUIRE)

int
auditinit(int n)
{
	pb->audit.n = n;
	pb->audit.ring = metazalloc(n * sizeof(Auditent));	/* touched as it fills */
	if(pb->audit.ring == nil)
		return -1;
	return 0;
}

void
auditfree(void)
{
	if(pb->audit.ring != nil)
		metafree(pb->audit.ring, pb->audit.n * sizeof(Auditent));
}

void
auditput(Span *s, uint i, int op, Proc *by, usize size, ulong peer, int perms, int result)
{
	uvlong k, prev;
	Auditent *e;
	Rec *r;

	r = &s->rec[i];
	k = __atomic_fetch_add(&pb->audit.head, 1, __ATOMIC_RELAXED);
	prev = __atomic_exchange_n(&s->alast[i], k+1, __ATOMIC_ACQ_REL);
	e = &pb->audit.ring[k % pb->audit.n];
	__atomic_store_n(&e->seq, 0, __ATOMIC_RELAXED);
	STR(e->time, hostnsec());
	STR(e->id, RID(r));
	STR(e->proc, by);
	STR(e->pid, procpid(by));
	STR(e->peer, peer);
	STR(e->size, size);
	STR(e->op, op);
	STR(e->result, result);
	STR(e->perms, perms);
	STR(e->prev, prev);
	__atomic_store_n(&e->seq, k+1, __ATOMIC_RELEASE);
}

void
auditdenied(Span *s, uint i, Proc *by, int err)
{
	auditlog(s, i, PEBBLE_AUDIT_DENIED, by, 0, 0, 0, err);
}

/* entry k of the log, if it is still there and whole */
static int
readent(uvlong k, Auditent *out)
{
	Auditent *e;
	uvlong seq;

	e = &pb->audit.ring[k % pb->audit.n];
	seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
	if(seq != k+1)
		return 0;
	out->time = LD(e->time);
	out->id = LD(e->id);
	out->proc = LD(e->proc);
	out->pid = LD(e->pid);
	out->peer = LD(e->peer);
	out->size = LD(e->size);
	out->op = LD(e->op);
	out->result = LD(e->result);
	out->perms = LD(e->perms);
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
	s->alast = metaalloc(n);
	if(s->alast == nil)
		return -1;
	memset(s->alast, 0, n);
	return 0;
}

/* an entry of this allocation, 1 + its place in the ring, or 0 at the end of the chain */
static uvlong
chainnext(uvlong k1, uvlong id, Auditent *e)
{
	if(k1 == 0 || !readent(k1-1, e) || e->id != id)
		return 0;
	return 1;
}

static void
putentry(SecureAuditEntry *a, Auditent *e)
{
	a->timestamp = e->time;
	a->operation = e->op;
	a->process = e->proc;
	a->size = e->size;
	a->pid = e->pid;
	a->peer = e->peer;
	a->perms = e->perms;
	a->result = e->result;
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
	for(k1 = start; chainnext(k1, id, &e) && n < (long)pb->audit.n; k1 = e.prev)
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
	if(a != c && !proceve(p)){
		auditdenied(s, i, p, PEBBLE_ERR_PERM);
		runlock(&a->rd.lock);
		return PEBBLE_ERR_PERM;
	}
	n = auditread(s, i, audit, max_entries);
	runlock(&a->rd.lock);
	return n;
}
