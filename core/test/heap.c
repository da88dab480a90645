/* instances, the heap's promises, system statistics, the cipher */
#include "fix.h"
#include "dat.h"
#include "fns.h"

void	chacha20(uchar*, uchar*, usize, uchar key[32], uvlong, uvlong);

static void
instances(void)
{
	Pebbleconf c;
	Proc *a, *b;
	void *p;
	int i, r;

	memset(&c, 0, sizeof c);
	c.heapsize = 1000;
	EQ(pebbleinit(&c), PEBBLE_ERR_INVALID);
	c.heapsize = 4096;
	c.nproc = -1;
	EQ(pebbleinit(&c), PEBBLE_ERR_INVALID);
	c.nproc = PEBBLE_MAXNPROC+1;
	EQ(pebbleinit(&c), PEBBLE_ERR_INVALID);
	c.nproc = 4;
	c.auditsize = -5;
	EQ(pebbleinit(&c), PEBBLE_ERR_INVALID);
	c.auditsize = PEBBLE_MAXAUDIT+1;
	EQ(pebbleinit(&c), PEBBLE_ERR_INVALID);
	CHECK(!pebblelive());
	c.auditsize = PEBBLE_MAXAUDIT;	/* the largest ring is allowed (its pages made when written) */
	OK(pebbleinit(&c));
	pebbleshutdown();
	c.auditsize = 0;
	c.nproc = PEBBLE_MAXNPROC;	/* and the largest proc table */
	OK(pebbleinit(&c));
	pebbleshutdown();
	c.nproc = 4;
	CHECK(!pebblelive());
	EQ(detblocks(), 0);

	/* a host that fails any one metadata allocation: NOMEM, nothing left behind */
	for(i = 1; ; i++){
		detreset(1);
		detfailmalloc(i);
		r = pebbleinit(nil);
		if(r == PEBBLE_ERR_OK)
			break;
		EQ(r, PEBBLE_ERR_NOMEM);
		EQ(detblocks(), 0);
	}
	EQ(pebbleinit(nil), PEBBLE_ERR_BUSY);
	pebbleshutdown();

	/* thousands, each left with memory and grants outstanding */
	for(i = 0; i < 2000; i++){
		setup(256*1024, 1<<16);
		a = attached(0, "glenda", nil);
		b = attached(1, "glenda", nil);
		OK(pebble_secure_alloc_simple(a, 1 + i % 5000, &p));
		OK(pebble_secure_share(a, b, p, PEBBLE_READ));
		OK(pebble_secure_alloc_simple(b, 1 + i*7 % 20000, &p));
		teardown();
	}
	pebbleshutdown();	/* twice is harmless */

	/* teardown wipes what was live and what was freed unwiped, and only that */
	detcheckarena(1);
	setup(1<<20, 1<<20);
	a = attached(0, "glenda", nil);
	OK(pebble_secure_alloc_simple(a, 3000, &p));
	fill(p, 3000, 1);
	OK(pebble_secure_alloc_simple(a, 100000, &p));
	fill(p, 100000, 2);
	OK(pebble_set_secure_conf(a, "pebble.secure.auto_wipe", "0"));
	OK(pebble_secure_alloc_simple(a, 200000, &p));
	fill(p, 200000, 3);
	OK(pebble_secure_free(a, p));	/* dirty, in a free run */
	OK(pebble_secure_alloc_simple(a, 50, &p));
	fill(p, 50, 4);
	OK(pebble_secure_free(a, p));	/* dirty, in a live run */
	teardown();
	EQ(detarenaleft(), 0);
	detcheckarena(0);
}

typedef struct Range Range;
struct Range {
	uintptr	lo;
	uintptr	hi;
};

