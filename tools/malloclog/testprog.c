/*
 * A program with a known allocation history, for props/test_malloclog.py.
 * The sizes are odd numbers no library picks, so the test can find each
 * block in the trace.  Threads run one at a time so the history is fixed:
 *
 *	main	a = malloc(1001); b = calloc(3, 667) (2001 bytes);
 *		a = realloc(a, 3001)
 *	t1	c = malloc(4001); z = malloc(0); free(z)
 *	t2	d = malloc(5001) (never freed); free(b): a cross-thread free
 *	main	free(c): a cross-thread free
 *	child	e = malloc(6001); free(a): inherited, not its own; free(e)
 *	main	free(a); f = aligned 7001 bytes (never freed)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void	*b;
static void	*volatile sink;	/* keeps the compiler from eliding pairs */

static void*
t1(void *v)
{
	void *c, *z;

	c = malloc(4001);
	z = malloc(0);
	sink = z;
	free(z);
	return c;
}

static void*
t2(void *v)
{
	void *d;

	d = malloc(5001);
	free(b);
	return d;
}

int
main(void)
{
	void *a, *c, *d, *e, *f;
	pthread_t t;
	pid_t pid;
	int status;

	a = malloc(1001);
	b = calloc(3, 667);
	a = realloc(a, 3001);
	pthread_create(&t, NULL, t1, NULL);
	pthread_join(t, &c);
	pthread_create(&t, NULL, t2, NULL);
	pthread_join(t, &d);
	free(c);
	pid = fork();
	if(pid == 0){
		e = malloc(6001);
		sink = e;
		free(a);
		free(e);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	free(a);
	if(posix_memalign(&f, 64, 7001) != 0)
		return 1;
	return d == NULL || f == NULL || status != 0;
}
