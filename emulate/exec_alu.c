/*
 * exec_alu.c — integer arithmetic and logic (SDM Vol. 2A/2B: ADD, ADC,
 * SUB, SBB, CMP, AND, OR, XOR, TEST, INC, DEC, NEG, NOT).
 *
 * Every two-operand form goes through alu2(): resolve the destination
 * once (checking write access, so a read-only page faults before any
 * state changes), read both operands, compute, commit with LOCK
 * semantics when asked, then set the flags. Undefined flags: AF after
 * AND/OR/XOR/TEST is cleared (docs/emulate.md records what the hosts do).
 */
#include "emulate/exec.h"

enum alu_op { ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR,
	      ALU_CMP, ALU_TEST };

static inline uint64_t alu_compute(enum alu_op op, uint64_t a, uint64_t b,
				   uint64_t cf, unsigned size, uint64_t *flags)
{
	uint64_t r;
	switch (op) {
	case ALU_ADD: r = a + b; *flags = flags_add(a, b, r, size); break;
	case ALU_ADC: r = a + b + cf; *flags = flags_add(a, b, r, size); break;
	case ALU_SUB:
	case ALU_CMP: r = a - b; *flags = flags_sub(a, b, r, size); break;
	case ALU_SBB: r = a - b - cf; *flags = flags_sub(a, b, r, size); break;
	case ALU_AND:
	case ALU_TEST: r = a & b; *flags = flags_logic(r, size); break;
	case ALU_OR: r = a | b; *flags = flags_logic(r, size); break;
	default: r = a ^ b; *flags = flags_logic(r, size); break;
	}
	return r & size_mask(size);
}

static inline __attribute__((always_inline)) int alu2(struct emu_ctx *ctx, const struct emu_insn *insn, enum alu_op op)
{
	const unsigned size = insn->opsize;
	const bool writes = op != ALU_CMP && op != ALU_TEST;
	struct emu_opnd d;
	uint64_t a, b, res, f;
	int r;

	TRY(emu_resolve(ctx, insn, insn->dst, writes ? EMU_ACC_WRITE : 0, &d));
	TRY(emu_src_read(ctx, insn, insn->src, size, &b));
	do {
		TRY(emu_opnd_read(ctx, insn, &d, size, writes ? EMU_ACC_WRITE : 0, &a));
		res = alu_compute(op, a, b, ctx->cpu.rflags & EMU_FLAG_CF, size, &f);
		r = writes ? emu_rmw_commit(ctx, insn, &d, size, a, res) : EMU_CONTINUE;
	} while (r == EMU_RMW_RETRY);
	if (r != EMU_CONTINUE)
		return r;
	set_arith_flags(ctx, f, ARITH);
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

static inline __attribute__((always_inline)) int alu1(struct emu_ctx *ctx, const struct emu_insn *insn, enum alu1_op op)
{
	const unsigned size = insn->opsize;
	struct emu_opnd d;
	uint64_t a, res, f = 0, mask = ARITH;
	int r;

	TRY(emu_resolve(ctx, insn, insn->dst, EMU_ACC_WRITE, &d));
	do {
		TRY(emu_opnd_read(ctx, insn, &d, size, EMU_ACC_WRITE, &a));
		switch (op) {
		case ALU1_INC:
			res = a + 1;
			f = flags_add(a, 1, res, size);
			mask = ARITH & ~EMU_FLAG_CF;
			break;
		case ALU1_DEC:
			res = a - 1;
			f = flags_sub(a, 1, res, size);
			mask = ARITH & ~EMU_FLAG_CF;
			break;
		case ALU1_NEG:
			res = 0 - a;
			f = flags_sub(0, a, res, size);
			break;
		default:
			res = ~a;
			mask = 0;
			break;
		}
		res &= size_mask(size);
		r = emu_rmw_commit(ctx, insn, &d, size, a, res);
	} while (r == EMU_RMW_RETRY);
	if (r != EMU_CONTINUE)
		return r;
	set_arith_flags(ctx, f, mask);
	return EMU_CONTINUE;
}

EMU_HANDLER(inc) { return alu1(ctx, insn, ALU1_INC); }
EMU_HANDLER(dec) { return alu1(ctx, insn, ALU1_DEC); }
EMU_HANDLER(neg) { return alu1(ctx, insn, ALU1_NEG); }
EMU_HANDLER(not) { return alu1(ctx, insn, ALU1_NOT); }
