/*
 * The seed's "complete usage example", as a real program on the POSIX
 * host: a proc checks its budget, allocates, fills and inspects secure
 * memory, shares it read-only with a child, and wipes and frees it,
 * then prints what the statistics really say.
 */
#include <stdio.h>
#include <string.h>
#include "pebble.h"
#include "host/posix.h"

static Proc parent = { .slot = 0, .pid = 1, .user = "glenda" };
static Proc child = { .slot = 1, .pid = 2, .user = "glenda", .parent = &parent };

static void
process_with_secure_storage(Proc *p, Proc *child_process)
{
	void *secure_data;
	PebbleSecureStats stats;
	SecureAllocation info;
	PebbleSysStats sys;
	uchar sensitive_buffer[4096];
	usize budget;
	int i, r;

	for(i = 0; i < (int)sizeof sensitive_buffer; i++)
		sensitive_buffer[i] = i*7 + 3;
	budget = pebble_secure_budget_get(p);
	printf("Secure budget: %zu bytes\n", budget);
	if(pebble_secure_alloc_simple(p, 4096, &secure_data) == 0){
		memcpy(secure_data, sensitive_buffer, 4096);
		explicit_bzero(sensitive_buffer, sizeof sensitive_buffer);
		if(pebble_secure_info(p, secure_data, &info) == 0)
			printf("Allocated %zu bytes at %p (id %llu, perms %d)\n",
				info.size, info.ptr, info.id, info.permissions);
		if(child_process != nil){
			r = pebble_secure_share(p, child_process, secure_data, PEBBLE_READ);
			printf("Shared read-only with pid %lu: %s\n", child_process->pid, pebble_strerror(r));
			printf("Child may read: %s; may write: %s\n",
				pebble_strerror(pebble_secure_check(child_process, secure_data, 4096, PEBBLE_READ)),
				pebble_strerror(pebble_secure_check(child_process, secure_data, 1, PEBBLE_WRITE)));
		}
		r = pebble_secure_wipe_and_free(p, secure_data, 4096);
		printf("Wiped and freed: %s\n", pebble_strerror(r));
	}
	pebble_secure_stats(p, &stats);
	printf("Used %zu/%zu bytes, wiped %zu bytes total, peak %zu\n",
		stats.used_budget, stats.total_budget, stats.total_wiped, stats.peak_usage);
	pebble_secure_sysstats(&sys);
	printf("Heap %zu bytes, %zu free, metadata %zu bytes, arena %s\n",
		sys.heap_size, sys.free_bytes, sys.metadata,
		sys.locked ? "locked in RAM (mlock)" :
		"NOT locked in RAM: run unlocked by choice (-u); raise RLIMIT_MEMLOCK (ulimit -l) to lock it");
}

/*
 * example [-u]: -u chooses to run even if the arena cannot be locked
 * in RAM (Pebbleconf.unlocked); without it, a too small RLIMIT_MEMLOCK
 * stops the program with the host's message saying how to raise it.
 */
int
main(int argc, char **argv)
{
	Pebbleconf c;
	int r;

	memset(&c, 0, sizeof c);
	c.heapsize = 4<<20;
	c.nproc = 64;
	c.unlocked = argc > 1 && strcmp(argv[1], "-u") == 0;
	if((r = pebbleinit(&c)) != 0){
		fprintf(stderr, "pebbleinit: %s\n", pebble_strerror(r));
		return 1;
	}
	if(pebble_secure_attach(nil, &parent) != 0 || pebble_secure_attach(&parent, &child) != 0){
		fprintf(stderr, "attach failed\n");
		return 1;
	}
	process_with_secure_storage(&parent, &child);
	pebble_secure_detach(&child);
	pebble_secure_detach(&parent);
	pebbleshutdown();
	return 0;
}
