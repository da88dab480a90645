/*
 * ChaCha20 (Bernstein's original: 64-bit nonce, 64-bit block counter),
 * for the pager only: pages of encrypted areas leave RAM as ciphertext.
 * Written out here because the core takes nothing from libc but mem*
 * and str*, and a kernel has no libsodium.
 *
 * A page is 64 blocks, and the rounds are the cost: where the compiler
 * has vector types (gcc, clang) four blocks run at once, one in each
 * lane of a four-word vector (SSE2 on amd64), as 9front's libsec does
 * in assembly.  The rest, and other compilers, go a block at a time.
 */
#include "pebble.h"
#include "dat.h"
#include "fns.h"

typedef unsigned int u32int;

#define ROTL(v, n)	(((v) << (n)) | ((v) >> (32 - (n))))
#define QR(a, b, c, d) \
	a += b, d ^= a, d = ROTL(d, 16), \
	c += d, b ^= c, b = ROTL(b, 12), \
	a += b, d ^= a, d = ROTL(d, 8), \
	c += d, b ^= c, b = ROTL(b, 7)
#define ROUNDS(x) \
	for(i = 0; i < 10; i++){ \
		QR(x[0], x[4], x[8], x[12]); \
		QR(x[1], x[5], x[9], x[13]); \
		QR(x[2], x[6], x[10], x[14]); \
		QR(x[3], x[7], x[11], x[15]); \
		QR(x[0], x[5], x[10], x[15]); \
		QR(x[1], x[6], x[11], x[12]); \
		QR(x[2], x[7], x[8], x[13]); \
		QR(x[3], x[4], x[9], x[14]); \
	}

static u32int
le32(uchar *p)
{
	return p[0] | p[1]<<8 | p[2]<<16 | (u32int)p[3]<<24;
}

static void
putle32(uchar *p, u32int v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

/* dst = src ^ x for one block of m bytes; whole words load and store as one on little-endian machines */
static void
xorblock(uchar *dst, uchar *src, u32int x[16], usize m)
{
	usize k;

	if(m == 64)
		for(k = 0; k < 16; k++)
			putle32(dst+4*k, le32(src+4*k) ^ x[k]);
	else
		for(k = 0; k < m; k++)
			dst[k] = src[k] ^ x[k/4] >> 8*(k%4);
}

/* x = the keystream block of state st */
static void
block(u32int x[16], u32int st[16])
{
	int i;

	memmove(x, st, 16*sizeof x[0]);
	ROUNDS(x);
	for(i = 0; i < 16; i++)
		x[i] += st[i];
}

#ifdef __GNUC__
typedef u32int Vec4 __attribute__((vector_size(16)));

/* four blocks, counters ctr..ctr+3, XORed into 256 bytes; w is left holding keystream */
static void
block4(uchar *dst, uchar *src, u32int st[16], uvlong ctr, u32int w[16])
{
	Vec4 in[16], x[16];
	uvlong c;
	int i, j;

	for(i = 0; i < 16; i++)
		in[i] = (Vec4){st[i], st[i], st[i], st[i]};
	for(j = 0; j < 4; j++){
		c = ctr + j;
		in[12][j] = c;
		in[13][j] = c >> 32;
	}
	for(i = 0; i < 16; i++)
		x[i] = in[i];
	ROUNDS(x);
	for(i = 0; i < 16; i++)
		x[i] += in[i];
	for(j = 0; j < 4; j++){
		for(i = 0; i < 16; i++)
			w[i] = x[i][j];
		xorblock(dst + 64*j, src + 64*j, w, 64);
	}
	secwipe(in, sizeof in);
	secwipe(x, sizeof x);
}
#endif

/* dst = src ^ keystream(key, nonce) from block ctr on; dst may be src */
void
chacha20(uchar *dst, uchar *src, usize n, uchar key[32], uvlong nonce, uvlong ctr)
{
	u32int st[16], x[16];
	usize i, m;
	int k;

	st[0] = 0x61707865;
	st[1] = 0x3320646e;
	st[2] = 0x79622d32;
	st[3] = 0x6b206574;
	for(k = 0; k < 8; k++)
		st[4+k] = le32(key + 4*k);
	st[14] = nonce;
	st[15] = nonce >> 32;
	i = 0;
#ifdef __GNUC__
	for(; n - i >= 256; i += 256, ctr += 4)
		block4(dst+i, src+i, st, ctr, x);
#endif
	for(; i < n; i += 64){
		st[12] = ctr;
		st[13] = ctr >> 32;
		ctr++;
		block(x, st);
		m = n - i < 64 ? n - i : 64;
		xorblock(dst+i, src+i, x, m);
	}
	secwipe(st, sizeof st);
	secwipe(x, sizeof x);
}
