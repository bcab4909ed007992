/*
 * vmx_regs.c — the guest's registers as core sees them: RIP, RFLAGS,
 * segments and descriptor tables in the VMCS guest-state area (SDM Vol.
 * 3C 25.4), control registers behind guest/host masks and read shadows
 * (25.6.6), EFER with LMA derived as the processor derives it, MSRs, DRs,
 * the interrupt shadow.
 *
 * CR0/CR4 (decision table; "mask" = host-owned, vmx->cr{0,4}_mask):
 *
 *   bit is ...          real register (GUEST_CRn)     read shadow
 *   guest-owned         the guest's value             (unused)
 *   FIXED0 (NE, VMXE)   1                             the guest's value
 *   SHADOW-owned        PG, WP, PE forced 1 (shadow   the guest's value
 *                       tables need paging and WP);
 *                       CR4.PAE forced 1: shadow
 *                       tables are always PAE or
 *                       4-level (KVM's policy: a
 *                       32-bit guest is shadowed in
 *                       PAE format, docs/mmu.md);
 *                       SMEP/SMAP cleared while the
 *                       guest's paging is off (they
 *                       apply only with paging, SDM
 *                       4.6); other CR4 bits: the
 *                       guest's value
 *
 * A guest write that would change a host-owned bit's shadow exits
 * (HVX_CR_ACCESS, 26.1.3); core checks it and calls set_cr.
 *
 * EFER.NXE under HV_MMU_SHADOW: the real one is always 1 (KVM's
 * policy), the guest's is kept in guest_nxe. Then every #PF on an
 * instruction fetch reports I/D (SDM Vol. 3A 4.7), so the shadow MMU
 * tells a fetch from a read even when the guest's own NXE and SMEP are
 * 0 (its walk then applies SMAP to reads only, 4.6.1); the sptes use XD
 * only where the guest's rules deny execution.
 *
 * EFER.LMA (SDM Vol. 3A 10.8.5): the processor sets LMA when paging is
 * enabled with LME = 1 and clears it when paging goes off. set_cr(0) and
 * set_efer re-derive it from LME and the guest's CR0.PG, and the IA-32e
 * mode guest entry control follows it (27.2.1.3 requires them equal).
 *
 * Debug registers: only DR7 is in the VMCS (25.4.1), loaded and saved
 * through the debug-controls entry/exit controls; DR0-3 and DR6 are not
 * switched by VM entries or exits (27.3, 28.3), so while the guest runs
 * the processor's are the guest's. Each vcpu has its own processor and
 * the host never uses them, so they simply live there (hw_read_dr /
 * hw_write_dr) and MOV DR runs without exiting: the guest's own
 * breakpoints arm the processor, and set_dr() takes effect at the next
 * entry. CR2 is the same (shared, never switched, SDM Vol. 3C 27.3.2).
 */
#include <errno.h>
#include <string.h>

#include "backends/vmx/vmx.h"
#include "hw/msr.h"

#define EFER_LME_BIT (1ull << 8)
#define EFER_LMA_BIT (1ull << 10)

uint64_t vmx_get_rip(struct hv_vcpu *vcpu)
{
	return vmcs_get(to_vmx(vcpu), VMCS_GUEST_RIP);
}

void vmx_set_rip(struct hv_vcpu *vcpu, uint64_t rip)
{
	vmcs_put(to_vmx(vcpu), VMCS_GUEST_RIP, rip);
}

uint64_t vmx_get_rflags(struct hv_vcpu *vcpu)
{
	return vmcs_get(to_vmx(vcpu), VMCS_GUEST_RFLAGS);
}

void vmx_set_rflags(struct hv_vcpu *vcpu, uint64_t rflags)
{
	vmcs_put(to_vmx(vcpu), VMCS_GUEST_RFLAGS, rflags);
}

void vmx_get_segment(struct hv_vcpu *vcpu, enum hv_seg seg, struct hv_segment *s)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	memset(s, 0, sizeof(*s));
	s->selector = (uint16_t)vmcs_get(vmx, VMCS_GUEST_ES_SELECTOR + 2 * seg);
	s->base = vmcs_get(vmx, VMCS_GUEST_ES_BASE + 2 * seg);
	s->limit = (uint32_t)vmcs_get(vmx, VMCS_GUEST_ES_LIMIT + 2 * seg);
	backend_ar_to_seg((uint32_t)vmcs_get(vmx, VMCS_GUEST_ES_ACCESS_RIGHTS + 2 * seg), s);
}

