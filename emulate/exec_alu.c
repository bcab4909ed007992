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
#ifdef CONFIG_EMU_DECODE_CACHE
#include "emulate/dcache.h"
#endif

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

/* The lazy flags of a two-operand op (exec.h). */
static inline __attribute__((always_inline)) void alu_flags(struct emu_ctx *ctx,
		enum alu_op op, uint64_t a, uint64_t b, uint64_t res, unsigned size)
{
	switch (op) {
	case ALU_ADD: case ALU_ADC: lazy_flags(ctx, LF_ADD, a, b, res, size); break;
	case ALU_SUB: case ALU_CMP: case ALU_SBB: lazy_flags(ctx, LF_SUB, a, b, res, size); break;
	default: lazy_flags_logic(ctx, res, size); break;
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
	alu_flags(ctx, op, a, b, res, size);
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

#ifdef CONFIG_EMU_DECODE_CACHE
/*
 * Fast forms (dcache.h) of ADD, OR, AND, SUB, XOR, CMP and TEST with
 * 32- or 64-bit operands: into a register from a register (rr), an
 * immediate (ri) or memory (rm); and into memory from a register (mr) or
 * an immediate (mi). Each computes what alu2() does for its form (LOCK
 * never gets here): operands masked to the size, alu_calc(), the
 * destination written unless CMP/TEST (a 32-bit register write
 * zero-extends, as reg_write()), alu_flags() unless no one can see them
 * (s->fl). Memory goes through the front TLB as emu_read_mem() and the
 * read-modify-write helpers would; on a miss the form takes the general
 * path.
 */
FAST_ALWAYS_INLINE int alu_done(FAST_ARGS, unsigned size, enum alu_op op,
				uint64_t a, uint64_t b)
{
	const uint64_t res = alu_calc(op, a, b, 0) & size_mask(size);
	if (op != ALU_CMP && op != ALU_TEST)
		ctx->cpu.gpr[s->d] = res;
	if (s->fl)
		alu_flags(ctx, op, a, b, res, size);
	return fast_next(ctx, s, env);
}

FAST_ALWAYS_INLINE int alu_rr(FAST_ARGS, unsigned size, enum alu_op op, bool imm)
{
	const uint64_t m = size_mask(size);
	const uint64_t b = imm ? s->insn.imm & m : ctx->cpu.gpr[s->s] & m;
	return alu_done(ctx, s, env, size, op, ctx->cpu.gpr[s->d] & m, b);
}

FAST_ALWAYS_INLINE int alu_rm(FAST_ARGS, unsigned size, enum alu_op op, enum fast_ea ea)
{
	void *p;
	if (!fast_tlb(ctx, env, fast_ea(ctx, s, env, ea), size, false, &p))
		return emu_fast_general(ctx, s, env);
	const uint64_t m = size_mask(size);
	return alu_done(ctx, s, env, size, op, ctx->cpu.gpr[s->d] & m,
			emu_host_load(p, size));
}

/* Memory destination: CMP/TEST only read it; the others are a
 * read-modify-write, both halves through the write tag as the general
 * path's emu_opnd_read()/emu_opnd_write() with EMU_ACC_WRITE (two hits). */
FAST_ALWAYS_INLINE int alu_mr(FAST_ARGS, unsigned size, enum alu_op op, enum fast_ea ea,
			      bool imm)
{
	const bool writes = op != ALU_CMP && op != ALU_TEST;
	void *p;
	if (!fast_tlb(ctx, env, fast_ea(ctx, s, env, ea), size, writes, &p))
		return emu_fast_general(ctx, s, env);
	const uint64_t m = size_mask(size);
	const uint64_t a = emu_host_load(p, size);
	const uint64_t b = imm ? s->insn.imm & m : ctx->cpu.gpr[s->s] & m;
	const uint64_t res = alu_calc(op, a, b, 0) & m;
	if (writes) {
		ctx->tlb_hits++;
		emu_host_store(p, res, size);
	}
	if (s->fl)
		alu_flags(ctx, op, a, b, res, size);
	return fast_next(ctx, s, env);
}

/* Register forms: rr, ri, then rm by EA form. */
enum { ALU_RR, ALU_RI, ALU_RM, ALU_NR_REG_FORMS = ALU_RM + FAST_NR_EA };
#define ALU_REG_FORMS(op)						\
	FAST_SIZED(rr_##op, alu_rr, op, false)				\
	FAST_SIZED(ri_##op, alu_rr, op, true)				\
	FAST_SIZED(rmb_##op, alu_rm, op, FAST_EA_B)			\
	FAST_SIZED(rmbi_##op, alu_rm, op, FAST_EA_BI)			\
	FAST_SIZED(rmr_##op, alu_rm, op, FAST_EA_RIP)
#define ALU_REG_ROW(op) [op] = { FAST_PAIR(rr_##op), FAST_PAIR(ri_##op), \
	FAST_PAIR(rmb_##op), FAST_PAIR(rmbi_##op), FAST_PAIR(rmr_##op) },
ALU_REG_FORMS(ALU_ADD) ALU_REG_FORMS(ALU_OR) ALU_REG_FORMS(ALU_AND)
ALU_REG_FORMS(ALU_SUB) ALU_REG_FORMS(ALU_XOR) ALU_REG_FORMS(ALU_CMP)
ALU_REG_FORMS(ALU_TEST)
static const emu_fast_fn alu_reg_forms[ALU_TEST + 1][ALU_NR_REG_FORMS][2] = {
	ALU_REG_ROW(ALU_ADD) ALU_REG_ROW(ALU_OR) ALU_REG_ROW(ALU_AND)
	ALU_REG_ROW(ALU_SUB) ALU_REG_ROW(ALU_XOR) ALU_REG_ROW(ALU_CMP)
	ALU_REG_ROW(ALU_TEST)
};

/* Memory-destination forms: [op][imm][EA form]. */
#define ALU_MEM_FORMS(op)						\
	FAST_SIZED(mrb_##op, alu_mr, op, FAST_EA_B, false)		\
	FAST_SIZED(mrbi_##op, alu_mr, op, FAST_EA_BI, false)		\
	FAST_SIZED(mrr_##op, alu_mr, op, FAST_EA_RIP, false)		\
	FAST_SIZED(mib_##op, alu_mr, op, FAST_EA_B, true)		\
	FAST_SIZED(mibi_##op, alu_mr, op, FAST_EA_BI, true)		\
	FAST_SIZED(mir_##op, alu_mr, op, FAST_EA_RIP, true)
#define ALU_MEM_ROW(op) {						\
	{ FAST_PAIR(mrb_##op), FAST_PAIR(mrbi_##op), FAST_PAIR(mrr_##op) }, \
	{ FAST_PAIR(mib_##op), FAST_PAIR(mibi_##op), FAST_PAIR(mir_##op) } },
#define ALU_MEM_OP(op) [op] = ALU_MEM_ROW(op)
ALU_MEM_FORMS(ALU_ADD) ALU_MEM_FORMS(ALU_OR) ALU_MEM_FORMS(ALU_AND)
ALU_MEM_FORMS(ALU_SUB) ALU_MEM_FORMS(ALU_XOR) ALU_MEM_FORMS(ALU_CMP)
ALU_MEM_FORMS(ALU_TEST)
static const emu_fast_fn alu_mem_forms[ALU_TEST + 1][2][FAST_NR_EA][2] = {
	ALU_MEM_OP(ALU_ADD) ALU_MEM_OP(ALU_OR) ALU_MEM_OP(ALU_AND)
	ALU_MEM_OP(ALU_SUB) ALU_MEM_OP(ALU_XOR) ALU_MEM_OP(ALU_CMP)
	ALU_MEM_OP(ALU_TEST)
};

/* INC and DEC of a register or memory: what alu1() does (flags if
 * s->fl); memory as a read-modify-write through the write tag. */
FAST_ALWAYS_INLINE int incdec(FAST_ARGS, unsigned size, bool dec, enum fast_ea ea)
{
	void *p = NULL;
	uint64_t a;
	if (ea == FAST_NR_EA) {
		a = ctx->cpu.gpr[s->d] & size_mask(size);
	} else {
		if (!fast_tlb(ctx, env, fast_ea(ctx, s, env, ea), size, true, &p))
			return emu_fast_general(ctx, s, env);
		a = emu_host_load(p, size);
	}
	const uint64_t res = (dec ? a - 1 : a + 1) & size_mask(size);
	if (ea == FAST_NR_EA) {
		ctx->cpu.gpr[s->d] = res;
	} else {
		ctx->tlb_hits++;
		emu_host_store(p, res, size);
	}
	if (s->fl)
		lazy_flags_keep_cf(ctx, dec ? LF_DEC : LF_INC, a, res, size);
	return fast_next(ctx, s, env);
}
#define INCDEC_FORMS(name, dec)						\
	FAST_SIZED(name##_b, incdec, dec, FAST_EA_B)			\
	FAST_SIZED(name##_bi, incdec, dec, FAST_EA_BI)			\
	FAST_SIZED(name##_rip, incdec, dec, FAST_EA_RIP)			\
	FAST_SIZED(name##_r, incdec, dec, FAST_NR_EA)
INCDEC_FORMS(inc, false)
INCDEC_FORMS(dec, true)
/* [dec][EA form, or FAST_NR_EA for a register][size] */
static const emu_fast_fn incdec_forms[2][FAST_NR_EA + 1][2] = {
	{ FAST_PAIR(inc_b), FAST_PAIR(inc_bi), FAST_PAIR(inc_rip), FAST_PAIR(inc_r) },
	{ FAST_PAIR(dec_b), FAST_PAIR(dec_bi), FAST_PAIR(dec_rip), FAST_PAIR(dec_r) },
};

emu_fast_fn emu_fast_alu(struct emu_slot *s)
{
	const struct emu_insn *insn = &s->insn;
	const unsigned sz = insn->opsize == 8;
	const int d = fast_reg_of(insn, insn->dst);
	enum alu_op op;

	if (insn->opsize != 4 && insn->opsize != 8)
		return NULL;
	switch (insn->op) {
	case EMU_OP_INC: case EMU_OP_DEC:
		if (d >= 0)
			s->d = (uint8_t)d;
		else if (fast_ea_form(insn) == FAST_NR_EA)
			return NULL;
		return incdec_forms[insn->op == EMU_OP_DEC][d >= 0 ? FAST_NR_EA : fast_ea_form(insn)][sz];
	case EMU_OP_ADD: op = ALU_ADD; break;
	case EMU_OP_OR: op = ALU_OR; break;
	case EMU_OP_AND: op = ALU_AND; break;
	case EMU_OP_SUB: op = ALU_SUB; break;
	case EMU_OP_XOR: op = ALU_XOR; break;
	case EMU_OP_CMP: op = ALU_CMP; break;
	case EMU_OP_TEST: op = ALU_TEST; break;
	default: return NULL;
	}
	const int sr = fast_reg_of(insn, insn->src);
	const bool imm = insn->src == EMU_LOC_IMM;
	const enum fast_ea ea = fast_ea_form(insn);
	if (sr >= 0)
		s->s = (uint8_t)sr;
	if (d < 0) {
		if (ea == FAST_NR_EA || (sr < 0 && !imm))
			return NULL;
		return alu_mem_forms[op][imm][ea][sz];
	}
	s->d = (uint8_t)d;
	if (sr >= 0)
		return alu_reg_forms[op][ALU_RR][sz];
	if (imm)
		return alu_reg_forms[op][ALU_RI][sz];
	if (insn->src == EMU_LOC_RM && ea != FAST_NR_EA)
		return alu_reg_forms[op][ALU_RM + ea][sz];
	return NULL;
}
#endif
