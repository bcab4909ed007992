#!/bin/sh
# workloads.sh [BUILDDIR] — every benchmark workload states x86 truth:
# each line of bench/suites/test (small sizes of every workload) runs on
# QEMU TCG (qemu-system-x86_64 -accel tcg, the reference) and on hvlab
# with every backend x MMU built into BUILDDIR/hvlab; every run must pass
# its own self-check (exit status 1, last line "NAME: checksum 0x...: ok")
# and end with QEMU's checksum line: a workload that computed something
# else under one MMU is wrong there, whatever its counts say. (Only the
# last line: the lines before it may say what the processor offers --
# QEMU 7.2 TCG has no PCIDs -- or how SMP CPUs interleaved.) Then each line once more on the first variant: the
# statistics of two runs must be identical (bench/job's premise).
# One line per check, then "workloads: N passed, M failed".
set -u
. "$(dirname "$0")/lib.sh"
QEMU=${QEMU:-qemu-system-x86_64}
limit=${WORKLOAD_TIMEOUT:-120}

make -s -C "$src" O="$obj" bench-workloads >"$tmp/build.log" 2>&1 ||
	{ cat "$tmp/build.log"; echo "workloads: 0 passed, 1 failed"; exit 1; }
wdir=$obj/bench/workloads

variants=$(built_variants)

# The stats without host times, one "key value" per line.
counts() {
	tr -d '{}"\n' <"$1" | tr ',' '\n' | sed 's/^ *//; s/: */ /' | grep -v '^host_seconds \|_ns '
}

sed 's/#.*//; s/[[:space:]]\{1,\}/ /g; s/^ //; s/ $//' "$src/bench/suites/test" | grep -v '^$' >"$tmp/lines"
n=0
while read -r w rest; do
	n=$((n + 1))
	smp=1 mem=128M params=
	for x in $rest; do
		case $x in
		smp=*) smp=${x#smp=};;
		mem=*) mem=${x#mem=};;
		*) params="${params:+$params }$x";;
		esac
	done
	what="$w${rest:+ $rest}"
	if [ ! -f "$wdir/$w.elf" ]; then
		bad "$what" "no $wdir/$w.elf"
		continue
	fi
	# QEMU wants the size without the B: 128M is fine as is.
	(cd "$wdir" && timeout "$limit" "$QEMU" -accel tcg -kernel "$w.elf" -append "$params" \
		-device isa-debug-exit,iobase=0xf4,iosize=4 -serial stdio -display none \
		-no-reboot -m "$mem" -smp "$smp" -nodefaults) </dev/null >"$tmp/q$n" 2>"$tmp/qerr$n"
	st=$?
	if [ "$st" -ne 1 ] || ! tail -n 1 "$tmp/q$n" | grep -q "^$w: checksum 0x[0-9a-f]*: ok\$"; then
		bad "$what [qemu]" "status $st: $(tail -n 3 "$tmp/q$n" "$tmp/qerr$n" | tr '\n' ' ')"
		continue
	fi
	ok "$what [qemu]"
	first=
	for v in $variants; do
		b=${v%%:*} m=${v#*:}
		(cd "$wdir" && timeout "$limit" "$hvlab" run --backend "$b" --mmu "$m" --mem "$mem" \
			--smp "$smp" --append "$params" --stats json --stats-file "$tmp/s$n$b$m" "$w.elf") \
			</dev/null >"$tmp/h$n" 2>"$tmp/herr$n"
		st=$?
		if [ "$st" -ne 1 ]; then
			bad "$what [$v]" "status $st: $(tail -n 3 "$tmp/h$n" "$tmp/herr$n" | tr '\n' ' ')"
		elif [ "$(tail -n 1 "$tmp/q$n")" != "$(tail -n 1 "$tmp/h$n")" ]; then
			bad "$what [$v]" "QEMU: $(tail -n 1 "$tmp/q$n"); hvlab: $(tail -n 1 "$tmp/h$n")"
		else
			ok "$what [$v]"
		fi
		[ -n "$first" ] || first=$v
	done
	# Determinism: the first variant again, every count the same.
	b=${first%%:*} m=${first#*:}
	(cd "$wdir" && timeout "$limit" "$hvlab" run --backend "$b" --mmu "$m" --mem "$mem" \
		--smp "$smp" --append "$params" --stats json --stats-file "$tmp/r$n" "$w.elf") \
		</dev/null >/dev/null 2>&1
	if [ -f "$tmp/r$n" ] && [ "$(counts "$tmp/r$n")" = "$(counts "$tmp/s$n$b$m")" ]; then
		ok "$what [$first, rerun]: identical statistics"
	else
		bad "$what [$first, rerun]" "statistics differ: $(diff "$tmp/s$n$b$m" "$tmp/r$n" 2>&1 | head -c 300)"
	fi
done <"$tmp/lines"

# Every workload has a line here.
for c in "$src"/bench/workloads/*.c; do
	w=$(basename "$c" .c)
	grep -q "^$w\\b" "$tmp/lines" || bad "bench/suites/test" "no line for workload $w"
done
echo "workloads: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
