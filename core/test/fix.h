/* fixtures shared by the C tests: a fresh instance and its procs */
#include "t.h"
#include "host/det.h"

enum { NP = 16 };

extern Proc	P[NP];

void	setup(usize heap, usize budget);
void	teardown(void);
Proc*	mkproc(int i, char *user, Proc *parent, int nowait);
Proc*	attached(int i, char *user, Proc *parent);
void	fill(void *p, usize n, int seed);
int	isfill(void *p, usize n, int seed);
int	iszero(void *p, usize n);
PebbleSecureStats	stats(Proc*);

void	testalloc(void);
void	testfree(void);
void	testwipe(void);
void	testshare(void);
void	testcheck(void);
void	testinfo(void);
void	testproc(void);
void	testbudget(void);
void	testconf(void);
void	testswitch(void);
void	testaudit(void);
void	testauditblocks(void);
void	testauditheld(void);
void	testauditgone(void);
void	testauditlocal(void);
void	testheap(void);
void	testheaplock(void);
void	testpager(void);
void	testpin(void);
void	testrace(void);
void	testlock(void);
void	testrelease(void);
