/*
 * DESIGN.md (Encryption): on a real host the arena is locked in RAM
 * or the subsystem does not start, unless the caller chose to run
 * unlocked, and then the statistics say so.  Run by core/test/mlock.sh
 * as a user whose RLIMIT_MEMLOCK is far below the heap; it reads its
 * own stderr back to check that the refusal names the limit and the
 * bytes asked for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include "pebble.h"
#include "host/posix.h"

static int	nfail;

#define CHECK(c) do{ if(!(c)){ fprintf(stdout, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); nfail++; } }while(0)

int
main(void)
{
	Pebbleconf c;
	PebbleSysStats st;
	struct rlimit rl;
	char msg[1024], want[64];
	FILE *f;
	usize n;
	int r;

	if(getrlimit(RLIMIT_MEMLOCK, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= (4<<20)){
		printf("mlock: RLIMIT_MEMLOCK is not below the 4 MiB heap: run me through core/test/mlock.sh\n");
		return 2;
	}
	memset(&c, 0, sizeof c);
	c.heapsize = 4<<20;
	c.nproc = 8;

	/* refused, with the reason on stderr: capture it */
	f = tmpfile();
	if(f == nil || dup2(fileno(f), 2) < 0){
		printf("mlock: cannot capture stderr\n");
		return 2;
	}
	r = pebbleinit(&c);
	CHECK(r == PEBBLE_ERR_NOMEM);
	CHECK(!pebblelive());
	rewind(f);
	n = fread(msg, 1, sizeof msg - 1, f);
	msg[n] = 0;
	CHECK(strstr(msg, "RLIMIT_MEMLOCK") != nil);
	snprintf(want, sizeof want, "%d bytes", 4<<20);
	CHECK(strstr(msg, want) != nil);
	CHECK(strstr(msg, "Pebbleconf.unlocked") != nil);

	/* chosen explicitly: it starts, and says it is not locked */
	c.unlocked = 1;
	r = pebbleinit(&c);
	CHECK(r == PEBBLE_ERR_OK);
	CHECK(pebble_secure_sysstats(&st) == PEBBLE_ERR_OK && st.locked == 0);
	pebbleshutdown();

	printf("mlock: refused without Pebbleconf.unlocked (\"%.*s...\"), started unlocked with it: %s\n",
		60, msg, nfail ? "FAIL" : "ok");
	printf("%d passed, %d failed\n", nfail ? 0 : 1, nfail ? 1 : 0);
	return nfail != 0;
}