void vmx_set_segment(struct hv_vcpu *vcpu, enum hv_seg seg, const struct hv_segment *s)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	vmcs_put(vmx, VMCS_GUEST_ES_SELECTOR + 2 * seg, s->selector);
	vmcs_put(vmx, VMCS_GUEST_ES_BASE + 2 * seg, s->base);
	vmcs_put(vmx, VMCS_GUEST_ES_LIMIT + 2 * seg, s->limit);
	vmcs_put(vmx, VMCS_GUEST_ES_ACCESS_RIGHTS + 2 * seg, backend_seg_to_ar(s));
}

void vmx_get_dtable(struct hv_vcpu *vcpu, bool idt, struct hv_dtable *dt)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	dt->base = vmcs_get(vmx, idt ? VMCS_GUEST_IDTR_BASE : VMCS_GUEST_GDTR_BASE);
	dt->limit = (uint16_t)vmcs_get(vmx, idt ? VMCS_GUEST_IDTR_LIMIT : VMCS_GUEST_GDTR_LIMIT);
}

void vmx_set_dtable(struct hv_vcpu *vcpu, bool idt, const struct hv_dtable *dt)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	vmcs_put(vmx, idt ? VMCS_GUEST_IDTR_BASE : VMCS_GUEST_GDTR_BASE, dt->base);
	vmcs_put(vmx, idt ? VMCS_GUEST_IDTR_LIMIT : VMCS_GUEST_GDTR_LIMIT, dt->limit);
}

uint64_t vmx_get_cr(struct hv_vcpu *vcpu, unsigned cr)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	switch (cr) {
	case 0:
		return (vmcs_get(vmx, VMCS_GUEST_CR0) & ~vmx->cr0_mask) |
		       (vmcs_get(vmx, VMCS_CR0_READ_SHADOW) & vmx->cr0_mask);
	case 2:
		/* The processor's one CR2 (VMX does not switch it). */
		return hw_read_cr(vmx->cpu, 2);
	case 3:
		return vmx->style == HV_MMU_SHADOW ? vmx->guest_cr3 : vmcs_get(vmx, VMCS_GUEST_CR3);
	case 4:
		return (vmcs_get(vmx, VMCS_GUEST_CR4) & ~vmx->cr4_mask) |
		       (vmcs_get(vmx, VMCS_CR4_READ_SHADOW) & vmx->cr4_mask);
	default:
		return 0;
	}
}

/* LMA from LME and the guest's CR0.PG, with the IA-32e mode entry
 * control following it (SDM Vol. 3A 10.8.5; Vol. 3C 27.2.1.3). */
static void update_lma(struct vmx_vcpu *vmx)
{
	uint64_t efer = vmcs_get(vmx, VMCS_GUEST_IA32_EFER) & ~EFER_LMA_BIT;
	if (vmx->style == HV_MMU_SHADOW)
		efer = (efer & ~EFER_LME_BIT) | (vmx->guest_lme ? EFER_LME_BIT : 0) | EFER_NXE;
	const bool lma = (efer & EFER_LME_BIT) && (vmx_get_cr(&vmx->vcpu, 0) & VMX_CR0_PG);
	if (lma)
		efer |= EFER_LMA_BIT;
	else if (vmx->style == HV_MMU_SHADOW)
		efer &= ~EFER_LME_BIT;	/* real PG is forced on: 26.3.1.1 */
	vmcs_put(vmx, VMCS_GUEST_IA32_EFER, efer);
	vmcs_set_bits(vmx, VMCS_ENTRY_CTLS, VMX_ENTRY_CTL_IA32E_MODE_GUEST, lma);
	vmx->pdptes_stale = true;
}

/* The real CR4 for the guest's @cr4 (the decision table above). */
static void put_real_cr4(struct vmx_vcpu *vmx, uint64_t cr4)
{
	uint64_t real = (cr4 | vmx->cr4_fixed0) & vmx->cr4_fixed1;
	if (vmx->style == HV_MMU_SHADOW) {
		real |= VMX_CR4_PAE;
		if (!(vmcs_get(vmx, VMCS_CR0_READ_SHADOW) & VMX_CR0_PG))
			real &= ~(VMX_CR4_SMEP | VMX_CR4_SMAP);
	}
	vmcs_put(vmx, VMCS_GUEST_CR4, real);
}

void vmx_set_cr(struct hv_vcpu *vcpu, unsigned cr, uint64_t val)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	switch (cr) {
	case 0: {
		uint64_t real = (val | vmx->cr0_fixed0) & vmx->cr0_fixed1;
		if (vmx->style == HV_MMU_SHADOW)
			real |= VMX_CR0_PE | VMX_CR0_PG | VMX_CR0_WP;
		vmcs_put(vmx, VMCS_GUEST_CR0, real);
		vmcs_put(vmx, VMCS_CR0_READ_SHADOW, val);
		if (vmx->style == HV_MMU_SHADOW)
			put_real_cr4(vmx, vmx_get_cr(vcpu, 4));
		update_lma(vmx);
		break;
	}
	case 2:
		(void)hw_write_cr(vmx->cpu, 2, val);
		break;
	case 3:
		if (vmx->style == HV_MMU_SHADOW)
			vmx->guest_cr3 = val;
		else
			vmcs_put(vmx, VMCS_GUEST_CR3, val);
		vmx->pdptes_stale = true;
		break;
	case 4:
		vmcs_put(vmx, VMCS_CR4_READ_SHADOW, val);
		put_real_cr4(vmx, val);
		vmx->pdptes_stale = true;
		break;
	default:
		break;
	}
}

