/*
 * The shadow's content: an allocation's bytes, kept sparse in chunks
 * of 4 KiB made on the first write to them, so that a trace costs
 * memory in proportion to what it writes, not to what it allocates.
 * Written bytes are never zero (the workloads write nonzero patterns),
 * which lets a missing chunk stand for bytes that must read as zero.
 */
#include "sim.h"

enum { Maxres = 4096 };

static usize
nchunks(SAlloc *a)
{
	return (a->osize + Chunk - 1) / Chunk;
}

static usize
chunklen(SAlloc *a, usize i)
{
	return i + 1 < nchunks(a) ? Chunk : a->osize - i*Chunk;
}

/*
 * Chunks are all Chunk bytes, so one given back serves any later
 * write: kept on a list, zero (burnt where it was written), and
 * taken again before calloc, whose search costs more than the write.
 */
static uchar*
newchunk(void)
{
	uchar *c;

	if((c = sim.freechunk) == nil)
		return emalloc(Chunk);
	sim.freechunk = *(uchar**)c;
	*(uchar**)c = nil;
	return c;
}

static void
dropchunk(SAlloc *a, usize i)
{
	uchar *c;

	if((c = a->chunk[i]) == nil)
		return;
	burn(c, chunklen(a, i));
	*(uchar**)c = sim.freechunk;
	sim.freechunk = c;
	a->chunk[i] = nil;
	sim.shadowbytes -= chunklen(a, i);
}

void
freechunks(void)
{
	uchar *c;

	while((c = sim.freechunk) != nil){
		sim.freechunk = *(uchar**)c;
		free(c);
	}
}

void
shadowfree(SAlloc *a)
{
	usize i;

	if(a->chunk == nil)
		return;
	for(i = 0; i < nchunks(a); i++)
		dropchunk(a, i);
	free(a->chunk);
	a->chunk = nil;
}

/* the chunk holding byte off of a (from its current start), made if need be */
static uchar*
at(SAlloc *a, usize off, int make, usize *room)
{
	usize abs, i;

	abs = a->ptr - a->org + off;
	i = abs / Chunk;
	*room = chunklen(a, i) - abs % Chunk;
	if(a->chunk == nil){
		if(!make)
			return nil;
		a->chunk = emalloc(nchunks(a) * sizeof a->chunk[0]);
	}
	if(a->chunk[i] == nil){
		if(!make)
			return nil;
		a->chunk[i] = newchunk();
		sim.shadowbytes += chunklen(a, i);
	}
	return a->chunk[i] + abs % Chunk;
}

void
shadowwrite(SAlloc *a, usize off, uchar *src, usize n)
{
	usize room, k;
	uchar *d;

	while(n > 0){
		d = at(a, off, 1, &room);
		k = n < room ? n : room;
		memmove(d, src, k);
		off += k;
		src += k;
		n -= k;
	}
}

void
shadowzero(SAlloc *a, usize off, usize n)
{
	usize room, k;
	uchar *d;

	while(n > 0){
		d = at(a, off, 0, &room);
		k = n < room ? n : room;
		if(d != nil)
			memset(d, 0, k);
		off += k;
		n -= k;
	}
}

/* 0 if the n bytes at mem are what a holds at off */
int
shadowcmp(SAlloc *a, usize off, uchar *mem, usize n)
{
	usize room, k;
	uchar *d;

	while(n > 0){
		d = at(a, off, 0, &room);
		k = n < room ? n : room;
		if(d != nil ? memcmp(d, mem, k) != 0 : !iszero(mem, k))
			return -1;
		off += k;
		mem += k;
		n -= k;
	}
	return 0;
}

/* the 16 shadow bytes at off when all of them were written, else nil */
uchar*
shadowword(SAlloc *a, usize off)
{
	usize room;
	uchar *d;
	int i;

	if(off + 16 > a->size || (d = at(a, off, 0, &room)) == nil || room < 16)
		return nil;
	for(i = 0; i < 16; i++)
		if(d[i] == 0)
			return nil;	/* written bytes are never zero */
	return d;
}

/* a partial free of the first n bytes: the allocation continues at ptr+n */
void
shadowcut(SAlloc *a, usize n)
{
	usize i, first;

	a->ptr += n;
	a->size -= n;
	if(a->chunk == nil)
		return;
	first = (a->ptr - a->org) / Chunk;
	for(i = 0; i < first; i++)
		dropchunk(a, i);
}

/*
 * p frees [off, off+n) of a without a wipe: the bytes stay in the arena
 * until reuse or p's detach.  Keep a few 16-byte samples of them (with
 * where they lie) so that the checker can tell that detach wiped them.
 */
void
residue(SProc *p, SAlloc *a, usize off, usize n)
{
	usize step, o;
	uchar *w;
	int k, i;

	step = n / 8 > 16 ? (n / 8) & ~(usize)15 : 16;
	for(k = 0, o = off; o + 16 <= off + n && k < 8; o += step){
		if((w = shadowword(a, o)) == nil)
			continue;
		if(p->nres == p->capres && p->capres < Maxres){
			p->capres = p->capres ? 2*p->capres : 8;
			p->res = erealloc(p->res, p->capres * sizeof p->res[0]);
		}
		/* at most Maxres samples a proc: later ones take an earlier one's place */
		i = p->nres < p->capres ? (usize)p->nres++ : (a->ptr + o) / 16 % Maxres;
		p->res[i].addr = a->ptr + o;
		memmove(p->res[i].b, w, 16);
		k++;
	}
}
