/*
 * Executing one event: the call into the core, the shadow model's
 * prediction of its result (DESIGN.md section 2, check for check),
 * and the cheap checks that run after every event: the result, the
 * audit log's length, the acting procs' statistics, and the bytes of
 * every range the event touched.  Nothing here is random: the same
 * events give the same calls.
 */
#include <stdarg.h>
#include "sim.h"

char *resname[7] = { "OK", "NOMEM", "PERM", "NOTFOUND", "INVALID", "BUDGET", "BUSY" };

static Proc	ghost[2];
static SProc	*touched;	/* an owner whose statistics an event changed */

enum { OK = PEBBLE_ERR_OK, NOMEM = PEBBLE_ERR_NOMEM, PERM = PEBBLE_ERR_PERM,
	NOTFOUND = PEBBLE_ERR_NOTFOUND, INVALID = PEBBLE_ERR_INVALID,
	BUDGET = PEBBLE_ERR_BUDGET, BUSY = PEBBLE_ERR_BUSY };

void
violation(Ev *e, char *fmt, ...)
{
	va_list arg;

	if(sim.fail)
		return;
	sim.fail = Xcheck;
	sim.failev = sim.nev;
	sim.failed = e != nil ? *e : sim.cur;
	va_start(arg, fmt);
	vsnprintf(sim.msg, sizeof sim.msg, fmt, arg);
	va_end(arg);
}

/* a malformed trace found while running it: not the core's fault */
static void
tracebad(Ev *e, char *msg)
{
	if(sim.fail)
		return;
	sim.fail = Xparse;
	sim.failev = sim.nev;
	sim.failed = *e;
	snprintf(sim.msg, sizeof sim.msg, "%s", msg);
}

static char*
rs(vlong r, char *buf)
{
	return fmtres(buf, r, Oalloc);
}

static void
want(Ev *e, vlong got, vlong w, vlong alt)
{
	char b1[32], b2[32], b3[32];

	if(got == w || got == alt)
		return;
	if(alt != w)
		violation(e, "%s returned %s, the model expected %s or %s", opname[e->op], rs(got, b1), rs(w, b2), rs(alt, b3));
	else
		violation(e, "%s returned %s, the model expected %s", opname[e->op], rs(got, b1), rs(w, b2));
}

/* the host's Proc for pid: its slot's, or a ghost the core does not know */
static Proc*
hostproc(SProc *p, ulong pid, int which)
{
	Proc *g;

	if(p != nil && p->alive)
		return &sim.tab[p->slot];
	g = &ghost[which];
	memset(g, 0, sizeof *g);
	g->slot = 0;
	g->pid = pid;
	strcpy(g->user, p != nil ? p->user : "none");
	return g;
}

static int
attached(SProc *p)
{
	return p != nil && p->alive && p->attached;
}

static int
iseve(SProc *p)
{
	return strcmp(p->user, hosteve) == 0;
}

static int
badperm(vlong perm)
{
	return perm == 0 || (perm & ~PEBBLE_RWX) != 0;
}

int
iszero(uchar *p, usize n)
{
	static const uchar z[256];
	usize k;

	while(n > 0){
		k = n < sizeof z ? n : sizeof z;
		if(memcmp(p, z, k) != 0)
			return 0;
		p += k;
		n -= k;
	}
	return 1;
}

static uchar*
scratch(usize n)
{
	if(n > sim.nscratch){
		memset(sim.scratch, 0, sim.nscratch);	/* it held written bytes */
		free(sim.scratch);
		sim.nscratch = n;
		sim.scratch = emalloc(n);
	}
	return sim.scratch;
}

/* bytes released with a wipe must read zero at once */
static void
wiped(Ev *e, SAlloc *a, uintptr v, usize n)
{
	if(!iszero((uchar*)v, n))
		violation(e, "%lu bytes of #%llu released with a wipe are not zero", (ulong)n, a->h);
}

