/*
 * The Proc both hosts give the core: only what identifies a process
 * to the secure storage subsystem.  A kernel's Proc has these fields
 * under other names; procslot() and friends in host.h are the only
 * way the core reads them.
 */
#ifndef PEBBLE_HOSTPROC_H
#define PEBBLE_HOSTPROC_H

#include "../host.h"

enum { KNAMELEN = 28 };

struct Proc {
	int	slot;		/* index in the proc table */
	ulong	pid;
	char	user[KNAMELEN];
	Proc	*parent;
	int	nowait;		/* made with RFNOWAIT */
	void	*aux;		/* the host's caller may hang anything here */
};

extern char	hosteve[KNAMELEN];	/* the host owner's name, "eve" */

#endif
