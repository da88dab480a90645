/* the audit trail: DESIGN.md "Audit" */
#include "fix.h"
#include "dat.h"

void
testaudit(void)
{
	Proc *a, *b, *c, *eve, *stranger, *kid;
	uchar *p, *q, *r;
	SecureAuditEntry e[300];
	PebbleSysStats ss;
	int n, i;

	setup(1<<20, 1<<16);
	a = attached(0, "glenda", nil);
	b = attached(1, "glenda", nil);
	c = attached(2, "glenda", nil);
	eve = attached(3, "eve", nil);
	stranger = mkproc(4, "glenda", nil, 0);
	detsetclock(1000);
	OK(pebble_secure_alloc_simple(a, 100, (void**)&p));
	detsetclock(2000);
	OK(pebble_secure_share(a, b, p, PEBBLE_READ));
	FAILS(pebble_secure_check(c, p, 1, PEBBLE_READ), PEBBLE_ERR_PERM);
	OK(pebble_secure_wipe(a, p, 30));
	OK(pebble_secure_revoke(a, b, p));
	OK(pebble_secure_free_size(a, p, 40));
	p += 40;

	FAILS(pebble_secure_audit(nil, p, e, 10), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_audit(a, nil, e, 10), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_audit(a, p, nil, 10), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_audit(a, p, e, 0), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_audit(a, p, e, -1), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_audit(stranger, p, e, 10), PEBBLE_ERR_NOTFOUND);
	FAILS(pebble_secure_audit(a, p+1, e, 10), PEBBLE_ERR_NOTFOUND);
	FAILS(pebble_secure_audit(b, p, e, 10), PEBBLE_ERR_PERM);

	n = pebble_secure_audit(a, p, e, 300);
	EQ(n, 7);	/* b's refusal above named p too */
	EQ(e[0].operation, PEBBLE_AUDIT_ALLOC);
	EQ(e[0].timestamp, 1000);
	EQ(e[0].size, 100);
	EQ(e[0].pid, a->pid);
	CHECK(e[0].process == a);
	EQ(e[0].perms, PEBBLE_READ|PEBBLE_WRITE);
	EQ(e[1].operation, PEBBLE_AUDIT_SHARE);
	EQ(e[1].timestamp, 2000);
	EQ(e[1].peer, b->pid);
	EQ(e[1].perms, PEBBLE_READ);
	EQ(e[2].operation, PEBBLE_AUDIT_DENIED);
	EQ(e[2].pid, c->pid);
	EQ(e[2].result, PEBBLE_ERR_PERM);
	EQ(e[3].operation, PEBBLE_AUDIT_WIPE);
	EQ(e[3].size, 30);
	EQ(e[4].operation, PEBBLE_AUDIT_REVOKE);
	EQ(e[4].peer, b->pid);
	EQ(e[5].operation, PEBBLE_AUDIT_PARTIAL_FREE);
	EQ(e[5].size, 40);
	EQ(e[6].operation, PEBBLE_AUDIT_DENIED);
	EQ(e[6].pid, b->pid);
	EQ(pebble_secure_audit(a, p, e, 2), 2);	/* the oldest first */
	EQ(e[1].operation, PEBBLE_AUDIT_SHARE);
	EQ(pebble_secure_audit(eve, p, e, 300), 7);	/* the host owner may look */

	/* audited only if on system-wide and for the owner when allocated */
	OK(pebble_set_secure_conf(a, "pebble.secure.audit", "0"));
	OK(pebble_secure_alloc_simple(a, 10, (void**)&q));
	OK(pebble_set_secure_conf(a, "pebble.secure.audit", "1"));
	OK(pebble_secure_wipe(a, q, 0));
	EQ(pebble_secure_audit(a, q, e, 10), 0);
	pebble_secure_auditing = 0;
	OK(pebble_secure_alloc_simple(a, 10, (void**)&r));
	pebble_secure_auditing = 1;
	OK(pebble_secure_wipe(a, r, 0));
	EQ(pebble_secure_audit(a, r, e, 10), 0);

	/* the first audited allocation in a run needs the run's index: if the host
	 * cannot give the memory, the allocation is refused and nothing changes */
	OK(pebble_set_secure_conf(a, "pebble.secure.audit", "0"));
	OK(pebble_secure_alloc_simple(a, 3000, (void**)&q));
	OK(pebble_set_secure_conf(a, "pebble.secure.audit", "1"));
	detfailmalloc(1);
	FAILS(pebble_secure_alloc_simple(a, 3000, (void**)&r), PEBBLE_ERR_NOMEM);
	OK(pebble_secure_alloc_simple(a, 3000, (void**)&r));
	OK(pebble_secure_wipe(a, r, 0));
	EQ(pebble_secure_audit(a, r, e, 10), 2);
	EQ(pebble_secure_audit(a, q, e, 10), 0);
	OK(pebble_secure_free(a, q));
	OK(pebble_secure_free(a, r));

	/* inheritance is logged */
	kid = attached(5, "glenda", a);
	OK(pebble_secure_alloc_simple(kid, 10, (void**)&r));
	OK(pebble_secure_share(kid, a, r, PEBBLE_READ));
	OK(pebble_secure_detach(kid));
	n = pebble_secure_audit(a, r, e, 10);
	EQ(n, 3);
	EQ(e[2].operation, PEBBLE_AUDIT_INHERIT);
	EQ(e[2].pid, kid->pid);
	EQ(e[2].peer, a->pid);

	/* the ring is bounded; what falls off is counted */
	for(i = 0; i < 300; i++)
		OK(pebble_secure_wipe(a, p, 1));
	OK(pebble_secure_sysstats(&ss));
	CHECK(ss.audit_dropped > 0);
	EQ(ss.audit_logged - ss.audit_dropped, 256);
	n = pebble_secure_audit(a, p, e, 300);
	CHECK(n > 0 && n <= 256);
	EQ(e[n-1].operation, PEBBLE_AUDIT_WIPE);
	teardown();
}

