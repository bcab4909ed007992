/*
 * vmx_vmcs.c — turning a processor on for VMX and building a vcpu's VMCS
 * (SDM Vol. 3C chapters 24-25; Vol. 3D Appendix A for the capability
 * MSRs, Appendix B for the field encodings).
 *
 * Enabling (24.7, 24.8): CR4.VMXE, IA32_FEATURE_CONTROL locked with
 * "VMXON outside SMX" (bits 0 and 2, value 5), a VMXON region and a VMCS
 * region stamped with the IA32_VMX_BASIC revision, VMXON, VMCLEAR,
 * VMPTRLD. Each vcpu has its own processor, so each does this once.
 *
 * Controls (A.2's algorithm): what we want, OR the allowed-0 settings
 * (bits that must be 1), AND the allowed-1 settings, read from the
 * IA32_VMX_TRUE_* MSRs (IA32_VMX_BASIC[55] = 1 on every processor that
 * offers unrestricted guest). A control we cannot run without (EPT,
 * unrestricted guest and VPID for HV_MMU_TDP; load/save IA32_EFER) makes
 * vcpu_create fail with a message; "load/save IA32_PAT" are used when
 * offered, else the guest's PAT is the processor's one IA32_PAT.
 *
 * The VMCS for each MMU style (docs/backend-vmx.md has the table):
 *
 *                      HV_MMU_TDP                 HV_MMU_SHADOW
 *   pin                ext-intr, NMI exiting, virtual NMIs (both)
 *   primary            HLT, MWAIT, MONITOR, unconditional I/O,
 *                      MSR bitmaps, TSC offsetting, secondary (both)
 *                      —                          + CR3 load/store,
 *                                                   INVLPG exiting
 *   secondary          EPT, VPID, unrestricted    VPID, RDTSCP, INVPCID
 *                      guest, RDTSCP, INVPCID     (INVPCID exits through
 *                                                   INVLPG exiting, 26.1.3)
 *   exception bitmap   none                       #PF (mask = match = 0)
 *   CR0 mask           NE (fixed; PE/PG free      PE, NE, PG (fixed) + WP
 *                      under unrestricted guest)
 *   CR4 mask           VMXE (fixed)               VMXE + PAE PSE PGE SMEP
 *                                                   SMAP PCIDE
 *   exit               host address-space size, acknowledge interrupt on
 *                      exit, save/load EFER, save/load PAT, save debug
 *   entry              load EFER, load PAT, load debug; IA-32e mode guest
 *                      follows EFER.LMA
 *
 * Why each intercept: ext-intr and NMI exiting keep the host's interrupts
 * (the deadline timer, HW_DEADLINE_VECTOR) the host's; HLT lets core
 * idle the vcpu in virtual time; all port I/O goes to devices (core/,
 * vmm/); MONITOR/MWAIT core emulates (NOP/HLT); VMCALL and every other
 * VMX instruction, CPUID, INVD, INIT, task switches, XSETBV and triple
 * fault exit unconditionally on VMX (26.1.2). Not intercepted: WBINVD,
 * RDPMC, RDTSC(P) (the TSC offset applies), PAUSE, INVPCID under TDP,
 * and MOV DR: the guest's DR0-3/DR6 simply stay in the processor, which
 * runs nothing else (vmx_regs.c), and DR7 is switched through the VMCS
 * by the debug-controls entry/exit controls (25.4.1, 27.3.1.1, 28.3.1),
 * so the guest's breakpoints arm the processor while it runs, as under
 * KVM once the guest's debug registers are loaded.
 *
 * MSR bitmap (25.6.9): every MSR exits except the ones the guest owns
 * outright — FS_BASE and GS_BASE (saved in the VMCS segment bases at
 * exit), SYSENTER_CS/ESP/EIP (VMCS guest fields), and STAR, LSTAR,
 * CSTAR, SFMASK, KERNEL_GS_BASE, TSC_AUX, which VMX never switches and
 * the host never uses, so they simply stay the guest's on the processor.
 * EFER and PAT exit so core sees paging-mode changes and checks values.
 */
#include <errno.h>
#include <string.h>

