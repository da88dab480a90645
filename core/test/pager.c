/* the pager: DESIGN.md "Encryption" — only ciphertext leaves RAM, pinned areas stay */
#include "fix.h"

enum { SECRET = 0x5a };

/* does any 16-byte run of the secret pattern appear in buf? */
static int
leaks(uchar *buf, usize n)
{
	usize i, run;

	run = 0;
	for(i = 0; i < n; i++){
		run = buf[i] == SECRET ? run+1 : 0;
		if(run >= 16)
			return 1;
	}
	return 0;
}

static int	dumpleak;

static void
scandump(void *buf, usize n, void *arg)
{
	if(leaks(buf, n))
		dumpleak = 1;
}

static int
swapleaks(void)
{
	int i;
	uvlong key;
	uchar *buf;
	usize n;

	for(i = 0; detswapread(i, &key, &buf, &n) == 0; i++)
		if(leaks(buf, n))
			return 1;
	return 0;
}

void
testpager(void)
{
	Proc *enc, *pin;
	uchar *p[4], *q;
	PebbleSysStats ss;
	int i, n;

	setup(1<<20, 1<<18);
	enc = attached(0, "glenda", nil);
	pin = attached(1, "glenda", nil);
	OK(pebble_set_secure_conf(enc, "pebble.secure.encryption", "1"));
	for(i = 0; i < 4; i++){
		OK(pebble_secure_alloc_simple(enc, 5000, (void**)&p[i]));
		memset(p[i], SECRET, 5000);
	}
	OK(pebble_secure_alloc_simple(pin, 5000, (void**)&q));
	memset(q, SECRET, 5000);

	EQ(pebble_secure_pageout(0), 0);
	n = pebble_secure_pageout(1000);
	CHECK(n >= 8);
	EQ(detswapcount(), n);
	OK(pebble_secure_sysstats(&ss));
	EQ(ss.paged_out, n);
	CHECK(!swapleaks());
	CHECK(iszero(p[0], 5000));	/* gone from RAM, not just copied */
	memset(q + 5000 - 1, SECRET, 1);
	CHECK(leaks(q, 5000));	/* the pinned area never moved */
	detdump(scandump, nil);
	CHECK(!dumpleak);

	/* a touch through the access check brings the bytes back */
	OK(pebble_secure_check(enc, p[0], 5000, PEBBLE_READ));
	for(i = 0; i < 5000; i++)
		if(p[0][i] != SECRET)
			break;
	EQ(i, 5000);
	CHECK(detswapcount() < n);
	/* free wipes what is in swap too; its swap copies go */
	OK(pebble_secure_free(enc, p[1]));
	CHECK(iszero(p[1], 5000));
	EQ(stats(enc).total_wiped, 5000);
	/* a failing swap device keeps that page in RAM; the pager moves on */
	detfailswap(1);
	n = detswapcount();
	EQ(pebble_secure_pageout(1), 1);
	EQ(detswapcount(), n+1);
	for(i = 0; i < 4; i++)
		if(i != 1){
			OK(pebble_secure_check(enc, p[i], 5000, PEBBLE_READ));
			CHECK(leaks(p[i], 5000) && p[i][0] == SECRET && p[i][4999] == SECRET);
		}
	/* turning encryption off pins the area again: everything comes home */
	OK(pebble_set_secure_conf(enc, "pebble.secure.encryption", "0"));
	EQ(detswapcount(), 0);
	CHECK(leaks(p[3], 5000));
	EQ(pebble_secure_pageout(1000), 0);
	/* exit with pages out leaves nothing in swap */
	OK(pebble_set_secure_conf(enc, "pebble.secure.encryption", "1"));
	CHECK(pebble_secure_pageout(1000) > 0);
	OK(pebble_secure_detach(enc));
	EQ(detswapcount(), 0);
	OK(pebble_secure_sysstats(&ss));
	EQ(ss.paged_out, 0);
	teardown();
}

/* pebble_secure_pin keeps an allowed access's pages in RAM until unpin */
void
testpin(void)
{
	Proc *a, *b, *stranger;
	uchar *p, *q;
	PebbleSysStats ss;
	int n;

	setup(1<<20, 1<<18);
	a = attached(0, "glenda", nil);
	b = attached(1, "glenda", nil);
	stranger = mkproc(2, "glenda", nil, 0);
	OK(pebble_set_secure_conf(a, "pebble.secure.encryption", "1"));
	OK(pebble_secure_alloc_simple(a, 3*4096, (void**)&p));
	OK(pebble_secure_alloc_simple(a, 4096, (void**)&q));
	memset(p, SECRET, 3*4096);
	memset(q, SECRET, 4096);

	/* the refusals are check's, and change nothing */
	FAILS(pebble_secure_pin(nil, p, 1, PEBBLE_READ), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_pin(a, p, 0, PEBBLE_READ), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_pin(a, p, 1, 8), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_pin(stranger, p, 1, PEBBLE_READ), PEBBLE_ERR_NOTFOUND);
	FAILS(pebble_secure_pin(a, p, 3*4096+1, PEBBLE_READ), PEBBLE_ERR_NOTFOUND);
	FAILS(pebble_secure_pin(b, p, 1, PEBBLE_READ), PEBBLE_ERR_PERM);
	FAILS(pebble_secure_unpin(a, p, 1), PEBBLE_ERR_INVALID);	/* nothing pinned */
	FAILS(pebble_secure_unpin(nil, p, 1), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_unpin(a, p, 0), PEBBLE_ERR_INVALID);
	FAILS(pebble_secure_unpin(stranger, p, 1), PEBBLE_ERR_NOTFOUND);

	/* p's pages are pinned: the pager takes q's and passes p's by */
	OK(pebble_secure_pin(a, p, 3*4096, PEBBLE_READ|PEBBLE_WRITE));
	n = pebble_secure_pageout(1000);
	CHECK(n >= 1);
	OK(pebble_secure_sysstats(&ss));
	EQ(ss.paged_out, n);
	CHECK(leaks(p, 3*4096));	/* still in RAM, as written */
	CHECK(iszero(q, 4096));	/* q went */

	/* an unpin of more than was pinned changes no count */
	FAILS(pebble_secure_unpin(a, p, 4*4096+1), PEBBLE_ERR_INVALID);
	OK(pebble_secure_unpin(a, p, 3*4096));
	FAILS(pebble_secure_unpin(a, p, 1), PEBBLE_ERR_INVALID);
	CHECK(pebble_secure_pageout(1000) >= 3);
	CHECK(iszero(p + 4096, 4096));	/* now it may go */

	/* a pin brings the pages back first, as check does */
	OK(pebble_secure_pin(a, q, 4096, PEBBLE_READ));
	CHECK(leaks(q, 4096));
	OK(pebble_secure_unpin(a, q, 4096));
	teardown();
}
