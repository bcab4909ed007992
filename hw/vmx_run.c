/*
 * vmx_run.c — VMLAUNCH and VMRESUME (SDM Vol. 3C 31.3 and chapter 27,
 * VM entries; chapter 28, VM exits), INVEPT and INVVPID (31.3, 29.4.3).
 *
 * A VM entry, step by step as the SDM orders it:
 *   1. the instruction's own checks (#UD/#GP, current VMCS, launch state)
 *   2. checks on the controls (27.2.1) and host state (27.2.2-3):
 *      failure is VMfailValid(7) or (8), nothing loaded
 *   3. checks on the guest state (27.3.1): failure is a VM exit with
 *      reason 33 and the entry-failure bit, host state loaded
 *   4. load the guest state, cache the controls, set up translation and
 *      the TLB tag (27.3.2, 28.3.3)
 *   5. inject the event in the VM-entry interruption-information field
 *      (27.6)
 *   6. run until an exit; save guest state and exit information (28.2,
 *      28.3); load host state (28.5)
 */
#include "hw/cr.h"
#include "hw/event.h"
#include "hw/vmcs.h"
#include "hw/vmx_state.h"

/* EPTP bits (SDM 25.6.11): memory type 2:0, walk length - 1 5:3, A/D 6. */
#define EPTP_AD (1ull << 6)

/* The translation context at entry: EPT and the VPID/EP4TA tag. */
static void enter_translation(struct hw_cpu *cpu)
{
	const struct vmx_ctl *c = &cpu->vmx_ctl;
	struct hw_nested *n = &cpu->xlat.nst;

	*n = (struct hw_nested){ .kind = HW_NESTED_NONE, .maxphyaddr = HW_MAXPHYADDR };
	if (c->proc2 & VMX_PROC2_EPT) {
		n->kind = HW_NESTED_EPT;
		n->root = c->eptp & ~0xfffull & ((1ull << HW_MAXPHYADDR) - 1);
		n->ept_ad = c->eptp & EPTP_AD;
		n->ept_x_only = true;
	}
	cpu->emu.key_epoch++;	/* a new guest context */
	cpu->xlat.vpid = c->vpid;
	hw_xlat_update(cpu);
	/* PAE paging without EPT: the PDPTEs come from memory at CR3
	 * (27.3.2.4; the guest-state checks validated them). */
	if (!(c->proc2 & VMX_PROC2_EPT) && cpu->xlat.pg.mode == HW_PAGING_PAE)
		(void)hw_load_pdptes(cpu, cpu->cr3);
}

/* Without VPIDs, entries and exits drop every mapping of VPID 0
 * (SDM 29.4.3.1? — "If VPIDs are not enabled, VM entries and VM exits
 * invalidate all linear and combined mappings associated with VPID
 * 0000H"). */
static void flush_vpid0(struct hw_cpu *cpu)
{
	if (cpu->vmx_ctl.vpid == 0) {
		cpu->cnt.tlb_flushes++;
		hw_tlb_flush_tag(&cpu->tlb, 0, HW_TLB_M_VPID, false);
	}
}

/* Step 5: the VM-entry interruption-information field (27.6.1). */
static void enter_inject(struct hw_cpu *cpu)
{
	const uint32_t info = (uint32_t)vmcs_read(cpu, VMCS_ENTRY_INTR_INFO);
	if (!(info & VMX_INTR_INFO_VALID))
		return;
	struct emu_event ev = {
		.vector = info & VMX_INTR_INFO_VECTOR_MASK,
		.type = (info & VMX_INTR_INFO_TYPE_MASK) >> VMX_INTR_INFO_TYPE_SHIFT,
		.has_error_code = info & VMX_INTR_INFO_ERROR_CODE,
		.error_code = (uint32_t)vmcs_read(cpu, VMCS_ENTRY_EXCEPTION_ERROR_CODE),
	};
	/* Software events return past the instruction (27.6.1.1); a fault
	 * while delivering one points at the instruction. */
	const uint64_t rip = cpu->emu.cpu.rip;
	if (ev.type == EMU_EVENT_TYPE_SOFT_INT || ev.type == EMU_EVENT_TYPE_SOFT_EXC ||
	    ev.type == EMU_EVENT_TYPE_PRIV_SOFT_EXC)
		cpu->emu.cpu.rip += vmcs_read(cpu, VMCS_ENTRY_INSTRUCTION_LEN);
	cpu->ev.halted = false;		/* an injected event wakes HLT (27.6.1) */
	/* The shadow of an STI before the entry does not block injection. */
	const int r = hw_inject(cpu, ev, rip);
	if (r == EMU_STOP && cpu->exit.pending)
		cpu->emu.cpu.rip = rip;	/* the event is re-injected from here */
	if (r == EMU_UNHANDLEABLE)
		hw_unsupported(cpu, cpu->emu.unhandleable);
}

