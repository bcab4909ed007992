/*
 * stats.c — hv_get_stats(): hvlab's own counters (core/stats.def), the
 * exits by vendor-neutral reason ("exits_io", "exits_tdp_fault", ...),
 * and the machine model's counters summed over the vcpus ("hw_*",
 * docs/cost-model.md), in that order, always the same set, so tools can
 * line up columns across runs and configurations.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "core/vm.h"

static const struct {
	const char *name, *help;
} reason_names[HVX_NR_REASONS] = {
	[HVX_UNKNOWN] = { "exits_unknown", "exits core does not know" },
	[HVX_EXTINT] = { "exits_extint", "external-interrupt exits" },
	[HVX_NMI] = { "exits_nmi", "NMI exits" },
	[HVX_EXCEPTION] = { "exits_exception", "exception exits" },
	[HVX_TRIPLE_FAULT] = { "exits_triple_fault", "triple-fault (shutdown) exits" },
	[HVX_INIT] = { "exits_init", "INIT exits" },
	[HVX_IRQ_WINDOW] = { "exits_irq_window", "interrupt-window exits" },
	[HVX_NMI_WINDOW] = { "exits_nmi_window", "NMI-window exits" },
	[HVX_TASK_SWITCH] = { "exits_task_switch", "task-switch exits" },
	[HVX_CPUID] = { "exits_cpuid", "CPUID exits" },
	[HVX_HLT] = { "exits_hlt", "HLT exits" },
	[HVX_INVD] = { "exits_invd", "INVD exits" },
	[HVX_WBINVD] = { "exits_wbinvd", "WBINVD exits" },
	[HVX_INVLPG] = { "exits_invlpg", "INVLPG exits" },
	[HVX_INVPCID] = { "exits_invpcid", "INVPCID exits" },
	[HVX_RDPMC] = { "exits_rdpmc", "RDPMC exits" },
	[HVX_RDTSC] = { "exits_rdtsc", "RDTSC exits" },
	[HVX_RDTSCP] = { "exits_rdtscp", "RDTSCP exits" },
	[HVX_CR_ACCESS] = { "exits_cr", "control-register exits" },
	[HVX_DR_ACCESS] = { "exits_dr", "debug-register exits" },
	[HVX_IO] = { "exits_io", "port I/O exits" },
	[HVX_MSR_READ] = { "exits_rdmsr", "RDMSR exits" },
	[HVX_MSR_WRITE] = { "exits_wrmsr", "WRMSR exits" },
	[HVX_MONITOR] = { "exits_monitor", "MONITOR exits" },
	[HVX_MWAIT] = { "exits_mwait", "MWAIT exits" },
	[HVX_PAUSE] = { "exits_pause", "PAUSE exits" },
	[HVX_XSETBV] = { "exits_xsetbv", "XSETBV exits" },
	[HVX_HYPERCALL] = { "exits_hypercall", "VMCALL/VMMCALL exits" },
	[HVX_VIRT_INSN] = { "exits_virt_insn", "VMX/SVM instruction exits" },
	[HVX_TDP_FAULT] = { "exits_tdp_fault", "EPT-violation / NPF exits" },
	[HVX_TDP_MISCONFIG] = { "exits_tdp_misconfig", "EPT-misconfiguration exits" },
	[HVX_FAIL_ENTRY] = { "exits_fail_entry", "failed VM entries" },
	[HVX_UNSUPPORTED] = { "exits_unsupported", "guest operations the model lacks" },
};

static const struct {
	const char *name, *help;
	size_t off;
} hw_names[] = {
#define HW(f, h) { "hw_" #f, h, offsetof(struct hv_hw_counters, f) }
	HW(insns, "guest instructions retired"),
	HW(halted_insns, "instruction slots skipped while halted in the guest"),
	HW(exits, "VM exits the processor made"),
	HW(entries, "successful VM entries"),
	HW(failed_entries, "failed VM entries"),
	HW(tlb_hits, "translations found in the TLB"),
	HW(tlb_misses, "translations that needed a page walk"),
	HW(tlb_flushes, "TLB flush events"),
	HW(walk_refs, "page-walk memory references"),
	HW(walk_refs_2d, "of which by nested (EPT/NPT) walks"),
	HW(walk_cache_hits, "paging-structure-cache hits"),
	HW(exceptions, "exceptions delivered through the guest IDT"),
	HW(interrupts, "interrupts and NMIs delivered"),
	HW(smc_invalidations, "decoded-code pages dropped by writes"),
	HW(cycles, "modeled cycles"),
#undef HW
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

int hv_get_stats(struct hv_vm *vm, struct hv_stat *out, size_t n)
{
	static const struct {
		const char *name, *help;
	} own[] = {
#define STAT(name, help) { #name, help },
#include "core/stats.def"
#undef STAT
	};
	if (!vm || (!out && n))
		return vm_err(-EINVAL, "hv_get_stats: NULL argument");
	const uint64_t *vals = (const uint64_t *)&vm->stats;
	struct hv_hw_counters sum = { 0 };
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct hv_hw_counters c;
		vm->backend->read_counters(vm->vcpus[i], &c);
		for (size_t k = 0; k < sizeof(c) / sizeof(uint64_t); k++)
			((uint64_t *)&sum)[k] += ((const uint64_t *)&c)[k];
	}
	size_t i = 0;
#define EMIT(nm, hp, v) do { \
		if (i < n) \
			out[i] = (struct hv_stat){ .name = (nm), .help = (hp), .value = (v) }; \
		i++; \
	} while (0)
	for (size_t k = 0; k < N(own); k++)
		EMIT(own[k].name, own[k].help, vals[k]);
	for (size_t k = 0; k < HVX_NR_REASONS; k++)
		EMIT(reason_names[k].name, reason_names[k].help, vm->exits_by_reason[k]);
	for (size_t k = 0; k < N(hw_names); k++)
		EMIT(hw_names[k].name, hw_names[k].help,
		     *(const uint64_t *)((const char *)&sum + hw_names[k].off));
#undef EMIT
	return (int)i;
}
