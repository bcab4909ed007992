/*
 * insn_icpt.c — the engine ops for instructions that exist mostly to be
 * intercepted: RDPMC, MONITOR, MWAIT, the VMX and SVM instructions, and
 * the SVM intercept hook for instructions with no op of their own
 * (PUSHF, POPF, IRET, INT n, INT1, the descriptor-table instructions);
 * plus IRET's NMI unblocking.
 *
 *   instruction        VMX non-root (SDM 26.1)        SVM guest (APM 15.7-15.9)
 *   RDPMC              RDPMC exiting -> 15            RDPMC intercept -> 0x6f
 *   MONITOR            MONITOR exiting -> 39          MONITOR -> 0x8a
 *   MWAIT              MWAIT exiting -> 36            MWAIT -> 0x8b, armed -> 0x8c
 *   VMX instructions   always exit (18-27, 50, 53)    #UD
 *   SVM instructions   #UD                            intercept -> 0x80-0x86, 0x7a
 *   PUSHF ... LTR      (descriptor-table exiting      intercepts -> 0x66-0x75, 0x88
 *                       is not offered)
 *
 * Not intercepted, the model has no performance counters (RDPMC raises
 * #GP(0) for every counter: CPUID leaf 0xA reports none), and MONITOR/
 * MWAIT complete at once: MWAIT may return for any reason (SDM Vol. 2B
 * MWAIT), so waking immediately is always correct, if idle guests spin.
 * SVM instructions a guest runs with EFER.SVME = 1 and no intercept
 * would need nested SVM, which the model does not implement.
 */
#include "hw/exec.h"
#include "hw/intercept.h"
#include "hw/request.h"
#include "hw/svm_internal.h"
#include "hw/vmx.h"

static int vmx_insn_exit(struct hw_cpu *cpu, uint64_t reason, uint64_t qual)
{
	hw_exit(cpu, reason, qual);
	cpu->exit.insn_len = cpu->emu.insn->len;
	return EMU_STOP;
}

static int svm_insn_exit(struct hw_cpu *cpu, uint64_t code)
{
	hw_exit(cpu, code, 0);
	cpu->exit.insn_len = cpu->emu.insn->len;
	return EMU_STOP;
}

int hw_op_rdpmc(struct emu_ctx *ctx, uint32_t ecx, uint64_t *val)
{
	struct hw_cpu *cpu = to_hw_cpu(ctx);
	if (cpu->guest == HW_GUEST_VMX && (cpu->vmx_ctl.proc & VMX_PROC_RDPMC_EXITING))
		return vmx_insn_exit(cpu, VMX_EXIT_RDPMC, 0);
	/* AMD64 has PerfCtr0-3 (APM Vol. 3 RDPMC); an invalid ECX faults
	 * before the SVM intercept ("checks all exceptions first", Table
	 * 15-7). Intel's model has none (CPUID leaf 0xA). */
	if (cpu->m->cfg.vendor != HW_VENDOR_AMD || ecx > 3)
		return emu_raise(ctx, EMU_EXC_GP, true, 0);
	if (cpu->guest == HW_GUEST_SVM && (cpu->svm_ctl.intercept_misc1 & SVM_INTERCEPT_RDPMC))
		return svm_insn_exit(cpu, SVM_EXIT_RDPMC);
	*val = cpu->msr.perf_ctr[ecx];
	return EMU_CONTINUE;
}

int hw_op_monitor(struct emu_ctx *ctx, uint64_t la, uint32_t ecx, uint32_t edx)
{
	struct hw_cpu *cpu = to_hw_cpu(ctx);
	if (cpu->guest == HW_GUEST_SVM && (cpu->svm_ctl.intercept_misc2 & SVM_INTERCEPT2_MONITOR))
		return svm_insn_exit(cpu, SVM_EXIT_MONITOR);
	cpu->monitor_armed = true;
	return EMU_CONTINUE;
}

int hw_op_mwait(struct emu_ctx *ctx, uint32_t eax, uint32_t ecx)
{
	struct hw_cpu *cpu = to_hw_cpu(ctx);
	const bool armed = cpu->monitor_armed;
	cpu->monitor_armed = false;
	if (cpu->guest == HW_GUEST_SVM) {
		/* The conditional intercept is checked first (Table 15-7). */
		const uint32_t m2 = cpu->svm_ctl.intercept_misc2;
		if ((m2 & SVM_INTERCEPT2_MWAIT_COND) && armed)
			return svm_insn_exit(cpu, SVM_EXIT_MWAIT_COND);
		if (m2 & SVM_INTERCEPT2_MWAIT)
			return svm_insn_exit(cpu, SVM_EXIT_MWAIT);
	}
	return EMU_CONTINUE;
}

