#!/bin/sh
# fuzz.sh BUILDDIR TARGET SECONDS — build and run the libFuzzer target
# tests/fuzz/fuzz_TARGET.c for SECONDS seconds; TARGET "all" runs every
# tests/fuzz/fuzz_*.c in turn, SECONDS each (make fuzz).
#
# The fuzz build is its own configuration in BUILDDIR/fuzz (clang,
# -fsanitize=fuzzer-no-link,address,undefined on the library). Committed
# seeds live in tests/fuzz/corpus/TARGET/ and are only read; new inputs
# go to BUILDDIR/fuzz/corpus-TARGET/. Crashes are written to
# BUILDDIR/fuzz/ as crash-* (timeouts as timeout-*, leaks as leak-*);
# reproduce with
#   BUILDDIR/fuzz/fuzz-TARGET BUILDDIR/fuzz/crash-...
# Each run's whole output is in BUILDDIR/fuzz/TARGET.log; this prints one
# summary line per target (executions, exec/s, coverage, corpus) and
# exits non-zero if any target found a crash, leak or timeout.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
O=$1 target=$2 secs=$3
MAKE=${MAKE:-make}
case "$secs" in ''|*[!0-9]*) echo "fuzz: SECONDS must be a number of seconds, not '$secs'"; exit 2 ;; esac
if [ "$target" = all ]; then
	targets=$(cd "$src/tests/fuzz" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
else
	[ -f "$src/tests/fuzz/fuzz_$target.c" ] || { echo "fuzz: no target '$target' (tests/fuzz/fuzz_$target.c)"; exit 2; }
	targets=$target
fi

"$src/scripts/deps.sh"
mkdir -p "$O"
fo=$(cd "$O" && pwd)/fuzz
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
[ -f "$fo/.config" ] || $MAKE -s -C "$src" O="$fo" defconfig
$MAKE -s -j2 -C "$src" O="$fo" CC=clang EXTRA_CFLAGS="-fsanitize=fuzzer-no-link $SAN" \
	"$fo/libhvlab.a"

build() {
	# Program sources a target needs besides libhvlab.a.
	case "$1" in
	loaders) extra="$src/vmm/loader.c $src/vmm/elf.c $src/vmm/multiboot.c" ;;
	vmentry) extra="$src/tests/support/hwguest.c $src/tests/support/pt_builder.c" ;;
	gwalk) extra="$src/tests/support/gwalk_diff.c" ;;
	*) extra="" ;;
	esac
	clang -std=gnu11 -Wall -Wextra -Wno-unused-parameter -g -O1 $SAN -fsanitize=fuzzer \
		-I"$src" -I"$src/include" -include "$fo/include/generated/autoconf.h" \
		"$src/tests/fuzz/fuzz_$1.c" $extra "$fo/libhvlab.a" -o "$fo/fuzz-$1"
}

# run TARGET: fuzz it, print its summary; non-zero when it found something.
run() {
	t=$1
	mkdir -p "$fo/corpus-$t"
	seeds=""
	[ -d "$src/tests/fuzz/corpus/$t" ] && seeds="$src/tests/fuzz/corpus/$t"
	rc=0
	(cd "$fo" && "./fuzz-$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 "corpus-$t" $seeds) >"$fo/$t.log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$fo/$t.log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$fo/$t.log")
	cov=$(grep -E '^#[0-9]+' "$fo/$t.log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' || true)
	if [ "$rc" -eq 0 ]; then
		echo "fuzz $t: ${secs}s, ${execs:-?} executions, ${rate:-?} exec/s, ${cov:-no coverage line}"
	else
		echo "fuzz $t: FAILED (exit $rc) after ${execs:-?} executions; $fo/$t.log:"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written|.*runtime error)' \
			"$fo/$t.log" | head -5 | sed 's/^/  /'
	fi
	return "$rc"
}

for t in $targets; do
	build "$t"
done
failed=0
for t in $targets; do
	run "$t" || failed=$((failed + 1))
done
n=$(echo $targets | wc -w)
echo "fuzz: $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
