/*
 * The engine: making a core instance for a run or a replay, running
 * events through exec.c until the end or the first failure, and the
 * summary.  Everything printed on stdout is a function of the events;
 * the wall-clock rate goes to stderr, so outputs compare byte for byte.
 */
#include <time.h>
#include <unistd.h>
#include "sim.h"

static double	t0;
static uvlong	entropy;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* the core's entropy comes from the seed too, through its own stream */
static uvlong
entropyseed(uvlong seed)
{
	uvlong x;

	x = seed ^ 0x656e74726f707921ULL;
	return splitmix(&x);
}

Sim	lastrun;
uvlong	lastdigest;

int
coreinit(Conf *c)
{
	Pebbleconf k;
	int r;

	if(c->budget == 0)
		c->budget = PEBBLE_DEFBUDGET;
	entropy = entropyseed(c->seed);
	detreset(entropy);
	memset(&k, 0, sizeof k);
	k.heapsize = c->heap;
	k.nproc = c->nproc;
	k.auditsize = c->audit;
	k.budget = c->budget;
	if((r = pebbleinit(&k)) != PEBBLE_ERR_OK){
		fprintf(stderr, "pebblesim: pebbleinit: %s\n", pebble_strerror(r));
		return -1;
	}
	pebble_secure_max_budget = c->maxbudget;
	siminit(c);
	sim.arena = peekarena(&sim.arenasize);
	t0 = now();
	return 0;
}

static uvlong	digest;

void
coredone(void)
{
	lastdigest = digest = pebble_secure_digest();
	pebbleshutdown();
	if(detblocks() != 0 && !sim.fail)
		violation(nil, "teardown left %ld blocks of host memory", detblocks());
}

static void
progress(uvlong n, uvlong total)
{
	static int tty = -1;

	if(tty < 0)
		tty = isatty(2);
	if(tty && n % 65536 == 0)
		fprintf(stderr, "\r%llu/%llu events", n, total);
}

static void
progressdone(void)
{
	if(isatty(2))
		fprintf(stderr, "\r\033[K");
}

static void
rate(char *what)
{
	double dt;

	dt = now() - t0;
	if(dt <= 0)
		dt = 1e-9;
	fprintf(stderr, "pebblesim: %s: %llu events in %.3f s: %.0f events/s\n", what, sim.nev, dt, sim.nev / dt);
}

void
summary(FILE *f, int json, char *mode, char *extra)
{
	int i, first;
	PebbleSysStats st;

	memset(&st, 0, sizeof st);
	if(json){
		fprintf(f, "{\"mode\":\"%s\",\"seed\":%llu,\"workload\":\"%s\",\"events\":%llu,\"ops\":{",
			mode, sim.conf.seed, sim.conf.wname, sim.nev);
		for(first = 1, i = 0; i < Nop; i++)
			if(sim.ops[i]){
				fprintf(f, "%s\"%s\":%llu", first ? "" : ",", opname[i], sim.ops[i]);
				first = 0;
			}
		fprintf(f, "},\"results\":{");
		for(first = 1, i = 0; i < 8; i++)
			if(sim.res[i]){
				fprintf(f, "%s\"%s\":%llu", first ? "" : ",", i < 7 ? resname[i] : "count", sim.res[i]);
				first = 0;
			}
		fprintf(f, "},\"peak\":%lu,\"wiped\":%llu,\"deferred\":%llu,\"audit\":%llu,\"pagedout\":%llu,"
			"\"fullscans\":%llu,\"sandwiches\":%llu,\"digest\":\"%016llx\",\"clean\":%s,\"exit\":%d%s}\n",
			(ulong)sim.peak, sim.wiped, sim.deferred, sim.audithead, sim.pagedout,
			sim.fullscans, sim.sandwiches, digest, sim.fail ? "false" : "true", sim.fail, extra ? extra : "");
		return;
	}
	fprintf(f, "events %llu\nops", sim.nev);
	for(i = 0; i < Nop; i++)
		if(sim.ops[i])
			fprintf(f, " %s %llu", opname[i], sim.ops[i]);
	fprintf(f, "\nresults");
	for(i = 0; i < 8; i++)
		if(sim.res[i])
			fprintf(f, " %s %llu", i < 7 ? resname[i] : "counts", sim.res[i]);
	fprintf(f, "\npeak %lu bytes in use; wiped %llu bytes; deferred %llu bytes; audit %llu entries; paged out %llu pages\n",
		(ulong)sim.peak, sim.wiped, sim.deferred, sim.audithead, sim.pagedout);
	fprintf(f, "checks %llu full scans, %llu failed calls proved to change nothing\n", sim.fullscans, sim.sandwiches);
	fprintf(f, "digest %016llx\n", digest);
}

