/*
 * svm_vmcb.c — what a new vcpu's VMCB holds (APM Vol. 2 Appendix B), for
 * each MMU style, and the two permission maps it points at.
 *
 * Intercepts (Table B-1), the same set KVM programs with nested paging:
 *
 *   INTR, NMI, INIT        the host's events: INTR carries the host timer
 *                          (HW_DEADLINE_VECTOR); with V_INTR_MASKING the
 *                          guest's RFLAGS.IF never holds it back (15.21.1)
 *   SHUTDOWN               a triple fault must not reset the host (15.12)
 *   HLT                    core idles the vcpu on virtual time
 *   IOIO_PROT + IOPM       every port: the devices live in core and vmm
 *   MSR_PROT + MSRPM       every MSR except the guest-owned ones (below)
 *   CPUID                  core applies the guest's CPUID policy
 *   INVD                   it would drop dirty lines the host shares
 *   TASK_SWITCH            the model leaves task switches to the VMM
 *   VMRUN ... INVLPGA      no nested SVM: core injects #UD (HVX_VIRT_INSN);
 *                          VMRUN's intercept is mandatory anyway (15.5.1)
 *   VMMCALL                the hypercall
 *   MONITOR, MWAIT         core emulates them as NOP / HLT
 *   XSETBV                 XCR0 belongs to core's CPUID/XSAVE policy
 *   not: RDTSC(P) (TSC offsetting suffices), RDPMC (the model answers),
 *   WBINVD (harmless), PAUSE (no pause filter), INVPCID, exceptions.
 *
 * HV_MMU_SHADOW adds what a shadow MMU must see (backends/backend.h):
 * #PF, INVLPG, INVPCID, and reads and writes of CR0, CR3 and CR4 — SVM
 * has no guest/host masks, so the guest's view of those registers is
 * kept in struct svm_vcpu and every access exits (KVM without NPT).
 *
 * MSRs the guest owns (reads and writes not intercepted): FS_BASE,
 * GS_BASE, KERNEL_GS_BASE, STAR, LSTAR, CSTAR, SFMASK, SYSENTER_CS/ESP/
 * EIP and TSC_AUX. They carry no host state that the guest could reach
 * beyond its own: the first ten are VMLOAD/VMSAVE state (15.5.2) that
 * svm.c swaps around every VMRUN, and TSC_AUX only feeds the guest's own
 * RDTSCP. Everything else — EFER (SVME must stay set, LMA derived),
 * PAT (G_PAT), TSC (the offset), APIC_BASE, VM_HSAVE_PA, VM_CR, the
 * MTRRs — exits to core, which calls get_msr/set_msr.
 */
#include <string.h>

#include "backends/svm/svm.h"
#include "hw/msr.h"

/* MSRs passed through to the guest; see the design note. */
static const uint32_t guest_owned_msrs[] = {
	MSR_IA32_FS_BASE, MSR_IA32_GS_BASE, MSR_IA32_KERNEL_GS_BASE,
	MSR_IA32_STAR, MSR_IA32_LSTAR, MSR_IA32_CSTAR, MSR_IA32_FMASK,
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	MSR_IA32_TSC_AUX,
};

/* The MSRPM's three vectors (APM Vol. 2 Table 15-5). */
static const uint32_t msrpm_base[3] = { 0x00000000u, 0xc0000000u, 0xc0010000u };

/* Clear both intercept bits of @msr: two bits per MSR, the read bit
 * even and the write bit odd, 2 KiB per vector. */
static void msrpm_allow(uint8_t *msrpm, uint32_t msr)
{
	for (unsigned r = 0; r < 3; r++) {
		const uint32_t idx = msr - msrpm_base[r];
		if (idx >= SVM_MSRPM_RANGE_MSRS)
			continue;
		const uint32_t bit = r * SVM_MSRPM_RANGE_BYTES * 8 + idx * 2;
		msrpm[bit / 8] &= (uint8_t)~(3u << (bit % 8));
		return;
	}
}

void svm_msrpm_init(uint8_t *msrpm)
{
	memset(msrpm, 0xff, SVM_MSRPM_SIZE);
	for (size_t i = 0; i < sizeof(guest_owned_msrs) / sizeof(guest_owned_msrs[0]); i++)
		msrpm_allow(msrpm, guest_owned_msrs[i]);
}

#define PF_VECTOR 14

void svm_update_exception_intercepts(struct svm_vcpu *svm)
{
	svm->vmcb->control.intercept_exceptions =
		svm->exc_extra | (svm->shadow ? 1u << PF_VECTOR : 0);
}

