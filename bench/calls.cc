/*
 * Every call of the API, one at a time: calls/NAME/size:N.
 *
 * A call that needs its inverse before it can run again (alloc needs
 * a free, share a revoke) runs on a batch: Batch calls are timed, then
 * the timer stops while the batch is undone.  Stopping the timer
 * costs about a microsecond, spread over Batch calls.  The pairs
 * (calls/alloc+free ...) time both halves together, with nothing
 * stopped.  Every call runs on Pmain (auto_wipe on, audit off) except
 * audit, which needs a proc with audit on.
 */
#include "bench.h"

enum { Batch = 256 };

static Proc *me() { return proc(Pmain); }
static Proc *peer() { return proc(Ppeer); }

static bool
allocbatch(benchmark::State &st, Proc *p, std::vector<void*> &v, size_t n)
{
	int r;

	v.resize(Batch);
	for(auto &x : v)
		if((r = pebble_secure_alloc(p, n, &x, PEBBLE_READ|PEBBLE_WRITE)) != 0){
			benchfail(st, "alloc", r);
			return false;
		}
	return true;
}

static void
freebatch(Proc *p, std::vector<void*> &v)
{
	for(auto x : v)
		pebble_secure_free(p, x);
}

/* alloc or alloc_simple, freed in batches with the timer stopped */
template<bool simple> static void
alloc(benchmark::State &st)
{
	size_t n = st.range(0);
	void *v[Batch];
	int k = 0, r;

	for(auto _ : st){
		r = simple ? pebble_secure_alloc_simple(me(), n, &v[k])
			: pebble_secure_alloc(me(), n, &v[k], PEBBLE_READ|PEBBLE_WRITE);
		if(r != 0){
			benchfail(st, "alloc", r);
			break;
		}
		if(++k == Batch){
			st.PauseTiming();
			for(k = 0; k < Batch; k++)
				pebble_secure_free(me(), v[k]);
			k = 0;
			st.ResumeTiming();
		}
	}
	while(k > 0)
		pebble_secure_free(me(), v[--k]);
}

/* the four ways to release: free, free_size (whole), wipe_and_free (whole or size) */
enum { Free, Freesize, Wipefree };

template<int op> static void
release(benchmark::State &st)
{
	size_t n = st.range(0);
	std::vector<void*> v;
	int k = 0, r = 0;

	if(!allocbatch(st, me(), v, n))
		return;
	for(auto _ : st){
		switch(op){
		case Free:	r = pebble_secure_free(me(), v[k]); break;
		case Freesize:	r = pebble_secure_free_size(me(), v[k], n); break;
		case Wipefree:	r = pebble_secure_wipe_and_free(me(), v[k], n); break;
		}
		if(r != 0){
			benchfail(st, "release", r);
			v.erase(v.begin(), v.begin() + k + 1);
			freebatch(me(), v);
			return;
		}
		if(++k == Batch){
			st.PauseTiming();
			if(!allocbatch(st, me(), v, n))
				return;
			k = 0;
			st.ResumeTiming();
		}
	}
	v.erase(v.begin(), v.begin() + k);
	freebatch(me(), v);
}

/* alloc and release together, nothing stopped */
template<int op> static void
pairs(benchmark::State &st)
{
	size_t n = st.range(0);
	void *v;
	int r;

	for(auto _ : st){
		if((r = pebble_secure_alloc(me(), n, &v, PEBBLE_READ|PEBBLE_WRITE)) != 0){
			benchfail(st, "alloc", r);
			break;
		}
		switch(op){
		case Free:	r = pebble_secure_free(me(), v); break;
		case Freesize:	r = pebble_secure_free_size(me(), v, n); break;
		case Wipefree:	r = pebble_secure_wipe_and_free(me(), v, n); break;
		}
		if(r != 0){
			benchfail(st, "release", r);
			break;
		}
	}
	st.SetItemsProcessed(st.iterations());
}

/* one allocation that the call works on, made before and freed after */
struct One {
	void	*v = nullptr;
	Proc	*p;
	One(benchmark::State &st, Proc *q, size_t n) : p(q) {
		int r = pebble_secure_alloc(p, n, &v, PEBBLE_READ|PEBBLE_WRITE);
		if(r != 0){
			benchfail(st, "alloc", r);
			v = nullptr;
		}
	}
	~One() { if(v != nullptr) pebble_secure_free(p, v); }
};

