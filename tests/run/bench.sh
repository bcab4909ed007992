#!/bin/sh
# bench.sh — the benchmark harness (bench/, docs/workflow.md)
# does what it says: a job's row holds the run's own statistics, a bad
# size or variant fails cleanly, rows merge by column name, "vs tdp" is
# the ratio of modeled cycles, a swept Kconfig option really changes the
# build (modeled cycles move by exactly exits x the price change, the
# cost model's sum in docs/cost-model.md), and the local runners (make
# -j, GNU parallel, and the Slurm scripts under a stand-in sbatch that
# runs arrays here) give the same rows. Variants are built where
# `make bench` builds them (bench/lib.sh: build/<variant> in the source
# tree, so the two share vmx_tdp; the first run builds it, a minute or
# two). BUILDDIR is not used: the harness builds its own variants.
# One line per check, then "bench: N passed, M failed".
set -u
. "$(dirname "$0")/lib.sh"
check() {	# what, then a command that must succeed
	what=$1; shift
	if "$@" >"$tmp/check.out" 2>&1; then ok "$what"; else bad "$what" "$(head -c 400 "$tmp/check.out")"; fi
}
b=$src/bench

# col FILE ROW NAME: the value of column NAME in data row ROW of a CSV
# without quoted commas (the rows used here have none).
col() {
	awk -F, -v r="$2" -v k="$3" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == k) c = i }
		NR == r + 1 && c { print $c }' "$1"
}

# ---------------------------------------------------------------- one job
case_words="p=2 w=4 r=3 k=4"
if "$b/build" vmx_tdp >"$tmp/build.log" 2>&1; then
	ok "bench/build vmx_tdp"
else
	bad "bench/build vmx_tdp" "$(tail -n 5 "$tmp/build.log")"
	echo "bench: $passed passed, $((failed + 1)) failed"
	exit 1
fi
vdir=${BENCH_BUILD:-$src/build}/vmx_tdp
"$b/job" -r 2 -o "$tmp/j" vmx_tdp ctxswitch $case_words >"$tmp/job.out" 2>&1
st=$?
row=$tmp/j/rows/vmx_tdp_ctxswitch_p-2_w-4_r-3_k-4.csv
if [ "$st" -eq 0 ] && [ -f "$row" ] && grep -q '^ok ' "$tmp/job.out"; then ok "job runs"; else bad "job runs" "status $st: $(cat "$tmp/job.out")"; fi
# The same run by hand: the row must hold its statistics.
(cd "$vdir/bench/workloads" && "$vdir/hvlab" run --stats json --stats-file "$tmp/direct.json" \
	--append "$case_words" ctxswitch.elf) >/dev/null 2>&1
for k in exits hw_insns hw_cycles hw_tlb_misses mmu_pages_peak; do
	want=$(tr -d '{}" \n' <"$tmp/direct.json" | tr ',' '\n' | sed -n "s/^$k://p")
	got=$(col "$row" 1 "$k")
	if [ -n "$want" ] && [ "$got" = "$want" ]; then ok "row's $k is the run's ($want)"; else bad "row's $k" "row $got, run $want"; fi
done
[ "$(col "$row" 1 ok)" = 1 ] && [ "$(col "$row" 1 runs)" = 2 ] && [ "$(col "$row" 1 backend)" = vmx ] &&
	[ "$(col "$row" 1 mmu)" = tdp ] && [ "$(col "$row" 1 params)" = "$case_words" ] &&
	ok "row identity: ok, runs, backend, mmu, params" || bad "row identity" "$(cat "$row")"

# A size the guest refuses fails the job (and its row says so).
"$b/job" -o "$tmp/j" vmx_tdp ctxswitch p=many >"$tmp/job2.out" 2>&1
st=$?
[ "$st" -eq 1 ] && grep -q 'want a number in' "$tmp/job2.out" &&
	[ "$(col "$tmp/j/rows/vmx_tdp_ctxswitch_p-many.csv" 1 ok)" = 0 ] &&
	ok "refused size fails the job" || bad "refused size" "status $st: $(cat "$tmp/job2.out")"

