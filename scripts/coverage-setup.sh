# scripts/coverage-setup.sh — sourced by coverage.sh and
# coverage-matrix.sh (docs/coverage.md).
#
# coverage_setup NAME BUILDDIR TOOL...: checks that every TOOL exists and
# that BUILDDIR is a gcov build, configuring it from
# configs/coverage_defconfig when it has no .config yet (a .config older
# than a Kconfig option takes the option's default at the next make:
# the Makefile's autoconf rule). One line and exit status 2 otherwise.
coverage_setup() {
	cs_name=$1 cs_dir=$2
	shift 2
	for cs_t; do
		command -v "$cs_t" >/dev/null 2>&1 ||
			{ echo "$cs_name: $cs_t not found: run 'make deps' (Debian package lcov)"; exit 2; }
	done
	if [ ! -f "$cs_dir/.config" ]; then
		${MAKE:-make} -s -C "$src" O="$cs_dir" coverage_defconfig || exit 2
	fi
	grep -q '^CONFIG_COVERAGE=y' "$cs_dir/.config" || {
		echo "$cs_name: $cs_dir is not configured with CONFIG_COVERAGE=y (make O=$cs_dir coverage_defconfig)"
		exit 2
	}
}
