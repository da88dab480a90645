/*
 * One turn of a simulated proc: the profile's mix picks an action,
 * and the action picks its arguments, now and then at a boundary
 * (swarm.c) or deliberately wrong, so that the error paths run too.
 */
#include "sim.h"
#include "wl.h"

static SAlloc*
pick(Vec *v)
{
	return v->n > 0 ? v->v[rbelow(&w.rw, v->n)] : nil;
}

/* an allocation p may write: its own, or one it holds WRITE on */
static SAlloc*
pickwritable(SProc *p)
{
	SAlloc *a;

	if(p->held.n > 0 && rchance(&w.rw, 300)){
		a = pick(&p->held);
		if(hasgrant(a, p) & PEBBLE_WRITE)
			return a;
	}
	return pick(&p->owned);
}

static SAlloc*
pickreadable(SProc *p)
{
	if(p->held.n > 0 && (p->owned.n == 0 || rchance(&w.rw, 500)))
		return pick(&p->held);
	return pick(&p->owned);
}

static SProc*
randproc(void)
{
	return sim.procs.n > 0 ? sim.procs.v[rbelow(&w.rw, sim.procs.n)] : nil;
}

static int
drawperm(void)
{
	static int perms[] = { 6, 6, 6, 6, 6, 4, 7, 2, 5 };

	return perms[rbelow(&w.rw, nelem(perms))];
}

static int
bound(void)
{
	return rchance(&w.rw, w.p.boundp);
}

/* offset and length of a touch: inside, now and then at or past the end */
static void
span(Ev *e, SAlloc *a)
{
	usize off, len;

	off = rbelow(&w.rw, a->size);
	len = 1 + rbelow(&w.rw, a->size - off < 256 ? a->size - off : 256);
	if(rchance(&w.rw, 15))
		len = a->size - off + 1 + rbelow(&w.rw, 16);
	if(bound()){
		if(a->size > 65536)
			off = a->size - 65536 + rbelow(&w.rw, 65536);
		len = boundlen(&w.rw, a, off);
	}
	if(len > 65536 && len <= a->size - off)
		len = 65536;
	e->n[0] = off;
	e->n[1] = len;
}

static void
actalloc(SProc *p, Ev *e)
{
	Ev *f;

	e->op = Oalloc;
	if(rchance(&w.rw, w.p.bigp))
		e->n[0] = rlog(&w.rw, w.p.biglo, w.p.bighi);
	else
		e->n[0] = rlog(&w.rw, w.p.szlo, w.p.szhi);
	e->n[1] = drawperm();
	if(bound())
		e->n[0] = boundsize(&w.rw, p, nil);
	else if(rchance(&w.rw, w.p.badp))
		e->n[0] = rchance(&w.rw, 500) ? 0 : p->limit - p->used + 1;
	if(rchance(&w.rw, w.p.badp / 2))
		e->n[1] = rchance(&w.rw, 500) ? 0 : 8 + rbelow(&w.rw, 8);
	e->h = w.nexth++;
	if(w.p.keyfill && p->depth == 0){
		/* a key server fills a new key at once */
		f = pend();
		f->pid = p->pid;
		f->op = Owrite;
		f->h = e->h;
		f->n[1] = e->n[0] > 0 && e->n[0] <= 65536 ? e->n[0] : 1;
	}
}

/*
 * someone's memory, most often another's, or a handle freed before:
 * mostly refused, and the refusal is checked
 */
