/*
 * The allocation pair, the figure a user compares: Pebble against
 * glibc (malloc + explicit_bzero + free), OpenSSL's secure heap,
 * libsodium, and explicit_bzero alone (the wipe floor), in the same
 * run.
 *
 *   pair/A/size:N		alloc then free, nothing else live
 *   steady/A/size:N/live:L	L live; each iteration frees a random
 *				one and allocates anew
 *   audit_cost/..., vs/A/B/...	two figures measured in alternating
 *				batches, for the targets that compare
 *				them (below, "Comparisons")
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
#include <functional>
#include <memory>
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
 * The lock floor: what a Pebble pair spends on its area lock alone,
 * two turns of an uncontended area lock (the host's, as the core takes
 * it: one per call, DESIGN's threads contract).  Taken again and again
 * by one thread, the lock is biased to it (core/host/lock.c) and a turn
 * is two plain stores and two loads.  pair/lock_floor_word is the same
 * two turns with a locked instruction each (the spin Lock: what an
 * RWLock costs when threads share it, and what this one cost before
 * the bias).  A glibc pair takes no lock at all.
 */
static void
floorlock(benchmark::State &st)
{
	RWLock l = {};

	for(auto _ : st){
		wlock(&l);
		wunlock(&l);
		wlock(&l);
		wunlock(&l);
		benchmark::ClobberMemory();
	}
	st.SetItemsProcessed(st.iterations());
}

