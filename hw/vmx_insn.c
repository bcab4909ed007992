/*
 * vmx_insn.c — the instructions that enter and leave VMX operation and
 * manage VMCSs: VMXON, VMXOFF, VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE
 * (SDM Vol. 3C 31.3). Each function follows its instruction's
 * "Operation" pseudocode in order; the outcome conventions are 31.2's
 * (enum vmx_status in hw/vmx.h). VMLAUNCH/VMRESUME and INVEPT/INVVPID
 * live with VM entry and the TLB.
 *
 * The host calls these in VMX root operation; the model executes no
 * host code, so the checks read the root-mode register state the host
 * would have (cpu->host: 64-bit mode at CPL 0 from reset, CR0/CR4 as
 * hw_write_cr or a VM exit leave them) and IA32_FEATURE_CONTROL. A guest
 * executing a VMX instruction never gets here: in VMX non-root
 * operation each one causes a VM exit (exit reasons 19-27).
 *
 * Not modeled, because the model has none of it: the register-operand
 * #UD (operands are C values), A20M, SMX (always outside SMX operation),
 * SMM dual-monitor treatment, VMCS shadowing (bit 31 of a revision
 * identifier is always refused), Intel PT.
 */
#include "hw/vmcs.h"

#define CR0_PE (1ull << 0)

/* ------------------------------------------------------------ outcomes */

/* The six status flags of RFLAGS; other bits are left alone. */
static void set_status_flags(struct hw_cpu *cpu, uint64_t set)
{
	cpu->host.rflags = (cpu->host.rflags & ~(uint64_t)EMU_FLAGS_ARITH) | set;
}

enum vmx_status vmx_succeed(struct hw_cpu *cpu)
{
	set_status_flags(cpu, 0);
	return VMX_SUCCEED;
}

static enum vmx_status vm_fail_invalid(struct hw_cpu *cpu)
{
	set_status_flags(cpu, EMU_FLAG_CF);
	return VMX_FAIL_INVALID;
}

static enum vmx_status vm_fail_valid(struct hw_cpu *cpu, enum vmx_error err)
{
	set_status_flags(cpu, EMU_FLAG_ZF);
	vmcs_write(cpu, VMCS_VM_INSTRUCTION_ERROR, err);
	return VMX_FAIL_VALID;
}

/* VMfail(ErrorNumber): the error goes to the current VMCS if there is one. */
enum vmx_status vmx_fail(struct hw_cpu *cpu, enum vmx_error err)
{
	if (cpu->vmx.current_vmcs == INVALID_HPA)
		return vm_fail_invalid(cpu);
	return vm_fail_valid(cpu, err);
}

/* ------------------------------------------------------------ checks */

/* CR0.PE = 0, RFLAGS.VM = 1, or compatibility mode: #UD for them all. */
static bool bad_mode(const struct emu_cpu *h)
{
	return !(h->cr0 & CR0_PE) || (h->rflags & EMU_FLAG_VM) ||
	       ((h->efer & EFER_LMA) && !(h->seg[EMU_CS].ar & EMU_AR_L));
}

/*
 * The faults every instruction here but VMXON checks first:
 *
 *   outside VMX operation, or bad_mode()                    #UD
 *   CPL > 0                                                  #GP(0)
 *
 * VMX_SUCCEED when the instruction may proceed.
 */
enum vmx_status vmx_root_check(const struct hw_cpu *cpu)
{
	const struct emu_cpu *h = &cpu->host;
	if (!cpu->vmx.on || bad_mode(h))
		return VMX_FAULT_UD;
	if (h->cpl > 0)
		return VMX_FAULT_GP;
	return VMX_SUCCEED;
}

/* A VMXON or VMCS pointer: 4 KiB aligned, no bit beyond the width. */
static bool valid_pointer(hpa_t pa)
{
	return !(pa & (HV_PAGE_SIZE - 1)) && !(pa >> HW_MAXPHYADDR);
}

/* A CR0 or CR4 value VMX operation supports (SDM Vol. 3C 24.8): every
 * bit set in FIXED0 is set, every bit clear in FIXED1 is clear. */
static bool cr_supported(const struct hw_cpu *cpu, uint64_t cr, uint32_t fixed0_msr)
{
	uint64_t fixed0 = 0, fixed1 = 0;
	vmx_cap_rdmsr(cpu, fixed0_msr, &fixed0);
	vmx_cap_rdmsr(cpu, fixed0_msr + 1, &fixed1);
	return (cr & fixed0) == fixed0 && !(cr & ~fixed1);
}

static bool vmxon_allowed_by_feature_control(const struct hw_cpu *cpu)
{
	const uint64_t need = FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMXON_OUTSIDE_SMX;
	return (cpu->msr.feature_control & need) == need;
}

/* ------------------------------------------------------------ instructions */

/* SDM Vol. 3C 31.3 VMXON. */
enum vmx_status vmxon(struct hw_cpu *cpu, hpa_t region)
{
	const struct emu_cpu *h = &cpu->host;