/*
 * PAE paging under EPT takes its PDPTEs from the VMCS at entry
 * (27.3.2.4) rather than from memory; the processor loads them itself on
 * the guest's own MOV CR, but a state core set (hv_set_sregs, an
 * emulated MOV CR) needs them read here, as the processor would on the
 * same MOV (SDM Vol. 3A 4.4.1).
 */
void vmx_load_pdptes(struct vmx_vcpu *vmx)
{
	struct hv_vcpu *vcpu = &vmx->vcpu;
	vmx->pdptes_stale = false;
	if (vmx->style != HV_MMU_TDP)
		return;
	const uint64_t cr0 = vmx_get_cr(vcpu, 0), cr4 = vmx_get_cr(vcpu, 4);
	if (!(cr0 & VMX_CR0_PG) || !(cr4 & VMX_CR4_PAE) ||
	    (vmcs_get(vmx, VMCS_GUEST_IA32_EFER) & EFER_LMA_BIT))
		return;
	uint64_t pdpte[4] = { 0, 0, 0, 0 };
	const void *p = vm_gpa_ptr(vcpu->vm, vmcs_get(vmx, VMCS_GUEST_CR3) & 0xffffffe0ull,
				   sizeof(pdpte));
	if (p)
		memcpy(pdpte, p, sizeof(pdpte));
	for (unsigned i = 0; i < 4; i++)
		vmcs_put(vmx, VMCS_GUEST_PDPTE0 + 2 * i, pdpte[i]);
}

uint64_t vmx_get_efer(struct hv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	uint64_t efer = vmcs_get(vmx, VMCS_GUEST_IA32_EFER);
	if (vmx->style == HV_MMU_SHADOW)
		efer = (efer & ~(EFER_LME_BIT | EFER_NXE)) | (vmx->guest_lme ? EFER_LME_BIT : 0) |
		       (vmx->guest_nxe ? EFER_NXE : 0);
	return efer;
}

void vmx_set_efer(struct hv_vcpu *vcpu, uint64_t efer)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	vmx->guest_lme = efer & EFER_LME_BIT;
	vmx->guest_nxe = efer & EFER_NXE;
	vmcs_put(vmx, VMCS_GUEST_IA32_EFER, efer);
	update_lma(vmx);
}

/* The VMX capability MSRs describe the host's VMX; the guest gets no
 * nested VMX, so they do not exist for it (CPUID.1:ECX.VMX is core's
 * policy to hide). */
static bool is_vmx_cap_msr(uint32_t msr)
{
	return msr >= MSR_IA32_VMX_BASIC && msr <= MSR_IA32_VMX_TRUE_ENTRY_CTLS;
}

int vmx_get_msr(struct hv_vcpu *vcpu, uint32_t msr, uint64_t *val)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	switch (msr) {
	case MSR_IA32_SYSENTER_CS:
		*val = vmcs_get(vmx, VMCS_GUEST_IA32_SYSENTER_CS);
		return 0;
	case MSR_IA32_SYSENTER_ESP:
		*val = vmcs_get(vmx, VMCS_GUEST_IA32_SYSENTER_ESP);
		return 0;
	case MSR_IA32_SYSENTER_EIP:
		*val = vmcs_get(vmx, VMCS_GUEST_IA32_SYSENTER_EIP);
		return 0;
	case MSR_IA32_FS_BASE:
		*val = vmcs_get(vmx, VMCS_GUEST_FS_BASE);
		return 0;
	case MSR_IA32_GS_BASE:
		*val = vmcs_get(vmx, VMCS_GUEST_GS_BASE);
		return 0;
	case MSR_IA32_EFER:
		*val = vmx_get_efer(vcpu);
		return 0;
	case MSR_IA32_PAT:
		if (vmx->ctls.entry & VMX_ENTRY_CTL_LOAD_PAT) {
			*val = vmcs_get(vmx, VMCS_GUEST_IA32_PAT);
			return 0;
		}
		break;
	case MSR_IA32_TSC: {
		/* The guest reads the processor's TSC plus its offset (25.6.5). */
		int r = hw_rdmsr(vmx->cpu, msr, val);
		*val += vmcs_get(vmx, VMCS_TSC_OFFSET);
		return r;
	}
	}
	if (is_vmx_cap_msr(msr))
		return -EINVAL;
	return hw_rdmsr(vmx->cpu, msr, val);
}

