/*
 * What every benchmark file shares: the one Pebble instance of the
 * run (on the POSIX host: mmap'd, mlock'd arena), its procs, the
 * allocators being compared, and a ring of random indices drawn
 * before timing so that no PRNG runs inside a timed loop.
 *
 * Every benchmark checks every return code and stops with
 * SkipWithError on a failure: a figure is only reported for calls
 * that did what they were asked.
 */
#ifndef PEBBLE_BENCH_H
#define PEBBLE_BENCH_H

#include <benchmark/benchmark.h>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>
#include <cstdlib>
#include <openssl/crypto.h>
#include <sodium.h>

extern "C" {
#include "pebble.h"
#include "host/posix.h"
}

enum {
	Heapsize	= 768<<20,	/* 1,000,000 live of 256 B, and the rest */
	Nproc		= 64,
	Auditsize	= 16384,
	Maxlive		= 1000000,
};

/* procs by role; each has its own slot, so its own area and lock */
enum {
	Pmain	= 0,	/* calls, pairs, steady state */
	Ppeer,		/* share/revoke target */
	Paudit,		/* audit on */
	Pmeta,		/* overhead counters */
	Pchild,		/* attach+detach */
	Pthread0,	/* threads in separate procs: Pthread0+thread_index */
	Pthreadaudit0	= Pthread0+2,	/* the same with audit on */
	Pmainaudit	= Pthread0+4,	/* pairs and steady state with audit on */
	Ptrace	= 16,	/* trace replay: Ptrace.. */
	Ntrace	= Nproc - Ptrace,
};

extern Proc	procs[Nproc];
Proc*	proc(int role);
void	benchinit(void);	/* the instance, the references, the context */
void	benchfail(benchmark::State&, const char *what, int err);

/* each file registers its benchmarks; main calls them in this order */
void	registercalls(void);
void	registersteady(void);
void	registeroverhead(void);
void	registerreplay(void);
void	registerreal(void);

/* the committed traces: traces/NAME.trace, or in $PEBBLE_TRACES */
std::vector<std::string>	tracefiles(void);
std::string	tracename(const std::string &path);

/* sizes 16 B .. 64 KiB */
void	sizes(benchmark::internal::Benchmark*, int step);
void	repsstats(benchmark::internal::Benchmark*);	/* p99 over repetitions */

/*
 * Indices drawn before timing: a ring of Nring entries, each below n.
 * Reading the ring is a sequential load, well under a nanosecond.
 */
enum { Nring = 1<<16 };
struct Ring {
	std::vector<uint32_t>	v;
	uint32_t	i = 0;
	Ring(uint32_t n, uint64_t seed);
	uint32_t	next() { uint32_t x = v[i]; i = (i+1) & (Nring-1); return x; }
};

/*
 * The allocators compared, with the same two calls.  release gets the
 * size because OpenSSL's clear_free and explicit_bzero need it.  alloc
 * returns nil on failure; Pebble keeps the error for the report.
 */
struct Pebble {
	Proc	*p;
	int	err = 0;
	explicit Pebble(Proc *q) : p(q) {}
	static const char	*name() { return "pebble"; }
	void*	alloc(size_t n) {
		void *v;
		if((err = pebble_secure_alloc(p, n, &v, PEBBLE_READ|PEBBLE_WRITE)) != 0)
			return nullptr;
		return v;
	}
	bool	release(void *v, size_t) { return (err = pebble_secure_free(p, v)) == 0; }
};

/* the same calls on procs with audit on: the default a user gets */
struct PebbleAudit : Pebble {
	explicit PebbleAudit(Proc *q) : Pebble(q) {}
	static const char	*name() { return "pebble_audit"; }
};

/* glibc: malloc, then explicit_bzero and free */
struct Glibc {
	static const char	*name() { return "glibc_bzero"; }
	void*	alloc(size_t n) { return malloc(n); }
	bool	release(void *v, size_t n) { explicit_bzero(v, n); free(v); return true; }
};

/* OpenSSL's secure heap, initialised once in benchinit */
struct Openssl {
	static const char	*name() { return "openssl_secure"; }
	void*	alloc(size_t n) { return CRYPTO_secure_malloc(n, __FILE__, __LINE__); }
	bool	release(void *v, size_t n) { CRYPTO_secure_clear_free(v, n, __FILE__, __LINE__); return true; }
};

/* libsodium: guard pages, mprotect and mlock per allocation */
struct Sodium {
	static const char	*name() { return "libsodium"; }
	void*	alloc(size_t n) { return sodium_malloc(n); }
	bool	release(void *v, size_t) { sodium_free(v); return true; }
};

extern size_t	opensslheap;

#endif
