/*
 * The failure record: the first violation stops the run with the
 * event that showed it; the report names the seed, the event and the
 * reason, the command that reproduces the run byte for byte (every
 * option that shapes it, resolved), and a trace of the run up to the
 * failing event, made by running the seed again with recording on.
 */
#include <stdarg.h>
#include "sim.h"
#include "wl.h"

void
violation(Ev *e, char *fmt, ...)
{
	va_list arg;

	if(sim.fail)
		return;
	sim.fail = Xcheck;
	sim.failev = sim.nev;
	sim.failed = e != nil ? *e : sim.cur;
	va_start(arg, fmt);
	vsnprintf(sim.msg, sizeof sim.msg, fmt, arg);
	va_end(arg);
}

/* a malformed trace found while running it: not the core's fault */
void
tracebad(Ev *e, char *msg)
{
	if(sim.fail)
		return;
	sim.fail = Xparse;
	sim.failev = sim.nev;
	sim.failed = *e;
	snprintf(sim.msg, sizeof sim.msg, "%s", msg);
}

void
report(FILE *f, char *file)
{
	char buf[1024], rb[32];

	if(sim.fail == Xdiverge){
		fprintf(f, "%s:%d: divergence at event %llu: expected %s, got %s\n", file, sim.failed.line, sim.failev,
			fmtres(rb, sim.failed.result, sim.failed.op), strstr(sim.msg, "got ") + 4);
		fmtev(buf, sizeof buf, &sim.failed);
		fprintf(f, "\t%s\n", buf);
		return;
	}
	fmtev(buf, sizeof buf, &sim.failed);
	if(sim.fail == Xparse)
		fprintf(f, "%s:%d: %s: %s\n\t%s\n", file != nil ? file : "run", sim.failed.line,
			sim.failed.line ? "bad trace" : "refused", sim.msg, buf);
	else
		fprintf(f, "CHECK FAILED seed %llu event %llu: %s\n\t%s\n", sim.conf.seed, sim.failev, sim.msg, buf);
	if(file != nil && sim.fail == Xcheck)
		fprintf(f, "%s:%d: the failing event\n", file, sim.failed.line);
}

/* the command line that runs this run again: every option that shapes it, as resolved */
void
reproduce(FILE *f, Runopt *o, Conf *c)
{
	fprintf(f, "reproduce: pebblesim run --seed %llu --workload %s --procs %ld --events %ld --heap %lu --audit %d --faults ",
		o->seed, c->wname, o->procs, o->events, (ulong)c->heap, c->audit);
	printfaults(f, wlfaults());
	fprintf(f, "\n");
}

/* a failing run again, recorded up to the failing event */
void
failtrace(Runopt *o)
{
	Runopt r;
	FILE *f;
	char name[256];

	r = *o;
	if(o->failtrace != nil)
		snprintf(name, sizeof name, "%s", o->failtrace);
	else
		snprintf(name, sizeof name, "pebblesim-%llu.trace", o->seed);
	if((f = fopen(name, "w")) == nil){
		fprintf(stderr, "pebblesim: cannot write %s\n", name);
		return;
	}
	r.rec = f;
	r.stopat = lastrun.failev;
	r.quiet = 1;
	r.json = 0;
	r.failtrace = nil;
	simrun(&r);
	fclose(f);
	fprintf(o->json ? stderr : stdout, "trace %s\nreplay: pebblesim replay %s; shrink: pebblesim shrink %s\n", name, name, name);
}
