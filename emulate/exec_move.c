/*
 * exec_move.c — data movement: MOV, MOVZX, MOVSX, MOVSXD, XCHG, BSWAP,
 * LEA, CMOVcc, SETcc, XLAT, CBW/CWDE/CDQE, CWD/CDQ/CQO, LAHF, SAHF, NOP,
 * and the atomics CMPXCHG, CMPXCHG8B/16B, XADD (SDM Vol. 2A/2B).
 */
#include "emulate/exec.h"
#ifdef CONFIG_EMU_DECODE_CACHE
#include "emulate/dcache.h"
#endif

EMU_HANDLER(mov)
{
	struct emu_opnd d;
	uint64_t v;
	TRY(emu_src_read(ctx, insn, insn->src, insn->opsize, &v));
	TRY(emu_resolve(ctx, insn, insn->dst, EMU_ACC_WRITE, &d));
	return emu_opnd_write(ctx, insn, &d, insn->opsize, v);
}

/* MOVZX/MOVSX: the source size is in the opcode (B6/BE byte, B7/BF word). */
EMU_HANDLER(movzx)
{
	uint64_t v;
	TRY(emu_src_read(ctx, insn, EMU_LOC_RM, (insn->opcode & 1) ? 2 : 1, &v));
	reg_write(ctx, insn->reg, insn->opsize, v, insn);
	return EMU_CONTINUE;
}

EMU_HANDLER(movsx)
{
	const unsigned ss = (insn->opcode & 1) ? 2 : 1;
	uint64_t v;
	TRY(emu_src_read(ctx, insn, EMU_LOC_RM, ss, &v));
	reg_write(ctx, insn->reg, insn->opsize, (uint64_t)sext_to64(v, ss), insn);
	return EMU_CONTINUE;
}

/* MOVSXD: a 32-bit source; with 16/32-bit operand size a plain move. */
EMU_HANDLER(movsxd)
{
	const unsigned ss = insn->opsize == 8 ? 4 : insn->opsize;
	uint64_t v;
	TRY(emu_src_read(ctx, insn, EMU_LOC_RM, ss, &v));
	reg_write(ctx, insn->reg, insn->opsize, (uint64_t)sext_to64(v, ss), insn);
	return EMU_CONTINUE;
}

/* XCHG with memory is locked whether or not LOCK is given (SDM XCHG). */
EMU_HANDLER(xchg)
{
	const unsigned size = insn->opsize;
	struct emu_opnd d;
	uint64_t a, b;
	unsigned breg = insn->src == EMU_LOC_ACC ? EMU_RAX : insn->reg;

	TRY(emu_resolve(ctx, insn, insn->dst == EMU_LOC_REG && insn->src == EMU_LOC_ACC ?
			EMU_LOC_REG : EMU_LOC_RM, EMU_ACC_WRITE, &d));
	b = reg_read(ctx, breg, size, insn);
	if (d.mem) {
		if (ctx->ops->cmpxchg) {
			int r;
			do {
				uint64_t cur;
				TRY(la_read(ctx, d.la, &a, size, EMU_ACC_WRITE));
				cur = a;
				TRY(ctx->ops->cmpxchg(ctx, d.la, &cur, &b, size));
				r = ((cur ^ a) & size_mask(size)) ? EMU_RMW_RETRY : EMU_CONTINUE;
			} while (r == EMU_RMW_RETRY);
		} else {
			TRY(la_read(ctx, d.la, &a, size, EMU_ACC_WRITE));
			TRY(la_write(ctx, d.la, b, size, EMU_ACC_WRITE));
		}
	} else {
		a = reg_read(ctx, d.reg, size, insn);
		reg_write(ctx, d.reg, size, b, insn);
	}
	reg_write(ctx, breg, size, a, insn);
	return EMU_CONTINUE;
}

/* BSWAP: the 16-bit form is undefined by the SDM; the hosts clear the
 * register's low word (docs/emulate.md). */
EMU_HANDLER(bswap)
{
	uint64_t v = ctx->cpu.gpr[insn->reg];
	if (insn->opsize == 8)
		v = __builtin_bswap64(v);
	else if (insn->opsize == 4)
		v = __builtin_bswap32((uint32_t)v);
	else
		v = 0;
	reg_write(ctx, insn->reg, insn->opsize, v, insn);
	return EMU_CONTINUE;
}

