/*
 * The simulator's randomness: xoshiro256** streams seeded through
 * splitmix64.  One seed makes one master stream; every setting and
 * every other stream is drawn from it, so nothing else is random.
 */
#include "sim.h"

uvlong
splitmix(uvlong *x)
{
	uvlong z;

	z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void
rngseed(Rng *r, uvlong seed)
{
	int i;

	for(i = 0; i < 4; i++)
		r->s[i] = splitmix(&seed);
}

static uvlong
rotl(uvlong x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uvlong
rnext(Rng *r)
{
	uvlong *s, res, t;

	s = r->s;
	res = rotl(s[1] * 5, 7) * 9;
	t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

/* uniform in [0, n); n 0 gives 0 */
uvlong
rbelow(Rng *r, uvlong n)
{
	if(n == 0)
		return 0;
	return (uvlong)(((unsigned __int128)rnext(r) * n) >> 64);
}

uvlong
rrange(Rng *r, uvlong lo, uvlong hi)
{
	return lo + rbelow(r, hi - lo + 1);
}

/* log-uniform in [lo, hi]: small sizes as often as large ones, per octave */
uvlong
rlog(Rng *r, uvlong lo, uvlong hi)
{
	int blo, bhi, b;
	uvlong a, z;

	if(lo < 1)
		lo = 1;
	if(hi <= lo)
		return lo;
	blo = 63 - __builtin_clzll(lo);
	bhi = 63 - __builtin_clzll(hi);
	b = rrange(r, blo, bhi);
	a = 1ULL << b;
	z = a + rbelow(r, a);
	if(z < lo)
		z = lo;
	if(z > hi)
		z = hi;
	return z;
}

int
rchance(Rng *r, int permille)
{
	return (int)rbelow(r, 1000) < permille;
}
