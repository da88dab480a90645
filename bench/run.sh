#!/bin/sh
# Run build/bench/pebblebench and make its report: sh bench/run.sh MODE OUTDIR
#   full	the committed baseline: 10 repetitions of at least 0.02 s CPU each (about 6 minutes on 2 cores)
#   quick	a smoke run for CI: 2 repetitions of 2 ms (about a minute)
#   compare	a full run into OUTDIR, then compare.py against reports/pebblebench.json
# Then tools/sweep on 1 and 2 local workers (sweep-1.json, sweep-2.json).
# Exits non-zero if the program crashes, any benchmark fails, or the report fails.
set -e
mode=$1
out=$2
case $mode in
full|compare)	flags="--benchmark_repetitions=10 --benchmark_min_time=0.02" ;;
quick)	flags="--benchmark_repetitions=2 --benchmark_min_time=0.002" ;;
*)	echo "usage: run.sh full|quick|compare OUTDIR" >&2; exit 2 ;;
esac
mkdir -p "$out"
build/bench/pebblebench $flags --benchmark_report_aggregates_only=true \
	--benchmark_out="$out/pebblebench.json" --benchmark_out_format=json
# seeds/s of tools/sweep on a local cluster of one worker and of two, the same seeds in the same run
case $mode in
quick)	sw="--seeds 1-8 --events 1000" ;;
*)	sw="--seeds 1-80 --events 20000" ;;
esac
for n in 1 2; do
	rm -rf "build/sweeps/bench-$mode-$n"
	tools/sweep $sw --workers $n --quiet --out "build/sweeps/bench-$mode-$n" >/dev/null
	cp "build/sweeps/bench-$mode-$n/summary.json" "$out/sweep-$n.json"
done
/usr/bin/python3 bench/report.py "$out/pebblebench.json" "$out"
if [ "$mode" = compare ]; then
	/usr/bin/python3 /usr/share/benchmark/compare.py benchmarks reports/pebblebench.json "$out/pebblebench.json"
fi
