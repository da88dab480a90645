/*
 * What each allocator spends beyond the bytes asked for, as counters
 * (overhead/A/size:N, overhead/A/mix:NAME):
 *
 *   meta_per_alloc	metadata bytes per allocation
 *   meta_per_byte	metadata bytes per requested byte
 *   round_per_byte	rounding bytes per requested byte
 *   total_per_byte	the two together
 *   record_size	Pebble's fixed record per allocation (sysstats)
 *
 * Pebble's figures are deltas of its system statistics across
 * allocating a set of sizes and before freeing them: metadata is
 * every byte of host memory the core took (records, span bitmaps),
 * rounding the slot bytes beyond what was charged.  The set is
 * allocated twice, by a fresh proc each time, and the second pass is
 * the figure: span structures are made a page of 31 at a time for
 * each area the first time it needs them and are kept with its slot
 * (core/heap.c), so the first pass charges one-off pages to whichever
 * sizes happen to need them (meta_first_pass shows it).
 * OpenSSL's rounding is CRYPTO_secure_actual_size minus the request;
 * its metadata, two bit tables of two bits per 16 B of arena, is
 * 1/32 of the bytes its blocks take.  glibc's rounding is
 * malloc_usable_size minus the request, its metadata the 8-byte
 * chunk header.
 *
 * A mix is a list of sizes allocated together: "uniform" is every
 * size from 1 to 4096 once; a trace's mix is the SIZE of each of its
 * alloc lines (traces/NAME.trace, or in $PEBBLE_TRACES).
 */
#include <cstdio>
#include <fstream>
#include <glob.h>
#include <malloc.h>
#include <sstream>
#include "bench.h"

enum {
	Setbytes	= 16<<20,	/* bytes per fixed-size set */
	Mixbytes	= 256<<20,	/* a trace's mix is cut to this */
};

struct Sums {
	double	req = 0, meta = 0, round = 0, n = 0;
};

static void
counters(benchmark::State &st, Sums &s)
{
	st.counters["allocs"] = s.n;
	st.counters["requested"] = s.req;
	st.counters["meta_per_alloc"] = s.meta / s.n;
	st.counters["meta_per_byte"] = s.meta / s.req;
	st.counters["round_per_byte"] = s.round / s.req;
	st.counters["total_per_byte"] = (s.meta + s.round) / s.req;
}

static bool
pebblepass(benchmark::State &st, const std::vector<size_t> &sz, Sums &s)
{
	Proc *p = proc(Pmeta);
	PebbleSysStats a, b;
	std::vector<void*> v;
	void *x;
	int r = 0;

	/* a fresh area: no runs kept from before, all its metadata counted */
	if((r = pebble_secure_attach(nullptr, p)) != 0 || (r = pebble_secure_budget_set(p, Heapsize)) != 0
	|| (r = pebble_set_secure_conf(p, "pebble.secure.audit", "0")) != 0){
		benchfail(st, "attach", r);
		return false;
	}
	pebble_secure_sysstats(&a);
	for(size_t n : sz){
		if((r = pebble_secure_alloc(p, n, &x, PEBBLE_READ|PEBBLE_WRITE)) != 0)
			break;
		v.push_back(x);
		s.req += n;
	}
	pebble_secure_sysstats(&b);
	for(void *y : v)
		pebble_secure_free(p, y);
	pebble_secure_detach(p);
	if(r != 0){
		benchfail(st, "alloc", r);
		return false;
	}
	s.n = v.size();
	s.meta = (double)b.metadata - a.metadata;
	s.round = (double)b.rounding - a.rounding;
	st.counters["record_size"] = b.record_size;
	return true;
}

static bool
opensslsums(benchmark::State &st, const std::vector<size_t> &sz, Sums &s)
{
	std::vector<std::pair<void*, size_t>> v;
	bool ok = true;

	for(size_t n : sz){
		void *x = CRYPTO_secure_malloc(n, __FILE__, __LINE__);
		if(x == nullptr){
			ok = false;
			break;
		}
		v.push_back({x, n});
		size_t got = CRYPTO_secure_actual_size(x);
		s.req += n;
		s.round += got - n;
		s.meta += got / 32.0;
	}
	for(auto &y : v)
		CRYPTO_secure_clear_free(y.first, y.second, __FILE__, __LINE__);
	if(!ok)
		st.SkipWithError("CRYPTO_secure_malloc failed");
	s.n = v.size();
	return ok;
}

