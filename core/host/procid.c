/* Proc identity for both hosts: the fields of host/proc.h */
#include <string.h>
#include "proc.h"

int
procslot(Proc *p)
{
	return p->slot;
}

ulong
procpid(Proc *p)
{
	return p->pid;
}

char*
procuser(Proc *p)
{
	return p->user;
}

Proc*
procparent(Proc *p)
{
	return p->parent;
}

int
procnowait(Proc *p)
{
	return p->nowait;
}

int
proceve(Proc *p)
{
	return strcmp(p->user, hosteve) == 0;
}
