/*
 * pebblesim's command line: run, record, replay, sweep, shrink.
 * Exit codes say what kind of failure it was (sim.h: Xok ... Xcheck).
 */
#include <time.h>
#include <unistd.h>
#include "sim.h"

static void
usage(void)
{
	fprintf(stderr,
		"usage: pebblesim run --seed N [--workload P] [--procs N] [--events N] [--heap SIZE]\n"
		"                     [--audit N] [--faults LIST] [--fail-trace FILE] [--json]\n"
		"       pebblesim record --seed N [run options] -o FILE\n"
		"       pebblesim replay [--json] [--max-memory SIZE] FILE\n"
		"       pebblesim sweep --seeds A-B [run options]\n"
		"       pebblesim shrink FILE [-o OUT]\n"
		"workloads: keyserver tls forkstorm pressure mixed swarm; faults: kill,malloc,budget,heap,off,pager | all | none\n"
		"exit: 0 clean, 1 usage, 2 bad trace, 3 replay diverged, 4 checker violation\n");
	exit(Xusage);
}

static uvlong
number(char *s, int suffix)
{
	char *e;
	uvlong v;

	if(s == nil || *s < '0' || *s > '9')
		usage();
	v = strtoull(s, &e, 10);
	if(suffix && (*e == 'k' || *e == 'K'))
		v <<= 10, e++;
	else if(suffix && (*e == 'm' || *e == 'M'))
		v <<= 20, e++;
	else if(suffix && (*e == 'g' || *e == 'G'))
		v <<= 30, e++;
	if(*e != 0)
		usage();
	return v;
}

typedef struct Args Args;
struct Args {
	Runopt	o;
	char	*out;
	char	*file;
	char	*seeds;
	int	seedset;
};

static void
parse(int argc, char **argv, Args *a)
{
	int i;
	char *s;

	memset(a, 0, sizeof *a);
	a->o.maxmem = Defmaxmem;
	for(i = 0; i < argc; i++){
		s = argv[i];
		if(strcmp(s, "--json") == 0)
			a->o.json = 1;
		else if(strcmp(s, "--quiet") == 0)
			a->o.quiet = 1;
		else if(strcmp(s, "--crashed") == 0)	/* internal: crash.c's re-run */
			a->o.crashing = 1;
		else if(s[0] != '-'){
			if(a->file != nil)
				usage();
			a->file = s;
		}else if(i+1 >= argc)
			usage();
		else if(strcmp(s, "--seed") == 0)
			a->o.seed = number(argv[++i], 0), a->seedset = 1;
		else if(strcmp(s, "--seeds") == 0)
			a->seeds = argv[++i];
		else if(strcmp(s, "--workload") == 0)
			a->o.workload = argv[++i];
		else if(strcmp(s, "--procs") == 0)
			a->o.procs = number(argv[++i], 0);
		else if(strcmp(s, "--events") == 0)
			a->o.events = number(argv[++i], 0);
		else if(strcmp(s, "--heap") == 0)
			a->o.heap = number(argv[++i], 1);
		else if(strcmp(s, "--audit") == 0)
			a->o.audit = number(argv[++i], 0);
		else if(strcmp(s, "--faults") == 0)
			a->o.faults = argv[++i];
		else if(strcmp(s, "--max-memory") == 0)
			a->o.maxmem = number(argv[++i], 1);
		else if(strcmp(s, "--fail-trace") == 0)
			a->o.failtrace = argv[++i];
		else if(strcmp(s, "-o") == 0)
			a->out = argv[++i];
		else
			usage();
	}
	if(a->o.procs > PEBBLE_MAXNPROC - PEBBLE_MAXNPROC/5 - 8 || (a->o.heap != 0 && (a->o.heap > PEBBLE_MAXHEAP || a->o.heap < 65536))
	|| a->o.audit > PEBBLE_MAXAUDIT){
		fprintf(stderr, "pebblesim: --procs at most 13099, --heap from 64k to 2g, --audit at most 16777216\n");
		exit(Xusage);
	}
}

static int
cmdreplay(Args *a)
{
	char *text;
	usize n;
	int r;

	if(a->file == nil)
		usage();
	if((text = readfile(a->file, &n)) == nil){
		fprintf(stderr, "pebblesim: cannot read %s\n", a->file);
		return Xusage;
	}
	r = replaytext(a->file, text, n, a->o.maxmem, 0, a->o.json, 0);
	free(text);
	return r;
}