/* VMX instruction exits (Appendix C) by engine operation. */
static uint64_t vmx_reason(unsigned op)
{
	switch (op) {
	case EMU_OP_VMCLEAR:	return VMX_EXIT_VMCLEAR;
	case EMU_OP_VMLAUNCH:	return VMX_EXIT_VMLAUNCH;
	case EMU_OP_VMPTRLD:	return VMX_EXIT_VMPTRLD;
	case EMU_OP_VMPTRST:	return VMX_EXIT_VMPTRST;
	case EMU_OP_VMREAD:	return VMX_EXIT_VMREAD;
	case EMU_OP_VMRESUME:	return VMX_EXIT_VMRESUME;
	case EMU_OP_VMWRITE:	return VMX_EXIT_VMWRITE;
	case EMU_OP_VMXOFF:	return VMX_EXIT_VMXOFF;
	case EMU_OP_VMXON:	return VMX_EXIT_VMXON;
	case EMU_OP_INVEPT:	return VMX_EXIT_INVEPT;
	case EMU_OP_INVVPID:	return VMX_EXIT_INVVPID;
	default:		return 0;
	}
}

/* SVM instruction intercepts: misc word, bit, exit code. */
static bool svm_icpt(const struct hw_cpu *cpu, unsigned op, uint64_t *code)
{
	const uint32_t m1 = cpu->svm_ctl.intercept_misc1, m2 = cpu->svm_ctl.intercept_misc2;
	switch (op) {
	case EMU_OP_VMRUN:  *code = SVM_EXIT_VMRUN;  return m2 & SVM_INTERCEPT2_VMRUN;
	case EMU_OP_VMLOAD: *code = SVM_EXIT_VMLOAD; return m2 & SVM_INTERCEPT2_VMLOAD;
	case EMU_OP_VMSAVE: *code = SVM_EXIT_VMSAVE; return m2 & SVM_INTERCEPT2_VMSAVE;
	case EMU_OP_STGI:   *code = SVM_EXIT_STGI;   return m2 & SVM_INTERCEPT2_STGI;
	case EMU_OP_CLGI:   *code = SVM_EXIT_CLGI;   return m2 & SVM_INTERCEPT2_CLGI;
	case EMU_OP_SKINIT: *code = SVM_EXIT_SKINIT; return m2 & SVM_INTERCEPT2_SKINIT;
	case EMU_OP_INVLPGA: *code = SVM_EXIT_INVLPGA; return m1 & SVM_INTERCEPT_INVLPGA;
	default: return false;
	}
}

static uint64_t addr_mask(unsigned adsize)
{
	return adsize == 8 ? ~0ull : adsize == 4 ? 0xffffffffull : 0xffff;
}

int hw_op_virt_insn(struct emu_ctx *ctx, const struct emu_insn *insn)
{
	struct hw_cpu *cpu = to_hw_cpu(ctx);
	const uint64_t reason = vmx_reason(insn->op);
	uint64_t code;

	if (cpu->guest == HW_GUEST_VMX && reason) {
		vmx_insn_exit(cpu, reason, vmx_insn_disp_qual(cpu, insn));
		if (reason != VMX_EXIT_VMLAUNCH && reason != VMX_EXIT_VMRESUME &&
		    reason != VMX_EXIT_VMXOFF)
			cpu->exit.insn_info = vmx_insn_info(insn);
		return EMU_STOP;
	}
	if (cpu->guest == HW_GUEST_SVM && !reason) {
		if (!(ctx->cpu.efer & EFER_SVME))
			return emu_raise(ctx, EMU_EXC_UD, false, 0);
		/* The instructions' own #GPs come before the intercept (APM
		 * Table 15-7): CPL > 0; for VMRUN/VMLOAD/VMSAVE an rAX beyond
		 * the physical-address width. */
		if (ctx->cpu.cpl)
			return emu_raise(ctx, EMU_EXC_GP, true, 0);
		if ((insn->op == EMU_OP_VMRUN || insn->op == EMU_OP_VMLOAD ||
		     insn->op == EMU_OP_VMSAVE) &&
		    ((ctx->cpu.gpr[EMU_RAX] & addr_mask(insn->adsize)) >> HW_MAXPHYADDR))
			return emu_raise(ctx, EMU_EXC_GP, true, 0);
		if (svm_icpt(cpu, insn->op, &code))
			return svm_insn_exit(cpu, code);
		return hw_unsupported(cpu, "an SVM instruction in a guest (nested SVM)");
	}
	return emu_raise(ctx, EMU_EXC_UD, false, 0);
}