# Bad input: one line, status 2.
bad_input() {	# what, command...
	what=$1; shift
	"$@" >"$tmp/bad.out" 2>&1
	st=$?
	if [ "$st" -eq 2 ] && [ "$(wc -l <"$tmp/bad.out")" -eq 1 ]; then ok "bad input: $what"; else bad "bad input: $what" "status $st: $(cat "$tmp/bad.out")"; fi
}
bad_input "unknown variant" "$b/job" -o "$tmp/j" nosuch ctxswitch
bad_input "option without value" "$b/job" -o "$tmp/j" vmx_tdp+HW_TLB_4K_ENTRIES ctxswitch
bad_input "unknown workload" "$b/job" -o "$tmp/j" vmx_tdp nosuch
bad_input "bad runs" "$b/job" -r x -o "$tmp/j" vmx_tdp ctxswitch
bad_input "unknown suite" "$b/run" -s nosuch
bad_input "option out of range" "$b/build" vmx_tdp+HW_TLB_4K_ENTRIES=0
printf 'variant vmx_tdp\nfrobnicate 1\n' >"$tmp/bad.grid"
bad_input "unknown grid keyword" "$b/sweep" -o "$tmp/s0" "$tmp/bad.grid"

# bench/run end to end: a suite file, a workload filter, PERF=stat.
printf '# two cases, one filtered out\nctxswitch %s\nfork n=32 f=25 r=2\n' "$case_words" >"$tmp/suite"
"$b/run" -s "$tmp/suite" -V vmx_tdp -w ctxswitch -p stat -o "$tmp/r" >"$tmp/run.out" 2>&1
st=$?
[ "$st" -eq 0 ] && [ "$(wc -l <"$tmp/r/results.csv")" -eq 2 ] && grep -q "^| ctxswitch $case_words | 1.00 |" "$tmp/r/summary.md" &&
	grep -q 'task-clock' "$tmp/r/logs/vmx_tdp_ctxswitch_p-2_w-4_r-3_k-4.1.perf-stat.txt" &&
	ok "bench/run: suite file, -w filter, perf stat" || bad "bench/run" "status $st: $(tail -n 5 "$tmp/run.out")"

# ---------------------------------------------------------------- merge, report
mkdir -p "$tmp/m/rows"
printf 'variant,base,options,workload,params,ok,backend,mmu,hw_insns,hw_cycles,exits\n' >"$tmp/m/rows/a.csv"
printf 'vmx_tdp,vmx_tdp,,w,"x=1",1,vmx,tdp,1000,4000,2\n' >>"$tmp/m/rows/a.csv"
printf 'variant,base,options,workload,params,ok,backend,mmu,hw_insns,exits,hw_cycles,mmu_pages_peak\n' >"$tmp/m/rows/b.csv"
printf 'vmx_shadow_flush,vmx_shadow_flush,,w,"x=1",1,vmx,shadow-flush,1000,50,12000,7\n' >>"$tmp/m/rows/b.csv"
"$b/merge" "$tmp/m" >/dev/null 2>&1
[ "$(head -n 1 "$tmp/m/results.csv")" = "variant,base,options,workload,params,ok,backend,mmu,hw_insns,hw_cycles,exits,mmu_pages_peak" ] &&
	[ "$(col "$tmp/m/results.csv" 2 hw_cycles)" = 12000 ] && [ "$(col "$tmp/m/results.csv" 1 mmu_pages_peak)" = "" ] &&
	ok "merge: union of columns, by name" || bad "merge" "$(cat "$tmp/m/results.csv")"
