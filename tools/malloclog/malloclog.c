/*
 * malloclog: an LD_PRELOAD library that logs every malloc, calloc,
 * realloc, free and aligned allocation of a program, with a monotonic
 * timestamp, a per-process sequence number, the pid and the thread id,
 * to $MALLOCLOG.PID (one file per process; a child made by fork opens
 * its own, an exec'd image appends to it).  It wraps pthread_create so
 * that a thread says who created it, and marks TCP connects and
 * accepts so that a trace can start at a program's network work.
 * tools/malloclog/totrace.py turns the logs into a Pebble trace; the
 * record format is described there and in traces/README.md.
 *
 * The real allocator is reached through glibc's exported __libc_*
 * entry points rather than dlsym, so there is no bootstrap problem:
 * dlsym (needed only for pthread_create) may itself call calloc, and
 * a thread-local flag makes any allocation made while logging pass
 * straight through.
 *
 * Ordering.  The sequence number is one atomic counter per process,
 * taken after a call that returns memory and before a call that gives
 * it back, so a block freed by one thread and handed to another is
 * always freed first in sequence order, whatever the clocks of two
 * CPUs say.  realloc records a number before and after the call for
 * the same reason: the old block may be reused by another thread as
 * soon as realloc starts.
 *
 * Each record is one write(2) to a file opened O_APPEND, so records
 * from threads never interleave and nothing is lost if the program
 * ends by _exit or a signal.  The descriptor is moved high so that a
 * program opening files does not reuse it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/socket.h>

typedef unsigned long	ulong;
typedef unsigned long long	uvlong;
typedef unsigned char	uchar;
typedef size_t	usize;

#define nil	((void*)0)

enum {
	LOGFD	= 700,		/* lowest descriptor the log may take */
	RECMAX	= 256,
	NAMEMAX	= 4096,
};

extern void	*__libc_malloc(usize);
extern void	*__libc_calloc(usize, usize);
extern void	*__libc_realloc(void*, usize);
extern void	*__libc_memalign(usize, usize);
extern void	__libc_free(void*);

typedef struct Rec Rec;
typedef struct Start Start;

struct Rec {
	char	buf[RECMAX];
	int	n;
};

/* what a new thread needs to say who made it */
struct Start {
	void	*(*fn)(void*);
	void	*arg;
	ulong	creator;
};

static pthread_once_t	once = PTHREAD_ONCE_INIT;
static int	logfd = -1;
static char	prefix[NAMEMAX];
static ulong	mypid;
static ulong	forktid;
static ulong	forkpid;
static uvlong	seq;
static int	(*realcreate)(pthread_t*, const pthread_attr_t*, void*(*)(void*), void*);
static int	(*realconnect)(int, const struct sockaddr*, socklen_t);
static int	(*realaccept4)(int, struct sockaddr*, socklen_t*, int);

static __thread int	inlog __attribute__((tls_model("initial-exec")));
static __thread ulong	mytid __attribute__((tls_model("initial-exec")));

static uvlong
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uvlong)ts.tv_sec*1000000000ULL + ts.tv_nsec;
}

static uvlong
nextseq(void)
{
	return __atomic_fetch_add(&seq, 1, __ATOMIC_SEQ_CST);
}

static ulong
tid(void)
{
	if(mytid == 0)
		mytid = gettid();
	return mytid;
}

static void
putc1(Rec *r, int c)
{
	if(r->n < RECMAX-1)
		r->buf[r->n++] = c;
}

static void
putnum(Rec *r, uvlong v, int base)
{
	char tmp[24];
	int i;

	i = 0;
	do{
		tmp[i++] = "0123456789abcdef"[v % base];
		v /= base;
	}while(v != 0);
	putc1(r, ' ');
	while(i > 0)
		putc1(r, tmp[--i]);
}

static void
emit(Rec *r)
{
	putc1(r, '\n');
	if(logfd >= 0)
		write(logfd, r->buf, r->n);
}

/* start a record: kind, time, sequence number, pid, thread */
static void
begin(Rec *r, int kind, uvlong t, uvlong s)
{
	r->n = 0;
	putc1(r, kind);
	putnum(r, t, 10);
	putnum(r, s, 10);
	putnum(r, mypid, 10);
	putnum(r, tid(), 10);
}

