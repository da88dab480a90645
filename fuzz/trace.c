/*
 * libFuzzer target: the trace parser and replay, on any bytes.  The
 * rule (traces/README.md): a trace is input from outside, so replay
 * ends with exit 0 (replayed), 2 (bad trace), 3 (diverged) or 4
 * (checker violation), and never crashes, hangs or takes memory past
 * the limit; libFuzzer's -timeout and -rss_limit_mb see to the last two.
 *
 * This file is the only glue between the fuzzer and the simulator:
 * replaytext() is what `pebblesim replay FILE` does after reading
 * FILE (sim/engine.c: replaytext).  When it moves, only this changes.
 */
#include <stdint.h>
#include "../sim/sim.h"

/*
 * The memory a replay may take: pebblesim's --max-memory (issue 10)
 * refuses a trace whose config cannot fit, exit 2.  64 MiB keeps a
 * trace's work inside the fuzzer's -timeout and -rss_limit_mb.
 */
enum { Maxmem = 64<<20 };

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
	r = replaytext("fuzz", text, size, Maxmem, 0, 0, 1);
	free(text);
	if(r != Xok && r != Xparse && r != Xdiverge && r != Xcheck){
		fprintf(stderr, "fuzz/trace: replay ended with %d\n", r);
		abort();
	}
	return 0;
}
