#!/bin/sh
# bench.sh BUILDDIR — what `make bench` does: install missing packages,
# build the benchmark configuration (configs/bench_defconfig, in
# BUILDDIR/bench so it never disturbs the test build), run every
# benchmark and print its table. Today: the emulate/ throughput
# benchmark and the silicon model's guest speed (bench-hw); the MMU
# comparison suite joins them with the run loop.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
O=${1:-build}
MAKE=${MAKE:-make}

"$src/scripts/deps.sh"
bo="$O/bench"
[ -f "$bo/.config" ] || $MAKE -s -C "$src" O="$bo" bench_defconfig
$MAKE -s -C "$src" O="$bo" -j"$(nproc 2>/dev/null || echo 2)" all
bo=$(cd "$bo" && pwd)
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
echo "configuration: $O/bench ($("$bo/hvlab" config | tr '\n' ' '))"
"$bo/bench/emulate/bench-emulate"
echo
"$bo/bench/hw/bench-hw"
echo
# hvlab's own cost around the guest through hv.h (bench/hv): ns per exit
# for CPUID and OUT loops, guest MIPS, ns per first-touch page under tdp.
"$bo/bench/hv/bench-hv"