/* the log of this process: $MALLOCLOG.PID */
static void
openrec(void)
{
	char name[NAMEMAX+32];
	Rec r;
	int fd, n;

	n = strlen(prefix);
	memcpy(name, prefix, n);
	r.n = 0;
	putnum(&r, mypid, 10);	/* " PID" */
	r.buf[0] = '.';
	memcpy(name+n, r.buf, r.n);
	name[n+r.n] = 0;
	fd = open(name, O_WRONLY|O_CREAT|O_APPEND|O_CLOEXEC, 0644);
	if(fd < 0)
		return;
	logfd = fcntl(fd, F_DUPFD_CLOEXEC, LOGFD);
	close(fd);
}

static void
forkprepare(void)
{
	forktid = tid();
	forkpid = mypid;
}

/* the child's only thread is the one that forked; it gets a new file */
static void
forkchild(void)
{
	Rec r;

	inlog++;
	if(logfd >= 0)
		close(logfd);
	logfd = -1;
	mypid = getpid();
	mytid = 0;
	seq = 0;
	openrec();
	begin(&r, 'F', now(), nextseq());
	putnum(&r, forkpid, 10);	/* not getppid: the parent may be gone */
	putnum(&r, forktid, 10);
	emit(&r);
	inlog--;
}

/* the program's name, from /proc/self/comm, ends an S record */
static void
putcomm(Rec *r)
{
	char buf[64];
	int fd, n, i;

	fd = open("/proc/self/comm", O_RDONLY|O_CLOEXEC);
	if(fd < 0)
		return;
	n = read(fd, buf, sizeof buf);
	close(fd);
	putc1(r, ' ');
	for(i = 0; i < n && buf[i] != '\n'; i++)
		putc1(r, buf[i] > ' ' && buf[i] < 0x7f ? buf[i] : '_');
}

static void
init(void)
{
	char *p;
	Rec r;

	p = getenv("MALLOCLOG");
	if(p == nil || *p == 0 || strlen(p) >= NAMEMAX)
		return;
	strcpy(prefix, p);
	mypid = getpid();
	openrec();
	if(logfd < 0)
		return;
	realcreate = dlsym(RTLD_NEXT, "pthread_create");
	realconnect = dlsym(RTLD_NEXT, "connect");
	realaccept4 = dlsym(RTLD_NEXT, "accept4");
	pthread_atfork(forkprepare, nil, forkchild);
	begin(&r, 'S', now(), nextseq());
	putnum(&r, getppid(), 10);
	putcomm(&r);
	emit(&r);
}

/* a process that never allocates is still logged: it may be a parent */
static void __attribute__((constructor))
ctor(void)
{
	inlog++;
	pthread_once(&once, init);
	inlog--;
}

/* whether this call is to be logged; on 1 the caller must call leave */
static int
enter(void)
{
	if(inlog)
		return 0;
	inlog++;
	pthread_once(&once, init);
	if(logfd < 0){
		inlog--;
		return 0;
	}
	return 1;
}

static void
leave(void)
{
	inlog--;
}

static void
logalloc(int kind, usize n, void *p)
{
	Rec r;

	begin(&r, kind, now(), nextseq());
	putnum(&r, n, 10);
	putnum(&r, (uintptr_t)p, 16);
	emit(&r);
	leave();
}

void*
malloc(usize n)
{
	void *p;

	if(!enter())
		return __libc_malloc(n);
	p = __libc_malloc(n);
	if(p != nil)
		logalloc('m', n, p);
	else
		leave();
	return p;
}

void*
calloc(usize n, usize m)
{
	void *p;

	if(!enter())
		return __libc_calloc(n, m);
	p = __libc_calloc(n, m);
	if(p != nil)
		logalloc('c', n*m, p);
	else
		leave();
	return p;
}

void
free(void *p)
{
	Rec r;

	if(p == nil || !enter()){
		__libc_free(p);
		return;
	}
	begin(&r, 'f', now(), nextseq());
	putnum(&r, (uintptr_t)p, 16);
	emit(&r);
	leave();
	__libc_free(p);
}

