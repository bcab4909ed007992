# bench/lib.sh — what bench/build, bench/job, bench/run and bench/sweep
# share (sourced, POSIX sh): where things are, and what a variant is.
#
# A variant names one hvlab build: BASE[+SYMBOL=VALUE...]. BASE is a
# configuration in configs/ (configs/BASE_defconfig: vmx_tdp,
# svm_shadow_cached, ...); each +SYMBOL=VALUE sets one Kconfig option on
# top of it (without the CONFIG_ prefix; y, n, a number or a string), so
# `vmx_tdp+HW_TLB_4K_ENTRIES=64+HW_PRICE_VMX_EXIT_ENTRY=500` is the tdp
# build with a 64-entry TLB and cheap exits. Each variant is built in
# its own directory, $BENCH_BUILD/<variant> (BENCH_BUILD defaults to
# build/ in the source tree), with '+' and '=' spelled '.' and '-' there.

bench_src=$(cd "$(dirname "$0")/.." && pwd)
BENCH_BUILD=${BENCH_BUILD:-$bench_src/build}
MAKE=${MAKE:-make}

bench_die() {
	echo "bench/$(basename "$0"): $*" >&2
	exit 2
}

# Absolute path of a directory that may not exist yet.
bench_abspath() {
	case $1 in
	/*) printf '%s\n' "$1";;
	*) printf '%s/%s\n' "$(pwd)" "$1";;
	esac
}

# Every variant configs/ defines, one backend x one MMU each, in a fixed
# order (the summary and figures keep it): vmx first, then svm.
bench_all_variants() {
	for b in vmx svm; do
		for m in tdp shadow_flush shadow_cached; do
			[ -f "$bench_src/configs/${b}_${m}_defconfig" ] && printf '%s ' "${b}_$m"
		done
	done
	echo
}

# Checks a variant's spelling (one clear line and exit 2 otherwise).
bench_check_variant() {
	case $1 in
	''|*[!A-Za-z0-9_+=.-]*) bench_die "bad variant '$1' (want BASE[+SYMBOL=VALUE...])";;
	esac
	base=${1%%+*}
	[ -f "$bench_src/configs/${base}_defconfig" ] ||
		bench_die "no configuration configs/${base}_defconfig for variant '$1'"
	rest=${1#"$base"}
	while [ -n "$rest" ]; do
		rest=${rest#+}
		o=${rest%%+*}
		rest=${rest#"$o"}
		case $o in
		[A-Z]*=?*) ;;
		*) bench_die "bad option '$o' in variant '$1' (want SYMBOL=VALUE, e.g. HW_TLB_4K_ENTRIES=64)";;
		esac
	done
}

bench_variant_dir() {
	printf '%s/%s\n' "$BENCH_BUILD" "$(printf '%s' "$1" | tr '+=' '.-')"
}

# Sanitised file-name form of any words (job ids, figure names).
bench_slug() {
	printf '%s' "$*" | tr -c 'A-Za-z0-9_.=-' '_' | tr '=' '-'
}
