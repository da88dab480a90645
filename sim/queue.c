/*
 * The event queue: whose turn it is.  A binary heap ordered by
 * (virtual time, sequence number), so ties run first in, first out
 * and the order never depends on anything but the pushes.  Pid 0 is
 * the host driver.
 */
#include "sim.h"

typedef struct Qe Qe;
struct Qe {
	uvlong	time;
	uvlong	seq;
	ulong	pid;
};

static Qe	*q;
static int	nq, capq;
static uvlong	seq;

static int
qless(Qe *a, Qe *b)
{
	return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static void
swap(int i, int j)
{
	Qe t;

	t = q[i];
	q[i] = q[j];
	q[j] = t;
}

void
qpush(uvlong t, ulong pid)
{
	int i;

	if(nq == capq){
		capq = capq ? 2*capq : 1024;
		q = erealloc(q, capq * sizeof q[0]);
	}
	i = nq++;
	q[i].time = t;
	q[i].seq = seq++;
	q[i].pid = pid;
	for(; i > 0 && qless(&q[i], &q[(i-1)/2]); i = (i-1)/2)
		swap(i, (i-1)/2);
}

/* the earliest turn; 0 if the queue is empty */
int
qpop(uvlong *t, ulong *pid)
{
	int i, c;

	if(nq == 0)
		return 0;
	*t = q[0].time;
	*pid = q[0].pid;
	q[0] = q[--nq];
	for(i = 0; ; i = c){
		c = 2*i + 1;
		if(c >= nq)
			break;
		if(c+1 < nq && qless(&q[c+1], &q[c]))
			c++;
		if(!qless(&q[c], &q[i]))
			break;
		swap(i, c);
	}
	return 1;
}

void
qfree(void)
{
	free(q);
	q = nil;
	nq = capq = 0;
	seq = 0;
}
