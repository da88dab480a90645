/*
 * Small containers the simulator needs: growable vectors, a hash map
 * from integer keys, and the byte pattern writes put in memory.
 */
#include "sim.h"

void*
emalloc(usize n)
{
	void *p;

	p = calloc(1, n ? n : 1);
	if(p == nil){
		fprintf(stderr, "pebblesim: out of memory\n");
		exit(Xusage);
	}
	return p;
}

void*
erealloc(void *p, usize n)
{
	p = realloc(p, n ? n : 1);
	if(p == nil){
		fprintf(stderr, "pebblesim: out of memory\n");
		exit(Xusage);
	}
	return p;
}

void
vecpush(Vec *v, void *x)
{
	if(v->n == v->cap){
		v->cap = v->cap ? 2*v->cap : 4;
		v->v = erealloc(v->v, v->cap * sizeof v->v[0]);
	}
	v->v[v->n++] = x;
}

/* remove element i by moving the last into its place */
void
vecdel(Vec *v, int i)
{
	v->v[i] = v->v[--v->n];
}

int
vecfind(Vec *v, void *x)
{
	int i;

	for(i = 0; i < v->n; i++)
		if(v->v[i] == x)
			return i;
	return -1;
}

void
vecfree(Vec *v)
{
	free(v->v);
	memset(v, 0, sizeof *v);
}

uvlong
mix64(uvlong z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
mapgrow(Map *m)
{
	Map o;
	usize i;

	o = *m;
	m->cap = o.cap ? 2*o.cap : 1024;
	m->k = emalloc(m->cap * sizeof m->k[0]);
	m->v = emalloc(m->cap * sizeof m->v[0]);
	m->n = 0;
	for(i = 0; i < o.cap; i++)
		if(o.k[i] != 0)
			mapput(m, o.k[i], o.v[i]);
	free(o.k);
	free(o.v);
}

enum { Densegap = 4096 };	/* how far past d's end a key may be and still grow d */

static void
densegrow(Map *m, uvlong k)
{
	usize n;

	for(n = m->dcap ? m->dcap : 1024; n <= k; n *= 2)
		;
	m->d = erealloc(m->d, n * sizeof m->d[0]);
	memset(m->d + m->dcap, 0, (n - m->dcap) * sizeof m->d[0]);
	m->dcap = n;
}

/* keys are never removed: dead procs and allocations stay findable */
void
mapput(Map *m, uvlong k, void *v)
{
	usize i;

	if(k >= m->dcap && k < 2*m->dcap + Densegap)
		densegrow(m, k);
	if(k < m->dcap){
		m->d[k] = v;
		return;
	}
	if(2*(m->n+1) > m->cap)
		mapgrow(m);
	for(i = mix64(k) & (m->cap-1); m->k[i] != 0 && m->k[i] != k; i = (i+1) & (m->cap-1))
		;
	if(m->k[i] == 0)
		m->n++;
	m->k[i] = k;
	m->v[i] = v;
}

void*
mapget(Map *m, uvlong k)
{
	usize i;

	if(k < m->dcap && m->d[k] != nil)
		return m->d[k];
	if(m->cap == 0 || k == 0)
		return nil;
	for(i = mix64(k) & (m->cap-1); m->k[i] != 0; i = (i+1) & (m->cap-1))
		if(m->k[i] == k)
			return m->v[i];
	return nil;
}

enum { Poolblock = 64<<10 };

/* n zeroed bytes, 16-aligned, that live until poolfree */
void*
poolalloc(Pool *p, usize n)
{
	void *v;

	n = (n + 15) & ~(usize)15;
	if(n > p->left){
		p->cur = emalloc(n > Poolblock ? n : Poolblock);
		p->left = n > Poolblock ? n : Poolblock;
		vecpush(&p->blocks, p->cur);
	}
	v = p->cur;
	p->cur += n;
	p->left -= n;
	return v;
}

void
poolfree(Pool *p)
{
	int i;

	for(i = 0; i < p->blocks.n; i++)
		free(p->blocks.v[i]);
	vecfree(&p->blocks);
	memset(p, 0, sizeof *p);
}

/* fn on every value once: a hashed key that d also holds is d's */
void
mapeach(Map *m, void (*fn)(void*))
{
	usize i;

	for(i = 0; i < m->dcap; i++)
		if(m->d[i] != nil)
			fn(m->d[i]);
	for(i = 0; i < m->cap; i++)
		if(m->k[i] != 0 && !(m->k[i] < m->dcap && m->d[m->k[i]] != nil))
			fn(m->v[i]);
}

void
mapfree(Map *m)
{
	free(m->d);
	free(m->k);
	free(m->v);
	memset(m, 0, sizeof *m);
}

/*
 * What a write of handle h puts at offset off: byte i of the word
 * mix64(h, off/8).  Any one byte looks random, and a run of them
 * names its allocation, which the swap and dump scans rely on.
 */
void
pattern(uchar *p, uvlong h, uvlong off, usize n)
{
	uvlong w, k, hh;
	usize i;

	hh = mix64(h * 0x9e3779b97f4a7c15ULL + 0x5851f42d4c957f2dULL);
	i = 0;
	while(i < n){
		k = (off + i) / 8;
		w = mix64(hh ^ k) | 0x0101010101010101ULL;	/* never a zero byte */
		for(; i < n && (off + i) / 8 == k; i++)
			p[i] = w >> (8 * ((off + i) % 8));
	}
}

int
iszero(uchar *p, usize n)
{
	static const uchar z[256];
	usize k;

	while(n > 0){
		k = n < sizeof z ? n : sizeof z;
		if(memcmp(p, z, k) != 0)
			return 0;
		p += k;
		n -= k;
	}
	return 1;
}

/*
 * Copies of secrets (shadow bytes, fingerprints) are zeroed before
 * they go back to malloc: a later core metadata block must not carry
 * them into a crash dump scan and be blamed for them.
 */
void
burn(void *p, usize n)
{
	if(p == nil)
		return;
	memset(p, 0, n);
	__asm__ __volatile__("" : : "r"(p) : "memory");
}

/* a whole file, NUL-terminated, or nil */
char*
readfile(char *name, usize *np)
{
	FILE *f;
	char *b;
	usize n, cap, r;

	if((f = fopen(name, "rb")) == nil)
		return nil;
	cap = 1<<16;
	b = emalloc(cap+1);
	n = 0;
	while((r = fread(b+n, 1, cap-n, f)) > 0){
		n += r;
		if(n == cap){
			cap *= 2;
			b = erealloc(b, cap+1);
		}
	}
	fclose(f);
	b[n] = 0;
	*np = n;
	return b;
}
