/*
 * walk.h — the guest's own page-table walk for hvlab: the shared walker
 * (mmu/gwalk.h) run on the vcpu's registers and the VM's memslots, for
 * gva_to_gpa (emulating an instruction, hv_translate) and for the shadow
 * strategies' fault paths.
 *
 * The walk is the processor's (SDM Vol. 3A 4.6-4.8): the architecture's
 * permission checks, the #PF error code the access would raise, and —
 * when the access succeeds, and only then — the accessed flags of every
 * entry used and the dirty flag of the leaf of a write, set atomically
 * in guest memory. Those flag writes are guest-memory writes: they go to
 * the dirty log and to the processor's decoded code (hpa_written), as
 * an emulated instruction's own writes do (mmu/walk.c says why not to
 * track_write). A debugger's look passes MMU_ACC_PEEK and changes nothing.
 *
 * Memory as the walk sees it: a table in no memslot reads as all ones
 * (the bus with nothing decoding the address), and a flag update there
 * or in a read-only slot is dropped.
 */
#ifndef HVLAB_MMU_WALK_H
#define HVLAB_MMU_WALK_H

#include <stdbool.h>
#include <stdint.h>

#include "hvlab/types.h"
#include "mmu/gwalk.h"

struct hv_vm;
struct hv_vcpu;
struct mmu_walk_fault;

#define PFERR_P GWALK_PF_P
#define PFERR_W GWALK_PF_W
#define PFERR_U GWALK_PF_U
#define PFERR_RSVD GWALK_PF_RSVD
#define PFERR_I GWALK_PF_I

/* Access bits beyond HV_ACC_WRITE/USER/FETCH (backends/backend.h) that
 * mmu_walk_guest() and mmu_walk_gva() take: */
#define MMU_ACC_IMPLICIT	(1u << 10)	/* an implicit supervisor access (GDT,
						 * IDT, TSS... SDM 4.6): RFLAGS.AC does
						 * not lift SMAP; any CPL */
#define MMU_ACC_PEEK		GWALK_ACC_PEEK	/* no A/D updates */

/* Guest-physical memory through the memslots, for gwalk(). */
struct mmu_walk_mem {
	struct gwalk_mem mem;
	struct hv_vm *vm;
};

void mmu_walk_mem_init(struct mmu_walk_mem *m, struct hv_vm *vm);

/*
 * The walker configuration of @vcpu's paging mode: CR0/CR3/CR4/EFER and
 * the guest CPUID (MAXPHYADDR, 1 GiB pages). For PAE paging the PDPTEs
 * are the registers the MMU loaded at the last CR3 load or paging-mode
 * change (mmu->get_pdptes, SDM 4.4.1), or where it keeps none, read
 * from guest memory at CR3[31:5] now. false when paging is off (no walk:
 * linear = guest-physical).
 */
bool mmu_walk_cfg(struct hv_vcpu *vcpu, struct gwalk_cfg *cfg);

/* The four PDPTEs in guest memory at @cr3[31:5] now (4.4.1), as a MOV to
 * CR3 loads them (all ones where there is no RAM). */
void mmu_read_pdptes(struct hv_vcpu *vcpu, uint64_t cr3, uint64_t pdpte[4]);

/*
 * Walk @gva for @access (HV_ACC_* | MMU_ACC_*) under @vcpu's current
 * paging: 0 with the translation and path in @w, or -EFAULT with
 * w->fault = GWALK_PF and w->error_code. With paging off: 0, gpa = gva
 * (cut to 32 bits outside long mode), top = level = 0, all rights.
 */
int mmu_walk_gva(struct hv_vcpu *vcpu, gva_t gva, uint32_t access, struct gwalk *w);

/*
 * mmu_walk_gva() for gva_to_gpa: 0 and *gpa, or -EFAULT with the #PF
 * error code in f->error_code. Sets A/D flags like the processor
 * (unless MMU_ACC_PEEK).
 */
int mmu_walk_guest(struct hv_vcpu *vcpu, gva_t gva, uint32_t access, gpa_t *gpa,
		   struct mmu_walk_fault *f);

#endif
