/*
 * Names: of the operations (the trace verbs), of the results, and of
 * the coverage report's invariants and boundaries.
 */
#include "sim.h"

char *opname[Nop] = {
	[Ofork] "fork", [Oalloc] "alloc", [Owrite] "write", [Oread] "read", [Ocheck] "check",
	[Ofree] "free", [Ofreesize] "freesize", [Owipe] "wipe", [Owipefree] "wipefree",
	[Oshare] "share", [Orevoke] "revoke", [Oinfo] "info", [Ostats] "stats", [Oaudit] "audit",
	[Obudgetset] "budgetset", [Obudgetinc] "budgetinc", [Obudgetdec] "budgetdec",
	[Osetconf] "setconf", [Ogetconf] "getconf", [Oexit] "exit", [Okill] "kill",
	[Oenable] "enable", [Omaxbudget] "maxbudget", [Oencryption] "encryption",
	[Oauditing] "auditing", [Opageout] "pageout", [Ofailmalloc] "failmalloc",
};

char *resname[7] = { "OK", "NOMEM", "PERM", "NOTFOUND", "INVALID", "BUDGET", "BUSY" };

char *invname[Ninv] = {
	[Iresult] "result as predicted",
	[Iaudit] "audit log length",
	[Istats] "proc statistics",
	[Ibytes] "bytes read as written",
	[Izero] "new memory reads zero",
	[Iwiped] "wiped bytes read zero",
	[Iplace] "in the heap, apart",
	[Iinfo] "info fields",
	[Iauditq] "audit query entries",
	[Igetconf] "getconf strings",
	[Irefused] "refusal left system statistics",
	[Idigest] "refusal left the digest",
	[Ipartial] "partial free released whole pages",
	[Ilargest] "largest_free as defined",
	[Iresidue] "no plaintext after detach",
	[Istranger] "stranger learns no extent",
	[Iswap] "no plaintext in swap",
	[Ipinned] "encryption off means pinned",
	[Idump] "no plaintext in a crash dump",
	[Isys] "system statistics",
	[Iteardown] "teardown leaves nothing",
};

char *boundname[Nbound] = {
	[Bzero] "size 0",
	[Bone] "size 1",
	[Bremain] "exactly the remaining budget",
	[Bremain1] "one past the remaining budget",
	[Bend] "exactly to the end",
	[Bend1] "one past the end",
	[Bclass] "around a size class",
	[Bpage] "around a page",
	[Bsizemax] "SIZE_MAX and near it",
	[Bbadconf] "malformed setting",
	[Bbigbudget] "budget near SIZE_MAX",
	[Binherit] "inheritance exactly fits",
	[Binherit1] "inheritance one byte short",
};

/* the operations whose result is a count, not a code */
int
countop(int op)
{
	return op == Oaudit || op == Opageout;
}

char*
fmtres(char *buf, vlong r, int op)
{
	if(r == Rnone)
		strcpy(buf, "-");
	else if(r >= 0 && countop(op))
		sprintf(buf, "%lld", r);
	else if(r <= 0 && r > -7)
		strcpy(buf, resname[-r]);
	else
		sprintf(buf, "%lld", r);
	return buf;
}
