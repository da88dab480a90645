/*
 * Shrinking a failing trace: delta debugging over its event lines.
 * Chunks are removed while the trace still fails the same way, then
 * single lines; a kept event keeps the fork of every pid it names (and
 * their ancestors' forks) and the alloc of every handle it names, so
 * the candidates stay meaningful.  Each candidate runs in a child
 * process, in lenient mode (events naming what does not exist are
 * skipped, recorded results are not compared), so a crash or a panic
 * in the core cannot take the shrinker down with it.  The result is
 * written with the results the core gave when it was run once more.
 */
#include <sys/wait.h>
#include <unistd.h>
#include "sim.h"

static Ev	*ev;
static int	nev;
static Conf	conf;
static char	*keep;
static char	*trial;
static int	wantst;		/* the original failure: exit code, or 128+signal */
static long	tests;

/* the status of replaying the events marked in k */
static int
status(char *k, FILE *out)
{
	pid_t pid;
	int st, i, r;
	Ev e;
	char buf[1024];

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if(pid < 0){
		perror("pebblesim: fork");
		exit(Xusage);
	}
	if(pid == 0){
		if(coreinit(&conf, 0) < 0)
			_exit(Xusage);
		sim.lenient = 1;
		crashreplay(nil, out, 1, 0);
		if(out != nil)
			fmthdr(out, &conf);
		for(i = 0; i < nev && !sim.fail; i++){
			if(!k[i])
				continue;
			e = ev[i];
			e.result = Rnone;
			r = execev(&e);
			if(out != nil && r != Rnone){
				e.result = r;
				fmtev(buf, sizeof buf, &e);
				fprintf(out, "%s\n", buf);
			}
		}
		if(out != nil)
			fflush(out);
		if(!sim.fail)
			checkfull(1);
		if(!sim.fail)
			coredone();
		if(out != nil && sim.fail)
			fprintf(out, "# fails with: %s\n", sim.msg);
		if(out != nil)
			fflush(out);
		_exit(sim.fail);
	}
	tests++;
	if(waitpid(pid, &st, 0) < 0)
		return -1;
	if(WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

/*
 * What each event needs: the fork of its pid and of its peer, the
 * alloc that bound its handle.  Always earlier lines, so one backward
 * pass over the kept set closes it.
 */
static int	(*dep)[3];

static void
deps(void)
{
	Map forks, allocs;
	int i;
	Ev *e;

	memset(&forks, 0, sizeof forks);
	memset(&allocs, 0, sizeof allocs);
	dep = emalloc((nev+1) * sizeof dep[0]);
	for(i = 0; i < nev; i++){
		e = &ev[i];
		dep[i][0] = (int)(uintptr)mapget(&forks, e->pid) - 1;
		dep[i][1] = e->peer != 0 ? (int)(uintptr)mapget(&forks, e->peer) - 1 : -1;
		dep[i][2] = -1;
		if(e->op >= Owrite && e->op <= Oaudit && e->op != Ostats)
			dep[i][2] = (int)(uintptr)mapget(&allocs, e->h + 1) - 1;
		if(e->op == Ofork)
			mapput(&forks, e->pid, (void*)(uintptr)(i+1));
		if(e->op == Oalloc)
			mapput(&allocs, e->h + 1, (void*)(uintptr)(i+1));
	}
	mapfree(&forks);
	mapfree(&allocs);
}

static void
closure(char *k)
{
	int i, j;

	for(i = nev-1; i >= 0; i--)
		if(k[i])
			for(j = 0; j < 3; j++)
				if(dep[i][j] >= 0)
					k[dep[i][j]] = 1;
}

static int
count(char *k)
{
	int i, n;

	for(n = i = 0; i < nev; i++)
		n += k[i] != 0;
	return n;
}

/* does keep minus [lo, hi) still fail the same way? if so, keep it */
static int
without(int *idx, int lo, int hi)
{
	int i;

	memmove(trial, keep, nev);
	for(i = lo; i < hi; i++)
		trial[idx[i]] = 0;
	closure(trial);
	if(count(trial) >= count(keep))
		return 0;
	if(status(trial, nil) != wantst)
		return 0;
	memmove(keep, trial, nev);
	return 1;
}

static int*
kept(int *n)
{
	int *idx, i;

	idx = emalloc((nev+1) * sizeof *idx);
	for(*n = i = 0; i < nev; i++)
		if(keep[i])
			idx[(*n)++] = i;
	return idx;
}

static void
ddmin(void)
{
	int *idx, n, chunks, i, lo, hi, removed;

	chunks = 2;
	for(;;){
		idx = kept(&n);
		if(n <= 1 || chunks > n){
			free(idx);
			break;
		}
		removed = 0;
		for(i = 0; i < chunks; i++){
			lo = (long)n * i / chunks;
			hi = (long)n * (i+1) / chunks;
			if(without(idx, lo, hi)){
				removed = 1;
				break;
			}
		}
		free(idx);
		if(removed)
			chunks = chunks > 2 ? chunks - 1 : 2;
		else if(chunks >= n)
			break;
		else
			chunks = chunks*2 < n ? chunks*2 : n;
		if(isatty(2))
			fprintf(stderr, "\rshrink: %d events, %ld runs   ", count(keep), tests);
	}
	/* one line at a time, until nothing more goes */
	do{
		removed = 0;
		idx = kept(&n);
		for(i = n-1; i >= 0; i--)
			if(keep[idx[i]] && without(idx, i, i+1))
				removed = 1;
		free(idx);
	}while(removed);
	if(isatty(2))
		fprintf(stderr, "\r\033[K");
}

int
shrink(char *file, char *out)
{
	char *text, err[256], name[512];
	usize n;
	FILE *f;
	int r;

	if((text = readfile(file, &n)) == nil){
		fprintf(stderr, "pebblesim: cannot read %s\n", file);
		return Xusage;
	}
	if(parsetrace(text, n, &conf, &ev, &nev, err, sizeof err) < 0){
		fprintf(stderr, "%s:%s\n", file, err + 5);
		return Xparse;
	}
	free(text);
	keep = emalloc(nev + 1);
	trial = emalloc(nev + 1);
	memset(keep, 1, nev);
	deps();
	wantst = status(keep, nil);
	if(wantst == 0 || wantst == Xusage){
		fprintf(stderr, "pebblesim: %s does not fail the checker: nothing to shrink\n", file);
		return Xusage;
	}
	ddmin();
	if(out == nil){
		snprintf(name, sizeof name, "%s.min", file);
		out = name;
	}
	if((f = fopen(out, "w")) == nil){
		fprintf(stderr, "pebblesim: cannot write %s\n", out);
		return Xusage;
	}
	r = status(keep, f);
	fclose(f);
	printf("shrink %s: %d events to %d in %ld runs; it still fails (exit %d): %s\n", file, nev, count(keep), tests, r, out);
	return r == wantst ? Xok : Xcheck;
}
