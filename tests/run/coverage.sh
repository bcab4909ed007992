#!/bin/sh
# coverage.sh [BUILDDIR] — the coverage matrix (scripts/coverage-matrix.sh,
# docs/coverage.md) on one small workload, ctxswitch, on every backend x
# MMU built into BUILDDIR (a coverage build, default build/coverage:
# configured from configs/coverage_defconfig when it has no .config), and
# the facts its counts must show:
#   - every run passes (exit status 1, "ctxswitch: checksum 0x...: ok");
#   - the counters start at zero for each run: hv_vm_create is called once;
#   - each MMU strategy's code runs only when it is chosen: under tdp no
#     function of mmu/shadow/ is called and tdp_page_fault is (the guest's
#     first touch of memory is an EPT violation, SDM 28.3.3.2, or a nested
#     page fault, APM 15.25.6); under shadow-flush and shadow-cached no
#     function of mmu/tdp/ is called, each one's own fault handler is
#     (sf_page_fault, sc_page_fault: the guest's page tables are shadowed,
#     so its first touches are #PF exits) and the other one's code is not;
#   - a vmx run calls no function of backends/svm/ and an svm run none of
#     backends/vmx/, and each calls its own backend's;
#   - matrix.csv has exactly one row per function a run called (recounted
#     here from the run's lcov tracefile) and no row with 0 calls;
#   - unreached.md names exactly the mmu/ and backends/ functions no run
#     called.
# One line per check, then "coverage: N passed, M failed".
set -u
set -- "${1:-build/coverage}"
. "$(dirname "$0")/lib.sh"
O=$obj

# A few thousand guest instructions per run: the facts, not the figures.
printf '# tests/run/coverage.sh\nctxswitch p=2 w=8 r=2 k=2\n' >"$tmp/suite"
SUITE=$tmp/suite COVERAGE_MATRIX_OUT=$tmp/out "$src/scripts/coverage-matrix.sh" "$O" >"$tmp/log" 2>&1
rc=$?
out=$tmp/out csv=$tmp/out/matrix.csv
if [ ! -f "$csv" ] || [ ! -f "$out/runs.csv" ]; then
	sed 's/^/  | /' "$tmp/log"
	bad "matrix" "coverage-matrix.sh wrote no matrix (status $rc)"
	echo "coverage: $passed passed, $failed failed"
	exit 1
fi

# calls RUN FILE-PATTERN [FUNCTION]: the calls the CSV gives a run of
# ctxswitch (RUN = backend,mmu) in the files matching the ERE (summed).
calls() {
	awk -F, -v run="$1" -v file="$2" -v fn="${3:-}" '
		$1 == "ctxswitch" && $2 "," $3 == run && $4 ~ file && (fn == "" || $5 == fn) { n += $6 }
		END { print n + 0 }' "$csv"
}

