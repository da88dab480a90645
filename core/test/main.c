/*
 * The core's C tests, on the deterministic host.  Each test function
 * checks the rules of one part of DESIGN.md section 2; every refused
 * call is checked to have changed nothing (FAILS compares the digest
 * of all state before and after).
 */
#include "fix.h"

int	nfail;
int	nchecks;
char	*curtest;
Proc	P[NP];

Proc*
mkproc(int i, char *user, Proc *parent, int nowait)
{
	Proc *p;

	p = &P[i];
	memset(p, 0, sizeof *p);
	p->slot = i;
	p->pid = 100 + i;
	strncpy(p->user, user, sizeof p->user - 1);
	p->parent = parent;
	p->nowait = nowait;
	return p;
}

Proc*
attached(int i, char *user, Proc *parent)
{
	Proc *p;

	p = mkproc(i, user, parent, 0);
	if(pebble_secure_attach(parent, p) != PEBBLE_ERR_OK){
		fprintf(stderr, "%s: attach %d failed\n", curtest, i);
		exit(2);
	}
	return p;
}

void
setup(usize heap, usize budget)
{
	Pebbleconf c;

	detreset(1);
	memset(&c, 0, sizeof c);
	c.heapsize = heap;
	c.nproc = NP;
	c.auditsize = 256;
	c.budget = budget;
	if(pebbleinit(&c) != PEBBLE_ERR_OK){
		fprintf(stderr, "%s: pebbleinit failed\n", curtest);
		exit(2);
	}
}

void
teardown(void)
{
	pebbleshutdown();
	EQ(detmetabytes(), 0);
	EQ(detblocks(), 0);
}

void
fill(void *p, usize n, int seed)
{
	usize i;

	for(i = 0; i < n; i++)
		((uchar*)p)[i] = (i*31 + seed) | 1;
}

int
isfill(void *p, usize n, int seed)
{
	usize i;

	for(i = 0; i < n; i++)
		if(((uchar*)p)[i] != (uchar)((i*31 + seed) | 1))
			return 0;
	return 1;
}

int
iszero(void *p, usize n)
{
	usize i;

	for(i = 0; i < n; i++)
		if(((uchar*)p)[i] != 0)
			return 0;
	return 1;
}

PebbleSecureStats
stats(Proc *p)
{
	PebbleSecureStats s;

	memset(&s, 0xee, sizeof s);
	pebble_secure_stats(p, &s);
	return s;
}

static struct {
	char	*name;
	void	(*fn)(void);
} tests[] = {
	{"alloc", testalloc},
	{"free", testfree},
	{"wipe", testwipe},
	{"share", testshare},
	{"check", testcheck},
	{"info", testinfo},
	{"proc", testproc},
	{"budget", testbudget},
	{"conf", testconf},
	{"switch", testswitch},
	{"audit", testaudit},
	{"auditblocks", testauditblocks},
	{"auditheld", testauditheld},
	{"auditgone", testauditgone},
	{"auditlocal", testauditlocal},
	{"heap", testheap},
	{"heaplock", testheaplock},
	{"pager", testpager},
	{"pin", testpin},
	{"race", testrace},
	{"lock", testlock},
	{"release", testrelease},
};

int
main(int argc, char **argv)
{
	int i, ran, failed, before;

	ran = failed = 0;
	for(i = 0; i < (int)(sizeof tests/sizeof tests[0]); i++){
		if(argc > 1 && strcmp(argv[1], tests[i].name) != 0)
			continue;
		curtest = tests[i].name;
		ran++;
		before = nfail;
		tests[i].fn();
		if(pebblelive()){
			fprintf(stderr, "%s: left an instance live\n", curtest);
			pebbleshutdown();
			nfail++;
		}
		if(nfail != before)
			failed++;
		printf("%-8s %s\n", tests[i].name, nfail == before ? "ok" : "FAIL");
	}
	printf("%d checks, %d failed\n", nchecks, nfail);
	printf("%d passed, %d failed\n", ran - failed, failed);
	return nfail != 0;
}
