/*
 * The benchmark program's start: one Pebble instance for the whole
 * run on the POSIX host, OpenSSL's secure heap and libsodium set up
 * once, and what a reader of the report must know about the run
 * (whether each arena is really mlock'd, heap sizes) put in Google
 * Benchmark's context so that it lands in the JSON beside the numbers.
 */
#include <algorithm>
#include <cstdio>
#include <random>
#include "bench.h"

Proc	procs[Nproc];
size_t	opensslheap = 1UL<<30;	/* 1,000,000 live of 256 B (512 MiB) and the pairs */
static int	opensslinit;

Proc*
proc(int role)
{
	return &procs[role];
}

Ring::Ring(uint32_t n, uint64_t seed) : v(Nring)
{
	std::mt19937_64 g(seed);

	for(auto &x : v)
		x = n > 1 ? (uint32_t)(g() % n) : 0;
}

void
benchfail(benchmark::State &st, const char *what, int err)
{
	std::string m = std::string(what) + ": " + pebble_strerror(err);
	st.SkipWithError(m.c_str());
}

void
sizes(benchmark::internal::Benchmark *b, int step)
{
	for(long n = 16; n <= 64*1024; n *= step)
		b->Arg(n);
}

static double
p99(const std::vector<double> &v)
{
	std::vector<double> s(v);
	size_t k;

	std::sort(s.begin(), s.end());
	k = (size_t)(0.99 * (s.size() - 1) + 0.5);
	return s[k];
}

void
repsstats(benchmark::internal::Benchmark *b)
{
	b->ComputeStatistics("p99", p99);
}

static void
die(const char *what, int err)
{
	fprintf(stderr, "pebblebench: %s: %s\n", what, pebble_strerror(err));
	exit(1);
}

void
benchinit(void)
{
	Pebbleconf c;
	PebbleSysStats st;
	int i, r;

	memset(&c, 0, sizeof c);
	c.heapsize = Heapsize;
	c.nproc = Nproc;
	c.auditsize = Auditsize;
	c.budget = Heapsize;
	/* a benchmark may run unlocked, by choice: the report says which it was */
	c.unlocked = 1;
	if((r = pebbleinit(&c)) != 0)
		die("pebbleinit", r);
	pebble_secure_max_budget = Heapsize;
	for(i = 0; i < Nproc; i++){
		procs[i].slot = i;
		procs[i].pid = 100 + i;
		strcpy(procs[i].user, "glenda");
		if(i == Pchild || i == Pmeta || i >= Ptrace)
			continue;	/* attached and detached by their benchmarks */
		if((r = pebble_secure_attach(nullptr, &procs[i])) != 0)
			die("attach", r);
		if((r = pebble_secure_budget_set(&procs[i], Heapsize)) != 0)
			die("budget_set", r);
		/* audit on (the default) for the audit benchmarks and the pebble_audit figures, off for the rest */
		if((r = pebble_set_secure_conf(&procs[i], "pebble.secure.audit",
		    i == Paudit || i == Pmainaudit || i == Pthreadaudit0 || i == Pthreadaudit0+1 ? "1" : "0")) != 0)
			die("setconf audit", r);
	}
	pebble_secure_sysstats(&st);

	opensslinit = CRYPTO_secure_malloc_init(opensslheap, 16);
	if(opensslinit == 0){
		fprintf(stderr, "pebblebench: CRYPTO_secure_malloc_init failed\n");
		exit(1);
	}
	if(sodium_init() < 0){
		fprintf(stderr, "pebblebench: sodium_init failed\n");
		exit(1);
	}

	benchmark::AddCustomContext("pebble_heap_bytes", std::to_string(st.heap_size));
	benchmark::AddCustomContext("pebble_arena_locked", std::to_string(st.locked));
	benchmark::AddCustomContext("pebble_record_size", std::to_string(st.record_size));
	benchmark::AddCustomContext("pebble_nproc", std::to_string(Nproc));
	benchmark::AddCustomContext("openssl_heap_bytes", std::to_string(opensslheap));
	/* CRYPTO_secure_malloc_init: 1 = mlock'd, 2 = heap made but mlock failed */
	benchmark::AddCustomContext("openssl_arena_locked", opensslinit == 1 ? "1" : "0");
	benchmark::AddCustomContext("openssl_version", OpenSSL_version(OPENSSL_VERSION));
	benchmark::AddCustomContext("libsodium_version", sodium_version_string());
	benchmark::AddCustomContext("compiler", "g++ " __VERSION__);
}

int
main(int argc, char **argv)
{
	benchinit();
	registercalls();
	registersteady();
	registeroverhead();
	registerreplay();
	registerreal();
	benchmark::Initialize(&argc, argv);
	if(benchmark::ReportUnrecognizedArguments(argc, argv))
		return 1;
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	pebbleshutdown();
	return 0;
}
