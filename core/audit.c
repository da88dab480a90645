/*
 * The audit log: one ring for the instance, its size fixed at
 * initialisation.  Writers claim an entry with one atomic add and
 * publish it with a sequence number, so logging takes no lock and
 * procs auditing at once contend only on the counter.  When the ring
 * wraps the oldest entries are overwritten; how many is the counter
 * less the ring's size, reported in the system statistics.
 *
 * Entries name the allocation by its id, never by address: an address
 * is reused, an id is not.
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
	pb->audit.ring = metaalloc(n * sizeof(Auditent));
	if(pb->audit.ring == nil)
		return -1;
	memset(pb->audit.ring, 0, n * sizeof(Auditent));
	return 0;
}

void
auditfree(void)
{
	if(pb->audit.ring != nil)
		metafree(pb->audit.ring, pb->audit.n * sizeof(Auditent));
}

void
auditput(Rec *r, int op, Proc *by, usize size, ulong peer, int perms, int result)
{
	uvlong k;
	Auditent *e;

	k = __atomic_fetch_add(&pb->audit.head, 1, __ATOMIC_RELAXED);
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
	__atomic_store_n(&e->seq, k+1, __ATOMIC_RELEASE);
}

void
auditdenied(Span *s, uint i, Proc *by, int err)
{
	auditlog(&s->rec[i], PEBBLE_AUDIT_DENIED, by, 0, 0, 0, err);
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
	return __atomic_load_n(&e->seq, __ATOMIC_RELAXED) == seq;
}

int
pebble_secure_audit(Proc *p, void *ptr, SecureAuditEntry *audit, int max_entries)
{
	Area *c, *a;
	Span *s;
	uint i;
	uvlong k, head, id;
	Auditent e;
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
	id = RID(&s->rec[i]);
	head = __atomic_load_n(&pb->audit.head, __ATOMIC_ACQUIRE);
	k = head > pb->audit.n ? head - pb->audit.n : 0;
	for(n = 0; k < head && n < max_entries; k++){
		if(LD(pb->audit.ring[k % pb->audit.n].id) != id || !readent(k, &e) || e.id != id)
			continue;
		audit[n].timestamp = e.time;
		audit[n].operation = e.op;
		audit[n].process = e.proc;
		audit[n].size = e.size;
		audit[n].pid = e.pid;
		audit[n].peer = e.peer;
		audit[n].perms = e.perms;
		audit[n].result = e.result;
		n++;
	}
	runlock(&a->rd.lock);
	return n;
}
