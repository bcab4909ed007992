/*
 * vmx_exit.c — decoding a VM exit into core's vendor-neutral record
 * (backends/backend.h struct hv_exit): the basic exit reason (SDM Vol.
 * 3C 28.2.1, Vol. 3D Appendix C), the exit qualification (Tables 28-1 to
 * 28-7), the exit interruption information (28.2.2), the IDT-vectoring
 * information of an event whose delivery the exit interrupted (28.2.4),
 * and the instruction length (28.2.5).
 */
#include <assert.h>
#include <stdio.h>

#include "backends/vmx/vmx.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const exit_names[] = {
	[VMX_EXIT_EXCEPTION_NMI] = "EXCEPTION_NMI",
	[VMX_EXIT_EXTERNAL_INTERRUPT] = "EXTERNAL_INTERRUPT",
	[VMX_EXIT_TRIPLE_FAULT] = "TRIPLE_FAULT",
	[VMX_EXIT_INIT] = "INIT",
	[VMX_EXIT_SIPI] = "SIPI",
	[VMX_EXIT_IO_SMI] = "IO_SMI",
	[VMX_EXIT_OTHER_SMI] = "OTHER_SMI",
	[VMX_EXIT_INTERRUPT_WINDOW] = "INTERRUPT_WINDOW",
	[VMX_EXIT_NMI_WINDOW] = "NMI_WINDOW",
	[VMX_EXIT_TASK_SWITCH] = "TASK_SWITCH",
	[VMX_EXIT_CPUID] = "CPUID",
	[VMX_EXIT_GETSEC] = "GETSEC",
	[VMX_EXIT_HLT] = "HLT",
	[VMX_EXIT_INVD] = "INVD",
	[VMX_EXIT_INVLPG] = "INVLPG",
	[VMX_EXIT_RDPMC] = "RDPMC",
	[VMX_EXIT_RDTSC] = "RDTSC",
	[VMX_EXIT_RSM] = "RSM",
	[VMX_EXIT_VMCALL] = "VMCALL",
	[VMX_EXIT_VMCLEAR] = "VMCLEAR",
	[VMX_EXIT_VMLAUNCH] = "VMLAUNCH",
	[VMX_EXIT_VMPTRLD] = "VMPTRLD",
	[VMX_EXIT_VMPTRST] = "VMPTRST",
	[VMX_EXIT_VMREAD] = "VMREAD",
	[VMX_EXIT_VMRESUME] = "VMRESUME",
	[VMX_EXIT_VMWRITE] = "VMWRITE",
	[VMX_EXIT_VMXOFF] = "VMXOFF",
	[VMX_EXIT_VMXON] = "VMXON",
	[VMX_EXIT_CR_ACCESS] = "CR_ACCESS",
	[VMX_EXIT_DR_ACCESS] = "DR_ACCESS",
	[VMX_EXIT_IO_INSTRUCTION] = "IO_INSTRUCTION",
	[VMX_EXIT_RDMSR] = "RDMSR",
	[VMX_EXIT_WRMSR] = "WRMSR",
	[VMX_EXIT_INVALID_GUEST_STATE] = "INVALID_GUEST_STATE",
	[VMX_EXIT_MSR_LOADING] = "MSR_LOADING",
	[VMX_EXIT_MWAIT] = "MWAIT",
	[VMX_EXIT_MONITOR_TRAP_FLAG] = "MONITOR_TRAP_FLAG",
	[VMX_EXIT_MONITOR] = "MONITOR",
	[VMX_EXIT_PAUSE] = "PAUSE",
	[VMX_EXIT_MACHINE_CHECK] = "MACHINE_CHECK",
	[VMX_EXIT_TPR_BELOW_THRESHOLD] = "TPR_BELOW_THRESHOLD",
	[VMX_EXIT_APIC_ACCESS] = "APIC_ACCESS",
	[VMX_EXIT_VIRTUALIZED_EOI] = "VIRTUALIZED_EOI",
	[VMX_EXIT_GDTR_IDTR] = "GDTR_IDTR",
	[VMX_EXIT_LDTR_TR] = "LDTR_TR",
	[VMX_EXIT_EPT_VIOLATION] = "EPT_VIOLATION",
	[VMX_EXIT_EPT_MISCONFIG] = "EPT_MISCONFIG",
	[VMX_EXIT_INVEPT] = "INVEPT",
	[VMX_EXIT_RDTSCP] = "RDTSCP",
	[VMX_EXIT_PREEMPTION_TIMER] = "PREEMPTION_TIMER",
	[VMX_EXIT_INVVPID] = "INVVPID",
	[VMX_EXIT_WBINVD] = "WBINVD",
	[VMX_EXIT_XSETBV] = "XSETBV",
	[VMX_EXIT_APIC_WRITE] = "APIC_WRITE",
	[VMX_EXIT_RDRAND] = "RDRAND",
	[VMX_EXIT_INVPCID] = "INVPCID",
	[VMX_EXIT_VMFUNC] = "VMFUNC",
	[VMX_EXIT_ENCLS] = "ENCLS",
	[VMX_EXIT_RDSEED] = "RDSEED",
	[VMX_EXIT_PML_FULL] = "PML_FULL",
	[VMX_EXIT_XSAVES] = "XSAVES",
	[VMX_EXIT_XRSTORS] = "XRSTORS",
};
static_assert(N(exit_names) == VMX_EXIT_XRSTORS + 1, "a name for every basic exit reason");

