/*
 * The coverage report: which (call, result) pairs a run or a sweep
 * reached, which of the checker's invariants it exercised and how
 * often, which boundary values it drew, and the reachable cells it
 * never reached.  Reachable is DESIGN.md's: a cell is reachable when
 * some input the simulator can make gives that result (see the table
 * in sim/README.md for the cells that cannot be, and why).
 */
#include "sim.h"

enum { OK = 1<<0, NOMEM = 1<<1, PERM = 1<<2, NOTFOUND = 1<<3, INVALID = 1<<4, BUDGET = 1<<5,
	BUSY = 1<<6, COUNT = 1<<7 };

/* by operation, the results it can give (bit r for result index r) */
static int reach[Nop] = {
	[Ofork]		OK|NOMEM|PERM|NOTFOUND,
	[Oalloc]	OK|NOMEM|PERM|NOTFOUND|INVALID|BUDGET,
	[Owrite]	OK|PERM|NOTFOUND|INVALID,
	[Oread]		OK|PERM|NOTFOUND|INVALID,
	[Ocheck]	OK|PERM|NOTFOUND|INVALID,
	[Ofree]		OK|PERM|NOTFOUND,
	[Ofreesize]	OK|PERM|NOTFOUND|INVALID,
	[Owipe]		OK|PERM|NOTFOUND|INVALID,
	[Owipefree]	OK|PERM|NOTFOUND|INVALID,
	[Oshare]	OK|NOMEM|PERM|NOTFOUND|INVALID,
	[Orevoke]	OK|PERM|NOTFOUND|INVALID,
	[Oinfo]		OK|PERM|NOTFOUND,
	[Ostats]	OK|NOTFOUND,
	[Oaudit]	COUNT|PERM|NOTFOUND|INVALID,
	[Obudgetset]	OK|PERM|NOTFOUND|BUDGET|BUSY,
	[Obudgetinc]	OK|PERM|NOTFOUND|BUDGET,
	[Obudgetdec]	OK|NOTFOUND|INVALID|BUSY,
	[Osetconf]	OK|PERM|NOTFOUND|INVALID|BUDGET|BUSY,
	[Ogetconf]	OK|NOTFOUND,
	[Oexit]		OK|NOTFOUND,
	[Okill]		OK|NOTFOUND,
	[Oenable]	OK,
	[Omaxbudget]	OK,
	[Oencryption]	OK,
	[Oauditing]	OK,
	[Opageout]	COUNT,
	[Ofailmalloc]	OK,
};

static char*
rname(int r)
{
	return r == Rcount ? "count" : resname[r];
}

int
reachable(int op, int r)
{
	return (reach[op] >> r) & 1;
}

void
coverprint(FILE *f, uvlong cov[Nop][Nres], uvlong *inv, uvlong *bound)
{
	int op, r, n, m;

	fprintf(f, "coverage calls x results");
	for(r = 0; r < Nres; r++)
		fprintf(f, " %s", rname(r));
	fprintf(f, "\n");
	n = m = 0;
	for(op = 0; op < Nop; op++){
		fprintf(f, "  %-11s", opname[op]);
		for(r = 0; r < Nres; r++){
			if(reachable(op, r)){
				n++;
				m += cov[op][r] != 0;
				fprintf(f, " %llu", cov[op][r]);
			}else
				fprintf(f, " %s", cov[op][r] ? "!" : ".");
		}
		fprintf(f, "\n");
	}
	fprintf(f, "coverage %d of %d reachable cells; never reached:", m, n);
	for(op = 0; op < Nop; op++)
		for(r = 0; r < Nres; r++)
			if(reachable(op, r) && cov[op][r] == 0)
				fprintf(f, " %s/%s", opname[op], rname(r));
	fprintf(f, m == n ? " none\n" : "\n");
	fprintf(f, "checks");
	for(r = 0; r < Ninv; r++)
		fprintf(f, "%s %s %llu", r ? ";" : "", invname[r], inv[r]);
	fprintf(f, "\nboundaries");
	for(r = 0; r < Nbound; r++)
		fprintf(f, "%s %s %llu", r ? ";" : "", boundname[r], bound[r]);
	fprintf(f, "\n");
}

void
coverjson(FILE *f, uvlong cov[Nop][Nres], uvlong *inv, uvlong *bound)
{
	int op, r, first;

	fprintf(f, ",\"coverage\":{");
	for(op = 0; op < Nop; op++){
		fprintf(f, "%s\"%s\":{", op ? "," : "", opname[op]);
		for(first = 1, r = 0; r < Nres; r++)
			if(reachable(op, r) || cov[op][r]){
				fprintf(f, "%s\"%s\":%llu", first ? "" : ",", rname(r), cov[op][r]);
				first = 0;
			}
		fprintf(f, "}");
	}
	fprintf(f, "},\"never\":[");
	for(first = 1, op = 0; op < Nop; op++)
		for(r = 0; r < Nres; r++)
			if(reachable(op, r) && cov[op][r] == 0){
				fprintf(f, "%s\"%s/%s\"", first ? "" : ",", opname[op], rname(r));
				first = 0;
			}
	fprintf(f, "],\"checks\":{");
	for(r = 0; r < Ninv; r++)
		fprintf(f, "%s\"%s\":%llu", r ? "," : "", invname[r], inv[r]);
	fprintf(f, "},\"boundaries\":{");
	for(r = 0; r < Nbound; r++)
		fprintf(f, "%s\"%s\":%llu", r ? "," : "", boundname[r], bound[r]);
	fprintf(f, "}");
}