void*
realloc(void *old, usize n)
{
	uvlong t0, s0;
	void *p;
	Rec r;

	if(!enter())
		return __libc_realloc(old, n);
	t0 = now();
	s0 = nextseq();
	p = __libc_realloc(old, n);
	begin(&r, 'r', t0, s0);
	putnum(&r, now(), 10);
	putnum(&r, nextseq(), 10);
	putnum(&r, n, 10);
	putnum(&r, (uintptr_t)old, 16);
	putnum(&r, (uintptr_t)p, 16);
	emit(&r);
	leave();
	return p;
}

void*
reallocarray(void *old, usize n, usize m)
{
	if(m != 0 && n > (usize)-1/m){
		errno = ENOMEM;
		return nil;
	}
	return realloc(old, n*m);
}

static void*
aligned(usize align, usize n)
{
	void *p;

	if(!enter())
		return __libc_memalign(align, n);
	p = __libc_memalign(align, n);
	if(p != nil)
		logalloc('a', n, p);
	else
		leave();
	return p;
}

void*
memalign(usize align, usize n)
{
	return aligned(align, n);
}

void*
aligned_alloc(usize align, usize n)
{
	return aligned(align, n);
}

int
posix_memalign(void **pp, usize align, usize n)
{
	void *p;

	if(align < sizeof(void*) || (align & (align-1)) != 0)
		return EINVAL;
	p = aligned(align, n);
	if(p == nil)
		return ENOMEM;
	*pp = p;
	return 0;
}

void*
valloc(usize n)
{
	return aligned(sysconf(_SC_PAGESIZE), n);
}

void*
pvalloc(usize n)
{
	usize pg;

	pg = sysconf(_SC_PAGESIZE);
	return aligned(pg, (n + pg-1) & ~(pg-1));
}

/* a new thread says who made it before it allocates anything */
static void*
threadstart(void *v)
{
	Start s;
	Rec r;

	s = *(Start*)v;
	__libc_free(v);
	if(enter()){
		begin(&r, 'T', now(), nextseq());
		putnum(&r, s.creator, 10);
		emit(&r);
		leave();
	}
	return s.fn(s.arg);
}

int
pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void*), void *arg)
{
	Start *s;
	int e;

	inlog++;
	pthread_once(&once, init);
	if(realcreate == nil)
		realcreate = dlsym(RTLD_NEXT, "pthread_create");
	realconnect = dlsym(RTLD_NEXT, "connect");
	realaccept4 = dlsym(RTLD_NEXT, "accept4");
	inlog--;
	if(logfd < 0)
		return realcreate(t, attr, fn, arg);
	s = __libc_malloc(sizeof *s);
	if(s == nil)
		return EAGAIN;
	s->fn = fn;
	s->arg = arg;
	s->creator = tid();
	e = realcreate(t, attr, threadstart, s);
	if(e != 0)
		__libc_free(s);
	return e;
}

/*
 * Network marks: a K record when a TCP connection is made or taken, so
 * a trace can start where a program's network work does (totrace.py
 * --from-mark).  Only Internet sockets: a lookup that talks to a local
 * daemon is not the program's connection.
 */
static void
mark(char *what)
{
	Rec r;

	if(!enter())
		return;
	begin(&r, 'K', now(), nextseq());
	putc1(&r, ' ');
	while(*what != 0)
		putc1(&r, *what++);
	emit(&r);
	leave();
}

static void
resolve(void)
{
	inlog++;
	pthread_once(&once, init);
	if(realconnect == nil)
		realconnect = dlsym(RTLD_NEXT, "connect");
	if(realaccept4 == nil)
		realaccept4 = dlsym(RTLD_NEXT, "accept4");
	inlog--;
}

int
connect(int fd, const struct sockaddr *a, socklen_t n)
{
	int r;

	resolve();
	r = realconnect(fd, a, n);
	if(a != nil && (a->sa_family == AF_INET || a->sa_family == AF_INET6))
		mark("connect");
	return r;
}

int
accept4(int fd, struct sockaddr *a, socklen_t *n, int flags)
{
	int r;

	resolve();
	r = realaccept4(fd, a, n, flags);
	if(r >= 0)
		mark("accept");
	return r;
}

int
accept(int fd, struct sockaddr *a, socklen_t *n)
{
	return accept4(fd, a, n, 0);
}