EMU_HANDLER(lea)
{
	reg_write(ctx, insn->reg, insn->opsize, emu_ea(ctx, insn), insn);
	return EMU_CONTINUE;
}

/* CMOVcc reads its source whatever the condition, and a 32-bit form
 * zero-extends the destination in 64-bit mode even when it does not move. */
EMU_HANDLER(cmovcc)
{
	uint64_t v;
	TRY(emu_src_read(ctx, insn, EMU_LOC_RM, insn->opsize, &v));
	if (!emu_cond(ctx, insn->opcode & 0xf))
		v = reg_read(ctx, insn->reg, insn->opsize, insn);
	reg_write(ctx, insn->reg, insn->opsize, v, insn);
	return EMU_CONTINUE;
}

EMU_HANDLER(setcc)
{
	struct emu_opnd d;
	TRY(emu_resolve(ctx, insn, EMU_LOC_RM, EMU_ACC_WRITE, &d));
	return emu_opnd_write(ctx, insn, &d, 1, emu_cond(ctx, insn->opcode & 0xf));
}

/* XLAT: AL = [seg:(rBX + AL)], the sum in the address size. */
EMU_HANDLER(xlat)
{
	uint64_t ea = (ctx->cpu.gpr[EMU_RBX] + (ctx->cpu.gpr[EMU_RAX] & 0xff)) &
		      size_mask(insn->adsize);
	uint64_t v;
	TRY(emu_read_mem(ctx, insn->seg, ea, &v, 1));
	gpr_set(ctx, EMU_RAX, 1, v);
	return EMU_CONTINUE;
}

EMU_HANDLER(cbw)
{
	const unsigned half = insn->opsize / 2;
	gpr_set(ctx, EMU_RAX, insn->opsize,
		(uint64_t)sext_to64(gpr_get(ctx, EMU_RAX, half), half));
	return EMU_CONTINUE;
}

EMU_HANDLER(cwd)
{
	const unsigned size = insn->opsize;
	uint64_t a = gpr_get(ctx, EMU_RAX, size);
	gpr_set(ctx, EMU_RDX, size, (a & sign_bit(size)) ? ~0ull : 0);
	return EMU_CONTINUE;
}

/* LAHF/SAHF: AH <-> SF:ZF:0:AF:0:PF:1:CF. */
EMU_HANDLER(lahf)
{
	uint64_t ah = (ctx->cpu.rflags & (ARITH & ~EMU_FLAG_OF)) | EMU_FLAG_FIXED;
	uint64_t *rax = &ctx->cpu.gpr[EMU_RAX];
	*rax = (*rax & ~0xff00ull) | ((ah & 0xff) << 8);
	return EMU_CONTINUE;
}

EMU_HANDLER(sahf)
{
	uint64_t ah = (ctx->cpu.gpr[EMU_RAX] >> 8) & 0xff;
	set_arith_flags(ctx, ah, ARITH & ~EMU_FLAG_OF);
	return EMU_CONTINUE;
}

EMU_HANDLER(nop)
{
	return EMU_CONTINUE;
}

/*
 * CMPXCHG: compare rAX with the destination; equal: ZF = 1 and dst = src;
 * else ZF = 0 and rAX = dst. The destination is written either way (with
 * its own value when unequal), as the SDM's "Operation" says.
 */
EMU_HANDLER(cmpxchg)
{
	const unsigned size = insn->opsize;
	struct emu_opnd d;
	uint64_t a, cur, src = reg_read(ctx, insn->reg, size, insn);
	uint64_t acc = gpr_get(ctx, EMU_RAX, size);
	int r;

	TRY(emu_resolve(ctx, insn, EMU_LOC_RM, EMU_ACC_WRITE, &d));
	do {
		TRY(emu_opnd_read(ctx, insn, &d, size, EMU_ACC_WRITE, &cur));
		a = cur;
		r = emu_rmw_commit(ctx, insn, &d, size, cur, a == acc ? src : cur);
	} while (r == EMU_RMW_RETRY);
	if (r != EMU_CONTINUE)
		return r;
	set_arith_flags(ctx, flags_sub(acc, a, acc - a, size), ARITH);
	if (a != acc)
		gpr_set(ctx, EMU_RAX, size, a);
	return EMU_CONTINUE;
}