#include "backends/vmx/vmx.h"
#include "hw/msr.h"

static uint64_t rdmsr0(struct vmx_vcpu *vmx, uint32_t msr)
{
	uint64_t v = 0;
	(void)hw_rdmsr(vmx->cpu, msr, &v);
	return v;
}

/* A.2: @want adjusted to what the capability MSR allows. */
static uint32_t adjust_ctls(struct vmx_vcpu *vmx, uint32_t msr, uint32_t want)
{
	const uint64_t cap = rdmsr0(vmx, msr);
	return (want | VMX_CTLS_ALLOWED0(cap)) & VMX_CTLS_ALLOWED1(cap);
}

int vmx_hw_enable(struct vmx_vcpu *vmx)
{
	struct hw_cpu *cpu = vmx->cpu;
	struct hv_vm *vm = vmx->vcpu.vm;

	/* 24.7: VMXON needs CR4.VMXE and IA32_FEATURE_CONTROL locked with
	 * VMX enabled outside SMX; a BIOS that locked it off wins. */
	if (hw_write_cr(cpu, 4, hw_read_cr(cpu, 4) | VMX_CR4_VMXE))
		return vm_err(-EOPNOTSUPP, "vmx: the processor refuses CR4.VMXE (no VT-x)");
	uint64_t fc = rdmsr0(vmx, MSR_IA32_FEATURE_CONTROL);
	if (!(fc & FEATURE_CONTROL_LOCK)) {
		fc |= FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMXON_OUTSIDE_SMX;
		if (hw_wrmsr(cpu, MSR_IA32_FEATURE_CONTROL, fc))
			return vm_err(-EOPNOTSUPP, "vmx: cannot write IA32_FEATURE_CONTROL");
	}
	if (!(fc & FEATURE_CONTROL_VMXON_OUTSIDE_SMX))
		return vm_err(-EOPNOTSUPP, "vmx: IA32_FEATURE_CONTROL is locked with VMX disabled");

	const uint64_t basic = rdmsr0(vmx, MSR_IA32_VMX_BASIC);
	if (!(basic & VMX_BASIC_TRUE_CTLS))
		return vm_err(-EOPNOTSUPP, "vmx: no IA32_VMX_TRUE_* control MSRs");
	if (VMX_BASIC_VMCS_SIZE(basic) > HV_PAGE_SIZE)
		return vm_err(-EOPNOTSUPP, "vmx: VMCS region larger than a page");
	vmx->vmxon_region = vm_alloc_page(vm);
	vmx->vmcs = vm_alloc_page(vm);
	vmx->msr_bitmap = vm_alloc_page(vm);
	if (vmx->vmxon_region == INVALID_HPA || vmx->vmcs == INVALID_HPA ||
	    vmx->msr_bitmap == INVALID_HPA)
		return vm_err(-ENOMEM, "vmx: out of host-physical memory for the VMCS");
	/* 25.2: bits 30:0 of the first word are the revision identifier,
	 * bit 31 (shadow VMCS) stays 0. */
	const uint32_t rev = (uint32_t)(basic & VMX_BASIC_REVISION_MASK);
	memcpy(vm_hpa_ptr(vm, vmx->vmxon_region), &rev, sizeof(rev));
	memcpy(vm_hpa_ptr(vm, vmx->vmcs), &rev, sizeof(rev));

	enum vmx_status st = vmxon(cpu, vmx->vmxon_region);
	if (st != VMX_SUCCEED)
		return vm_err(-EIO, "vmx: VMXON failed (status %d)", (int)st);
	if (vmclear(cpu, vmx->vmcs) != VMX_SUCCEED || vmptrld(cpu, vmx->vmcs) != VMX_SUCCEED) {
		(void)vmxoff(cpu);
		return vm_err(-EIO, "vmx: VMCLEAR/VMPTRLD of a fresh VMCS failed");
	}
	return 0;
}

/* The controls for the vcpu's MMU style; -EOPNOTSUPP when the processor
 * lacks one we need. */