/* the pages under [v, v+n) back from swap, through the access check as a host would */
static void
pagein(Ev *e, SAlloc *a, uintptr v, usize n)
{
	int r;

	if(peekpagedout() == 0)
		return;
	r = pebble_secure_check(hostproc(a->owner, a->owner->pid, 1), (void*)v, n, a->prot & -a->prot);
	if(r != OK)
		violation(e, "the owner's access check on #%llu returned %s", a->h, resname[-r]);
}

static SAlloc*
handle(Ev *e)
{
	SAlloc *a;

	a = findalloc(e->h);
	if(a == nil && !sim.lenient)
		tracebad(e, "handle not defined by an earlier successful alloc");
	return a;
}

static vlong
xfork(Ev *e)
{
	SProc *p, *par;
	Proc *hp, *pp;
	vlong w, got;
	usize b;

	if(e->pid == 0 || findproc(e->pid) != nil){
		if(!sim.lenient)
			tracebad(e, "fork names a pid already used in this trace");
		return Rnone;
	}
	if(sim.nfree == 0)
		return NOMEM;	/* the host's proc table is full: no proc, no call */
	par = e->peer != 0 ? findproc(e->peer) : nil;
	p = emalloc(sizeof *p);
	p->pid = e->pid;
	p->slot = sim.freeslot[--sim.nfree];
	p->alive = 1;
	p->nowait = (e->flags & Fnowait) != 0;
	p->mem = (e->flags & Fmem) != 0;
	strcpy(p->user, e->user);
	p->parent = par != nil && par->alive ? par : nil;
	p->depth = p->parent != nil ? p->parent->depth + 1 : 0;
	mapput(&sim.pids, p->pid, p);
	p->pidx = sim.procs.n;
	vecpush(&sim.procs, p);
	sim.slot[p->slot] = p;
	hp = &sim.tab[p->slot];
	memset(hp, 0, sizeof *hp);
	hp->slot = p->slot;
	hp->pid = p->pid;
	strcpy(hp->user, p->user);
	hp->parent = p->parent != nil ? &sim.tab[p->parent->slot] : nil;
	hp->nowait = p->nowait;
	hp->aux = p;
	pp = e->peer != 0 ? hostproc(par, e->peer, 0) : nil;

	if(!sim.enabled)
		w = PERM;
	else if(e->peer != 0 && !attached(par))
		w = NOTFOUND;
	else
		w = OK;
	got = pebble_secure_attach(pp, hp);
	want(e, got, w, w);
	if(got != OK)
		return got;
	p->attached = 1;
	if(e->peer != 0){
		p->limit = par->limit;
		p->enc = par->enc;
		p->wipe = par->wipe;
		p->audit = par->audit;
	}else{
		b = sim.conf.budget;
		if(b > sim.conf.heap)
			b = sim.conf.heap;
		if(b > sim.maxbudget)
			b = sim.maxbudget;
		p->limit = b;
		p->enc = sim.encryption != 0;
		p->wipe = 1;
		p->audit = 1;
	}
	return got;
}

static vlong
xalloc(Ev *e, SProc *p)
{
	SAlloc *a, *n;
	vlong w, got;
	void *ptr;
	usize size;
	int perms;

	size = e->n[0];
	perms = e->n[1];
	if(size == 0 || badperm(e->n[1]))
		w = INVALID;
	else if(!sim.enabled)
		w = PERM;
	else if(!attached(p))
		w = NOTFOUND;
	else if(size > p->limit - p->used)
		w = BUDGET;
	else
		w = OK;
	ptr = nil;
	got = pebble_secure_alloc(hostproc(p, e->pid, 0), size, &ptr, perms);
	want(e, got, w, w == OK ? NOMEM : w);
	if(got != OK || w != OK)
		return got;
	if(findalloc(e->h) != nil){
		tracebad(e, "alloc names a handle already used in this trace");
		return got;
	}
	a = emalloc(sizeof *a);
	a->h = e->h;
	a->ptr = (uintptr)ptr;
	a->size = size;
	a->prot = perms;
	a->live = 1;
	a->owner = p;
	a->audited = p->audit && sim.auditing;
	a->id = modelid(p);
	a->time = e->time;
	a->auditbase = sim.audithead;
	mapput(&sim.handles, e->h + 1, a);
	if(a->ptr < sim.arena || a->ptr - sim.arena > sim.arenasize || size > sim.arena + sim.arenasize - a->ptr)
		violation(e, "#%llu lies outside the secure heap", a->h);
	else if((n = treefloor(a->ptr + size - 1)) != nil && n->ptr + n->size > a->ptr)
		violation(e, "#%llu overlaps the live #%llu", a->h, n->h);
	treeput(a);
	auditexp(a, 1);
	chargep(p, size);
	p->nalloc++;
	a->oidx = p->owned.n;
	vecpush(&p->owned, a);
	a->lidx = sim.live.n;
	vecpush(&sim.live, a);
	pagein(e, a, a->ptr, size);
	if(!sim.fail && !iszero((uchar*)a->ptr, size))
		violation(e, "new allocation #%llu does not read as zeros", a->h);
	return got;
}

