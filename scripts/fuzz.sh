#!/bin/sh
# fuzz.sh BUILDDIR TARGET SECONDS — build and run the libFuzzer target
# tests/fuzz/fuzz_TARGET.c for SECONDS seconds.
#
# The fuzz build is its own configuration in BUILDDIR/fuzz (clang,
# -fsanitize=fuzzer-no-link,address,undefined on the library). Committed
# seeds live in tests/fuzz/corpus/TARGET/ and are only read; new inputs
# go to BUILDDIR/fuzz/corpus-TARGET/. Crashes are written to
# BUILDDIR/fuzz/ as crash-*; reproduce with
#   BUILDDIR/fuzz/fuzz-TARGET BUILDDIR/fuzz/crash-...
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
O=$1 target=$2 secs=$3
MAKE=${MAKE:-make}
case "$secs" in ''|*[!0-9]*) echo "fuzz: SECONDS must be a number of seconds, not '$secs'"; exit 2 ;; esac
[ -f "$src/tests/fuzz/fuzz_$target.c" ] || { echo "fuzz: no target '$target' (tests/fuzz/fuzz_$target.c)"; exit 2; }

"$src/scripts/deps.sh"
mkdir -p "$O"
fo=$(cd "$O" && pwd)/fuzz
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
[ -f "$fo/.config" ] || $MAKE -s -C "$src" O="$fo" defconfig
$MAKE -s -C "$src" O="$fo" CC=clang EXTRA_CFLAGS="-fsanitize=fuzzer-no-link $SAN" \
	"$fo/libhvlab.a"
# Program sources a target needs besides libhvlab.a.
case "$target" in
loaders) extra="$src/vmm/loader.c $src/vmm/elf.c $src/vmm/multiboot.c" ;;
*) extra="" ;;
esac
clang -std=gnu11 -g -O1 $SAN -fsanitize=fuzzer -I"$src" -I"$src/include" -include "$fo/include/generated/autoconf.h" \
	"$src/tests/fuzz/fuzz_$target.c" $extra "$fo/libhvlab.a" -o "$fo/fuzz-$target"
mkdir -p "$fo/corpus-$target"
seeds=""
[ -d "$src/tests/fuzz/corpus/$target" ] && seeds="$src/tests/fuzz/corpus/$target"
cd "$fo"
exec "./fuzz-$target" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 "corpus-$target" $seeds