int vmx_set_msr(struct hv_vcpu *vcpu, uint32_t msr, uint64_t val)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	switch (msr) {
	case MSR_IA32_SYSENTER_CS:
		vmcs_put(vmx, VMCS_GUEST_IA32_SYSENTER_CS, val);
		return 0;
	case MSR_IA32_SYSENTER_ESP:
		vmcs_put(vmx, VMCS_GUEST_IA32_SYSENTER_ESP, val);
		return 0;
	case MSR_IA32_SYSENTER_EIP:
		vmcs_put(vmx, VMCS_GUEST_IA32_SYSENTER_EIP, val);
		return 0;
	case MSR_IA32_FS_BASE:
		vmcs_put(vmx, VMCS_GUEST_FS_BASE, val);
		return 0;
	case MSR_IA32_GS_BASE:
		vmcs_put(vmx, VMCS_GUEST_GS_BASE, val);
		return 0;
	case MSR_IA32_EFER:
		vmx_set_efer(vcpu, val);
		return 0;
	case MSR_IA32_PAT:
		if (vmx->ctls.entry & VMX_ENTRY_CTL_LOAD_PAT) {
			/* Validate as WRMSR would: the processor's PAT takes
			 * the value only if it is legal, and is put back. */
			uint64_t old = 0;
			(void)hw_rdmsr(vmx->cpu, msr, &old);
			if (hw_wrmsr(vmx->cpu, msr, val))
				return -EINVAL;
			(void)hw_wrmsr(vmx->cpu, msr, old);
			vmcs_put(vmx, VMCS_GUEST_IA32_PAT, val);
			return 0;
		}
		break;
	case MSR_IA32_TSC: {
		uint64_t host = 0;
		int r = hw_rdmsr(vmx->cpu, msr, &host);
		if (!r)
			vmcs_put(vmx, VMCS_TSC_OFFSET, val - host);
		return r;
	}
	}
	if (is_vmx_cap_msr(msr))
		return -EINVAL;
	return hw_wrmsr(vmx->cpu, msr, val);
}

uint64_t vmx_get_dr(struct hv_vcpu *vcpu, unsigned dr)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	if (dr < 4 || dr == 6)
		return hw_read_dr(vmx->cpu, dr);
	return dr == 7 ? vmcs_get(vmx, VMCS_GUEST_DR7) : 0;
}

/*
 * As MOV DR writes them: core has refused bits 63:32 of DR6/DR7 (#GP,
 * SDM Vol. 3B 18.2.4); the fixed bits are the processor's to apply —
 * DR6 reads 1 in 31:16 and 11:4, 0 in 12 (18.2.3), DR7 1 in bit 10 and
 * 0 in 12, 14, 15 (18.2.4) — so what the guest reads back is legal
 * whatever core wrote.
 */
void vmx_set_dr(struct hv_vcpu *vcpu, unsigned dr, uint64_t val)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	if (dr < 4)
		(void)hw_write_dr(vmx->cpu, dr, val);
	else if (dr == 6)
		(void)hw_write_dr(vmx->cpu, 6, (val & 0xe00full) | 0xffff0ff0ull);
	else if (dr == 7)
		vmcs_put(vmx, VMCS_GUEST_DR7, (val & 0xffff2bffull) | 0x400);
}

bool vmx_get_interrupt_shadow(struct hv_vcpu *vcpu)
{
	return vmcs_get(to_vmx(vcpu), VMCS_GUEST_INTERRUPTIBILITY) &
	       (VMX_INTERRUPTIBILITY_STI | VMX_INTERRUPTIBILITY_MOV_SS);
}

/*
 * Blocking by STI must be 0 when RFLAGS.IF = 0 (27.3.1.5): the emulator
 * sets the shadow after an STI that set IF, and after MOV SS/POP SS,
 * which block the same events for one instruction; record the latter as
 * MOV-SS blocking.
 */
void vmx_set_interrupt_shadow(struct hv_vcpu *vcpu, bool on)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	uint64_t v = vmcs_get(vmx, VMCS_GUEST_INTERRUPTIBILITY) &
		     ~(uint64_t)(VMX_INTERRUPTIBILITY_STI | VMX_INTERRUPTIBILITY_MOV_SS);
	if (on)
		v |= (vmx_get_rflags(vcpu) & VMX_RFLAGS_IF) ? VMX_INTERRUPTIBILITY_STI
							    : VMX_INTERRUPTIBILITY_MOV_SS;
	vmcs_put(vmx, VMCS_GUEST_INTERRUPTIBILITY, v);
}
