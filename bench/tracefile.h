/*
 * A trace (traces/README.md) as the in-process replayers read it:
 * fork, alloc, write, free and exit, with procs and handles numbered
 * from 0.  parse and pebbleevent are in replay.cc; replay.cc runs the
 * events against Pebble, real.cc against every allocator (Pebble
 * through pebbleevent too).
 */
#ifndef PEBBLE_TRACEFILE_H
#define PEBBLE_TRACEFILE_H

#include <string>
#include <vector>

enum { Ofork, Oalloc, Owrite, Ofree, Oexit };

struct Event {
	int	op;
	int	who;		/* index into the replay's procs */
	int	parent;		/* fork: -1 for none */
	int	nowait;
	size_t	size;		/* alloc: size; write: length */
	size_t	off;
	int	perms;
	int	h;		/* handle index */
	int	want;		/* recorded result */
	std::string	user;
};

struct Trace {
	std::vector<Event>	ev;
	size_t	budget = 0, maxbudget = 0;
	int	nproc = 0, nhandle = 0;
	size_t	nevents = 0;	/* event lines, whatever their operation */
	std::string	err;	/* malformed: an error */
	std::string	cannot;	/* well formed, but not for this replayer: a note */
};

Trace	parse(const std::string &file);
/* replay.cc: one event against Pebble, its result; detach every trace proc */
int	pebbleevent(const Trace&, const Event&, std::vector<void*> &h);
void	pebblecleanup(int nproc);

#endif
