/*
 * Settings: the system switches (the seed's variables) and the four
 * per-proc keys of getconf/setconf.  A value is parsed whole before
 * anything changes; the strings handed back are canonical and live in
 * the area, so they stay valid until the key is set again.
 */
#include "pebble.h"
#include "dat.h"
#include "fns.h"

int	pebble_secure_enabled = 1;
usize	pebble_secure_max_budget = PEBBLE_DEFHEAP;
int	pebble_secure_encryption = 0;
int	pebble_secure_auditing = 1;

enum {
	Kbudget,
	Kencrypt,
	Kaudit,
	Kwipe,
};

static char *keys[NCONF] = {
	[Kbudget]	PEBBLE_CONF_BUDGET,
	[Kencrypt]	PEBBLE_CONF_ENCRYPTION,
	[Kaudit]	PEBBLE_CONF_AUDIT,
	[Kwipe]		PEBBLE_CONF_AUTOWIPE,
};

static int
lookkey(const char *key)
{
	int i;

	for(i = 0; i < NCONF; i++)
		if(strcmp(key, keys[i]) == 0)
			return i;
	return -1;
}

static void
utoa(char *buf, uvlong v)
{
	char tmp[CONFLEN];
	int n;

	n = 0;
	do
		tmp[n++] = '0' + v%10;
	while((v /= 10) != 0);
	while(n > 0)
		*buf++ = tmp[--n];
	*buf = 0;
}

/* decimal bytes with an optional k, m or g: -1 if malformed or too big */
static int
parsesize(const char *s, usize *v)
{
	usize n, mul;
	int d, nd;

	n = 0;
	for(nd = 0; s[nd] >= '0' && s[nd] <= '9'; nd++){
		d = s[nd] - '0';
		if(n > ((usize)-1 - d) / 10)
			return -1;
		n = n*10 + d;
	}
	if(nd == 0)
		return -1;
	s += nd;
	mul = 1;
	switch(*s){
	case 'k': case 'K': mul = 1ULL<<10; s++; break;
	case 'm': case 'M': mul = 1ULL<<20; s++; break;
	case 'g': case 'G': mul = 1ULL<<30; s++; break;
	}
	if(*s != 0 || n > (usize)-1 / mul)
		return -1;
	*v = n * mul;
	return 0;
}

static int
parsebool(const char *s)
{
	if(s[0] == '0' && s[1] == 0)
		return 0;
	if(s[0] == '1' && s[1] == 0)
		return 1;
	return -1;
}

void
confsync(Area *a)
{
	utoa(a->conf[Kbudget], a->budget.limit);
	utoa(a->conf[Kencrypt], a->rd.encrypted);
	utoa(a->conf[Kaudit], a->audit);
	utoa(a->conf[Kwipe], a->rd.wipe_on_free);
}

/* a new area's settings: its parent's, or the system's */
void
confdefaults(Area *a, Area *parent)
{
	if(parent != nil){
		a->budget.limit = parent->budget.limit;
		a->rd.encrypted = parent->rd.encrypted;
		a->rd.wipe_on_free = parent->rd.wipe_on_free;
		a->audit = parent->audit;
	}else{
		a->budget.limit = pb->conf.budget;
		if(a->budget.limit > pebble_secure_max_budget)
			a->budget.limit = pebble_secure_max_budget;
		a->rd.encrypted = pebble_secure_encryption != 0;
		a->rd.wipe_on_free = 1;
		a->audit = 1;
	}
	a->rd.total_size = a->budget.limit;
	confsync(a);
}

const char*
pebble_get_secure_conf(Proc *p, const char *key)
{
	Area *a;
	int k;

	if(p == nil || key == nil || pb == nil || (k = lookkey(key)) < 0)
		return nil;
	if((a = procarea(p)) == nil)
		return nil;
	return a->conf[k];
}

int
pebble_set_secure_conf(Proc *p, const char *key, const char *value)
{
	Area *a;
	int k, b, err;
	usize v;

	if(p == nil || key == nil || value == nil || pb == nil || (k = lookkey(key)) < 0)
		return PEBBLE_ERR_INVALID;
	b = 0;
	v = 0;
	if(k == Kbudget ? parsesize(value, &v) < 0 : (b = parsebool(value)) < 0)
		return PEBBLE_ERR_INVALID;
	if(!pebble_secure_enabled)
		return PEBBLE_ERR_PERM;
	if((a = procarea(p)) == nil)
		return PEBBLE_ERR_NOTFOUND;
	wlock(&a->rd.lock);
	err = PEBBLE_ERR_OK;
	if(a->state != Alive)
		err = PEBBLE_ERR_NOTFOUND;
	else switch(k){
	case Kbudget:
		err = budgetset(a, v);
		break;
	case Kencrypt:
		if(!b)
			pageinall(a);
		a->rd.encrypted = b;
		break;
	case Kaudit:
		a->audit = b;
		break;
	case Kwipe:
		a->rd.wipe_on_free = b;
		break;
	}
	if(err == PEBBLE_ERR_OK)
		confsync(a);
	wunlock(&a->rd.lock);
	return err;
}
