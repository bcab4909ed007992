#!/bin/sh
# figures.sh RESULTS OUT — the study's figures and tables from a bench/run
# of ./suite (RESULTS/results.csv) into OUT/: fig-cr3, fig-mmu-vs-tlb,
# fig-walk (PNG and SVG, with their .dat tables) and tables.md, the
# numbers the text quotes. Every figure is computed from the CSV alone.
#
# Per-operation costs subtract start-up: each pair of cases in ./suite
# that differ only in rounds (pagefault, fork) or accesses (tlbmiss,
# largepage) gives (cost at the larger size - cost at the smaller) /
# (operations between them). Modeled microseconds use the configured
# TSC rate (CONFIG_HV_TSC_KHZ: 2 GHz by default), the model's cycle
# being a TSC tick (docs/cost-model.md).
set -eu
[ $# -eq 2 ] || { echo "usage: figures.sh RESULTS OUT" >&2; exit 2; }
res=$1/results.csv
out=$2
[ -f "$res" ] || { echo "figures.sh: no $res" >&2; exit 2; }
mkdir -p "$out"
here=$(cd "$(dirname "$0")" && pwd)
mhz=${TSC_MHZ:-2000}

# One tidy line per run: variant, workload, params, then the counts used.
awk -F, '
NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
$c["ok"] == 1 {
	print $c["variant"], $c["workload"], $c["params"], $c["hw_cycles"], $c["hw_insns"], $c["exits"],
	      $c["pf_fixed"] + $c["pf_spurious"] + $c["pf_emulate"], $c["pf_guest"], $c["cr3_switches"],
	      $c["hw_tlb_misses"], $c["hw_walk_refs"], $c["hw_walk_refs_2d"], $c["pf_host_ns"]
}' OFS='\t' "$res" >"$out/runs.tsv"

# ------------------------------------------------------------ figure 1
# ctxswitch: hidden faults per CR3 load and modeled cycles relative to
# tdp, along the number of address spaces; one line per shadow MMU and
# backend.
awk -F '\t' '
$2 == "ctxswitch" && $3 ~ /pcid/ { next }
$2 == "ctxswitch" {
	split($3, a, " "); p = substr(a[1], 3)
	if (!(p in sp)) { sp[p] = 1; ps[++np] = p }
	cyc[$1, p] = $4; hid[$1, p] = $7; cr3[$1, p] = $9
	if (!($1 in sv)) { sv[$1] = 1; vs[++nv] = $1 }
}
END {
	line = "\"spaces\""
	for (j = 1; j <= nv; j++) if (vs[j] !~ /tdp/) line = line " \"" vs[j] " faults/CR3\""
	for (j = 1; j <= nv; j++) if (vs[j] !~ /tdp/) line = line " \"" vs[j] " x tdp\""
	print line
	for (i = 1; i <= np; i++) {
		p = ps[i]; line = p
		for (j = 1; j <= nv; j++) if (vs[j] !~ /tdp/)
			line = line " " (cr3[vs[j], p] > 0 ? sprintf("%.2f", hid[vs[j], p] / cr3[vs[j], p]) : "-")
		for (j = 1; j <= nv; j++) if (vs[j] !~ /tdp/) {
			t = vs[j]; sub(/_shadow_(flush|cached)/, "_tdp", t)
			line = line " " (cyc[t, p] > 0 ? sprintf("%.3f", cyc[vs[j], p] / cyc[t, p]) : "-")
		}
		print line
	}
}' "$out/runs.tsv" >"$out/fig-cr3.dat"

# ------------------------------------------------------------ per-operation costs
# cost.tsv: variant, operation, modeled cycles per operation, exits per
# operation, walk refs per TLB miss (tlb ops), hvlab host ns per MMU fault.
awk -F '\t' -v mhz="$mhz" '
function key(w, p) { return w SUBSEP p }
{ r[$1, $2, $3] = $0; if (!($1 in sv)) { sv[$1] = 1; vs[++nv] = $1 } }
function diff(v, w, p1, p2, ops, name,   a, b, x, y) {
	if (!((v, w, p1) in r) || !((v, w, p2) in r))
		return
	split(r[v, w, p1], a, "\t"); split(r[v, w, p2], b, "\t")
	x = b[10] - a[10]
	y = b[11] - a[11]
	printf "%s\t%s\t%.1f\t%.3f\t%s\t%.3f\n", v, name, (b[4] - a[4]) / ops, (b[6] - a[6]) / ops,
	       (x > 0 ? sprintf("%.2f", y / x) : "-"), (b[4] - a[4]) / ops / mhz
}
END {
	for (j = 1; j <= nv; j++) {
		v = vs[j]
		diff(v, "pagefault", "n=1024 r=10", "n=1024 r=20", 10240, "page fault")
		diff(v, "fork", "n=256 f=25 r=10", "n=256 f=25 r=20", 10, "fork round")
		diff(v, "tlbmiss", "w=8192 a=1", "w=8192 a=500000", 499999, "random access, 4 KiB")
		diff(v, "largepage", "w=8192 a=1", "w=8192 a=500000", 499999, "random access, 2 MiB")
	}
}' "$out/runs.tsv" >"$out/cost.tsv"

# ------------------------------------------------------------ figure 2
# tdp's gain over each shadow MMU, per workload: shadow cycles / tdp
# cycles - 1, in percent (VMware's way of stating the RVI and EPT
# results: positive = tdp faster). Whole runs for ctxswitch (p=8), mmap
# and compute; per operation (start-up subtracted) for the rest.
awk -F '\t' '
FILENAME ~ /cost.tsv$/ { op[$1, $2] = $3; next }
{ run[$1, $2, $3] = $4; if (!($1 in sv)) { sv[$1] = 1; vs[++nv] = $1 } }
function pct(s, t) { return s > 0 && t > 0 ? sprintf("%.1f", 100 * (s / t - 1)) : "-" }
END {
	n = split("ctxswitch|p=8 w=64 r=100 k=8|context switch;mmap|m=256 r=100|mmap churn;" \
	          "compute|n=16 r=2000|compute", whole, ";")
	m = split("page fault;fork round;random access, 4 KiB;random access, 2 MiB", ops, ";")
	line = "\"workload\""
	for (j = 1; j <= nv; j++) if (vs[j] !~ /tdp/) line = line " \"" vs[j] "\""
	print line
	for (i = 1; i <= n; i++) {
		split(whole[i], f, "|")
		line = "\"" f[3] "\""
		for (j = 1; j <= nv; j++) if (vs[j] !~ /tdp/) {
			t = vs[j]; sub(/_shadow_(flush|cached)/, "_tdp", t)
			line = line " " pct(run[vs[j], f[1], f[2]], run[t, f[1], f[2]])
		}
		print line
	}
	for (i = 1; i <= m; i++) {
		line = "\"" ops[i] "\""
		for (j = 1; j <= nv; j++) if (vs[j] !~ /tdp/) {
			t = vs[j]; sub(/_shadow_(flush|cached)/, "_tdp", t)
			line = line " " pct(op[vs[j], ops[i]], op[t, ops[i]])
		}
		print line
	}
}' "$out/cost.tsv" "$out/runs.tsv" >"$out/fig-mmu-vs-tlb.dat"

# ------------------------------------------------------------ figure 3
# Walk references per TLB miss in the random-access phase.
awk -F '\t' '
$2 ~ /^random access/ {
	if (!($1 in s)) { s[$1] = 1; o[++n] = $1 }
	if ($2 ~ /4 KiB/) a[$1] = $5; else b[$1] = $5
}
END {
	print "\"variant\" \"4 KiB guest pages\" \"2 MiB guest pages\""
	for (i = 1; i <= n; i++)
		print "\"" o[i] "\"", (o[i] in a ? a[o[i]] : "-"), (o[i] in b ? b[o[i]] : "-")
}' "$out/cost.tsv" >"$out/fig-walk.dat"

if command -v gnuplot >/dev/null 2>&1; then
	for t in png svg; do
		gnuplot -e "d='$out'; t='$t'" "$here/figures.gp"
	done
else
	echo "figures.sh: no gnuplot: tables only (scripts/deps.sh installs it)" >&2
fi

# ------------------------------------------------------------ tables.md
# dat2md FILE: a gnuplot table (quoted or bare words) as a markdown table.
dat2md() {
	awk '{
		n = 0; line = $0
		while (length(line)) {
			sub(/^ +/, "", line)
			if (line == "") break
			if (substr(line, 1, 1) == "\"") { match(line, /^"[^"]*"/); w[++n] = substr(line, 2, RLENGTH - 2) }
			else { match(line, /^[^ ]+/); w[++n] = substr(line, 1, RLENGTH) }
			line = substr(line, RLENGTH + 1)
		}
		row = "|"; for (i = 1; i <= n; i++) row = row " " w[i] " |"
		print row
		if (NR == 1) { row = "|"; for (i = 1; i <= n; i++) row = row "---|"; print row }
	}' "$1"
}

{
	echo "# Tables (generated by figures.sh from $(basename "$(cd "$1" && pwd)")/results.csv)"
	echo
	echo "$(grep -m1 '^machine' "$1/machine.txt" 2>/dev/null || true)"
	echo "$(grep -m1 '^commit' "$1/machine.txt" 2>/dev/null || true)"
	echo
	echo "## Per operation (start-up subtracted; modeled µs at $mhz MHz)"
	echo
	echo "| variant | operation | modeled cycles | µs | exits | walk refs / TLB miss |"
	echo "|---|---|---|---|---|---|"
	awk -F '\t' '{ printf "| %s | %s | %s | %.3f | %s | %s |\n", $1, $2, $3, $6, $4, $5 }' "$out/cost.tsv"
	echo
	echo "## Context switches: hidden faults per CR3 load, cycles relative to tdp"
	echo
	dat2md "$out/fig-cr3.dat"
	echo
	echo "## tdp's gain over each shadow MMU, percent (shadow / tdp - 1)"
	echo
	dat2md "$out/fig-mmu-vs-tlb.dat"
	echo
	echo "## Walk references per TLB miss (random-access phase)"
	echo
	dat2md "$out/fig-walk.dat"
} >"$out/tables.md"
echo "figures.sh: wrote $out (fig-cr3, fig-mmu-vs-tlb, fig-walk; tables.md)"
