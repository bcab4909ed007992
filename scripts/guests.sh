#!/bin/sh
# guests.sh [BUILDDIR [NAME...]] — build the test guests (tests/guests/*.c
# with the runtime in guests/) into BUILDDIR/guests/NAME.elf, and the
# 32-bit ones (tests/guests32/*.c with guests32/, guests32/build.mk) into
# BUILDDIR/guests32/NAME.elf, and the hostile guests (tests/hostile/*.c,
# tests/hostile/build.mk) into BUILDDIR/hostile/NAME.elf, and run each on
# every runner: QEMU's software emulator and hvlab with each backend and
# MMU strategy built in. Each run must give the serial output of tests/guests/NAME.expect
# (tests/guests32/NAME.expect) byte for byte and the exit status of the
# test's "Expected exit status: N" line. Where QEMU deviates from the SDM
# (docs/qemu-deviations.md), NAME.qemu.expect and an "Expected exit status
# on QEMU: N" line take their place for the QEMU run only: hvlab must give
# the SDM's answer. A "QEMU options: ..." line in NAME.c adds those options
# to the QEMU command (a device the pc machine lacks by default, say).
# An "Append: TEXT" line passes TEXT as the kernel's command line (QEMU
# -append TEXT, hvlab --append TEXT) and an "Initrd: FILE" line FILE,
# relative to the test's directory, as its multiboot module (QEMU -initrd,
# hvlab --initrd): the same machine on both sides. An "SMP: 1 2 4 8" line
# runs the test once per CPU count (QEMU -smp N, hvlab --smp N), each run
# checked against NAME.smpN.expect if there is one, else NAME.expect (and
# NAME.smpN.qemu.expect / NAME.qemu.expect first on QEMU); a test without
# it runs once, without either option. One line per run, then
# "guests: N passed, N failed"; exit status non-zero when any failed.
#
# Environment: RUNNERS (default "qemu hvlab:vmx:tdp hvlab:svm:tdp", less
# what is not built or installed; a runner hvlab:BACKEND:MMU:SCHED adds
# --sched SCHED), SMP_RUNNERS (runners only tests with an SMP line get
# besides; default with RUNNERS: hvlab:BACKEND:MMU:parallel for each, so
# every SMP test runs in both scheduler modes), QEMU (default
# qemu-system-x86_64),
# GUEST_TIMEOUT (seconds per run, default 20), MAKE. By hand: docs/guests.md.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
O=${1:-build}
[ $# -gt 0 ] && shift
MAKE=${MAKE:-make}
QEMU=${QEMU:-qemu-system-x86_64}
GUEST_TIMEOUT=${GUEST_TIMEOUT:-20}
MEM=64

$MAKE -s -C "$src" O="$O" guest-images || { echo "guests: 0 passed, 1 failed"; exit 1; }
obj=$(cd "$src" && cd "$O" && pwd)
hvlab="$obj/hvlab"

if [ -z "${RUNNERS:-}" ]; then
	RUNNERS=qemu
	if [ -x "$hvlab" ]; then
		for b in $("$hvlab" config | sed -n 's/^CONFIG_BACKEND_\(VMX\|SVM\)=y$/\1/p' | tr A-Z a-z); do
			for m in $("$hvlab" config | sed -n 's/^CONFIG_MMU_\(TDP\|SHADOW_FLUSH\|SHADOW_CACHED\)=y$/\1/p' |
				   tr A-Z_ a-z-); do
				RUNNERS="$RUNNERS hvlab:$b:$m"
				SMP_RUNNERS="${SMP_RUNNERS:-} hvlab:$b:$m:parallel"
			done
		done
	fi
fi
case " $RUNNERS " in *" qemu "*)
	if ! command -v "$QEMU" >/dev/null 2>&1; then
		echo "guests: $QEMU not found; run 'make deps' (Debian package qemu-system-x86)"
		echo "guests: 0 passed, 1 failed"
		exit 1
	fi;;
esac

