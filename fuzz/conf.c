/*
 * libFuzzer target: pebble_set_secure_conf and pebble_get_secure_conf
 * against a parser of the grammar written here from DESIGN.md
 * (Configuration) and docs/decisions.md (Settings), sharing no code
 * with core/conf.c:
 *
 *   key    = "pebble.secure.budget" | "pebble.secure.encryption"
 *          | "pebble.secure.audit" | "pebble.secure.auto_wipe"
 *   budget = digit+ [kKmMgG]   (powers of 1024; a value past SIZE_MAX is malformed)
 *   bool   = "0" | "1"
 *
 * and a model of what a set does: the check order of DESIGN.md
 * (INVALID, PERM, NOTFOUND, BUSY, BUDGET), the budget rules, and the
 * canonical strings get returns (decimal bytes, "0", "1").  Every
 * result must be the model's, every refusal must leave the digest
 * alone, and every string get returns must be the model's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include "pebble.h"
#include "host/det.h"

enum { NP = 4, HEAP = 16384 };

typedef struct M M;
struct M {
	int	attached;
	usize	budget;
	usize	used;
	int	flag[3];	/* encryption, audit, auto_wipe */
};

static const char *keys[] = {
	"pebble.secure.budget", "pebble.secure.encryption",
	"pebble.secure.audit", "pebble.secure.auto_wipe",
};

static const uchar	*in;
static usize	left;
static Proc	procs[NP];
static M	m[NP];
static int	enabled;
static usize	maxbudget;

#define FAIL(...) do{ fprintf(stderr, "fuzz/conf: "); fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); }while(0)

static uint
u8(void)
{
	if(left == 0)
		return 0;
	left--;
	return *in++;
}

/* the key's index, or -1: compared a byte at a time, by hand */
static int
modelkey(const char *s)
{
	int i, j;

	for(i = 0; i < 4; i++){
		for(j = 0; keys[i][j] != 0 && s[j] == keys[i][j]; j++)
			;
		if(keys[i][j] == 0 && s[j] == 0)
			return i;
	}
	return -1;
}

/* budget grammar; 0 if malformed */
static int
modelsize(const char *s, usize *v)
{
	unsigned __int128 n;
	int i, shift;

	n = 0;
	for(i = 0; s[i] >= '0' && s[i] <= '9'; i++){
		n = n*10 + (s[i] - '0');
		if(n > SIZE_MAX)
			n = (unsigned __int128)SIZE_MAX + 1;	/* stays too big */
	}
	if(i == 0)
		return 0;
	shift = 0;
	if(s[i] != 0 && strchr("kK", s[i]) != nil)
		shift = 10, i++;
	else if(s[i] != 0 && strchr("mM", s[i]) != nil)
		shift = 20, i++;
	else if(s[i] != 0 && strchr("gG", s[i]) != nil)
		shift = 30, i++;
	if(s[i] != 0)
		return 0;
	n <<= shift;
	if(n > SIZE_MAX)
		return 0;
	*v = (usize)n;
	return 1;
}

static int
modelset(int i, const char *key, const char *val)
{
	int k;
	usize v;

	v = 0;
	if(i < 0 || key == nil || val == nil || (k = modelkey(key)) < 0)
		return PEBBLE_ERR_INVALID;
	if(k == 0){
		if(!modelsize(val, &v))
			return PEBBLE_ERR_INVALID;
	}else if(!((val[0] == '0' || val[0] == '1') && val[1] == 0))
		return PEBBLE_ERR_INVALID;
	if(!enabled)
		return PEBBLE_ERR_PERM;
	if(!m[i].attached)
		return PEBBLE_ERR_NOTFOUND;
	if(k == 0){
		if(v < m[i].used)
			return PEBBLE_ERR_BUSY;
		if(v > maxbudget)
			return PEBBLE_ERR_BUDGET;
		m[i].budget = v;
	}else
		m[i].flag[k-1] = val[0] - '0';
	return PEBBLE_ERR_OK;
}

static void
checkget(int i)
{
	char want[32];
	const char *s;
	int k;

	for(k = 0; k < 4; k++){
		s = pebble_get_secure_conf(&procs[i], keys[k]);
		if(!m[i].attached){
			if(s != nil)
				FAIL("get %s on a detached proc gives %s", keys[k], s);
			continue;
		}
		if(k == 0)
			snprintf(want, sizeof want, "%zu", m[i].budget);
		else
			snprintf(want, sizeof want, "%d", m[i].flag[k-1]);
		if(s == nil || strcmp(s, want) != 0)
			FAIL("get %s on proc %d gives %s, want %s", keys[k], i, s ? s : "nil", want);
	}
}