const char *vmx_exit_name(uint64_t raw)
{
	const uint64_t basic = VMX_EXIT_REASON_BASIC(raw);
	if (basic < N(exit_names) && exit_names[basic])
		return exit_names[basic];
	return "UNKNOWN";
}

/* Instruction exits map one to one (the instruction's length is valid,
 * 28.2.5); 0 marks a reason that needs more than a table. */
static const uint8_t insn_reason[] = {
	[VMX_EXIT_CPUID] = HVX_CPUID,
	[VMX_EXIT_HLT] = HVX_HLT,
	[VMX_EXIT_INVD] = HVX_INVD,
	[VMX_EXIT_RDPMC] = HVX_RDPMC,
	[VMX_EXIT_RDTSC] = HVX_RDTSC,
	[VMX_EXIT_VMCALL] = HVX_HYPERCALL,
	[VMX_EXIT_VMCLEAR] = HVX_VIRT_INSN,
	[VMX_EXIT_VMLAUNCH] = HVX_VIRT_INSN,
	[VMX_EXIT_VMPTRLD] = HVX_VIRT_INSN,
	[VMX_EXIT_VMPTRST] = HVX_VIRT_INSN,
	[VMX_EXIT_VMREAD] = HVX_VIRT_INSN,
	[VMX_EXIT_VMRESUME] = HVX_VIRT_INSN,
	[VMX_EXIT_VMWRITE] = HVX_VIRT_INSN,
	[VMX_EXIT_VMXOFF] = HVX_VIRT_INSN,
	[VMX_EXIT_VMXON] = HVX_VIRT_INSN,
	[VMX_EXIT_RDMSR] = HVX_MSR_READ,
	[VMX_EXIT_WRMSR] = HVX_MSR_WRITE,
	[VMX_EXIT_MWAIT] = HVX_MWAIT,
	[VMX_EXIT_MONITOR] = HVX_MONITOR,
	[VMX_EXIT_PAUSE] = HVX_PAUSE,
	[VMX_EXIT_INVEPT] = HVX_VIRT_INSN,
	[VMX_EXIT_RDTSCP] = HVX_RDTSCP,
	[VMX_EXIT_INVVPID] = HVX_VIRT_INSN,
	[VMX_EXIT_WBINVD] = HVX_WBINVD,
	[VMX_EXIT_XSETBV] = HVX_XSETBV,
	[VMX_EXIT_INVPCID] = HVX_INVPCID,
	[VMX_EXIT_VMFUNC] = HVX_VIRT_INSN,
};
static_assert(HVX_UNKNOWN == 0, "0 in insn_reason means: not a plain instruction exit");

/* VMX interruption type (25.9.2) to HV_EVENT_*; 0xff: none. */
static uint8_t event_type(uint32_t info)
{
	switch ((info & VMX_INTR_INFO_TYPE_MASK) >> VMX_INTR_INFO_TYPE_SHIFT) {
	case VMX_INTR_TYPE_EXT_INTR: return HV_EVENT_EXTINT;
	case VMX_INTR_TYPE_NMI: return HV_EVENT_NMI;
	case VMX_INTR_TYPE_HARD_EXCEPTION: return HV_EVENT_EXCEPTION;
	case VMX_INTR_TYPE_SOFT_INTR: return HV_EVENT_SOFTINT;
	case VMX_INTR_TYPE_PRIV_SOFT_EXCEPTION: return HV_EVENT_PRIV_SOFTEXC;
	case VMX_INTR_TYPE_SOFT_EXCEPTION: return HV_EVENT_SOFTEXC;
	default: return 0xff;
	}
}

static bool is_soft(uint8_t type)
{
	return type == HV_EVENT_SOFTINT || type == HV_EVENT_SOFTEXC ||
	       type == HV_EVENT_PRIV_SOFTEXC;
}