awk -f "$b/metrics.awk" "$tmp/m/results.csv" >"$tmp/m/metrics.tsv"
[ "$(awk -F '\t' '$2 == "vmx_shadow_flush" { print $15, $8, $14 }' "$tmp/m/metrics.tsv")" = "3 50 12" ] &&
	ok "metrics: vs tdp 3, 50 exits/1k, CPI 12" || bad "metrics" "$(cat "$tmp/m/metrics.tsv")"
"$b/report" "$tmp/m" >/dev/null 2>&1
grep -q '^| w x=1 | 1.00 | 3.00 |$' "$tmp/m/summary.md" &&
	ok "summary: the vs-tdp table" || bad "summary" "$(head -n 30 "$tmp/m/summary.md")"
for f in cpi vs-tdp exits; do
	[ -s "$tmp/m/figures/$f.png" ] && [ -s "$tmp/m/figures/$f.svg" ] &&
		ok "figure $f (PNG, SVG)" || bad "figure $f" "missing"
done

# ---------------------------------------------------------------- sweep and runners
cat >"$tmp/g.grid" <<EOF
# two exit prices x one case
variant vmx_tdp
option HW_PRICE_VMX_EXIT_ENTRY 1000 3000
case ctxswitch $case_words
EOF
"$b/sweep" -o "$tmp/s1" "$tmp/g.grid" >"$tmp/sweep.out" 2>&1 && [ "$(wc -l <"$tmp/s1/jobs.txt")" -eq 2 ] &&
	ok "sweep: 2 jobs" || bad "sweep" "$(cat "$tmp/sweep.out")"
check "runner: make -j2" make -s -C "$tmp/s1" -j2
r=$tmp/s1/results.csv
if [ -f "$r" ]; then
	c1=$(col "$r" 1 hw_cycles) c3=$(col "$r" 2 hw_cycles) e=$(col "$r" 1 exits)
	[ "$(col "$r" 2 exits)" = "$e" ] && [ $((c3 - c1)) -eq $((2000 * e)) ] &&
		ok "the swept option took: cycles differ by 2000 x $e exits" ||
		bad "swept option" "cycles $c1 / $c3, exits $e"
else
	bad "swept option" "no results.csv"
fi
# The same sweep through GNU parallel and the Slurm scripts.
"$b/sweep" -o "$tmp/s2" "$tmp/g.grid" >/dev/null 2>&1
check "runner: GNU parallel" sh -c "parallel -j2 <'$tmp/s2/builds.txt' && parallel -j2 <'$tmp/s2/jobs.txt' && make -s -C '$tmp/s2' report"
mkdir -p "$tmp/bin"
# A stand-in sbatch: runs each array task here, in order, then prints a
# job id (--parsable); dependencies hold because it runs synchronously.
cat >"$tmp/bin/sbatch" <<'EOF'
#!/bin/sh
for a; do script=$a; done
range=$(sed -n 's/^#SBATCH --array=\([0-9]*-[0-9]*\)$/\1/p' "$script")
if [ -n "$range" ]; then
	i=${range%-*}
	while [ "$i" -le "${range#*-}" ]; do
		SLURM_ARRAY_TASK_ID=$i sh "$script" || exit 1
		i=$((i + 1))
	done
else
	sh "$script" || exit 1
fi
echo 42
EOF
chmod +x "$tmp/bin/sbatch"
"$b/sweep" -o "$tmp/s3" "$tmp/g.grid" >/dev/null 2>&1
check "runner: Slurm scripts (stand-in sbatch)" env PATH="$tmp/bin:$PATH" sh "$tmp/s3/slurm/submit.sh"
for d in s2 s3; do
	if [ -f "$tmp/$d/results.csv" ] && [ -f "$r" ] &&
	   [ "$(awk -f "$b/metrics.awk" "$tmp/$d/results.csv" | cut -f1-16)" = "$(awk -f "$b/metrics.awk" "$r" | cut -f1-16)" ]; then
		ok "runner $d: the same rows as make"
	else
		bad "runner $d" "rows differ from make's"
	fi
done

echo "bench: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
