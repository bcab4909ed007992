/*
 * vmx_event.c — events into the guest: VM-entry event injection (SDM
 * Vol. 3C 25.8.3, checks 27.2.1.3, delivery 27.6), when the guest can
 * take an interrupt or NMI (guest interruptibility state, 25.4.2), the
 * interrupt- and NMI-window exits (25.6.2, 26.7.5-6), the exception
 * bitmap (25.6.3), and the pending debug exceptions entry checks against
 * RFLAGS.TF (27.3.1.5).
 *
 * Injection happens at the next VM entry, which clears the valid bit of
 * the field on the exit that follows (27.6.1 / 28.2.5); an event whose
 * delivery was interrupted by that exit comes back in the IDT-vectoring
 * information (vmx_exit.c) for core to re-inject.
 */
#include "backends/vmx/vmx.h"

/* HV_EVENT_* to the VMX interruption type (25.8.3 Table 25-17). */
static const uint8_t intr_type[] = {
	[HV_EVENT_EXTINT] = VMX_INTR_TYPE_EXT_INTR,
	[HV_EVENT_NMI] = VMX_INTR_TYPE_NMI,
	[HV_EVENT_EXCEPTION] = VMX_INTR_TYPE_HARD_EXCEPTION,
	[HV_EVENT_SOFTINT] = VMX_INTR_TYPE_SOFT_INTR,
	[HV_EVENT_SOFTEXC] = VMX_INTR_TYPE_SOFT_EXCEPTION,
	[HV_EVENT_PRIV_SOFTEXC] = VMX_INTR_TYPE_PRIV_SOFT_EXCEPTION,
};

void vmx_inject_event(struct hv_vcpu *vcpu, const struct hv_event *ev)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	const unsigned type = ev->type < sizeof(intr_type) ? intr_type[ev->type]
							   : VMX_INTR_TYPE_HARD_EXCEPTION;
	uint32_t info = ev->vector | (type << VMX_INTR_INFO_TYPE_SHIFT) | VMX_INTR_INFO_VALID;
	/* 27.2.1.3: with unrestricted guest an error code may be delivered
	 * only in protected mode; real mode pushes none (SDM Vol. 3A 20.1.4). */
	const bool pe = vmx_get_cr(vcpu, 0) & VMX_CR0_PE;
	if (ev->has_error_code && type == VMX_INTR_TYPE_HARD_EXCEPTION && pe) {
		info |= VMX_INTR_INFO_ERROR_CODE;
		vmcs_put(vmx, VMCS_ENTRY_EXCEPTION_ERROR_CODE, ev->error_code);
	}
	/* Software events return past the instruction: its length (27.6.1.1). */
	if (type == VMX_INTR_TYPE_SOFT_INTR || type == VMX_INTR_TYPE_SOFT_EXCEPTION ||
	    type == VMX_INTR_TYPE_PRIV_SOFT_EXCEPTION)
		vmcs_put(vmx, VMCS_ENTRY_INSTRUCTION_LEN, ev->insn_len);
	vmcs_put(vmx, VMCS_ENTRY_INTR_INFO, info);
	/* An injected event ends HLT (27.6.1); core exits on HLT anyway, so
	 * the activity state is always active, but say so explicitly. */
	vmcs_put(vmx, VMCS_GUEST_ACTIVITY_STATE, VMX_ACTIVITY_ACTIVE);
}

static bool injecting(struct vmx_vcpu *vmx)
{
	return vmcs_get(vmx, VMCS_ENTRY_INTR_INFO) & VMX_INTR_INFO_VALID;
}

bool vmx_interrupt_allowed(struct hv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	const uint64_t intr = vmcs_get(vmx, VMCS_GUEST_INTERRUPTIBILITY);
	return (vmx_get_rflags(vcpu) & VMX_RFLAGS_IF) &&
	       !(intr & (VMX_INTERRUPTIBILITY_STI | VMX_INTERRUPTIBILITY_MOV_SS)) &&
	       !injecting(vmx);
}

/* NMIs are blocked by a previous NMI until IRET (virtual-NMI blocking
 * with "virtual NMIs", 25.4.2) and by MOV SS; 27.3.1.5 lets a processor
 * refuse NMI injection under STI blocking too, so treat it as blocking,
 * as KVM does. */
bool vmx_nmi_allowed(struct hv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	const uint64_t intr = vmcs_get(vmx, VMCS_GUEST_INTERRUPTIBILITY);
	return !(intr & (VMX_INTERRUPTIBILITY_NMI | VMX_INTERRUPTIBILITY_STI |
			 VMX_INTERRUPTIBILITY_MOV_SS)) &&
	       !injecting(vmx);
}

void vmx_set_irq_window(struct hv_vcpu *vcpu, bool on)
{
	vmcs_set_bits(to_vmx(vcpu), VMCS_PROC_BASED_CTLS, VMX_PROC_INTR_WINDOW_EXITING, on);
}

void vmx_set_nmi_window(struct hv_vcpu *vcpu, bool on)
{
	vmcs_set_bits(to_vmx(vcpu), VMCS_PROC_BASED_CTLS, VMX_PROC_NMI_WINDOW_EXITING, on);
}

void vmx_set_exception_intercepts(struct hv_vcpu *vcpu, uint32_t bitmap)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	vmx->exc_extra = bitmap;
	vmcs_put(vmx, VMCS_EXCEPTION_BITMAP, vmx->exc_base | bitmap);
}

/*
 * Pending debug exceptions (25.4.2) against RFLAGS.TF. While the guest
 * is blocked by STI or MOV SS, or halted, VM entry demands BS pending
 * exactly when a single step is armed (TF = 1, DEBUGCTL.BTF = 0;
 * 27.3.1.5). Two things break that: a single-step #DB that exits
 * through the exception bitmap right after STI leaves the blocking set
 * but does not record BS (27.1: the #DB's effects are not applied), and
 * core sets or clears TF between runs (hv_debug_guest). Making BS follow
 * TF is what the processor itself would have pending there; KVM mends
 * the same state. Outside such blocking the field is left alone.
 */
#define PENDING_DBG_BS (1ull << 14)
#define DEBUGCTL_BTF (1ull << 1)
#define RFLAGS_TF (1ull << 8)

void vmx_sync_pending_dbg(struct vmx_vcpu *vmx)
{
	const uint64_t blocking = vmcs_get(vmx, VMCS_GUEST_INTERRUPTIBILITY) &
				  (VMX_INTERRUPTIBILITY_STI | VMX_INTERRUPTIBILITY_MOV_SS);
	if (!blocking && vmcs_get(vmx, VMCS_GUEST_ACTIVITY_STATE) != VMX_ACTIVITY_HLT)
		return;
	const bool step = (vmcs_get(vmx, VMCS_GUEST_RFLAGS) & RFLAGS_TF) &&
			  !(vmcs_get(vmx, VMCS_GUEST_IA32_DEBUGCTL) & DEBUGCTL_BTF);
	vmcs_set_bits(vmx, VMCS_GUEST_PENDING_DBG_EXCEPTIONS, PENDING_DBG_BS, step);
}
