/*
 * The allocation pair, the figure a user compares: Pebble against
 * glibc (malloc + explicit_bzero + free), OpenSSL's secure heap,
 * libsodium, and explicit_bzero alone (the wipe floor), in the same
 * run.
 *
 *   pair/A/size:N		alloc then free, nothing else live
 *   steady/A/size:N/live:L	L live; each iteration frees a random
 *				one and allocates anew
 *   audit_cost/size:256/live:1000	batches alternating between a proc
 *				with audit off and one with it on: the
 *				median ratio is audit's cost
 *   threads/A/procs:P/threads:T	steady state at 1,000 live per thread,
 *				T threads, each in its own proc
 *				(procs:1) or all in one (procs:0)
 *
 * pebble runs on procs with audit off, pebble_audit on procs with
 * audit on (the default), so every Pebble figure that a target judges
 * is measured both ways in the same run.
 *   threads/A/pinned/procs:1/cpu:K	one thread pinned to processor K:
 *				twice the slower of the two fastest is A's ceiling
 *   threads/cpu_ceiling	a loop touching no memory: what 2 threads
 *				can give on this machine at all
 *
 * The random choice comes from a ring drawn before timing.  A live
 * set of one allocator is kept between Google Benchmark's calls of
 * the same benchmark (it calls a function several times while it
 * sizes the run), so a million allocations are made once, not on
 * every call.
 */
#include <algorithm>
#include <chrono>
#include <pthread.h>
#include <sched.h>
#include "bench.h"

template<class A> static A	make(Proc*) { return A(); }
template<> Pebble	make<Pebble>(Proc *p) { return Pebble(p); }
/* pebble_audit's procs: Pmainaudit for Pmain, its own for the threads */
template<> PebbleAudit	make<PebbleAudit>(Proc *p) { return PebbleAudit(p == proc(Pmain) ? proc(Pmainaudit) : p); }

/* the procs of the threads benchmarks: audit off or on */
template<class A> static int	threadbase() { return Pthread0; }
template<> int	threadbase<PebbleAudit>() { return Pthreadaudit0; }

template<class A> static void
fail(benchmark::State &st, A&, const char *what)
{
	st.SkipWithError(what);
}

template<> void
fail<Pebble>(benchmark::State &st, Pebble &a, const char *what)
{
	benchfail(st, what, a.err);
}

template<> void
fail<PebbleAudit>(benchmark::State &st, PebbleAudit &a, const char *what)
{
	benchfail(st, what, a.err);
}

template<class A> static void
pair(benchmark::State &st)
{
	A a = make<A>(proc(Pmain));
	size_t n = st.range(0);
	void *v;

	for(auto _ : st){
		v = a.alloc(n);
		benchmark::DoNotOptimize(v);
		if(v == nullptr || !a.release(v, n)){
			fail(st, a, "pair");
			break;
		}
	}
	st.SetItemsProcessed(st.iterations());
	st.SetBytesProcessed(st.iterations() * n);
}

/* the wipe floor: explicit_bzero of the same bytes, nothing else */
static void
floorwipe(benchmark::State &st)
{
	size_t n = st.range(0);
	std::vector<char> buf(n);

	for(auto _ : st){
		explicit_bzero(buf.data(), n);
		benchmark::ClobberMemory();
	}
	st.SetItemsProcessed(st.iterations());
	st.SetBytesProcessed(st.iterations() * n);
}

/*
 * The lock floor: what a Pebble pair spends on locked instructions
 * alone, two turns of an uncontended area lock (the host's, as the core
 * takes it: one per call, DESIGN's threads contract).  A glibc pair
 * takes none; on a VM a locked instruction costs what a few dozen
 * others do, so this is the part of the gap to glibc no front end can
 * remove while every call stays atomic.
 */
static void
floorlock(benchmark::State &st)
{
	RWLock l = {0};

	for(auto _ : st){
		wlock(&l);
		wunlock(&l);
		wlock(&l);
		wunlock(&l);
		benchmark::ClobberMemory();
	}
	st.SetItemsProcessed(st.iterations());
}

/* one live set per allocator, kept while the same benchmark runs */
template<class A> struct Liveset {
	size_t	size = 0;
	std::vector<void*>	v;

	bool	fill(A &a, size_t n, size_t live) {
		if(size == n && v.size() == live)
			return true;
		drop(a);
		size = n;
		for(size_t i = 0; i < live; i++){
			void *p = a.alloc(n);
			if(p == nullptr){
				drop(a);
				return false;
			}
			v.push_back(p);
		}
		return true;
	}
	void	drop(A &a) {
		for(void *p : v)
			a.release(p, size);
		v.clear();
		size = 0;
	}
};

template<class A> static Liveset<A>	liveset;

template<class A> static void
steady(benchmark::State &st)
{
	A a = make<A>(proc(Pmain));
	size_t n = st.range(0), live = st.range(1);
	Liveset<A> &ls = liveset<A>;
	Ring r(live, 1);
	uint32_t i;

	if(!ls.fill(a, n, live)){
		fail(st, a, "filling the live set");
		return;
	}
	for(auto _ : st){
		i = r.next();
		if(!a.release(ls.v[i], n) || (ls.v[i] = a.alloc(n)) == nullptr){
			fail(st, a, "steady");
			ls.v.erase(ls.v.begin() + i);
			ls.drop(a);
			break;
		}
	}
	st.SetItemsProcessed(st.iterations());
}

