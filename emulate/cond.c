/*
 * cond.c — condition codes and near branches.
 *
 * The sixteen conditions of Jcc/SETcc/CMOVcc (SDM Vol. 1 Appendix B,
 * Table B-1): bit 0 of cc negates the condition of cc & ~1. Also the
 * slow half of lazy flags: computing them from the recorded operation.
 */
#include "emulate/exec.h"

void emu_flags_sync_slow(struct emu_ctx *ctx)
{
	const unsigned size = ctx->lf.size;
	const uint64_t a = ctx->lf.a, b = ctx->lf.b, res = ctx->lf.res;
	uint64_t f;

	switch (ctx->lf.op) {
	case LF_ADD: f = flags_add(a, b, res, size); break;
	case LF_SUB: f = flags_sub(a, b, res, size); break;
	case LF_INC:
		f = (flags_add(a, 1, res, size) & ~(uint64_t)EMU_FLAG_CF) |
		    (ctx->cpu.rflags & EMU_FLAG_CF);
		break;
	case LF_DEC:
		f = (flags_sub(a, 1, res, size) & ~(uint64_t)EMU_FLAG_CF) |
		    (ctx->cpu.rflags & EMU_FLAG_CF);
		break;
	default: f = flags_logic(res, size); break;
	}
	ctx->lf.op = LF_NONE;
	ctx->cpu.rflags = (ctx->cpu.rflags & ~(uint64_t)ARITH) | f;
}

bool emu_cond_slow(struct emu_ctx *ctx, unsigned cc)
{
	emu_flags_sync(ctx);
	const uint64_t f = ctx->cpu.rflags;
	bool r;
	switch ((cc >> 1) & 7) {
	case 0: r = f & EMU_FLAG_OF; break;				/* O */
	case 1: r = f & EMU_FLAG_CF; break;				/* B/C */
	case 2: r = f & EMU_FLAG_ZF; break;				/* E/Z */
	case 3: r = f & (EMU_FLAG_CF | EMU_FLAG_ZF); break;		/* BE */
	case 4: r = f & EMU_FLAG_SF; break;				/* S */
	case 5: r = f & EMU_FLAG_PF; break;				/* P */
	case 6: r = !(f & EMU_FLAG_SF) != !(f & EMU_FLAG_OF); break;	/* L */
	default: r = (f & EMU_FLAG_ZF) ||
		     !(f & EMU_FLAG_SF) != !(f & EMU_FLAG_OF); break;	/* LE */
	}
	return r ^ (cc & 1);
}

int emu_branch(struct emu_ctx *ctx, uint64_t target, unsigned opsize)
{
	if (ctx->mode == EMU_MODE_64) {
		if (opsize != 8)
			target &= size_mask(opsize);
		if (!emu_is_canonical(target))
			return raise_gp0(ctx);
	} else {
		target &= size_mask(opsize);
		if (target > ctx->cpu.seg[EMU_CS].limit)
			return raise_gp0(ctx);
	}
	ctx->next_rip = target;
	return EMU_CONTINUE;
}