# A NAME is looked up in tests/guests/, tests/guests32/, tests/hostile/; DIR/NAME
# names the directory itself.
if [ $# -gt 0 ]; then
	names="$*"
else
	names=$(cd "$src/tests" && ls guests/*.c guests32/*.c hostile/*.c 2>/dev/null | sed 's/\.c$//')
fi

out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
passed=0 failed=0
for n in $names; do
	case $n in
	*/*) d=${n%%/*} n=${n#*/};;
	*) d=guests; [ ! -f "$src/tests/guests/$n.c" ] && [ -f "$src/tests/guests32/$n.c" ] && d=guests32
	   [ ! -f "$src/tests/$d/$n.c" ] && [ -f "$src/tests/hostile/$n.c" ] && d=hostile;;
	esac
	c="$src/tests/$d/$n.c" img="$obj/$d/$n.elf"
	# "SMP: 1 2 4" -> one run per count; none: one run, no option ("-").
	smps=$(sed -n 's/.*SMP: \([0-9 ]*\).*/\1/p' "$c" 2>/dev/null | head -1)
	runners=$RUNNERS
	[ -n "$smps" ] && runners="$runners ${SMP_RUNNERS:-}"
	for r in $runners; do
	for smp in ${smps:--}; do
		t="$src/tests/$d/$n"
		if [ "$smp" = - ]; then
			tag=$r exp="$t.expect"
		else
			tag="$r smp $smp" exp="$t.expect"
			[ -f "$t.smp$smp.expect" ] && exp="$t.smp$smp.expect"
		fi
		want=$(sed -n 's/.*Expected exit status: \([0-9][0-9]*\).*/\1/p' "$c" 2>/dev/null | head -1)
		if [ "$r" = qemu ]; then
			qwant=$(sed -n 's/.*Expected exit status on QEMU: \([0-9][0-9]*\).*/\1/p' "$c" 2>/dev/null | head -1)
			if [ "$smp" != - ] && [ -f "$t.smp$smp.qemu.expect" ]; then
				exp="$t.smp$smp.qemu.expect"
			elif [ -f "$t.qemu.expect" ]; then
				exp="$t.qemu.expect"
			fi
			[ -n "$qwant" ] && want=$qwant
		fi
		if [ ! -f "$img" ] || [ ! -f "$exp" ] || [ -z "$want" ]; then
			echo "FAIL $n [$tag]: needs $n.c with an 'Expected exit status: N' line and $(basename "$exp")"
			failed=$((failed + 1)); continue
		fi
		# Append:/Initrd: become "-append TEXT" / "-initrd FILE" for QEMU and
		# "--append TEXT" / "--initrd FILE" for hvlab, each word pair kept
		# whole through "set --" (TEXT may hold spaces).
		set --
		if grep -q 'Append: ' "$c" 2>/dev/null; then
			set -- "$@" append "$(sed -n 's/.*Append: \(.*\)$/\1/p' "$c" | head -1)"
		fi
		initrd=$(sed -n 's/.*Initrd: \(.*\)$/\1/p' "$c" 2>/dev/null | head -1)
		if [ -n "$initrd" ]; then
			if [ ! -f "$src/tests/$d/$initrd" ]; then
				echo "FAIL $n [$tag]: Initrd: $initrd: no such file in tests/$d/"
				failed=$((failed + 1)); continue
			fi
			set -- "$@" initrd "$src/tests/$d/$initrd"
		fi
		[ "$smp" != - ] && set -- "$@" smp "$smp"
		t0=$(date +%s.%N)
		case $r in
		qemu)
			qopts=$(sed -n 's/.*QEMU options: \(.*\)$/\1/p' "$c" 2>/dev/null | head -1)
			args=$#; i=0
			while [ $i -lt $args ]; do
				set -- "$@" "-$1" "$2"; shift 2; i=$((i + 2))
			done
			# $qopts unquoted: it is a list of options.
			timeout "$GUEST_TIMEOUT" "$QEMU" -accel tcg -kernel "$img" \
				-device isa-debug-exit,iobase=0xf4,iosize=4 -serial stdio \
				-display none -no-reboot -m $MEM -nodefaults $qopts "$@" </dev/null >"$out" 2>"$err"
			rc=$?;;
		hvlab:*)
			# hvlab:BACKEND:MMU[:SCHED]
			b=${r#hvlab:}; m=${b#*:}; b=${b%%:*}
			case $m in *:*) set -- "$@" sched "${m#*:}"; m=${m%%:*};; esac
			args=$#; i=0
			while [ $i -lt $args ]; do
				set -- "$@" "--$1" "$2"; shift 2; i=$((i + 2))
			done
			timeout "$GUEST_TIMEOUT" "$hvlab" run --backend "$b" --mmu "$m" --mem ${MEM}M \
				--stats none "$@" "$img" </dev/null >"$out" 2>"$err"
			rc=$?;;
		*)
			echo "FAIL $n [$tag]: no such runner (qemu, hvlab:BACKEND:MMU[:SCHED])"
			failed=$((failed + 1)); continue;;
		esac
		secs=$(echo "$t0 $(date +%s.%N)" | awk '{ printf "%.1f", $2 - $1 }')
		if [ "$rc" -eq 124 ]; then
			echo "FAIL $n [$tag]: no exit within ${GUEST_TIMEOUT} s; serial output:"
			sed 's/^/  | /' "$out"
			failed=$((failed + 1))
		elif ! cmp -s "$out" "$exp"; then
			echo "FAIL $n [$tag]: serial output differs from $(basename "$exp") (status $rc):"
			diff "$exp" "$out" | sed 's/^/  /'
			sed 's/^/  stderr: /' "$err"
			failed=$((failed + 1))
		elif [ "$rc" -ne "$want" ]; then
			echo "FAIL $n [$tag]: exit status $rc, expected $want"
			sed 's/^/  stderr: /' "$err"
			failed=$((failed + 1))
		else
			echo "PASS $n [$tag] (status $rc, $secs s)"
			passed=$((passed + 1))
		fi
	done
	done
done
echo "guests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
