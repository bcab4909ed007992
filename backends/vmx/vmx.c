/*
 * vmx.c — the Intel VT-x backend (ARCHITECTURE §6, backends/backend.h):
 * VM and vcpu life, entering the guest, the TLB, and the ops table.
 *
 * The VMCS set-up is in vmx_vmcs.c, exit decoding in vmx_exit.c,
 * registers in vmx_regs.c, events in vmx_event.c; docs/backend-vmx.md
 * gives the overview. SDM Vol. 3C chapters 24-28 (VMX operation, VMCS,
 * non-root operation, VM entries, VM exits) and 29.4 (VPID, EPT and the
 * TLB).
 *
 * TLB tagging (SDM Vol. 3C 29.4): every vcpu runs with VPID vcpu->id + 1
 * (never 0, the host's), so its guest-linear and combined mappings
 * survive VM exits and entries; with EPT they are also tagged by the EPT
 * root (EP4TA). HV_FLUSH_GUEST is INVVPID single-context of that VPID;
 * HV_FLUSH_TDP adds INVEPT single-context of the current EPTP, which
 * drops the guest-physical and combined mappings made through it. Both
 * are root-mode instructions and take effect at once, before the next
 * entry.
 *
 * EPTP (25.6.11): memory type WB (6) in bits 2:0, page-walk length 4
 * (3 in bits 5:3), accessed/dirty flags off (bit 6 = 0): mmu/tdp builds
 * tables without A/D bits (vmx_tdp_format).
 */
#include <errno.h>
#include <stdlib.h>

#include "backends/vmx/vmx.h"
#include "mmu/mmu.h"
#include "mmu/tdp/tdp.h"

#define EPTP_WB 6ull
#define EPTP_WALK_4 (3ull << 3)

/* ---------------------------------------------------------------- VM */

static int vmx_vm_init(struct hv_vm *vm)
{
	return backend_machine_create(vm, HW_VENDOR_INTEL);
}

static void vmx_vm_destroy(struct hv_vm *vm)
{
	backend_machine_destroy(vm);
}

/* EPT entries (SDM Vol. 3C 29.3.2, Tables 29-1..29-6): R/W/X in bits
 * 2:0 (any set: present), memory type in bits 5:3 of a leaf, PS bit 7,
 * the address in 51:12; A/D (bits 8/9) only with EPTP bit 6, which we
 * leave off. */
static const struct tdp_format vmx_tdp_format_ept = {
	.name = "ept",
	.present_mask = 7,
	.r = 1,
	.w = 2,
	.x = 4,
	.nx = 0,
	.user = 0,
	.leaf_extra = EPTP_WB << 3,
	.large = 1ull << 7,
	.addr_mask = 0x000ffffffffff000ull,
	.accessed = 0,
	.dirty = 0,
};

static const struct tdp_format *vmx_tdp_format(struct hv_vm *vm)
{
	return &vmx_tdp_format_ept;
}

/* ---------------------------------------------------------------- vcpu */

static void vmx_vcpu_free(struct hv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	struct hv_vm *vm = vcpu->vm;

	if (vmx->cpu) {
		/* 24.11: VMCLEAR before the region is reused; VMXOFF leaves
		 * VMX operation. */
		if (vmx->vmcs != INVALID_HPA && vmx->vmcs)
			(void)vmclear(vmx->cpu, vmx->vmcs);
		(void)vmxoff(vmx->cpu);
		hw_cpu_destroy(vmx->cpu);
		vmx->cpu = NULL;
	}
	const hpa_t pages[] = { vmx->vmxon_region, vmx->vmcs, vmx->msr_bitmap };
	for (unsigned i = 0; i < 3; i++)
		if (pages[i] && pages[i] != INVALID_HPA)
			vm_free_page(vm, pages[i]);
	vmx->vmxon_region = vmx->vmcs = vmx->msr_bitmap = 0;
}

