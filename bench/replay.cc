/*
 * Traces as workloads (format: traces/README.md).
 *
 *   replay/trace:NAME	the trace's events run in process, straight
 *			against the core on the POSIX host: one
 *			iteration is the whole trace, every result is
 *			checked against the recorded one; items are
 *			events, so items_per_second is operations/s.
 *   sim/run/workload:P	`pebblesim run --seed 1 --workload P --procs 1000
 *			--events 1000000`, end to end: events/s with the checker on
 *   sim/replay/trace:NAME	`pebblesim replay FILE --json` end to end,
 *			less the time of a trivial trace's replay (the
 *			process start), measured just before; items are
 *			the trace's events.  Registered only if
 *			$PEBBLESIM (default build/pebblesim) exists.
 *
 * The in-process replayer knows the operations every replayer must
 * (fork, alloc, write, free, exit); a trace with any other operation
 * is reported as an error, not run in part.
 */
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <sys/stat.h>
#include "bench.h"

#include "tracefile.h"

static int
resultcode(const std::string &s)
{
	static const std::map<std::string, int> m = {
		{"OK", PEBBLE_ERR_OK}, {"NOMEM", PEBBLE_ERR_NOMEM}, {"PERM", PEBBLE_ERR_PERM},
		{"NOTFOUND", PEBBLE_ERR_NOTFOUND}, {"INVALID", PEBBLE_ERR_INVALID},
		{"BUDGET", PEBBLE_ERR_BUDGET}, {"BUSY", PEBBLE_ERR_BUSY},
	};
	auto i = m.find(s);
	return i == m.end() ? 1 : i->second;
}

static int
index(std::map<std::string, int> &m, const std::string &k)
{
	auto i = m.find(k);
	if(i != m.end())
		return i->second;
	int n = m.size();
	m[k] = n;
	return n;
}

Trace
parse(const std::string &file)
{
	std::ifstream f(file);
	std::string line, word;
	std::map<std::string, int> pids, handles;
	Trace t;

	while(std::getline(f, line)){
		std::istringstream in(line);
		std::vector<std::string> w;
		while(in >> word)
			w.push_back(word);
		if(w.empty() || w[0][0] == '#' || w[0] == "pebbletrace" || w[0] == "seed")
			continue;
		if(w[0] == "config"){
			for(size_t i = 1; i < w.size(); i++){
				if(w[i].rfind("budget=", 0) == 0)
					t.budget = std::stoull(w[i].substr(7));
				if(w[i].rfind("maxbudget=", 0) == 0)
					t.maxbudget = std::stoull(w[i].substr(10));
			}
			continue;
		}
		if(w.size() < 5 || w[w.size()-2] != "="){
			t.err = "malformed line: " + line;
			return t;
		}
		t.nevents++;
		Event e{};
		e.want = resultcode(w.back());
		e.who = index(pids, w[1]);
		const std::string &op = w[2];
		if(op == "fork" && w.size() >= 7){
			e.op = Ofork;
			e.parent = w[3] == "-" ? -1 : index(pids, w[3]);
			e.user = w[4];
			e.nowait = w[5] == "nowait";
		}else if(op == "alloc" && w.size() == 8){
			e.op = Oalloc;
			e.size = std::stoull(w[3]);
			e.perms = std::stoi(w[4]);
			e.h = index(handles, w[5]);
		}else if(op == "write" && w.size() == 8){
			e.op = Owrite;
			e.h = index(handles, w[3]);
			e.off = std::stoull(w[4]);
			e.size = std::stoull(w[5]);
		}else if(op == "free" && w.size() == 6){
			e.op = Ofree;
			e.h = index(handles, w[3]);
		}else if(op == "exit" && w.size() == 5){
			e.op = Oexit;
		}else{
			if(t.cannot.empty())
				t.cannot = "uses " + op + " (the in-process replayer runs fork, alloc, write, free, exit)";
			continue;
		}
		if(e.want > 0 && t.cannot.empty())
			t.cannot = "has a result the in-process replayer does not check: " + w.back();
		/* the benchmark's heap is not the recording's: NOMEM cannot be reproduced */
		if(e.want == PEBBLE_ERR_NOMEM && t.cannot.empty())
			t.cannot = "expects NOMEM from its own heap size";
		t.ev.push_back(e);
	}
	t.nproc = pids.size();
	t.nhandle = handles.size();
	if(t.nproc > Ntrace && t.cannot.empty())
		t.cannot = "has more procs than the benchmark has slots for";
	return t;
}

/* one event against Pebble, on the trace's procs Ptrace..: its result */
int
pebbleevent(const Trace &t, const Event &e, std::vector<void*> &h)
{
	Proc *p;
	int r;

	p = proc(Ptrace + e.who);
	switch(e.op){
	case Ofork:
		p->parent = e.parent < 0 ? nullptr : proc(Ptrace + e.parent);
		p->nowait = e.nowait;
		snprintf(p->user, sizeof p->user, "%s", e.user.c_str());
		r = pebble_secure_attach(p->parent, p);
		if(r == 0 && p->parent == nullptr && t.budget != 0)
			r = pebble_secure_budget_set(p, t.budget);
		if(r == 0)
			r = pebble_set_secure_conf(p, "pebble.secure.audit", "0");
		return r;
	case Oalloc:
		return pebble_secure_alloc(p, e.size, &h[e.h], e.perms);
	case Owrite:
		/* pinned for the write, as a threaded host must (docs/core.md, "Pins") */
		r = pebble_secure_pin(p, (char*)h[e.h] + e.off, e.size, PEBBLE_WRITE);
		if(r == 0){
			memset((char*)h[e.h] + e.off, e.h, e.size);
			r = pebble_secure_unpin(p, (char*)h[e.h] + e.off, e.size);
		}
		return r;
	case Ofree:
		return pebble_secure_free(p, h[e.h]);
	case Oexit:
		return pebble_secure_detach(p);
	}
	return PEBBLE_ERR_INVALID;
}