/* IDT-vectoring information (28.2.4): the event the exit interrupted. */
static void decode_idt_vectoring(struct vmx_vcpu *vmx, struct hv_exit *x)
{
	const uint32_t info = (uint32_t)vmcs_get(vmx, VMCS_IDT_VECTORING_INFO);
	if (!(info & VMX_INTR_INFO_VALID))
		return;
	const uint8_t type = event_type(info);
	if (type == 0xff)
		return;
	x->idt_valid = true;
	x->idt_type = type;
	x->idt_vector = info & VMX_INTR_INFO_VECTOR_MASK;
	x->idt_has_error_code = info & VMX_INTR_INFO_ERROR_CODE;
	if (x->idt_has_error_code)
		x->idt_error_code = (uint32_t)vmcs_get(vmx, VMCS_IDT_VECTORING_ERROR_CODE);
	/* Re-injecting a software event needs its instruction's length,
	 * which the exit reports in the instruction-length field (28.2.5). */
	if (is_soft(type))
		x->insn_len = (uint8_t)vmcs_get(vmx, VMCS_EXIT_INSTRUCTION_LEN);
}

/*
 * "NMI unblocking due to IRET" (bit 12 of the exit interruption
 * information or of an EPT violation's qualification, 28.2.3): the fault
 * came from an IRET that had already unblocked NMIs; when it is re-run
 * it must find them blocked again, so set virtual-NMI blocking — unless
 * an event is being re-injected (the bit is then undefined).
 */
static void reblock_nmi(struct vmx_vcpu *vmx, const struct hv_exit *x, bool unblocked)
{
	if (unblocked && !x->idt_valid)
		vmcs_set_bits(vmx, VMCS_GUEST_INTERRUPTIBILITY, VMX_INTERRUPTIBILITY_NMI, true);
}

static void decode_exception(struct vmx_vcpu *vmx, struct hv_exit *x, uint64_t qual)
{
	const uint32_t info = (uint32_t)vmcs_get(vmx, VMCS_EXIT_INTR_INFO);
	const uint8_t type = event_type(info);
	if (type == HV_EVENT_NMI) {
		x->reason = HVX_NMI;
		return;
	}
	x->reason = HVX_EXCEPTION;
	x->exc.vector = info & VMX_INTR_INFO_VECTOR_MASK;
	x->exc.has_error_code = info & VMX_INTR_INFO_ERROR_CODE;
	if (x->exc.has_error_code)
		x->exc.error_code = (uint32_t)vmcs_get(vmx, VMCS_EXIT_INTR_ERROR_CODE);
	if (x->exc.vector == 14)
		x->exc.cr2 = qual;		/* #PF: the linear address (Table 28-1) */
	else if (x->exc.vector == 1)
		x->exc.dr6 = qual;		/* #DB: B3-B0, BD, BS (Table 28-1) */
	if (is_soft(type))
		x->insn_len = (uint8_t)vmcs_get(vmx, VMCS_EXIT_INSTRUCTION_LEN);
	reblock_nmi(vmx, x, info & VMX_INTR_INFO_NMI_UNBLOCK_IRET);
}

/* EPT violation qualification (Table 28-7): bits 2:0 the access (read,
 * write, fetch), 5:3 what the entries allowed (all 0: not present), 7
 * the guest-linear address is valid, 8 (with 7) the access was to the
 * final page rather than a guest paging-structure entry, 12 NMI
 * unblocking due to IRET. */
static void decode_ept_violation(struct vmx_vcpu *vmx, struct hv_exit *x, uint64_t qual)
{
	x->reason = HVX_TDP_FAULT;
	x->tdp.gpa = vmcs_get(vmx, VMCS_GUEST_PHYSICAL_ADDRESS);
	x->tdp.access = ((qual & 2) ? HV_ACC_WRITE : 0) | ((qual & 4) ? HV_ACC_FETCH : 0);
	x->tdp.present = (qual >> 3) & 7;
	x->tdp.gva_valid = (qual >> 7) & 1;
	if (x->tdp.gva_valid) {
		x->tdp.gva = vmcs_get(vmx, VMCS_GUEST_LINEAR_ADDRESS);
		x->tdp.in_walk = !((qual >> 8) & 1);
	}
	reblock_nmi(vmx, x, (qual >> 12) & 1);
}

