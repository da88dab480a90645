/*
 * Traces as text (traces/README.md is the format's definition):
 * reading a whole trace into events, refusing a bad line with its
 * number and the reason, and writing events back.  The parser reads
 * bytes with explicit bounds everywhere, so no input can crash it.
 */
#include "sim.h"

enum { MAXTOK = 16, MAXLINE = 1024 };

typedef struct Line Line;
struct Line {
	char	buf[MAXLINE+1];
	char	*tok[MAXTOK];
	int	ntok;
	char	*err;
	char	errbuf[128];
};

/* a decimal number no greater than max, or -1 */
static int
num(char *s, uvlong max, uvlong *v)
{
	uvlong n;
	int d;

	if(*s == 0)
		return -1;
	for(n = 0; *s; s++){
		if(*s < '0' || *s > '9')
			return -1;
		d = *s - '0';
		if(n > (max - d) / 10)
			return -1;
		n = n*10 + d;
	}
	*v = n;
	return 0;
}

static int
hexval(int c)
{
	if(c >= '0' && c <= '9')
		return c - '0';
	if(c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if(c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
isname(char *s, int max)
{
	int n;

	for(n = 0; s[n]; n++)
		if(!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= '0' && s[n] <= '9')
		|| s[n] == '_' || s[n] == '-' || s[n] == '.' || s[n] == ':' || s[n] == '/'))
			return -1;
	return n > 0 && n < max ? 0 : -1;
}

/*
 * A setting's value: name characters as they are, any other byte as
 * %XX (hex), and a lone % for the empty string, so malformed values
 * (spaces, signs, nothing) can be recorded too.
 */
static int
unescape(char *s, char *out, int max)
{
	int n, hi, lo;
	char c[2];

	if(strcmp(s, "%") == 0){
		out[0] = 0;
		return 0;
	}
	for(n = 0; *s; n++){
		if(n >= max-1)
			return -1;
		if(*s == '%'){
			hi = s[1] ? hexval(s[1]) : -1;
			lo = hi >= 0 && s[2] ? hexval(s[2]) : -1;
			if(lo < 0 || (hi|lo) == 0)
				return -1;
			out[n] = hi<<4 | lo;
			s += 3;
			continue;
		}
		c[0] = *s++;
		c[1] = 0;
		if(isname(c, 2) < 0)
			return -1;
		out[n] = c[0];
	}
	out[n] = 0;
	return n > 0 ? 0 : -1;
}

static int
bad(Line *l, char *fmt, char *a)
{
	snprintf(l->errbuf, sizeof l->errbuf, fmt, a);
	l->err = l->errbuf;
	return -1;
}

/* split line s (n bytes) into tokens; comments and blanks give 0 tokens */
static int
split(Line *l, char *s, usize n)
{
	usize i;
	char *p;

	l->ntok = 0;
	l->err = nil;
	if(n > MAXLINE)
		return bad(l, "line longer than %s bytes", "1024");
	for(i = 0; i < n && (s[i] == ' ' || s[i] == '\t'); i++)
		;
	if(i == n || s[i] == '#')
		return 0;
	for(i = 0; i < n; i++){
		if(s[i] == '\r' && i == n-1)
			break;
		if((uchar)s[i] < ' ' && s[i] != '\t')
			return bad(l, "control character in line%s", "");
		if((uchar)s[i] > '~')
			return bad(l, "non-ASCII byte outside a comment%s", "");
		l->buf[i] = s[i] == '\t' ? ' ' : s[i];
	}
	l->buf[i] = 0;
	for(p = l->buf; ; ){
		while(*p == ' ')
			p++;
		if(*p == 0)
			break;
		if(l->ntok == MAXTOK)
			return bad(l, "too many fields%s", "");
		l->tok[l->ntok++] = p;
		while(*p && *p != ' ')
			p++;
		if(*p)
			*p++ = 0;
	}
	return l->ntok;
}

static int
result(Line *l, char *s, vlong *r)
{
	int i;
	uvlong v;

	for(i = 0; i < 7; i++)
		if(strcmp(s, resname[i]) == 0){
			*r = -i;
			return 0;
		}
	if(num(s, 1ULL<<31, &v) < 0)
		return bad(l, "result \"%s\" is neither a code (OK NOMEM PERM NOTFOUND INVALID BUDGET BUSY) nor a count", s);
	*r = v;
	return 0;
}

static int
pid(Line *l, char *s, ulong *p)
{
	uvlong v;

	if(num(s, 0xffffffffUL, &v) < 0 || v == 0)
		return bad(l, "\"%s\" is not a pid (a decimal number, not 0)", s);
	*p = v;
	return 0;
}

/* fork's PARENT USER [nowait] [mem] */
static int
forkargs(Line *l, Ev *e, int end)
{
	int i;

	if(end < 5)
		return bad(l, "fork needs PARENT USER%s", "");
	if(strcmp(l->tok[3], "-") != 0 && pid(l, l->tok[3], &e->peer) < 0)
		return -1;
	if(isname(l->tok[4], USERLEN) < 0)
		return bad(l, "user \"%s\" is not a name of 1 to 27 letters, digits or _-.:/", l->tok[4]);
	strcpy(e->user, l->tok[4]);
	for(i = 5; i < end; i++)
		if(strcmp(l->tok[i], "nowait") == 0)
			e->flags |= Fnowait;
		else if(strcmp(l->tok[i], "mem") == 0)
			e->flags |= Fmem;
		else
			return bad(l, "fork flag \"%s\" is neither nowait nor mem", l->tok[i]);
	return 0;
}

/* the arguments the operation's spec names, in order */
static int
args(Line *l, Ev *e, int end)
{
	int i, k, na;
	char *spec;

	spec = argspec[e->op];
	if(end - 3 != (int)strlen(spec))
		return bad(l, "wrong number of arguments for %s", opname[e->op]);
	for(na = 0, i = 3, k = 0; spec[k]; k++, i++){
		switch(spec[k]){
		case 'H':
			if(l->tok[i][0] != '#' || num(l->tok[i]+1, 1ULL<<62, &e->h) < 0)
				return bad(l, "\"%s\" is not a handle (# and a decimal number)", l->tok[i]);
			break;
		case 'N':
			if(num(l->tok[i], ~0ULL, &e->n[na++]) < 0)
				return bad(l, "\"%s\" is not a decimal number", l->tok[i]);
			break;
		case 'P':
			if(pid(l, l->tok[i], &e->peer) < 0)
				return -1;
			break;
		case 'K':
			if(isname(l->tok[i], KEYLEN) < 0)
				return bad(l, "\"%s\" is not a setting's key", l->tok[i]);
			strcpy(e->key, l->tok[i]);
			break;
		case 'V':
			if(unescape(l->tok[i], e->val, KEYLEN) < 0)
				return bad(l, "\"%s\" is not a setting's value", l->tok[i]);
			break;
		}
	}
	return 0;
}

static int
event(Line *l, Ev *e, uvlong lasttime)
{
	int i, end;
	uvlong v;

	memset(e, 0, sizeof *e);
	e->result = Rnone;
	if(l->ntok < 3)
		return bad(l, "an event is TIME PID OP ARGS... = RESULT%s", "");
	if(num(l->tok[0], ~0ULL, &e->time) < 0)
		return bad(l, "time \"%s\" is not a decimal number of nanoseconds", l->tok[0]);
	if(e->time < lasttime)
		return bad(l, "time %s goes backwards", l->tok[0]);
	if(num(l->tok[1], 0xffffffffUL, &v) < 0)
		return bad(l, "pid \"%s\" is not a decimal number", l->tok[1]);
	e->pid = v;
	for(e->op = 0; e->op < Nop; e->op++)
		if(strcmp(l->tok[2], opname[e->op]) == 0)
			break;
	if(e->op == Nop)
		return bad(l, "unknown operation \"%s\"", l->tok[2]);
	if((e->op >= Oenable) != (e->pid == 0))
		return bad(l, "pid 0 is the host's: it does %s, and only it", "enable maxbudget encryption auditing pageout failmalloc");
	end = l->ntok;
	if(end >= 2 && strcmp(l->tok[end-2], "=") == 0){
		if(result(l, l->tok[end-1], &e->result) < 0)
			return -1;
		end -= 2;
	}else
		for(i = 3; i < end; i++)
			if(strcmp(l->tok[i], "=") == 0)
				return bad(l, "\"=\" must be followed by exactly one result%s", "");
	if(e->op == Ofork)
		return forkargs(l, e, end);
	if(args(l, e, end) < 0)
		return -1;
	/* bounds that keep one event's cost sane */
	if((e->op == Oalloc && e->n[1] > 0x7fffffff) || (e->op == Ocheck && e->n[2] > 0x7fffffff)
	|| (e->op == Oshare && e->n[0] > 0x7fffffff))
		return bad(l, "permissions out of range%s", "");
	/* a write or read of any length: one that succeeds lies inside an allocation, and --max-memory bounds those */
	if(e->op == Oaudit && e->n[0] > 65536)
		return bad(l, "audit asks for at most 65536 entries%s", "");
	return 0;
}

static int
config(Line *l, Conf *c)
{
	int i, seen;
	char *k, *v;
	uvlong x;

	seen = 0;
	for(i = 1; i < l->ntok; i++){
		k = l->tok[i];
		if((v = strchr(k, '=')) == nil)
			return bad(l, "config field \"%s\" is not KEY=VALUE", k);
		*v++ = 0;
		if(strcmp(k, "workload") == 0){
			if(seen & 32 || isname(v, 32) < 0)
				return bad(l, "bad or repeated workload \"%s\"", v);
			strcpy(c->wname, v);
			seen |= 32;
			continue;
		}
		if(num(v, 1ULL<<40, &x) < 0)
			return bad(l, "config value \"%s\" is not a decimal number", v);
		if(strcmp(k, "heap") == 0 && !(seen & 1) && x > 0 && x % 4096 == 0 && x <= PEBBLE_MAXHEAP)
			c->heap = x, seen |= 1;
		else if(strcmp(k, "nproc") == 0 && !(seen & 2) && x > 0 && x <= PEBBLE_MAXNPROC)
			c->nproc = x, seen |= 2;
		else if(strcmp(k, "audit") == 0 && !(seen & 4) && x > 0 && x <= PEBBLE_MAXAUDIT)
			c->audit = x, seen |= 4;
		else if(strcmp(k, "budget") == 0 && !(seen & 8))
			c->budget = x, seen |= 8;
		else if(strcmp(k, "maxbudget") == 0 && !(seen & 16))
			c->maxbudget = x, seen |= 16;
		else if(strcmp(k, "heap") && strcmp(k, "nproc") && strcmp(k, "audit") && strcmp(k, "budget") && strcmp(k, "maxbudget"))
			return bad(l, "unknown config key \"%s\" (heap nproc audit budget maxbudget workload)", k);
		else
			return bad(l, "config %s repeated or out of range", k);
	}
	if(!(seen & 16))
		c->maxbudget = c->heap;
	return 0;
}

/* header line state (0, 1, 2): the version, the seed, the config */
static int
header(Line *l, int state, Conf *c)
{
	uvlong v;

	switch(state){
	case 0:
		if(strcmp(l->tok[0], "pebbletrace") != 0 || l->ntok != 2)
			return bad(l, "the first line must be \"pebbletrace 1\"%s", "");
		if(strcmp(l->tok[1], "1") != 0)
			return bad(l, "trace format version %s is not supported (only 1)", l->tok[1]);
		return 0;
	case 1:
		if(l->ntok != 2 || strcmp(l->tok[0], "seed") != 0 || num(l->tok[1], ~0ULL, &v) < 0)
			return bad(l, "the second line must be \"seed N\"%s", "");
		c->seed = v;
		return 0;
	default:
		if(strcmp(l->tok[0], "config") != 0)
			return bad(l, "the third line must be \"config KEY=VALUE ...\"%s", "");
		return config(l, c);
	}
}

/*
 * Parse a whole trace.  On error returns -1 with "line N: reason" in
 * err; on success 0, the header in c and the events in *evp.
 */
int
parsetrace(char *text, usize n, Conf *c, Ev **evp, int *nevp, char *err, int nerr)
{
	static Line l;
	usize i, j;
	int lineno, state, nev, cap;
	uvlong last;
	Ev *ev;

	memset(c, 0, sizeof *c);
	c->heap = PEBBLE_DEFHEAP;
	c->nproc = PEBBLE_DEFNPROC;
	c->audit = PEBBLE_DEFAUDIT;
	c->budget = PEBBLE_DEFBUDGET;
	c->maxbudget = c->heap;
	ev = nil;
	nev = cap = 0;
	state = 0;
	last = 0;
	lineno = 0;
	for(i = 0; i < n; i = j+1){
		lineno++;
		for(j = i; j < n && text[j] != '\n'; j++)
			;
		if(memchr(text+i, 0, j-i) != nil){
			l.err = "NUL byte in line";
			goto Bad;
		}
		if(split(&l, text+i, j-i) <= 0){
			if(l.err != nil)
				goto Bad;
			continue;
		}
		if(state < 3){
			if(header(&l, state, c) < 0)
				goto Bad;
			state++;
			continue;
		}
		if(nev == cap){
			cap = cap ? 2*cap : 1024;
			ev = erealloc(ev, cap * sizeof *ev);
		}
		if(event(&l, &ev[nev], last) < 0)
			goto Bad;
		last = ev[nev].time;
		ev[nev].line = lineno;
		nev++;
	}
	if(state < 3){
		snprintf(err, nerr, "line %d: the trace ends inside its header", lineno);
		free(ev);
		return -1;
	}
	*evp = ev;
	*nevp = nev;
	return 0;
Bad:
	snprintf(err, nerr, "line %d: %s", lineno, l.err);
	free(ev);
	return -1;
}
