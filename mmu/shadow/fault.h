/*
 * fault.h — what both shadow strategies do first on a #PF exit
 * (mmu/shadow/fault.c): walk the guest's tables for the access the error
 * code describes, tell the guest's own faults and MMIO from the faults
 * the strategy must fix, and work out the leaf's rights and flags. The
 * strategies differ only in where the leaf goes (flush.c: a per-vcpu
 * virtual TLB; cached_fault.c: cached shadow pages).
 */
#ifndef HVLAB_MMU_SHADOW_FAULT_H
#define HVLAB_MMU_SHADOW_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/gwalk.h"
#include "mmu/mmu.h"

struct hv_vcpu;
struct hv_memslot;

struct shadow_fault {
	uint32_t acc;			/* HV_ACC_WRITE/USER/FETCH of the access */
	bool write;
	struct gwalk w;			/* the guest walk (path, gpa, A/D set) */
	gfn_t gfn;			/* the frame the access reaches */
	struct hv_memslot *slot;	/* ... its RAM */
	unsigned rights;		/* SPTE_ACC_* for the leaf */
	unsigned flags;			/* SPTE_F_* for the leaf, but for
					 * SPTE_F_WRITE_PROTECT (the strategy's) */
};

/*
 * The first half of a shadow #PF exit at @gva with hardware error code
 * @error_code. RET_PF_RETRY: @f describes the leaf to make. Otherwise
 * the result to return: RET_PF_GUEST (the guest's #PF is queued,
 * pf_guest), RET_PF_EMULATE (MMIO, a read-only slot's write, or a
 * CR0.WP = 0 supervisor write that no leaf can express; pf_emulate),
 * RET_PF_ERROR (a reserved-bit fault on hvlab's own sptes).
 */
enum ret_pf shadow_fault_begin(struct hv_vcpu *vcpu, gva_t gva, uint32_t error_code,
			       struct shadow_fault *f);

#endif
