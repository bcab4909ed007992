/*
 * exec_cr.c — control and debug registers: MOV to/from CR0/2/3/4/8 and
 * DR0-7, CLTS, LMSW, SMSW (SDM Vol. 2A "MOV—Move to/from Control
 * Registers", "MOV—Move to/from Debug Registers", CLTS, LMSW, SMSW;
 * Vol. 3A 2.5 control registers, 17.2 debug registers).
 *
 * The executor does the architectural checks that hold on every model
 * (privilege, the CR0/CR4 bit combinations the SDM forbids, reserved
 * bits 63:32); the ops validate model-specific bits (CR4 features the
 * CPUID model lacks, CR3 bits beyond MAXPHYADDR) and own the registers.
 * CR0 and CR4 are read from the cpu copies when no get_cr op is given.
 */
#include "emulate/sys.h"

#define DR7_GD (1ull << 13)
#define DR6_BD (1ull << 13)	/* "debug register access detected" */

/* CPL 0 (real mode counts as 0; vm86 runs at 3). */
static int need_cpl0(struct emu_ctx *ctx)
{
	return ctx->cpu.cpl || in_vm86(ctx) ? raise_gp0(ctx) : EMU_CONTINUE;
}

static int no_op(struct emu_ctx *ctx, const char *why)
{
	ctx->unhandleable = why;
	return EMU_UNHANDLEABLE;
}

static int get_cr(struct emu_ctx *ctx, unsigned cr, uint64_t *v)
{
	if (ctx->ops->get_cr)
		return ctx->ops->get_cr(ctx, cr, v);
	if (cr == 0 || cr == 4) {
		*v = cr ? ctx->cpu.cr4 : ctx->cpu.cr0;
		return EMU_CONTINUE;
	}
	return no_op(ctx, "MOV from CR2/CR3/CR8 without a get_cr op");
}

/*
 * Checks of a CR0 write (MOV CR0, CLTS, LMSW) that do not depend on the
 * model (SDM Vol. 2A MOV CR "Protected Mode Exceptions", Vol. 3A 9.8.5):
 *
 *   PG = 1 and PE = 0                                   #GP(0)
 *   NW = 1 and CD = 0                                   #GP(0)
 *   bits 63:32 set                                      #GP(0)
 *   PG cleared in 64-bit mode                           #GP(0)
 *   PG set, EFER.LME = 1, CR4.PAE = 0                   #GP(0)
 */
static int check_cr0(struct emu_ctx *ctx, uint64_t v)
{
	if (v >> 32)
		return raise_gp0(ctx);
	if ((v & EMU_CR0_PG) && !(v & EMU_CR0_PE))
		return raise_gp0(ctx);
	if ((v & EMU_CR0_NW) && !(v & EMU_CR0_CD))
		return raise_gp0(ctx);
	if (in_long_mode(ctx) && !(v & EMU_CR0_PG))
		return raise_gp0(ctx);
	if ((v & EMU_CR0_PG) && !(ctx->cpu.cr0 & EMU_CR0_PG) &&
	    (ctx->cpu.efer & EMU_EFER_LME) && !(ctx->cpu.cr4 & EMU_CR4_PAE))
		return raise_gp0(ctx);
	return EMU_CONTINUE;
}

/*
 *   bits 63:32 set                                      #GP(0)
 *   PAE cleared in IA-32e mode                          #GP(0)
 *   PCIDE set outside IA-32e mode                       #GP(0)
 *   PCIDE 0 -> 1 while CR3[11:0] != 0                   #GP(0)
 */
static int check_cr4(struct emu_ctx *ctx, uint64_t v)
{
	const uint64_t old = ctx->cpu.cr4;
	if (v >> 32)
		return raise_gp0(ctx);
	if ((ctx->cpu.efer & EMU_EFER_LMA) && !(v & EMU_CR4_PAE))
		return raise_gp0(ctx);
	if ((v & EMU_CR4_PCIDE) && !(old & EMU_CR4_PCIDE)) {
		uint64_t cr3;
		if (!(ctx->cpu.efer & EMU_EFER_LMA))
			return raise_gp0(ctx);
		TRY(get_cr(ctx, 3, &cr3));
		if (cr3 & 0xfff)
			return raise_gp0(ctx);
	}
	return EMU_CONTINUE;
}

static int write_cr(struct emu_ctx *ctx, unsigned cr, uint64_t v)
{
	if (cr == 0)
		TRY(check_cr0(ctx, v));
	else if (cr == 4)
		TRY(check_cr4(ctx, v));
	else if (cr == 8 && (v >> 4))
		return raise_gp0(ctx);
	if (!ctx->ops->set_cr)
		return no_op(ctx, "MOV to CR without a set_cr op");
	TRY(ctx->ops->set_cr(ctx, cr, v));
	if (cr == 0 || cr == 4)
		emu_mode_changed(ctx);
	return EMU_CONTINUE;
}