static int
actprobe(Ev *e)
{
	static int ops[] = { Owrite, Oread, Ocheck, Oinfo, Ofree, Ofreesize, Owipe, Owipefree, Orevoke, Oaudit };
	SAlloc *a;
	SProc *q;

	if(w.ndead > 0 && rchance(&w.rw, 150))
		a = findalloc(w.dead[rbelow(&w.rw, w.ndead < 64 ? w.ndead : 64)]);
	else if(sim.live.n > 0)
		a = sim.live.v[rbelow(&w.rw, sim.live.n)];
	else
		return 0;
	e->h = a->h;
	e->op = ops[rchance(&w.rw, 700) ? rbelow(&w.rw, 4) : rbelow(&w.rw, nelem(ops))];
	switch(e->op){
	case Owrite:
	case Oread:
	case Ocheck:
		span(e, a);
		e->n[2] = rchance(&w.rw, w.p.badp) ? (rchance(&w.rw, 500) ? 0 : 8) : 1 << rbelow(&w.rw, 3);
		break;
	case Ofreesize:
	case Owipe:
	case Owipefree:
		e->n[0] = 1 + rbelow(&w.rw, a->size);
		break;
	case Orevoke:
		q = sim.procs.n > 0 ? sim.procs.v[rbelow(&w.rw, sim.procs.n)] : nil;
		e->peer = q != nil ? q->pid : e->pid;
		break;
	case Oaudit:
		e->n[0] = 1 + rbelow(&w.rw, 16);
		break;
	}
	return 1;
}

static int
actfree(SProc *p, Ev *e, int k)
{
	SAlloc *a;

	if(w.ndead > 0 && rchance(&w.rw, 20)){
		e->op = Ofree;
		e->h = w.dead[rbelow(&w.rw, w.ndead < 64 ? w.ndead : 64)];
		return 1;
	}
	if((a = pick(&p->owned)) == nil)
		return 0;
	e->h = a->h;
	w.dead[w.ndead++ % nelem(w.dead)] = a->h;
	switch(k){
	case Afree:
		e->op = Ofree;
		break;
	case Awipefree:
		e->op = Owipefree;
		e->n[0] = rchance(&w.rw, 500) ? 0 : rchance(&w.rw, 900) ? a->size : 1 + rbelow(&w.rw, a->size + 1);
		break;
	case Apartial:
		e->op = Ofreesize;
		e->n[0] = rchance(&w.rw, 30) ? a->size + 1 : 1 + rbelow(&w.rw, a->size);
		break;
	default:
		e->op = Owipe;
		e->n[0] = rchance(&w.rw, 400) ? 0 : 1 + rbelow(&w.rw, a->size + (rchance(&w.rw, 30) ? 8 : 0));
	}
	if(bound() && k != Afree)
		e->n[0] = boundlen(&w.rw, a, 0);
	return 1;
}

static int
actshare(SProc *p, Ev *e, int k)
{
	SAlloc *a;
	SProc *q;

	if((a = pick(&p->owned)) == nil)
		return 0;
	e->h = a->h;
	if(k == Arevoke){
		e->op = Orevoke;
		q = a->ng > 0 && rchance(&w.rw, 900) ? a->g[rbelow(&w.rw, a->ng)].holder : randproc();
		e->peer = q != nil ? q->pid : p->pid;
		return 1;
	}
	q = nil;
	if(p->parent != nil && rchance(&w.rw, w.p.shareup))
		q = p->parent;
	else if(p->parent == nil && p->pslot >= 0 && rchance(&w.rw, w.p.shareup))
		q = sim.slot[p->pslot];	/* whoever took its parent's slot: not its parent */
	else if(p->lastchild != 0 && rchance(&w.rw, 700))
		q = findproc(p->lastchild);
	if(q == nil || !q->alive)
		q = randproc();
	e->op = Oshare;
	e->peer = q != nil ? q->pid : p->pid;
	e->n[0] = w.p.rdonly ? PEBBLE_READ : a->prot & (rchance(&w.rw, 500) ? PEBBLE_READ|PEBBLE_WRITE : PEBBLE_READ);
	if(e->n[0] == 0 || rchance(&w.rw, 20))
		e->n[0] = drawperm();
	return 1;
}

static void
actconf(SProc *p, Ev *e)
{
	int n;

	n = rbelow(&w.rw, 4);
	strcpy(e->key, confkeys[n]);
	if(rchance(&w.rw, 300)){
		e->op = Ogetconf;
		if(rchance(&w.rw, w.p.badp))
			strcpy(e->key, "pebble.secure.nosuch");
		return;
	}
	e->op = Osetconf;
	if(n == 0)
		snprintf(e->val, sizeof e->val, "%luk", (ulong)((p->used >> 10) + rbelow(&w.rw, 2048)));
	else if(n == 3)
		strcpy(e->val, rchance(&w.rw, w.p.wipeoffp) ? "0" : "1");
	else if(n == 1)
		strcpy(e->val, (w.faults & Fpager) && rchance(&w.rw, 800) ? "1" : "0");
	else
		strcpy(e->val, rchance(&w.rw, 800) ? "1" : "0");
	if(bound() || rchance(&w.rw, w.p.badp))
		boundconf(&w.rw, e->val, sizeof e->val);
}

