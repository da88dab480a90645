/*
 * libFuzzer target: the whole API under hostile call sequences on the
 * deterministic host.  The input is a program: each op byte picks a
 * call, the bytes after it its arguments, drawn towards boundaries
 * (sizes 0, 1, SIZE_MAX, around the heap; nil, wild, interior, stale
 * pointers; detached and recycled procs; extreme budgets; settings
 * strings straight from the input; odd audit max_entries; pageout;
 * the system switches; host failures).  After every call:
 *
 *   - the result is a documented code;
 *   - a refusal changed neither pebble_secure_digest nor any
 *     statistic (every slot's per-proc stats and budget, the system
 *     statistics less the audit counters, which may log a denial);
 *   - new memory reads zero, wiped memory reads zero, memory freed
 *     with auto_wipe on reads zero, and bytes the owner wrote are
 *     unchanged until it or the core changes them;
 *
 * and at the end teardown leaves no host block, no metadata byte and
 * no non-zero arena byte.  Any break aborts, which libFuzzer reports.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include "pebble.h"
#include "host/det.h"

enum {
	NP	= 8,		/* proc slots */
	MAXOPS	= 256,
	NA	= MAXOPS,	/* room for every allocation one input can make */
	KEEP	= 48,		/* past this, a dead one is dropped for a new one */
	AUDIT	= 64,		/* ring entries */
};

typedef struct Al Al;
struct Al {
	uchar	*p;		/* current start */
	usize	size;		/* current size */
	int	slot;		/* owner's slot */
	ulong	pid;		/* owner's pid */
	int	prot;
	int	live;		/* 0: freed, p kept as a stale pointer */
	uchar	seed;		/* owner's pattern: byte i is pat(seed, off+i) */
	usize	off;		/* bytes released from the original front */
	uchar	*zero;		/* bit per byte: known zero (wiped) rather than pattern */
	usize	zsize;		/* of the original allocation */
};

typedef struct Snap Snap;
struct Snap {
	uvlong	digest;
	PebbleSysStats	sys;
	int	src[NP];
	PebbleSecureStats	st[NP];
	usize	bud[NP];
};

static const uchar	*in;
static usize	left;
static Proc	procs[NP];
static Proc	ghosts[NP];	/* the last proc to leave each slot: stale */
static int	attachedp[NP];
static ulong	nextpid;
static Al	al[NA];
static int	nal;
static usize	heap;
static int	live;
static char	*opname;
static int	calltrace;

#define nelem(x) (sizeof(x)/sizeof((x)[0]))
#define FAIL(...) do{ fprintf(stderr, "fuzz/api: %s: ", opname); fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); }while(0)

static uint
u8(void)
{
	if(left == 0)
		return 0;
	left--;
	return *in++;
}

static uint
u16(void)
{
	return u8() | u8()<<8;
}

static uvlong
u64(void)
{
	uvlong v;
	int i;

	v = 0;
	for(i = 0; i < 8; i++)
		v |= (uvlong)u8() << 8*i;
	return v;
}

static uchar
pat(uchar seed, usize i)
{
	return (uchar)((i*131 + seed*7) | 1);	/* never zero */
}

/* a size towards the boundaries */
static usize
size(void)
{
	uint b;

	b = u8();
	switch(b % 24){
	case 0:	return 0;
	case 1:	return 1;
	case 2:	return SIZE_MAX;
	case 3:	return SIZE_MAX - b/24;
	case 4:	return heap;
	case 5:	return heap - 1;
	case 6:	return heap + 1;
	case 7:	return heap/2 + b;
	case 8:	return 4096 - 8 + b/24;
	case 9:	return 65536 - 8 + b/24;
	case 10: return (usize)1 << (b/24 + 20);
	case 11: return (usize)UINT_MAX + b/24;
	case 12: return (usize)INT_MAX + b/24;
	case 13: return u16() % 8192 + 1;
	default:
		return u8() % 200 + 1;
	}
}

static int
perm(void)
{
	uint b;

	b = u8();
	if(b < 200)
		return b % 7 + 1;
	switch(b % 5){
	case 0:	return 0;
	case 1:	return 8;
	case 2:	return -1;
	case 3:	return INT_MAX;
	default: return b;
	}
}

