/*
 * mtraceon: preloaded after glibc's libc_malloc_debug.so, it calls
 * mtrace() as the program starts, so that any program logs its
 * mallocs, frees and reallocs to $MALLOC_TRACE in glibc's mtrace
 * format without calling mtrace() itself:
 *
 *	MALLOC_TRACE=log LD_PRELOAD="libc_malloc_debug.so.0 build/mtraceon.so" prog
 *
 * tools/malloclog/formats/mtrace.py reads the log.  mtrace's log has
 * no process ids, so the log is kept to this one process: a fork
 * child's copy of the log's descriptor is pointed at /dev/null (its
 * copy of the stdio buffer goes there too, not into the log twice),
 * and MALLOC_TRACE is taken out of the environment so that a program
 * exec'd later does not truncate the log by opening it anew.  Without
 * MALLOC_TRACE it does nothing.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <mcheck.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int	logfd = -1;

/* in a fork child: the log is the parent's alone */
static void
child(void)
{
	int fd;

	fd = open("/dev/null", O_WRONLY|O_CLOEXEC);
	if(fd < 0)
		return;
	dup2(fd, logfd);
	close(fd);
}

static void __attribute__((constructor))
on(void)
{
	char *path;
	int fd;
	struct stat want, got;

	path = getenv("MALLOC_TRACE");
	if(path == NULL || *path == 0)
		return;
	/* mtrace's fopen takes the lowest free descriptor: this one */
	fd = open("/dev/null", O_RDONLY|O_CLOEXEC);
	if(fd >= 0)
		close(fd);
	mtrace();
	if(fd >= 0 && stat(path, &want) == 0 && fstat(fd, &got) == 0
	&& want.st_dev == got.st_dev && want.st_ino == got.st_ino){
		logfd = fd;
		pthread_atfork(NULL, NULL, child);
	}
	unsetenv("MALLOC_TRACE");
}
