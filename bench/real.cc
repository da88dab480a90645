/*
 * Real programs' allocation patterns, every allocator (issue 13):
 *
 *   real/ALLOC/trace:NAME	traces/real-NAME.trace replayed in process
 *				against ALLOC: one iteration is the whole
 *				trace; items are its events.
 *
 * ALLOC is pebble (the core on the POSIX host, audit off as in every
 * other pebble figure), glibc_bzero (malloc, explicit_bzero, free),
 * openssl_secure (CRYPTO_secure_malloc, CRYPTO_secure_clear_free) and
 * libsodium (sodium_malloc, sodium_free).  Each replays the same
 * events: alloc, a write (memset) where the program wrote, free, and at
 * a proc's exit the release of what it still held and nobody frees
 * later (Pebble's detach wipes those; an allocation the trace frees
 * after its owner exited passed to the parent, so it stays live).
 * Refused events (a recorded result other than OK) are replayed by
 * Pebble, which must refuse them again, and skipped by the others.
 *
 * Before timing, one untimed replay finds the trace's peak of live
 * bytes asked for, and what the allocator held at that moment:
 *   pebble		heap pages its runs take (heap size less free
 *			bytes) plus its metadata, less the same before
 *   glibc_bzero	mallinfo2's in-use and mmap'd bytes, less before
 *   openssl_secure	CRYPTO_secure_used (buddy blocks), less before
 *   libsodium		pages mapped, from sodium_malloc's layout: the
 *			size and a 16-byte canary rounded up to pages,
 *			and three more (two guard pages and the one
 *			holding the canary and the unprotected size)
 * Counters: events, peak_live (bytes asked for), peak_footprint (bytes
 * held at that peak), footprint_ratio.  An allocator that cannot hold
 * a trace says why in the context (real_not_run:ALLOC/NAME).
 */
#include <malloc.h>
#include <unistd.h>
#include <fstream>
#include "bench.h"
#include "tracefile.h"

struct Held {
	void	*p = nullptr;
	size_t	n = 0;
	int	who = -1;
};

/* for each event: at an exit, the handles to release */
struct Plan {
	std::vector<std::vector<int>>	atexit;
	size_t	peaklive = 0, peakcount = 0;
	size_t	peakat = 0;	/* the alloc event that first reaches peaklive */
};

static Plan
plan(const Trace &t)
{
	Plan pl;
	std::vector<int> freed(t.nhandle, -1), owner(t.nhandle, -1);
	std::vector<size_t> size(t.nhandle, 0);
	size_t live = 0, count = 0;

	for(size_t k = 0; k < t.ev.size(); k++)
		if(t.ev[k].op == Ofree && t.ev[k].want == 0)
			freed[t.ev[k].h] = k;
	pl.atexit.resize(t.ev.size());
	std::vector<char> on(t.nhandle, 0);
	for(size_t k = 0; k < t.ev.size(); k++){
		const Event &e = t.ev[k];
		if(e.want != 0)
			continue;
		if(e.op == Oalloc){
			on[e.h] = 1, owner[e.h] = e.who, size[e.h] = e.size;
			live += e.size, count++;
			if(live > pl.peaklive)
				pl.peaklive = live, pl.peakat = k;
			pl.peakcount = std::max(pl.peakcount, count);
		}else if(e.op == Ofree && on[e.h]){
			on[e.h] = 0, live -= size[e.h], count--;
		}else if(e.op == Oexit){
			for(int h = 0; h < t.nhandle; h++)
				if(on[h] && owner[h] == e.who && freed[h] < (int)k){
					pl.atexit[k].push_back(h);
					on[h] = 0, live -= size[h], count--;
				}
		}
	}
	return pl;
}

/* glibc, OpenSSL, libsodium: the same calls, no procs */
template<class A> struct Plainrun {
	A	a;
	std::vector<Held>	h;
	size_t	pages = 0;	/* libsodium's layout, counted as it goes */

	static size_t	page() { static size_t p = sysconf(_SC_PAGESIZE); return p; }
	static size_t	sodiumbytes(size_t n) { return (n + 16 + page()-1) / page() * page() + 3*page(); }
	bool	start(const Trace &t) { h.assign(t.nhandle, Held()); pages = 0; return true; }
	bool	fork(const Event&) { return true; }	/* no procs: skipped */
	bool	alloc(const Event &e) {
		void *v = a.alloc(e.size > 0 ? e.size : 1);
		if(v == nullptr)
			return false;
		h[e.h] = Held{v, e.size, e.who};
		pages += sodiumbytes(e.size);
		return true;
	}
	void	write(const Event &e) { memset((char*)h[e.h].p + e.off, e.h, e.size); }
	void	release(int k) {
		a.release(h[k].p, h[k].n > 0 ? h[k].n : 1);
		pages -= sodiumbytes(h[k].n);
		h[k].p = nullptr;
	}
	bool	free(const Event &e) { if(h[e.h].p == nullptr) return false; release(e.h); return true; }
	bool	exit(const Event&, const std::vector<int> &rel) { for(int k : rel) release(k); return true; }
	void	finish() { for(size_t k = 0; k < h.size(); k++) if(h[k].p != nullptr) release(k); }
	bool	skips(const Event &e) { return e.want != 0 || e.op == Ofork; }
	size_t	footprint();
};