/*
 * CMPXCHG8B m64 / CMPXCHG16B m128 (REX.W): compare rDX:rAX with memory;
 * equal: ZF = 1, memory = rCX:rBX; else ZF = 0, rDX:rAX = memory.
 * CMPXCHG16B needs a 16-byte aligned operand (#GP(0)).
 */
EMU_HANDLER(cmpxchg8b)
{
	const unsigned half = insn->opsize == 8 ? 8 : 4, size = half * 2;
	uint64_t ea = emu_ea(ctx, insn), la;
	uint64_t old[2] = { 0, 0 }, exp[2], new[2];

	TRY(emu_linear(ctx, insn->seg, ea, size, EMU_ACC_WRITE, &la));
	if (size == 16 && (la & 15))
		return raise_gp0(ctx);
	exp[0] = gpr_get(ctx, EMU_RAX, half);
	exp[1] = gpr_get(ctx, EMU_RDX, half);
	new[0] = gpr_get(ctx, EMU_RBX, half);
	new[1] = gpr_get(ctx, EMU_RCX, half);
	if (half == 4) {
		exp[0] |= exp[1] << 32;
		new[0] |= new[1] << 32;
	}
	if (ctx->ops->cmpxchg) {
		memcpy(old, exp, size);
		TRY(ctx->ops->cmpxchg(ctx, la, old, new, size));
	} else {
		TRY(ctx->ops->read(ctx, la, old, size, EMU_ACC_WRITE));
		bool eq = !memcmp(old, exp, size);
		TRY(ctx->ops->write(ctx, la, eq ? new : old, size, EMU_ACC_WRITE));
	}
	bool eq = !memcmp(old, exp, size);
	set_arith_flags(ctx, eq ? EMU_FLAG_ZF : 0, EMU_FLAG_ZF);
	if (!eq) {
		if (half == 4) {
			gpr_set(ctx, EMU_RAX, 4, old[0]);
			gpr_set(ctx, EMU_RDX, 4, old[0] >> 32);
		} else {
			ctx->cpu.gpr[EMU_RAX] = old[0];
			ctx->cpu.gpr[EMU_RDX] = old[1];
		}
	}
	return EMU_CONTINUE;
}

/* XADD: tmp = dst + src; src = dst; dst = tmp (dst written last). */
EMU_HANDLER(xadd)
{
	const unsigned size = insn->opsize;
	struct emu_opnd d;
	uint64_t a, b = reg_read(ctx, insn->reg, size, insn), res;
	int r;

	TRY(emu_resolve(ctx, insn, EMU_LOC_RM, EMU_ACC_WRITE, &d));
	do {
		TRY(emu_opnd_read(ctx, insn, &d, size, EMU_ACC_WRITE, &a));
		res = (a + b) & size_mask(size);
		if (!d.mem) {
			reg_write(ctx, insn->reg, size, a, insn);
			reg_write(ctx, d.reg, size, res, insn);
			r = EMU_CONTINUE;
			break;
		}
		r = emu_rmw_commit(ctx, insn, &d, size, a, res);
	} while (r == EMU_RMW_RETRY);
	if (r != EMU_CONTINUE)
		return r;
	if (d.mem)
		reg_write(ctx, insn->reg, size, a, insn);
	set_arith_flags(ctx, flags_add(a, b, res, size), ARITH);
	return EMU_CONTINUE;
}

#ifdef CONFIG_EMU_DECODE_CACHE
/*
 * Fast forms (dcache.h) of MOV and LEA with 32- or 64-bit operands.
 * MOV: register from register (rr), immediate (ri) or memory (rm), and
 * memory from register (mr) or immediate (mi), as exec_mov() does them:
 * a 32-bit register write zero-extends (reg_write()), the immediate is
 * masked to the size, memory goes through the front TLB as
 * emu_read_mem()/emu_opnd_write() would, and a miss takes the general
 * path. LEA: the effective address (emu_ea()) truncated to the operand
 * size, as exec_lea(). MOVZX/MOVSX: see movx().
 */
FAST_ALWAYS_INLINE int mov_to_reg(FAST_ARGS, unsigned size, uint64_t v)
{
	ctx->cpu.gpr[s->d] = v & size_mask(size);
	return fast_next(ctx, s, env);
}