static Proc*
proc(void)
{
	uint b;

	b = u8() % (NP + 4);
	if(b < NP)
		return &procs[b];
	if(b == NP)
		return nil;
	return &ghosts[(b + u8()) % NP];	/* stale: the slot's previous pid */
}

/* a recorded allocation, live or not */
static Al*
pickal(void)
{
	if(nal == 0)
		return nil;
	return &al[u8() % nal];
}

static void*
ptr(void)
{
	static int onstack;
	Al *a;
	uint b;

	b = u8() % 16;
	a = pickal();
	if(a == nil || b >= 10)
		switch(b % 6){
		case 0:	return nil;
		case 1:	return (void*)(uintptr)0x1000;
		case 2:	return (void*)(uintptr)-1;
		case 3:	return &onstack;
		case 4:	return (void*)(uintptr)u64();
		default: return a != nil ? a->p - 1 : nil;
		}
	switch(b){
	case 0: case 1: case 2: case 3: case 4:
		return a->p;
	case 5:	return a->p + 1 + u8() % (a->size ? a->size : 1);	/* interior or one past */
	case 6:	return a->p + a->size;
	case 7:	return a->p - 16;
	case 8:	return a->p + 4096;
	default: return a->p - a->off;				/* the original start */
	}
}

/* a settings string from the input, nul-terminated */
static char*
str(char *buf, int n)
{
	int i, len;

	len = u8() % n;
	for(i = 0; i < len; i++)
		buf[i] = u8();
	buf[len] = 0;
	return buf;
}

static const char *keys[] = {
	"pebble.secure.budget", "pebble.secure.encryption", "pebble.secure.audit",
	"pebble.secure.auto_wipe", "pebble.secure.", "", "pebble.secure.budgetx",
};

static const char*
key(char *buf, int n)
{
	uint b;

	b = u8();
	if(b < 224)
		return keys[b % 4];
	if(b < 250)
		return keys[b % nelem(keys)];
	if(b == 250)
		return nil;
	return str(buf, n);
}

static int
isdoc(vlong rc)
{
	return rc <= 0 && rc >= PEBBLE_ERR_BUSY;
}

static void
snap(Snap *s)
{
	int i;

	memset(s, 0, sizeof *s);
	s->digest = pebble_secure_digest();
	pebble_secure_sysstats(&s->sys);
	s->sys.audit_logged = s->sys.audit_dropped = 0;
	for(i = 0; i < NP; i++){
		s->src[i] = pebble_secure_stats(&procs[i], &s->st[i]);
		s->bud[i] = pebble_secure_budget_get(&procs[i]);
	}
}

static void
samesnap(Snap *a, Snap *b, int rc)
{
	int i;

	if(a->digest != b->digest)
		FAIL("refused with %d but the digest changed", rc);
	if(memcmp(&a->sys, &b->sys, sizeof a->sys) != 0)
		FAIL("refused with %d but the system statistics changed: in_use %zu %zu, rounding %zu %zu, "
			"metadata %zu %zu, free %zu %zu, largest free %zu %zu, live %zu %zu, wiped %zu %zu, "
			"deferred %zu %zu, paged out %zu %zu", rc,
			a->sys.in_use, b->sys.in_use, a->sys.rounding, b->sys.rounding, a->sys.metadata, b->sys.metadata,
			a->sys.free_bytes, b->sys.free_bytes, a->sys.largest_free, b->sys.largest_free,
			a->sys.live_allocations, b->sys.live_allocations, a->sys.wiped, b->sys.wiped,
			a->sys.deferred, b->sys.deferred, a->sys.paged_out, b->sys.paged_out);
	for(i = 0; i < NP; i++)
		if(a->src[i] != b->src[i] || a->bud[i] != b->bud[i]
		|| memcmp(&a->st[i], &b->st[i], sizeof a->st[i]) != 0)
			FAIL("refused with %d but slot %d's statistics changed", rc, i);
}

