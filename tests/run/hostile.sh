#!/bin/sh
# hostile.sh [BUILDDIR] — hostile guests against BUILDDIR/hvlab (default
# build/), under every backend x MMU it has built in (issue 8: denial and
# footprint; the guests are tests/hostile/dos_*.c, fp_*.c and spin/).
# scripts/guests.sh checks their serial output against QEMU's; this
# script checks what only hvlab can tell: how each run ends, that stderr
# stays empty (statistics go to --stats-file), and the statistics.
#
# Denial, per variant:
#   - a 3-byte multiboot guest (cli; jmp $, made here as run_cli.sh makes
#     its guests) and spin/spin_smp (every vcpu in cli; jmp $) end with
#     status 8 under --max-insns, the latter with --smp 2 --sched
#     parallel too; both end with status 12 on SIGTERM (docs/run.md),
#     within 1 s of it;
#   - dos_triple ends with 6, dos_ioflood, dos_exits and dos_random with
#     1, each well within TIMEOUT seconds; the exits they were written
#     to cause were taken (io/mmio, cpuid, msr, hlt, invd, hypercall,
#     and on shadow MMUs invlpg and cr exit counts);
#   - dos_random's histogram (vectors that ended each random page, total
#     single steps) is the same under every MMU of one backend.
# Footprint, per variant, fp_tables with --mem FP_MEM (MiB):
#   - shadow MMUs: mmu_pages_peak <= CONFIG_MMU_SHADOW_PAGES (+ the PAE
#     top-level page of each vcpu for shadow-cached, docs/mmu.md), reclaim
#     counted (mmu_recycled > 0), write flooding seen (shadow-cached:
#     mmu_flooded > 0);
#   - tdp: mmu_pages_peak <= FP_MEM / 2 MiB + 8 (one table page per 2 MiB
#     of RAM mapped with 4 KiB pages, plus the levels above and MMIO);
#   - peak RSS (GNU time %M) <= base + FP_MEM + 2 x 4 KiB x tables + 8 MiB,
#     where base is the RSS of a guest that halts at once with the same
#     --mem (the program, the model, untouched RAM) and tables the bound
#     on MMU table pages above (a page and as much again for rmaps and
#     bookkeeping); not checked under AddressSanitizer.
# One line per check, then "hostile: N passed, M failed". The figures
# (peak pages, recycled, RSS, seconds) are printed on the fp_tables lines.
#
# Environment: TIMEOUT (seconds per run, default 30), FP_MEM (default 128).
set -u
. "$(dirname "$0")/lib.sh"
TIMEOUT=${TIMEOUT:-30}
FP_MEM=${FP_MEM:-128}
g=$obj/hostile
if [ ! -x "$hvlab" ] || [ ! -f "$g/fp_tables.elf" ] || [ ! -f "$g/spin/spin_smp.elf" ]; then
	echo "hostile: no $hvlab or guest images; run make O=$O and make O=$O guest-images"
	echo "hostile: 0 passed, 1 failed"
	exit 1
fi
if [ ! -x /usr/bin/time ]; then
	echo "hostile: /usr/bin/time missing (Debian package time: scripts/deps.sh)"
	echo "hostile: 0 passed, 1 failed"
	exit 1
fi

# The spinning multiboot guest, and one that halts at once (images.sh).
. "$(dirname "$0")/images.sh"
mb "$tmp/spin.mb" "fa eb fe"		# cli; jmp $
mb "$tmp/halt.mb" "fa f4"		# cli; hlt

term=
# Under AddressSanitizer (make check SANITIZE=address) RSS holds its
# shadow memory and quarantine: the bound is not checked, only printed.
asan=
grep -q '^CONFIG_SANITIZE_ADDRESS=y' "$obj/.config" 2>/dev/null && asan=y
budget=$("$hvlab" config | sed -n 's/^CONFIG_MMU_SHADOW_PAGES=//p')

