/*
 * The audit ring: where entries go, and when an entry may be
 * overwritten.  The log itself (writing an entry, reading an
 * allocation's entries) is audit.c.
 *
 * A large ring is cut into blocks of Ablk entries.  A proc slot (its
 * Aslot) takes a block and then fills it alone (audit.c says why it is
 * alone); only when the block is full and it needs room for another
 * entry does it let it go and take the next.  Entries that fall off
 * when a block is taken again are counted by the slot that takes it,
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
 */
#include "pebble.h"
#include "dat.h"
#include "fns.h"

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

/* the entry of sequence seq, wherever the ring has it */
Auditent*
auditent(uvlong seq)
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
int
auditrenew(Aslot *a)
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
		a->seq = c;
	}else{
		if((b = take(l, a, &c, &drop)) < 0)
			return 0;
		a->seq = (c*l->nblk + b) * l->blk;
	}
	/*
	 * A large ring's reused block is counted dropped when taken, but its
	 * old entries go one by one as the slot writes over them: until then
	 * the statistics take the unwritten rest off (auditcount).  Stored in
	 * this order, a reader that sees reused sees the count and the end.
	 */
	if(drop)
		ATOMSTORE(&a->dropped, a->dropped + l->blk);
	ATOMSTORE(&a->end, a->n + l->blk);
	ATOMSTORE(&a->reused, drop && l->blk > 1);
	a->ent = &l->ring[b * l->blk];
	a->cur = a->ent;
	for(k = 0; k < Apre && k < l->blk; k++)
		__builtin_prefetch(a->ent+k, 1);
	return 1;
}

/* entries logged on proc slot i's allocations, kept or not */
uvlong
auditslotcount(int i)
{
	return ATOMLOAD(&pb->audit.slot[i].n) + ATOMLOAD(&pb->audit.slot[i].nolog);
}

/* what the system statistics report: entries logged, and those overwritten (or never kept) */
uvlong
auditcount(uvlong *dropped)
{
	uvlong n, d;
	Aslot *a;
	int i;

	n = d = 0;
	for(i = 0; i < pb->conf.nproc; i++){
		a = &pb->audit.slot[i];
		n += auditslotcount(i);
		d -= ATOMLOAD(&a->reused) ? ATOMLOAD(&a->end) - ATOMLOAD(&a->n) : 0;
		d += ATOMLOAD(&a->dropped);
	}
	if(dropped != nil)
		*dropped = d;
	return n;
}

