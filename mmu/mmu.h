/*
 * mmu.h — the MMU strategy interface (ARCHITECTURE §6): one instance per
 * strategy (mmu/tdp today; the shadow strategies come with their issue),
 * chosen once at VM creation (core/registry.c). core/ calls these ops
 * from its exit handlers; a strategy reaches the vendor only through
 * what the backend hands it (struct tdp_format, set_tdp_root,
 * flush_tlb).
 *
 * Page-fault results are a small enum kept >= 0 (KVM's RET_PF_*), so
 * they never collide with -errno.
 */
#ifndef HVLAB_MMU_MMU_H
#define HVLAB_MMU_MMU_H

#include <stdbool.h>
#include <stdint.h>

#include "backends/backend.h"
#include "hvlab/types.h"

struct hv_vm;
struct hv_vcpu;
struct hv_memslot;

enum ret_pf {
	RET_PF_RETRY,		/* mapped (or already fine): re-enter the guest */
	RET_PF_EMULATE,		/* no memory there: emulate the instruction
				 * (MMIO, or a write to a read-only slot) */
	RET_PF_GUEST,		/* a fault of the guest's own: inject it
				 * (shadow strategies) */
	RET_PF_ERROR,		/* the MMU cannot map it (out of memory):
				 * vm_err() says why */
};

/* A translation by the guest's own page tables (gva_to_gpa). */
struct mmu_walk_fault {
	uint32_t error_code;	/* the #PF error code the access would raise */
};

struct hv_mmu_ops {
	const char *name;		/* "tdp" */
	enum hv_mmu_style style;	/* what the backend must intercept */

	/* ---- VM */
	int (*vm_init)(struct hv_vm *vm);
	void (*vm_destroy)(struct hv_vm *vm);
	/* A memslot was added, moved, deleted or changed flags: drop every
	 * mapping of @old (NULL when added) and arm dirty logging for @new
	 * (NULL when deleted) when its flags ask for it. */
	void (*memslot_changed)(struct hv_vm *vm, const struct hv_memslot *old,
				const struct hv_memslot *new);
	/* Re-arm write tracking of @slot's pages after the dirty log has
	 * been read (KVM_GET_DIRTY_LOG's write protection). */
	void (*dirty_log_rearm)(struct hv_vm *vm, const struct hv_memslot *slot);

	/* ---- vcpu */
	int (*vcpu_init)(struct hv_vcpu *vcpu);
	void (*vcpu_destroy)(struct hv_vcpu *vcpu);
	/* The guest's paging mode changed (CR0.PG/WP, CR4.PAE/PSE/PGE/SMEP/
	 * SMAP/PCIDE, EFER.NX/LMA). */
	void (*reset_context)(struct hv_vcpu *vcpu);
	/* A fault exit: @addr is the gpa (tdp) or gva (shadow), @access the
	 * HV_ACC_* bits (tdp) or the #PF error code (shadow). */
	enum ret_pf (*page_fault)(struct hv_vcpu *vcpu, uint64_t addr, uint32_t access,
				  bool present);
	/* Guest CR3 load, INVLPG, full flush (shadow strategies; tdp never
	 * sees them). Optional. */
	void (*new_cr3)(struct hv_vcpu *vcpu, uint64_t cr3);
	void (*invlpg)(struct hv_vcpu *vcpu, gva_t gva);
	void (*flush_tlb)(struct hv_vcpu *vcpu);
	/* Translate @gva as the guest's paging would for an access with
	 * HV_ACC_* bits @access: 0 and *gpa, or -EFAULT with the #PF error
	 * code in *fault. */
	int (*gva_to_gpa)(struct hv_vcpu *vcpu, gva_t gva, uint32_t access, gpa_t *gpa,
			  struct mmu_walk_fault *fault);
	/* PAE paging: the PDPTE registers as the strategy loaded them at
	 * the last CR3 load or paging-mode change (SDM Vol. 3A 4.4.1: later
	 * writes to the PDPT do not count until the next load). false, or
	 * NULL: the walker reads guest memory. Optional. */
	bool (*get_pdptes)(struct hv_vcpu *vcpu, uint64_t pdpte[4]);
	/* An emulated write of @len bytes hit guest page @gpa (shadow
	 * strategies watch their guest page tables). Optional. */
	void (*track_write)(struct hv_vcpu *vcpu, gpa_t gpa, const void *data, unsigned len);
	/* Called as every op ends, the MMU lock still held: table pages the
	 * op freed must not be reused before every vcpu's TLB has been
	 * flushed (KVM's kvm_mmu_commit_zap_page). Optional. */
	void (*commit_zap)(struct hv_vm *vm);
	/* VCPU_REQ_MMU_RELOAD (core/request.h): another vcpu dropped roots
	 * this one may have loaded; load them anew if so. Optional. */
	void (*reload_roots)(struct hv_vcpu *vcpu);
};

extern const struct hv_mmu_ops tdp_mmu_ops;

#endif