static int vmx_vcpu_create(struct hv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	struct hv_vm *vm = vcpu->vm;

	vmx->style = vm->mmu->style;
	int r = hw_cpu_create(to_backend_vm(vm)->m, vcpu->id, &vmx->cpu);
	if (r) {
		vmx->cpu = NULL;
		return vm_err(r, "vmx: cannot create processor %u", vcpu->id);
	}
	r = vmx_hw_enable(vmx);
	if (!r)
		r = vmx_vmcs_setup(vmx);
	if (r) {
		vmx_vcpu_free(vcpu);
		return r;
	}
	vmx_vmcs_reset_state(vmx);
	return 0;
}

/* ---------------------------------------------------------------- running */

static int vmx_run(struct hv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	uint64_t *gprs = hw_cpu_gprs(vmx->cpu);

	if (vmx->pdptes_stale)
		vmx_load_pdptes(vmx);
	vmx_sync_pending_dbg(vmx);
	/* One register file (hw.h): the VMCS switches only RSP. */
	for (unsigned i = 0; i < 16; i++)
		gprs[i] = vcpu->gpr[i];
	vmcs_put(vmx, VMCS_GUEST_RSP, vcpu->gpr[4]);

	const enum vmx_status st = vmx->launched ? vmresume(vmx->cpu) : vmlaunch(vmx->cpu);
	vmx->unsupported = st == VMX_MODEL_UNSUPPORTED;

	for (unsigned i = 0; i < 16; i++)
		vcpu->gpr[i] = gprs[i];
	vcpu->gpr[4] = vmcs_get(vmx, VMCS_GUEST_RSP);

	switch (st) {
	case VMX_SUCCEED:
		/* A failed entry on guest state (reason with bit 31) leaves
		 * the VMCS clear: the next entry is VMLAUNCH again (27.8). */
		if (!(vmcs_get(vmx, VMCS_EXIT_REASON) & VMX_EXIT_REASON_ENTRY_FAILURE))
			vmx->launched = true;
		return 0;
	case VMX_MODEL_UNSUPPORTED:
		vmx->launched = true;
		return 0;
	case VMX_FAIL_VALID:
		return vm_err(-EIO, "vmx: %s failed with VM-instruction error %u",
			      vmx->launched ? "VMRESUME" : "VMLAUNCH",
			      (unsigned)vmcs_get(vmx, VMCS_VM_INSTRUCTION_ERROR));
	default:
		return vm_err(-EIO, "vmx: %s failed (%s)", vmx->launched ? "VMRESUME" : "VMLAUNCH",
			      st == VMX_FAIL_INVALID ? "no current VMCS" :
			      st == VMX_FAULT_UD ? "#UD" : "#GP");
	}
}

/* Past the exiting instruction; outside 64-bit mode RIP wraps at 4 GiB
 * (EIP), and the STI/MOV SS shadow ends with the instruction. */
static void vmx_skip_instruction(struct hv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	uint64_t rip = vmcs_get(vmx, VMCS_GUEST_RIP) + vmcs_get(vmx, VMCS_EXIT_INSTRUCTION_LEN);
	const bool cs_l = (vmcs_get(vmx, VMCS_GUEST_CS_ACCESS_RIGHTS) >> 13) & 1;
	if (!(cs_l && (vmcs_get(vmx, VMCS_ENTRY_CTLS) & VMX_ENTRY_CTL_IA32E_MODE_GUEST)))
		rip = (uint32_t)rip;
	vmcs_put(vmx, VMCS_GUEST_RIP, rip);
	vmx_set_interrupt_shadow(vcpu, false);
}

static void vmx_set_deadline(struct hv_vcpu *vcpu, uint64_t insns)
{
	hw_cpu_set_deadline(to_vmx(vcpu)->cpu, insns);
}

/* ---------------------------------------------------------------- MMU */

static void vmx_set_tdp_root(struct hv_vcpu *vcpu, hpa_t root)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	vmx->eptp = root | EPTP_WB | EPTP_WALK_4;
	vmcs_put(vmx, VMCS_EPT_POINTER, vmx->eptp);
}