/* SVM intercepts of instructions without an op (enum emu_icpt). */
int hw_op_intercept(struct emu_ctx *ctx, unsigned what)
{
	struct hw_cpu *cpu = to_hw_cpu(ctx);
	static const struct { uint32_t misc1, misc2; uint64_t code; } map[] = {
		[EMU_ICPT_PUSHF] = { SVM_INTERCEPT_PUSHF, 0, SVM_EXIT_PUSHF },
		[EMU_ICPT_POPF]  = { SVM_INTERCEPT_POPF, 0, SVM_EXIT_POPF },
		[EMU_ICPT_IRET]  = { SVM_INTERCEPT_IRET, 0, SVM_EXIT_IRET },
		[EMU_ICPT_INTN]  = { SVM_INTERCEPT_INTN, 0, SVM_EXIT_SWINT },
		[EMU_ICPT_ICEBP] = { 0, SVM_INTERCEPT2_ICEBP, SVM_EXIT_ICEBP },
		[EMU_ICPT_SIDT]  = { SVM_INTERCEPT_IDTR_READ, 0, SVM_EXIT_IDTR_READ },
		[EMU_ICPT_SGDT]  = { SVM_INTERCEPT_GDTR_READ, 0, SVM_EXIT_GDTR_READ },
		[EMU_ICPT_SLDT]  = { SVM_INTERCEPT_LDTR_READ, 0, SVM_EXIT_LDTR_READ },
		[EMU_ICPT_STR]   = { SVM_INTERCEPT_TR_READ, 0, SVM_EXIT_TR_READ },
		[EMU_ICPT_LIDT]  = { SVM_INTERCEPT_IDTR_WRITE, 0, SVM_EXIT_IDTR_WRITE },
		[EMU_ICPT_LGDT]  = { SVM_INTERCEPT_GDTR_WRITE, 0, SVM_EXIT_GDTR_WRITE },
		[EMU_ICPT_LLDT]  = { SVM_INTERCEPT_LDTR_WRITE, 0, SVM_EXIT_LDTR_WRITE },
		[EMU_ICPT_LTR]   = { SVM_INTERCEPT_TR_WRITE, 0, SVM_EXIT_TR_WRITE },
	};
	switch (what) {
	case EMU_ICPT_INVPCID:
		/* No PCIDs, no INVPCID (CPUID 7 EBX[10] = 0: #UD). */
		if (!cpu->m->cfg.features.pcid)
			return emu_raise(ctx, EMU_EXC_UD, false, 0);
		return hw_icpt_insn(cpu, HW_ICPT_INVPCID);
	case EMU_ICPT_LMSW:
		/* SVM: LMSW makes the selective CR0-write intercept
		 * non-selective (APM Table 15-7); both come before a memory
		 * operand is read. VMX decides on the source value (op_set_cr). */
		if (cpu->guest == HW_GUEST_SVM &&
		    ((cpu->svm_ctl.intercept_cr_write & 1) ||
		     (cpu->svm_ctl.intercept_misc1 & SVM_INTERCEPT_CR0_SEL_WRITE)))
			return svm_insn_exit(cpu, (cpu->svm_ctl.intercept_cr_write & 1) ?
					     SVM_EXIT_WRITE_CR0 : SVM_EXIT_CR0_SEL_WRITE);
		return EMU_CONTINUE;
	case EMU_ICPT_OUTS:
		return hw_icpt_io(cpu, (uint16_t)ctx->cpu.gpr[EMU_RDX], cpu->emu.insn->opsize, false);
	case EMU_ICPT_MONITOR:
		if (cpu->guest == HW_GUEST_VMX && (cpu->vmx_ctl.proc & VMX_PROC_MONITOR_EXITING))
			return vmx_insn_exit(cpu, VMX_EXIT_MONITOR, 0);
		return EMU_CONTINUE;
	case EMU_ICPT_MWAIT:
		if (cpu->guest == HW_GUEST_VMX && (cpu->vmx_ctl.proc & VMX_PROC_MWAIT_EXITING)) {
			/* Qualification bit 0: the monitor was armed (28.2.1). */
			const bool armed = cpu->monitor_armed;
			cpu->monitor_armed = false;
			return vmx_insn_exit(cpu, VMX_EXIT_MWAIT, armed);
		}
		return EMU_CONTINUE;
	}
	if (cpu->guest != HW_GUEST_SVM || what >= sizeof(map) / sizeof(map[0]))
		return EMU_CONTINUE;
	if ((cpu->svm_ctl.intercept_misc1 & map[what].misc1) ||
	    (cpu->svm_ctl.intercept_misc2 & map[what].misc2))
		return svm_insn_exit(cpu, map[what].code);
	return EMU_CONTINUE;
}

/* DR7.GD for MOV DR's general-detect check: no intercept applies. */
bool hw_op_dr7_gd(struct emu_ctx *ctx)
{
	return to_hw_cpu(ctx)->dr7 & (1ull << 13);
}

/* IRET completed: NMIs are unblocked (SDM Vol. 3A 6.7.1; with VMX
 * virtual NMIs, virtual-NMI blocking, 25.3). */
void hw_op_iret(struct emu_ctx *ctx)
{
	struct hw_cpu *cpu = to_hw_cpu(ctx);
	cpu->iret_retired = true;	/* run.c: IRET may load RF */
	hw_cpu_serialize(cpu);		/* IRET is serializing (SDM Vol. 3A 9.3) */
	/* With NMI exiting and no virtual NMIs, IRET leaves NMI blocking
	 * alone (SDM Vol. 3C 26.3, IRET). */
	if (cpu->guest == HW_GUEST_VMX && (cpu->vmx_ctl.pin & VMX_PIN_NMI_EXITING) &&
	    !(cpu->vmx_ctl.pin & VMX_PIN_VIRTUAL_NMIS))
		return;
	cpu->ev.nmi_blocked = false;
}