/* the access check before a touch: which allocation, which result */
static vlong
access(Ev *e, SProc *p, uintptr v, usize len, int perm, SAlloc **tp)
{
	SAlloc *t;
	int have;

	*tp = nil;
	if(v == 0 || len == 0 || badperm(perm))
		return INVALID;
	if(!attached(p))
		return NOTFOUND;
	t = allocin(v);
	if(t == nil)
		return NOTFOUND;
	have = t->owner == p ? t->prot : hasgrant(t, p);
	if(have == 0){	/* a stranger learns nothing of the extent: PERM whatever len */
		auditexp(t, 1);	/* DENIED */
		return PERM;
	}
	if(len > t->ptr + t->size - v)
		return NOTFOUND;
	if((perm & ~have) != 0){
		auditexp(t, 1);	/* DENIED */
		return PERM;
	}
	*tp = t;
	return OK;
}

static vlong
xtouch(Ev *e, SProc *p)
{
	SAlloc *a, *t;
	uintptr v;
	usize len;
	vlong w, got;
	int perm;
	uchar *b;

	if((a = handle(e)) == nil)
		return Rnone;
	v = a->ptr + e->n[0];
	len = e->n[1];
	perm = e->op == Owrite ? PEBBLE_WRITE : e->op == Oread ? PEBBLE_READ : (int)e->n[2];
	w = access(e, p, v, len, perm, &t);
	got = pebble_secure_check(hostproc(p, e->pid, 0), (void*)v, len, perm);
	want(e, got, w, w);
	if(got != OK || t == nil)
		return got;
	if(e->op == Owrite){
		b = scratch(len);
		pattern(b, e->h, e->n[0], len);
		memmove((void*)v, b, len);
		shadowwrite(t, v - t->ptr, b, len);
	}else if(e->op == Oread){
		if(t->sh == nil ? !iszero((uchar*)v, len) : memcmp((void*)v, t->sh + (v - t->ptr), len) != 0)
			violation(e, "#%llu: %lu bytes at offset %lu differ from what was written", t->h, (ulong)len, (ulong)(v - t->ptr));
	}
	return got;
}

/* free or wipe_and_free of t in the model: grants go, bytes wiped or deferred */
static void
freemodel(Ev *e, SAlloc *t, int wipe)
{
	SProc *o;

	o = t->owner;
	auditexp(t, 1);
	if(wipe){
		o->wiped += t->size;
		sim.wiped += t->size;
		wiped(e, t, t->ptr, t->size);
	}else{
		o->deferred += t->size;
		sim.deferred += t->size;
	}
	unchargep(o, t->size);
	o->nalloc--;
	killalloc(t);
}

