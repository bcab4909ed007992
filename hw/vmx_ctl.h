/*
 * vmx_ctl.h — the VM-execution controls of the running VMX guest, read
 * from the current VMCS at VM entry. The SDM lets a processor cache VMCS
 * data while it is current (Vol. 3C 25.11.1), and nothing can write the
 * VMCS while the guest runs, so the hot checks read this copy.
 */
#ifndef HVLAB_HW_VMX_CTL_H
#define HVLAB_HW_VMX_CTL_H

#include <stdint.h>

#include "hvlab/types.h"

struct vmx_ctl {
	uint32_t pin, proc, proc2, exit, entry;
	uint32_t exception_bitmap, pf_mask, pf_match;
	uint64_t cr0_mask, cr0_shadow, cr4_mask, cr4_shadow;
	uint32_t cr3_target_count;
	uint64_t cr3_target[4];
	hpa_t io_bitmap[2], msr_bitmap;
	uint64_t tsc_offset;
	uint64_t eptp;
	uint16_t vpid;
	uint64_t preempt_deadline;	/* insns count at which the timer fires */
};

#endif
