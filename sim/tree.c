/*
 * The live allocations by address: a treap, so the checker can find
 * the allocation holding any byte, and prove that a new one overlaps
 * none, in logarithmic time.
 */
#include "sim.h"

static SAlloc*
rotr(SAlloc *t)
{
	SAlloc *l;

	l = t->tl;
	t->tl = l->tr;
	l->tr = t;
	return l;
}

static SAlloc*
rotl(SAlloc *t)
{
	SAlloc *r;

	r = t->tr;
	t->tr = r->tl;
	r->tl = t;
	return r;
}

static SAlloc*
ins(SAlloc *t, SAlloc *a)
{
	if(t == nil)
		return a;
	if(a->ptr < t->ptr){
		t->tl = ins(t->tl, a);
		if(t->tl->prio > t->prio)
			t = rotr(t);
	}else{
		t->tr = ins(t->tr, a);
		if(t->tr->prio > t->prio)
			t = rotl(t);
	}
	return t;
}

static SAlloc*
del(SAlloc *t, SAlloc *a)
{
	if(t == nil)
		return nil;
	if(t == a){
		if(t->tl == nil)
			return t->tr;
		if(t->tr == nil)
			return t->tl;
		if(t->tl->prio > t->tr->prio){
			t = rotr(t);
			t->tr = del(t->tr, a);
		}else{
			t = rotl(t);
			t->tl = del(t->tl, a);
		}
		return t;
	}
	if(a->ptr < t->ptr)
		t->tl = del(t->tl, a);
	else
		t->tr = del(t->tr, a);
	return t;
}

void
treeput(SAlloc *a)
{
	a->tl = a->tr = nil;
	a->prio = mix64(a->h ^ a->ptr);
	sim.root = ins(sim.root, a);
}

void
treedel(SAlloc *a)
{
	sim.root = del(sim.root, a);
	a->tl = a->tr = nil;
}

/* the live allocation with the greatest start <= v */
SAlloc*
treefloor(uintptr v)
{
	SAlloc *t, *best;

	best = nil;
	for(t = sim.root; t != nil; )
		if(t->ptr <= v){
			best = t;
			t = t->tr;
		}else
			t = t->tl;
	return best;
}

static void
walk(SAlloc *t, void (*fn)(SAlloc*, void*), void *arg)
{
	while(t != nil){
		walk(t->tl, fn, arg);
		fn(t, arg);
		t = t->tr;
	}
}

void
treewalk(void (*fn)(SAlloc*, void*), void *arg)
{
	walk(sim.root, fn, arg);
}

/* the live allocation with the least start >= v */
SAlloc*
treeceil(uintptr v)
{
	SAlloc *t, *best;

	best = nil;
	for(t = sim.root; t != nil; )
		if(t->ptr >= v){
			best = t;
			t = t->tl;
		}else
			t = t->tr;
	return best;
}
