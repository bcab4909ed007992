/*
 * exec_virt.c — instructions the engine does not model but a
 * virtualization layer must see: RDPMC, MONITOR, MWAIT (SDM Vol. 2B),
 * the VMX instructions other than VMCALL (SDM Vol. 3C 31.3) and the SVM
 * instructions other than VMMCALL (APM Vol. 3 chapter 4, Vol. 2 15.5-
 * 15.17).
 *
 * Each handler raises what its instruction's "Operation" section checks
 * first and what depends only on state the engine holds (mode, CPL, CR4,
 * the operand registers); everything that depends on state it does not
 * have — performance counters, the monitor, VMX operation and the VMCS,
 * EFER.SVME, CPUID feature bits — is the op's, and so are hw/'s intercept
 * checks, which rank after #UD and privilege faults (SDM Vol. 3C 26.1.1;
 * APM Vol. 2 15.7). A NULL op is a CPU without the instruction: #UD.
 *
 *   instruction     engine, in this order                      op
 *   RDPMC           #GP(0): CR4.PCE = 0, CR0.PE = 1 and         EDX:EAX, or #GP(0) for
 *                   (CPL > 0 or vm86)                          an ECX it lacks
 *   MONITOR         #UD: CPL > 0 or vm86; DS:rAX checked as     arm the monitor at la
 *                   a byte read (#GP(0)/#SS(0)); #GP(0): ECX≠0
 *   MWAIT           #UD: CPL > 0 or vm86; #GP(0): ECX[31:1]≠0   wait; #GP(0) for ECX[0]
 *                                                              without CPUID.05H:ECX[1]
 *   VMX (31.3)      #UD: CR0.PE = 0, RFLAGS.VM = 1, or          all the rest
 *                   IA32_EFER.LMA = 1 and CS.L = 0
 *   SVM             #UD: real mode or vm86 ("recognized only    all the rest
 *                   in protected mode")
 *
 * Register-only and memory-only forms are the decoder's (#UD). MONITOR
 * and MWAIT at CPL > 0 are #UD as the SDM states for CPL 0-only use; the
 * vendor switches that allow them in user mode (AMD HWCR.MonMwaitUserEn)
 * are not modelled. The operand faults of MONITOR and MWAIT (segment,
 * ECX) are raised here, before the op and so before an intercept check in
 * it; a processor checks the intercept first, which a guest can only see
 * by running MONITOR/MWAIT with faulting operands under an intercept.
 */
#include "emulate/exec.h"

#define CR4_PCE (1ull << 8)	/* performance-monitoring counter enable */

/* EDX:EAX <- @v, the upper halves cleared (as RDMSR). */
static void set_edx_eax(struct emu_ctx *ctx, uint64_t v)
{
	ctx->cpu.gpr[EMU_RAX] = (uint32_t)v;
	ctx->cpu.gpr[EMU_RDX] = v >> 32;
}

/*
 * RDPMC (SDM Vol. 2B RDPMC "Operation"): counters are readable when
 * CR4.PCE = 1, CPL = 0 or CR0.PE = 0; vm86 runs at CPL 3.
 */
EMU_HANDLER(rdpmc)
{
	uint64_t v;

	if (!ctx->ops->rdpmc)
		return raise_ud(ctx);
	if (!(ctx->cpu.cr4 & CR4_PCE) && !in_real_mode(ctx) &&
	    (ctx->cpu.cpl > 0 || in_vm86(ctx)))
		return raise_gp0(ctx);
	TRY(ctx->ops->rdpmc(ctx, (uint32_t)ctx->cpu.gpr[EMU_RCX], &v));
	set_edx_eax(ctx, v);
	return EMU_CONTINUE;
}

/* MONITOR and MWAIT: CPL 0 only, not recognized in vm86 (SDM Vol. 2B
 * MONITOR, MWAIT: "use at any other privilege level results in an
 * invalid-opcode exception"; Virtual-8086 Mode Exceptions). */
static int monitor_mwait_ud(struct emu_ctx *ctx)
{
	return ctx->cpu.cpl > 0 || in_vm86(ctx) ? raise_ud(ctx) : EMU_CONTINUE;
}

/*
 * MONITOR: the effective address is rAX by address size in DS (segment
 * overrides allowed), "subject to the permission checking and faults
 * associated with a byte load"; no extension is defined, so ECX ≠ 0 is
 * #GP(0) (SDM Vol. 2B MONITOR, Protected Mode Exceptions). EDX holds
 * hints, which do not fault.
 */
EMU_HANDLER(monitor)
{
	const uint64_t ea = gpr_get(ctx, EMU_RAX, insn->adsize);
	const uint32_t ecx = (uint32_t)ctx->cpu.gpr[EMU_RCX];
	uint64_t la;

	if (!ctx->ops->monitor)
		return raise_ud(ctx);
	TRY(monitor_mwait_ud(ctx));
	/* VMX exits come before these operand faults (SDM 26.1.1); SVM's
	 * intercept after them is the op's (APM Table 15-7). */
	TRY(emu_intercept(ctx, EMU_ICPT_MONITOR));
	TRY(emu_linear(ctx, insn->seg, ea, 1, 0, &la));
	if (ecx)
		return raise_gp0(ctx);
	return ctx->ops->monitor(ctx, la, ecx, (uint32_t)ctx->cpu.gpr[EMU_RDX]);
}

