/*
 * exec_branch.c — near control transfer: Jcc, JMP, CALL, RET, LOOP,
 * LOOPE, LOOPNE, JrCXZ, ENTER, LEAVE (SDM Vol. 2A/2B).
 *
 * Each handler checks the target (emu_branch: CS limit, canonical
 * address) before it commits anything, so a faulting branch leaves rSP
 * and rCX as they were. Near branches have a 64-bit operand size in
 * 64-bit mode (66 is ignored, as on Intel processors).
 */
#include "emulate/exec.h"

static uint64_t rel_target(const struct emu_ctx *ctx, const struct emu_insn *insn)
{
	return ctx->next_rip + (uint64_t)(int64_t)insn->disp;
}

EMU_HANDLER(jcc)
{
	if (!emu_cond(ctx, insn->opcode & 0xf))
		return EMU_CONTINUE;
	return emu_branch(ctx, rel_target(ctx, insn), insn->opsize);
}

EMU_HANDLER(jmp)
{
	return emu_branch(ctx, rel_target(ctx, insn), insn->opsize);
}

EMU_HANDLER(jmp_ind)
{
	uint64_t t;
	TRY(emu_src_read(ctx, insn, EMU_LOC_RM, insn->opsize, &t));
	return emu_branch(ctx, t, insn->opsize);
}

static int call_to(struct emu_ctx *ctx, const struct emu_insn *insn, uint64_t target)
{
	const uint64_t ret = ctx->next_rip;
	TRY(emu_branch(ctx, target, insn->opsize));
	return emu_push(ctx, ret, insn->opsize);
}

EMU_HANDLER(call)
{
	return call_to(ctx, insn, rel_target(ctx, insn));
}

EMU_HANDLER(call_ind)
{
	uint64_t t;
	TRY(emu_src_read(ctx, insn, EMU_LOC_RM, insn->opsize, &t));
	return call_to(ctx, insn, t);
}

/* RET [imm16]: pop the target, then release imm16 more bytes. */
EMU_HANDLER(ret)
{
	uint64_t t;
	TRY(emu_stack_peek(ctx, 0, &t, insn->opsize));
	TRY(emu_branch(ctx, t, insn->opsize));
	emu_sp_add(ctx, (int64_t)insn->opsize + (int64_t)(insn->dst == EMU_LOC_IMM ? insn->imm : 0));
	return EMU_CONTINUE;
}

/* LOOP family: the counter is rCX in the address size. */
static int loop(struct emu_ctx *ctx, const struct emu_insn *insn, int zf_cond)
{
	const unsigned as = insn->adsize;
	uint64_t c = (gpr_get(ctx, EMU_RCX, as) - 1) & size_mask(as);
	bool take = c != 0;
	if (zf_cond >= 0)
		take = take && !!(ctx->cpu.rflags & EMU_FLAG_ZF) == zf_cond;
	if (take)
		TRY(emu_branch(ctx, rel_target(ctx, insn), insn->opsize));
	gpr_set(ctx, EMU_RCX, as, c);
	return EMU_CONTINUE;
}

EMU_HANDLER(loop) { return loop(ctx, insn, -1); }
EMU_HANDLER(loope) { return loop(ctx, insn, 1); }
EMU_HANDLER(loopne) { return loop(ctx, insn, 0); }

EMU_HANDLER(jrcxz)
{
	if (gpr_get(ctx, EMU_RCX, insn->adsize))
		return EMU_CONTINUE;
	return emu_branch(ctx, rel_target(ctx, insn), insn->opsize);
}

/*
 * ENTER size, level (SDM Vol. 2A ENTER "Operation"): push rBP, copy
 * level-1 frame pointers from the old frame, push the new frame pointer,
 * then allocate size bytes. Works on a local rSP/rBP and commits both at
 * the end, so a fault leaves the registers as they were.
 */
EMU_HANDLER(enter)
{
	const unsigned os = insn->opsize, ss = stack_size(ctx);
	const uint64_t m = size_mask(ss);
	const unsigned level = insn->imm2 & 0x1f;
	uint64_t sp = ctx->cpu.gpr[EMU_RSP] & m;
	uint64_t bp = ctx->cpu.gpr[EMU_RBP] & m;
	uint64_t v;

	sp = (sp - os) & m;
	TRY(emu_write_mem(ctx, EMU_SS, sp, gpr_get(ctx, EMU_RBP, os), os));
	const uint64_t frame = sp;
	if (level > 0) {
		for (unsigned i = 1; i < level; i++) {
			bp = (bp - os) & m;
			TRY(emu_read_mem(ctx, EMU_SS, bp, &v, os));
			sp = (sp - os) & m;
			TRY(emu_write_mem(ctx, EMU_SS, sp, v, os));
		}
		sp = (sp - os) & m;
		TRY(emu_write_mem(ctx, EMU_SS, sp, frame, os));
	}
	sp = (sp - (insn->imm & 0xffff)) & m;
	/* The final rSP must be usable: SDM lists #SS if it is beyond the
	 * stack limit. */
	uint64_t la;
	if (ctx->mode != EMU_MODE_64 && (insn->imm & 0xffff))
		TRY(emu_linear(ctx, EMU_SS, sp, 1, EMU_ACC_WRITE, &la));
	gpr_set(ctx, EMU_RBP, os, frame);
	ctx->cpu.gpr[EMU_RSP] = (ctx->cpu.gpr[EMU_RSP] & ~m) | sp;
	return EMU_CONTINUE;
}

/* LEAVE: rSP = rBP (stack address size), then pop rBP (operand size). */
EMU_HANDLER(leave)
{
	const uint64_t m = size_mask(stack_size(ctx));
	uint64_t v, sp = ctx->cpu.gpr[EMU_RBP] & m;
	TRY(emu_read_mem(ctx, EMU_SS, sp, &v, insn->opsize));
	ctx->cpu.gpr[EMU_RSP] = (ctx->cpu.gpr[EMU_RSP] & ~m) | ((sp + insn->opsize) & m);
	gpr_set(ctx, EMU_RBP, insn->opsize, v);
	return EMU_CONTINUE;
}