static int pick_controls(struct vmx_vcpu *vmx)
{
	const bool tdp = vmx->style == HV_MMU_TDP;
	struct vmx_ctls *c = &vmx->ctls;

	c->pin = adjust_ctls(vmx, MSR_IA32_VMX_TRUE_PINBASED_CTLS,
			     VMX_PIN_EXT_INTR_EXITING | VMX_PIN_NMI_EXITING | VMX_PIN_VIRTUAL_NMIS);
	uint32_t proc = VMX_PROC_HLT_EXITING | VMX_PROC_MWAIT_EXITING | VMX_PROC_MONITOR_EXITING |
			VMX_PROC_UNCOND_IO_EXITING |
			VMX_PROC_MSR_BITMAPS | VMX_PROC_TSC_OFFSETTING | VMX_PROC_SECONDARY_CTLS;
	if (!tdp)
		proc |= VMX_PROC_CR3_LOAD_EXITING | VMX_PROC_CR3_STORE_EXITING |
			VMX_PROC_INVLPG_EXITING;
	c->proc = adjust_ctls(vmx, MSR_IA32_VMX_TRUE_PROCBASED_CTLS, proc);
	uint32_t proc2 = VMX_PROC2_VPID | VMX_PROC2_RDTSCP | VMX_PROC2_INVPCID;
	if (tdp)
		proc2 |= VMX_PROC2_EPT | VMX_PROC2_UNRESTRICTED_GUEST;
	c->proc2 = adjust_ctls(vmx, MSR_IA32_VMX_PROCBASED_CTLS2, proc2);
	c->exit = adjust_ctls(vmx, MSR_IA32_VMX_TRUE_EXIT_CTLS,
			      VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE | VMX_EXIT_CTL_ACK_INTR_ON_EXIT |
			      VMX_EXIT_CTL_SAVE_EFER | VMX_EXIT_CTL_LOAD_EFER |
			      VMX_EXIT_CTL_SAVE_PAT | VMX_EXIT_CTL_LOAD_PAT |
			      VMX_EXIT_CTL_SAVE_DEBUG_CTLS);
	c->entry = adjust_ctls(vmx, MSR_IA32_VMX_TRUE_ENTRY_CTLS,
			       VMX_ENTRY_CTL_LOAD_EFER | VMX_ENTRY_CTL_LOAD_PAT |
			       VMX_ENTRY_CTL_LOAD_DEBUG_CTLS);

	const char *missing = NULL;
	if (!(c->pin & VMX_PIN_EXT_INTR_EXITING) || !(c->pin & VMX_PIN_NMI_EXITING))
		missing = "external-interrupt/NMI exiting";
	else if (!(c->pin & VMX_PIN_VIRTUAL_NMIS))
		missing = "virtual NMIs (needed for NMI-window exiting)";
	else if (!(c->proc & VMX_PROC_SECONDARY_CTLS) || !(c->proc2 & VMX_PROC2_VPID))
		missing = "VPID";
	else if (!(c->proc & VMX_PROC_MSR_BITMAPS) || !(c->proc & VMX_PROC_UNCOND_IO_EXITING))
		missing = "MSR bitmaps / unconditional I/O exiting";
	else if (tdp && (!(c->proc2 & VMX_PROC2_EPT) || !(c->proc2 & VMX_PROC2_UNRESTRICTED_GUEST)))
		missing = "EPT with unrestricted guest";
	else if (!tdp && (c->proc & VMX_PROC_CR3_LOAD_EXITING) == 0)
		missing = "CR3-load exiting";
	else if (!(c->exit & VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE) ||
		 !(c->exit & VMX_EXIT_CTL_ACK_INTR_ON_EXIT))
		missing = "64-bit host / acknowledge interrupt on exit";
	else if (!(c->exit & VMX_EXIT_CTL_SAVE_EFER) || !(c->exit & VMX_EXIT_CTL_LOAD_EFER) ||
		 !(c->entry & VMX_ENTRY_CTL_LOAD_EFER))
		missing = "save/load IA32_EFER";
	else if (!(c->exit & VMX_EXIT_CTL_SAVE_DEBUG_CTLS) ||
		 !(c->entry & VMX_ENTRY_CTL_LOAD_DEBUG_CTLS))
		missing = "save/load debug controls (the guest's DR7)";
	if (missing)
		return vm_err(-EOPNOTSUPP, "vmx: the processor lacks %s", missing);
	return 0;
}

