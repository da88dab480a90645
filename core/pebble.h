/*
 * Pebble secure storage: the public interface.
 *
 * Names and signatures are the seed API's (shared/seed/...-api.md); the
 * semantics are DESIGN.md section 2.  Additions to the seed are marked.
 * The types Proc, Lock and RWLock come from the host (host.h).
 */
#ifndef PEBBLE_H
#define PEBBLE_H

#include "host.h"

/* macros, as the seed has them, so that #ifdef PEBBLE_ERR_OK works */
#define	PEBBLE_ERR_OK		0
#define	PEBBLE_ERR_NOMEM	(-1)	/* the secure heap, or host metadata */
#define	PEBBLE_ERR_PERM		(-2)
#define	PEBBLE_ERR_NOTFOUND	(-3)
#define	PEBBLE_ERR_INVALID	(-4)
#define	PEBBLE_ERR_BUDGET	(-5)	/* this proc's budget */
#define	PEBBLE_ERR_BUSY		(-6)

/* Plan 9's AREAD, AWRITE, AEXEC */
enum {
	PEBBLE_READ	= 4,
	PEBBLE_WRITE	= 2,
	PEBBLE_EXEC	= 1,
	PEBBLE_RWX	= 7,
};

enum {
	PEBBLE_AUDIT_ALLOC	= 1,
	PEBBLE_AUDIT_FREE,
	PEBBLE_AUDIT_PARTIAL_FREE,
	PEBBLE_AUDIT_WIPE,
	PEBBLE_AUDIT_SHARE,
	PEBBLE_AUDIT_REVOKE,
	PEBBLE_AUDIT_DENIED,
	PEBBLE_AUDIT_INHERIT,
	PEBBLE_AUDIT_EXIT,
};

typedef struct Ramdisk Ramdisk;
typedef struct PebbleBudget PebbleBudget;
typedef struct SecureRamdisk SecureRamdisk;
typedef struct SecureAllocation SecureAllocation;
typedef struct PebbleSecureStats PebbleSecureStats;
typedef struct PebbleSysStats PebbleSysStats;
typedef struct SecureAuditEntry SecureAuditEntry;
typedef struct Pebbleconf Pebbleconf;

/* the seed leaves Ramdisk to "the pebbeling system"; this is all we need of it */
struct Ramdisk {
	Proc	*proc;		/* the attached proc */
	ulong	pid;
	int	slot;		/* index in the host's proc table */
};

struct PebbleBudget {
	usize	limit;		/* pebble.secure.budget */
	usize	used;
	usize	peak;
	usize	wiped;
	usize	deferred;	/* bytes released unwiped, zeroed before reuse */
	usize	nalloc;
};

/* one per attached proc: its secure area */
struct SecureRamdisk {
	Ramdisk		base;
	ulong		*access_map;	/* bit per proc slot: holds a grant here */
	RWLock		lock;		/* serialises changes to this area only */
	int		encrypted;	/* pebble.secure.encryption */
	int		wipe_on_free;	/* pebble.secure.auto_wipe */
	usize		total_size;	/* the budget */
	usize		used_size;
	PebbleBudget	*budget_owner;
};

/* what pebble_secure_info reports */
struct SecureAllocation {
	void		*ptr;
	usize		size;		/* bytes charged: requested, less partial frees */
	Proc		*owner;
	int		permissions;	/* the caller's effective permissions */
	uvlong		alloc_time;
	SecureRamdisk	*ramdisk;
	/* additions */
	ulong		pid;		/* the owner's */
	uvlong		id;		/* never reused within an instance */
	int		ngrants;
	int		protection;	/* the allocation's own permissions */
};

struct PebbleSecureStats {
	usize	total_budget;
	usize	used_budget;
	usize	num_allocations;
	usize	peak_usage;
	usize	total_wiped;
	/* addition: bytes freed with auto_wipe off, zeroed on reuse instead */
	usize	total_deferred;
};

/* addition: the whole heap, for reports */
struct PebbleSysStats {
	usize	heap_size;
	usize	in_use;		/* bytes charged to procs */
	usize	rounding;	/* heap bytes held beyond what was charged */
	usize	metadata;	/* host memory for records, spans, grants, maps */
	usize	free_bytes;	/* in no live allocation */
	usize	largest_free;	/* largest allocation that could succeed now (kept empty runs count as free) */
	usize	live_allocations;
	usize	attached;	/* procs with a secure area */
	usize	wiped;		/* bytes wiped since init: every proc's total_wiped, exited ones too */
	usize	deferred;	/* bytes freed unwiped since init (zeroed before reuse, wiped at exit) */
	uvlong	audit_logged;
	uvlong	audit_dropped;	/* overwritten when the ring wrapped */
	int	locked;		/* 1: arena locked in RAM; 0: running unlocked, as Pebbleconf.unlocked allowed */
	int	record_size;	/* fixed metadata bytes per allocation */
	usize	paged_out;	/* pages of encrypted areas now in swap */
};