/*
 * MWAIT: ECX bit 0 is the only extension (interrupts as break events,
 * SDM Vol. 2B MWAIT Table "MWAIT Extension Register (ECX)"); bits 31:1
 * are reserved and #GP(0) ("If ECX[31:1] ≠ 0"). Whether bit 0 is
 * supported is CPUID.05H:ECX[1], the op's business. EAX holds hints. An
 * op that enters the wait returns EMU_HALT, and rip moves past MWAIT
 * first, as for HLT ("execution will resume at the instruction following
 * MWAIT").
 */
EMU_HANDLER(mwait)
{
	const uint32_t ecx = (uint32_t)ctx->cpu.gpr[EMU_RCX];

	if (!ctx->ops->mwait)
		return raise_ud(ctx);
	TRY(monitor_mwait_ud(ctx));
	TRY(emu_intercept(ctx, EMU_ICPT_MWAIT));
	if (ecx >> 1)
		return raise_gp0(ctx);
	int r = ctx->ops->mwait(ctx, (uint32_t)ctx->cpu.gpr[EMU_RAX], ecx);
	if (r == EMU_HALT)
		ctx->cpu.rip = ctx->next_rip;
	return r;
}

/* ------------------------------------------------------------ VMX, SVM */

static int virt_insn(struct emu_ctx *ctx, const struct emu_insn *insn)
{
	if (!ctx->ops->virt_insn)
		return raise_ud(ctx);
	return ctx->ops->virt_insn(ctx, insn);
}

/*
 * The VMX instructions other than VMCALL open their "Operation" with
 * "IF (not in VMX operation) or (CR0.PE = 0) or (RFLAGS.VM = 1) or
 * (IA32_EFER.LMA = 1 and CS.L = 0) THEN #UD" (VMXON: CR4.VMXE = 0 in
 * place of the first), ahead of the VM exit in VMX non-root operation.
 * The mode conditions are checked here; VMX operation and CR4.VMXE are
 * the op's, as is everything after them (SDM Vol. 3C 31.3; "Only VMCALL
 * can be executed in compatibility mode", 31.1).
 */
static int vmx_insn(struct emu_ctx *ctx, const struct emu_insn *insn)
{
	const bool compat = (ctx->cpu.efer & EMU_EFER_LMA) &&
			    !(ctx->cpu.seg[EMU_CS].ar & EMU_AR_L);

	if (!in_protected(ctx) || compat)
		return raise_ud(ctx);
	return virt_insn(ctx, insn);
}

EMU_HANDLER(vmlaunch) { return vmx_insn(ctx, insn); }
EMU_HANDLER(vmresume) { return vmx_insn(ctx, insn); }
EMU_HANDLER(vmxoff) { return vmx_insn(ctx, insn); }
EMU_HANDLER(vmread) { return vmx_insn(ctx, insn); }
EMU_HANDLER(vmwrite) { return vmx_insn(ctx, insn); }
EMU_HANDLER(vmptrld) { return vmx_insn(ctx, insn); }
EMU_HANDLER(vmptrst) { return vmx_insn(ctx, insn); }
EMU_HANDLER(vmclear) { return vmx_insn(ctx, insn); }
EMU_HANDLER(vmxon) { return vmx_insn(ctx, insn); }
EMU_HANDLER(invept) { return vmx_insn(ctx, insn); }
EMU_HANDLER(invvpid) { return vmx_insn(ctx, insn); }

/*
 * The SVM instructions other than VMMCALL start with "IF ((EFER.SVME = 0)
 * [and no SKINIT support, for STGI and SKINIT]) or (not protected mode)
 * THEN #UD", then #GP(0) at CPL > 0, then the intercept check (APM Vol. 3
 * VMRUN, VMLOAD, VMSAVE, STGI, CLGI, SKINIT, INVLPGA "Operation"). Only
 * the mode is the engine's: EFER.SVME comes first and is SVM state, so
 * the CPL check, which follows it, is the op's too. Protected mode here
 * excludes vm86, as in hw/svm_insn.c.
 */
static int svm_insn(struct emu_ctx *ctx, const struct emu_insn *insn)
{
	if (!in_protected(ctx))
		return raise_ud(ctx);
	return virt_insn(ctx, insn);
}

EMU_HANDLER(vmrun) { return svm_insn(ctx, insn); }
EMU_HANDLER(vmload) { return svm_insn(ctx, insn); }
EMU_HANDLER(vmsave) { return svm_insn(ctx, insn); }
EMU_HANDLER(stgi) { return svm_insn(ctx, insn); }
EMU_HANDLER(clgi) { return svm_insn(ctx, insn); }
EMU_HANDLER(skinit) { return svm_insn(ctx, insn); }
EMU_HANDLER(invlpga) { return svm_insn(ctx, insn); }
