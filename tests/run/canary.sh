#!/bin/sh
# canary.sh [BUILDDIR] — the isolation tests' canary VM (issue 8,
# tests/hostile/host/canary.c): every hostile guest (tests/hostile/*.c but
# the canary itself, tests/guests32/hostile_*.c) runs as VM A beside the
# canary VM B in one process, under every backend x MMU built in; after
# each, A ended as its test says, A's MMU tables map only its own RAM,
# and B's memory, registers, statistics and host pages are unchanged and
# its pattern still checks. Then two self-tests (--fault=...): a byte of
# B's RAM changed, and an entry of A's tables broken, must each be caught.
# One line per case, then "canary: N passed, M failed".
set -u
. "$(dirname "$0")/lib.sh"
driver=$obj/tests/hostile/host/canary

if ! { make -s -C "$src" O="$O" guest-images && make -s -C "$src" O="$O" "$driver"; } \
     >"$tmp/make" 2>&1; then
	sed 's/^/  /' "$tmp/make"
	echo "canary: 0 passed, 1 failed"
	exit 1
fi

# GUEST.elf EXPECT STATUS for each hostile guest the driver can run as
# its test says (one vcpu, no command line or module).
set --
for c in "$src"/tests/hostile/*.c "$src"/tests/guests32/hostile_*.c; do
	[ -f "$c" ] || continue
	n=$(basename "$c" .c) d=$(basename "$(dirname "$c")")
	[ "$n" = iso_canary ] && continue
	if grep -q 'SMP: \|Append: \|Initrd: ' "$c"; then
		echo "skip $n: needs an SMP, Append or Initrd line the driver does not give"
		continue
	fi
	st=$(sed -n 's/.*Expected exit status: \([0-9][0-9]*\).*/\1/p' "$c" | head -1)
	if [ -z "$st" ] || [ ! -f "${c%.c}.expect" ] || [ ! -f "$obj/$d/$n.elf" ]; then
		bad "$n" "needs $n.c with an 'Expected exit status: N' line, $n.expect and $d/$n.elf"
		continue
	fi
	set -- "$@" "$obj/$d/$n.elf" "${c%.c}.expect" "$st"
done
canary=$obj/hostile/iso_canary.elf

# One driver per backend, two at a time (the backends' cases are
# independent; the machine has two cores).
backends=$(built_variants | tr ' ' '\n' | sed -n 's/:.*//p' | sort -u)
for b in $backends; do
	"$driver" --backend "$b" "$canary" "$@" >"$tmp/out.$b" 2>"$tmp/err.$b" &
	echo $! >"$tmp/pid.$b"
done
for b in $backends; do
	wait "$(cat "$tmp/pid.$b")"
	rc=$?
	grep -v '^canary: ' "$tmp/out.$b"
	# Nothing on stderr: a sanitizer's report (ASan, UBSan) lands there.
	if [ -s "$tmp/err.$b" ]; then
		bad "driver $b" "wrote to stderr (a sanitizer report?):"
		sed 's/^/  stderr: /' "$tmp/err.$b"
	fi
	p=$(sed -n 's/^canary: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$tmp/out.$b")
	f=$(sed -n 's/^canary: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$tmp/out.$b")
	if [ -z "$p" ] || { [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; }; then
		bad "driver $b" "exit status $rc without a summary of its cases"
	else
		passed=$((passed + p)) failed=$((failed + f))
	fi
done

# Self-tests, iso_gpa once per backend x MMU: a byte of B's pattern (at
# 9 MiB) flipped after the case, and A's top table entry pointed at hpa 0
# for the audit at its end; every case must fail, saying so.
nv=$(built_variants | wc -w)
selftest() {	# NAME FAULT PATTERN
	"$driver" --fault="$2" "$canary" "$obj/hostile/iso_gpa.elf" \
		"$src/tests/hostile/iso_gpa.expect" 1 >"$tmp/fault" 2>&1
	if [ $? -eq 1 ] && ! grep -q '^PASS' "$tmp/fault" &&
	   [ "$(grep -c "^FAIL .*$3" "$tmp/fault")" -eq "$nv" ]; then
		ok "self-test: $1 is caught under every backend x MMU"
	else
		bad "self-test" "$1 was not caught:"
		sed 's/^/  /' "$tmp/fault"
	fi
}
selftest "a byte changed in B's RAM" canary "B's RAM changed at gpa 0x900000$"
selftest "a table entry of A's pointed at hpa 0" tables \
	"A's tables at its end: a level-3 table at hpa 0 "
echo "canary: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