/* MOV r, CRn: insn->reg is n, insn->rm the GPR; 64 bits in 64-bit mode,
 * else 32 (decode.c). */
EMU_HANDLER(mov_from_cr)
{
	uint64_t v;
	TRY(need_cpl0(ctx));
	TRY(get_cr(ctx, insn->reg, &v));
	gpr_set(ctx, insn->rm, insn->opsize, v);
	return EMU_CONTINUE;
}

EMU_HANDLER(mov_to_cr)
{
	TRY(need_cpl0(ctx));
	return write_cr(ctx, insn->reg, gpr_get(ctx, insn->rm, insn->opsize));
}

/* CLTS: CR0.TS = 0. */
EMU_HANDLER(clts)
{
	TRY(need_cpl0(ctx));
	return write_cr(ctx, 0, ctx->cpu.cr0 & ~EMU_CR0_TS);
}

/* LMSW: loads CR0 bits 3:0 (PE MP EM TS); PE can be set, never cleared. */
EMU_HANDLER(lmsw)
{
	uint64_t v;
	TRY(need_cpl0(ctx));
	TRY(emu_intercept(ctx, EMU_ICPT_LMSW));
	TRY(emu_src_read(ctx, insn, EMU_LOC_RM, 2, &v));
	ctx->op_src = v;
	const uint64_t cr0 = ctx->cpu.cr0;
	return write_cr(ctx, 0, (cr0 & ~0xfull) | (v & 0xf) | (cr0 & EMU_CR0_PE));
}

/* SMSW: a register gets CR0 at the operand size, memory 16 bits. Not
 * privileged unless CR4.UMIP. */
EMU_HANDLER(smsw)
{
	uint64_t cr0;
	if ((ctx->cpu.cr4 & EMU_CR4_UMIP) && (ctx->cpu.cpl > 0 || in_vm86(ctx)))
		return raise_gp0(ctx);
	TRY(get_cr(ctx, 0, &cr0));
	if (insn->flags & EMU_I_MEM)
		return emu_write_mem(ctx, insn->seg, emu_ea(ctx, insn), cr0 & 0xffff, 2);
	gpr_set(ctx, insn->rm, insn->opsize, cr0);
	return EMU_CONTINUE;
}

/* ------------------------------------------------------------ debug registers */

/*
 * MOV DRn: CPL 0 (#GP(0)); DR4/DR5 are DR6/DR7 unless CR4.DE, then #UD;
 * DR7.GD set makes any access a #DB fault before the register is read
 * or written (general detect, SDM Vol. 3B 18.2.4, 18.3.1.3). The #DB
 * reports DR6.BD in ctx->exc.dr6; hw/ merges it into DR6 and clears GD
 * when it delivers the #DB. The privilege and #UD checks come first:
 * both take priority even over VM exits (SDM Vol. 3C 26.1.1). In 64-bit
 * mode the upper 32 bits of DR6/DR7 must be written as 0.
 */
static int dr_prologue(struct emu_ctx *ctx, unsigned *dr)
{
	uint64_t dr7;
	TRY(need_cpl0(ctx));
	if (*dr == 4 || *dr == 5) {
		if (ctx->cpu.cr4 & EMU_CR4_DE)
			return raise_ud(ctx);
		*dr += 2;
	}
	if (!ctx->ops->get_dr || !ctx->ops->set_dr)
		return no_op(ctx, "MOV DR without get_dr/set_dr ops");
	if (ctx->ops->dr7_gd)
		dr7 = ctx->ops->dr7_gd(ctx) ? DR7_GD : 0;
	else
		TRY(ctx->ops->get_dr(ctx, 7, &dr7));
	if (dr7 & DR7_GD) {
		emu_raise(ctx, EMU_EXC_DB, false, 0);
		ctx->exc.dr6 = DR6_BD;
		return EMU_EXCEPTION;
	}
	return EMU_CONTINUE;
}

EMU_HANDLER(mov_from_dr)
{
	unsigned dr = insn->reg;
	uint64_t v;
	TRY(dr_prologue(ctx, &dr));
	TRY(ctx->ops->get_dr(ctx, dr, &v));
	gpr_set(ctx, insn->rm, insn->opsize, v);
	return EMU_CONTINUE;
}

EMU_HANDLER(mov_to_dr)
{
	unsigned dr = insn->reg;
	const uint64_t v = gpr_get(ctx, insn->rm, insn->opsize);
	TRY(dr_prologue(ctx, &dr));
	if (dr >= 6 && (v >> 32))
		return raise_gp0(ctx);
	return ctx->ops->set_dr(ctx, dr, v);
}