/* the owner touches its memory as the simulator does: checked first */
static int
touch(Al *a)
{
	Proc *o;
	int r;

	o = &procs[a->slot];
	if(!attachedp[a->slot] || o->pid != a->pid || a->size == 0)
		return 0;
	r = pebble_secure_check(o, a->p, a->size, a->prot & -a->prot);
	if(r != PEBBLE_ERR_OK)
		FAIL("owner's check of its live %zu bytes at %p: %d", a->size, a->p, r);
	return 1;
}

static int
iszb(Al *a, usize i)
{
	return (a->zero[i/8] >> (i%8)) & 1;
}

static void
verify(Al *a)
{
	usize i, o;
	uchar want;

	if(!a->live || !touch(a))
		return;
	for(i = 0; i < a->size; i++){
		o = a->off + i;
		want = iszb(a, o) ? 0 : pat(a->seed, o);
		if(a->p[i] != want)
			FAIL("byte %zu of %zu at %p is %#x, want %#x", i, a->size, a->p, a->p[i], want);
	}
}

static void
markzero(Al *a, usize from, usize n)
{
	usize i;

	for(i = from; i < from + n; i++)
		a->zero[i/8] |= 1 << (i%8);
}

static void
forget(int i)
{
	free(al[i].zero);
	al[i] = al[--nal];
}

static void
record(void *p, usize n, Proc *o, int prot)
{
	Al *a;
	usize i;

	/*
	 * Stale pointers are worth keeping, but not so many that ptr()
	 * seldom names a live allocation.  A live one is never dropped:
	 * a later call could reach it through a neighbour's pointer
	 * (a->p + 4096) and its success would look like a core bug.
	 */
	if(nal >= KEEP){
		for(i = 0; i < (usize)nal && al[i].live; i++)
			;
		if(i < (usize)nal)
			forget(i);
	}
	if(nal == NA)
		abort();	/* one allocation per op at most */
	a = &al[nal++];
	memset(a, 0, sizeof *a);
	a->p = p;
	a->size = a->zsize = n;
	a->slot = o->slot;
	a->pid = o->pid;
	a->prot = prot;
	a->live = 1;
	a->seed = u8();
	a->zero = calloc(n/8 + 1, 1);
	if(a->zero == nil)
		abort();
	if(!touch(a))
		FAIL("owner cannot touch a fresh allocation");
	for(i = 0; i < n; i++)
		if(a->p[i] != 0)
			FAIL("new memory: byte %zu of %zu is %#x", i, n, a->p[i]);
	for(i = 0; i < n; i++)
		a->p[i] = pat(a->seed, i);
}

static Al*
find(void *p)
{
	int i;

	for(i = 0; i < nal; i++)
		if(al[i].live && al[i].p == p)
			return &al[i];
	return nil;
}

static int
confis(int slot, int k, char *v)
{
	const char *s;

	s = pebble_get_secure_conf(&procs[slot], keys[k]);
	return s != nil && strcmp(s, v) == 0;
}

/* after a free with auto_wipe on, the bytes left read zero (unless paged out as ciphertext) */
static void
freedzero(uchar *p, usize n, int slot)
{
	usize i;

	if(!confis(slot, 3, "1") || !confis(slot, 1, "0"))
		return;
	for(i = 0; i < n; i++)
		if(p[i] != 0)
			FAIL("freed with auto_wipe on: byte %zu of %zu reads %#x", i, n, p[i]);
}

static void
newproc(int slot)
{
	Proc *p;

	p = &procs[slot];
	ghosts[slot] = *p;
	memset(p, 0, sizeof *p);
	p->slot = slot;
	p->pid = nextpid++;
	strcpy(p->user, slot == 0 ? "eve" : (slot & 1) ? "glenda" : "bootes");
	attachedp[slot] = 0;
}

/* detach took slot's memory: what passed to the parent is the parent's now */
static void
afterdetach(int slot, ulong pid, Proc *parent)
{
	SecureAllocation info;
	int i;

	for(i = 0; i < nal; i++){
		if(!al[i].live || al[i].slot != slot || al[i].pid != pid)
			continue;
		if(parent != nil && attachedp[parent->slot] && parent->pid == procs[parent->slot].pid
		&& pebble_secure_info(parent, al[i].p, &info) == PEBBLE_ERR_OK && info.pid == parent->pid){
			al[i].slot = parent->slot;
			al[i].pid = parent->pid;
			verify(&al[i]);
			continue;
		}
		al[i].live = 0;
	}
}