static vlong
xmemop(Ev *e, SProc *p)
{
	SAlloc *a, *t;
	uintptr v;
	usize n;
	vlong w, got;
	int ok;
	Proc *hp;

	if((a = handle(e)) == nil)
		return Rnone;
	v = a->ptr;
	n = e->op == Ofree ? 0 : e->n[0];
	t = nil;
	if(e->op == Ofreesize && n == 0)
		w = INVALID;
	else if(!attached(p))
		w = NOTFOUND;
	else if((t = allocat(v)) == nil)
		w = NOTFOUND;
	else{
		ok = t->owner == p || (e->op == Owipe && (hasgrant(t, p) & PEBBLE_WRITE));
		if(!ok)
			w = PERM;
		else if(n > t->size || (e->op == Owipefree && n != 0 && n != t->size))
			w = INVALID;
		else
			w = OK;
		if(w != OK)
			auditexp(t, 1);	/* DENIED */
	}
	hp = hostproc(p, e->pid, 0);
	switch(e->op){
	case Ofree:	got = pebble_secure_free(hp, (void*)v); break;
	case Ofreesize:	got = pebble_secure_free_size(hp, (void*)v, n); break;
	case Owipe:	got = pebble_secure_wipe(hp, (void*)v, n); break;
	default:	got = pebble_secure_wipe_and_free(hp, (void*)v, n); break;
	}
	want(e, got, w, w);
	if(got != OK || w != OK)
		return got;
	touched = t->owner;
	if(n == 0 || e->op == Owipefree)
		n = t->size;
	switch(e->op){
	case Owipe:
		auditexp(t, 1);
		shadowzero(t, 0, n);
		t->owner->wiped += n;
		sim.wiped += n;
		wiped(e, t, t->ptr, n);
		break;
	case Owipefree:
		freemodel(e, t, 1);
		break;
	default:
		if(n == t->size){
			freemodel(e, t, t->owner->wipe);
			break;
		}
		auditexp(t, 1);	/* PARTIAL_FREE */
		if(t->owner->wipe){
			t->owner->wiped += n;
			sim.wiped += n;
			wiped(e, t, t->ptr, n);
		}else{
			t->owner->deferred += n;
			sim.deferred += n;
		}
		unchargep(t->owner, n);
		/* nothing lies between the old start and the new: the tree keeps its order */
		t->ptr += n;
		t->size -= n;
		if(t->sh != nil)
			t->sh += n;
	}
	return got;
}

static vlong
xshare(Ev *e, SProc *p)
{
	SAlloc *a, *t;
	SProc *q;
	vlong w, got;
	Proc *hp, *hq;
	int perms, same;

	if((a = handle(e)) == nil)
		return Rnone;
	q = findproc(e->peer);
	same = e->pid == e->peer;
	hp = hostproc(p, e->pid, 0);
	hq = same ? hp : hostproc(q, e->peer, 1);
	perms = e->op == Oshare ? (int)e->n[0] : 0;
	t = nil;
	if(same || (e->op == Oshare && badperm(e->n[0])))
		w = INVALID;
	else if(e->op == Oshare && !sim.enabled)
		w = PERM;
	else if(!attached(p) || !attached(q))
		w = NOTFOUND;
	else if((t = allocat(a->ptr)) == nil)
		w = NOTFOUND;
	else if(t->owner != p || (perms & ~t->prot) != 0
	|| (e->op == Oshare && !iseve(p) && strcmp(p->user, q->user) != 0)){
		w = PERM;
		auditexp(t, 1);
	}else if(e->op == Orevoke && !hasgrant(t, q))
		w = NOTFOUND;
	else
		w = OK;
	if(e->op == Oshare)
		got = pebble_secure_share(hp, hq, (void*)a->ptr, perms);
	else
		got = pebble_secure_revoke(hp, hq, (void*)a->ptr);
	want(e, got, w, w == OK && e->op == Oshare && sim.failarmed && !hasgrant(t, q) ? NOMEM : w);
	if(got != OK || w != OK)
		return got;
	auditexp(t, 1);
	if(e->op == Oshare)
		addgrant(t, q, perms);
	else
		delgrant(t, q);
	return got;
}