static void vmx_set_shadow_root(struct hv_vcpu *vcpu, hpa_t root)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	if (vmx->style == HV_MMU_SHADOW)
		vmcs_put(vmx, VMCS_GUEST_CR3, root);
}

static void vmx_flush_tlb(struct hv_vcpu *vcpu, enum hv_flush what)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	if (what == HV_FLUSH_TDP && vmx->eptp) {
		const struct invept_desc d = { .eptp = vmx->eptp };
		(void)invept(vmx->cpu, VMX_INVEPT_SINGLE_CONTEXT, &d);
	}
	const struct invvpid_desc d = { .vpid = vmx->vpid };
	(void)invvpid(vmx->cpu, VMX_INVVPID_SINGLE_CONTEXT, &d);
}

/* ---------------------------------------------------------------- misc */

static void vmx_host_cpuid(struct hv_vcpu *vcpu, uint32_t leaf, uint32_t subleaf,
			   uint32_t out[4])
{
	hw_cpuid(to_vmx(vcpu)->cpu, leaf, subleaf, out);
}

static void vmx_adjust_tsc(struct hv_vcpu *vcpu, uint64_t delta)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	vmcs_put(vmx, VMCS_TSC_OFFSET, vmcs_get(vmx, VMCS_TSC_OFFSET) + delta);
}

static void vmx_kick(struct hv_vcpu *vcpu)
{
	hw_cpu_kick(to_vmx(vcpu)->cpu);
}

static void vmx_reset_regs(struct hv_vcpu *vcpu)
{
	vmx_vmcs_reset_state(to_vmx(vcpu));
}

static void vmx_read_counters(struct hv_vcpu *vcpu, struct hv_hw_counters *c)
{
	backend_read_counters(to_vmx(vcpu)->cpu, c);
}

const struct hv_backend_ops vmx_backend_ops = {
	.name = "vmx",
	.vm_size = sizeof(struct vmx_vm),
	.vcpu_size = sizeof(struct vmx_vcpu),

	.vm_init = vmx_vm_init,
	.vm_destroy = vmx_vm_destroy,
	.hpa_written = backend_hpa_written,
	.tdp_format = vmx_tdp_format,

	.vcpu_create = vmx_vcpu_create,
	.vcpu_free = vmx_vcpu_free,
	.reset_regs = vmx_reset_regs,
	.kick = vmx_kick,

	.run = vmx_run,
	.decode_exit = vmx_decode_exit,
	.skip_instruction = vmx_skip_instruction,
	.set_deadline = vmx_set_deadline,
	.state_runnable = vmx_state_runnable,

	.get_rip = vmx_get_rip,
	.set_rip = vmx_set_rip,
	.get_rflags = vmx_get_rflags,
	.set_rflags = vmx_set_rflags,
	.get_segment = vmx_get_segment,
	.set_segment = vmx_set_segment,
	.get_dtable = vmx_get_dtable,
	.set_dtable = vmx_set_dtable,
	.get_cr = vmx_get_cr,
	.set_cr = vmx_set_cr,
	.get_efer = vmx_get_efer,
	.set_efer = vmx_set_efer,
	.get_msr = vmx_get_msr,
	.set_msr = vmx_set_msr,
	.get_dr = vmx_get_dr,
	.set_dr = vmx_set_dr,
	.get_interrupt_shadow = vmx_get_interrupt_shadow,
	.set_interrupt_shadow = vmx_set_interrupt_shadow,

	.inject_event = vmx_inject_event,
	.interrupt_allowed = vmx_interrupt_allowed,
	.nmi_allowed = vmx_nmi_allowed,
	.set_irq_window = vmx_set_irq_window,
	.set_nmi_window = vmx_set_nmi_window,
	.set_exception_intercepts = vmx_set_exception_intercepts,

	.set_tdp_root = vmx_set_tdp_root,
	.set_shadow_root = vmx_set_shadow_root,
	.flush_tlb = vmx_flush_tlb,

	.host_cpuid = vmx_host_cpuid,
	.adjust_tsc = vmx_adjust_tsc,
	.read_counters = vmx_read_counters,
	.exit_name = vmx_exit_name,
};