/* a string from the input: raw bytes, or a grammar-shaped one */
static char*
str(char *buf, int n)
{
	static const char *sfx = "kKmMgG xb";
	int i, len;

	switch(u8() % 4){
	case 0:
		len = u8() % 24;
		for(i = 0; i < len && i < n-2; i++)
			buf[i] = '0' + u8() % 10;
		if(u8() & 1)
			buf[i++] = sfx[u8() % 9];
		buf[i] = 0;
		return buf;
	default:
		len = u8() % (n-1);
		for(i = 0; i < len; i++)
			buf[i] = u8();
		buf[len] = 0;
		return buf;
	}
}

/*
 * One instance for the whole run: an input starts from fresh areas
 * (detach, attach) and the default switches.  Making the instance anew
 * for each input would cost more than the input's calls; what carries
 * over (the audit ring, ids, the heap's layout) is nothing settings see.
 */
static void
setup(void)
{
	static int live;
	Pebbleconf c;
	int i;

	if(!live){
		detreset(1);
		memset(&c, 0, sizeof c);
		c.heapsize = HEAP;
		c.nproc = NP;
		c.auditsize = 16;
		c.budget = 4096;
		if(pebbleinit(&c) != 0)
			FAIL("pebbleinit");
		live = 1;
	}
	pebble_secure_enabled = enabled = 1;
	pebble_secure_max_budget = maxbudget = HEAP;
	for(i = 0; i < NP; i++){
		if(m[i].attached && pebble_secure_detach(&procs[i]) != 0)
			FAIL("detach");
		memset(&procs[i], 0, sizeof procs[i]);
		procs[i].slot = i;
		procs[i].pid = 10 + i;
		strcpy(procs[i].user, "glenda");
		memset(&m[i], 0, sizeof m[i]);
		if(i < NP-1){
			if(pebble_secure_attach(nil, &procs[i]) != 0)
				FAIL("attach");
			m[i].attached = 1;
			m[i].budget = 4096;
			m[i].flag[1] = m[i].flag[2] = 1;
		}
	}
	if(detblocks() > 64)
		FAIL("%ld host blocks held between inputs: a leak", detblocks());
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char kb[64], vb[64];
	const char *key, *val;
	int i, rc, want, nop;
	uvlong d;
	void *v;
	usize n;

	in = data;
	left = size;
	setup();
	for(nop = 0; left > 0 && nop < 200; nop++){
		i = u8() % (NP + 1);
		switch(u8() % 8){
		case 0:		/* the switches */
			enabled = u8() & 1;
			pebble_secure_enabled = enabled;
			break;
		case 1:
			maxbudget = (usize)1 << (u8() % 64);
			pebble_secure_max_budget = maxbudget;
			break;
		case 2:		/* usage, so that budgets below it are BUSY */
			if(i < NP && m[i].attached && enabled){
				n = u8() % 3000 + 1;
				rc = pebble_secure_alloc_simple(&procs[i], n, &v);
				if(rc == 0)
					m[i].used += n;
				else if(m[i].used + n <= m[i].budget && rc != PEBBLE_ERR_NOMEM)
					FAIL("alloc %zu within budget %zu (used %zu): %d", n, m[i].budget, m[i].used, rc);
			}
			break;
		default:
			key = u8() < 220 ? keys[u8() % 4] : str(kb, sizeof kb);
			val = str(vb, sizeof vb);
			if(u8() == 0)
				key = nil;
			if(u8() == 0)
				val = nil;
			d = pebble_secure_digest();
			rc = pebble_set_secure_conf(i < NP ? &procs[i] : nil, key, val);
			want = modelset(i < NP ? i : -1, key, val);
			if(rc != want)
				FAIL("set(%s, \"%s\") on proc %d gives %d, want %d", key ? key : "nil", val ? val : "nil", i, rc, want);
			if(rc != 0 && pebble_secure_digest() != d)
				FAIL("refused set(%s, \"%s\") changed state", key ? key : "nil", val ? val : "nil");
			if(pebble_get_secure_conf(nil, keys[0]) != nil || pebble_get_secure_conf(&procs[0], "pebble.secure") != nil)
				FAIL("get on nil proc or unknown key is not nil");
			if(i < NP)
				checkget(i);
			break;
		}
	}
	for(i = 0; i < NP; i++)
		checkget(i);
	return 0;
}