/* CR0/CR4 fixed bits and the guest/host masks (25.6.6, A.7, A.8). */
static void pick_cr_masks(struct vmx_vcpu *vmx)
{
	vmx->cr0_fixed0 = rdmsr0(vmx, MSR_IA32_VMX_CR0_FIXED0);
	vmx->cr0_fixed1 = rdmsr0(vmx, MSR_IA32_VMX_CR0_FIXED1);
	vmx->cr4_fixed0 = rdmsr0(vmx, MSR_IA32_VMX_CR4_FIXED0);
	vmx->cr4_fixed1 = rdmsr0(vmx, MSR_IA32_VMX_CR4_FIXED1);
	/* 27.3.1.1: unrestricted guest exempts PE and PG from FIXED0. */
	if (vmx->ctls.proc2 & VMX_PROC2_UNRESTRICTED_GUEST)
		vmx->cr0_fixed0 &= ~(VMX_CR0_PE | VMX_CR0_PG);
	/* A bit the guest may not choose freely is host-owned: set in
	 * FIXED0 or clear in FIXED1 (bits 63:32 of CR0 are reserved and
	 * MOV CR0 itself refuses them). */
	vmx->cr0_mask = vmx->cr0_fixed0 | (~vmx->cr0_fixed1 & 0xffffffffull);
	vmx->cr4_mask = vmx->cr4_fixed0;
	if (vmx->style == HV_MMU_SHADOW) {
		vmx->cr0_mask |= VMX_CR0_PG | VMX_CR0_WP;
		vmx->cr4_mask |= VMX_CR4_PAE | VMX_CR4_PSE | VMX_CR4_PGE | VMX_CR4_SMEP |
				 VMX_CR4_SMAP | VMX_CR4_PCIDE;
	}
}

/* Clear the read and write bits of @msr: the guest owns it (25.6.9). */
static void msr_passthrough(uint8_t *bitmap, uint32_t msr)
{
	const unsigned base = msr >= 0xc0000000u ? 1024 : 0;
	const unsigned bit = msr & 0x1fff;
	bitmap[base + bit / 8] &= (uint8_t)~(1u << (bit % 8));
	bitmap[2048 + base + bit / 8] &= (uint8_t)~(1u << (bit % 8));
}

static void setup_msr_bitmap(struct vmx_vcpu *vmx)
{
	static const uint32_t guest_owned[] = {
		MSR_IA32_FS_BASE, MSR_IA32_GS_BASE, MSR_IA32_KERNEL_GS_BASE,
		MSR_IA32_STAR, MSR_IA32_LSTAR, MSR_IA32_CSTAR, MSR_IA32_FMASK,
		MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
		MSR_IA32_TSC_AUX,
	};
	uint8_t *bm = vm_hpa_ptr(vmx->vcpu.vm, vmx->msr_bitmap);
	memset(bm, 0xff, HV_PAGE_SIZE);
	for (unsigned i = 0; i < sizeof(guest_owned) / sizeof(guest_owned[0]); i++)
		msr_passthrough(bm, guest_owned[i]);
	vmcs_put(vmx, VMCS_MSR_BITMAP, vmx->msr_bitmap);
}

/*
 * Host state (25.5, checks 27.2.3): the model's root mode is 64-bit CPL 0
 * with the processor's own CR0/CR3/CR4 and EFER. The selectors are what a
 * flat 64-bit host GDT would have (nonzero CS and TR, RPL/TI 0); no host
 * code runs at HOST_RIP, it only has to be canonical.
 */