runs=$(awk -F, 'NR > 1 { print $4 "," $5 }' "$out/runs.csv")
[ -n "$runs" ] || bad "runs" "runs.csv lists no run"
for r in $runs; do
	b=${r%,*} m=${r#*,}
	st=$(awk -F, -v b="$b" -v m="$m" '$4 == b && $5 == m { print $6 " (exit " $7 ")" }' "$out/runs.csv")
	case $st in "ok "*) ok "$r: workload passed";; *) bad "$r" "run $st";; esac

	n=$(calls "$r" '^core/vm\.c$' hv_vm_create)
	[ "$n" -eq 1 ] && ok "$r: hv_vm_create called once (fresh counters)" ||
		bad "$r" "hv_vm_create called $n times, not once: counts of other runs mixed in"

	shadow=$(calls "$r" '^mmu/shadow/') tdp=$(calls "$r" '^mmu/tdp/')
	sf=$(calls "$r" '^mmu/shadow/flush\.c$') sc=$(calls "$r" '^mmu/shadow/cached')
	case $m in
	tdp)
		[ "$shadow" -eq 0 ] && ok "$r: no mmu/shadow/ function called" ||
			bad "$r" "$shadow calls into mmu/shadow/ under tdp"
		n=$(calls "$r" '^mmu/tdp/tdp\.c$' tdp_page_fault)
		[ "$n" -ge 1 ] && ok "$r: tdp_page_fault called ($n)" ||
			bad "$r" "tdp_page_fault never called under tdp";;
	shadow-flush|shadow-cached)
		[ "$tdp" -eq 0 ] && ok "$r: no mmu/tdp/ function called" ||
			bad "$r" "$tdp calls into mmu/tdp/ (tdp_page_fault: $(calls "$r" '^mmu/tdp/' tdp_page_fault)) under $m"
		if [ "$m" = shadow-flush ]; then
			own=sf_page_fault file='^mmu/shadow/flush\.c$' other=$sc othername=shadow-cached
		else
			own=sc_page_fault file='^mmu/shadow/cached_fault\.c$' other=$sf othername=shadow-flush
		fi
		n=$(calls "$r" "$file" $own)
		[ "$n" -ge 1 ] && ok "$r: $own called ($n)" || bad "$r" "$own never called under $m"
		[ "$other" -eq 0 ] && ok "$r: no $othername function called" ||
			bad "$r" "$other calls into $othername's files under $m";;
	*)
		bad "$r" "unknown MMU $m";;
	esac

	case $b in vmx) foreign=svm;; svm) foreign=vmx;; *) foreign=none;; esac
	n=$(calls "$r" "^backends/$foreign/") own=$(calls "$r" "^backends/$b/")
	[ "$n" -eq 0 ] && ok "$r: no backends/$foreign/ function called" ||
		bad "$r" "$n calls into backends/$foreign/"
	[ "$own" -gt 0 ] && ok "$r: backends/$b/ called ($own calls)" ||
		bad "$r" "no backends/$b/ function called"

	# The run's tracefile, recounted: one (file, function) per reached
	# function; the CSV's rows for the run must be exactly those.
	info=$out/info/ctxswitch.$b.$m.info
	if [ ! -f "$info" ]; then
		bad "$r" "no tracefile info/ctxswitch.$b.$m.info"
		continue
	fi
	awk -v src="$src/" '
		/^SF:/ { f = substr($0, 4); sub("^" src, "", f) }
		/^FNDA:/ { split(substr($0, 6), a, ","); n[f "," a[2]] += a[1] }
		END { for (k in n) if (n[k] > 0) print k "," n[k] }' "$info" | sort >"$tmp/want"
	awk -F, -v run="$r" '$1 == "ctxswitch" && $2 "," $3 == run { print $4 "," $5 "," $6 }' "$csv" |
		sort >"$tmp/got"
	if [ ! -s "$tmp/want" ]; then
		bad "$r" "the tracefile shows no function called"
	elif cmp -s "$tmp/want" "$tmp/got"; then
		ok "$r: matrix.csv has one row per reached function ($(wc -l <"$tmp/got"))"
	else
		bad "$r" "matrix.csv and the tracefile differ: $(diff "$tmp/want" "$tmp/got" | grep '^[<>]' | head -3 | tr '\n' ' ')"
	fi
done

zero=$(awk -F, 'NR > 1 && $6 + 0 == 0' "$csv" | wc -l)
[ "$zero" -eq 0 ] && ok "matrix.csv: no row with 0 calls" || bad "matrix.csv" "$zero rows with 0 calls"

# unreached.md against the tracefiles: the mmu/ and backends/ functions
# whose calls sum to 0 over every run.
cat "$out"/info/*.info | awk -v src="$src/" '
	/^SF:/ { f = substr($0, 4); sub("^" src, "", f) }
	/^FNDA:/ && f ~ /^(mmu|backends)\// { split(substr($0, 6), a, ","); n[f " " a[2]] += a[1] }
	END { for (k in n) if (n[k] == 0) print k }' | sort >"$tmp/want"
awk '/^## / { f = $2 } /^- / { print f " " $2 }' "$out/unreached.md" | sort >"$tmp/got"
if cmp -s "$tmp/want" "$tmp/got"; then
	ok "unreached.md: the $(wc -l <"$tmp/got") mmu/ and backends/ functions no run called"
else
	bad "unreached.md" "differs from the tracefiles: $(diff "$tmp/want" "$tmp/got" | grep '^[<>]' | head -3 | tr '\n' ' ')"
fi

echo "coverage: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