/* VMX-preemption timer (25.5.1): counts down at the TSC rate divided by
 * 2^VMX_MISC[4:0]; in the model's instruction clock that is
 * value << rate cycles at cpi_milli/1000 cycles per instruction slot. */
static void enter_preemption_timer(struct hw_cpu *cpu)
{
	struct vmx_ctl *c = &cpu->vmx_ctl;
	c->preempt_deadline = UINT64_MAX;
	if (!(c->pin & VMX_PIN_PREEMPTION_TIMER))
		return;
	uint64_t misc = 0;
	vmx_cap_rdmsr(cpu, MSR_IA32_VMX_MISC, &misc);
	const uint64_t cycles = (vmcs_read(cpu, VMCS_PREEMPTION_TIMER_VALUE) & 0xffffffff)
				<< VMX_MISC_PREEMPTION_RATE(misc);
	const uint64_t cpi = cpu->m->cfg.prices.cpi_milli;
	c->preempt_deadline = hw_clock(cpu) + cycles * 1000 / cpi;
}

/* Steps 4-6 for a state that passed every check. */
static void vmx_run_guest(struct hw_cpu *cpu)
{
	vmx_enter_cache_controls(cpu);
	cpu->guest = HW_GUEST_VMX;
	vmx_enter_load_guest_state(cpu);
	cpu->monitor_armed = false;	/* entry clears address-range monitoring (31.3) */
	enter_translation(cpu);
	flush_vpid0(cpu);
	enter_preemption_timer(cpu);
	cpu->exit.pending = false;
	cpu->vectoring.valid = false;
	cpu->unsupported = NULL;
	cpu->cnt.entries++;

	enter_inject(cpu);
	hw_guest_run(cpu);
	/* A fired host timer is the host's own interrupt: the host takes it
	 * as soon as it runs again with interrupts enabled (hw.h). */
	cpu->ev.timer = false;

	if (cpu->exit.pending) {
		cpu->cnt.exits++;
		cpu->cnt.exit[hw_exit_slot(cpu->exit.reason)]++;
	}
	vmx_exit_save_guest_state(cpu);
	flush_vpid0(cpu);
	vmx_exit_load_host_state(cpu);
	cpu->guest = HW_HOST;
}

/* A failed entry after the host checks (27.8): exit reason 33 with the
 * entry-failure bit, qualification, host state loaded. */
static void vmx_entry_fail(struct hw_cpu *cpu, unsigned qual)
{
	cpu->cnt.failed_entries++;
	vmcs_write(cpu, VMCS_EXIT_REASON, VMX_EXIT_INVALID_GUEST_STATE | VMX_EXIT_REASON_ENTRY_FAILURE);
	vmcs_write(cpu, VMCS_EXIT_QUALIFICATION, qual);
	vmx_enter_cache_controls(cpu);
	vmx_exit_load_host_state(cpu);
}

static enum vmx_status vm_entry(struct hw_cpu *cpu, bool launch)
{
	const char *why;
	enum vmx_status st = vmx_root_check(cpu);
	if (st != VMX_SUCCEED)
		return st;
	if (cpu->vmx.current_vmcs == INVALID_HPA)
		return vmx_fail(cpu, VMX_ERR_VMLAUNCH_NONCLEAR);	/* VMfailInvalid */
	if (launch && vmcs_launch_state(cpu) != VMCS_STATE_CLEAR)
		return vmx_fail(cpu, VMX_ERR_VMLAUNCH_NONCLEAR);
	if (!launch && vmcs_launch_state(cpu) != VMCS_STATE_LAUNCHED)
		return vmx_fail(cpu, VMX_ERR_VMRESUME_NONLAUNCHED);
	if (vmx_check_controls(cpu, &why)) {
		cpu->cnt.failed_entries++;
		return vmx_fail(cpu, VMX_ERR_ENTRY_INVALID_CTLS);
	}
	if (vmx_check_host_state(cpu, &why)) {
		cpu->cnt.failed_entries++;
		return vmx_fail(cpu, VMX_ERR_ENTRY_INVALID_HOST_STATE);
	}
	int q = vmx_check_guest_state(cpu, &why);
	if (q) {
		vmx_entry_fail(cpu, (unsigned)q - 1);
		return vmx_succeed(cpu);
	}
	if (launch)
		vmcs_set_launched(cpu);
	vmx_run_guest(cpu);
	if (cpu->unsupported)
		return VMX_MODEL_UNSUPPORTED;
	return vmx_succeed(cpu);
}