static void
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
		fprintf(f, "%s:%d: bad trace: %s\n\t%s\n", file, sim.failed.line, sim.msg, buf);
	else
		fprintf(f, "CHECK FAILED seed %llu event %llu%s: %s\n\t%s\n", sim.conf.seed, sim.failev,
			file != nil ? "" : "", sim.msg, buf);
	if(file != nil && sim.fail == Xcheck)
		fprintf(f, "%s:%d: the failing event\n", file, sim.failed.line);
}

int
replay(char *file, Ev *evs, int nev, Conf *c, int lenient, int json, int quiet)
{
	int i, fail;

	if(coreinit(c) < 0)
		return Xusage;
	sim.lenient = lenient;
	for(i = 0; i < nev && !sim.fail; i++){
		execev(&evs[i]);
		if(!quiet)
			progress(i+1, nev);
	}
	if(!sim.fail)
		checkfull(1);
	coredone();
	if(!quiet)
		progressdone();
	fail = sim.fail;
	lastrun = sim;
	if(!quiet){
		if(fail)
			report(json ? stderr : stdout, file);
		summary(stdout, json, "replay", nil);
		rate("replay");
	}
	simfree();
	return fail;
}

/* a failing run again, recorded up to the failing event */
static void
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
	r.stopat = sim.failev;
	r.quiet = 1;
	r.json = 0;
	r.failtrace = nil;
	simrun(&r);
	fclose(f);
	fprintf(o->json ? stderr : stdout, "trace %s\nreplay: pebblesim replay %s; shrink: pebblesim shrink %s\n", name, name, name);
}

/*
 * The command that runs this very run again: every option that shapes
 * it (those not given were drawn from the seed, and an option given
 * overrides a draw without moving the others).
 */
static void
runline(FILE *f, Runopt *o, char *wname)
{
	fprintf(f, "pebblesim run --seed %llu --workload %s --procs %ld --events %ld", o->seed, wname, o->procs, o->events);
	if(o->heap != 0)
		fprintf(f, " --heap %lu", (ulong)o->heap);
	if(o->audit != 0)
		fprintf(f, " --audit %d", o->audit);
	if(o->faults != nil)
		fprintf(f, " --faults %s", o->faults);
	fprintf(f, "\n");
}

int
simrun(Runopt *o)
{
	Conf c;
	Ev e;
	char buf[1024];
	int fail;
	FILE *out;

	out = o->quiet || o->json ? nil : stdout;
	wlsetup(o, &c, out);
	if(coreinit(&c) < 0)
		return Xusage;
	if(o->rec != nil){
		fmthdr(o->rec, &c);
		fprintf(o->rec, "# recorded by ");
		runline(o->rec, o, c.wname);
	}
	while(sim.nev < (uvlong)o->events && !sim.fail && wlnext(&e)){
		e.result = execev(&e);
		if(e.result == Rnone)
			continue;
		if(o->rec != nil){
			fmtev(buf, sizeof buf, &e);
			fprintf(o->rec, "%s\n", buf);
		}
		wlafter(&e, e.result);
		if(o->stopat != 0 && sim.nev >= o->stopat)
			break;
		if(!o->quiet)
			progress(sim.nev, o->events);
	}
	if(!sim.fail && o->stopat == 0)
		checkfull(1);
	coredone();
	if(!o->quiet)
		progressdone();
	fail = sim.fail;
	lastrun = sim;
	if(!o->quiet){
		if(fail){
			report(o->json ? stderr : stdout, nil);
			printf("reproduce: ");
			runline(stdout, o, c.wname);
		}
		if(!o->nosum){
			summary(stdout, o->json, "run", nil);
			rate("run");
		}
	}
	simfree();
	wlfree();
	if(fail && o->stopat == 0 && !o->quiet)
		failtrace(o);
	return fail;
}