/* grants and ownership are the core's business; the table follows frees it saw */
static void
afterfree(Al *a, usize n)
{
	if(n >= a->size){
		a->live = 0;
		return;
	}
	a->p += n;
	a->off += n;
	a->size -= n;
}

static int
issnapped(int op)
{
	return op != 17 && op != 18 && op != 19 && op != 20 && op != 21;
}

static void
run1(int op)
{
	static char *names[] = {
		"alloc", "alloc_simple", "free", "free_size", "share", "revoke", "wipe",
		"wipe_and_free", "info", "stats", "budget_set", "budget_increase",
		"budget_decrease", "attach", "detach", "audit", "set_conf", "get_conf",
		"switch", "pageout", "failmalloc", "verify", "check", "budget_get", "sysstats",
	};
	Snap before, after;
	Proc *p, *q;
	void *v, *x;
	usize n;
	int rc, r, max, nbuf, slot;
	ulong pid;
	Al *a;
	SecureAllocation info;
	PebbleSecureStats st;
	PebbleSysStats sys;
	SecureAuditEntry *ent;
	char kb[48], vb[48];
	const char *k, *s;

	op %= nelem(names);
	opname = names[op];
	if(issnapped(op))
		snap(&before);
	rc = 0;
	switch(op){
	case 0:
		p = proc();
		n = size();
		r = perm();
		v = nil;
		rc = pebble_secure_alloc(p, n, u8() == 255 ? nil : &v, r);
		if(rc == 0)
			record(v, n, p, r);
		break;
	case 1:
		p = proc();
		n = size();
		v = nil;
		rc = pebble_secure_alloc_simple(p, n, &v);
		if(rc == 0)
			record(v, n, p, PEBBLE_READ|PEBBLE_WRITE);
		break;
	case 2:
		p = proc();
		v = ptr();
		a = find(v);
		if(a != nil){
			verify(a);
			snap(&before);	/* verify's checked access may page a in: the refusal is judged from here */
		}
		rc = pebble_secure_free(p, v);
		if(rc == 0){
			if(a == nil)
				FAIL("freed %p, which is no live allocation", v);
			n = a->size;
			afterfree(a, n);
			freedzero(v, n, a->slot);
		}
		break;
	case 3:
		p = proc();
		v = ptr();
		n = size();
		a = find(v);
		rc = pebble_secure_free_size(p, v, n);
		if(rc == 0){
			if(a == nil)
				FAIL("free_size %p, which is no live allocation", v);
			slot = a->slot;
			afterfree(a, n);
			if(a->live){
				markzero(a, a->off - n, n);	/* released: not ours to read */
				verify(a);
			}
			(void)slot;
		}
		break;
	case 4:
		p = proc();
		q = proc();
		rc = pebble_secure_share(p, q, ptr(), perm());
		break;
	case 5:
		p = proc();
		q = proc();
		rc = pebble_secure_revoke(p, q, ptr());
		break;
	case 6:
		p = proc();
		v = ptr();
		n = u8() < 64 ? 0 : size();
		rc = pebble_secure_wipe(p, v, n);
		if(rc == 0){
			if((a = find(v)) == nil)
				FAIL("wiped %p, which is no live allocation", v);
			markzero(a, a->off, n == 0 ? a->size : n);
			verify(a);
		}
		break;
	case 7:
		p = proc();
		v = ptr();
		a = find(v);
		n = u8() < 128 ? 0 : a != nil && u8() < 200 ? a->size : size();
		rc = pebble_secure_wipe_and_free(p, v, n);
		if(rc == 0){
			if(a == nil)
				FAIL("wipe_and_free %p, which is no live allocation", v);
			n = a->size;
			a->live = 0;
			if(confis(a->slot, 1, "0"))
				for(usize i = 0; i < n; i++)
					if(((uchar*)v)[i] != 0)
						FAIL("wipe_and_free left byte %zu of %zu", i, n);
		}
		break;
	case 8:
		p = proc();
		v = ptr();
		rc = pebble_secure_info(p, v, u8() == 255 ? nil : &info);
		if(rc == 0 && ((a = find(v)) == nil || info.ptr != v || info.size != a->size))
			FAIL("info on %p gives ptr %p size %zu", v, info.ptr, info.size);
		break;
	case 9:
		p = proc();
		rc = pebble_secure_stats(p, u8() == 255 ? nil : &st);
		break;
	case 10:
		rc = pebble_secure_budget_set(proc(), size());
		break;
	case 11:
		rc = pebble_secure_budget_increase(proc(), size());
		break;
	case 12:
		rc = pebble_secure_budget_decrease(proc(), size());
		break;
	case 13:
		slot = u8() % NP;
		if(u8() < 64 && attachedp[slot] == 0)
			newproc(slot);				/* a recycled slot: new pid */
		p = &procs[slot];
		q = proc();
		p->parent = q == p ? nil : q;
		p->nowait = u8() < 32;
		rc = pebble_secure_attach(q, p);
		if(rc == 0)
			attachedp[slot] = 1;
		break;
	case 14:
		p = proc();
		pid = p != nil ? p->pid : 0;
		rc = pebble_secure_detach(p);
		if(rc == 0){
			if(p != &procs[p->slot])
				FAIL("detached a stale proc");
			attachedp[p->slot] = 0;
			afterdetach(p->slot, pid, p->nowait ? nil : p->parent);
			if(u8() < 128)
				newproc(p->slot);
		}
		break;
	case 15:
		p = proc();
		v = ptr();
		switch(u8() % 8){
		case 0:	max = 0; break;
		case 1:	max = -1; break;
		case 2:	max = INT_MIN; break;
		case 3:	max = INT_MAX; break;
		case 4:	max = AUDIT + 1; break;
		default: max = u8() % 9 + 1; break;
		}
		nbuf = max > 0 && max <= AUDIT ? max : AUDIT;
		ent = malloc(nbuf * sizeof *ent);	/* ASan sees a write past max_entries */
		rc = pebble_secure_audit(p, v, u8() == 255 ? nil : ent, max);
		free(ent);
		if(rc > 0 && rc > nbuf)
			FAIL("audit gave %d entries for max %d", rc, max);
		if(rc > 0)
			rc = 0;
		break;
	case 16:
		p = proc();
		k = key(kb, sizeof kb);
		s = u8() < 16 ? nil : str(vb, sizeof vb);
		rc = pebble_set_secure_conf(p, k, s);
		break;
	case 17:
		p = proc();
		k = key(kb, sizeof kb);
		s = pebble_get_secure_conf(p, k);
		if(s != nil && strlen(s) >= 24)
			FAIL("get_conf gave an overlong string");
		break;
	case 18:
		switch(u8() % 5){
		case 0: pebble_secure_enabled = u8() & 1; break;
		case 1: pebble_secure_encryption = u8() & 1; break;
		case 2: pebble_secure_auditing = u8() & 1; break;
		case 3: pebble_secure_max_budget = size(); break;
		default: pebble_secure_enabled = (int)u64(); break;
		}
		break;
	case 19:
		n = u8() % 4 == 0 ? SIZE_MAX : u8();
		pebble_secure_pageout(n);
		break;
	case 20:
		switch(u8() % 4){
		case 0: detfailmalloc(u8() % 6 + 1); break;
		case 1: detfailmallocevery(u8() % 4 + 2); break;
		case 2: detfailswap(u8() % 4 + 1); break;
		default: detfailmalloc(0); detfailmallocevery(0); detfailswap(0); break;
		}
		break;
	case 21:
		if((a = pickal()) != nil)
			verify(a);
		break;
	case 22:
		p = proc();
		v = ptr();
		x = v;
		rc = pebble_secure_check(p, x, size() % (u8() < 128 ? 64 : SIZE_MAX), perm());
		break;
	case 23:
		(void)pebble_secure_budget_get(proc());
		break;
	case 24:
		rc = pebble_secure_sysstats(u8() == 255 ? nil : &sys);
		break;
	}
	if(calltrace)
		fprintf(stderr, "fuzz/api: %s = %d\n", opname, rc);
	if(!isdoc(rc))
		FAIL("undocumented result %d", rc);
	if(issnapped(op) && rc != 0){
		snap(&after);
		samesnap(&before, &after, rc);
	}
}

