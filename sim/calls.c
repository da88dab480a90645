/*
 * The executor's other calls (exec.c has the loop and the memory
 * calls): share and revoke, info, audit queries, budgets, settings,
 * exit, the host's switches, stats.  Each is expect (the rulebook) ->
 * call (the core) -> compare -> apply (the rulebook), then the checks.
 */
#include "sim.h"
#include "rules.h"

enum { OK = PEBBLE_ERR_OK };

vlong
xshare(Ev *e, SProc *p)
{
	SAlloc *a;
	SProc *q;
	Want w;
	vlong got;
	Proc *hp, *hq;
	int perms, same;

	if((a = handle(e)) == nil)
		return Rnone;
	q = findproc(e->peer);
	same = e->pid == e->peer;
	hp = hostproc(p, e->pid, 0);
	hq = same ? hp : hostproc(q, e->peer, 1);
	perms = e->op == Oshare ? (int)e->n[0] : 0;
	w = ruleshare(e->op, p, q, same, a->ptr, perms);
	guard(e, &w, 0);
	if(e->op == Oshare)
		got = pebble_secure_share(hp, hq, (void*)a->ptr, perms);
	else
		got = pebble_secure_revoke(hp, hq, (void*)a->ptr);
	if(compare(e, got, &w))
		applyshare(e->op, &w, q, perms);
	return got;
}

vlong
xinfo(Ev *e, SProc *p)
{
	SAlloc *a;
	SecureAllocation in;
	Want w;
	vlong got;

	if((a = handle(e)) == nil)
		return Rnone;
	w = ruleinfo(p, a->ptr);
	guard(e, &w, 0);
	got = pebble_secure_info(hostproc(p, e->pid, 0), (void*)a->ptr, &in);
	if(compare(e, got, &w))
		checkinfo(e, &in, w.t, w.have);
	return got;
}

vlong
xaudit(Ev *e, SProc *p)
{
	SAlloc *a;
	SecureAuditEntry ents[64], *ep;
	Want w;
	vlong got;
	int max;

	if((a = handle(e)) == nil)
		return Rnone;
	max = e->n[0];
	w = ruleaudit(p, a->ptr, max);
	guard(e, &w, 0);
	ep = max <= 64 ? ents : emalloc(max * sizeof *ep);
	got = pebble_secure_audit(hostproc(p, e->pid, 0), (void*)a->ptr, ep, max);
	if(w.r != OK)
		compare(e, got, &w);
	else
		checkaudit(e, w.t, ep, got, max);
	if(ep != ents)
		free(ep);
	return got;
}

vlong
xbudget(Ev *e, SProc *p)
{
	Want w;
	vlong got;
	Proc *hp;

	w = rulebudget(e->op, p, e->n[0]);
	guard(e, &w, 0);
	hp = hostproc(p, e->pid, 0);
	switch(e->op){
	case Obudgetset:	got = pebble_secure_budget_set(hp, e->n[0]); break;
	case Obudgetinc:	got = pebble_secure_budget_increase(hp, e->n[0]); break;
	default:		got = pebble_secure_budget_decrease(hp, e->n[0]); break;
	}
	if(compare(e, got, &w))
		applybudget(e->op, p, e->n[0]);
	return got;
}

vlong
xconf(Ev *e, SProc *p)
{
	Want w;
	vlong got;
	const char *s;
	char buf[32];

	if(e->op == Ogetconf){
		w.r = w.alt = rulegetconf(p, e->key, buf, sizeof buf);
		w.denied = 0;
		s = pebble_get_secure_conf(hostproc(p, e->pid, 0), e->key);
		got = s == nil ? PEBBLE_ERR_NOTFOUND : OK;
		want(e, got, &w);
		sim.inv[Igetconf]++;
		if(got == OK && w.r == OK && strcmp(buf, s) != 0)
			violation(e, "getconf %s is \"%s\", the rules say \"%s\"", e->key, s, buf);
		return got;
	}
	w = rulesetconf(p, e->key, e->val);
	guard(e, &w, 0);
	got = pebble_set_secure_conf(hostproc(p, e->pid, 0), e->key, e->val);
	if(compare(e, got, &w))
		applysetconf(p, &w);
	return got;
}

/* detach: what is not inherited is wiped; then nothing p freed unwiped may remain */
vlong
xexit(Ev *e, SProc *p)
{
	Want w;
	vlong got;
	SAlloc **own;
	int i, n;

	w = ruledetach(p);
	guard(e, &w, 0);
	got = pebble_secure_detach(hostproc(p, e->pid, 0));
	if(p == nil || !p->alive){
		want(e, got, &w);
		return got;
	}
	if(compare(e, got, &w)){
		n = p->owned.n;
		own = emalloc((n + 1) * sizeof *own);
		if(n > 0)
			memmove(own, p->owned.v, n * sizeof *own);
		touched = heirof(p);
		applydetach(p);
		for(i = 0; i < n && !sim.fail; i++)
			if(!own[i]->live)
				checkwiped(e, own[i], own[i]->ptr, own[i]->size);
		free(own);
		checkresidue(e, p);
	}
	procexit(p);
	return got;
}

vlong
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

vlong
xstats(Ev *e, SProc *p)
{
	PebbleSecureStats st;
	Want w;

	vlong got;

	w.r = w.alt = attached(p) ? OK : PEBBLE_ERR_NOTFOUND;
	w.denied = 0;
	got = pebble_secure_stats(hostproc(p, e->pid, 0), &st);
	want(e, got, &w);
	return got;	/* the figures are compared by checkproc after every event */
}
