#!/bin/sh
# deps.sh [--check] — make sure the Debian packages the build and the test
# families need are installed. As root it installs what is missing with
# apt-get; otherwise it prints the one apt-get line to run and fails.
# With --check it only reports (exit 1 when something is missing).
set -eu
# The build and tests, then the research workflow (issue 7): USDT probe
# macros (sys/sdt.h), gnuplot for bench figures, lcov for coverage
# reports, GNU parallel for sweeps; GNU time for peak RSS
# (tests/run/hostile.sh).
PKGS="make gcc clang libclang-rt-14-dev kconfig-frontends-nox libcmocka-dev libzydis-dev qemu-system-x86
      systemtap-sdt-dev gnuplot-nox lcov parallel time"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "${1:-}" = "--check" ]; then
	echo "missing Debian packages:$missing"
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "hvlab needs these Debian packages; run as root:"
	echo "  apt-get install -y$missing"
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends $missing >/dev/null