static void
teardownall(void)
{
	int i;

	detfailmalloc(0);
	detfailmallocevery(0);
	detfailswap(0);
	for(i = 0; i < nal; i++)
		free(al[i].zero);
	nal = 0;
	detcheckarena(1);
	pebbleshutdown();
	if(detarenaleft() != 0)
		FAIL("teardown left %zu non-zero arena bytes", detarenaleft());
	if(detblocks() != 0 || detmetabytes() != 0)
		FAIL("teardown left %ld blocks, %zu bytes of metadata", detblocks(), detmetabytes());
	detcheckarena(0);
	live = 0;
}

/* hostile instance parameters first: each is refused or made and torn down */
static void
hostileinit(void)
{
	static const usize heaps[] = { 1, 4095, 4097, (usize)PEBBLE_MAXHEAP + 4096, SIZE_MAX, SIZE_MAX - 4095 };
	static const int ns[] = { -1, INT_MIN, PEBBLE_MAXNPROC + 1, INT_MAX };
	Pebbleconf c;
	int rc;

	memset(&c, 0, sizeof c);
	c.heapsize = 16384;
	c.nproc = 4;
	c.auditsize = 8;	/* the defaults take megabytes of metadata: slow */
	switch(u8() % 6){
	case 0: c.heapsize = heaps[u8() % nelem(heaps)]; break;
	case 1: c.nproc = ns[u8() % nelem(ns)]; break;
	case 2: c.auditsize = u8() & 1 ? PEBBLE_MAXAUDIT + 1 : ns[u8() % 2]; break;
	case 3: c.budget = SIZE_MAX; c.nproc = 1; c.auditsize = 1; break;
	case 4: detfailmalloc(u8() % 8 + 1); break;
	default: return;
	}
	opname = "pebbleinit";
	rc = pebbleinit(&c);
	detfailmalloc(0);
	if(!isdoc(rc))
		FAIL("pebbleinit gave %d", rc);
	if(rc == 0)
		teardownall();
	else if(detblocks() != 0 || detmetabytes() != 0)
		FAIL("refused pebbleinit left %ld blocks", detblocks());
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const usize heaps[] = { 16384, 32768, 65536, 65536, 131072, 1<<20 };
	Pebbleconf c;
	int i, nop;

	calltrace = getenv("FUZZ_API_TRACE") != nil;	/* triage: each call and its result */
	in = data;
	left = size;
	detreset(u8());
	hostileinit();
	memset(&c, 0, sizeof c);
	heap = heaps[u8() % nelem(heaps)];
	c.heapsize = heap;
	c.nproc = NP;
	c.auditsize = AUDIT;
	c.budget = u8() < 200 ? heap/4 : SIZE_MAX;
	opname = "pebbleinit";
	if(pebbleinit(&c) != 0)
		FAIL("pebbleinit refused a sane config");
	live = 1;
	nextpid = 100;
	memset(ghosts, 0, sizeof ghosts);
	for(i = 0; i < NP; i++){
		newproc(i);
		ghosts[i] = procs[i];
		ghosts[i].pid = 99;	/* never attached */
	}
	for(i = 0; i < 3; i++){
		if(pebble_secure_attach(nil, &procs[i]) != 0)
			FAIL("first attach");
		attachedp[i] = 1;
	}
	procs[1].parent = &procs[0];
	procs[2].parent = &procs[1];
	for(nop = 0; left > 0 && nop < MAXOPS; nop++)
		run1(u8());
	detfailmalloc(0);
	detfailmallocevery(0);
	detfailswap(0);
	pebble_secure_enabled = 1;
	for(i = 0; i < nal; i++)
		verify(&al[i]);
	/* some exits, then the rest goes with the instance */
	for(i = 0; i < NP; i += 2)
		pebble_secure_detach(&procs[i]);
	teardownall();
	return 0;
}
