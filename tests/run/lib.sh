# tests/run/lib.sh — what the tests/run/ scripts share (sourced after
# `set -u`): the source tree (src), BUILDDIR from the script's first
# argument (obj; default build/) and its program (hvlab), a temporary
# directory removed at exit (tmp), the counters every script reports as
# "NAME: N passed, M failed" (ok, bad), and the backend x MMU pairs the
# program has built in (built_variants).
src=$(cd "$(dirname "$0")/../.." && pwd)
O=${1:-build}
case "$O" in /*) obj=$O ;; *) obj=$src/$O ;; esac
hvlab=$obj/hvlab
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1: $2"; }

# "vmx:tdp vmx:shadow-flush ..." from `hvlab config`, vmx first.
built_variants() {
	for b in $("$hvlab" config | sed -n 's/^CONFIG_BACKEND_\(VMX\|SVM\)=y$/\1/p' | tr A-Z a-z); do
		for m in $("$hvlab" config | sed -n 's/^CONFIG_MMU_\(TDP\|SHADOW_FLUSH\|SHADOW_CACHED\)=y$/\1/p' |
			   tr A-Z_ a-z-); do
			printf '%s:%s ' "$b" "$m"
		done
	done
}
