/*
 * The instance: making and tearing down a whole subsystem, the
 * metadata it takes from the host, and the system-wide views
 * (statistics, a digest of all state, error strings).
 *
 * A kernel has one secure heap; so has a process linking the core.
 * Tests make and tear down thousands in a row, so teardown gives back
 * every byte and leaves no secret behind, in the arena or in swap.
 */
#include "pebble.h"
#include "dat.h"
#include "fns.h"

Pebble	*pb;

void*
metaalloc(usize n)
{
	void *p;

	p = hostmalloc(n);
	if(p != nil)
		ATOMADD(&pb->metabytes, n);
	return p;
}

/* zeroed metadata: the big tables, which the host may give as lazily zeroed pages */
void*
metazalloc(usize n)
{
	void *p;

	p = hostzalloc(n);
	if(p != nil)
		ATOMADD(&pb->metabytes, n);
	return p;
}

void
metafree(void *p, usize n)
{
	if(p == nil)
		return;
	ATOMADD(&pb->metabytes, -n);
	hostfree(p, n);
}

static int
confcheck(Pebbleconf *k)
{
	if(k->heapsize == 0)
		k->heapsize = PEBBLE_DEFHEAP;
	if(k->nproc == 0)
		k->nproc = PEBBLE_DEFNPROC;
	if(k->auditsize == 0)
		k->auditsize = PEBBLE_DEFAUDIT;
	if(k->budget == 0)
		k->budget = PEBBLE_DEFBUDGET;
	if(k->heapsize % PGSIZE != 0 || k->heapsize > PEBBLE_MAXHEAP)
		return -1;
	if(k->nproc < 0 || k->nproc > PEBBLE_MAXNPROC)
		return -1;
	if(k->auditsize < 0 || k->auditsize > PEBBLE_MAXAUDIT)
		return -1;
	if(k->budget > k->heapsize)
		k->budget = k->heapsize;
	return 0;
}

static int
areasinit(void)
{
	_Static_assert(sizeof(Area) + (AREACOLOURS-1)*64 <= AREASTRIDE, "an Area at its last offset must end in its page");

	int i, n;

	n = pb->conf.nproc;
	pb->mapwords = (n + 8*sizeof(ulong) - 1) / (8*sizeof(ulong));
	pb->areas = metazalloc(n * AREASTRIDE);	/* zero: teardown walks it */
	if(pb->areas == nil)
		return -1;
	pb->maps = metazalloc(n * pb->mapwords * sizeof(ulong));
	if(pb->maps == nil)
		return -1;
	for(i = 0; i < n; i++)
		areainit(slotarea(i), i);
	return 0;
}

/* what live areas hold outside the heap's own structures */
static void
areasfree(void)
{
	int i;
	Area *a;
	Span *s;
	Grant *g, *ng;

	for(i = 0; pb->areas != nil && i < pb->conf.nproc; i++){
		a = slotarea(i);
		for(s = a->spans; s != nil; s = s->anext){
			for(g = s->grants; g != nil; g = ng){
				ng = g->next;
				metafree(g, sizeof *g);
			}
			metafree(s->rec, s->metasize);
			metafree(s->alast, s->nslot * sizeof(uvlong));
		}
		secwipe(a->key, sizeof a->key);
	}
	metafree(pb->areas, pb->conf.nproc * AREASTRIDE);
	metafree(pb->maps, pb->conf.nproc * pb->mapwords * sizeof(ulong));
}

static void
teardown(void)
{
	pagerfree();
	areasfree();
	heapfree();
	auditfree();
	hostfree(pb, sizeof *pb);
	pb = nil;
}

static void
sysdefaults(void)
{
	pebble_secure_enabled = 1;
	pebble_secure_max_budget = pb->conf.heapsize;
	pebble_secure_encryption = 0;
	pebble_secure_auditing = 1;
}

int
pebbleinit(Pebbleconf *c)
{
	Pebbleconf k;

	if(pb != nil)
		return PEBBLE_ERR_BUSY;
	memset(&k, 0, sizeof k);
	if(c != nil)
		k = *c;
	if(confcheck(&k) < 0)
		return PEBBLE_ERR_INVALID;
	pb = hostmalloc(sizeof *pb);
	if(pb == nil)
		return PEBBLE_ERR_NOMEM;
	memset(pb, 0, sizeof *pb);
	pb->conf = k;
	pb->idnext = 1;
	classinit();
	if(heapinit(k.heapsize) < 0 || auditinit(k.auditsize) < 0 || areasinit() < 0
	|| pagerinit() < 0){
		teardown();
		return PEBBLE_ERR_NOMEM;
	}
	sysdefaults();
	return PEBBLE_ERR_OK;
}

/* callers must have stopped: nothing else may be inside the core */
void
pebbleshutdown(void)
{
	if(pb != nil)
		teardown();
}

int
pebblelive(void)
{
	return pb != nil;
}

/* every area's lock, to read, in slot order; or let them go */
static void
readall(int on)
{
	int i;

	for(i = 0; i < pb->conf.nproc; i++)
		if(on)
			rlock(&slotarea(i)->rd.lock);
		else
			runlock(&slotarea(i)->rd.lock);
}

int
pebble_secure_sysstats(PebbleSysStats *st)
{
	int i;
	Area *a;
	usize slot;

	if(st == nil || pb == nil)
		return PEBBLE_ERR_INVALID;
	memset(st, 0, sizeof *st);
	slot = 0;
	/*
	 * One moment for every figure: every area's lock is held, to
	 * read, at once, so no call that changes an area (or the heap,
	 * which only such a call does) is part done, and none starts
	 * until all is read.  Taking them one at a time and letting each
	 * go would let a thread's alloc in one area and its later free in
	 * another both fall between two looks, a count no serial order
	 * gives.  Every other call holds at most one area's lock at a
	 * time and takes none while it waits for another, but an exit,
	 * which changes several at once (the heir's, the owners of its
	 * grants): so exits hold exitlk to read, taken before any area
	 * lock, and this waits for them as its writer (writers first: a
	 * stream of exits cannot starve it).  Slot order, like the exit's
	 * lock set when it must block.
	 */
	wlock(&pb->exitlk);
	readall(1);
	for(i = 0; i < pb->conf.nproc; i++){
		a = slotarea(i);
		if(a->state != Aidle){
			st->attached++;
			st->in_use += a->budget.used;
			st->live_allocations += a->budget.nalloc;
			st->deferred += a->budget.deferred;
			st->wiped += a->budget.wiped;
			slot += a->slotbytes;
		}
	}
	st->wiped += ATOMLOAD(&pb->exitwiped);
	st->deferred += ATOMLOAD(&pb->exitdeferred);
	st->heap_size = pb->size;
	st->rounding = slot - st->in_use;
	st->free_bytes = pb->size - slot;
	st->largest_free = largestfree();
	st->metadata = ATOMLOAD(&pb->metabytes);
	st->audit_logged = auditcount(&st->audit_dropped);
	st->locked = pb->locked;
	st->record_size = sizeof(Rec);
	st->paged_out = ATOMLOAD(&pb->pager.pagedout);
	readall(0);
	wunlock(&pb->exitlk);
	return PEBBLE_ERR_OK;
}

char*
pebble_strerror(int err)
{
	static char *msg[] = {
		[0]	"ok",
		[1]	"out of secure memory",
		[2]	"permission denied",
		[3]	"allocation or proc not found",
		[4]	"invalid argument",
		[5]	"secure budget exceeded",
		[6]	"resource busy",
	};

	if(err > 0 || -err >= (int)nelem(msg))
		return "unknown error";
	return msg[-err];
}