/* an instance whose audit ring of ring entries is cut into blocks (ring >= Ablkmin) */
static void
bigring(int ring)
{
	Pebbleconf c;

	detreset(1);
	memset(&c, 0, sizeof c);
	c.heapsize = 1<<20;
	c.nproc = NP;
	c.auditsize = ring;
	OK(pebbleinit(&c));
}

/*
 * A large ring is written a block at a time by each slot: every entry
 * is still counted, nothing is dropped before the ring is full, and
 * the newest auditsize entries are always kept, oldest first.
 */
void
testauditblocks(void)
{
	Proc *a, *b;
	uchar *p, *q;
	SecureAuditEntry *e;
	PebbleSysStats ss;
	int i, n, ring;

	ring = 8192;
	bigring(ring);
	a = attached(0, "glenda", nil);
	b = attached(1, "glenda", nil);
	OK(pebble_secure_alloc_simple(a, 64, (void**)&p));
	OK(pebble_secure_alloc_simple(b, 64, (void**)&q));
	for(i = 0; i < 1000; i++){
		detsetclock(i);
		OK(pebble_secure_wipe(i%2 ? a : b, i%2 ? p : q, 1));
	}
	OK(pebble_secure_sysstats(&ss));
	EQ(ss.audit_logged, 1002);
	EQ(ss.audit_dropped, 0);
	e = calloc(3*ring, sizeof e[0]);
	EQ(pebble_secure_audit(a, p, e, 3*ring), 501);
	EQ(e[0].operation, PEBBLE_AUDIT_ALLOC);
	for(i = 1; i < 501; i++)
		CHECK(e[i].operation == PEBBLE_AUDIT_WIPE && e[i].timestamp == (uvlong)(2*i-1));
	for(i = 0; i < 3*ring; i++)
		OK(pebble_secure_wipe(a, p, 1));
	OK(pebble_secure_sysstats(&ss));
	EQ(ss.audit_logged, 1002 + 3*ring);
	CHECK(ss.audit_dropped > 0);
	CHECK(ss.audit_logged - ss.audit_dropped >= (uvlong)ring);	/* the newest ring entries at least */
	n = pebble_secure_audit(a, p, e, 3*ring);
	CHECK(n >= ring && n < 3*ring);
	EQ(e[n-1].operation, PEBBLE_AUDIT_WIPE);
	/* b's few entries lie in blocks a's wrap went past: the oldest may have gone, the newest are there */
	n = pebble_secure_audit(b, q, e, 3*ring);
	CHECK(n >= 0 && n <= 501);
	pebbleshutdown();
	EQ(detmetabytes(), 0);

	/*
	 * One allocation alone: what its query returns plus what was
	 * dropped is all it logged, at every step, as a reused block's old
	 * entries go one by one (they were counted dropped when the block
	 * was taken, though still kept).
	 */
	bigring(ring);
	a = attached(0, "glenda", nil);
	OK(pebble_secure_alloc_simple(a, 64, (void**)&p));
	for(i = 0; i < 3*ring; i++){
		OK(pebble_secure_wipe(a, p, 1));
		if(i % 61 != 0 && i < 3*ring - 70)
			continue;
		OK(pebble_secure_sysstats(&ss));
		n = pebble_secure_audit(a, p, e, 3*ring);
		EQ((uvlong)n + ss.audit_dropped, ss.audit_logged);
	}
	CHECK(ss.audit_dropped > 0);
	free(e);
	pebbleshutdown();
	EQ(detmetabytes(), 0);
}

