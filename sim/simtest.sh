#!/bin/sh
# The simulator's test (ninja simtest), the campaign sim/README.md names:
#   1. determinism: seeds run twice give identical output, and the
#      ASan+UBSan build gives the same output as the plain one;
#   2. every workload profile, swarm included, runs clean;
#   3. every committed trace (traces/*.trace, globbed now) replays
#      without divergence or violation;
#   4. record then replay reproduces every result and the digest;
#   5. replay costs memory in proportion to what a trace does, and
#      --max-memory refuses what cannot fit (exit 2);
#   6. a planted core bug is caught, and the reproduce line it prints
#      gives the same failure byte for byte (sim/injectbug.sh); a planted
#      crash is reported, traced and shrunk to the events that crash;
#   7. the sweeps: 200 seeds of the named profiles and 200 swarm seeds,
#      every fault on, 20,000 events each (SIMDEEP=1: 100,000), and
#      together they reach every reachable (call, result) cell.
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
	$asan run --seed $s --workload swarm --events 10000 > $tmp/c 2>/dev/null || fail "swarm seed $s under ASan+UBSan"
	$sim run --seed $s --workload swarm --events 10000 > $tmp/d 2>/dev/null || fail "swarm seed $s"
	cmp -s $tmp/c $tmp/d || fail "swarm seed $s: plain and ASan+UBSan runs differ"
done

echo "simtest: profiles"
for w in keyserver tls forkstorm pressure mixed swarm; do
	$sim run --seed 1 --workload $w --events 100000 > $tmp/p 2>/dev/null || { cat $tmp/p; fail "profile $w"; }
	$asan run --seed 2 --workload $w --events 10000 > $tmp/p 2>/dev/null || { cat $tmp/p; fail "profile $w under ASan+UBSan"; }
done

echo "simtest: record, then replay"
for s in 5 6 7; do
	$sim record --seed $s --events 20000 -o $tmp/r.trace > $tmp/r 2>/dev/null || fail "record seed $s"
	$sim replay $tmp/r.trace > $tmp/q 2>/dev/null || fail "replay of seed $s's recording"
	[ "$(grep ^digest $tmp/r)" = "$(grep ^digest $tmp/q)" ] || fail "seed $s: replay ends in another state"
done
$sim record --seed 8 --workload swarm --events 20000 -o $tmp/r.trace > $tmp/r 2>/dev/null || fail "record swarm seed 8"
$sim replay $tmp/r.trace > $tmp/q 2>/dev/null || fail "replay of swarm seed 8's recording"
[ "$(grep ^digest $tmp/r)" = "$(grep ^digest $tmp/q)" ] || fail "swarm seed 8: replay ends in another state"

echo "simtest: committed traces"
n=0
for t in traces/*.trace; do
	[ -e "$t" ] || continue
	$sim replay "$t" > $tmp/t 2>&1 || { cat $tmp/t; fail "replay $t"; }
	n=$((n+1))
done
[ $n -gt 0 ] || fail "no committed traces"
echo "simtest: $n traces replayed"

echo "simtest: replay memory"
sh sim/memtest.sh $sim || fail "replay memory"

echo "simtest: a planted bug and its reproduce line"
NOSHRINK=1 sh sim/injectbug.sh > $tmp/inj 2>&1 || { tail -20 $tmp/inj; fail "injectbug"; }
grep "reproduce line" $tmp/inj

echo "simtest: a planted crash: reported, its trace written, shrunk, and the shrunk trace crashes"
MUTANT=crash sh sim/injectbug.sh > $tmp/crash 2>&1 || { tail -20 $tmp/crash; fail "injectbug crash"; }
grep -q "^CRASHED seed [0-9]* event [0-9]*: signal 11" $tmp/crash || fail "the crash was not reported"
grep -q "reproduce line.*byte for byte" $tmp/crash || fail "the crash's reproduce line"
n=$(grep -c '^[0-9]' build/mut/bug.min.trace)
[ "$n" -le 4 ] || fail "the crash's trace shrank to $n events, not to its fork, alloc and wipe"
tail -1 build/mut/bug.min.trace | grep -q ' wipe #[0-9]* [0-9]*$' || fail "the crashing wipe is not the shrunk trace's last line"
st=0; build/mut/pebblesim replay build/mut/bug.min.trace > /dev/null 2>&1 || st=$?
[ $st = 139 ] || fail "the shrunk crash trace replays with exit $st, not SIGSEGV"
$sim replay build/mut/bug.min.trace > /dev/null 2>&1 || fail "the shrunk crash trace does not replay clean on the real core"
echo "simtest: crash shrunk to $n events"

ev=20000
[ "${SIMDEEP:-0}" = 1 ] && ev=100000
echo "simtest: sweeps of 200 seeds x $ev events, every fault, named profiles and swarm"
$sim sweep --seeds 1-200 --events $ev --faults all > $tmp/s 2>&1 || { tail -20 $tmp/s; fail "sweep"; }
tail -1 $tmp/s
$sim sweep --seeds 1-200 --workload swarm --events $ev > $tmp/w 2>&1 || { tail -20 $tmp/w; fail "swarm sweep"; }
tail -1 $tmp/w
# a cell the campaign never reached is in both sweeps' lists
never() { sed -n 's/^coverage .* never reached: //p' "$1" | tr ' ' '\n' | grep -v '^none$' | sort; }
missed=$(comm -12 "$(never $tmp/s > $tmp/s.n; echo $tmp/s.n)" "$(never $tmp/w > $tmp/w.n; echo $tmp/w.n)")
[ -z "$missed" ] || fail "the campaign never reached: $missed"
echo "simtest: every reachable (call, result) cell reached"
echo "simtest: ok"