void vmx_decode_exit(struct hv_vcpu *vcpu, struct hv_exit *x)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	*x = (struct hv_exit){ .reason = HVX_UNKNOWN };

	if (vmx->unsupported) {
		const char *why = hw_cpu_unsupported(vmx->cpu);
		x->reason = HVX_UNSUPPORTED;
		snprintf(vmx->why, sizeof(vmx->why), "%s", why ? why : "the model stopped the guest");
		x->why = vmx->why;
		return;
	}
	const uint64_t raw = (uint32_t)vmcs_get(vmx, VMCS_EXIT_REASON);
	const unsigned basic = (unsigned)VMX_EXIT_REASON_BASIC(raw);
	const uint64_t qual = vmcs_get(vmx, VMCS_EXIT_QUALIFICATION);
	x->raw = raw;
	if (raw & VMX_EXIT_REASON_ENTRY_FAILURE) {
		/* 27.8: reason 33 (guest state), 34 (MSR loading) or 41
		 * (machine check) with bit 31; core reports the raw value. */
		x->reason = HVX_FAIL_ENTRY;
		x->fail.code = raw;
		return;
	}
	decode_idt_vectoring(vmx, x);

	if (basic < N(insn_reason) && insn_reason[basic]) {
		x->reason = insn_reason[basic];
		x->insn_len = (uint8_t)vmcs_get(vmx, VMCS_EXIT_INSTRUCTION_LEN);
		return;
	}
	switch (basic) {
	case VMX_EXIT_EXCEPTION_NMI:
		decode_exception(vmx, x, qual);
		return;
	case VMX_EXIT_EXTERNAL_INTERRUPT:
		/* Acknowledged on exit (25.7.1): the vector is the host's
		 * (HW_DEADLINE_VECTOR, the deadline timer) and the host has
		 * taken it; nothing goes to the guest. */
		x->reason = HVX_EXTINT;
		return;
	case VMX_EXIT_TRIPLE_FAULT:
		x->reason = HVX_TRIPLE_FAULT;
		return;
	case VMX_EXIT_INIT:
		x->reason = HVX_INIT;
		return;
	case VMX_EXIT_INTERRUPT_WINDOW:
		x->reason = HVX_IRQ_WINDOW;
		return;
	case VMX_EXIT_NMI_WINDOW:
		x->reason = HVX_NMI_WINDOW;
		return;
	case VMX_EXIT_TASK_SWITCH:
		/* Table 28-2: selector 15:0, source 31:30 (0 CALL, 1 IRET,
		 * 2 JMP, 3 task gate in the IDT — EMU_TS_*'s order). */
		x->reason = HVX_TASK_SWITCH;
		x->task.sel = (uint16_t)qual;
		x->task.source = (uint8_t)((qual >> 30) & 3);
		if (x->task.source != 3)
			x->insn_len = (uint8_t)vmcs_get(vmx, VMCS_EXIT_INSTRUCTION_LEN);
		return;
	case VMX_EXIT_INVLPG:
		x->reason = HVX_INVLPG;
		x->invlpg.gva = qual;		/* Table 28-1: the linear address */
		x->invlpg.gva_valid = true;
		x->insn_len = (uint8_t)vmcs_get(vmx, VMCS_EXIT_INSTRUCTION_LEN);
		return;
	case VMX_EXIT_CR_ACCESS:
		/* Table 28-3: CR 3:0, access type 5:4, GPR 11:8, LMSW
		 * source 31:16. */
		x->reason = HVX_CR_ACCESS;
		x->cr.cr = qual & 15;
		x->cr.type = (qual >> 4) & 3;
		x->cr.gpr = (qual >> 8) & 15;
		x->cr.lmsw_src = (uint16_t)(qual >> 16);
		x->insn_len = (uint8_t)vmcs_get(vmx, VMCS_EXIT_INSTRUCTION_LEN);
		return;
	case VMX_EXIT_DR_ACCESS:
		/* Table 28-4: DR 2:0, direction 4 (1 = MOV from DR), GPR 11:8. */
		x->reason = HVX_DR_ACCESS;
		x->dr.dr = qual & 7;
		x->dr.write = !((qual >> 4) & 1);
		x->dr.gpr = (qual >> 8) & 15;
		x->insn_len = (uint8_t)vmcs_get(vmx, VMCS_EXIT_INSTRUCTION_LEN);
		return;
	case VMX_EXIT_IO_INSTRUCTION:
		/* Table 28-5: size - 1 in 2:0, IN 3, string 4, REP 5, port
		 * 31:16. */
		x->reason = HVX_IO;
		x->io.size = (uint8_t)((qual & 7) + 1);
		x->io.in = (qual >> 3) & 1;
		x->io.string = (qual >> 4) & 1;
		x->io.rep = (qual >> 5) & 1;
		x->io.port = (uint16_t)(qual >> 16);
		x->insn_len = (uint8_t)vmcs_get(vmx, VMCS_EXIT_INSTRUCTION_LEN);
		return;
	case VMX_EXIT_EPT_VIOLATION:
		decode_ept_violation(vmx, x, qual);
		return;
	case VMX_EXIT_EPT_MISCONFIG:
		x->reason = HVX_TDP_MISCONFIG;
		x->tdp.gpa = vmcs_get(vmx, VMCS_GUEST_PHYSICAL_ADDRESS);
		return;
	default:
		snprintf(vmx->why, sizeof(vmx->why), "unexpected VMX exit %s (basic reason %u)",
			 vmx_exit_name(raw), basic);
		x->why = vmx->why;
		return;
	}
}
