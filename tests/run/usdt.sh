#!/bin/sh
# usdt.sh [BUILDDIR] — hvlab's USDT probes (core/trace.h, docs/perf.md):
#
#   - with CONFIG_HV_USDT=y, `readelf -n` lists every probe as a stapsdt
#     note of provider hvlab (with =n, none);
#   - where perf can record uprobes here (root, tracefs), short guest
#     runs (BUILDDIR/guests/*.elf, `make guest-images`) on every backend x
#     MMU built, under bench/perf/wrap record, give exactly as many
#     events as the run's statistics count (the runs are deterministic):
#     vm_exit = exits, and hvlab stat's samples total = exits; tlb_flush
#     = tlb_flush + remote_tlb_flush; under shadow MMUs sp_create =
#     mmu_cache_miss, and under shadow-cached sp_unsync = mmu_unsync and
#     sp_sync = mmu_sync;
#   - hvlab stat refuses bad input with one line and exit status 2.
#
# One line per check, then "usdt: N passed, M failed" (checks perf cannot
# make here are "skip" lines, neither passed nor failed).
set -u
. "$(dirname "$0")/lib.sh"
skip() { echo "skip $1: $2"; }

probes="vm_entry vm_exit page_fault page_fault_done sp_create sp_zap sp_unsync sp_sync tlb_flush"

# The named statistic of a --stats json file.
stat_of() {
	sed -n "s/.*\"$2\": \([0-9]*\).*/\1/p" "$1"
}

# ------------------------------------------------------------ the notes
[ -x "$hvlab" ] || { bad "build" "no $hvlab"; echo "usdt: $passed passed, $failed failed"; exit 1; }
readelf -n "$hvlab" | awk '/Provider:/ { p = $2 } /Name:/ && p == "hvlab" { print $2 }' |
	sort -u >"$tmp/notes"
if "$hvlab" config | grep -q '^CONFIG_HV_USDT=y$'; then
	for p in $probes; do
		if grep -qx "$p" "$tmp/notes"; then
			ok "readelf -n: stapsdt note hvlab:$p"
		else
			bad "readelf -n" "no stapsdt note hvlab:$p in $hvlab"
		fi
	done
	extra=$(echo $probes | tr ' ' '\n' | sort | comm -13 - "$tmp/notes" | tr '\n' ' ')
	[ -z "$extra" ] && ok "readelf -n: no probe docs/perf.md does not list" ||
		bad "readelf -n" "probes this test does not know: $extra"
	usdt=y
else
	[ -s "$tmp/notes" ] && bad "readelf -n" "CONFIG_HV_USDT=n but notes: $(cat "$tmp/notes" | tr '\n' ' ')" ||
		ok "readelf -n: CONFIG_HV_USDT=n, no hvlab notes"
	usdt=n
fi

# ------------------------------------------------------------ hvlab stat's refusals
printf 'not perf script output\n' >"$tmp/bad.txt"
for input in "$tmp/bad.txt" /dev/null "$tmp/missing"; do
	"$hvlab" stat "$input" >"$tmp/o" 2>"$tmp/e"
	st=$?
	if [ "$st" -eq 2 ] && [ "$(wc -l <"$tmp/e")" -eq 1 ] && [ ! -s "$tmp/o" ]; then
		ok "hvlab stat $(basename "$input"): exit 2, one line: $(cat "$tmp/e")"
	else
		bad "hvlab stat $(basename "$input")" "exit status $st, stderr $(wc -l <"$tmp/e") lines"
	fi
done

# ------------------------------------------------------------ recordings
can_record() {
	[ "$usdt" = y ] || { echo "CONFIG_HV_USDT=n"; return 1; }
	command -v perf >/dev/null 2>&1 || { echo "no perf"; return 1; }
	[ "$(id -u)" -eq 0 ] || { echo "not root (uprobes need it here)"; return 1; }
	[ -d /sys/kernel/tracing/events ] || mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null ||
		{ echo "no tracefs"; return 1; }
	return 0
}
if ! why=$(can_record); then
	skip "perf record" "$why"
	echo "usdt: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
fi

variants=$(built_variants)

# The number of events of each probe in a recording, "NAME COUNT".
count_events() {
	perf script -i "$1" -F trace:event 2>/dev/null |
		sed -n 's/.*sdt_hvlab[_0-9a-f]*:\([a-z_]*[a-z]\)\(_[0-9]*\)\{0,1\}:.*/\1/p' | sort | uniq -c |
		awk '{ print $2, $1 }'
}
events_of() {
	awk -v n="$2" '$1 == n { c = $2 } END { print c + 0 }' "$1"
}

