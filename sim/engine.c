/*
 * The engine: making a core instance for a run or a replay, running
 * events through exec.c until the end or the first failure, and the
 * summary.  Everything printed on stdout is a function of the events;
 * the wall-clock rate goes to stderr, so outputs compare byte for byte.
 */
#include <time.h>
#include <unistd.h>
#include "sim.h"
#include "wl.h"

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

/*
 * What an instance of c costs before any event: the core's tables
 * (access maps nproc^2/8, a record a proc, page metadata) and the
 * simulator's proc table.  The heap and the audit ring are touched
 * lazily, and the shadow grows with what is written (checked as the
 * run goes, exec.c).
 */
static usize
fixedcost(Conf *c)
{
	usize n;

	n = (usize)c->nproc * c->nproc / 8;
	n += (usize)c->nproc * (sizeof(Proc) + sizeof(SProc*) + sizeof(int) + 4096);
	n += c->heap / 4096 * 64;
	n += c->heap / 512;	/* zero.c's bit a line */
	return n;
}

/*
 * DESIGN.md (Encryption), checked before every run: a host that cannot
 * lock the arena does not start the core unless the caller chose to
 * run unlocked, and then the statistics say so.  The real start comes
 * after, from a reset host, so the run is as it would be without this.
 */
static int
lockrule(Pebbleconf *k)
{
	PebbleSysStats st;
	long held;
	int r, bad;

	bad = 0;
	held = detblocks();	/* a run before this one may have leaked some: that one's failure, not this */
	detreset(0);
	detrefuselock(1);
	k->unlocked = 0;
	if((r = pebbleinit(k)) != PEBBLE_ERR_NOMEM || pebblelive()){
		fprintf(stderr, "pebblesim: the core started (%s) on a host that could not lock its arena, though the caller did not choose to run unlocked\n", pebble_strerror(r));
		bad = 1;
		pebbleshutdown();
	}
	k->unlocked = 1;
	if((r = pebbleinit(k)) != PEBBLE_ERR_OK){
		fprintf(stderr, "pebblesim: the core did not start unlocked though the caller chose it: %s\n", pebble_strerror(r));
		bad = 1;
	}else{
		if(pebble_secure_sysstats(&st) != PEBBLE_ERR_OK || st.locked != 0){
			fprintf(stderr, "pebblesim: started unlocked, the statistics do not say so\n");
			bad = 1;
		}
		pebbleshutdown();
	}
	k->unlocked = 0;
	if(detblocks() != held){
		fprintf(stderr, "pebblesim: a refused start left %ld blocks of host memory\n", detblocks() - held);
		bad = 1;
	}
	return bad ? -1 : 0;
}

int
coreinit(Conf *c, usize maxmem)
{
	Pebbleconf k;
	int r;

	if(maxmem != 0 && fixedcost(c) > maxmem){
		fprintf(stderr, "pebblesim: the configuration (heap %lu, nproc %d, audit %d) needs %lu bytes before its first event, more than --max-memory %lu\n",
			(ulong)c->heap, c->nproc, c->audit, (ulong)fixedcost(c), (ulong)maxmem);
		return -2;
	}
	if(c->budget == 0)
		c->budget = PEBBLE_DEFBUDGET;
	memset(&k, 0, sizeof k);
	k.heapsize = c->heap;
	k.nproc = c->nproc;
	k.auditsize = c->audit;
	k.budget = c->budget;
	if(lockrule(&k) < 0)
		return -1;
	entropy = entropyseed(c->seed);
	detreset(entropy);
	if((r = pebbleinit(&k)) != PEBBLE_ERR_OK){
		fprintf(stderr, "pebblesim: pebbleinit: %s\n", pebble_strerror(r));
		return -1;
	}
	pebble_secure_max_budget = c->maxbudget;
	siminit(c);
	sim.maxmem = maxmem;
	sim.arena = peekarena(&sim.arenasize);
	zeroinit();
	t0 = now();
	return 0;
}

static uvlong	digest;

void
coredone(void)
{
	lastdigest = digest = pebble_secure_digest();
	pebbleshutdown();
	sim.inv[Iteardown]++;
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
			"\"fullscans\":%llu,\"sandwiches\":%llu,\"digest\":\"%016llx\",\"clean\":%s,\"exit\":%d%s",
			(ulong)sim.peak, sim.wiped, sim.deferred, sim.audithead, sim.pagedout,
			sim.fullscans, sim.sandwiches, digest, sim.fail ? "false" : "true", sim.fail, extra ? extra : "");
		coverjson(f, sim.cov, sim.inv, sim.bound);
		fprintf(f, "}\n");
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
	coverprint(f, sim.cov, sim.inv, sim.bound);
}

int
replay(char *file, Ev *evs, int nev, Conf *c, usize maxmem, int lenient, int json, int quiet)
{
	int i, fail, r;

	if((r = coreinit(c, maxmem)) < 0)
		return r == -2 ? Xparse : Xusage;
	sim.lenient = lenient;
	crashreplay(file, nil, quiet, json);
	for(i = 0; i < nev && !sim.fail; i++){
		execev(&evs[i]);
		if(!quiet)
			progress(i+1, nev);
	}
	if(!sim.fail)
		checkfull(1);
	coredone();
	crashdone();
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

/*
 * The one entry point from bytes to a checked replay (the command
 * line, Python and the fuzz target use it): parse the whole trace
 * (a bad line: NAME:LINE: reason, exit 2), refuse a configuration
 * that cannot fit maxmem (exit 2), run it.
 */
int
replaytext(char *name, char *text, usize n, usize maxmem, int lenient, int json, int quiet)
{
	char err[256];
	Conf c;
	Ev *ev;
	int nev, r;

	if(parsetrace(text, n, &c, &ev, &nev, err, sizeof err) < 0){
		if(!quiet)
			fprintf(stderr, "%s:%s\n", name, err + 5);
		snprintf(sim.msg, sizeof sim.msg, "%s", err);
		return Xparse;
	}
	if(!json && !quiet)
		printf("replay %s: seed %llu, %d events, heap %lu nproc %d audit %d budget %lu maxbudget %lu workload %s\n",
			name, c.seed, nev, (ulong)c.heap, c.nproc, c.audit, (ulong)c.budget, (ulong)c.maxbudget,
			c.wname[0] ? c.wname : "-");
	r = replay(name, ev, nev, &c, maxmem, lenient, json, quiet);
	free(ev);
	return r;
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
	if(coreinit(&c, o->maxmem) < 0)
		return Xusage;
	crashrun(o, &c, o->crashing);
	if(o->rec != nil){
		fmthdr(o->rec, &c);
		fprintf(o->rec, "# recorded by ");
		reproduce(o->rec, o, &c);
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
	crashdone();
	if(!o->quiet)
		progressdone();
	fail = sim.fail;
	lastrun = sim;
	if(!o->quiet){
		if(fail){
			report(o->json ? stderr : stdout, nil);
			reproduce(o->json ? stderr : stdout, o, &c);
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