static vlong
xinfo(Ev *e, SProc *p)
{
	SAlloc *a, *t;
	SecureAllocation in;
	vlong w, got;
	int have;

	if((a = handle(e)) == nil)
		return Rnone;
	t = nil;
	have = 0;
	if(!attached(p) || (t = allocat(a->ptr)) == nil)
		w = NOTFOUND;
	else if(t->owner != p && !hasgrant(t, p)){
		w = PERM;
		auditexp(t, 1);
	}else{
		w = OK;
		have = t->owner == p ? t->prot : hasgrant(t, p);
	}
	got = pebble_secure_info(hostproc(p, e->pid, 0), (void*)a->ptr, &in);
	want(e, got, w, w);
	if(got != OK || w != OK)
		return got;
	if(in.ptr != (void*)t->ptr || in.size != t->size || in.permissions != have
	|| in.pid != t->owner->pid || in.owner != &sim.tab[t->owner->slot]
	|| in.id != t->id || in.ngrants != t->ng || in.protection != t->prot
	|| in.alloc_time != t->time)
		violation(e, "info on #%llu: size %lu perms %d pid %lu id %llu grants %d prot %d time %llu; "
			"the model has size %lu perms %d pid %lu id %llu grants %d prot %d time %llu",
			t->h, (ulong)in.size, in.permissions, in.pid, in.id, in.ngrants, in.protection, in.alloc_time,
			(ulong)t->size, have, t->owner->pid, t->id, t->ng, t->prot, t->time);
	return got;
}

static vlong
xaudit(Ev *e, SProc *p)
{
	SAlloc *a, *t;
	SecureAuditEntry *ents;
	vlong w, got, lo, hi;
	int i, max;

	if((a = handle(e)) == nil)
		return Rnone;
	max = e->n[0];
	t = nil;
	if(max <= 0)
		w = INVALID;
	else if(!attached(p) || (t = allocat(a->ptr)) == nil)
		w = NOTFOUND;
	else if(t->owner != p && !iseve(p)){
		w = PERM;
		auditexp(t, 1);
	}else
		w = OK;
	ents = emalloc((max > 0 ? max : 1) * sizeof *ents);
	got = pebble_secure_audit(hostproc(p, e->pid, 0), (void*)a->ptr, ents, max);
	if(w != OK)
		want(e, got, w, w);
	else{
		/* all of its entries while the ring has not wrapped past them, else no more */
		hi = t->audited ? t->naudit : 0;
		if(hi > max)
			hi = max;
		lo = hi;
		if(sim.audithead - t->auditbase > peekauditsize())
			lo = 0;
		if(got < lo || got > hi)
			violation(e, "audit of #%llu returned %lld entries, the model expected %lld..%lld", t->h, got, lo, hi);
		for(i = 0; i < got && i < max && !sim.fail; i++){
			if(ents[i].operation < PEBBLE_AUDIT_ALLOC || ents[i].operation > PEBBLE_AUDIT_EXIT)
				violation(e, "audit entry %d of #%llu has operation %d", i, t->h, ents[i].operation);
			else if(ents[i].timestamp > e->time || (i > 0 && ents[i].timestamp < ents[i-1].timestamp))
				violation(e, "audit entry %d of #%llu is out of time order", i, t->h);
			else if(i == 0 && lo == hi && ents[i].operation != PEBBLE_AUDIT_ALLOC)
				violation(e, "the first audit entry of #%llu is not its ALLOC", t->h);
		}
	}
	free(ents);
	return got;
}

static vlong
xbudget(Ev *e, SProc *p)
{
	vlong w, got;
	usize v;
	Proc *hp;

	v = e->n[0];
	hp = hostproc(p, e->pid, 0);
	if(e->op != Obudgetdec && !sim.enabled)
		w = PERM;
	else if(!attached(p))
		w = NOTFOUND;
	else switch(e->op){
	case Obudgetset:
		w = v < p->used ? BUSY : v > sim.maxbudget ? BUDGET : OK;	/* DESIGN's order: busy, then budget */
		break;
	case Obudgetinc:
		w = v > sim.maxbudget || p->limit > sim.maxbudget - v ? BUDGET : OK;
		break;
	default:
		w = v > p->limit ? INVALID : p->limit - v < p->used ? BUSY : OK;
	}
	switch(e->op){
	case Obudgetset:	got = pebble_secure_budget_set(hp, v); break;
	case Obudgetinc:	got = pebble_secure_budget_increase(hp, v); break;
	default:		got = pebble_secure_budget_decrease(hp, v); break;
	}
	want(e, got, w, w);
	if(got != OK || w != OK)
		return got;
	if(e->op == Obudgetset)
		p->limit = v;
	else if(e->op == Obudgetinc)
		p->limit += v;
	else
		p->limit -= v;
	return got;
}

