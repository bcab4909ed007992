/*
 * svm_msr.c — get_msr/set_msr: the guest's MSRs wherever the processor
 * keeps them under SVM (APM Vol. 2 15.5.1, 15.5.2, 15.11).
 *
 *   MSR                                where it lives between runs
 *   FS_BASE, GS_BASE                   VMCB fs.base / gs.base     (VMLOAD state)
 *   KERNEL_GS_BASE, STAR, LSTAR,       VMCB save area             (VMLOAD state:
 *   CSTAR, SFMASK, SYSENTER_CS/ESP/EIP                             svm.c VMSAVEs
 *                                                                  after each exit)
 *   PAT                                VMCB G_PAT with nested paging (15.25.8);
 *                                      the processor's PAT without
 *   EFER                               get_efer/set_efer (SVME hidden, LMA derived)
 *   TSC                                the processor's TSC + VMCB TSC_OFFSET
 *                                      (15.3.3): a write moves the offset
 *   VM_HSAVE_PA, VM_CR                 the host's: the guest has no SVM (-EINVAL)
 *   the rest (TSC_AUX, APIC_BASE,      the processor itself (hw_rdmsr/hw_wrmsr),
 *   MTRRs, MISC_ENABLE, PerfCtl...)    -EINVAL where it has no such MSR
 *
 * DEBUGCTL (0x1d9) is not an MSR of the model, so it is -EINVAL like any
 * MSR the processor lacks, although the VMCB has a field for it (LBR
 * virtualization, which the model does not implement).
 */
#include <errno.h>

#include "backends/svm/svm.h"
#include "hw/msr.h"

/* The VMCB's copy of @msr, or NULL when the VMCB does not hold it. */
static uint64_t *vmcb_msr(struct svm_vcpu *svm, uint32_t msr)
{
	struct vmcb_save *s = &svm->vmcb->save;
	switch (msr) {
	case MSR_IA32_FS_BASE: return &s->fs.base;
	case MSR_IA32_GS_BASE: return &s->gs.base;
	case MSR_IA32_KERNEL_GS_BASE: return &s->kernel_gs_base;
	case MSR_IA32_STAR: return &s->star;
	case MSR_IA32_LSTAR: return &s->lstar;
	case MSR_IA32_CSTAR: return &s->cstar;
	case MSR_IA32_FMASK: return &s->sfmask;
	case MSR_IA32_SYSENTER_CS: return &s->sysenter_cs;
	case MSR_IA32_SYSENTER_ESP: return &s->sysenter_esp;
	case MSR_IA32_SYSENTER_EIP: return &s->sysenter_eip;
	case MSR_IA32_PAT: return svm->shadow ? NULL : &s->g_pat;
	default: return NULL;
	}
}

int svm_get_msr(struct hv_vcpu *vcpu, uint32_t msr, uint64_t *val)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	uint64_t *p = vmcb_msr(svm, msr);

	if (p) {
		*val = *p;
		return 0;
	}
	switch (msr) {
	case MSR_IA32_EFER:
		*val = svm_get_efer(vcpu);
		return 0;
	case MSR_IA32_TSC: {
		uint64_t tsc;
		int r = hw_rdmsr(svm->cpu, MSR_IA32_TSC, &tsc);
		if (!r)
			*val = tsc + svm->vmcb->control.tsc_offset;
		return r;
	}
	case MSR_AMD_VM_HSAVE_PA:
	case MSR_AMD_VM_CR:
		return -EINVAL;
	default:
		return hw_rdmsr(svm->cpu, msr, val);
	}
}

static bool is_canonical(uint64_t v)
{
	return (uint64_t)((int64_t)(v << 16) >> 16) == v;
}

/* PAT entries may be UC, WC, WT, WP, WB or UC- (0, 1, 4, 5, 6, 7; SDM
 * Vol. 3A 12.12.2, APM Vol. 2 7.8.1): anything else is #GP. */
static bool pat_valid(uint64_t pat)
{
	for (unsigned i = 0; i < 8; i++) {
		const unsigned t = (pat >> (8 * i)) & 0xff;
		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

/*
 * What a WRMSR of a VMCB-held MSR would do on the processor (#GP for a
 * non-canonical address, a bad PAT type; SYSENTER_CS and SFMASK keep 32
 * bits): -EINVAL, or 0 with *val as the register holds it.
 */
static int vmcb_msr_check(uint32_t msr, uint64_t *val)
{
	switch (msr) {
	case MSR_IA32_FS_BASE:
	case MSR_IA32_GS_BASE:
	case MSR_IA32_KERNEL_GS_BASE:
	case MSR_IA32_LSTAR:
	case MSR_IA32_CSTAR:
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
		return is_canonical(*val) ? 0 : -EINVAL;
	case MSR_IA32_SYSENTER_CS:
	case MSR_IA32_FMASK:
		*val &= 0xffffffffull;
		return 0;
	case MSR_IA32_PAT:
		return pat_valid(*val) ? 0 : -EINVAL;
	default:
		return 0;
	}
}

int svm_set_msr(struct hv_vcpu *vcpu, uint32_t msr, uint64_t val)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	uint64_t *p = vmcb_msr(svm, msr);

	if (p) {
		int r = vmcb_msr_check(msr, &val);
		if (!r)
			*p = val;
		return r;
	}
	switch (msr) {
	case MSR_IA32_EFER:
		svm_set_efer(vcpu, val);
		return 0;
	case MSR_IA32_TSC: {
		uint64_t tsc;
		int r = hw_rdmsr(svm->cpu, MSR_IA32_TSC, &tsc);
		if (!r)
			svm->vmcb->control.tsc_offset = val - tsc;
		return r;
	}
	case MSR_AMD_VM_HSAVE_PA:
	case MSR_AMD_VM_CR:
		return -EINVAL;
	default:
		return hw_wrmsr(svm->cpu, msr, val);
	}
}
