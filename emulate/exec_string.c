/*
 * exec_string.c — string instructions: MOVS, CMPS, STOS, LODS, SCAS,
 * INS, OUTS, with REP/REPE/REPNE (SDM Vol. 2B "REP/REPE/REPZ/REPNE/
 * REPNZ", each instruction's "Operation").
 *
 * One element per iteration; rSI/rDI step by the element size (down when
 * DF = 1) in the address size; with a REP prefix rCX counts down and is
 * checked before each iteration. State is committed per iteration, so a
 * fault in iteration k leaves the registers after k-1 iterations and rip
 * at the instruction: re-executing it continues where it stopped
 * (restartable). ctx->rep_limit bounds the iterations per call so the
 * caller can deliver interrupts in between (interruptible).
 *
 * The source of MOVS/CMPS/LODS/OUTS is DS:rSI (segment overridable);
 * the destination of MOVS/STOS/INS and the second operand of CMPS/SCAS
 * is ES:rDI (never overridden).
 */
#include "emulate/exec.h"
#include "emulate/sys.h"

enum str_op { STR_MOVS, STR_CMPS, STR_STOS, STR_LODS, STR_SCAS, STR_INS, STR_OUTS };

static void advance(struct emu_ctx *ctx, unsigned reg, unsigned as, unsigned size)
{
	int64_t d = (ctx->cpu.rflags & EMU_FLAG_DF) ? -(int64_t)size : (int64_t)size;
	gpr_set(ctx, reg, as, gpr_get(ctx, reg, as) + (uint64_t)d);
}

/* One element. Returns EMU_CONTINUE or the fault. */
static int str_once(struct emu_ctx *ctx, const struct emu_insn *insn, enum str_op op)
{
	const unsigned size = insn->opsize, as = insn->adsize;
	const uint64_t si = gpr_get(ctx, EMU_RSI, as), di = gpr_get(ctx, EMU_RDI, as);
	uint64_t a, b;

	switch (op) {
	case STR_MOVS:
		TRY(emu_read_mem(ctx, insn->seg, si, &a, size));
		TRY(emu_write_mem(ctx, EMU_ES, di, a, size));
		advance(ctx, EMU_RSI, as, size);
		advance(ctx, EMU_RDI, as, size);
		break;
	case STR_CMPS:
		TRY(emu_read_mem(ctx, insn->seg, si, &a, size));
		TRY(emu_read_mem(ctx, EMU_ES, di, &b, size));
		set_arith_flags(ctx, flags_sub(a, b, a - b, size), ARITH);
		advance(ctx, EMU_RSI, as, size);
		advance(ctx, EMU_RDI, as, size);
		break;
	case STR_STOS:
		TRY(emu_write_mem(ctx, EMU_ES, di, gpr_get(ctx, EMU_RAX, size), size));
		advance(ctx, EMU_RDI, as, size);
		break;
	case STR_LODS:
		TRY(emu_read_mem(ctx, insn->seg, si, &a, size));
		gpr_set(ctx, EMU_RAX, size, a);
		advance(ctx, EMU_RSI, as, size);
		break;
	case STR_SCAS:
		a = gpr_get(ctx, EMU_RAX, size);
		TRY(emu_read_mem(ctx, EMU_ES, di, &b, size));
		set_arith_flags(ctx, flags_sub(a, b, a - b, size), ARITH);
		advance(ctx, EMU_RDI, as, size);
		break;
	case STR_INS: {
		uint64_t la;
		const uint16_t port = ctx->cpu.gpr[EMU_RDX] & 0xffff;
		TRY(emu_io_check(ctx, port, size));
		if (!ctx->ops->pio_in)
			return raise_ud(ctx);
		/* Check the destination before the port is read: a port
		 * read can have side effects. */
		TRY(emu_linear(ctx, EMU_ES, di, size, EMU_ACC_WRITE, &la));
		a = 0;
		TRY(ctx->ops->pio_in(ctx, port, &a, size));
		TRY(la_write(ctx, la, a, size, EMU_ACC_WRITE));
		advance(ctx, EMU_RDI, as, size);
		break;
	}
	case STR_OUTS: {
		const uint16_t port = ctx->cpu.gpr[EMU_RDX] & 0xffff;
		TRY(emu_io_check(ctx, port, size));
		if (!ctx->ops->pio_out)
			return raise_ud(ctx);
		/* An I/O intercept comes before the source is read (APM
		 * Vol. 2 15.10.2; the VMX exit reports the address). */
		TRY(emu_intercept(ctx, EMU_ICPT_OUTS));
		TRY(emu_read_mem(ctx, insn->seg, si, &a, size));
		TRY(ctx->ops->pio_out(ctx, port, &a, size));
		advance(ctx, EMU_RSI, as, size);
		break;
	}
	}
	return EMU_CONTINUE;
}

static int string_op(struct emu_ctx *ctx, const struct emu_insn *insn, enum str_op op)
{
	const unsigned as = insn->adsize;
	const bool cond = op == STR_CMPS || op == STR_SCAS;
	uint32_t n = 0;

	if (!(insn->flags & (EMU_I_REP | EMU_I_REPNE)))
		return str_once(ctx, insn, op);
	for (;;) {
		if (!gpr_get(ctx, EMU_RCX, as))
			return EMU_CONTINUE;
		TRY(str_once(ctx, insn, op));
		gpr_set(ctx, EMU_RCX, as, gpr_get(ctx, EMU_RCX, as) - 1);
		if (cond) {
			/* REPE stops when ZF = 0, REPNE when ZF = 1. */
			bool zf = ctx->cpu.rflags & EMU_FLAG_ZF;
			if ((insn->flags & EMU_I_REPNE) ? zf : !zf)
				return EMU_CONTINUE;
		}
		if (ctx->rep_limit && ++n >= ctx->rep_limit &&
		    gpr_get(ctx, EMU_RCX, as)) {
			ctx->next_rip = ctx->cpu.rip;	/* resume later */
			return EMU_CONTINUE;
		}
	}
}

EMU_HANDLER(movs) { return string_op(ctx, insn, STR_MOVS); }
EMU_HANDLER(cmps) { return string_op(ctx, insn, STR_CMPS); }
EMU_HANDLER(stos) { return string_op(ctx, insn, STR_STOS); }
EMU_HANDLER(lods) { return string_op(ctx, insn, STR_LODS); }
EMU_HANDLER(scas) { return string_op(ctx, insn, STR_SCAS); }
EMU_HANDLER(ins) { return string_op(ctx, insn, STR_INS); }
EMU_HANDLER(outs) { return string_op(ctx, insn, STR_OUTS); }