static int
choose(SProc *p)
{
	int *wt, tot, i, r;

	wt = p->depth == 0 ? w.p.rootmix : w.p.mix;
	tot = 0;
	for(i = 0; i < Nact; i++)
		tot += wt[i];
	r = rbelow(&w.rw, tot);
	for(i = 0; r >= wt[i]; i++)
		r -= wt[i];
	return i;
}

/* the action, where the state does not allow the one drawn */
static int
feasible(SProc *p, int k)
{
	/* at a boundary a fork may find the host's proc table full: NOMEM, no proc */
	if(k == Afork && (sim.procs.n >= w.procs || p->depth >= w.p.maxdepth) && !bound())
		k = Aalloc;
	if(k == Aexit && p->depth == 0)
		k = Astats;
	if(k == Aalloc && p->owned.n >= w.p.maxown)
		k = Afree;
	if(k != Aalloc && k != Afork && k != Aexit && k != Abudget && k != Aconf && k != Astats && k != Aprobe
	&& p->owned.n == 0 && p->held.n == 0)
		k = Aalloc;
	return k;
}

static char*
childuser(SProc *p)
{
	if(strcmp(p->user, "eve") == 0 && rchance(&w.rw, w.p.userp))
		return rchance(&w.rw, 500) ? "glenda" : "bootes";
	return p->user;
}

/* one turn of proc p: fills e */
void
act(SProc *p, Ev *e)
{
	SAlloc *a;
	int k;

	e->pid = p->pid;
	if(!p->attached && p->left > 2)
		p->left = 2;	/* forked while the subsystem was off: a turn or two, then exit */
	if(p->left-- <= 0){
		e->op = Oexit;
		return;
	}
	k = feasible(p, choose(p));
	if(!p->attached){
		/* whatever it asks, it is NOTFOUND: an unattached proc is no one to the core */
		static int un[] = { Aalloc, Abudget, Aconf, Astats, Afork, Aexit, Aprobe };
		k = un[rbelow(&w.rw, nelem(un))];
		if(k == Afork && (sim.procs.n >= w.procs || sim.nfree == 0))
			k = Astats;
	}
	switch(k){
	case Aalloc:
		actalloc(p, e);
		return;
	case Awrite:
	case Aread:
		if((a = k == Awrite ? pickwritable(p) : pickreadable(p)) == nil)
			break;
		e->op = k == Awrite ? Owrite : Oread;
		e->h = a->h;
		span(e, a);
		return;
	case Aprobe:
		if(actprobe(e))
			return;
		break;
	case Afree:
	case Awipefree:
	case Apartial:
	case Awipe:
		if(actfree(p, e, k))
			return;
		break;
	case Ashare:
	case Arevoke:
		if(actshare(p, e, k))
			return;
		break;
	case Ainfo:
	case Aaudit:
		if((a = pickreadable(p)) == nil)
			break;
		e->h = a->h;
		e->op = k == Ainfo ? Oinfo : Oaudit;
		if(k == Aaudit)
			e->n[0] = rchance(&w.rw, 20) ? 0 : 1 + rbelow(&w.rw, 64);
		return;
	case Abudget:
		k = rbelow(&w.rw, 3);
		e->op = k == 0 ? Obudgetset : k == 1 ? Obudgetinc : Obudgetdec;
		e->n[0] = k == 0 ? p->used + rbelow(&w.rw, p->limit + 1) : rbelow(&w.rw, p->limit/4 + 1);
		if(bound())
			e->n[0] = boundbudget(&w.rw, p, e->op);
		return;
	case Aconf:
		actconf(p, e);
		return;
	case Afork:
		p->lastchild = forkev(e, p, childuser(p));
		return;
	case Aexit:
		e->op = Oexit;
		return;
	}
	e->op = Ostats;
}