/* false, and the benchmark stopped, if a call failed */
static bool
ok(benchmark::State &st, int r, const char *what)
{
	if(r < 0)
		benchfail(st, what, r);
	return r >= 0;
}

static void
wipe(benchmark::State &st)
{
	One a(st, me(), st.range(0));

	if(a.v != nullptr)
		for(auto _ : st)
			if(int r = pebble_secure_wipe(me(), a.v, st.range(0))){
				benchfail(st, "wipe", r);
				break;
			}
	st.SetBytesProcessed(st.iterations() * st.range(0));
}

/* share (or revoke) Batch allocations with peer; the timer stops to undo */
template<bool share> static void
grant(benchmark::State &st)
{
	size_t n = st.range(0);
	std::vector<void*> v;
	int k = 0, r;

	if(!allocbatch(st, me(), v, n))
		return;
	if(!share)
		for(auto x : v)
			pebble_secure_share(me(), peer(), x, PEBBLE_READ);
	for(auto _ : st){
		r = share ? pebble_secure_share(me(), peer(), v[k], PEBBLE_READ)
			: pebble_secure_revoke(me(), peer(), v[k]);
		if(r != 0){
			benchfail(st, share ? "share" : "revoke", r);
			break;
		}
		if(++k == Batch){
			st.PauseTiming();
			for(auto x : v)
				share ? pebble_secure_revoke(me(), peer(), x)
					: pebble_secure_share(me(), peer(), x, PEBBLE_READ);
			k = 0;
			st.ResumeTiming();
		}
	}
	freebatch(me(), v);
}

/* the access check, by the owner and by a proc holding a grant */
template<bool owner> static void
check(benchmark::State &st)
{
	size_t n = st.range(0);
	One a(st, me(), n);
	Proc *by = owner ? me() : peer();

	if(a.v == nullptr)
		return;
	if(!owner && pebble_secure_share(me(), peer(), a.v, PEBBLE_READ) != 0){
		st.SkipWithError("share");
		return;
	}
	for(auto _ : st)
		if(int r = pebble_secure_check(by, a.v, n, PEBBLE_READ)){
			benchfail(st, "check", r);
			break;
		}
}

/* pin then unpin by the owner: what a threaded host pays to make an access safe from the pager */
static void
pinunpin(benchmark::State &st)
{
	size_t n = st.range(0);
	One a(st, me(), n);

	if(a.v == nullptr)
		return;
	for(auto _ : st){
		if(int r = pebble_secure_pin(me(), a.v, n, PEBBLE_READ)){
			benchfail(st, "pin", r);
			break;
		}
		if(int r = pebble_secure_unpin(me(), a.v, n)){
			benchfail(st, "unpin", r);
			break;
		}
	}
}

static void
info(benchmark::State &st)
{
	One a(st, me(), st.range(0));
	SecureAllocation si;

	if(a.v != nullptr)
		for(auto _ : st){
			if(!ok(st, pebble_secure_info(me(), a.v, &si), "pebble_secure_info"))
			break;
			benchmark::DoNotOptimize(si);
		}
}

static void
stats(benchmark::State &st)
{
	PebbleSecureStats s;

	for(auto _ : st){
		if(!ok(st, pebble_secure_stats(me(), &s), "pebble_secure_stats"))
			break;
		benchmark::DoNotOptimize(s);
	}
}

static void
sysstats(benchmark::State &st)
{
	PebbleSysStats s;

	for(auto _ : st){
		if(!ok(st, pebble_secure_sysstats(&s), "pebble_secure_sysstats"))
			break;
		benchmark::DoNotOptimize(s);
	}
}

/*
 * audit(p, ptr, ...) reads the log ring for ptr's entries: its cost
 * depends on how full the ring is, so the ring is filled first by
 * other audited allocations (arg fill: entries logged before).
 */
static void
audit(benchmark::State &st)
{
	Proc *p = proc(Paudit);
	long fill = st.range(0);
	SecureAuditEntry e[16];
	void *v, *w;
	int r;

	if((r = pebble_secure_alloc(p, 64, &v, PEBBLE_READ|PEBBLE_WRITE)) != 0){
		benchfail(st, "alloc", r);
		return;
	}
	for(long i = 0; i < fill/2; i++)
		if(pebble_secure_alloc(p, 64, &w, PEBBLE_READ) == 0)
			pebble_secure_free(p, w);
	pebble_secure_wipe(p, v, 64);	/* an entry of v's that the filling did not push out */
	for(auto _ : st){
		r = pebble_secure_audit(p, v, e, 16);
		if(r < 1){
			benchfail(st, "audit", r < 0 ? r : PEBBLE_ERR_NOTFOUND);
			break;
		}
	}
	pebble_secure_free(p, v);
}