# run NAME WANT ARGS...: hvlab run ARGS under timeout (SIGTERM after
# $term seconds when it is set), statistics in
# $tmp/s.json, flattened to "key value" lines in $tmp/s; RSS in KiB in
# $rss, host seconds in $secs. $why: empty, or what was wrong (status,
# stderr, time).
run() {
	name=$1 want=$2; shift 2
	rm -f "$tmp/s.json" "$tmp/s"
	t0=$(date +%s.%N)
	# SIGTERM after $term seconds if set (SIGKILL 1 s later: hvlab must
	# stop within HW_RUN_SLICE guest instructions, hw/run.c), else
	# SIGKILL after TIMEOUT s.
	if [ -n "$term" ]; then
		set -- timeout --preserve-status -k 1 -s TERM "$term" "$hvlab" run "$@"
	else
		set -- timeout --preserve-status -s KILL "$TIMEOUT" "$hvlab" run "$@"
	fi
	/usr/bin/time -f %M -o "$tmp/rss" "$@" --stats json --stats-file "$tmp/s.json" \
		</dev/null >"$tmp/out" 2>"$tmp/err"
	st=$?
	secs=$(echo "$t0 $(date +%s.%N)" | awk '{ printf "%.2f", $2 - $1 }')
	rss=$(tail -1 "$tmp/rss")
	why=
	if [ "$st" -eq 137 ]; then
		why="still running after $TIMEOUT s (killed)"
		[ -n "$term" ] && why="still running 1 s after SIGTERM (killed)"
	elif [ "$st" -ne "$want" ]; then
		why="status $st, want $want: $(head -c 300 "$tmp/err")"
	elif [ -s "$tmp/err" ]; then
		why="stderr not empty: $(head -c 300 "$tmp/err")"
	elif ! python3 -c '
import json, sys
for k, v in json.load(open(sys.argv[1])).items():
    print(k, v)' "$tmp/s.json" >"$tmp/s" 2>"$tmp/py"; then
		why="no statistics: $(tail -1 "$tmp/py")"
	fi
}
sv() {	# KEY: its value in the last run's statistics
	awk -v k="$1" '$1 == k { print $2 }' "$tmp/s"
}
report() {	# NAME [FIGURES]
	if [ -z "$why" ]; then ok "$1${2:+ ($2)}"; else bad "$1" "$why"; fi
}
# at_least KEY MIN: adds to $why unless the statistic KEY >= MIN.
at_least() {
	[ -n "$why" ] && return
	val=$(sv "$1")
	[ -n "$val" ] && [ "$val" -ge "$2" ] || why="$1 = ${val:-missing}, want >= $2"
}
at_most() {
	[ -n "$why" ] && return
	val=$(sv "$1")
	[ -n "$val" ] && [ "$val" -le "$2" ] || why="$1 = ${val:-missing}, want <= $2"
}

# The base RSS for the footprint bound: nothing touched but what hvlab
# itself needs.
run "base" 4 --mem "${FP_MEM}M" "$tmp/halt.mb"
report "base: a guest that halts at once, --mem ${FP_MEM}M" "RSS $rss KiB"
base=${rss:-0}