	/* No VMX on an AMD part: CPUID.1:ECX.VMX = 0, CR4.VMXE cannot be 1. */
	if (cpu->m->cfg.vendor != HW_VENDOR_INTEL || !(h->cr4 & HW_CR4_VMXE) || bad_mode(h))
		return VMX_FAULT_UD;
	if (cpu->vmx.on) {
		if (h->cpl > 0)
			return VMX_FAULT_GP;
		return vmx_fail(cpu, VMX_ERR_VMXON_IN_ROOT);
	}
	if (h->cpl > 0 ||
	    !cr_supported(cpu, h->cr0, MSR_IA32_VMX_CR0_FIXED0) ||
	    !cr_supported(cpu, h->cr4, MSR_IA32_VMX_CR4_FIXED0) ||
	    !vmxon_allowed_by_feature_control(cpu))
		return VMX_FAULT_GP;
	if (!valid_pointer(region))
		return vm_fail_invalid(cpu);
	/* rev[30:0] must match and rev[31] be 0: no VMCS shadowing. */
	if (vmcs_region_revision(cpu->m, region) != VMX_VMCS_REVISION)
		return vm_fail_invalid(cpu);
	cpu->vmx.current_vmcs = INVALID_HPA;
	cpu->vmx.vmxon_region = region;
	cpu->vmx.on = true;
	return vmx_succeed(cpu);
}

/* SDM Vol. 3C 31.3 VMXOFF. The current VMCS is forgotten; its contents
 * are already in memory (nothing is cached), so none are lost. */
enum vmx_status vmxoff(struct hw_cpu *cpu)
{
	enum vmx_status r = vmx_root_check(cpu);
	if (r != VMX_SUCCEED)
		return r;
	cpu->vmx.on = false;
	cpu->vmx.vmxon_region = INVALID_HPA;
	cpu->vmx.current_vmcs = INVALID_HPA;
	return vmx_succeed(cpu);
}

/* SDM Vol. 3C 31.3 VMCLEAR. */
enum vmx_status vmclear(struct hw_cpu *cpu, hpa_t vmcs)
{
	enum vmx_status r = vmx_root_check(cpu);
	if (r != VMX_SUCCEED)
		return r;
	if (!valid_pointer(vmcs))
		return vmx_fail(cpu, VMX_ERR_VMCLEAR_INVALID_ADDR);
	if (vmcs == cpu->vmx.vmxon_region)
		return vmx_fail(cpu, VMX_ERR_VMCLEAR_VMXON_PTR);
	vmcs_region_clear(cpu->m, vmcs);
	if (vmcs == cpu->vmx.current_vmcs)
		cpu->vmx.current_vmcs = INVALID_HPA;
	return vmx_succeed(cpu);
}

/* SDM Vol. 3C 31.3 VMPTRLD. */
enum vmx_status vmptrld(struct hw_cpu *cpu, hpa_t vmcs)
{
	enum vmx_status r = vmx_root_check(cpu);
	if (r != VMX_SUCCEED)
		return r;
	if (!valid_pointer(vmcs))
		return vmx_fail(cpu, VMX_ERR_VMPTRLD_INVALID_ADDR);
	if (vmcs == cpu->vmx.vmxon_region)
		return vmx_fail(cpu, VMX_ERR_VMPTRLD_VMXON_PTR);
	/* Outside the arena the revision reads as all ones and fails here,
	 * so a current VMCS always lies in the arena. */
	if (vmcs_region_revision(cpu->m, vmcs) != VMX_VMCS_REVISION)
		return vmx_fail(cpu, VMX_ERR_VMPTRLD_BAD_REVISION);
	cpu->vmx.current_vmcs = vmcs;
	return vmx_succeed(cpu);
}

/* SDM Vol. 3C 31.3 VMPTRST: FFFFFFFF_FFFFFFFFH when there is none. */
enum vmx_status vmptrst(struct hw_cpu *cpu, hpa_t *vmcs)
{
	enum vmx_status r = vmx_root_check(cpu);
	if (r != VMX_SUCCEED)
		return r;
	*vmcs = cpu->vmx.current_vmcs;
	return vmx_succeed(cpu);
}

/* SDM Vol. 3C 31.3 VMREAD. *@val is untouched unless it succeeds. */
enum vmx_status vmread(struct hw_cpu *cpu, uint64_t field, uint64_t *val)
{
	enum vmx_status r = vmx_root_check(cpu);
	if (r != VMX_SUCCEED)
		return r;
	if (cpu->vmx.current_vmcs == INVALID_HPA)
		return vm_fail_invalid(cpu);
	if (!vmcs_field_info(field))
		return vm_fail_valid(cpu, VMX_ERR_UNSUPPORTED_FIELD);
	*val = vmcs_read(cpu, (uint32_t)field);
	return vmx_succeed(cpu);
}

/*
 * SDM Vol. 3C 31.3 VMWRITE. The VM-exit information fields are read-only
 * because IA32_VMX_MISC[29] is 0; only VM exits (vmcs_write) fill them.
 */
enum vmx_status vmwrite(struct hw_cpu *cpu, uint64_t field, uint64_t val)
{
	enum vmx_status r = vmx_root_check(cpu);
	if (r != VMX_SUCCEED)
		return r;
	if (cpu->vmx.current_vmcs == INVALID_HPA)
		return vm_fail_invalid(cpu);
	if (!vmcs_field_info(field))
		return vm_fail_valid(cpu, VMX_ERR_UNSUPPORTED_FIELD);
	if (VMCS_ENC_TYPE(field) == VMCS_TYPE_EXIT_INFO)
		return vm_fail_valid(cpu, VMX_ERR_VMWRITE_RO_FIELD);
	vmcs_write(cpu, (uint32_t)field, val);
	return vmx_succeed(cpu);
}
