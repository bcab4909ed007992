#!/bin/sh
# determinism.sh [BUILDDIR] — the deterministic scheduler's promise
# (docs/scheduler.md): the same SMP guest with the same options, run
# twice, gives byte-identical serial output and statistics (every
# counter, host time aside). Runs the SMP guest tests (BUILDDIR/guests/
# smp_*.elf, `make guest-images`) with --smp 4 on every backend x MMU
# built in. One line per check, then "determinism: N passed, M failed".
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

for g in "$obj"/guests/smp_*.elf; do
	[ -f "$g" ] || { bad "guests" "no $obj/guests/smp_*.elf: make guest-images"; break; }
	n=$(basename "$g" .elf)
	for v in $variants; do
		b=${v%%:*} m=${v#*:}
		for i in 1 2; do
			timeout 60 "$hvlab" run --backend "$b" --mmu "$m" --mem 64M --smp 4 \
				--stats json --stats-file "$tmp/s$i" "$g" >"$tmp/o$i" 2>/dev/null
			echo $? >"$tmp/rc$i"
			strip "$tmp/s$i" >"$tmp/t$i" 2>/dev/null || echo "no stats" >"$tmp/t$i"
		done
		if ! cmp -s "$tmp/rc1" "$tmp/rc2" || ! cmp -s "$tmp/o1" "$tmp/o2"; then
			bad "$n $v" "serial output or exit status differs between two runs"
		elif ! cmp -s "$tmp/t1" "$tmp/t2"; then
			bad "$n $v" "statistics differ: $(diff "$tmp/t1" "$tmp/t2" | grep '^[<>]' | head -4 | tr '\n' ' ')"
		elif [ "$(cat "$tmp/rc1")" -ne 1 ]; then
			bad "$n $v" "exit status $(cat "$tmp/rc1"), not the guest's pass (1)"
		else
			ok "$n $v: output and $(wc -l <"$tmp/t1") statistics identical"
		fi
	done
done
echo "determinism: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
