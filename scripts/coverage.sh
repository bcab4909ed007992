#!/bin/sh
# coverage.sh [BUILDDIR] — what `make coverage` does (docs/coverage.md):
# configure BUILDDIR (default build/coverage) from configs/coverage_defconfig
# when it has no .config, throw away old counts, run `make check` there
# (scripts/check.sh: it builds everything and runs every test family), then
# capture the gcov counts with lcov, keep only hvlab's own code (emulate/,
# hw/, core/, backends/, mmu/, include/ and the program in vmm/: not the
# tests, the fuzz targets, the guests or the benchmarks), write an HTML
# report with genhtml and print the line and function coverage, the time
# each test family took and the report's path.
#
# Files never executed count as 0%: an --initial capture of every .gcno is
# the baseline the run's counts are added to.
#
# Exit status: check.sh's (the report is written even when a test fails,
# so a failure does not hide the coverage it reached), 1 when nothing
# could be built or captured.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
O=${1:-build/coverage}
case "$O" in /*) ;; *) O=$src/$O ;; esac
MAKE=${MAKE:-make}
# Instrumented -Og code runs slower than make check's -O2: a guest gets
# more than guests.sh's usual 20 s before it counts as hung.
GUEST_TIMEOUT=${GUEST_TIMEOUT:-60}
export GUEST_TIMEOUT
lcov_rc="--rc lcov_branch_coverage=0"

. "$src/scripts/coverage-setup.sh"
coverage_setup coverage "$O" lcov genhtml gcov

out=$O/report
mkdir -p "$out"
log=$out/lcov.log
: >"$log"
# Old counts would add to this run's; the .gcda files are all there is.
find "$O" -name '*.gcda' -delete

# check.sh's output, each line as it comes, with the time of every
# "== family: ..." header noted so the families' run times can be summed
# (what comes before the first is the build).
start=$(date +%s)
st=$out/check.status times=$out/family-times
echo "$start build" >"$times"
{ "$src/scripts/check.sh" "$O"; echo $? >"$st"; } 2>&1 | while IFS= read -r line; do
	case "$line" in "== "*)
		f=${line#== }; f=${f%%:*}
		echo "$(date +%s) $f" >>"$times";;
	esac
	printf '%s\n' "$line"
done
end=$(date +%s)
echo "$end end" >>"$times"
check_rc=$(cat "$st" 2>/dev/null || echo 1)

if [ -z "$(find "$O" -name '*.gcda' | head -1)" ]; then
	echo "coverage: no counts were written (did the build fail?)"; exit 1
fi

# Every .gcno with zero counts, plus the counts of the run.
echo "== coverage: capturing (lcov, log in $log)"
lcov -q $lcov_rc --capture --initial --directory "$O" --output-file "$out/base.info" >>"$log" 2>&1 &&
lcov -q $lcov_rc --capture --directory "$O" --output-file "$out/run.info" >>"$log" 2>&1 &&
lcov -q $lcov_rc --add-tracefile "$out/base.info" --add-tracefile "$out/run.info" \
	--output-file "$out/all.info" >>"$log" 2>&1 &&
lcov -q $lcov_rc --extract "$out/all.info" "$src/emulate/*" "$src/hw/*" "$src/core/*" \
	"$src/backends/*" "$src/mmu/*" "$src/include/*" "$src/vmm/*" \
	--output-file "$out/coverage.info" >>"$log" 2>&1 || {
	echo "coverage: lcov failed:"; grep -v 'redefined at' "$log" | tail -20; exit 1; }
genhtml -q $lcov_rc --title "hvlab make check" --prefix "$src" --legend \
	--output-directory "$out/html" "$out/coverage.info" >>"$log" 2>&1 || {
	echo "coverage: genhtml failed:"; grep -v 'redefined at' "$log" | tail -20; exit 1; }

echo "== coverage: time per test family (seconds, $((end - start)) in all)"
awk 'NR > 1 { t[f] += $1 - s; if (!(f in seen)) { seen[f] = 1; order[n++] = f } }
     { s = $1; f = $2 }
     END { for (i = 0; i < n; i++) printf "  %-16s %6d\n", order[i], t[order[i]] }' "$times"
echo "== coverage: hvlab's code (emulate hw core backends mmu include vmm)"
lcov $lcov_rc --summary "$out/coverage.info" 2>&1 | grep -E '^ *(lines|functions)'
echo "report: $out/html/index.html"
echo "tracefile: $out/coverage.info"
[ "$check_rc" -eq 0 ] || echo "coverage: make check failed (status $check_rc); the counts are those of the tests that ran"
exit "$check_rc"