FAST_ALWAYS_INLINE int mov_rr(FAST_ARGS, unsigned size, bool imm)
{
	return mov_to_reg(ctx, s, env, size, imm ? s->insn.imm : ctx->cpu.gpr[s->s]);
}

FAST_ALWAYS_INLINE int mov_rm(FAST_ARGS, unsigned size, enum fast_ea ea)
{
	void *p;
	if (!fast_tlb(ctx, env, fast_ea(ctx, s, env, ea), size, false, &p))
		return emu_fast_general(ctx, s, env);
	return mov_to_reg(ctx, s, env, size, emu_host_load(p, size));
}

FAST_ALWAYS_INLINE int mov_mr(FAST_ARGS, unsigned size, enum fast_ea ea, bool imm)
{
	void *p;
	if (!fast_tlb(ctx, env, fast_ea(ctx, s, env, ea), size, true, &p))
		return emu_fast_general(ctx, s, env);
	emu_host_store(p, imm ? s->insn.imm : ctx->cpu.gpr[s->s], size);
	return fast_next(ctx, s, env);
}

FAST_ALWAYS_INLINE int lea_r(FAST_ARGS, unsigned size, enum fast_ea ea)
{
	return mov_to_reg(ctx, s, env, size, fast_ea(ctx, s, env, ea));
}

/* [form][size]: rr, ri, then rm, mr, mi and lea by EA form. */
enum { MOV_RR, MOV_RI, MOV_RM, MOV_MR = MOV_RM + FAST_NR_EA,
       MOV_MI = MOV_MR + FAST_NR_EA, MOV_LEA = MOV_MI + FAST_NR_EA,
       MOV_NR_FORMS = MOV_LEA + FAST_NR_EA };