for v in $(built_variants); do
	be=${v%%:*} mmu=${v#*:}
	set -- --backend "$be" --mmu "$mmu"

	# Denial: spinning with IF=0 ends only by --max-insns or a signal.
	run "$v: spin" 8 "$@" --max-insns 50M "$tmp/spin.mb"
	at_least hw_insns 50000000
	report "$v: cli; jmp \$ under --max-insns 50M: status 8" "$secs s"
	run "$v: spin_smp" 8 "$@" --smp 2 --sched parallel --max-insns 20M "$g/spin/spin_smp.elf"
	report "$v: spin_smp --smp 2 --sched parallel --max-insns 20M: status 8" "$secs s"
	# SIGTERM after 0.3 s: status 12, statistics still written. A vcpu
	# alone in deterministic mode runs without turns: only the kick
	# (core/sched.c, hv_vm_run_interrupt) makes it see the stop.
	term=0.3
	run "$v: spin TERM" 12 "$@" "$tmp/spin.mb"
	report "$v: cli; jmp \$, SIGTERM: status 12" "$secs s"
	for sched in deterministic parallel; do
		run "$v: spin_smp TERM" 12 "$@" --smp 2 --sched "$sched" "$g/spin/spin_smp.elf"
		report "$v: spin_smp --smp 2 --sched $sched, SIGTERM: status 12" "$secs s"
	done
	term=

	run "$v: dos_triple" 6 "$@" "$g/dos_triple.elf"
	report "$v: dos_triple: status 6 (triple fault)"
	run "$v: dos_ioflood" 1 "$@" "$g/dos_ioflood.elf"
	at_least io_exits $((4 * 25000 + 2 * 8 * 4096))
	at_least mmio_exits $((8 * 4096))
	report "$v: dos_ioflood: status 1, every IN/OUT and string element an exit" "$secs s"
	run "$v: dos_exits" 1 "$@" "$g/dos_exits.elf"
	for k in exits_cpuid exits_rdmsr exits_wrmsr exits_invd; do at_least $k 10000; done
	at_least exits_hlt 1000
	at_least exits_hypercall 10000	# the vendor's own of VMCALL/VMMCALL
	at_most exits_hypercall 10000	# the other one is #UD on the processor
	if [ "$mmu" != tdp ]; then
		at_least exits_invlpg 10000
		at_least exits_cr 20000
	fi
	report "$v: dos_exits: status 1, every exiting instruction exited" "$secs s"
	run "$v: dos_random" 1 "$@" --append histogram "$g/dos_random.elf"
	hist=$(sed -n 's/^histogram: //p' "$tmp/out")
	[ -z "$why" ] && [ -z "$hist" ] && why="no histogram line"
	eval "first=\${hist_$be:-}"
	if [ -z "$why" ] && [ -n "$first" ] && [ "$first" != "$hist" ]; then
		why="histogram '$hist' differs from the first MMU's on $be: '$first'"
	fi
	[ -z "$first" ] && eval "hist_$be=\$hist"
	report "$v: dos_random: status 1, histogram as every MMU of $be" "$hist; $secs s"

	# Footprint.
	run "$v: fp_tables" 1 "$@" --mem "${FP_MEM}M" --append figures "$g/fp_tables.elf"
	ptes=$(sed -n 's/.*PTEs \([0-9]*\).*/\1/p' "$tmp/out")
	[ -z "$why" ] && [ "${ptes:-0}" -lt 1000000 ] && why="only ${ptes:-no} PTEs"
	case $mmu in
	tdp)	tables=$((FP_MEM / 2 + 8))
		at_most mmu_pages_peak "$tables";;
	shadow-flush)
		tables=$budget
		at_most mmu_pages_peak "$tables"
		at_least mmu_recycled 1;;
	shadow-cached)
		tables=$((budget + 1))	# + its one vcpu's PAE top-level page (docs/mmu.md)
		at_most mmu_pages_peak "$tables"
		at_least mmu_recycled 1
		at_least mmu_flooded 1;;
	esac
	bound=$((base + FP_MEM * 1024 + 2 * 4 * tables + 8192))
	[ -z "$why" ] && [ -z "$asan" ] && [ "$rss" -gt "$bound" ] && why="RSS $rss KiB > bound $bound KiB"
	report "$v: fp_tables --mem ${FP_MEM}M: status 1, within budget, reclaim counted, RSS bounded" \
		"PTEs $ptes, peak pages $(sv mmu_pages_peak)/$tables, recycled $(sv mmu_recycled), flooded $(sv mmu_flooded), RSS $rss/$bound KiB${asan:+ not checked under ASan}, $secs s"
done

echo "hostile: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