/*
 * The case the simulator found (mixed, seed 142): a slot fills its
 * block long after claiming it, and lets it go just as the next claim
 * would come to it.  A ring must still keep that block's entries, the
 * newest logged, until ring newer entries push them out.  The counts
 * follow the ring's layout: blocks of Ablk, ring/Ablk + 2*NP + 2 of them.
 */
void
testauditheld(void)
{
	Proc *a, *b;
	uchar *p, *q;
	SecureAuditEntry *e;
	int i, n, ring, nblk;

	ring = 8192;
	nblk = ring/Ablk + 2*NP + 2;
	bigring(ring);
	a = attached(0, "glenda", nil);
	b = attached(1, "glenda", nil);
	OK(pebble_secure_alloc_simple(a, 64, (void**)&p));	/* a holds a block with one entry */
	OK(pebble_secure_alloc_simple(b, 64, (void**)&q));
	for(i = 0; i < (2*nblk-3)*Ablk; i++)	/* b laps the ring twice, passing a's block */
		OK(pebble_secure_wipe(b, q, 1));
	for(i = 0; i < Ablk-1; i++)		/* a fills its block and lets it go */
		OK(pebble_secure_wipe(a, p, 1));
	for(i = 0; i < 2*Ablk-1; i++)		/* b claims again */
		OK(pebble_secure_wipe(b, q, 1));
	e = calloc(ring, sizeof e[0]);
	n = pebble_secure_audit(a, p, e, ring);
	CHECK(n >= Ablk-1);		/* a's Ablk-1 wipes are among the newest ring entries */
	for(i = n > Ablk-1 ? n-(Ablk-1) : 0; i < n; i++)
		EQ(e[i].operation, PEBBLE_AUDIT_WIPE);
	free(e);
	pebbleshutdown();
	EQ(detmetabytes(), 0);
}

/*
 * A large ring's slot takes back the blocks it let go itself, once
 * they may be overwritten, rather than the oldest of all: two procs
 * logging in turn each keep to a set of blocks of their own, and the
 * ring writes few more blocks than its size needs.  Then with every
 * slot logging, so that blocks are taken from other slots' lists, the
 * newest ring entries are still kept.
 */
