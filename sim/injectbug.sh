#!/bin/sh
# The checker against a planted core bug.  Copies core/ to a temp dir,
# makes free skip revoking the grants on what it frees (one line in
# alloc.c's dofree), builds a pebblesim against that mutant in
# build/mut/, runs seeds until the checker fires, and shrinks the trace
# it wrote; the reproduce line the failing run printed must give the
# same output byte for byte.  The real core is untouched.
# MUTANT=crash plants a crash instead: every wipe stores through nil,
# so the run dies of SIGSEGV, pebblesim reports it (CRASHED seed N event
# E) and records its trace up to the crashing event, which the shrinker
# cuts to the few events that still crash.
# Usage: sh sim/injectbug.sh (NOSHRINK=1: stop before shrinking)
set -e
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r core "$tmp/core"
case ${MUTANT:-grant} in
grant)	line='revokeall(a, s, i);'
	with='(void)a;	/* MUTANT: grants outlive the free */';;
crash)	line='return memop(p, ptr, size, Owipe);'
	with='*(volatile char*)0 = 0; return 0;	/* MUTANT: wipe crashes */';;
*)	echo "injectbug: MUTANT is grant or crash" >&2; exit 1;;
esac
grep -qF "$line" "$tmp/core/alloc.c" || { echo "injectbug: the line to mutate is gone from core/alloc.c" >&2; exit 1; }
sed -i "s|$line|$with|" "$tmp/core/alloc.c"
echo "injectbug: the mutant:"
grep -n MUTANT "$tmp/core/alloc.c"
rm -rf build/mut
mkdir -p build/mut
cflags="-std=gnu11 -O2 -g -DPEBBLE_NOASSERT -DLOCKHOOK -I$tmp/core"	# the checker, not the core's own passert, must find it
for f in "$tmp"/core/*.c; do
	case $f in *example.c) continue;; esac
	gcc $cflags -c "$f" -o build/mut/core-$(basename "$f" .c).o
done
for f in lock procid swap det; do
	gcc $cflags -c "$tmp/core/host/$f.c" -o build/mut/host-$f.o
done
for f in sim/*.c; do
	case $f in *py.c) continue;; esac
	gcc $cflags -c "$f" -o build/mut/sim-$(basename "$f" .c).o
done
gcc -o build/mut/pebblesim build/mut/*.o
echo "injectbug: built build/mut/pebblesim"
s=1
while [ $s -le 100 ]; do
	if build/mut/pebblesim run --seed $s --events 100000 --fail-trace build/mut/bug.trace > build/mut/run.out 2>/dev/null; then
		s=$((s+1))
		continue
	fi
	break
done
[ -s build/mut/bug.trace ] || { echo "injectbug: the checker never fired (seeds 1-100)" >&2; exit 1; }
grep -A1 -E "CHECK FAILED|CRASHED" build/mut/run.out
# the reproduce line it printed gives the same failure, byte for byte
line=$(sed -n 's/^reproduce: pebblesim //p' build/mut/run.out)
[ -n "$line" ] || { echo "injectbug: the failing run printed no reproduce line" >&2; exit 1; }
build/mut/pebblesim $line --fail-trace build/mut/bug.trace > build/mut/again.out 2>/dev/null && { echo "injectbug: the reproduce line ran clean" >&2; exit 1; }
cmp -s build/mut/run.out build/mut/again.out || { echo "injectbug: the reproduce line gave another run:" >&2; diff build/mut/run.out build/mut/again.out >&2; exit 1; }
echo "injectbug: the reproduce line (pebblesim $line) gives the same output, byte for byte"
[ "${NOSHRINK:-0}" = 1 ] && exit 0
echo "injectbug: $(grep -vc '^#' build/mut/bug.trace) lines in build/mut/bug.trace; shrinking"
build/mut/pebblesim shrink build/mut/bug.trace -o build/mut/bug.min.trace
echo "injectbug: the minimal trace:"
cat build/mut/bug.min.trace
echo "injectbug: replayed against the mutant:"
build/mut/pebblesim replay build/mut/bug.min.trace 2>/dev/null | grep -A1 -E "CHECK|CRASHED" || true
echo "injectbug: replayed against the real core:"
build/pebblesim replay build/mut/bug.min.trace 2>/dev/null | grep -A1 -E "divergence|CHECK" || echo "(clean)"