static void setup_host_state(struct vmx_vcpu *vmx)
{
	struct hw_cpu *cpu = vmx->cpu;
	vmcs_put(vmx, VMCS_HOST_CR0, hw_read_cr(cpu, 0));
	vmcs_put(vmx, VMCS_HOST_CR3, hw_read_cr(cpu, 3));
	vmcs_put(vmx, VMCS_HOST_CR4, hw_read_cr(cpu, 4));
	vmcs_put(vmx, VMCS_HOST_CS_SELECTOR, 0x10);
	vmcs_put(vmx, VMCS_HOST_SS_SELECTOR, 0x18);
	vmcs_put(vmx, VMCS_HOST_DS_SELECTOR, 0x18);
	vmcs_put(vmx, VMCS_HOST_ES_SELECTOR, 0x18);
	vmcs_put(vmx, VMCS_HOST_FS_SELECTOR, 0);
	vmcs_put(vmx, VMCS_HOST_GS_SELECTOR, 0);
	vmcs_put(vmx, VMCS_HOST_TR_SELECTOR, 0x40);
	vmcs_put(vmx, VMCS_HOST_RIP, 0x1000);
	vmcs_put(vmx, VMCS_HOST_RSP, 0x2000);
	vmcs_put(vmx, VMCS_HOST_IA32_EFER, rdmsr0(vmx, MSR_IA32_EFER));
	if (vmx->ctls.exit & VMX_EXIT_CTL_LOAD_PAT)
		vmcs_put(vmx, VMCS_HOST_IA32_PAT, rdmsr0(vmx, MSR_IA32_PAT));
	vmcs_put(vmx, VMCS_HOST_IA32_SYSENTER_CS, 0);
	vmcs_put(vmx, VMCS_HOST_IA32_SYSENTER_ESP, 0);
	vmcs_put(vmx, VMCS_HOST_IA32_SYSENTER_EIP, 0);
}

