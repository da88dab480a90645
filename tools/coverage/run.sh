#!/bin/sh
# ninja coverage: line and branch coverage of core/ by what tools/test
# runs: the C tests, the property tests, the simulator's test campaign
# (sim/simtest.sh) and the fuzz targets over their committed corpora and
# regression inputs, all on the instrumented core of build/cov/.
# Writes reports/coverage/index.html (per file, per line, gcovr), the
# summary reports/coverage/summary.md, and puts that summary in
# reports/REPORT.md (bench/report.py keeps it when it rewrites the report).
set -eu
cd "$(dirname "$0")/../.."
out=reports/coverage
log=build/cov/run.log

find build/cov -name '*.gcda' -delete
mkdir -p $out
: > $log
step() { printf 'coverage: %s\n' "$*"; }

step "C tests"
build/cov/pebbletest >> $log 2>&1
step "simulator test campaign"
SIM=build/cov/pebblesim sh sim/simtest.sh >> $log 2>&1
step "fuzz corpora and regressions"
for t in api conf trace; do
	build/cov/fuzz-$t fuzz/corpus/$t fuzz/regress/$t >> $log 2>&1
done
step "property tests"
PEBBLE_LIBRARY=build/cov/libpebble.so PEBBLESIM_LIBRARY=build/cov/libpebblesim.so PEBBLESIM=build/cov/pebblesim \
	/usr/bin/python3 -m pytest -q -p no:cacheprovider props/ >> $log 2>&1

step "gcovr"
rm -f $out/*.html $out/*.css
gcovr --root . --object-directory build/cov --filter 'core/' --exclude 'core/test/' \
	--exclude-unreachable-branches --exclude-throw-branches \
	--html-details $out/index.html --json-summary $out/summary.json --txt $out/summary.txt \
	--sort-uncovered --print-summary > /dev/null
/usr/bin/python3 tools/coverage/summary.py $out/summary.json $out/summary.md reports/REPORT.md
cat $out/summary.md
