/*
 * ChaCha20 (Bernstein's original: 64-bit nonce, 64-bit block counter),
 * for the pager only: pages of encrypted areas leave RAM as ciphertext.
 * Written out here because the core takes nothing from libc but mem*
 * and str*, and a kernel has no libsodium.
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

static u32int
le32(uchar *p)
{
	return p[0] | p[1]<<8 | p[2]<<16 | (u32int)p[3]<<24;
}

static void
block(uchar out[64], u32int in[16])
{
	u32int x[16];
	int i;

	memmove(x, in, sizeof x);
	for(i = 0; i < 10; i++){
		QR(x[0], x[4], x[8], x[12]);
		QR(x[1], x[5], x[9], x[13]);
		QR(x[2], x[6], x[10], x[14]);
		QR(x[3], x[7], x[11], x[15]);
		QR(x[0], x[5], x[10], x[15]);
		QR(x[1], x[6], x[11], x[12]);
		QR(x[2], x[7], x[8], x[13]);
		QR(x[3], x[4], x[9], x[14]);
	}
	for(i = 0; i < 16; i++){
		x[i] += in[i];
		out[4*i] = x[i];
		out[4*i+1] = x[i] >> 8;
		out[4*i+2] = x[i] >> 16;
		out[4*i+3] = x[i] >> 24;
	}
	secwipe(x, sizeof x);
}

/* dst = src ^ keystream(key, nonce) from block ctr on; dst may be src */
void
chacha20(uchar *dst, uchar *src, usize n, uchar key[32], uvlong nonce, uvlong ctr)
{
	u32int st[16];
	uchar ks[64];
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
	for(i = 0; i < n; i += 64){
		st[12] = ctr;
		st[13] = ctr >> 32;
		ctr++;
		block(ks, st);
		m = n - i < 64 ? n - i : 64;
		for(k = 0; k < (int)m; k++)
			dst[i+k] = src[i+k] ^ ks[k];
	}
	secwipe(st, sizeof st);
	secwipe(ks, sizeof ks);
}
