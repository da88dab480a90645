/*
 * A crash in the core is a failure like any other: a core bug that
 * corrupts the core's own metadata (a grant left on a freed span) can
 * take the process down before any check sees it.  On SIGSEGV, SIGBUS,
 * SIGFPE, SIGILL or SIGABRT the handler reports the seed, the event
 * being run and the reproduce line, as a violation's report does; a
 * trace being written gets the crashing event as its last line, with
 * no result, so replaying the trace crashes the same way and the
 * shrinker (which treats a signal as a failure) can shrink it.  A run
 * with no trace being written then execs itself as `record` of the
 * same run: the run is deterministic, so the second process crashes on
 * the same event and leaves the trace behind.  Either way the process
 * dies of the signal it got, so whoever ran it sees the crash.
 *
 * The handler calls stdio, which is not async-signal-safe: the process
 * is dying of a fault in code it controls, single-threaded, and a
 * garbled report is no worse than none.  Under AddressSanitizer no
 * handler is installed: its own report is better.
 */
#include <signal.h>
#include <unistd.h>
#include "sim.h"

enum { Maxargs = 40 };

static int	armed;		/* a run or replay is under way */
static int	loud;		/* it may report */
static int	json;		/* ... on stderr */
static char	*file;		/* the trace being replayed, nil: a run */
static FILE	*rec;		/* the trace being written */
static char	*recname;	/* its name, when this process is a crash's re-run */
static char	line[1024];	/* the reproduce line, "" if none */
static char	cmd[1024];	/* ... cut into the argv of `pebblesim record` of the run */
static char	*again[Maxargs];	/* nil: no re-run */

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
static void
reraise(int sig)
{
	signal(sig, SIG_DFL);
	raise(sig);
	_exit(128 + sig);
}

static void
crashed(int sig)
{
	char buf[1024];
	Ev e;
	FILE *f;

	if(!armed)
		reraise(sig);
	e = sim.cur;
	e.result = Rnone;
	fmtev(buf, sizeof buf, &e);
	if(rec != nil){
		fprintf(rec, "%s\n", buf);
		fflush(rec);
	}
	if(loud){
		f = json ? stderr : stdout;
		fflush(stdout);
		if(file == nil)
			fprintf(f, "CRASHED seed %llu event %llu: signal %d (%s)\n\t%s\n",
				sim.conf.seed, sim.nev+1, sig, strsignal(sig), buf);
		else
			fprintf(f, "CRASHED %s:%d: event %llu: signal %d (%s)\n\t%s\n",
				file, sim.cur.line, sim.nev+1, sig, strsignal(sig), buf);
		fputs(line, f);
		fflush(f);
	}
	if(rec != nil && recname != nil){
		fprintf(json ? stderr : stdout, "trace %s\nreplay: pebblesim replay %s; shrink: pebblesim shrink %s\n",
			recname, recname, recname);
		fflush(json ? stderr : stdout);
	}
	if(again[0] != nil){
		signal(sig, SIG_DFL);
		execv("/proc/self/exe", again);
	}
	reraise(sig);
}

/* from main: catch the signals a crash raises */
void
crashcatch(void)
{
	static char stack[1<<16];
	static int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	struct sigaction sa;
	stack_t ss;
	int i;

	/* a stack of its own: a crash may be a stack overflow */
	ss.ss_sp = stack;
	ss.ss_size = sizeof stack;
	ss.ss_flags = 0;
	sigaltstack(&ss, nil);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = crashed;
	sa.sa_flags = SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for(i = 0; i < (int)nelem(sigs); i++)
		sigaction(sigs[i], &sa, nil);
}
#else
void
crashcatch(void)
{
}
#endif

static char*
defname(uvlong seed)
{
	static char b[64];

	snprintf(b, sizeof b, "pebblesim-%llu.trace", seed);
	return b;
}

/*
 * A run begins: what its crash would report, and unless this process
 * writes a trace itself, the command that records the same run to
 * --fail-trace (or pebblesim-SEED.trace) when it crashes.
 */
void
crashrun(Runopt *o, Conf *c, int crashing)
{
	FILE *f;
	char *p, *name;
	int n;

	armed = 1;
	loud = !o->quiet;
	json = o->json;
	file = nil;
	rec = o->rec;
	recname = crashing ? o->failtrace : nil;
	again[0] = nil;
	line[0] = 0;
	if(!loud)
		return;
	/* the same words a violation's report gives */
	if((f = fmemopen(line, sizeof line, "w")) == nil)
		return;
	reproduce(f, o, c);
	fclose(f);
	if(crashing || o->rec != nil || o->stopat != 0)
		return;
	p = strstr(line, "pebblesim run ");
	if(p == nil)
		return;
	name = o->failtrace != nil ? o->failtrace : "";
	snprintf(cmd, sizeof cmd, "pebblesim record %s", p + strlen("pebblesim run "));
	n = 0;
	for(p = strtok(cmd, " \n"); p != nil && n < Maxargs - 6; p = strtok(nil, " \n"))
		again[n++] = p;
	if(o->json)
		again[n++] = "--json";
	again[n++] = "--crashed";
	again[n++] = "-o";
	again[n++] = name[0] ? name : defname(o->seed);
	again[n] = nil;
}

/* a replay (or a shrinker's candidate) begins */
void
crashreplay(char *name, FILE *out, int quiet, int isjson)
{
	armed = 1;
	loud = !quiet;
	json = isjson;
	file = name;
	rec = out;
	recname = nil;
	again[0] = nil;
	line[0] = 0;
}

/* the run is over: a crash now is not the simulation's */
void
crashdone(void)
{
	armed = 0;
	rec = nil;
}
