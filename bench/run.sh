#!/bin/sh
# Run build/bench/pebblebench and make its report: sh bench/run.sh MODE OUTDIR
#   full	the committed baseline: 10 repetitions of at least 0.02 s CPU each (about 6 minutes on 2 cores)
#   quick	a smoke run for CI: 2 repetitions of 2 ms (about a minute)
#   compare	a full run into OUTDIR, then compare.py against reports/pebblebench.json
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
/usr/bin/python3 bench/report.py "$out/pebblebench.json" "$out"
if [ "$mode" = compare ]; then
	/usr/bin/python3 /usr/share/benchmark/compare.py benchmarks reports/pebblebench.json "$out/pebblebench.json"
fi