enum vmx_status vmlaunch(struct hw_cpu *cpu)
{
	return vm_entry(cpu, true);
}

enum vmx_status vmresume(struct hw_cpu *cpu)
{
	return vm_entry(cpu, false);
}

static bool has_ep4ta(const struct hw_tlb_entry *e)
{
	return e->tag & HW_TLB_M_EP4TA;
}

static bool has_vpid(const struct hw_tlb_entry *e)
{
	return e->tag & HW_TLB_M_VPID;
}

/*
 * INVEPT (31.3, 29.4.3.1): single-context drops the combined and
 * guest-physical mappings of one EP4TA, all-context those of every
 * EP4TA. The model caches combined mappings only.
 */
enum vmx_status invept(struct hw_cpu *cpu, uint64_t type, const struct invept_desc *desc)
{
	enum vmx_status st = vmx_root_check(cpu);
	if (st != VMX_SUCCEED)
		return st;
	if (type != VMX_INVEPT_SINGLE_CONTEXT && type != VMX_INVEPT_ALL_CONTEXT)
		return vmx_fail(cpu, VMX_ERR_INVALID_INVEPT_INVVPID_OPERAND);
	cpu->cnt.tlb_flushes++;
	if (type == VMX_INVEPT_ALL_CONTEXT) {
		/* Every mapping created under EPT: those with an EP4TA. */
		hw_tlb_flush_if(&cpu->tlb, has_ep4ta);
	} else {
		const uint64_t root = desc->eptp & ~0xfffull;
		if (desc->rsvd || (desc->eptp >> HW_MAXPHYADDR) || !root)
			return vmx_fail(cpu, VMX_ERR_INVALID_INVEPT_INVVPID_OPERAND);
		hw_tlb_flush_tag(&cpu->tlb, HW_TLB_TAG(root, 0, 0), HW_TLB_M_EP4TA, false);
	}
	return vmx_succeed(cpu);
}

/*
 * INVVPID (31.3, 29.4.3.3): linear and combined mappings of a VPID —
 * one address, the whole VPID, every VPID but 0, or the whole VPID but
 * its global translations. VPID 0 is the host's and is refused for
 * types 0, 1 and 3.
 */
enum vmx_status invvpid(struct hw_cpu *cpu, uint64_t type, const struct invvpid_desc *desc)
{
	enum vmx_status st = vmx_root_check(cpu);
	if (st != VMX_SUCCEED)
		return st;
	if (type > VMX_INVVPID_SINGLE_CONTEXT_RETAIN_GLOBALS || (desc->vpid >> 16))
		return vmx_fail(cpu, VMX_ERR_INVALID_INVEPT_INVVPID_OPERAND);
	const uint16_t vpid = (uint16_t)desc->vpid;
	if (type != VMX_INVVPID_ALL_CONTEXT && vpid == 0)
		return vmx_fail(cpu, VMX_ERR_INVALID_INVEPT_INVVPID_OPERAND);
	const uint64_t tag = HW_TLB_TAG(0, vpid, 0);
	cpu->cnt.tlb_flushes++;
	switch (type) {
	case VMX_INVVPID_INDIVIDUAL_ADDR:
		if ((uint64_t)((int64_t)(desc->gla << 16) >> 16) != desc->gla)
			return vmx_fail(cpu, VMX_ERR_INVALID_INVEPT_INVVPID_OPERAND);
		hw_tlb_flush_addr(&cpu->tlb, desc->gla, tag, HW_TLB_M_VPID, false);
		break;
	case VMX_INVVPID_SINGLE_CONTEXT:
		hw_tlb_flush_tag(&cpu->tlb, tag, HW_TLB_M_VPID, false);
		break;
	case VMX_INVVPID_ALL_CONTEXT:
		hw_tlb_flush_if(&cpu->tlb, has_vpid);
		break;
	default:
		hw_tlb_flush_tag(&cpu->tlb, tag, HW_TLB_M_VPID, true);
		break;
	}
	return vmx_succeed(cpu);
}