template<> size_t Plainrun<Glibc>::footprint() { struct mallinfo2 m = mallinfo2(); return m.uordblks + m.hblkhd; }
template<> size_t Plainrun<Openssl>::footprint() { return CRYPTO_secure_used(); }
template<> size_t Plainrun<Sodium>::footprint() { return pages; }

/* Pebble: the events as bench/replay.cc makes them; every result is checked */
struct Pebblerun {
	const Trace	*t = nullptr;
	std::vector<void*>	h;
	size_t	save = 0;

	bool	start(const Trace &tr) {
		t = &tr;
		h.assign(tr.nhandle, nullptr);
		save = pebble_secure_max_budget;
		if(tr.maxbudget != 0)
			pebble_secure_max_budget = tr.maxbudget;
		return true;
	}
	bool	ev(const Event &e) { return pebbleevent(*t, e, h) == e.want; }
	bool	fork(const Event &e) { return ev(e); }
	bool	alloc(const Event &e) { return ev(e); }
	void	write(const Event &e) { ev(e); }
	bool	free(const Event &e) { return ev(e); }
	bool	exit(const Event &e, const std::vector<int>&) { return ev(e); }
	void	finish() {
		pebblecleanup(t->nproc);
		pebble_secure_max_budget = save;
	}
	bool	skips(const Event&) { return false; }
	size_t	footprint() {
		PebbleSysStats s;
		pebble_secure_sysstats(&s);
		return s.heap_size - s.free_bytes + s.metadata;
	}
};

/* one replay; at the trace's peak of live bytes, what the allocator holds (when measuring) */
template<class R> static bool
once(R &r, const Trace &t, const Plan &pl, size_t *peak, std::string *why)
{
	size_t base = peak ? r.footprint() : 0;
	bool ok = true;
	size_t k;

	r.start(t);
	for(k = 0; k < t.ev.size() && ok; k++){
		const Event &e = t.ev[k];
		if(r.skips(e))
			continue;
		switch(e.op){
		case Ofork:	ok = r.fork(e); break;
		case Oalloc:	ok = r.alloc(e); break;
		case Owrite:
			if(e.want == 0)
				r.write(e);
			break;
		case Ofree:	ok = r.free(e); break;
		case Oexit:	ok = r.exit(e, pl.atexit[k]); break;
		}
		if(ok && peak != nullptr && k == pl.peakat)
			*peak = r.footprint() - base;
	}
	if(!ok && why != nullptr)
		*why = "event " + std::to_string(k-1) + " (" + std::to_string(t.ev[k-1].op) + ", size " +
			std::to_string(t.ev[k-1].size) + ") failed or went otherwise than recorded";
	r.finish();
	return ok;
}

template<class R> static void
real(benchmark::State &st, std::string file)
{
	Trace t = parse(file);
	Plan pl = plan(t);
	R r;
	size_t peak = 0;
	std::string why;

	if(!t.err.empty() || !t.cannot.empty()){
		st.SkipWithError((t.err + t.cannot).c_str());
		return;
	}
	if(!once(r, t, pl, &peak, &why)){
		st.SkipWithError(why.c_str());
		return;
	}
	for(auto _ : st)
		if(!once(r, t, pl, nullptr, nullptr)){
			st.SkipWithError("a replay went otherwise than the first");
			break;
		}
	st.SetItemsProcessed(st.iterations() * t.ev.size());
	st.counters["events"] = t.ev.size();
	st.counters["peak_live"] = pl.peaklive;
	st.counters["peak_count"] = pl.peakcount;
	st.counters["peak_footprint"] = peak;
	st.counters["footprint_ratio"] = pl.peaklive ? (double)peak / pl.peaklive : 0;
}

/* libsodium maps three areas a call: more than the kernel's map count allows is not run */
static long
maxmaps(void)
{
	std::ifstream f("/proc/sys/vm/max_map_count");
	long n = 65530;
	f >> n;
	return n;
}

void
registerreal(void)
{
	for(auto &f : tracefiles()){
		std::string n = tracename(f);
		if(n.rfind("real-", 0) != 0)
			continue;
		Trace t = parse(f);
		Plan pl = plan(t);
		auto reg = [&](const char *alloc, void (*fn)(benchmark::State&, std::string)){
			auto *b = benchmark::RegisterBenchmark(("real/" + std::string(alloc) + "/trace:" + n).c_str(), fn, f);
			b->Unit(benchmark::kMicrosecond);
			/* three syscalls an allocation: a replay takes seconds, so fewer repetitions */
			if(strcmp(alloc, "libsodium") == 0)
				b->Repetitions(3);
		};
		reg("pebble", real<Pebblerun>);
		reg("glibc_bzero", real<Plainrun<Glibc>>);
		if(pl.peaklive * 2 < opensslheap)
			reg("openssl_secure", real<Plainrun<Openssl>>);
		else
			benchmark::AddCustomContext("real_not_run:openssl_secure/" + n,
				"its peak of " + std::to_string(pl.peaklive) + " live bytes does not fit a " + std::to_string(opensslheap) + "-byte secure heap");
		if((long)pl.peakcount * 3 + 1000 < maxmaps())
			reg("libsodium", real<Plainrun<Sodium>>);
		else
			benchmark::AddCustomContext("real_not_run:libsodium/" + n,
				"its " + std::to_string(pl.peakcount) + " live allocations need more memory maps than vm.max_map_count");
	}
}