static bool
replayonce(benchmark::State &st, const Trace &t, std::vector<void*> &h)
{
	char msg[160];
	size_t k;
	int r;

	for(k = 0; k < t.ev.size(); k++){
		const Event &e = t.ev[k];
		if((r = pebbleevent(t, e, h)) != e.want){
			snprintf(msg, sizeof msg, "event %zu: %s, recorded %s", k,
				pebble_strerror(r), pebble_strerror(e.want));
			st.SkipWithError(msg);
			return false;
		}
	}
	return true;
}

/* whatever a failed or unfinished replay left attached goes */
void
pebblecleanup(int nproc)
{
	for(int i = 0; i < nproc; i++)
		pebble_secure_detach(proc(Ptrace + i));
}

static void
replay(benchmark::State &st, std::string file)
{
	Trace t = parse(file);
	std::vector<void*> h(t.nhandle);
	size_t save = pebble_secure_max_budget;
	bool ok = true;

	if(!t.err.empty()){
		st.SkipWithError(t.err.c_str());
		return;
	}
	if(t.maxbudget != 0)
		pebble_secure_max_budget = t.maxbudget;
	for(auto _ : st){
		ok = replayonce(st, t, h);
		st.PauseTiming();
		pebblecleanup(t.nproc);
		st.ResumeTiming();
		if(!ok)
			break;
	}
	pebble_secure_max_budget = save;
	st.SetItemsProcessed(st.iterations() * t.ev.size());
	st.counters["events"] = t.ev.size();
	st.counters["procs"] = t.nproc;
}

/* the simulator, end to end */

static const char*
simpath(void)
{
	const char *p = getenv("PEBBLESIM");
	return p != nullptr ? p : "build/pebblesim";
}

static double
runcmd(const std::string &args, const std::string &out)
{
	std::string cmd = std::string(simpath()) + " " + args + " --json >" + out + ".json 2>" + out + ".err";
	auto t0 = std::chrono::steady_clock::now();
	int r = system(cmd.c_str());
	auto t1 = std::chrono::steady_clock::now();
	if(r != 0)
		return -1;
	return std::chrono::duration<double>(t1 - t0).count();
}

static double
runsim(const std::string &file, const std::string &out)
{
	return runcmd("replay " + file, out);
}

static const char	trivial[] =
	"pebbletrace 1\nseed 0\nconfig heap=1048576 nproc=2 audit=16 budget=65536 maxbudget=65536\n"
	"0 1 fork - glenda = OK\n1 1 exit = OK\n";

static void
simreplay(benchmark::State &st, std::string file, size_t nevents)
{
	std::string tmp = "build/bench/sim-" + tracename(file), triv = "build/bench/trivial.trace";
	std::vector<double> base;
	double t, b;

	FILE *f = fopen(triv.c_str(), "w");
	if(f == nullptr || fputs(trivial, f) < 0 || fclose(f) != 0){
		st.SkipWithError("cannot write build/bench/trivial.trace");
		return;
	}
	for(int i = 0; i < 5; i++)
		base.push_back(runsim(triv, tmp + "-trivial"));
	std::sort(base.begin(), base.end());
	b = base[2];
	if(b < 0){
		st.SkipWithError("pebblesim failed on a trivial trace");
		return;
	}
	for(auto _ : st){
		if((t = runsim(file, tmp)) < 0){
			st.SkipWithError(("pebblesim replay failed; see " + tmp + ".err").c_str());
			break;
		}
		st.SetIterationTime(std::max(t - b, 1e-9));
	}
	st.SetItemsProcessed(st.iterations() * nevents);
	st.counters["events"] = nevents;
	st.counters["startup_seconds"] = b;
}

/*
 * The simulator as DESIGN.md measures it: a run of a profile, 1,000
 * procs, 1,000,000 events, the checker on after every event.
 */
enum { Simevents = 1000000 };

static void
simrun(benchmark::State &st, std::string profile)
{
	std::string out = "build/bench/simrun-" + profile;
	std::string args = "run --seed 1 --workload " + profile + " --procs 1000 --events " + std::to_string(Simevents);
	double t;

	for(auto _ : st){
		if((t = runcmd(args, out)) < 0){
			st.SkipWithError(("pebblesim run failed; see " + out + ".err").c_str());
			break;
		}
		st.SetIterationTime(t);
	}
	st.SetItemsProcessed(st.iterations() * Simevents);
	st.counters["events"] = Simevents;
}

void
registerreplay(void)
{
	struct stat sb;
	bool sim = stat(simpath(), &sb) == 0;

	for(auto &f : tracefiles()){
		std::string n = tracename(f);
		Trace t = parse(f);
		if(t.err.empty() && !t.cannot.empty())
			benchmark::AddCustomContext("replay_not_run:" + n, t.cannot);
		else
			repsstats(benchmark::RegisterBenchmark(("replay/trace:" + n).c_str(), replay, f));
		if(sim){
			benchmark::RegisterBenchmark(("sim/replay/trace:" + n).c_str(), simreplay, f, t.nevents)
				->UseManualTime()->Iterations(3)->Repetitions(1);
		}
	}
	if(sim)
		for(const char *p : {"keyserver", "tls", "forkstorm", "pressure", "mixed", "swarm"})
			benchmark::RegisterBenchmark((std::string("sim/run/workload:") + p).c_str(), simrun, std::string(p))
				->UseManualTime()->Iterations(1)->Repetitions(1);
	benchmark::AddCustomContext("pebblesim", sim ? simpath() : "missing");
}