static int
rangecmp(const void *a, const void *b)
{
	const Range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* live allocations never overlap; freed space is reused; sysstats add up */
static void
nooverlap(void)
{
	enum { N = 3000 };
	static Range r[N];
	static void *ptr[N];
	static usize sz[N];
	Proc *a;
	PebbleSysStats ss;
	uvlong x;
	usize used;
	int i, k, n;

	setup(16<<20, 16<<20);
	a = attached(0, "glenda", nil);
	FAILS(pebble_secure_sysstats(nil), PEBBLE_ERR_INVALID);
	x = 42;
	n = 0;
	for(k = 0; k < 20000; k++){
		x = x*6364136223846793005ULL + 1442695040888963407ULL;
		i = (x >> 33) % N;
		if(ptr[i] != nil){
			OK(pebble_secure_free(a, ptr[i]));
			ptr[i] = nil;
			n--;
			continue;
		}
		sz[i] = 1 + (x >> 20) % ((x >> 60) < 12 ? 256 : (x >> 60) < 15 ? 8192 : 100000);
		OK(pebble_secure_alloc_simple(a, sz[i], &ptr[i]));
		CHECK(((uintptr)ptr[i] & 15) == 0);
		CHECK(iszero(ptr[i], sz[i]));
		fill(ptr[i], sz[i], i);
		n++;
	}
	used = 0;
	for(i = 0, k = 0; i < N; i++)
		if(ptr[i] != nil){
			CHECK(isfill(ptr[i], sz[i], i));
			r[k].lo = (uintptr)ptr[i];
			r[k].hi = r[k].lo + sz[i];
			used += sz[i];
			k++;
		}
	EQ(k, n);
	qsort(r, k, sizeof r[0], rangecmp);
	for(i = 1; i < k; i++)
		CHECK(r[i-1].hi <= r[i].lo);
	OK(pebble_secure_sysstats(&ss));
	EQ(ss.heap_size, 16<<20);
	EQ(ss.in_use, used);
	EQ(ss.live_allocations, n);
	EQ(ss.attached, 1);
	EQ(ss.locked, 1);	/* the deterministic host stands for a kernel: its RAM is not paged */
	CHECK(ss.record_size <= 32);
	CHECK(ss.free_bytes + ss.in_use + ss.rounding == ss.heap_size);
	CHECK(ss.rounding < used / 10);
	CHECK(ss.largest_free <= ss.free_bytes);
	teardown();
}

static void
cipher(void)
{
	/* ChaCha20, all-zero key and nonce: the first bytes of the keystream */
	static uchar want[16] = {
		0x76, 0xb8, 0xe0, 0xad, 0xa0, 0xf1, 0x3d, 0x90,
		0x40, 0x5d, 0x6a, 0xe5, 0x53, 0x86, 0xbd, 0x28,
	};
	/* and of the second block */
	static uchar want1[8] = { 0x9f, 0x07, 0xe7, 0xbe, 0x55, 0x51, 0x38, 0x7a };
	uchar key[32], buf[80], back[80], big[700], one[700];
	uvlong ctr;
	int i, j;

	memset(key, 0, sizeof key);
	memset(buf, 0, sizeof buf);
	chacha20(buf, buf, sizeof buf, key, 0, 0);
	CHECK(memcmp(buf, want, sizeof want) == 0);
	CHECK(memcmp(buf+64, want1, sizeof want1) == 0);

	/* four blocks at a time or one: the same stream, across the counter's low word carrying */
	for(i = 0; i < 32; i++)
		key[i] = 7*i + 1;
	for(j = 0; j < 2; j++){
		ctr = j == 0 ? 5 : 0xFFFFFFFEULL;
		fill(big, sizeof big, 8);
		fill(one, sizeof one, 8);
		chacha20(big, big, sizeof big, key, 0x0123456789ABCDEFULL, ctr);
		for(i = 0; i < (int)sizeof one; i += 64)
			chacha20(one+i, one+i, sizeof one - i < 64 ? sizeof one - i : 64, key, 0x0123456789ABCDEFULL, ctr + i/64);
		CHECK(memcmp(big, one, sizeof big) == 0);
	}
	for(i = 0; i < 32; i++)
		key[i] = i;
	fill(buf, sizeof buf, 3);
	chacha20(back, buf, sizeof buf, key, 77, 0);
	CHECK(memcmp(back, buf, sizeof buf) != 0);
	chacha20(back, back, sizeof back, key, 77, 0);
	CHECK(isfill(back, sizeof back, 3));
}

/*
 * Known answers from another implementation (OpenSSL's chacha20, its
 * IV the counter then the nonce, little-endian): a key and nonce with
 * every byte different, so that a word loaded or placed wrongly shows,
 * four blocks at a time and one, and the counter carrying into its
 * high word.
 */
static void
cipherkat(void)
{
	static uchar want[2][5][16] = {
		{{0x38,0x00,0x8b,0x9a,0x26,0xbc,0x35,0x94,0x1e,0x24,0x44,0x17,0x7c,0x8a,0xde,0x66},
		 {0x9d,0xb9,0xd4,0xf7,0xc7,0xa8,0x99,0x15,0x1b,0x9a,0x47,0x50,0x32,0xb6,0x3f,0xc3},
		 {0x0e,0xaf,0x46,0xf7,0x6d,0xad,0x39,0x79,0xe5,0xc5,0x36,0x0c,0x33,0x17,0x16,0x6a},
		 {0x42,0x13,0x66,0x8b,0xbb,0xd3,0x94,0xc5,0xde,0x93,0xb8,0x53,0x17,0x8a,0xdd,0xd6},
		 {0x52,0x0f,0x48,0x9b,0x7e,0xd8,0xd2,0x0a,0xe3,0xfd,0x49,0xe9,0xe2,0x59,0xe4,0x43}},
		{{0xa2,0xb8,0xd0,0x4b,0x13,0x87,0x7b,0x4a,0x70,0x13,0xcb,0x90,0x31,0xe4,0xb7,0x08},
		 {0x2f,0xca,0xb2,0xc0,0x9a,0x96,0x05,0x45,0xc6,0xf5,0x7e,0x92,0x69,0xeb,0xc2,0x2b},
		 {0xcb,0xc0,0x48,0xa2,0xc8,0x22,0x15,0xc7,0x94,0x2b,0x99,0x9b,0xa1,0x03,0xf3,0x83},
		 {0x14,0x52,0x8b,0xb4,0x18,0x45,0x22,0x38,0x8f,0x54,0x00,0xd2,0xd0,0xa4,0xf6,0x7a},
		 {0x86,0x65,0x41,0x94,0xaa,0xa8,0x77,0x0a,0x56,0xf6,0xdd,0xce,0xa2,0xe7,0x1e,0x56}},
	};
	static uvlong ctr[2] = { 1, 0xFFFFFFFFULL };
	uchar key[32], buf[320], one[320];
	int i, j, b;

	for(i = 0; i < 32; i++)
		key[i] = i;
	for(j = 0; j < 2; j++){
		memset(buf, 0, sizeof buf);
		chacha20(buf, buf, sizeof buf, key, 0x0706050403020100ULL, ctr[j]);
		memset(one, 0, sizeof one);
		for(b = 0; b < 5; b++)
			chacha20(one + 64*b, one + 64*b, 64, key, 0x0706050403020100ULL, ctr[j] + b);
		for(b = 0; b < 5; b++){
			CHECK(memcmp(buf + 64*b, want[j][b], 16) == 0);
			CHECK(memcmp(one + 64*b, want[j][b], 16) == 0);
		}
	}
}

/*
 * The page hint names the record of the slot holding any byte of a
 * run (slab.c, sethint), for every class: a wrong one would cost no
 * correctness, only the prefetch that hides a free's misses.
 */
static void
hints(void)
{
	static usize sizes[] = { 1, 16, 48, 64, 100, 256, 1000, 3000, 4096, 5000, 12000, 40000, 65536 };
	usize n;
	uintptr p, off;
	void *v;
	Span *s;
	Proc *a;
	uint c;
	int j, k, far;

	setup(16<<20, 16<<20);
	a = attached(0, "glenda", nil);
	far = 0;
	for(c = 0; c < nelem(sizes); c++){
		n = sizes[c];
		for(k = 0; k < 40; k++){
			EQ(pebble_secure_alloc_simple(a, n, &v), PEBBLE_ERR_OK);
			p = (uintptr)v;
			s = addrspan(p);
			if(s->kind != Srun)
				continue;
			if(p + n - 1 - s->base >= PGSIZE)
				far++;
			for(j = 0; j < 3; j++){
				off = p + (j == 0 ? 0 : j == 1 ? n/2 : n-1) - (uintptr)pb->arena;
				EQ(hintrec(off), (uintptr)&s->rec[slotof(s, p)]);
			}
		}
	}
	CHECK(far > 100);	/* slots beyond their run's first page were reached */
	teardown();
}

/*
 * Two procs allocating in turns, runs and large allocations: every
 * span structure comes from a page of its own area's, so two procs'
 * structures never share a page (heap.c, newspan), and a structure
 * let go goes back to its page and is handed out again there.
 */
static void
apart(void)
{
	static usize sizes[] = { 256, 16, 3000, 20000, 200000 };
	Proc *p[2];
	void *v[2][200];
	Span *s;
	Area *a;
	Spanpage *pg;
	int i, k, t, again;

	setup(32<<20, 16<<20);
	p[0] = attached(0, "glenda", nil);
	p[1] = attached(1, "glenda", nil);
	for(i = 0; i < 200; i++)
		for(t = 0; t < 2; t++){
			OK(pebble_secure_alloc_simple(p[t], sizes[i % nelem(sizes)], &v[t][i]));
			s = addrspan((uintptr)v[t][i]);
			a = procarea(p[t]);
			CHECK(spanarea(s) == a);
			CHECK(s->page != nil && s->page->owner == a);
		}
	/* let every other allocation go, then take as many again: the pages are reused, none is added */
	pg = procarea(p[0])->spanpg;
	for(i = 0; i < 200; i += 2)
		for(t = 0; t < 2; t++)
			OK(pebble_secure_free(p[t], v[t][i]));
	again = 0;
	for(i = 0; i < 200; i += 2)
		for(t = 0; t < 2; t++){
			OK(pebble_secure_alloc_simple(p[t], sizes[i % nelem(sizes)], &v[t][i]));
			s = addrspan((uintptr)v[t][i]);
			CHECK(s->page->owner == procarea(p[t]));
			again += s->page == pg;
		}
	CHECK(again > 0 || pg == nil);
	for(k = 0; k < 2; k++)
		for(i = 0; i < 200; i++)
			OK(pebble_secure_free(p[k], v[k][i]));
	teardown();
}

/*
 * Frees prefetch their metadata only while the arena in use is past
 * Coldpages (heap.c, coldcheck), and stop only below half of it: the
 * flag that every free reads is written when the use crosses a bound,
 * not at every run.
 */
static void
cold(void)
{
	enum { Big = 64*1024, Nbig = Coldpages*PGSIZE/Big + 8 };
	void *v[Nbig];
	Proc *a;
	int i;

	setup(16<<20, 16<<20);
	a = attached(0, "glenda", nil);
	EQ(pb->cold, 0);
	for(i = 0; i < Nbig; i++){
		OK(pebble_secure_alloc_simple(a, Big, &v[i]));
		if(pb->npage - pb->freepages <= Coldpages)
			EQ(pb->cold, 0);
		else
			EQ(pb->cold, 1);
	}
	EQ(pb->cold, 1);
	for(i = Nbig-1; i >= 0; i--){
		OK(pebble_secure_free(a, v[i]));
		if(pb->npage - pb->freepages >= Coldpages/2)
			EQ(pb->cold, 1);	/* hysteresis: not yet */
		else
			EQ(pb->cold, 0);
	}
	EQ(pb->cold, 0);
	teardown();
}

void
testheap(void)
{
	instances();
	cold();
	nooverlap();
	hints();
	apart();
	cipher();
	cipherkat();
	CHECK(strcmp(pebble_strerror(PEBBLE_ERR_BUDGET), "secure budget exceeded") == 0);
	CHECK(strcmp(pebble_strerror(-99), "unknown error") == 0);
	CHECK(strcmp(pebble_strerror(3), "unknown error") == 0);
}

/*
 * DESIGN.md (Encryption): a host that cannot lock the arena in RAM
 * does not start, unless the caller chose to run unlocked, and then
 * the statistics say so.  The core decides; here the deterministic
 * host is made to refuse.
 */
void
testheaplock(void)
{
	Pebbleconf c;
	PebbleSysStats ss;
	long n0;

	detreset(1);
	detrefuselock(1);
	memset(&c, 0, sizeof c);
	c.heapsize = 1<<20;
	c.nproc = 4;
	n0 = detarenas();
	FAILS(pebbleinit(&c), PEBBLE_ERR_NOMEM);
	CHECK(!pebblelive());
	EQ(detblocks(), 0);
	EQ(detarenas(), n0);	/* the arena it could not lock went back */
	c.unlocked = 1;
	OK(pebbleinit(&c));
	OK(pebble_secure_sysstats(&ss));
	EQ(ss.locked, 0);
	pebbleshutdown();
	detrefuselock(0);
	c.unlocked = 0;
	OK(pebbleinit(&c));
	OK(pebble_secure_sysstats(&ss));
	EQ(ss.locked, 1);
	pebbleshutdown();
	EQ(detmetabytes(), 0);
	EQ(detarenas(), n0);
}