/*
 * The floor under steady/A/size:N/live:L: reaching and wiping one
 * random allocation of L live ones, with no allocator at all (the
 * allocations are slices of one block).  What a steady figure adds
 * to this is the allocator's own work; this part is memory latency.
 */
static void
steadyfloor(benchmark::State &st)
{
	size_t n = st.range(0), live = st.range(1);
	std::vector<char> block(n * live);
	std::vector<char*> v(live);
	Ring r(live, 1);

	for(size_t i = 0; i < live; i++)
		v[i] = block.data() + i*n;
	for(auto _ : st){
		explicit_bzero(v[r.next()], n);
		benchmark::ClobberMemory();
	}
	st.SetItemsProcessed(st.iterations());
}

/*
 * What audit costs one thread, drift and all: the same pair at 256 B
 * among 1,000 live, in batches that alternate between a proc with
 * audit off and one with it on, many times within the one run of
 * this benchmark.  Two separate benchmarks run seconds apart, and
 * this VM changes speed (or moves the thread to a slower processor)
 * within seconds: one run of the report measured audit on 12%
 * faster than off that way.  Each round's two batches are next to
 * each other in time, so their ratio is fair; the figure is the
 * median of the rounds' ratios (cost), beside the median times.
 */
enum { Costrounds = 41, Costbatch = 20000, Costsize = 256, Costlive = 1000 };

template<class A> static double
batch(A &a, Liveset<A> &ls, Ring &r, bool &ok)
{
	auto t0 = std::chrono::steady_clock::now();
	uint32_t i;

	for(int k = 0; k < Costbatch && ok; k++){
		i = r.next();
		ok = a.release(ls.v[i], Costsize) && (ls.v[i] = a.alloc(Costsize)) != nullptr;
	}
	return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / Costbatch;
}

static double
median(std::vector<double> v)
{
	std::sort(v.begin(), v.end());
	return v[v.size()/2];
}

static void
auditcost(benchmark::State &st)
{
	Pebble off = make<Pebble>(proc(Pmain));
	PebbleAudit on = make<PebbleAudit>(proc(Pmain));
	Ring r0(Costlive, 1), r1(Costlive, 1);
	std::vector<double> toff, ton, ratio;
	bool ok = true;
	double total;

	if(!liveset<Pebble>.fill(off, Costsize, Costlive) || !liveset<PebbleAudit>.fill(on, Costsize, Costlive)){
		st.SkipWithError("filling the live sets");
		return;
	}
	for(auto _ : st){
		total = 0;
		for(int k = 0; k < Costrounds && ok; k++){
			/* which goes first alternates too: neither always follows the other */
			double a = k%2 ? batch(on, liveset<PebbleAudit>, r1, ok) : batch(off, liveset<Pebble>, r0, ok);
			double b = k%2 ? batch(off, liveset<Pebble>, r0, ok) : batch(on, liveset<PebbleAudit>, r1, ok);
			toff.push_back(k%2 ? b : a);
			ton.push_back(k%2 ? a : b);
			ratio.push_back(ton.back() / toff.back());
			total += (a + b) * Costbatch;
		}
		if(!ok){
			st.SkipWithError("a pair failed");
			break;
		}
		st.SetIterationTime(total / 1e9);
	}
	if(!ok)
		return;
	st.counters["off_ns"] = median(toff);
	st.counters["on_ns"] = median(ton);
	st.counters["cost"] = median(ratio) - 1;
	st.counters["rounds"] = Costrounds;
}

enum { Threadlive = 1000, Threadsize = 256 };

/* each thread its own live set; the proc is its own or shared */
template<class A> static void
threads(benchmark::State &st)
{
	int role = threadbase<A>() + (st.range(0) ? st.thread_index() : 0);
	A a = make<A>(proc(role));
	std::vector<void*> v;
	Ring r(Threadlive, 1 + st.thread_index());
	uint32_t i;
	bool ok = true;

	for(i = 0; i < Threadlive && ok; i++){
		v.push_back(a.alloc(Threadsize));
		ok = v.back() != nullptr;
	}
	if(!ok){
		v.pop_back();
		fail(st, a, "filling the live set");
	}else for(auto _ : st){
		i = r.next();
		if(!a.release(v[i], Threadsize) || (v[i] = a.alloc(Threadsize)) == nullptr){
			fail(st, a, "threads");
			v.erase(v.begin() + i);
			break;
		}
	}
	for(void *p : v)
		a.release(p, Threadsize);
	st.SetItemsProcessed(st.iterations());
}

/*
 * One thread pinned to processor range(1).  The vCPUs of a VM need
 * not run the same code at the same speed: on this machine one has
 * run Pebble's pair 1.5x slower than the other for minutes at a time
 * while a loop touching no memory ran alike on both.  Two threads
 * each make the same number of pairs, so twice the slower of the two
 * fastest pinned rates is what two threads of this allocator could
 * reach at best in this run: its ceiling, which the report shows
 * beside the threads target.
 */