void svm_vmcb_init(struct svm_vcpu *svm)
{
	struct vmcb_control *c = &svm->vmcb->control;

	memset(svm->vmcb, 0, sizeof(*svm->vmcb));
	c->intercept_misc1 = SVM_INTERCEPT_INTR | SVM_INTERCEPT_NMI | SVM_INTERCEPT_INIT | SVM_INTERCEPT_SHUTDOWN | SVM_INTERCEPT_HLT |
			     SVM_INTERCEPT_IOIO_PROT | SVM_INTERCEPT_MSR_PROT |
			     SVM_INTERCEPT_CPUID | SVM_INTERCEPT_INVD |
			     SVM_INTERCEPT_TASK_SWITCH | SVM_INTERCEPT_INVLPGA;
	c->intercept_misc2 = SVM_INTERCEPT2_VMRUN | SVM_INTERCEPT2_VMMCALL |
			     SVM_INTERCEPT2_VMLOAD | SVM_INTERCEPT2_VMSAVE |
			     SVM_INTERCEPT2_STGI | SVM_INTERCEPT2_CLGI | SVM_INTERCEPT2_SKINIT |
			     SVM_INTERCEPT2_MONITOR | SVM_INTERCEPT2_MWAIT |
			     SVM_INTERCEPT2_MWAIT_COND | SVM_INTERCEPT2_XSETBV;
	if (svm->shadow) {
		const uint16_t crs = (1u << 0) | (1u << 3) | (1u << 4);
		c->intercept_cr_read = crs;
		c->intercept_cr_write = crs;
		c->intercept_misc1 |= SVM_INTERCEPT_INVLPG;
		c->intercept_misc3 |= SVM_INTERCEPT3_INVPCID;
	} else {
		c->np_enable = SVM_NP_ENABLE;	/* n_cr3 comes with set_tdp_root */
	}
	svm_update_exception_intercepts(svm);
	c->iopm_base_pa = svm->iopm_pa;
	c->msrpm_base_pa = svm->msrpm_pa;
	/* ASID 0 is the host's (15.16): vcpu n runs in ASID n + 1. */
	c->guest_asid = svm->vcpu.id + 1;
	/* Whatever this processor cached for the ASID before is not ours. */
	c->tlb_control = SVM_TLB_CONTROL_FLUSH_ASID;
	/* The host's IF masks physical interrupts, the guest's only virtual
	 * ones, and the guest's CR8 writes stay its own V_TPR (15.21.1). */
	c->v_intr_masking = SVM_V_INTR_MASKING;
	/* The model ignores VMCB clean bits; 0 says "reload everything",
	 * which is always allowed (15.15.3), so no bookkeeping is needed. */
	c->clean = 0;
}

/* A system segment (LDT or TSS) or a data segment at RESET. */
static struct vmcb_seg reset_seg(uint16_t sel, uint64_t base, uint16_t attrib)
{
	return (struct vmcb_seg){ .selector = sel, .attrib = attrib, .limit = 0xffff,
				  .base = base };
}

/*
 * The RESET state, SDM Vol. 3A 9.1.1 Table 9-1 (APM Vol. 2 14.1.3 says the
 * same for AMD): real mode at F000:FFF0 with CS.base FFFF0000, data
 * segments base 0 limit FFFF read/write accessed, LDTR type 2 and TR a
 * busy 16-bit TSS (type 3; the VMCB has no "unusable" and VMRUN loads
 * them as they are), GDTR/IDTR limit FFFF, CR0 60000010 (CD, NW, ET),
 * DR0-3 0, DR6 FFFF0FF0, DR7 400, EFER 0, PAT 0007040600070406. SVM
 * runs real mode natively, so this VMCB is enterable as is.
 */
void svm_vmcb_reset_state(struct svm_vcpu *svm)
{
	struct vmcb_save *s = &svm->vmcb->save;
	const uint16_t data = 0x093;	/* type 3, S, P */

	s->cs = reset_seg(0xf000, 0xffff0000ull, 0x09b);	/* type b, S, P */
	s->ds = s->es = s->ss = s->fs = s->gs = reset_seg(0, 0, data);
	s->ldtr = reset_seg(0, 0, 0x082);			/* type 2, P */
	s->tr = reset_seg(0, 0, 0x083);				/* type 3, P */
	s->gdtr = (struct vmcb_seg){ .limit = 0xffff };
	s->idtr = (struct vmcb_seg){ .limit = 0xffff };
	s->cpl = 0;
	s->rip = 0xfff0;
	s->rflags = 2;
	s->dr6 = 0xffff0ff0;
	s->dr7 = 0x400;
	for (unsigned i = 0; i < 4; i++)
		svm_set_dr(&svm->vcpu, i, 0);	/* the processor's (svm_regs.c) */
	s->g_pat = 0x0007040600070406ull;
	s->cr2 = 0;
	svm->guest_cr0 = svm->guest_cr3 = svm->guest_cr4 = svm->guest_efer = 0;
	/* set_cr/set_efer compute what the VMCB must hold (SVME, forced
	 * shadow bits) from the guest's values. */
	svm_set_cr(&svm->vcpu, 0, 0x60000010ull);
	svm_set_cr(&svm->vcpu, 3, 0);
	svm_set_cr(&svm->vcpu, 4, 0);
	svm_set_efer(&svm->vcpu, 0);
}
