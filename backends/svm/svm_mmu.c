/*
 * svm_mmu.c — what the MMU strategies get from SVM: the NPT entry format
 * (APM Vol. 2 15.25.5), the nested root (N_CR3, 15.25.3), the shadow
 * root (the guest's real CR3) and TLB flushes by ASID (15.16).
 *
 * NPT entries are long-mode page-table entries (APM 5.3.3) walked as
 * user accesses: every entry needs U/S (15.25.5), P grants read, R/W
 * write, and NX (bit 63) forbids execution — the nested walk honours NX
 * when the host's EFER.NXE is set (15.25.6), and the model's host runs
 * with it. The processor sets A and D in NPT entries as in guest tables.
 *
 * TLB (15.16). Each vcpu has its own ASID (vcpu id + 1; 0 is the host's),
 * so guest translations survive VMRUN/#VMEXIT. A flush request becomes
 * TLB_CONTROL = 3, "flush this guest's ASID", for the next VMRUN only
 * (svm.c resets it to 0 after the run): it drops the ASID's guest-linear
 * and combined translations, which is what both HV_FLUSH_GUEST and
 * HV_FLUSH_TDP need — SVM has no finer split (CPUID 8000_000A EDX[6]
 * flush-by-ASID is offered). A new root flushes the ASID the same way,
 * so no strategy runs on translations built from the old one.
 */
#include "backends/svm/svm.h"
#include "mmu/tdp/tdp.h"

#define NPT_P (1ull << 0)
#define NPT_RW (1ull << 1)
#define NPT_US (1ull << 2)
#define NPT_A (1ull << 5)
#define NPT_D (1ull << 6)
#define NPT_PS (1ull << 7)
#define NPT_NX (1ull << 63)

static const struct tdp_format npt_format = {
	.name = "npt",
	.present_mask = NPT_P,
	.r = NPT_P,
	.w = NPT_RW,
	.x = 0,
	.nx = NPT_NX,
	.user = NPT_US,
	.leaf_extra = 0,
	.large = NPT_PS,
	.addr_mask = 0x000ffffffffff000ull,
	.accessed = NPT_A,
	.dirty = NPT_D,
};

const struct tdp_format *svm_tdp_format(struct hv_vm *vm)
{
	return &npt_format;
}

void svm_flush_tlb(struct hv_vcpu *vcpu, enum hv_flush what)
{
	to_svm(vcpu)->vmcb->control.tlb_control = SVM_TLB_CONTROL_FLUSH_ASID;
}

/* N_CR3 bits 11:0 are ignored (15.25.3); NP_ENABLE is set at creation
 * for HV_MMU_TDP. */
void svm_set_tdp_root(struct hv_vcpu *vcpu, hpa_t root)
{
	struct vmcb_control *c = &to_svm(vcpu)->vmcb->control;
	if (c->n_cr3 != root)
		c->tlb_control = SVM_TLB_CONTROL_FLUSH_ASID;
	c->n_cr3 = root;
}

void svm_set_shadow_root(struct hv_vcpu *vcpu, hpa_t root)
{
	struct vmcb *v = to_svm(vcpu)->vmcb;
	if (v->save.cr3 != root)
		v->control.tlb_control = SVM_TLB_CONTROL_FLUSH_ASID;
	v->save.cr3 = root;
}