static bool
glibcsums(benchmark::State &st, const std::vector<size_t> &sz, Sums &s)
{
	std::vector<void*> v;

	for(size_t n : sz){
		void *x = malloc(n);
		if(x == nullptr)
			break;
		v.push_back(x);
		s.req += n;
		s.round += malloc_usable_size(x) - n;
		s.meta += 8;
	}
	for(void *y : v)
		free(y);
	s.n = v.size();
	if(v.size() != sz.size())
		st.SkipWithError("malloc failed");
	return v.size() == sz.size();
}

static bool
pebblesums(benchmark::State &st, const std::vector<size_t> &sz, Sums &s)
{
	Sums first;

	if(!pebblepass(st, sz, first) || !pebblepass(st, sz, s))
		return false;
	st.counters["meta_first_pass"] = first.meta / first.n;
	return true;
}

typedef bool (*Sumsfn)(benchmark::State&, const std::vector<size_t>&, Sums&);

/* one measurement: the loop runs once, the figures are counters */
static void
overhead(benchmark::State &st, Sumsfn fn, std::vector<size_t> sz)
{
	Sums s;

	for(auto _ : st)
		if(!fn(st, sz, s))
			return;
	counters(st, s);
}

static std::vector<size_t>
fixed(size_t n)
{
	size_t k = std::max<size_t>(64, std::min<size_t>(4096, Setbytes / n));
	return std::vector<size_t>(k, n);
}

static std::vector<size_t>
uniform(void)
{
	std::vector<size_t> v;

	for(size_t n = 1; n <= 4096; n++)
		v.push_back(n);
	return v;
}

/*
 * The SIZE of every `TIME PID alloc SIZE PERMS #H = OK` line: what the
 * program really held.  Refused allocations (the simulator's traces
 * make some on purpose, size 0 among them) are no part of the mix.
 */
static std::vector<size_t>
tracemix(const char *file)
{
	std::ifstream f(file);
	std::string line, t, pid, op, tok, last;
	std::vector<size_t> v;
	size_t n, total = 0;

	while(std::getline(f, line)){
		std::istringstream in(line);
		if(!(in >> t >> pid >> op) || op != "alloc" || !(in >> n))
			continue;
		for(last = ""; in >> tok; )
			last = tok;
		if(last != "OK" || n == 0)
			continue;
		if(total + n > Mixbytes)
			break;
		v.push_back(n);
		total += n;
	}
	return v;
}

std::vector<std::string>
tracefiles(void)
{
	const char *dir = getenv("PEBBLE_TRACES");
	std::string pat = std::string(dir != nullptr ? dir : "traces") + "/*.trace";
	std::vector<std::string> v;
	glob_t g;

	if(glob(pat.c_str(), 0, nullptr, &g) == 0){
		for(size_t i = 0; i < g.gl_pathc; i++)
			v.push_back(g.gl_pathv[i]);
		globfree(&g);
	}
	return v;
}

std::string
tracename(const std::string &path)
{
	std::string b = path.substr(path.rfind('/') + 1);
	return b.substr(0, b.size() - strlen(".trace"));
}

static void
regone(const char *alloc, Sumsfn fn)
{
	std::string base = std::string("overhead/") + alloc;

	for(size_t n = 16; n <= 64*1024; n *= 2)
		benchmark::RegisterBenchmark((base + "/size:" + std::to_string(n)).c_str(), overhead, fn, fixed(n))
			->Iterations(1)->Repetitions(1);
	benchmark::RegisterBenchmark((base + "/mix:uniform_1_4096").c_str(), overhead, fn, uniform())
		->Iterations(1)->Repetitions(1);
	for(auto &t : tracefiles())
		benchmark::RegisterBenchmark((base + "/mix:" + tracename(t)).c_str(), overhead, fn, tracemix(t.c_str()))
			->Iterations(1)->Repetitions(1);
}

void
registeroverhead(void)
{
	regone("pebble", pebblesums);
	regone("openssl_secure", opensslsums);
	regone("glibc", glibcsums);
}