void
testauditlocal(void)
{
	Proc *a, *b;
	uchar *p, *q, *r[NP];
	uchar mine[4096];
	SecureAuditEntry *e;
	PebbleSysStats ss;
	Auditlog *l;
	int i, j, n, ring, nb;
	uint blk;

	ring = 8192;
	bigring(ring);
	l = &pb->audit;
	nb = l->nblk;
	CHECK(nb < (int)sizeof mine);
	a = attached(0, "glenda", nil);
	b = attached(1, "glenda", nil);
	OK(pebble_secure_alloc_simple(a, 64, (void**)&p));
	OK(pebble_secure_alloc_simple(b, 64, (void**)&q));
	memset(mine, 0, sizeof mine);
	for(i = 0; i < 20*ring; i++){
		OK(pebble_secure_wipe(i/Ablk%3 == 0 ? a : b, i/Ablk%3 == 0 ? p : q, 1));	/* a block of a, two of b */
		if(i > 4*ring && i%Ablk == Ablk-1){	/* past the warm-up: whose is the block each slot holds? */
			for(j = 0; j < 2; j++){
				blk = (l->slot[j].ent - l->ring) / l->blk;
				CHECK(mine[blk] == 0 || mine[blk] == j+1);
				mine[blk] = j+1;
			}
		}
	}
	/* blocks written: those the ring's size needs, one the other slot holds, and the last one let go */
	CHECK(l->fresh <= l->need + 2*l->holders + 2);
	CHECK(l->fresh < l->nblk);
	OK(pebble_secure_sysstats(&ss));
	EQ(ss.audit_logged, 2 + 20*ring);
	CHECK(ss.audit_logged - ss.audit_dropped >= (uvlong)ring);
	e = calloc(3*ring, sizeof e[0]);
	n = pebble_secure_audit(a, p, e, 3*ring);
	CHECK(n >= ring/3 - Ablk);	/* a logged a third of the newest ring entries */

	/* every slot: the never-used blocks run out, and blocks pass between lists */
	for(j = 2; j < NP; j++)
		OK(pebble_secure_alloc_simple(attached(j, "glenda", nil), 64, (void**)&r[j]));
	for(i = 0; i < 40*ring; i++){
		j = 2 + i/Ablk % (NP-2);
		if(i/Ablk % 7 == 0)
			j = i/Ablk % 2;
		OK(pebble_secure_wipe(&P[j], j == 0 ? p : j == 1 ? q : r[j], 1));
	}
	EQ(l->fresh, l->nblk);
	OK(pebble_secure_sysstats(&ss));
	CHECK(ss.audit_logged - ss.audit_dropped >= (uvlong)ring);
	for(j = 0; j < NP; j++)
		EQ(l->slot[j].nolog, 0);
	/* the newest entries: the last Ablk*(NP-2) wipes went one block to each of slots 2..NP-1, in turn */
	n = pebble_secure_audit(&P[NP-1], r[NP-1], e, 3*ring);
	CHECK(n >= ring/(NP-2));
	free(e);
	pebbleshutdown();
	EQ(detmetabytes(), 0);
}

/*
 * The entry a free logs is a place in the ring and nothing readable
 * (auditgone): it pushes the oldest entry out as a whole entry would,
 * in a small ring and in a large one, so an allocation keeps what it
 * would have kept.  Here every entry a free logs lands on a place that
 * held x's ALLOC, which must then be gone: the small ring's way and a
 * block's first place (goneslow), and a block's others (auditgone).
 */
void
testauditgone(void)
{
	Proc *a;
	uchar *w, *x, *y;
	SecureAuditEntry e[4];
	PebbleSysStats ss;
	uvlong i, gone;

	bigring(4);		/* a small ring: exactly the newest 4 */
	a = attached(0, "glenda", nil);
	OK(pebble_secure_alloc_simple(a, 64, (void**)&x));	/* 0: x's ALLOC */
	OK(pebble_secure_alloc_simple(a, 64, (void**)&y));	/* 1 */
	OK(pebble_secure_free(a, y));				/* 2 */
	OK(pebble_secure_alloc_simple(a, 64, (void**)&y));	/* 3 */
	EQ(pebble_secure_audit(a, x, e, 4), 1);
	OK(pebble_secure_free(a, y));				/* 4: in 0's place */
	EQ(pebble_secure_audit(a, x, e, 4), 0);
	OK(pebble_secure_sysstats(&ss));
	EQ(ss.audit_logged, 5);
	EQ(ss.audit_dropped, 1);
	pebbleshutdown();
	EQ(detmetabytes(), 0);

	/*
	 * A large ring: a block starts at a multiple of Ablk, so with w's
	 * ALLOC at 0, x's at 1 and pairs after them, every block's second
	 * place is a free's.  x's ALLOC goes once ring newer entries are
	 * kept, and before the ring's every block has been written over.
	 */
	bigring(8192);
	a = attached(0, "glenda", nil);
	OK(pebble_secure_alloc_simple(a, 64, (void**)&w));
	OK(pebble_secure_alloc_simple(a, 64, (void**)&x));
	gone = 0;
	for(i = 2; i < 4*(uvlong)pb->audit.nblk*Ablk && gone == 0; i += 2){
		OK(pebble_secure_alloc_simple(a, 64, (void**)&y));
		OK(pebble_secure_free(a, y));
		if(pebble_secure_audit(a, x, e, 4) == 0)
			gone = i+2;	/* entries logged */
	}
	EQ(pebble_secure_audit(a, w, e, 4), 0);
	CHECK(gone > 8192+1);
	CHECK(gone <= (uvlong)pb->audit.nblk*Ablk + 2);
	OK(pebble_secure_sysstats(&ss));
	EQ(ss.audit_logged, gone);
	pebbleshutdown();
	EQ(detmetabytes(), 0);
}
