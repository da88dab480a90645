/*
 * The simulator for Python (CFFI, ABI mode): replay a trace or run a
 * seed, quietly, and get the JSON summary back in a buffer.  Loaded
 * as build/libpebblesim.so, which carries its own copy of the core.
 */
#include "sim.h"

static int
capture(char *out, int nout, char *mode, int r)
{
	FILE *f;

	f = fmemopen(out, nout, "w");
	if(f == nil)
		return r;
	summary(f, 1, mode, nil);
	fclose(f);
	return r;
}

/* replay file; 0 if every result and every check held, else the exit code pebblesim would give */
int
pebblesim_replay(char *file, char *out, int nout, int lenient)
{
	char *text;
	usize n;
	int r;

	if((text = readfile(file, &n)) == nil)
		return Xusage;
	memset(&sim, 0, sizeof sim);
	memset(&lastrun, 0, sizeof lastrun);
	r = replaytext(file, text, n, Defmaxmem, lenient, 1, 1);
	free(text);
	if(r == Xparse && lastrun.nev == 0 && lastrun.fail == 0){
		snprintf(out, nout, "%s", sim.msg);
		return r;
	}
	sim = lastrun;
	capture(out, nout, "replay", r);
	if(r)
		snprintf(out + strlen(out), nout - strlen(out), "\nevent %llu line %d: %s", lastrun.failev, lastrun.failed.line, lastrun.msg);
	memset(&sim, 0, sizeof sim);
	return r;
}

/* parse only: 0, or Xparse with "line N: reason" in out */
int
pebblesim_parse(char *text, int n, char *out, int nout)
{
	Conf c;
	Ev *ev;
	int nev;

	if(parsetrace(text, n, &c, &ev, &nev, out, nout) < 0)
		return Xparse;
	free(ev);
	snprintf(out, nout, "%d events", nev);
	return 0;
}

/* run a seed; record to file if it is not nil */
int
pebblesim_run(uvlong seed, char *workload, long procs, long events, char *faults, char *record, char *out, int nout)
{
	Runopt o;
	FILE *f;
	int r;

	memset(&o, 0, sizeof o);
	o.seed = seed;
	o.workload = workload;
	o.procs = procs;
	o.events = events;
	o.faults = faults;
	o.quiet = 1;
	f = nil;
	if(record != nil && (f = fopen(record, "w")) == nil)
		return Xusage;
	o.rec = f;
	r = simrun(&o);
	if(f != nil)
		fclose(f);
	sim = lastrun;
	capture(out, nout, "run", r);
	if(r)
		snprintf(out + strlen(out), nout - strlen(out), "\nevent %llu: %s", lastrun.failev, lastrun.msg);
	memset(&sim, 0, sizeof sim);
	return r;
}