int vmx_vmcs_setup(struct vmx_vcpu *vmx)
{
	int r = pick_controls(vmx);
	if (r)
		return r;
	pick_cr_masks(vmx);
	const struct vmx_ctls *c = &vmx->ctls;
	vmcs_put(vmx, VMCS_PIN_BASED_CTLS, c->pin);
	vmcs_put(vmx, VMCS_PROC_BASED_CTLS, c->proc);
	vmcs_put(vmx, VMCS_PROC_BASED_CTLS2, c->proc2);
	vmcs_put(vmx, VMCS_EXIT_CTLS, c->exit);
	vmcs_put(vmx, VMCS_ENTRY_CTLS, c->entry);
	/* 25.6.12: VPID 0 is the host's; ours is the vcpu id + 1. */
	vmx->vpid = (uint16_t)(vmx->vcpu.id + 1);
	vmcs_put(vmx, VMCS_VPID, vmx->vpid);
	/* #PF with mask = match = 0 exits for every error code (26.2). */
	vmx->exc_base = vmx->style == HV_MMU_SHADOW ? 1u << 14 : 0;
	vmcs_put(vmx, VMCS_EXCEPTION_BITMAP, vmx->exc_base);
	vmcs_put(vmx, VMCS_PF_ERROR_CODE_MASK, 0);
	vmcs_put(vmx, VMCS_PF_ERROR_CODE_MATCH, 0);
	vmcs_put(vmx, VMCS_CR3_TARGET_COUNT, 0);
	vmcs_put(vmx, VMCS_CR0_GUEST_HOST_MASK, vmx->cr0_mask);
	vmcs_put(vmx, VMCS_CR4_GUEST_HOST_MASK, vmx->cr4_mask);
	vmcs_put(vmx, VMCS_TSC_OFFSET, 0);
	vmcs_put(vmx, VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmcs_put(vmx, VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_put(vmx, VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_put(vmx, VMCS_ENTRY_INTR_INFO, 0);
	vmcs_put(vmx, VMCS_LINK_POINTER, ~0ull);	/* no shadow VMCS (27.3.1.5) */
	setup_msr_bitmap(vmx);
	setup_host_state(vmx);
	return 0;
}

/* Guest segment fields in hv_seg order: Appendix B lists ES CS SS DS FS
 * GS LDTR TR with a stride of 2 in each group. */
static void put_seg(struct vmx_vcpu *vmx, enum hv_seg seg, uint16_t sel, uint64_t base,
		    uint32_t limit, uint32_t ar)
{
	vmcs_put(vmx, VMCS_GUEST_ES_SELECTOR + 2 * seg, sel);
	vmcs_put(vmx, VMCS_GUEST_ES_BASE + 2 * seg, base);
	vmcs_put(vmx, VMCS_GUEST_ES_LIMIT + 2 * seg, limit);
	vmcs_put(vmx, VMCS_GUEST_ES_ACCESS_RIGHTS + 2 * seg, ar);
}

/*
 * The state after RESET (SDM Vol. 3A 9.1.1, Table 9-1), in the VMX
 * access-rights layout (25.4.1 Table 25-2). CS is a present, accessed
 * execute/read segment (type 0xb), the data segments accessed read/write
 * (type 3). The table says only "present, R/W" for LDTR and TR; VMX
 * entry requires an LDT type (2) and, outside IA-32e mode, a busy TSS
 * (3 or 11, 27.3.1.2): 0x82 and 0x8b, the values KVM uses too.
 */
void vmx_vmcs_reset_state(struct vmx_vcpu *vmx)
{
	struct hv_vcpu *vcpu = &vmx->vcpu;
	uint32_t sig[4];

	put_seg(vmx, HV_SEG_CS, 0xf000, 0xffff0000, 0xffff, 0x9b);
	put_seg(vmx, HV_SEG_DS, 0, 0, 0xffff, 0x93);
	put_seg(vmx, HV_SEG_ES, 0, 0, 0xffff, 0x93);
	put_seg(vmx, HV_SEG_SS, 0, 0, 0xffff, 0x93);
	put_seg(vmx, HV_SEG_FS, 0, 0, 0xffff, 0x93);
	put_seg(vmx, HV_SEG_GS, 0, 0, 0xffff, 0x93);
	put_seg(vmx, HV_SEG_LDTR, 0, 0, 0xffff, 0x82);
	put_seg(vmx, HV_SEG_TR, 0, 0, 0xffff, 0x8b);
	vmcs_put(vmx, VMCS_GUEST_GDTR_BASE, 0);
	vmcs_put(vmx, VMCS_GUEST_GDTR_LIMIT, 0xffff);
	vmcs_put(vmx, VMCS_GUEST_IDTR_BASE, 0);
	vmcs_put(vmx, VMCS_GUEST_IDTR_LIMIT, 0xffff);
	vmcs_put(vmx, VMCS_GUEST_RIP, 0xfff0);
	vmcs_put(vmx, VMCS_GUEST_RFLAGS, 2);
	vmcs_put(vmx, VMCS_GUEST_RSP, 0);
	vmcs_put(vmx, VMCS_GUEST_DR7, 0x400);
	vmcs_put(vmx, VMCS_GUEST_IA32_DEBUGCTL, 0);
	vmcs_put(vmx, VMCS_GUEST_IA32_SYSENTER_CS, 0);
	vmcs_put(vmx, VMCS_GUEST_IA32_SYSENTER_ESP, 0);
	vmcs_put(vmx, VMCS_GUEST_IA32_SYSENTER_EIP, 0);
	vmcs_put(vmx, VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmcs_put(vmx, VMCS_GUEST_ACTIVITY_STATE, VMX_ACTIVITY_ACTIVE);
	vmcs_put(vmx, VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	for (unsigned i = 0; i < 4; i++)
		vmx_set_dr(vcpu, i, 0);
	vmx_set_dr(vcpu, 6, 0xffff0ff0);
	vmx_set_msr(vcpu, MSR_IA32_PAT, 0x0007040600070406ull);
	/* EFER first: set_cr(0) derives LMA from it. */
	vmcs_put(vmx, VMCS_GUEST_IA32_EFER, 0);
	vmx_set_cr(vcpu, 0, 0x60000010);
	vmx_set_cr(vcpu, 2, 0);
	vmx_set_cr(vcpu, 3, 0);
	vmx_set_cr(vcpu, 4, 0);
	vmx_set_efer(vcpu, 0);

	memset(vcpu->gpr, 0, sizeof(vcpu->gpr));
	/* EDX: family, model and stepping, CPUID.1:EAX (Table 9-1). */
	hw_cpuid(vmx->cpu, 1, 0, sig);
	vcpu->gpr[2] = sig[0];
}
