#!/bin/sh
# guests.sh [BUILDDIR [NAME...]] — build the test guests (tests/guests/*.c
# with the runtime in guests/) into BUILDDIR/guests/NAME.elf and run each
# under QEMU's software emulator, comparing the serial output byte for
# byte with tests/guests/NAME.expect and the exit status with the test's
# "Expected exit status: N" line. Where QEMU deviates from the SDM
# (docs/qemu-deviations.md), NAME.qemu.expect and an "Expected exit status
# on QEMU: N" line take their place for this run. One line per test, then
# "guests: N passed, N failed"; exit status non-zero when any failed.
#
# Environment: QEMU (default qemu-system-x86_64), GUEST_TIMEOUT (seconds
# per guest, default 20), MAKE. A run by hand: see docs/guests.md.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
O=${1:-build}
[ $# -gt 0 ] && shift
MAKE=${MAKE:-make}
QEMU=${QEMU:-qemu-system-x86_64}
GUEST_TIMEOUT=${GUEST_TIMEOUT:-20}

if ! command -v "$QEMU" >/dev/null 2>&1; then
	echo "guests: $QEMU not found; run 'make deps' (Debian package qemu-system-x86)"
	echo "guests: 0 passed, 1 failed"
	exit 1
fi
$MAKE -s -C "$src" O="$O" guest-images || { echo "guests: 0 passed, 1 failed"; exit 1; }
obj=$(cd "$src" && cd "$O" && pwd)

if [ $# -gt 0 ]; then
	names="$*"
else
	names=$(cd "$src/tests/guests" && ls *.c | sed 's/\.c$//')
fi

out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
passed=0 failed=0
for n in $names; do
	c="$src/tests/guests/$n.c" img="$obj/guests/$n.elf"
	exp="$src/tests/guests/$n.expect"
	want=$(sed -n 's/.*Expected exit status: \([0-9][0-9]*\).*/\1/p' "$c" 2>/dev/null | head -1)
	qwant=$(sed -n 's/.*Expected exit status on QEMU: \([0-9][0-9]*\).*/\1/p' "$c" 2>/dev/null | head -1)
	[ -f "$src/tests/guests/$n.qemu.expect" ] && exp="$src/tests/guests/$n.qemu.expect"
	[ -n "$qwant" ] && want=$qwant
	if [ ! -f "$img" ] || [ ! -f "$exp" ] || [ -z "$want" ]; then
		echo "FAIL $n: needs $n.c with an 'Expected exit status: N' line and $n.expect"
		failed=$((failed + 1)); continue
	fi
	t0=$(date +%s.%N)
	timeout "$GUEST_TIMEOUT" "$QEMU" -accel tcg -kernel "$img" \
		-device isa-debug-exit,iobase=0xf4,iosize=4 -serial stdio \
		-display none -no-reboot -m 64 -nodefaults </dev/null >"$out" 2>"$err"
	rc=$?
	secs=$(echo "$t0 $(date +%s.%N)" | awk '{ printf "%.1f", $2 - $1 }')
	if [ "$rc" -eq 124 ]; then
		echo "FAIL $n: no exit within ${GUEST_TIMEOUT} s; serial output:"
		sed 's/^/  | /' "$out"
		failed=$((failed + 1))
	elif ! cmp -s "$out" "$exp"; then
		echo "FAIL $n: serial output differs from $(basename "$exp") (status $rc):"
		diff "$exp" "$out" | sed 's/^/  /'
		sed 's/^/  qemu: /' "$err"
		failed=$((failed + 1))
	elif [ "$rc" -ne "$want" ]; then
		echo "FAIL $n: exit status $rc, expected $want"
		sed 's/^/  qemu: /' "$err"
		failed=$((failed + 1))
	else
		echo "PASS $n (status $rc, $secs s)"
		passed=$((passed + 1))
	fi
done
echo "guests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