# perf by hand: `bench/perf/wrap probes` registers and names the group,
# and the documented glob records the run.
elf=$obj/guests/hello.elf
group=$("$src/bench/perf/wrap" probes "$hvlab" 2>"$tmp/probes.err")
case $group in
sdt_hvlab_*)
	ok "wrap probes: group $group"
	perf record -q -o "$tmp/hand.data" -e 'sdt_hvlab_*:*' -- "$hvlab" run --mem 64M --stats json \
		--stats-file "$tmp/hand.json" "$elf" >/dev/null 2>&1
	count_events "$tmp/hand.data" >"$tmp/hand.counts"
	got=$(events_of "$tmp/hand.counts" vm_exit) want=$(stat_of "$tmp/hand.json" exits)
	[ "${want:-x}" = "$got" ] && ok "perf record -e 'sdt_hvlab_*:*': $got vm_exit events = exits" ||
		bad "perf record by hand" "$got vm_exit events, exits '${want:-}'";;
*)
	bad "wrap probes" "no group printed: $(cat "$tmp/probes.err")";;
esac

# hello: a few exits; paging: the MMU at work; smp_shootdown (4 vcpus):
# unsync pages, their syncs and remote flushes under shadow-cached.
for g in hello paging smp_shootdown; do
	elf=$obj/guests/$g.elf
	[ -f "$elf" ] || { bad "$g" "no $elf: make O=$O guest-images"; continue; }
	smp=1
	case $g in smp_*) smp=4;; esac
	for v in $variants; do
		b=${v%%:*} m=${v#*:}
		# 4 vcpus recorded take long: only where they test something new.
		[ "$smp" -gt 1 ] && [ "$m" != shadow-cached ] && continue
		p=$tmp/$g-$b-$m
		"$src/bench/perf/wrap" record "$p" -- "$hvlab" run --backend "$b" --mmu "$m" --mem 64M \
			--smp "$smp" --stats json --stats-file "$p.json" "$elf" >"$p.out" 2>"$p.err"
		st=$?
		if [ "$st" -ne 1 ] || [ ! -s "$p.json" ] || [ ! -s "$p.perf.data" ]; then
			bad "$g $v" "exit status $st (want the guest's 1): $(tail -n 1 "$p.err")"
			continue
		fi
		count_events "$p.perf.data" >"$p.counts"
		exits=$(stat_of "$p.json" exits)
		got=$(events_of "$p.counts" vm_exit)
		[ "$got" -eq "$exits" ] && ok "$g $v: $got vm_exit events = exits" ||
			bad "$g $v" "$got vm_exit events, exits statistic $exits"
		total=$(sed -n 's/^  total *\([0-9]*\) .*/\1/p' "$p.exits.txt" | head -n 1)
		[ "${total:-x}" = "$exits" ] && ok "$g $v: hvlab stat samples total $total = exits" ||
			bad "$g $v" "hvlab stat total '${total:-}', exits $exits: $(head -n 1 "$p.exits.txt")"
		want=$(($(stat_of "$p.json" tlb_flush) + $(stat_of "$p.json" remote_tlb_flush)))
		got=$(events_of "$p.counts" tlb_flush)
		[ "$got" -eq "$want" ] && ok "$g $v: $got tlb_flush events = tlb_flush + remote_tlb_flush" ||
			bad "$g $v" "$got tlb_flush events, statistics say $want"
		case $m in shadow-*)
			want=$(stat_of "$p.json" mmu_cache_miss)
			got=$(events_of "$p.counts" sp_create)
			[ "$got" -eq "$want" ] && ok "$g $v: $got sp_create events = mmu_cache_miss" ||
				bad "$g $v" "$got sp_create events, mmu_cache_miss $want";;
		esac
		if [ "$m" = shadow-cached ]; then
			for pair in sp_unsync:mmu_unsync sp_sync:mmu_sync; do
				want=$(stat_of "$p.json" "${pair#*:}")
				got=$(events_of "$p.counts" "${pair%%:*}")
				[ "$got" -eq "$want" ] && ok "$g $v: $got ${pair%%:*} events = ${pair#*:}" ||
					bad "$g $v" "$got ${pair%%:*} events, ${pair#*:} $want"
			done
		fi
	done
done
echo "usdt: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