static char *confkeys[] = { "pebble.secure.budget", "pebble.secure.encryption", "pebble.secure.audit", "pebble.secure.auto_wipe" };

static int
confkey(char *k)
{
	int i;

	for(i = 0; i < 4; i++)
		if(strcmp(k, confkeys[i]) == 0)
			return i;
	return -1;
}

/* the core's rule: decimal bytes with an optional k, m or g */
static int
confsize(char *s, usize *v)
{
	usize n, mul;
	int nd, d;

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
	if(*s == 'k' || *s == 'K')
		mul = 1ULL<<10, s++;
	else if(*s == 'm' || *s == 'M')
		mul = 1ULL<<20, s++;
	else if(*s == 'g' || *s == 'G')
		mul = 1ULL<<30, s++;
	if(*s != 0 || n > (usize)-1 / mul)
		return -1;
	*v = n * mul;
	return 0;
}

static vlong
xconf(Ev *e, SProc *p)
{
	vlong w, got;
	usize v;
	int k, b;
	const char *s;
	char buf[32];

	k = confkey(e->key);
	if(e->op == Ogetconf){
		s = pebble_get_secure_conf(hostproc(p, e->pid, 0), e->key);
		got = s == nil ? NOTFOUND : OK;
		w = k < 0 || !attached(p) ? NOTFOUND : OK;
		want(e, got, w, w);
		if(got == OK && w == OK){
			if(k == 0)
				snprintf(buf, sizeof buf, "%lu", (ulong)p->limit);
			else
				snprintf(buf, sizeof buf, "%d", k == 1 ? p->enc : k == 2 ? p->audit : p->wipe);
			if(strcmp(buf, s) != 0)
				violation(e, "getconf %s is \"%s\", the model has \"%s\"", e->key, s, buf);
		}
		return got;
	}
	v = 0;
	b = -1;
	if(k == 0 && confsize(e->val, &v) == 0)
		b = 0;
	else if(k > 0 && (strcmp(e->val, "0") == 0 || strcmp(e->val, "1") == 0))
		b = e->val[0] - '0';
	if(k < 0 || b < 0)
		w = INVALID;
	else if(!sim.enabled)
		w = PERM;
	else if(!attached(p))
		w = NOTFOUND;
	else if(k == 0)
		w = v < p->used ? BUSY : v > sim.maxbudget ? BUDGET : OK;
	else
		w = OK;
	got = pebble_set_secure_conf(hostproc(p, e->pid, 0), e->key, e->val);
	want(e, got, w, w);
	if(got != OK || w != OK)
		return got;
	switch(k){
	case 0:	p->limit = v; break;
	case 1:	p->enc = b; break;
	case 2:	p->audit = b; break;
	case 3:	p->wipe = b; break;
	}
	return got;
}

