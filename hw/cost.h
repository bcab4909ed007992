/*
 * cost.h — what the model counts and what it charges for it.
 *
 * Every counter is exact and deterministic: the same guest on the same
 * configuration gives the same numbers. Modeled cycles are the counters
 * priced with struct hw_prices (docs/cost-model.md cites where each
 * default comes from); RDTSC in a guest reads modeled cycles plus the
 * TSC offset, so a guest can time itself deterministically.
 */
#ifndef HVLAB_HW_COST_H
#define HVLAB_HW_COST_H

#include <stdint.h>

/* Prices in cycles (cpi in thousandths of a cycle per instruction). */
struct hw_prices {
	uint32_t cpi_milli;		/* per retired instruction, x1000 */
	uint32_t vmx_exit_entry;	/* one VM exit plus the VM entry after it */
	uint32_t svm_exit_entry;	/* one #VMEXIT plus the VMRUN after it */
	uint32_t walk_ref;		/* per page-walk memory reference */
	uint32_t walk_cache_hit;	/* per paging-structure-cache hit */
};

/* VMX basic exit reasons are below 80 (SDM Vol. 3D Appendix C); SVM exit
 * codes 0x00..0xff map to themselves and 0x400.. (NPF, AVIC) to 0x100..,
 * VMEXIT_INVALID to HW_EXIT_SLOT_INVALID (hw_exit_slot()). */
#define HW_NR_EXIT_SLOTS 0x110
#define HW_EXIT_SLOT_INVALID 0x10f

struct hw_counters {
	uint64_t insns;			/* guest instructions retired */
	uint64_t halted_insns;		/* instruction slots skipped while halted */
	uint64_t exits;			/* VM exits of every reason */
	uint64_t exit[HW_NR_EXIT_SLOTS];	/* VM exits by reason (hw_exit_slot) */
	uint64_t entries;		/* successful VM entries */
	uint64_t failed_entries;	/* VM entries that failed */
	uint64_t tlb_hits;		/* translations found in the TLB */
	uint64_t tlb_misses;		/* translations that needed a walk */
	uint64_t walk_refs;		/* memory references by the guest-paging walk */
	uint64_t walk_refs_2d;		/* of which made by nested (EPT/NPT) walks */
	uint64_t walk_cache_hits;	/* paging-structure-cache hits */
	uint64_t tlb_flushes;		/* flush events (each INVLPG, CR3 load, ...) */
	uint64_t exceptions;		/* exceptions delivered through the guest IDT */
	uint64_t interrupts;		/* external interrupts and NMIs delivered */
	uint64_t smc_invalidations;	/* code pages dropped by writes to them */
};

/* The counter slot of VMX exit reason / SVM exit code @code. */
static inline unsigned hw_exit_slot(uint64_t code)
{
	if (code < 0x100)
		return (unsigned)code;
	if (code >= 0x400 && code < 0x40f)
		return (unsigned)(code - 0x400 + 0x100);
	return HW_EXIT_SLOT_INVALID;
}

#endif
