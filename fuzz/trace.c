/*
 * libFuzzer target: the trace parser and replay, on any bytes.  The
 * rule (traces/README.md): a trace is input from outside, so replay
 * ends with exit 0 (replayed), 2 (bad trace), 3 (diverged) or 4
 * (checker violation), and never crashes, hangs or takes memory past
 * the limit; libFuzzer's -timeout and -rss_limit_mb see to the last two.
 *
 * This file is the only glue between the fuzzer and the simulator:
 * replaytext() is what `pebblesim replay FILE` does after reading
 * FILE.  When the simulator's entry points move, only this changes.
 */
#include <stdint.h>
#include "../sim/sim.h"

/*
 * What the run may take: a config past it is refused up front as a bad
 * trace, the rule pebblesim's --max-memory (issue 10) gives replay.
 * Until pebblesim enforces it, the glue does, so that the fuzzer looks
 * for memory a trace takes by what it does, not by what it configures.
 * 64 MiB keeps a trace's writes (the simulator still shadows and fills
 * every byte written, issue 10) inside the fuzzer's -timeout.
 */
enum { Maxmem = 64<<20 };

static int
toobig(Conf *c)
{
	double m;

	m = (double)c->heap + (double)c->audit * 128 + (double)c->nproc * c->nproc / 8 + (double)c->nproc * 4096;
	return m > Maxmem;
}

static int
replaytext(char *text, usize n)
{
	char err[256];
	Conf c;
	Ev *ev;
	int nev, r;

	if(parsetrace(text, n, &c, &ev, &nev, err, sizeof err) < 0)
		return Xparse;
	if(toobig(&c)){
		free(ev);
		return Xparse;
	}
	r = replay("fuzz", ev, nev, &c, 0, 0, 1);
	free(ev);
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	int r;

	text = malloc(size + 1);
	if(text == nil)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	r = replaytext(text, size);
	free(text);
	if(r != Xok && r != Xparse && r != Xdiverge && r != Xcheck){
		fprintf(stderr, "fuzz/trace: replay ended with %d\n", r);
		abort();
	}
	return 0;
}