static void
budgetget(benchmark::State &st)
{
	for(auto _ : st)
		benchmark::DoNotOptimize(pebble_secure_budget_get(me()));
}

static void
budgetset(benchmark::State &st)
{
	long k = 0;

	/* alternate between two values, so each call changes the limit */
	for(auto _ : st)
		if(!ok(st, pebble_secure_budget_set(me(), Heapsize - (++k & 1)*4096), "pebble_secure_budget_set"))
			break;
	pebble_secure_budget_set(me(), Heapsize);
}

/* increase and decrease move the limit by 4 KiB; the timer stops to put it back */
template<bool up> static void
budgetmove(benchmark::State &st)
{
	long k = 0;

	if(up)
		pebble_secure_budget_set(me(), Heapsize/2);
	for(auto _ : st){
		if(!ok(st, up ? pebble_secure_budget_increase(me(), 4096) : pebble_secure_budget_decrease(me(), 4096), "budget"))
			break;
		if(++k == Batch){
			st.PauseTiming();
			pebble_secure_budget_set(me(), up ? Heapsize/2 : Heapsize);
			k = 0;
			st.ResumeTiming();
		}
	}
	pebble_secure_budget_set(me(), Heapsize);
}

static void
confget(benchmark::State &st)
{
	const char *v;

	for(auto _ : st){
		if((v = pebble_get_secure_conf(me(), "pebble.secure.auto_wipe")) == nullptr){
			st.SkipWithError("conf get");
			break;
		}
		benchmark::DoNotOptimize(v);
	}
}

static void
confset(benchmark::State &st)
{
	for(auto _ : st)
		if(!ok(st, pebble_set_secure_conf(me(), "pebble.secure.auto_wipe", "1"), "pebble_set_secure_conf"))
			break;
}

/* a child proc made and ended: its area attached, then detached */
static void
attachdetach(benchmark::State &st)
{
	Proc *c = proc(Pchild);

	c->parent = me();
	for(auto _ : st){
		if(!ok(st, pebble_secure_attach(me(), c), "pebble_secure_attach"))
			break;
		if(!ok(st, pebble_secure_detach(c), "pebble_secure_detach"))
			break;
	}
}

static void
bysize(const char *name, void (*fn)(benchmark::State&))
{
	auto *b = benchmark::RegisterBenchmark(name, fn);
	b->ArgName("size");
	sizes(b, 4);
	repsstats(b);
}

static void
plain(const char *name, void (*fn)(benchmark::State&))
{
	repsstats(benchmark::RegisterBenchmark(name, fn));
}

void
registercalls(void)
{
	bysize("calls/alloc", alloc<false>);
	bysize("calls/alloc_simple", alloc<true>);
	bysize("calls/free", release<Free>);
	bysize("calls/free_size", release<Freesize>);
	bysize("calls/wipe_and_free", release<Wipefree>);
	bysize("calls/alloc+free", pairs<Free>);
	bysize("calls/alloc+free_size", pairs<Freesize>);
	bysize("calls/alloc+wipe_and_free", pairs<Wipefree>);
	bysize("calls/wipe", wipe);
	bysize("calls/share", grant<true>);
	bysize("calls/revoke", grant<false>);
	bysize("calls/check_owner", check<true>);
	bysize("calls/check_grantee", check<false>);
	bysize("calls/pin+unpin", pinunpin);
	bysize("calls/info", info);
	plain("calls/stats", stats);
	plain("calls/sysstats", sysstats);
	auto *b = benchmark::RegisterBenchmark("calls/audit", audit);
	b->ArgName("fill")->Arg(0)->Arg(Auditsize);
	repsstats(b);
	plain("calls/budget_get", budgetget);
	plain("calls/budget_set", budgetset);
	plain("calls/budget_increase", budgetmove<true>);
	plain("calls/budget_decrease", budgetmove<false>);
	plain("calls/conf_get", confget);
	plain("calls/conf_set", confset);
	plain("calls/attach+detach", attachdetach);
}