static int
byid(const void *a, const void *b)
{
	SAlloc *x, *y;

	x = *(SAlloc**)a;
	y = *(SAlloc**)b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* detach's model: drop held grants, pass what the parent holds, free the rest */
static void
exitmodel(Ev *e, SProc *p)
{
	SProc *pa;
	SAlloc *x, **heirs;
	int i, n;

	while(p->held.n > 0){
		x = p->held.v[p->held.n-1];
		auditexp(x, 1);	/* REVOKE */
		delgrant(x, p);
	}
	pa = p->nowait ? nil : p->parent;
	if(pa != nil && !attached(pa))
		pa = nil;
	if(pa != nil){
		heirs = emalloc((p->owned.n + 1) * sizeof *heirs);
		for(n = i = 0; i < p->owned.n; i++){
			x = p->owned.v[i];
			if(hasgrant(x, pa))
				heirs[n++] = x;
		}
		qsort(heirs, n, sizeof *heirs, byid);
		for(i = 0; i < n; i++){
			x = heirs[i];
			if(x->size > pa->limit - pa->used)
				continue;
			auditexp(x, 1);	/* INHERIT */
			unchargep(p, x->size);
			p->nalloc--;
			chargep(pa, x->size);
			pa->nalloc++;
			delgrant(x, pa);
			vecdel(&p->owned, x->oidx);
			if(x->oidx < p->owned.n)
				((SAlloc*)p->owned.v[x->oidx])->oidx = x->oidx;
			x->owner = pa;
			x->oidx = pa->owned.n;
			vecpush(&pa->owned, x);
		}
		free(heirs);
		touched = pa;
	}
	while(p->owned.n > 0){
		x = p->owned.v[p->owned.n-1];
		auditexp(x, 1);	/* EXIT */
		p->wiped += x->size;
		sim.wiped += x->size;
		wiped(e, x, x->ptr, x->size);
		unchargep(p, x->size);
		p->nalloc--;
		killalloc(x);
	}
	/* DESIGN.md: deferred wipes happen at exit and count in total_wiped; the system's totals keep them */
	p->wiped += p->deferred;
	sim.wiped += p->deferred;
	sim.exitwiped += p->wiped;
	sim.exitdeferred += p->deferred;
	p->attached = 0;
}

static vlong
xexit(Ev *e, SProc *p)
{
	vlong got, w;
	SProc *c;
	int i;

	w = attached(p) ? OK : NOTFOUND;
	got = pebble_secure_detach(hostproc(p, e->pid, 0));
	want(e, got, w, w);
	if(p == nil || !p->alive)
		return got;
	if(got == OK && w == OK)
		exitmodel(e, p);
	/* the host: the proc is gone, its children are orphans, its slot is free */
	for(i = 0; i < sim.procs.n; i++){
		c = sim.procs.v[i];
		if(c->parent == p){
			c->parent = nil;
			sim.tab[c->slot].parent = nil;
		}
	}
	p->alive = 0;
	p->attached = 0;
	memset(&sim.tab[p->slot], 0, sizeof(Proc));
	sim.tab[p->slot].slot = p->slot;
	sim.slot[p->slot] = nil;
	sim.freeslot[sim.nfree++] = p->slot;
	c = sim.procs.v[sim.procs.n-1];
	c->pidx = p->pidx;
	vecdel(&sim.procs, p->pidx);
	return got;
}

static vlong
xsys(Ev *e)
{
	vlong got;

	got = OK;
	switch(e->op){
	case Oenable:
		pebble_secure_enabled = sim.enabled = e->n[0] != 0;
		break;
	case Omaxbudget:
		pebble_secure_max_budget = sim.maxbudget = e->n[0];
		break;
	case Oencryption:
		pebble_secure_encryption = sim.encryption = e->n[0] != 0;
		break;
	case Oauditing:
		pebble_secure_auditing = sim.auditing = e->n[0] != 0;
		break;
	case Opageout:
		got = pebble_secure_pageout(e->n[0]);
		if(got < 0 || (uvlong)got > e->n[0])
			violation(e, "pageout of %llu pages returned %lld", e->n[0], got);
		sim.pagedout += got > 0 ? got : 0;
		if(got > 0 && detswapcount() <= 512)
			checkswap(e);
		break;
	case Ofailmalloc:
		detfailmalloc(e->n[0]);
		sim.failarmed = 1;
		break;
	}
	return got;
}

int
countop(int op)
{
	return op == Oaudit || op == Opageout;
}

vlong
normres(vlong r)
{
	return r;
}

/* the figures themselves are compared by checkproc after every event */
static vlong
xstats(Ev *e, SProc *p)
{
	PebbleSecureStats st;
	vlong w, got;

	w = attached(p) ? OK : NOTFOUND;
	got = pebble_secure_stats(hostproc(p, e->pid, 0), &st);
	want(e, got, w, w);
	return got;
}

static vlong
dispatch(Ev *e)
{
	SProc *p;

	if(e->op == Ofork)
		return xfork(e);
	if(e->op >= Oenable)
		return xsys(e);
	p = findproc(e->pid);
	if(sim.lenient && (p == nil || !p->alive))
		return Rnone;
	touched = nil;
	switch(e->op){
	case Oalloc:	return xalloc(e, p);
	case Owrite:
	case Oread:
	case Ocheck:	return xtouch(e, p);
	case Ofree:
	case Ofreesize:
	case Owipe:
	case Owipefree:	return xmemop(e, p);
	case Oshare:
	case Orevoke:	return xshare(e, p);
	case Oinfo:	return xinfo(e, p);
	case Ostats:	return xstats(e, p);
	case Oaudit:	return xaudit(e, p);
	case Obudgetset:
	case Obudgetinc:
	case Obudgetdec:	return xbudget(e, p);
	case Osetconf:
	case Ogetconf:	return xconf(e, p);
	case Oexit:
	case Okill:	return xexit(e, p);
	}
	return Rnone;
}

/*
 * Run e: the core call, the model's prediction, the cheap checks.
 * Returns the result (Rnone if the event was skipped); sim.fail says
 * whether anything broke.
 */
int
execev(Ev *e)
{
	vlong got;
	uvlong d0;
	long m0;
	int sandwich, armed, full;
	SProc *p;
	PebbleSysStats s0, s1;
	char b1[32], b2[32];

	detsetclock(e->time);
	sim.cur = *e;
	armed = sim.failarmed && e->op != Ofailmalloc;
	/*
	 * A failed call changes nothing.  The digest hashes the whole arena,
	 * so it is taken around the first event after each full scan and
	 * around every 8th injected metadata failure; the other injected
	 * failures compare the system statistics (metadata bytes included).
	 */
	sandwich = (sim.sandwichnext || armed) && e->op < Oenable && e->op != Ofork && !countop(e->op);
	full = sandwich && (sim.sandwichnext || sim.ops[Ofailmalloc] % 8 == 1);
	d0 = full ? pebble_secure_digest() : 0;
	if(sandwich && !full)
		pebble_secure_sysstats(&s0);
	sim.sandwichnext = 0;
	m0 = detmallocs();
	touched = nil;
	got = dispatch(e);
	if(got == Rnone){
		if(armed){
			detfailmalloc(0);
			sim.failarmed = 0;
		}
		return Rnone;
	}
	sim.nev++;
	sim.ops[e->op]++;
	if(got >= 0 && countop(e->op))
		sim.res[7]++;
	else if(got <= 0 && got > -7)
		sim.res[-got]++;
	/* heap NOMEM may hand back cached empty runs: only an injected one is held to "nothing" */
	if(sandwich && got < 0 && !sim.fail && (got != NOMEM || (armed && detmallocs() > m0))){
		sim.sandwiches++;
		if(full && pebble_secure_digest() != d0)
			violation(e, "%s failed with %s but changed the core's state", opname[e->op], resname[-got]);
		if(!full){
			pebble_secure_sysstats(&s1);
			s0.audit_logged = s1.audit_logged;	/* a denial may be logged */
			s0.audit_dropped = s1.audit_dropped;
			if(memcmp(&s0, &s1, sizeof s0) != 0)
				violation(e, "%s failed with %s but changed the system statistics", opname[e->op], resname[-got]);
		}
	}
	if(armed){
		detfailmalloc(0);
		sim.failarmed = 0;
	}
	if(!sim.fail && peekaudithead() != sim.audithead)
		violation(e, "the audit log has %llu entries, the model expected %llu", peekaudithead(), sim.audithead);
	p = findproc(e->pid);
	if(!sim.fail && p != nil)
		checkproc(p, e);
	if(!sim.fail && touched != nil && touched != p)
		checkproc(touched, e);
	if(!sim.fail && e->result != Rnone && e->result != got && !sim.lenient){
		sim.fail = Xdiverge;
		sim.failev = sim.nev;
		sim.failed = *e;
		snprintf(sim.msg, sizeof sim.msg, "expected %s, got %s", fmtres(b1, e->result, e->op), fmtres(b2, got, e->op));
	}
	if(!sim.fail && sim.nev % sim.scanevery == 0)
		checkfull(sim.nev % (8*(uvlong)sim.scanevery) == 0);
	return got;
}