static int
cmdsweep(Args *a)
{
	uvlong lo, hi, s, events, ops[Nop], res[8], h;
	static uvlong cov[Nop][Nres], inv[Ninv], bound[Nbound];
	char *dash;
	int r, i, first;
	double t0;

	if(a->seeds == nil || (dash = strchr(a->seeds, '-')) == nil)
		usage();
	*dash = 0;
	lo = number(a->seeds, 0);
	hi = number(dash+1, 0);
	*dash = '-';
	memset(ops, 0, sizeof ops);
	memset(res, 0, sizeof res);
	events = 0;
	h = 0xcbf29ce484222325ULL;
	r = 0;
	t0 = clock() / (double)CLOCKS_PER_SEC;
	for(s = lo; s <= hi; s++){
		Runopt o = a->o;
		o.seed = s;
		o.quiet = 1;
		o.json = 0;
		r = simrun(&o);
		events += lastrun.nev;
		for(i = 0; i < Nop; i++)
			ops[i] += lastrun.ops[i];
		for(i = 0; i < 8; i++)
			res[i] += lastrun.res[i];
		for(i = 0; i < Nop*Nres; i++)
			cov[i/Nres][i%Nres] += lastrun.cov[i/Nres][i%Nres];
		for(i = 0; i < Ninv; i++)
			inv[i] += lastrun.inv[i];
		for(i = 0; i < Nbound; i++)
			bound[i] += lastrun.bound[i];
		h = (h ^ lastdigest) * 0x100000001b3ULL;
		if(!a->o.json)
			printf("seed %llu %s events %llu digest %016llx %s\n", s, lastrun.conf.wname, lastrun.nev, lastdigest,
				r ? "FAIL" : "ok");
		fflush(stdout);
		if(r && !a->o.json)
			printf("\tevent %llu: %s\n", lastrun.failev, lastrun.msg);
		if(r){
			/* run it again, loud, to print the report and write its trace */
			o = a->o;
			o.seed = s;
			o.nosum = 1;
			simrun(&o);
			break;
		}
		if(s == hi)
			break;
	}
	if(a->o.json){
		printf("{\"mode\":\"sweep\",\"seeds\":\"%s\",\"runs\":%llu,\"events\":%llu,\"ops\":{", a->seeds, s - lo + 1, events);
		for(first = 1, i = 0; i < Nop; i++)
			if(ops[i]){
				printf("%s\"%s\":%llu", first ? "" : ",", opname[i], ops[i]);
				first = 0;
			}
		printf("},\"results\":{");
		for(first = 1, i = 0; i < 8; i++)
			if(res[i]){
				printf("%s\"%s\":%llu", first ? "" : ",", i < 7 ? resname[i] : "count", res[i]);
				first = 0;
			}
		printf("},\"digest\":\"%016llx\",\"clean\":%s,\"exit\":%d", h, r ? "false" : "true", r);
		if(r)
			printf(",\"failed_seed\":%llu", s);
		coverjson(stdout, cov, inv, bound);
		printf("}\n");
	}else{
		coverprint(stdout, cov, inv, bound);
		printf("sweep %s: %llu events, digest %016llx, %s\n", a->seeds, events, h, r ? "FAILED" : "clean");
	}
	fprintf(stderr, "pebblesim: sweep: %llu events in %.1f s cpu\n", events, clock() / (double)CLOCKS_PER_SEC - t0);
	return r;
}

int
main(int argc, char **argv)
{
	Args a;
	FILE *f;
	int r;

	if(argc < 2)
		usage();
	parse(argc-2, argv+2, &a);
	setvbuf(stdout, nil, _IOFBF, 1<<16);
	crashcatch();
	if(strcmp(argv[1], "run") == 0 || strcmp(argv[1], "record") == 0){
		if(!a.seedset)
			usage();
		f = nil;
		if(strcmp(argv[1], "record") == 0){
			if(a.out == nil)
				usage();
			if((f = fopen(a.out, "w")) == nil){
				fprintf(stderr, "pebblesim: cannot write %s\n", a.out);
				return Xusage;
			}
			a.o.rec = f;
			if(a.o.crashing){
				a.o.quiet = 1;
				a.o.failtrace = a.out;
			}
		}
		r = simrun(&a.o);
		if(f != nil)
			fclose(f);
		if(a.o.crashing){
			fprintf(stderr, "pebblesim: the run again did not crash: the simulation is not deterministic\n");
			return Xcheck;
		}
		return r;
	}
	if(strcmp(argv[1], "replay") == 0)
		return cmdreplay(&a);
	if(strcmp(argv[1], "sweep") == 0)
		return cmdsweep(&a);
	if(strcmp(argv[1], "shrink") == 0){
		if(a.file == nil)
			usage();
		return shrink(a.file, a.out);
	}
	usage();
	return Xusage;
}
