/*
 * The swap store: pages the pager sent out, held in host memory by
 * key.  It stands for a swap partition, so what it holds is what an
 * attacker with the disk would see; the simulator reads it back
 * (swapread) to prove no plaintext ever got here.  Buckets are walked
 * in order, so reading it is deterministic.  Reading and dropping are
 * the same for both hosts; each writes its own hostswapout (the
 * deterministic one can be told to fail).
 */
#include <stdlib.h>
#include <string.h>
#include "../host.h"
#include "swap.h"

typedef struct Swp Swp;
struct Swp {
	Swp	*next;
	uvlong	key;
	usize	n;
	uchar	buf[];
};

enum { NHASH = 1024 };

static Swp	*tab[NHASH];
static Lock	swaplk;
static int	nswap;

static Swp**
look(uvlong key)
{
	Swp **l;

	for(l = &tab[key % NHASH]; *l != nil; l = &(*l)->next)
		if((*l)->key == key)
			break;
	return l;
}

int
swapput(uvlong key, void *buf, usize n)
{
	Swp *s, **l;

	s = malloc(sizeof *s + n);
	if(s == nil)
		return -1;
	s->key = key;
	s->n = n;
	memmove(s->buf, buf, n);
	lock(&swaplk);
	l = look(key);
	if(*l != nil){
		s->next = (*l)->next;
		free(*l);
		nswap--;
	}else
		s->next = nil;
	*l = s;
	nswap++;
	unlock(&swaplk);
	return 0;
}

int
swapget(uvlong key, void *buf, usize n)
{
	Swp *s;
	int r;

	lock(&swaplk);
	s = *look(key);
	r = -1;
	if(s != nil && s->n == n){
		memmove(buf, s->buf, n);
		r = 0;
	}
	unlock(&swaplk);
	return r;
}

void
swapdel(uvlong key)
{
	Swp *s, **l;

	lock(&swaplk);
	l = look(key);
	if((s = *l) != nil){
		*l = s->next;
		free(s);
		nswap--;
	}
	unlock(&swaplk);
}

int
swapcount(void)
{
	return __atomic_load_n(&nswap, __ATOMIC_RELAXED);
}

/* the ith page in the store, for inspection; not safe against writers */
int
swapread(int i, uvlong *key, uchar **buf, usize *n)
{
	int b;
	Swp *s;

	for(b = 0; b < NHASH; b++)
		for(s = tab[b]; s != nil; s = s->next)
			if(i-- == 0){
				*key = s->key;
				*buf = s->buf;
				*n = s->n;
				return 0;
			}
	return -1;
}

void
swapclear(void)
{
	int b;
	Swp *s, *n;

	lock(&swaplk);
	for(b = 0; b < NHASH; b++){
		for(s = tab[b]; s != nil; s = n){
			n = s->next;
			free(s);
		}
		tab[b] = nil;
	}
	nswap = 0;
	unlock(&swaplk);
}

void	(*swapinhook)(uvlong);

int
hostswapin(uvlong key, void *buf, usize n)
{
	void (*fn)(uvlong);

	if((fn = __atomic_load_n(&swapinhook, __ATOMIC_ACQUIRE)) != nil)
		fn(key);
	return swapget(key, buf, n);
}

void
hostswapdrop(uvlong key)
{
	swapdel(key);
}
