/*
 * exec_int.c — instructions that raise events or gate them: INT n, INT3,
 * INTO, INT1 (ICEBP), BOUND, UD0/UD1/UD2, FWAIT, CLI, STI (SDM Vol. 2A
 * "INT n/INTO/INT3/INT1", BOUND, CLI, STI, UD, WAIT/FWAIT; Vol. 3A 6.4
 * sources of interrupts, 20.2.7 and 20.4 vm86 and virtual interrupts).
 *
 * Software interrupts and traps are not delivered here: the handler
 * fills ctx->exc (EMU_EVENT_SOFTINT or EMU_EVENT_TRAP), moves rip past
 * the instruction (the return address the IDT handler sees) and
 * returns EMU_EXCEPTION; the caller delivers the event through the IDT.
 * INT n and INT1 ask ops->intercept first (after INT n's vm86 #GP(0)):
 * SVM intercepts both by their own bits (APM Vol. 2 15.7).
 */
#include "emulate/sys.h"

/* An event raised after the instruction completed: rip advances. */
static int raise_after(struct emu_ctx *ctx, unsigned vector, enum emu_event_kind kind)
{
	emu_raise(ctx, vector, false, 0);
	ctx->exc.kind = kind;
	ctx->cpu.rip = ctx->next_rip;
	return EMU_EXCEPTION;
}

/*
 * INT n. In vm86 with IOPL < 3 it faults to the monitor (#GP(0)) unless
 * CR4.VME, where the TSS redirection bitmap decides (SDM Vol. 3A
 * 20.4.2); that path belongs to event delivery and is not modelled here.
 * The intercept check sits between the two: the #GP(0) is a simple
 * exception, the redirection is the instruction's own work.
 */
EMU_HANDLER(int)
{
	const bool vm86_low_iopl = in_vm86(ctx) && emu_iopl(ctx) < 3;

	if (vm86_low_iopl && !(ctx->cpu.cr4 & EMU_CR4_VME))
		return raise_gp0(ctx);
	TRY(emu_intercept(ctx, EMU_ICPT_INTN));
	if (vm86_low_iopl) {
		ctx->unhandleable = "INT n in vm86 with CR4.VME (redirection bitmap)";
		return EMU_UNHANDLEABLE;
	}
	return raise_after(ctx, (unsigned)(insn->imm & 0xff), EMU_EVENT_SOFTINT);
}

EMU_HANDLER(int3) { return raise_after(ctx, EMU_EXC_BP, EMU_EVENT_TRAP); }

EMU_HANDLER(int1)
{
	TRY(emu_intercept(ctx, EMU_ICPT_ICEBP));
	return raise_after(ctx, EMU_EXC_DB, EMU_EVENT_TRAP);
}

EMU_HANDLER(into)
{
	if (!(ctx->cpu.rflags & EMU_FLAG_OF))
		return EMU_CONTINUE;
	return raise_after(ctx, EMU_EXC_OF, EMU_EVENT_TRAP);
}

/* BOUND r, m: signed lower and upper bounds at m and m + opsize; outside
 * them is a #BR fault. */
EMU_HANDLER(bound)
{
	const unsigned os = insn->opsize;
	const uint64_t ea = emu_ea(ctx, insn);
	uint64_t lo, hi;

	TRY(emu_read_mem(ctx, insn->seg, ea, &lo, os));
	TRY(emu_read_mem(ctx, insn->seg, (ea + os) & size_mask(insn->adsize), &hi, os));
	const int64_t idx = sext_to64(gpr_get(ctx, insn->reg, os), os);
	if (idx < sext_to64(lo, os) || idx > sext_to64(hi, os))
		return emu_raise(ctx, EMU_EXC_BR, false, 0);
	return EMU_CONTINUE;
}

/* UD0, UD1, UD2: the operand of UD0/UD1 is decoded but not accessed. */
EMU_HANDLER(ud) { return raise_ud(ctx); }

/* FWAIT: #NM when CR0.MP and CR0.TS are both set (SDM Vol. 3A Table
 * 2-2); no x87 state is modelled, so otherwise a no-op. */
EMU_HANDLER(fwait)
{
	const uint64_t want = EMU_CR0_MP | EMU_CR0_TS;
	if ((ctx->cpu.cr0 & want) == want)
		return emu_raise(ctx, EMU_EXC_NM, false, 0);
	return EMU_CONTINUE;
}

/*
 * CLI and STI (SDM Vol. 2A CLI/STI "Operation"):
 *
 *   mode        condition                               effect
 *   real        -                                       IF
 *   protected   IOPL >= CPL                             IF
 *   protected   CPL = 3, IOPL < 3, CR4.PVI              VIF (STI: #GP(0) if VIP)
 *   vm86        IOPL = 3                                IF
 *   vm86        IOPL < 3, CR4.VME                       VIF (STI: #GP(0) if VIP)
 *   otherwise                                           #GP(0)
 */
static int which_if(struct emu_ctx *ctx, bool set, uint64_t *bit)
{
	const unsigned iopl = emu_iopl(ctx), cpl = ctx->cpu.cpl;
	bool virt;

	*bit = EMU_FLAG_IF;
	if (in_real_mode(ctx))
		return EMU_CONTINUE;
	if (in_vm86(ctx)) {
		if (iopl == 3)
			return EMU_CONTINUE;
		virt = ctx->cpu.cr4 & EMU_CR4_VME;
	} else {
		if (iopl >= cpl)
			return EMU_CONTINUE;
		virt = cpl == 3 && (ctx->cpu.cr4 & EMU_CR4_PVI);
	}
	if (!virt || (set && (ctx->cpu.rflags & EMU_FLAG_VIP)))
		return raise_gp0(ctx);
	*bit = EMU_FLAG_VIF;
	return EMU_CONTINUE;
}

EMU_HANDLER(cli)
{
	uint64_t bit;
	TRY(which_if(ctx, false, &bit));
	ctx->cpu.rflags &= ~bit;
	return EMU_CONTINUE;
}

/* STI that sets IF blocks interrupts until after the next instruction
 * (SDM Vol. 3A 6.8.3). */
EMU_HANDLER(sti)
{
	uint64_t bit;
	TRY(which_if(ctx, true, &bit));
	if (bit == EMU_FLAG_IF && !(ctx->cpu.rflags & EMU_FLAG_IF) && ctx->ops->set_shadow)
		ctx->ops->set_shadow(ctx, false);
	ctx->cpu.rflags |= bit;
	return EMU_CONTINUE;
}
