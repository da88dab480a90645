#!/bin/sh
# The simulator's test (ninja simtest):
#   1. determinism: seeds run twice give identical output, and the
#      ASan+UBSan build gives the same output as the plain one;
#   2. every workload profile runs clean;
#   3. every committed trace (traces/*.trace, globbed now) replays
#      without divergence or violation;
#   4. record then replay reproduces every result and the digest;
#   5. the sweep: 200 seeds x 100,000 events (SIMDEEP=0 for a quick
#      one of 200 seeds x 10,000).
set -e
cd "$(dirname "$0")/.."
sim=${SIM:-build/pebblesim}		# ninja coverage runs an instrumented one
asan=build/asan/pebblesim
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "simtest: FAIL: $*" >&2; exit 1; }

echo "simtest: determinism"
for s in 1 2 3 17 4242; do
	$sim run --seed $s --events 50000 > $tmp/a 2>/dev/null || fail "seed $s does not run clean"
	$sim run --seed $s --events 50000 > $tmp/b 2>/dev/null || fail "seed $s does not run clean the second time"
	cmp -s $tmp/a $tmp/b || fail "seed $s: two runs differ"
	$asan run --seed $s --events 20000 > $tmp/c 2>/dev/null || fail "seed $s does not run clean under ASan+UBSan"
	$sim run --seed $s --events 20000 > $tmp/d 2>/dev/null || fail "seed $s does not run clean"
	cmp -s $tmp/c $tmp/d || fail "seed $s: plain and ASan+UBSan runs differ"
done

echo "simtest: profiles"
for w in keyserver tls forkstorm pressure mixed; do
	$sim run --seed 1 --workload $w --events 100000 > $tmp/p 2>/dev/null || { cat $tmp/p; fail "profile $w"; }
	$asan run --seed 2 --workload $w --events 10000 > $tmp/p 2>/dev/null || { cat $tmp/p; fail "profile $w under ASan+UBSan"; }
done

echo "simtest: record, then replay"
for s in 5 6 7; do
	$sim record --seed $s --events 20000 -o $tmp/r.trace > $tmp/r 2>/dev/null || fail "record seed $s"
	$sim replay $tmp/r.trace > $tmp/q 2>/dev/null || fail "replay of seed $s's recording"
	[ "$(grep ^digest $tmp/r)" = "$(grep ^digest $tmp/q)" ] || fail "seed $s: replay ends in another state"
done

echo "simtest: committed traces"
n=0
for t in traces/*.trace; do
	[ -e "$t" ] || continue
	$sim replay "$t" > $tmp/t 2>&1 || { cat $tmp/t; fail "replay $t"; }
	n=$((n+1))
done
[ $n -gt 0 ] || fail "no committed traces"
echo "simtest: $n traces replayed"

if [ "${SIMDEEP:-1}" = 0 ]; then
	echo "simtest: sweep 200 seeds x 10000 events (quick)"
	$sim sweep --seeds 1-200 --events 10000 > $tmp/s 2>&1 || { tail -20 $tmp/s; fail "sweep"; }
else
	echo "simtest: sweep 200 seeds x 100000 events"
	$sim sweep --seeds 1-200 --events 100000 > $tmp/s 2>&1 || { tail -20 $tmp/s; fail "sweep"; }
fi
tail -2 $tmp/s
echo "simtest: ok"
