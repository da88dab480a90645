#!/bin/sh
# Replay costs memory in proportion to what a trace does, and
# --max-memory refuses what cannot fit (exit 2).  Memory is the peak
# resident set /usr/bin/time reports; no timing is asserted.
#   sh sim/memtest.sh [PEBBLESIM]
set -e
sim=${1:-build/pebblesim}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "memtest: FAIL: $*" >&2; exit 1; }
# peak RSS in KiB of a command; its exit code in $tmp/rc
rss() { /usr/bin/time -f %M -o $tmp/m "$@" > $tmp/out 2>&1 && echo 0 > $tmp/rc || echo $? > $tmp/rc; cat $tmp/m | tail -1; }

# the largest audit ring, nothing else: a lazily touched ring costs nothing
printf 'pebbletrace 1\nseed 0\nconfig audit=16777216\n' > $tmp/ring.trace
[ $(wc -c < $tmp/ring.trace) = 43 ] || fail "the ring trace is not 43 bytes"
k=$(rss $sim replay $tmp/ring.trace)
[ "$(cat $tmp/rc)" = 0 ] || { cat $tmp/out; fail "the ring trace does not replay"; }
[ $k -lt 51200 ] || fail "the 43-byte ring trace took $k KiB (limit 50 MB)"
echo "memtest: 43-byte trace, audit ring 2^24: $k KiB"

# 128 writes of 16 MiB from a 4 KB file: refused once it would pass --max-memory
{ printf 'pebbletrace 1\nseed 0\nconfig heap=2147483648 budget=2147483648\n'
  printf '1 1 fork - eve = OK\n'
  i=0; while [ $i -lt 8 ]; do printf '%d 1 alloc 268435456 6 #%d = OK\n' $((2+i)) $i; i=$((i+1)); done
  i=0; while [ $i -lt 128 ]; do printf '%d 1 write #%d %d 16777216 = OK\n' $((10+i)) $((i/16)) $(((i%16)*16777216)); i=$((i+1)); done; } > $tmp/w.trace
k=$(rss $sim replay --max-memory 256m $tmp/w.trace)
[ "$(cat $tmp/rc)" = 2 ] || { cat $tmp/out; fail "128 writes of 16 MiB under --max-memory 256m: exit $(cat $tmp/rc), not 2"; }
grep -q "max-memory" $tmp/out || fail "the refusal does not name --max-memory"
[ $k -lt 307200 ] || fail "128 writes of 16 MiB under --max-memory 256m took $k KiB"
echo "memtest: $(wc -c < $tmp/w.trace)-byte trace of 128 writes of 16 MiB, --max-memory 256m: refused at $k KiB"

# a configuration that cannot fit is refused before its first event
printf 'pebbletrace 1\nseed 0\nconfig nproc=16384\n' > $tmp/n.trace
rss $sim replay --max-memory 16m $tmp/n.trace > /dev/null
[ "$(cat $tmp/rc)" = 2 ] || fail "nproc 16384 under --max-memory 16m: exit $(cat $tmp/rc), not 2"
grep -q "more than --max-memory" $tmp/out || fail "the up-front refusal does not say why"
echo "memtest: ok"