template<class A> static void
pinned(benchmark::State &st)
{
	cpu_set_t old, one;

	CPU_ZERO(&one);
	CPU_SET(st.range(1), &one);
	if(pthread_getaffinity_np(pthread_self(), sizeof old, &old) != 0
	|| pthread_setaffinity_np(pthread_self(), sizeof one, &one) != 0){
		st.SkipWithError("cannot pin the thread");
		return;
	}
	threads<A>(st);
	pthread_setaffinity_np(pthread_self(), sizeof old, &old);
}

/* the processors this process may run on, at most 4 of them */
static std::vector<int>
cpus(void)
{
	cpu_set_t set;
	std::vector<int> v;

	if(sched_getaffinity(0, sizeof set, &set) != 0)
		return v;
	for(int i = 0; i < CPU_SETSIZE && v.size() < 4; i++)
		if(CPU_ISSET(i, &set))
			v.push_back(i);
	return v;
}

/*
 * The machine's own ceiling: a loop touching no memory, on 1 and 2
 * threads.  If 2 threads of it do not give 2x, no allocator can,
 * and the report says so beside the threads target.
 */
static void
spin(benchmark::State &st)
{
	uint64_t x = st.thread_index() + 1;

	for(auto _ : st){
		for(int k = 0; k < 64; k++)
			x = x*6364136223846793005ULL + 1442695040888963407ULL;
		benchmark::DoNotOptimize(x);
	}
	st.SetItemsProcessed(st.iterations());
}

static std::string
nm(const char *kind, const char *alloc)
{
	return std::string(kind) + "/" + alloc;
}

template<class A> static void
pairsof(int step)
{
	auto *b = benchmark::RegisterBenchmark(nm("pair", A::name()).c_str(), pair<A>);
	b->ArgName("size");
	sizes(b, step);
	repsstats(b);
}

template<class A> static void
steadyof(std::vector<long> sz, std::vector<long> lives)
{
	auto *b = benchmark::RegisterBenchmark(nm("steady", A::name()).c_str(), steady<A>);
	b->ArgNames({"size", "live"});
	for(long n : sz)
		for(long l : lives)
			b->Args({n, l});
	repsstats(b);
}

template<class A> static void
threadsof(bool pebble, bool pin)
{
	auto *b = benchmark::RegisterBenchmark(nm("threads", A::name()).c_str(), threads<A>);
	b->ArgName("procs");
	b->Arg(1);
	if(pebble)
		b->Arg(0);
	b->Threads(1)->Threads(2)->UseRealTime();
	repsstats(b);
	if(!pin)
		return;
	b = benchmark::RegisterBenchmark((nm("threads", A::name()) + "/pinned").c_str(), pinned<A>);
	b->ArgNames({"procs", "cpu"});
	for(int c : cpus())
		b->Args({1, c});
	b->UseRealTime();
	repsstats(b);
}

void
registersteady(void)
{
	std::vector<long> grid = {16, 64, 256, 1024, 4096, 16384, 65536};
	std::vector<long> growth = {1, 100000, Maxlive};	/* 1,000 is in the grid */

	pairsof<Pebble>(2);
	pairsof<PebbleAudit>(2);
	pairsof<Glibc>(2);
	pairsof<Openssl>(2);
	pairsof<Sodium>(4);
	auto *b = benchmark::RegisterBenchmark("pair/wipe_floor", floorwipe);
	b->ArgName("size");
	sizes(b, 2);
	repsstats(b);
	b = benchmark::RegisterBenchmark("pair/lock_floor", floorlock);
	repsstats(b);

	steadyof<Pebble>(grid, {1000});
	steadyof<PebbleAudit>(grid, {1000});
	steadyof<Glibc>(grid, {1000});
	steadyof<Openssl>(grid, {1000});
	steadyof<Sodium>({16, 256, 4096, 65536}, {1000});
	steadyof<Pebble>({64, 256}, growth);
	steadyof<PebbleAudit>({64, 256}, growth);
	steadyof<Glibc>({64, 256}, growth);
	steadyof<Openssl>({64, 256}, growth);

	b = benchmark::RegisterBenchmark("steady/wipe_floor", steadyfloor);
	b->ArgNames({"size", "live"});
	for(long n : grid)
		b->Args({n, 1000});
	for(long n : {64, 256})
		for(long l : growth)
			b->Args({n, l});
	repsstats(b);

	b = benchmark::RegisterBenchmark("audit_cost/size:256/live:1000", auditcost);
	b->UseManualTime()->Iterations(1);

	threadsof<Pebble>(true, true);
	threadsof<PebbleAudit>(true, true);
	threadsof<Glibc>(false, true);
	threadsof<Openssl>(false, false);
	b = benchmark::RegisterBenchmark("threads/cpu_ceiling", spin);
	b->Threads(1)->Threads(2)->UseRealTime();
	repsstats(b);
}
