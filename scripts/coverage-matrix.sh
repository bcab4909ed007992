#!/bin/sh
# coverage-matrix.sh [BUILDDIR] — what `make coverage-matrix` does
# (docs/coverage.md): which functions of mmu/, backends/ and core/ each
# benchmark workload reaches, and how often, on every backend x MMU.
#
# BUILDDIR (default build/coverage) is configured from
# configs/coverage_defconfig when it has no .config (gcov counters, every
# backend and MMU built in); the script builds hvlab and the workloads in
# it (make bench-workloads). Then, for each line of the suite (format in
# bench/suites/quick's header: WORKLOAD [smp=N] [mem=SIZE] [sched=MODE]
# [quantum=N] [KEY=N ...]) and each variant, it runs the workload alone,
# exactly as the bench harness does:
#   cd BUILDDIR/bench/workloads &&
#   BUILDDIR/hvlab run --backend B --mmu M [--smp N] [--mem SIZE] ... --append "KEY=N ..." NAME.elf
# A run passes when its exit status is 1 and its last line is
# "NAME: checksum 0x...: ok". Every run writes its counts into a directory
# of its own (GCOV_PREFIX / GCOV_PREFIX_STRIP: the counters start at zero
# and runs in parallel cannot mix), lcov captures mmu/, backends/ and
# core/ from it, and the function counts (lcov's FNDA records) become:
#
#   matrix.csv     workload,backend,mmu,file,function,calls — one row per
#                  function a run called at least once
#   matrix.md      one table per directory: rows are functions, columns
#                  runs, cells call counts (k = 10^3, M = 10^6; "·" none)
#   unreached.md   the mmu/ and backends/ functions no run called
#   runs.csv       run,workload,params,backend,mmu,status,exit,seconds
#   info/RUN.info  each run's lcov tracefile (genhtml or lcov --diff it)
#
# A workload named twice in the suite is labelled NAME-2, NAME-3... from
# its second line on (runs.csv has its parameters).
#
# Environment: SUITE (a name in bench/suites/ or a file; default quick),
# COVERAGE_MATRIX_OUT (output directory; default
# bench/results/<YYYY-MM-DD>/coverage-matrix), VARIANTS (BACKEND:MMU
# words; default every pair built in), JOBS (runs at once; default the
# number of CPUs), RUN_TIMEOUT (seconds per run, default 300), MAKE.
# Exit status 0 when every run passed, 1 otherwise (the matrix is still
# written), 2 when nothing could run.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
me=$src/scripts/coverage-matrix.sh

# ---------------------------------------------------------------- one run
# Internal: `coverage-matrix.sh --one OUT N` runs job N, OUT/jobs.d/N
# (xargs starts these, JOBS at a time), and captures its counts.
if [ "${1:-}" = --one ]; then
	out=$2 n=$3
	# The job's file, one item a line: run id, backend, MMU, workload,
	# hvlab's options, the guest's command line, the build directory.
	job=$out/jobs.d/$n
	id=$(sed -n 1p "$job") b=$(sed -n 2p "$job") m=$(sed -n 3p "$job") w=$(sed -n 4p "$job")
	opts=$(sed -n 5p "$job") append=$(sed -n 6p "$job") obj=$(sed -n 7p "$job")
	run=$out/work/$id
	rm -rf "$run" && mkdir -p "$run"
	strip=$(printf '%s' "$obj" | tr -cd / | wc -c)
	t0=$(date +%s.%N)
	# $opts unquoted: a list of options without spaces inside.
	(cd "$obj/bench/workloads" && GCOV_PREFIX=$run GCOV_PREFIX_STRIP=$strip \
		timeout "${RUN_TIMEOUT:-300}" "$obj/hvlab" run --backend "$b" --mmu "$m" \
		--stats none $opts ${append:+--append "$append"} "$w.elf" </dev/null) \
		>"$out/logs/$id.out" 2>"$out/logs/$id.err"
	rc=$?
	secs=$(echo "$t0 $(date +%s.%N)" | awk '{ printf "%.2f", $2 - $1 }')
	status=ok
	if [ "$rc" -ne 1 ] || ! tail -1 "$out/logs/$id.out" | grep -q "^$w: checksum 0x[0-9a-f]*: ok\$"; then
		status=FAILED
	fi
	# gcov needs each .gcno next to its .gcda (OUT/gcno.list; one process
	# makes every link).
	python3 -c '
import os, sys
obj, run = sys.argv[1], sys.argv[2]
for f in open(sys.argv[3]).read().split():
    os.makedirs(os.path.dirname(os.path.join(run, f)), exist_ok=True)
    os.symlink(os.path.join(obj, f), os.path.join(run, f))
