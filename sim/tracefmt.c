/*
 * Writing traces (traces/README.md): the header, and an event as the
 * line trace.c reads back into the same event.
 */
#include "sim.h"

/* arguments after the verb: H handle, N number, P pid, K key, V value */
char *argspec[Nop] = {
	[Oalloc] "NNH", [Owrite] "HNN", [Oread] "HNN", [Ocheck] "HNNN",
	[Ofree] "H", [Ofreesize] "HN", [Owipe] "HN", [Owipefree] "HN",
	[Oshare] "HPN", [Orevoke] "HP", [Oinfo] "H", [Ostats] "", [Oaudit] "HN",
	[Obudgetset] "N", [Obudgetinc] "N", [Obudgetdec] "N",
	[Osetconf] "KV", [Ogetconf] "K", [Oexit] "", [Okill] "",
	[Oenable] "N", [Omaxbudget] "N", [Oencryption] "N", [Oauditing] "N",
	[Opageout] "N", [Ofailmalloc] "N",
};

static int
escape(char *buf, int n, char *s)
{
	int k;
	char c[2];

	if(*s == 0)
		return snprintf(buf, n, " %%");
	k = snprintf(buf, n, " ");
	for(; *s && k < n; s++){
		c[0] = *s;
		c[1] = 0;
		if(*s != '%' && isname(c, 2) == 0)
			k += snprintf(buf+k, n-k, "%c", *s);
		else
			k += snprintf(buf+k, n-k, "%%%02X", (uchar)*s);
	}
	return k;
}

int
fmtev(char *buf, int n, Ev *e)
{
	int k, i;
	char *spec, rb[32];
	uvlong *np;

	k = snprintf(buf, n, "%llu %lu %s", e->time, e->pid, opname[e->op]);
	if(e->op == Ofork){
		if(e->peer)
			k += snprintf(buf+k, n-k, " %lu %s", e->peer, e->user);
		else
			k += snprintf(buf+k, n-k, " - %s", e->user);
		if(e->flags & Fnowait)
			k += snprintf(buf+k, n-k, " nowait");
		if(e->flags & Fmem)
			k += snprintf(buf+k, n-k, " mem");
	}else{
		np = e->n;
		spec = argspec[e->op];
		for(i = 0; spec[i]; i++)
			switch(spec[i]){
			case 'H': k += snprintf(buf+k, n-k, " #%llu", e->h); break;
			case 'N': k += snprintf(buf+k, n-k, " %llu", *np++); break;
			case 'P': k += snprintf(buf+k, n-k, " %lu", e->peer); break;
			case 'K': k += snprintf(buf+k, n-k, " %s", e->key); break;
			case 'V': k += escape(buf+k, n-k, e->val); break;
			}
	}
	if(e->result != Rnone)
		k += snprintf(buf+k, n-k, " = %s", fmtres(rb, e->result, e->op));
	return k;
}

void
fmthdr(FILE *f, Conf *c)
{
	fprintf(f, "pebbletrace 1\nseed %llu\nconfig heap=%lu nproc=%d audit=%d budget=%lu maxbudget=%lu",
		c->seed, (ulong)c->heap, c->nproc, c->audit, (ulong)c->budget, (ulong)c->maxbudget);
	if(c->wname[0])
		fprintf(f, " workload=%s", c->wname);
	fprintf(f, "\n");
}
