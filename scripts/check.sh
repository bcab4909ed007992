#!/bin/sh
# check.sh BUILDDIR — what `make check` does: install missing packages,
# configure with the default configuration when there is no .config
# (plus the sanitizers SANITIZE names, when set: see below),
# build, run every test family, and end with one line
# "N passed, N failed" (exit status non-zero when anything failed).
#
# A "test" is one cmocka test case, or one whole run of an oracle family
# (difftest: 100,000 fixed-seed cases against the host CPU; decodetest:
# 300,000 fixed-seed cases against Zydis), or one guest test run under
# QEMU TCG; each family prints its own case counts above the summary.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
O=${1:-build}
MAKE=${MAKE:-make}

# SANITIZE=address,undefined (either or both): the build must have
# exactly those sanitizers; a directory without a .config gets the
# default configuration plus them (make check picks build/san-LIST for
# it unless O= is given).
want_san=
if [ -n "${SANITIZE:-}" ]; then
	for s in $(printf '%s' "$SANITIZE" | tr ',' ' '); do
		case $s in
		address) want_san="$want_san CONFIG_SANITIZE_ADDRESS";;
		undefined) want_san="$want_san CONFIG_SANITIZE_UNDEFINED";;
		*) echo "check: SANITIZE takes address and/or undefined (comma-separated), not '$s'"; exit 2;;
		esac
	done
fi

"$src/scripts/deps.sh" || exit 1
if [ ! -f "$O/.config" ]; then
	$MAKE -s -C "$src" O="$O" defconfig || exit 1
	if [ -n "$want_san" ]; then
		for sym in $want_san; do
			sed -i "/^# $sym is not set\$/d; /^$sym=/d" "$O/.config"
			echo "$sym=y" >>"$O/.config"
		done
		$MAKE -s -C "$src" O="$O" olddefconfig || exit 1
	fi
fi
if [ -n "${SANITIZE:-}" ]; then
	for sym in CONFIG_SANITIZE_ADDRESS CONFIG_SANITIZE_UNDEFINED; do
		has=n
		grep -q "^$sym=y\$" "$O/.config" && has=y
		case " $want_san " in *" $sym "*) want=y;; *) want=n;; esac
		if [ "$has" != "$want" ]; then
			echo "check: $O is configured with $sym=$has, SANITIZE=$SANITIZE wants $want; use another build directory (O=...)"
			exit 2
		fi
	done
fi
jobs=$(nproc 2>/dev/null || echo 2)
$MAKE -s -C "$src" O="$O" -j"$jobs" all || { echo "0 passed, 1 failed"; exit 1; }
obj=$(cd "$src" && cd "$O" && pwd)

passed=0 failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# cmocka programs: count test cases from cmocka's own summary lines.
for t in "$obj"/tests/unit/test_*; do
	[ -x "$t" ] || continue
	case "$t" in *.o|*.d|*.cmd) continue ;; esac
	echo "== unit: $(basename "$t")"
	"$t" >"$log" 2>&1
	rc=$?
	grep -E '^\[  (PASSED|FAILED|  ERROR)|^\[ RUN|FAILED \]' "$log" | grep -vE '^\[ RUN|^\[       OK' || true
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	p=${p:-0} f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		cat "$log"; f=1
	fi
	passed=$((passed + p)) failed=$((failed + f))
done

run_family() {	# name, command...
	name=$1; shift
	echo "== $name: $*"
	if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}
run_family difftest "$obj/tests/difftest/difftest" -n 100000 -s 1
if grep -q '^CONFIG_EMU_DECODE_CACHE=y' "$obj/.config"; then
	# The same oracle through emu_run() and the block cache.
	run_family difftest-cached "$obj/tests/difftest/difftest" -n 20000 -s 2 -r -d
fi
run_family decodetest "$obj/tests/decodetest/decodetest" -n 300000 -s 1

# script_family LABEL NAME SCRIPT ARGS...: a script that ends with
# "NAME: N passed, M failed" counts one test per check it made (no
# summary line: one failure).
script_family() {
	label=$1 name=$2; shift 2
	echo "== $label: $*"
	"$@" >"$log" 2>&1
	cat "$log"
	sp=$(sed -n "s/^$name: \([0-9]*\) passed, \([0-9]*\) failed\$/\1/p" "$log")
	sf=$(sed -n "s/^$name: \([0-9]*\) passed, \([0-9]*\) failed\$/\2/p" "$log")
	passed=$((passed + ${sp:-0})) failed=$((failed + ${sf:-1}))
}

# Guest tests on QEMU (TCG) and on hvlab with every backend and MMU built
# in (scripts/guests.sh): one test per guest and runner.
script_family guests guests "$src/scripts/guests.sh" "$O"
# Hostile guests (issue 8): denial and footprint under hvlab run, then
# isolation: each one beside a canary VM in the same process.
script_family hostile hostile "$src/tests/run/hostile.sh" "$obj"
script_family canary canary "$src/tests/run/canary.sh" "$obj"
# hvlab run's command line, bad images and exit statuses (tests/run/).
script_family run run_cli "$src/tests/run/run_cli.sh" "$obj"
# Bad user input: every command, .config values, random command lines,
# malformed images (docs/reliability.md).
script_family badinput badinput python3 "$src/tests/run/badinput.py" "$obj"
# The deterministic scheduler: two runs of each SMP guest, identical.
script_family run determinism "$src/tests/run/determinism.sh" "$obj"
# Dirty logging without loss: pre-copy migration on every backend x MMU.
script_family precopy precopy "$obj/tests/migrate/precopy"
# The USDT probes: notes in the binary, perf's event counts = the stats.
script_family usdt usdt "$src/tests/run/usdt.sh" "$obj"
# Every benchmark workload, small, on QEMU TCG and every backend x MMU.
script_family workloads workloads "$src/tests/run/workloads.sh" "$obj"
# The benchmark harness and its runners (bench/, docs/workflow.md). It
# builds and runs its own variants (build/vmx_tdp, ...), never BUILDDIR,
# so a sanitizer pass (SANITIZE=...) would only run it a second time on
# the same binaries: it is left out there.
if [ -z "${SANITIZE:-}" ]; then
	script_family bench bench "$src/tests/run/bench.sh"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