' "$obj" "$run" "$out/gcno.list"
	# The program writes a .gcda for every object linked into it, called
	# or not: functions never called are there with a count of 0.
	lcov -q --rc lcov_branch_coverage=0 --capture \
		--directory "$run/mmu" --directory "$run/backends" --directory "$run/core" \
		--output-file "$out/info/$id.info" >"$out/logs/$id.lcov" 2>&1 || status=NOCOUNTS
	rm -rf "$run"
	echo "$id,$status,$rc,$secs" >"$out/status.d/$n"
	printf '%-8s %-40s exit %s, %s s\n' "$status" "$id" "$rc" "$secs"
	exit 0
fi

# ---------------------------------------------------------------- set-up
O=${1:-build/coverage}
case "$O" in /*) ;; *) O=$src/$O ;; esac
MAKE=${MAKE:-make}
SUITE=${SUITE:-quick}
case "$SUITE" in */*) suite=$SUITE ;; *) suite=$src/bench/suites/$SUITE ;; esac
out=${COVERAGE_MATRIX_OUT:-$src/bench/results/$(date +%Y-%m-%d)/coverage-matrix}
case "$out" in /*) ;; *) out=$(pwd)/$out ;; esac
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

[ -f "$suite" ] || { echo "coverage-matrix: no suite $suite"; exit 2; }
. "$src/scripts/coverage-setup.sh"
coverage_setup coverage-matrix "$O" lcov gcov python3
$MAKE -s -C "$src" O="$O" -j"$JOBS" "$O/hvlab" >/dev/null || exit 2
$MAKE -s -C "$src" O="$O" -j"$JOBS" bench-workloads >/dev/null || exit 2

# Every backend x MMU built in, in the bench harness's order.
variants=${VARIANTS:-}
if [ -z "$variants" ]; then
	built=$("$O/hvlab" config)
	for b in vmx svm; do
		echo "$built" | grep -qi "^CONFIG_BACKEND_$b=y" || continue
		for m in tdp shadow-flush shadow-cached; do
			echo "$built" | grep -qi "^CONFIG_MMU_$(echo $m | tr - _)=y" && variants="$variants $b:$m"
		done
	done
fi

rm -rf "$out/work" "$out/logs" "$out/info" "$out/jobs.d" "$out/status.d"
mkdir -p "$out/work" "$out/logs" "$out/info" "$out/jobs.d" "$out/status.d"

# One job file per (suite line, variant); the suite's words as bench/job
# reads them.
rm -f "$out/labels" "$out/jobs.n"
echo "run,workload,params,backend,mmu" >"$out/jobs.csv"
grep -v '^[[:space:]]*\(#\|$\)' "$suite" | while read -r w rest; do
	[ -f "$O/bench/workloads/$w.elf" ] || { echo "coverage-matrix: $suite: no workload $w (bench/workloads/$w.c)"; exit 2; }
	label=$w k=2
	while grep -q "^$label\$" "$out/labels" 2>/dev/null; do label=$w-$k; k=$((k + 1)); done
	echo "$label" >>"$out/labels"
	opts='' append=''
	for word in $rest; do
		case $word in
		smp=*|mem=*|sched=*|quantum=*) opts="$opts --${word%%=*} ${word#*=}";;
		*) append="${append:+$append }$word";;
		esac
	done
	for v in $variants; do
		b=${v%%:*} m=${v#*:}
		n=$(cat "$out/jobs.n" 2>/dev/null || echo 0); n=$((n + 1)); echo $n >"$out/jobs.n"
		printf '%s\n' "$label.$b.$m" "$b" "$m" "$w" "$opts" "$append" "$O" >"$out/jobs.d/$n"
		echo "$label.$b.$m,$label,\"$rest\",$b,$m" >>"$out/jobs.csv"
	done
done || exit 2
rm -f "$out/labels"
total=$(cat "$out/jobs.n" 2>/dev/null || echo 0)
rm -f "$out/jobs.n"
[ "$total" -gt 0 ] || { echo "coverage-matrix: $suite has no workload lines"; exit 2; }

(cd "$O" && find mmu backends core -name '*.gcno') >"$out/gcno.list"

echo "coverage-matrix: $total runs ($(grep -vc '^[[:space:]]*\(#\|$\)' "$suite") workloads x$variants), $JOBS at a time, into $out"
start=$(date +%s)
seq 1 "$total" | xargs -P "$JOBS" -n 1 "$me" --one "$out"
end=$(date +%s)
rm -rf "$out/work"

# ---------------------------------------------------------------- the matrix
python3 - "$src" "$out" <<'EOF'
import csv, os, sys

src, out = sys.argv[1], sys.argv[2]
jobs = list(csv.DictReader(open(os.path.join(out, "jobs.csv"))))
status = {}
for f in os.listdir(os.path.join(out, "status.d")):
    rid, st, rc, secs = open(os.path.join(out, "status.d", f)).read().strip().split(",")
    status[rid] = (st, rc, secs)

def parse(path):
    """(file, function) -> [line, calls] from one lcov tracefile."""
    funcs, sf, lines = {}, None, {}
    for l in open(path):
        l = l.rstrip("\n")
        if l.startswith("SF:"):
            sf = os.path.relpath(l[3:], src)
            lines = {}
        elif l.startswith("FN:"):
            line, name = l[3:].split(",", 1)
            lines[name] = int(line)
            funcs.setdefault((sf, name), [int(line), 0])
        elif l.startswith("FNDA:"):
            calls, name = l[5:].split(",", 1)
            e = funcs.setdefault((sf, name), [lines.get(name, 0), 0])
            e[1] += int(calls)
    return funcs

runs, allf = [], {}
for j in jobs:
    info = os.path.join(out, "info", j["run"] + ".info")
    f = parse(info) if os.path.exists(info) else {}
    runs.append((j, f))
    for k, (line, calls) in f.items():
        allf.setdefault(k, line)

with open(os.path.join(out, "matrix.csv"), "w", newline="") as fh:
    w = csv.writer(fh, lineterminator="\n")
    w.writerow(["workload", "backend", "mmu", "file", "function", "calls"])
    for j, f in runs:
        for (file, name), (line, calls) in sorted(f.items(), key=lambda kv: (kv[0][0], kv[1][0])):
            if calls:
                w.writerow([j["workload"], j["backend"], j["mmu"], file, name, calls])

with open(os.path.join(out, "runs.csv"), "w", newline="") as fh:
    w = csv.writer(fh, lineterminator="\n")
    w.writerow(["run", "workload", "params", "backend", "mmu", "status", "exit", "seconds"])
    for j, f in runs:
        st, rc, secs = status.get(j["run"], ("NOTRUN", "", ""))
        w.writerow([j["run"], j["workload"], j["params"], j["backend"], j["mmu"], st, rc, secs])

def fmt(n):
    if n == 0:
        return "·"
    for div, suf in ((10**9, "G"), (10**6, "M"), (10**3, "k")):
        if n >= div:
            v = n / div
            return ("%.1f" % v if v < 10 else "%d" % v) + suf
    return str(n)

short = {"tdp": "tdp", "shadow-flush": "sf", "shadow-cached": "sc"}
cols = ["%s %s/%s" % (j["workload"], j["backend"], short.get(j["mmu"], j["mmu"])) for j, _ in runs]
def total(k):
    return sum(f.get(k, [0, 0])[1] for _, f in runs)

with open(os.path.join(out, "matrix.md"), "w") as fh:
    fh.write("# Coverage matrix: calls per function and run\n\n")
    fh.write("Columns are runs (workload backend/MMU; sf = shadow-flush, sc = shadow-cached);\n"
             "cells are calls (k = 10^3, M = 10^6, · = never). Parameters: runs.csv.\n"
             "Functions no run called are left out here (mmu/ and backends/: unreached.md).\n")
    for d in ("mmu/", "backends/", "core/"):
        keys = sorted((k for k in allf if k[0].startswith(d) and total(k)), key=lambda k: (k[0], allf[k]))
        if not keys:
            continue
        fh.write("\n## %s\n\n" % d)
        fh.write("| function | " + " | ".join(cols) + " |\n")
        fh.write("|---|" + "---:|" * len(cols) + "\n")
        for k in keys:
            cells = [fmt(f.get(k, [0, 0])[1]) for _, f in runs]
            fh.write("| %s:%d %s | %s |\n" % (k[0], allf[k], k[1], " | ".join(cells)))

unreached = sorted((k for k in allf if k[0].startswith(("mmu/", "backends/")) and not total(k)),
                   key=lambda k: (k[0], allf[k]))
reached_mb = sum(1 for k in allf if k[0].startswith(("mmu/", "backends/")) and total(k))
with open(os.path.join(out, "unreached.md"), "w") as fh:
    fh.write("# mmu/ and backends/ functions no run reached\n\n")
    fh.write("%d of %d functions in mmu/ and backends/ were called by no run of the suite\n"
             "(%d runs: %s).\n\n" % (len(unreached), len(unreached) + reached_mb, len(runs),
                                    ", ".join(sorted({j["workload"] for j, _ in runs}))))
    last = None
    for k in unreached:
        if k[0] != last:
            fh.write("\n## %s\n\n" % k[0])
            last = k[0]
        fh.write("- %s (line %d)\n" % (k[1], allf[k]))
print("coverage-matrix: %d functions reached in mmu/ and backends/, %d unreached" % (reached_mb, len(unreached)))
EOF
rm -rf "$out/jobs.d" "$out/status.d" "$out/jobs.csv" "$out/gcno.list"
failed=$(grep -c ',\(FAILED\|NOCOUNTS\|NOTRUN\),' "$out/runs.csv")
echo "coverage-matrix: $total runs in $((end - start)) s, $failed failed"
for f in matrix.csv matrix.md unreached.md runs.csv; do echo "  $out/$f"; done
[ "$failed" -eq 0 ]