#define MOV_EA_FORMS(name, body, ...)					\
	FAST_SIZED(name##_b, body, FAST_EA_B, ##__VA_ARGS__)		\
	FAST_SIZED(name##_bi, body, FAST_EA_BI, ##__VA_ARGS__)		\
	FAST_SIZED(name##_r, body, FAST_EA_RIP, ##__VA_ARGS__)
#define MOV_EA_ROWS(name) FAST_PAIR(name##_b), FAST_PAIR(name##_bi), FAST_PAIR(name##_r)
FAST_SIZED(mov_rr, mov_rr, false)
FAST_SIZED(mov_ri, mov_rr, true)
MOV_EA_FORMS(mov_rm, mov_rm)
MOV_EA_FORMS(mov_mr, mov_mr, false)
MOV_EA_FORMS(mov_mi, mov_mr, true)
MOV_EA_FORMS(lea, lea_r)
static const emu_fast_fn mov_forms[MOV_NR_FORMS][2] = {
	FAST_PAIR(mov_rr), FAST_PAIR(mov_ri), MOV_EA_ROWS(mov_rm),
	MOV_EA_ROWS(mov_mr), MOV_EA_ROWS(mov_mi), MOV_EA_ROWS(lea),
};

/*
 * MOVZX and MOVSX into a 32- or 64-bit register from a byte or word
 * register or memory, as exec_movzx()/exec_movsx(): the source read at
 * its own size (reg_read(): without REX, byte registers 4-7 are AH..BH,
 * the high byte of s->s), extended, written with reg_write().
 */
FAST_ALWAYS_INLINE int movx(FAST_ARGS, unsigned size, bool sx, unsigned ss, bool high,
			    enum fast_ea ea)
{
	uint64_t v;
	if (ea == FAST_NR_EA) {
		v = ctx->cpu.gpr[s->s] >> (high ? 8 : 0);
	} else {
		void *p;
		if (!fast_tlb(ctx, env, fast_ea(ctx, s, env, ea), ss, false, &p))
			return emu_fast_general(ctx, s, env);
		v = emu_host_load(p, ss);
	}
	v &= size_mask(ss);
	if (sx)
		v = (uint64_t)sext_to64(v, ss);
	return mov_to_reg(ctx, s, env, size, v);
}

/* Sources: byte register, high byte register, word register, then byte
 * and word memory by EA form. */
enum { MOVX_R8, MOVX_R8H, MOVX_R16, MOVX_M8, MOVX_M16 = MOVX_M8 + FAST_NR_EA,
       MOVX_NR_FORMS = MOVX_M16 + FAST_NR_EA };
#define MOVX_FORMS(name, sx)						\
	FAST_SIZED(name##_r8, movx, sx, 1, false, FAST_NR_EA)		\
	FAST_SIZED(name##_r8h, movx, sx, 1, true, FAST_NR_EA)		\
	FAST_SIZED(name##_r16, movx, sx, 2, false, FAST_NR_EA)		\
	FAST_SIZED(name##_m8b, movx, sx, 1, false, FAST_EA_B)		\
	FAST_SIZED(name##_m8bi, movx, sx, 1, false, FAST_EA_BI)	\
	FAST_SIZED(name##_m8r, movx, sx, 1, false, FAST_EA_RIP)	\
	FAST_SIZED(name##_m16b, movx, sx, 2, false, FAST_EA_B)		\
	FAST_SIZED(name##_m16bi, movx, sx, 2, false, FAST_EA_BI)	\
	FAST_SIZED(name##_m16r, movx, sx, 2, false, FAST_EA_RIP)
#define MOVX_ROW(name) {						\
	FAST_PAIR(name##_r8), FAST_PAIR(name##_r8h), FAST_PAIR(name##_r16),	\
	FAST_PAIR(name##_m8b), FAST_PAIR(name##_m8bi), FAST_PAIR(name##_m8r),	\
	FAST_PAIR(name##_m16b), FAST_PAIR(name##_m16bi), FAST_PAIR(name##_m16r) }
MOVX_FORMS(movzx, false)
MOVX_FORMS(movsx, true)
static const emu_fast_fn movx_forms[2][MOVX_NR_FORMS][2] = {
	MOVX_ROW(movzx), MOVX_ROW(movsx),
};

static emu_fast_fn fast_movx(struct emu_slot *s, unsigned sz)
{
	const struct emu_insn *insn = &s->insn;
	const bool sx = insn->op == EMU_OP_MOVSX, word = insn->opcode & 1;
	const int sr = fast_reg_of(insn, EMU_LOC_RM);
	const enum fast_ea ea = fast_ea_form(insn);

	if (insn->dst != EMU_LOC_REG)
		return NULL;
	s->d = insn->reg;
	if (sr < 0)
		return ea == FAST_NR_EA ? NULL :
		       movx_forms[sx][(word ? MOVX_M16 : MOVX_M8) + ea][sz];
	if (word) {
		s->s = (uint8_t)sr;
		return movx_forms[sx][MOVX_R16][sz];
	}
	if (sr >= 4 && sr < 8 && !(insn->flags & EMU_I_REX)) {
		s->s = (uint8_t)(sr - 4);
		return movx_forms[sx][MOVX_R8H][sz];
	}
	s->s = (uint8_t)sr;
	return movx_forms[sx][MOVX_R8][sz];
}

emu_fast_fn emu_fast_move(struct emu_slot *s)
{
	const struct emu_insn *insn = &s->insn;
	const unsigned sz = insn->opsize == 8;
	const int d = fast_reg_of(insn, insn->dst), sr = fast_reg_of(insn, insn->src);
	const enum fast_ea ea = fast_ea_form(insn);

	if (insn->opsize != 4 && insn->opsize != 8)
		return NULL;
	if (insn->op == EMU_OP_MOVZX || insn->op == EMU_OP_MOVSX)
		return fast_movx(s, sz);
	if (d >= 0)
		s->d = (uint8_t)d;
	if (sr >= 0)
		s->s = (uint8_t)sr;
	if (insn->op == EMU_OP_LEA)
		return d >= 0 && ea != FAST_NR_EA ? mov_forms[MOV_LEA + ea][sz] : NULL;
	if (d >= 0) {
		if (sr >= 0)
			return mov_forms[MOV_RR][sz];
		if (insn->src == EMU_LOC_IMM)
			return mov_forms[MOV_RI][sz];
		return ea != FAST_NR_EA ? mov_forms[MOV_RM + ea][sz] : NULL;
	}
	if (ea == FAST_NR_EA)
		return NULL;
	if (sr >= 0)
		return mov_forms[MOV_MR + ea][sz];
	return insn->src == EMU_LOC_IMM ? mov_forms[MOV_MI + ea][sz] : NULL;
}
#endif
