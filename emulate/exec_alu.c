/*
 * exec_alu.c — integer arithmetic and logic (SDM Vol. 2A/2B: ADD, ADC,
 * SUB, SBB, CMP, AND, OR, XOR, TEST, INC, DEC, NEG, NOT).
 *
 * Every two-operand form goes through alu2(): resolve the destination
 * once (checking write access, so a read-only page faults before any
 * state changes), read both operands, compute, commit with LOCK
 * semantics when asked, then record the flags lazily (exec.h). Undefined
 * flags: AF after AND/OR/XOR/TEST is cleared (docs/emulate.md).
 */
#include "emulate/exec.h"

enum alu_op { ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR,
	      ALU_CMP, ALU_TEST };

static inline uint64_t alu_calc(enum alu_op op, uint64_t a, uint64_t b, uint64_t cf)
{
	switch (op) {
	case ALU_ADD: return a + b;
	case ALU_ADC: return a + b + cf;
	case ALU_SUB: case ALU_CMP: return a - b;
	case ALU_SBB: return a - b - cf;
	case ALU_AND: case ALU_TEST: return a & b;
	case ALU_OR: return a | b;
	default: return a ^ b;
	}
}

static inline __attribute__((always_inline)) int alu2(struct emu_ctx *ctx,
		const struct emu_insn *insn, enum alu_op op)
{
	const unsigned size = insn->opsize;
	const bool writes = op != ALU_CMP && op != ALU_TEST;
	const uint64_t m = size_mask(size);
	struct emu_opnd d;
	uint64_t a, b, res, cf = 0;
	int r;

	if (op == ALU_ADC || op == ALU_SBB)
		cf = cur_cf(ctx);
	/* Register destination, register or immediate source, 32/64 bits:
	 * the common case, without the operand helpers. */
	if (!(insn->flags & EMU_I_MEM) && size >= 4) {
		const unsigned dr = insn->dst == EMU_LOC_RM ? insn->rm :
				    insn->dst == EMU_LOC_ACC ? EMU_RAX : insn->reg;
		a = ctx->cpu.gpr[dr] & m;
		b = insn->src == EMU_LOC_IMM ? insn->imm & m :
		    ctx->cpu.gpr[insn->src == EMU_LOC_RM ? insn->rm : insn->reg] & m;
		res = alu_calc(op, a, b, cf) & m;
		if (writes)
			ctx->cpu.gpr[dr] = res;
		goto flags;
	}
	TRY(emu_resolve(ctx, insn, insn->dst, writes ? EMU_ACC_WRITE : 0, &d));
	TRY(emu_src_read(ctx, insn, insn->src, size, &b));
	do {
		TRY(emu_opnd_read(ctx, insn, &d, size, writes ? EMU_ACC_WRITE : 0, &a));
		res = alu_calc(op, a, b, cf) & m;
		r = writes ? emu_rmw_commit(ctx, insn, &d, size, a, res) : EMU_CONTINUE;
	} while (r == EMU_RMW_RETRY);
	if (r != EMU_CONTINUE)
		return r;
flags:
	switch (op) {
	case ALU_ADD: case ALU_ADC: lazy_flags(ctx, LF_ADD, a, b, res, size); break;
	case ALU_SUB: case ALU_CMP: case ALU_SBB: lazy_flags(ctx, LF_SUB, a, b, res, size); break;
	default: lazy_flags(ctx, LF_LOGIC, a, b, res, size); break;
	}
	return EMU_CONTINUE;
}

EMU_HANDLER(add) { return alu2(ctx, insn, ALU_ADD); }
EMU_HANDLER(or) { return alu2(ctx, insn, ALU_OR); }
EMU_HANDLER(adc) { return alu2(ctx, insn, ALU_ADC); }
EMU_HANDLER(sbb) { return alu2(ctx, insn, ALU_SBB); }
EMU_HANDLER(and) { return alu2(ctx, insn, ALU_AND); }
EMU_HANDLER(sub) { return alu2(ctx, insn, ALU_SUB); }
EMU_HANDLER(xor) { return alu2(ctx, insn, ALU_XOR); }
EMU_HANDLER(cmp) { return alu2(ctx, insn, ALU_CMP); }
EMU_HANDLER(test) { return alu2(ctx, insn, ALU_TEST); }

/* One-operand read-modify-writes: INC, DEC (CF kept), NEG, NOT. */
enum alu1_op { ALU1_INC, ALU1_DEC, ALU1_NEG, ALU1_NOT };

static inline __attribute__((always_inline)) int alu1(struct emu_ctx *ctx,
		const struct emu_insn *insn, enum alu1_op op)
{
	const unsigned size = insn->opsize;
	struct emu_opnd d;
	uint64_t a, res;
	int r;

	TRY(emu_resolve(ctx, insn, insn->dst, EMU_ACC_WRITE, &d));
	do {
		TRY(emu_opnd_read(ctx, insn, &d, size, EMU_ACC_WRITE, &a));
		switch (op) {
		case ALU1_INC: res = a + 1; break;
		case ALU1_DEC: res = a - 1; break;
		case ALU1_NEG: res = 0 - a; break;
		default: res = ~a; break;
		}
		res &= size_mask(size);
		r = emu_rmw_commit(ctx, insn, &d, size, a, res);
	} while (r == EMU_RMW_RETRY);
	if (r != EMU_CONTINUE)
		return r;
	switch (op) {
	case ALU1_INC: lazy_flags_keep_cf(ctx, LF_INC, a, res, size); break;
	case ALU1_DEC: lazy_flags_keep_cf(ctx, LF_DEC, a, res, size); break;
	case ALU1_NEG: lazy_flags(ctx, LF_SUB, 0, a, res, size); break;
	default: break;
	}
	return EMU_CONTINUE;
}

EMU_HANDLER(inc) { return alu1(ctx, insn, ALU1_INC); }
EMU_HANDLER(dec) { return alu1(ctx, insn, ALU1_DEC); }
EMU_HANDLER(neg) { return alu1(ctx, insn, ALU1_NEG); }
EMU_HANDLER(not) { return alu1(ctx, insn, ALU1_NOT); }