static void
floorword(benchmark::State &st)
{
	Lock l = {};

	for(auto _ : st){
		lock(&l);
		unlock(&l);
		lock(&l);
		unlock(&l);
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
 * Comparisons that hold still on a drifting VM.  Two benchmarks run
 * seconds apart, and this VM changes speed (or moves the thread to a
 * slower processor) within seconds: one run of the report measured
 * audit on 12% faster than off that way, and the 64 KiB pair moved by
 * hundreds of nanoseconds against the wipe floor between runs.  So a
 * target that compares two figures is measured here as well: 41
 * rounds, each a batch of one side and a batch of the other, next to
 * each other in time and in alternating order; the counters are the
 * median batch times (x_ns, y_ns), the median of the rounds' ratios
 * (ratio) and of their differences (diff).  The report judges the
 * targets by these when the run has them.
 *
 *   audit_cost/size:256/live:1000	pebble_audit against pebble, steady
 *				(cost = ratio - 1; off_ns, on_ns)
 *   vs/A/B/steady/size:N/live:1000	A's steady pair against B's
 *   vs/A/wipe_floor/pair/size:N	A's pair, nothing live, against
 *				explicit_bzero of N bytes
 */
enum { Rounds = 41 };

/* k operations of one side; false if one failed */
typedef std::function<bool(int)>	Side;

/* the steady pair of A at n bytes among live: a's live set, freed and allocated at random */
template<class A> static Side
steadyside(A &a, size_t n, size_t live, uint64_t seed)
{
	auto r = std::make_shared<Ring>(live, seed);
	return [&a, n, r](int k) {
		Liveset<A> &ls = liveset<A>;
		uint32_t i;
		for(; k > 0; k--){
			i = r->next();
			if(!a.release(ls.v[i], n) || (ls.v[i] = a.alloc(n)) == nullptr)
				return false;
		}
		return true;
	};
}

/* A's pair with nothing else live */
template<class A> static Side
pairside(A &a, size_t n)
{
	return [&a, n](int k) {
		void *v;
		for(; k > 0; k--)
			if((v = a.alloc(n)) == nullptr || !a.release(v, n))
				return false;
		return true;
	};
}

static Side
floorside(std::vector<char> &buf)
{
	return [&buf](int k) {
		for(; k > 0; k--){
			explicit_bzero(buf.data(), buf.size());
			benchmark::ClobberMemory();
		}
		return true;
	};
}

static double
median(std::vector<double> v)
{
	std::sort(v.begin(), v.end());
	return v[v.size()/2];
}

/* ns an operation of a batch of k */
static double
timed(Side &f, int k, bool &ok)
{
	auto t0 = std::chrono::steady_clock::now();

	ok = ok && f(k);
	return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / k;
}

/* x against y, batches of k: false if an operation failed */
static bool
alternate(benchmark::State &st, Side x, Side y, int k)
{
	std::vector<double> tx, ty, ratio, diff;
	bool ok = true;
	double total, a, b;

	for(auto _ : st){
		total = 0;
		for(int i = 0; i < Rounds && ok; i++){
			/* which goes first alternates too: neither always follows the other */
			a = timed(i%2 ? y : x, k, ok);
			b = timed(i%2 ? x : y, k, ok);
			tx.push_back(i%2 ? b : a);
			ty.push_back(i%2 ? a : b);
			ratio.push_back(tx.back() / ty.back());
			diff.push_back(tx.back() - ty.back());
			total += (a + b) * k;
		}
		if(!ok)
			break;
		st.SetIterationTime(total / 1e9);
	}
	if(!ok){
		st.SkipWithError("an operation failed");
		return false;
	}
	st.counters["x_ns"] = median(tx);
	st.counters["y_ns"] = median(ty);
	st.counters["ratio"] = median(ratio);
	st.counters["diff"] = median(diff);
	st.counters["rounds"] = Rounds;
	return true;
}

enum { Costsize = 256, Costlive = 1000 };

static void
auditcost(benchmark::State &st)
{
	Pebble off = make<Pebble>(proc(Pmain));
	PebbleAudit on = make<PebbleAudit>(proc(Pmain));

	if(!liveset<Pebble>.fill(off, Costsize, Costlive) || !liveset<PebbleAudit>.fill(on, Costsize, Costlive)){
		st.SkipWithError("filling the live sets");
		return;
	}
	if(!alternate(st, steadyside(on, Costsize, Costlive, 1), steadyside(off, Costsize, Costlive, 1), 20000))
		return;
	st.counters["on_ns"] = st.counters["x_ns"];
	st.counters["off_ns"] = st.counters["y_ns"];
	st.counters["cost"] = st.counters["ratio"] - 1;
}

/* A's steady pair against B's, range(0) bytes, 1,000 live */
template<class A, class B> static void
vssteady(benchmark::State &st)
{
	A a = make<A>(proc(Pmain));
	B b = make<B>(proc(Pmain));
	size_t n = st.range(0);

	if(!liveset<A>.fill(a, n, 1000) || !liveset<B>.fill(b, n, 1000)){
		st.SkipWithError("filling the live sets");
		return;
	}
	alternate(st, steadyside(a, n, 1000, 1), steadyside(b, n, 1000, 1), 10000);
}

/* A's pair against the wipe floor, range(0) bytes */
template<class A> static void
vsfloor(benchmark::State &st)
{
	A a = make<A>(proc(Pmain));
	size_t n = st.range(0);
	std::vector<char> buf(n);

	alternate(st, pairside(a, n), floorside(buf), n >= 16384 ? 2000 : 10000);
}

template<class A, class B> static void
vssteadyof(void)
{
	auto *b = benchmark::RegisterBenchmark((std::string("vs/") + A::name() + "/" + B::name() + "/steady").c_str(), vssteady<A, B>);
	b->ArgName("size");
	for(long n : {16, 64, 256, 1024})
		b->Arg(n);
	b->UseManualTime()->Iterations(1);
}

template<class A> static void
vsfloorof(void)
{
	auto *b = benchmark::RegisterBenchmark((std::string("vs/") + A::name() + "/wipe_floor/pair").c_str(), vsfloor<A>);
	b->ArgName("size");
	for(long n : {4096, 65536})
		b->Arg(n);
	b->UseManualTime()->Iterations(1);
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

/*
 * Thread figures are throughput over a window, and at the run's 0.02 s
 * a repetition the skew of two threads' start and stop on this VM
 * moved the two-thread ratio between 1.43x and 1.97x from run to run
 * (bench/NOTES.md); at 0.2 s three runs gave 1.84-1.87x.  So the
 * threads benchmarks take at least Threadsmin a repetition, whatever
 * the command line asks.
 */
static const double	Threadsmin = 0.2;

template<class A> static void
threadsof(bool pebble, bool pin)
{
	auto *b = benchmark::RegisterBenchmark(nm("threads", A::name()).c_str(), threads<A>);
	b->ArgName("procs");
	b->Arg(1);
	if(pebble)
		b->Arg(0);
	b->Threads(1)->Threads(2)->UseRealTime()->MinTime(Threadsmin);
	repsstats(b);
	if(!pin)
		return;
	b = benchmark::RegisterBenchmark((nm("threads", A::name()) + "/pinned").c_str(), pinned<A>);
	b->ArgNames({"procs", "cpu"});
	for(int c : cpus())
		b->Args({1, c});
	b->UseRealTime()->MinTime(Threadsmin);
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
	b = benchmark::RegisterBenchmark("pair/lock_floor_word", floorword);
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
	vssteadyof<Pebble, Glibc>();
	vssteadyof<PebbleAudit, Glibc>();
	vssteadyof<Pebble, Openssl>();
	vssteadyof<PebbleAudit, Openssl>();
	vsfloorof<Pebble>();
	vsfloorof<PebbleAudit>();

	threadsof<Pebble>(true, true);
	threadsof<PebbleAudit>(true, true);
	threadsof<Glibc>(false, true);
	threadsof<Openssl>(false, false);
	b = benchmark::RegisterBenchmark("threads/cpu_ceiling", spin);
	b->Threads(1)->Threads(2)->UseRealTime()->MinTime(Threadsmin);
	repsstats(b);
}
