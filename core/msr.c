/*
 * msr.c — the guest's MSRs. Which component answers, in order:
 *
 *   MSR                          owner
 *   APIC_BASE, TSC_DEADLINE,     core/irq (local APIC)
 *   x2APIC 0x800-0x8ff
 *   TSC (0x10)                   here: the guest TSC is virtual time plus
 *                                the offset a write sets (SDM Vol. 3B 18.17)
 *   EFER                         core/cr.c (the #GP checks), then backend
 *   FEATURE_CONTROL (0x3a)       here: locked, VMX off (no nested VMX)
 *   PLATFORM_ID, BIOS_SIGN_ID,   here: read as 0, writes ignored (what
 *   MCG_CAP/STATUS,              guests probe at boot; no microcode and no
 *   MISC_ENABLE                  machine checks are modelled)
 *   everything else              the backend: the VMCS/VMCB or the
 *                                processor's own MSR (hw/ says #GP for
 *                                the ones it lacks)
 */
#include <errno.h>

#include "core/cr.h"
#include "core/irq/irq.h"
#include "core/msr.h"
#include "core/vm.h"

#define MSR_TSC 0x10
#define MSR_PLATFORM_ID 0x17
#define MSR_FEATURE_CONTROL 0x3a
#define MSR_BIOS_SIGN_ID 0x8b
#define MSR_MCG_CAP 0x179
#define MSR_MCG_STATUS 0x17a
#define MSR_MISC_ENABLE 0x1a0
#define MSR_EFER 0xc0000080

int vcpu_rdmsr(struct hv_vcpu *vcpu, uint32_t msr, uint64_t *val)
{
	int r = irq_rdmsr(vcpu, msr, val);
	if (r <= 0)
		return r;
	switch (msr) {
	case MSR_TSC:
		*val = vcpu_guest_tsc(vcpu);
		return 0;
	case MSR_EFER:
		*val = vcpu->vm->backend->get_efer(vcpu);
		return 0;
	case MSR_FEATURE_CONTROL:
		*val = 1;	/* locked, VMX disabled inside and outside SMX */
		return 0;
	case MSR_PLATFORM_ID:
	case MSR_BIOS_SIGN_ID:
	case MSR_MCG_CAP:
	case MSR_MCG_STATUS:
		*val = 0;
		return 0;
	case MSR_MISC_ENABLE:
		*val = 1;	/* fast strings */
		return 0;
	default:
		return vcpu->vm->backend->get_msr(vcpu, msr, val);
	}
}

int vcpu_wrmsr(struct hv_vcpu *vcpu, uint32_t msr, uint64_t val)
{
	int r = irq_wrmsr(vcpu, msr, val);
	if (r <= 0)
		return r;
	switch (msr) {
	case MSR_TSC:
		vcpu_adjust_tsc(vcpu, val - vcpu_guest_tsc(vcpu));
		return 0;
	case MSR_EFER:
		return vcpu_set_efer(vcpu, val);
	case MSR_FEATURE_CONTROL:
		return -EINVAL;		/* locked: #GP */
	case MSR_BIOS_SIGN_ID:
	case MSR_MCG_STATUS:
	case MSR_MISC_ENABLE:
		return 0;
	case MSR_PLATFORM_ID:
	case MSR_MCG_CAP:
		return -EINVAL;		/* read-only */
	default:
		return vcpu->vm->backend->set_msr(vcpu, msr, val);
	}
}
