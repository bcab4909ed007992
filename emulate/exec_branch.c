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
#ifdef CONFIG_EMU_DECODE_CACHE
#include "emulate/dcache.h"
#endif

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

#ifdef CONFIG_EMU_DECODE_CACHE
/*
 * Fast forms (dcache.h) of Jcc in 64-bit mode, one per condition code so
 * the condition folds to the tests it needs, with no call: what
 * exec_jcc() and emu_branch() do for a 64-bit operand size. Not taken:
 * the next slot. Taken: rip = next rip + displacement, leaving the chain
 * (a non-canonical target takes the general path, which raises #GP(0));
 * a branch back to the start of its own block (known when the block is
 * built) is a loop, which fast_loop() may run without leaving.
 */
FAST_ALWAYS_INLINE bool jcc_cond(const struct emu_ctx *ctx, unsigned cc)
{
	/* emu_cond()'s shortcuts first: Z and S of a pending result. */
	if (ctx->lf.op != LF_NONE && (cc & 0xe) == 4)
		return !ctx->lf.res ^ (cc & 1);
	if (ctx->lf.op != LF_NONE && (cc & 0xe) == 8)
		return ((ctx->lf.res >> (ctx->lf.size * 8 - 1)) & 1) ^ (cc & 1);
	return emu_cond_inline(ctx, cc);
}

FAST_ALWAYS_INLINE int jcc_rel(FAST_ARGS, unsigned cc)
{
	if (!jcc_cond(ctx, cc))
		return fast_next(ctx, s, env);
	const uint64_t target = fast_next_rip(s, env) + (uint64_t)(int64_t)s->insn.disp;
	if (!emu_is_canonical(target))
		return emu_fast_general(ctx, s, env);
	ctx->cpu.rip = target;
	ctx->icount = env->icount0 + s->idx + 1;
	return EMU_FAST_LEAVE;
}

/* The target is rip0, canonical: the block was fetched from there. */
FAST_ALWAYS_INLINE int jcc_back(FAST_ARGS, unsigned cc)
{
	if (!jcc_cond(ctx, cc))
		return fast_next(ctx, s, env);
	return fast_loop(ctx, s, env);
}

#define JCC_FORM(cc)							\
	static int jcc_##cc(FAST_ARGS) { return jcc_rel(ctx, s, env, 0x##cc); } \
	static int jcc_back_##cc(FAST_ARGS) { return jcc_back(ctx, s, env, 0x##cc); }
JCC_FORM(0) JCC_FORM(1) JCC_FORM(2) JCC_FORM(3) JCC_FORM(4) JCC_FORM(5)
JCC_FORM(6) JCC_FORM(7) JCC_FORM(8) JCC_FORM(9) JCC_FORM(a) JCC_FORM(b)
JCC_FORM(c) JCC_FORM(d) JCC_FORM(e) JCC_FORM(f)
static const emu_fast_fn jcc_forms[2][16] = {
	{ jcc_0, jcc_1, jcc_2, jcc_3, jcc_4, jcc_5, jcc_6, jcc_7,
	  jcc_8, jcc_9, jcc_a, jcc_b, jcc_c, jcc_d, jcc_e, jcc_f },
	{ jcc_back_0, jcc_back_1, jcc_back_2, jcc_back_3, jcc_back_4, jcc_back_5,
	  jcc_back_6, jcc_back_7, jcc_back_8, jcc_back_9, jcc_back_a, jcc_back_b,
	  jcc_back_c, jcc_back_d, jcc_back_e, jcc_back_f },
};

/*
 * JMP, CALL and RET (near, relative or from the stack), 64-bit operand
 * size: exec_jmp(), call_to() and exec_ret(). Each leaves the chain
 * (they end blocks), except a JMP back to the start of its own block,
 * which is a loop as for Jcc. CALL checks the target, then pushes; RET
 * pops, then checks the target: nothing changes until both succeeded.
 */
static int jmp_rel(FAST_ARGS)
{
	const uint64_t target = fast_next_rip(s, env) + (uint64_t)(int64_t)s->insn.disp;
	if (!emu_is_canonical(target))
		return emu_fast_general(ctx, s, env);
	ctx->cpu.rip = target;
	ctx->icount = env->icount0 + s->idx + 1;
	return EMU_FAST_LEAVE;
}

static int jmp_back(FAST_ARGS)
{
	return fast_loop(ctx, s, env);
}

static int call_rel(FAST_ARGS)
{
	const uint64_t ret = fast_next_rip(s, env);
	const uint64_t target = ret + (uint64_t)(int64_t)s->insn.disp;
	const uint64_t la = ctx->cpu.gpr[EMU_RSP] - 8;
	void *p;
	if (!emu_is_canonical(target) || !fast_tlb(ctx, env, la, 8, true, &p))
		return emu_fast_general(ctx, s, env);
	emu_host_store(p, ret, 8);
	ctx->cpu.gpr[EMU_RSP] = la;
	ctx->cpu.rip = target;
	ctx->icount = env->icount0 + s->idx + 1;
	return EMU_FAST_LEAVE;
}

/* RET and RET imm16 (s->insn.imm, zero-extended; 0 for RET). */
static int ret_near(FAST_ARGS)
{
	const uint64_t la = ctx->cpu.gpr[EMU_RSP];
	void *p;
	if (!fast_tlb(ctx, env, la, 8, false, &p))
		return emu_fast_general(ctx, s, env);
	const uint64_t target = emu_host_load(p, 8);
	if (!emu_is_canonical(target))
		return emu_fast_general(ctx, s, env);
	ctx->cpu.gpr[EMU_RSP] = la + 8 + s->insn.imm;
	ctx->cpu.rip = target;
	ctx->icount = env->icount0 + s->idx + 1;
	return EMU_FAST_LEAVE;
}

emu_fast_fn emu_fast_branch(struct emu_slot *s)
{
	const bool back = (int64_t)s[1].off + s->insn.disp == 0;

	if (s->insn.opsize != 8)
		return NULL;
	switch (s->insn.op) {
	case EMU_OP_JCC:
		return jcc_forms[back][s->insn.opcode & 0xf];
	case EMU_OP_JMP:
		return back ? jmp_back : jmp_rel;
	case EMU_OP_CALL:
		return call_rel;
	case EMU_OP_RET:
		/* RET without an operand decodes with imm 0. */
		return s->insn.dst == EMU_LOC_IMM || s->insn.imm == 0 ? ret_near : NULL;
	default:
		return NULL;
	}
}
#endif
