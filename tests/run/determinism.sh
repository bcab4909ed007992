#!/bin/sh
# determinism.sh [BUILDDIR] — the deterministic scheduler's promise
# (docs/scheduler.md, docs/reliability.md): the same guest with the same
# options, run twice, gives byte-identical serial output, exit status and
# statistics (every counter, host time aside).
#   1. every SMP guest test (BUILDDIR/guests/smp_*.elf) with --smp 4 on
#      every backend x MMU built in;
#   2. a sample of the others: every single-vcpu guest test (tests/guests,
#      tests/guests32, tests/hostile), each on one backend x MMU, taken in
#      turn so that the sample covers every pair (guest i runs on pair
#      i mod the number of pairs). The benchmark workloads are checked the
#      same way, all of them, by tests/run/workloads.sh.
# Guests come from `make guest-images`. One line per check, then
# "determinism: N passed, M failed".
set -u
. "$(dirname "$0")/lib.sh"

variants=$(built_variants)

# The statistics without the host's time (host_seconds, pf_host_ns), one
# "name value" per line.
strip() {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
d.pop("host_seconds", None)
def walk(k, v):
    if isinstance(v, dict):
        for kk in sorted(v): walk(k + "." + kk, v[kk])
    elif not k.endswith("host_ns"):
        print(k, v)
for k in sorted(d): walk(k, d[k])
' "$1"
}

# twice NAME VARIANT WANT-STATUS|- ARGS...: run hvlab twice, compare.
twice() {
	n=$1 v=$2 want=$3; shift 3
	b=${v%%:*} m=${v#*:}
	for k in 1 2; do
		timeout 60 "$hvlab" run --backend "$b" --mmu "$m" --stats json \
			--stats-file "$tmp/s$k" "$@" >"$tmp/o$k" 2>/dev/null
		echo $? >"$tmp/rc$k"
		strip "$tmp/s$k" >"$tmp/t$k" 2>/dev/null || echo "no stats" >"$tmp/t$k"
	done
	if ! cmp -s "$tmp/rc1" "$tmp/rc2" || ! cmp -s "$tmp/o1" "$tmp/o2"; then
		bad "$n $v" "serial output or exit status differs between two runs"
	elif ! cmp -s "$tmp/t1" "$tmp/t2"; then
		bad "$n $v" "statistics differ: $(diff "$tmp/t1" "$tmp/t2" | grep '^[<>]' | head -4 | tr '\n' ' ')"
	elif [ "$want" != - ] && [ "$(cat "$tmp/rc1")" -ne "$want" ]; then
		bad "$n $v" "exit status $(cat "$tmp/rc1"), not the expected $want"
	elif [ "$(wc -l <"$tmp/t1")" -lt 10 ]; then
		bad "$n $v" "only $(wc -l <"$tmp/t1") statistics"
	else
		ok "$n $v: output and $(wc -l <"$tmp/t1") statistics identical"
	fi
}

for g in "$obj"/guests/smp_*.elf; do
	[ -f "$g" ] || { bad "guests" "no $obj/guests/smp_*.elf: make guest-images"; break; }
	for v in $variants; do
		twice "$(basename "$g" .elf) smp 4" "$v" 1 --mem 64M --smp 4 "$g"
	done
done

# The sample: single-vcpu guests, one pair each, in turn.
set -- $variants
npairs=$#
i=0
for c in "$src"/tests/guests/*.c "$src"/tests/guests32/*.c "$src"/tests/hostile/*.c; do
	[ -f "$c" ] || continue
	grep -q 'SMP:' "$c" && continue
	d=$(basename "$(dirname "$c")") n=$(basename "$c" .c)
	g=$obj/$d/$n.elf
	[ -f "$g" ] || { bad "$d/$n" "no $g: make guest-images"; continue; }
	# The options scripts/guests.sh gives it: --append, --initrd.
	app=$(sed -n 's/.*Append: \(.*\)/\1/p' "$c" | head -1)
	ird=$(sed -n 's/.*Initrd: \([^ ]*\).*/\1/p' "$c" | head -1)
	want=$(sed -n 's/.*Expected exit status: \([0-9][0-9]*\).*/\1/p' "$c" | head -1)
	set -- $variants
	shift $((i % npairs))
	v=$1
	i=$((i + 1))
	set -- --mem 64M
	[ -n "$app" ] && set -- "$@" --append "$app"
	[ -n "$ird" ] && set -- "$@" --initrd "$src/tests/$d/$ird"
	twice "$d/$n" "$v" "${want:--}" "$@" "$g"
done
echo "determinism: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
