# bench/metrics.awk — results.csv (bench/merge) -> one tab-separated line
# of derived figures per row, the input of the summary and the figures
# (bench/report). Run as `awk -f bench/metrics.awk results.csv`.
#
# Output columns, in order (a header line first):
#   case      workload and its parameters plus smp/sched when not the
#             defaults: what the rows of one comparison share
#   variant backend mmu options ok
#   insns     hw_insns: guest instructions retired, every vcpu
#   exits1k   VM exits per 1,000 guest instructions
#   hidden    pf_fixed + pf_spurious + pf_emulate: faults that exist only
#             because of the MMU (shadow #PF exits it fixed, EPT
#             violations / NPFs)
#   guestpf   pf_guest: the guest's own #PFs a shadow MMU saw and injected
#   miss1k    hw_tlb_misses per 1,000 guest instructions
#   refs      hw_walk_refs per TLB miss (4-level native walk: 4; a cold 2D
#             walk: 24, docs/cost-model.md)
#   cycles    hw_cycles: modeled cycles (hw/cost.c)
#   cpi       modeled cycles per guest instruction
#   vs_tdp    cycles / the cycles of tdp on the same backend with the same
#             options and case ("-" when there is no such row)
#   peak      mmu_pages_peak: the MMU's table pages at their most
#   host      host_seconds of the run (best of the job's runs)
#
# Rows that failed (ok = 0) keep their identity and "-" elsewhere.

function split_csv(line, f,   n, q, c, i, cur) {
	n = 0; q = 0; cur = ""
	for (i = 1; i <= length(line); i++) {
		c = substr(line, i, 1)
		if (c == "\"") q = !q
		else if (c == "," && !q) { f[++n] = cur; cur = "" }
		else cur = cur c
	}
	f[++n] = cur
	return n
}

function get(r, k) { return (r SUBSEP k) in cell ? cell[r, k] : "" }

function per(a, b, scale) { return b + 0 > 0 ? sprintf("%.4g", scale * a / b) : "-" }

NR == 1 {
	nh = split_csv($0, h)
	next
}
{
	n = split_csv($0, f)
	nrow++
	for (i = 1; i <= nh; i++)
		cell[nrow, h[i]] = f[i]
}

END {
	OFS = "\t"
	print "case", "variant", "backend", "mmu", "options", "ok", "insns", "exits1k", "hidden",
	      "guestpf", "miss1k", "refs", "cycles", "cpi", "vs_tdp", "peak", "host"
	for (r = 1; r <= nrow; r++) {
		c = get(r, "workload")
		if (get(r, "params") != "")
			c = c " " get(r, "params")
		if (get(r, "smp") != "" && get(r, "smp") != 1)
			c = c " smp=" get(r, "smp")
		if (get(r, "sched") != "" && get(r, "sched") != "deterministic")
			c = c " sched=" get(r, "sched")
		if (get(r, "quantum") != "")
			c = c " quantum=" get(r, "quantum")
		if (get(r, "mem") != "")
			c = c " mem=" get(r, "mem")
		kase[r] = c
		base = get(r, "base")
		be[r] = get(r, "backend")
		mm[r] = get(r, "mmu")
		# A failed row has no statistics: its backend and MMU come
		# from the configuration's name (vmx_shadow_cached).
		if (be[r] == "") {
			be[r] = base; sub(/_.*/, "", be[r])
			mm[r] = substr(base, length(be[r]) + 2); gsub(/_/, "-", mm[r])
		}
		if (mm[r] == "tdp" && get(r, "ok") == 1)
			tdp[be[r], get(r, "options"), c] = get(r, "hw_cycles")
	}
	for (r = 1; r <= nrow; r++) {
		ok = get(r, "ok") == 1
		opts = get(r, "options")
		if (!ok) {
			print kase[r], get(r, "variant"), be[r], mm[r], opts == "" ? "-" : opts, 0,
			      "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"
			continue
		}
		insns = get(r, "hw_insns")
		cyc = get(r, "hw_cycles")
		t = tdp[be[r], opts, kase[r]]
		print kase[r], get(r, "variant"), be[r], mm[r], opts == "" ? "-" : opts, 1, insns,
		      per(get(r, "exits"), insns, 1000),
		      get(r, "pf_fixed") + get(r, "pf_spurious") + get(r, "pf_emulate"),
		      get(r, "pf_guest") + 0, per(get(r, "hw_tlb_misses"), insns, 1000),
		      per(get(r, "hw_walk_refs"), get(r, "hw_tlb_misses"), 1), cyc,
		      per(cyc, insns, 1), t == "" ? "-" : per(cyc, t, 1),
		      get(r, "mmu_pages_peak") + 0, get(r, "host_seconds")
	}
}