struct SecureAuditEntry {
	uvlong	timestamp;
	int	operation;	/* PEBBLE_AUDIT_* */
	Proc	*process;
	usize	size;
	/* additions: a Proc* is recycled and cannot name a process that exited */
	ulong	pid;
	ulong	peer;		/* SHARE, REVOKE: the target; INHERIT: the heir */
	int	perms;		/* ALLOC: protection; SHARE, REVOKE: the grant's */
	int	result;		/* DENIED: the error returned */
};

/* instance parameters; zero fields take the documented defaults */
struct Pebbleconf {
	usize	heapsize;	/* default 64 MiB */
	int	nproc;		/* proc slots, default 1024 */
	int	auditsize;	/* ring entries, default 16384 */
	usize	budget;		/* default per-proc budget, 1 MiB */
	int	unlocked;	/* 1: start even if the arena cannot be locked in RAM (then sysstats.locked is 0) */
};

enum {
	PEBBLE_DEFHEAP		= 64<<20,
	PEBBLE_DEFNPROC		= 1024,
	PEBBLE_DEFAUDIT		= 16384,
	PEBBLE_DEFBUDGET	= 1<<20,
	PEBBLE_MAXHEAP		= 1U<<31,
	PEBBLE_MAXNPROC		= 16384,	/* access maps take nproc²/8 bytes */
	PEBBLE_MAXAUDIT		= 1<<24,
	PEBBLE_AUDITEXACT	= 8192,		/* a smaller ring keeps exactly its newest auditsize entries; a larger at least those (docs/decisions.md) */
};

/* the per-proc settings of getconf and setconf (DESIGN.md, Configuration) */
#define PEBBLE_CONF_BUDGET	"pebble.secure.budget"
#define PEBBLE_CONF_ENCRYPTION	"pebble.secure.encryption"
#define PEBBLE_CONF_AUDIT	"pebble.secure.audit"
#define PEBBLE_CONF_AUTOWIPE	"pebble.secure.auto_wipe"

/* system-wide switches (the seed's), reset by pebbleinit */
extern int	pebble_secure_enabled;
extern usize	pebble_secure_max_budget;
extern int	pebble_secure_encryption;
extern int	pebble_secure_auditing;	/* the seed's pebble_secure_audit */

/* instance lifecycle (addition): one live instance at a time, as in a kernel */
int	pebbleinit(Pebbleconf*);
void	pebbleshutdown(void);
int	pebblelive(void);

int	pebble_secure_alloc(Proc *p, usize size, void **secure_ptr, int perms);
int	pebble_secure_alloc_simple(Proc *p, usize size, void **secure_ptr);
int	pebble_secure_free(Proc *p, void *ptr);
int	pebble_secure_free_size(Proc *p, void *ptr, usize size);
int	pebble_secure_share(Proc *source, Proc *target, void *ptr, int perms);
int	pebble_secure_revoke(Proc *source, Proc *target, void *ptr);
int	pebble_secure_wipe(Proc *p, void *ptr, usize size);
int	pebble_secure_wipe_and_free(Proc *p, void *ptr, usize size);
int	pebble_secure_info(Proc *p, void *ptr, SecureAllocation *info);
int	pebble_secure_stats(Proc *p, PebbleSecureStats *stats);
usize	pebble_secure_budget_get(Proc *p);
int	pebble_secure_budget_set(Proc *p, usize budget);
int	pebble_secure_budget_increase(Proc *p, usize additional);
int	pebble_secure_budget_decrease(Proc *p, usize reduction);
int	pebble_secure_attach(Proc *parent, Proc *child);
int	pebble_secure_detach(Proc *p);
int	pebble_secure_audit(Proc *p, void *ptr, SecureAuditEntry *audit, int max_entries);
const char*	pebble_get_secure_conf(Proc *p, const char *key);
int	pebble_set_secure_conf(Proc *p, const char *key, const char *value);

/* additions */
int	pebble_secure_check(Proc *p, void *addr, usize len, int perm);
/*
 * check, and keep the pages of [addr, addr+len) in RAM until the
 * matching unpin: with real threads and the pager running, the bytes
 * a pinned access sees are the allocation's (docs/core.md, "Pins").
 */
int	pebble_secure_pin(Proc *p, void *addr, usize len, int perm);
int	pebble_secure_unpin(Proc *p, void *addr, usize len);
int	pebble_secure_sysstats(PebbleSysStats *stats);
uvlong	pebble_secure_digest(void);	/* hash of all state, for tests */
int	pebble_secure_pageout(usize npages);	/* pager: returns pages sent to swap */
char*	pebble_strerror(int err);

#endif
