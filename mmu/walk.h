/*
 * walk.h — the guest's own page-table walk, in software, for
 * hv_translate() and for emulating an instruction (gva_to_gpa). It reads
 * the guest's tables through the memslots and applies the architecture's
 * permission checks (SDM Vol. 3A 4.6), returning the #PF error code the
 * access would raise (4.7).
 *
 * It does not set accessed or dirty flags: the instructions it serves
 * have just been tried by the processor, whose walk set them already.
 * The shadow issue replaces it with the template walker that does
 * (paging_tmpl.h's idea), and both strategies will use that one.
 */
#ifndef HVLAB_MMU_WALK_H
#define HVLAB_MMU_WALK_H

#include <stdint.h>

#include "hvlab/types.h"

struct hv_vcpu;
struct mmu_walk_fault;

#define PFERR_P (1u << 0)
#define PFERR_W (1u << 1)
#define PFERR_U (1u << 2)
#define PFERR_RSVD (1u << 3)
#define PFERR_I (1u << 4)

/* 0 and *gpa, or -EFAULT with f->error_code. @access: HV_ACC_* bits. */
int mmu_walk_guest(struct hv_vcpu *vcpu, gva_t gva, uint32_t access, gpa_t *gpa,
		   struct mmu_walk_fault *f);

#endif
