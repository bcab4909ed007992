/*
 * exec_shift.c — shifts and rotates: ROL, ROR, RCL, RCR, SHL/SAL, SHR,
 * SAR, SHLD, SHRD (SDM Vol. 2B "SAL/SAR/SHL/SHR", "RCL/RCR/ROL/ROR",
 * "SHLD", "SHRD").
 *
 * The count is masked to 5 bits (6 with 64-bit operands). A masked count
 * of 0 changes neither the operand nor any flag. Flags the SDM leaves
 * undefined get these values (docs/emulate.md): OF as for a count of 1
 * computed on the last step, AF set, as the AMD hosts do.
 */
#include "emulate/exec.h"
#ifdef CONFIG_EMU_DECODE_CACHE
#include "emulate/dcache.h"
#endif

enum shift_op { SH_ROL, SH_ROR, SH_RCL, SH_RCR, SH_SHL, SH_SHR, SH_SAR };

static uint64_t shift_count(const struct emu_ctx *ctx, const struct emu_insn *insn)
{
	/* SHLD/SHRD keep the register operand in src; their CL forms are
	 * the odd opcodes (0F A5, 0F AD). */
	bool cl = insn->src == EMU_LOC_CL ||
		  ((insn->op == EMU_OP_SHLD || insn->op == EMU_OP_SHRD) && (insn->opcode & 1));
	uint64_t c = cl ? ctx->cpu.gpr[EMU_RCX] : insn->imm;
	return c & (insn->opsize == 8 ? 0x3f : 0x1f);
}

/* Compute the result and the flags for a nonzero masked count. */
static inline __attribute__((always_inline)) uint64_t shift_compute(enum shift_op op, uint64_t a, unsigned cnt,
			      unsigned size, uint64_t flags_in, uint64_t *flags,
			      uint64_t *mask)
{
	const unsigned bits = size * 8;
	const uint64_t m = size_mask(size), sb = sign_bit(size);
	uint64_t r = 0, cf = 0, of = 0, f;
	unsigned t;

	*mask = EMU_FLAG_CF | EMU_FLAG_OF;
	switch (op) {
	case SH_ROL:
		t = cnt % bits;
		r = t ? ((a << t) | (a >> (bits - t))) & m : a;
		cf = r & 1;
		of = !!(r & sb) ^ cf;
		break;
	case SH_ROR:
		t = cnt % bits;
		r = t ? ((a >> t) | (a << (bits - t))) & m : a;
		cf = !!(r & sb);
		of = cf ^ !!(r & (sb >> 1));
		break;
	case SH_RCL:
	case SH_RCR: {
		/* Rotate the (bits + 1)-bit value CF:a. */
		t = size < 4 ? cnt % (bits + 1) : cnt;
		unsigned __int128 v = ((unsigned __int128)(flags_in & EMU_FLAG_CF) << bits) | a;
		unsigned __int128 vm = ((unsigned __int128)1 << (bits + 1)) - 1;
		if (op == SH_RCL)
			v = t ? ((v << t) | (v >> (bits + 1 - t))) & vm : v;
		else
			v = t ? ((v >> t) | (v << (bits + 1 - t))) & vm : v;
		r = (uint64_t)v & m;
		cf = (uint64_t)(v >> bits) & 1;
		if (op == SH_RCL)
			of = !!(r & sb) ^ cf;
		else
			of = !!(r & sb) ^ !!(r & (sb >> 1));
		break;
	}
	case SH_SHL:
		r = cnt < 64 ? (a << cnt) & m : 0;
		cf = cnt <= bits ? (a >> (bits - cnt)) & 1 : 0;
		of = !!(r & sb) ^ cf;
		*mask = ARITH;
		break;
	case SH_SHR:
		r = a >> cnt;
		cf = (a >> (cnt - 1)) & 1;
		of = cnt == 1 ? !!(a & sb) : 0;
		*mask = ARITH;
		break;
	case SH_SAR: {
		int64_t s = sext_to64(a, size);
		r = (uint64_t)(s >> (cnt > 63 ? 63 : cnt)) & m;
		cf = (uint64_t)(s >> (cnt - 1 > 63 ? 63 : cnt - 1)) & 1;
		of = 0;
		*mask = ARITH;
		break;
	}
	}
	f = (cf ? EMU_FLAG_CF : 0) | (of ? EMU_FLAG_OF : 0);
	if (*mask == ARITH)
		f |= flags_szp(r, size) | EMU_FLAG_AF;	/* AF undefined: set */
	*flags = f;
	return r;
}

/*
 * A masked count of 0 changes no flag and no value, but a register
 * destination is still written: a 32-bit one has its upper half cleared
 * in 64-bit mode, as every 32-bit register write (SDM Vol. 1 3.4.1.1).
 */
static int zero_count(struct emu_ctx *ctx, const struct emu_insn *insn,
		      const struct emu_opnd *d, unsigned size, uint64_t a)
{
	if (!d->mem)
		reg_write(ctx, d->reg, size, a, insn);
	return EMU_CONTINUE;
}

static inline __attribute__((always_inline)) int shift(struct emu_ctx *ctx, const struct emu_insn *insn, enum shift_op op)
{
	const unsigned size = insn->opsize;
	const unsigned cnt = (unsigned)shift_count(ctx, insn);
	struct emu_opnd d;
	uint64_t a, res, f, mask;
	int r;

	TRY(emu_resolve(ctx, insn, insn->dst, EMU_ACC_WRITE, &d));
	TRY(emu_opnd_read(ctx, insn, &d, size, EMU_ACC_WRITE, &a));
	if (!cnt)
		return zero_count(ctx, insn, &d, size, a);
	res = shift_compute(op, a, cnt, size, cur_cf(ctx), &f, &mask);
	r = emu_opnd_write(ctx, insn, &d, size, res);
	if (r != EMU_CONTINUE)
		return r;
	set_arith_flags(ctx, f, mask);
	return EMU_CONTINUE;
}

EMU_HANDLER(rol) { return shift(ctx, insn, SH_ROL); }
EMU_HANDLER(ror) { return shift(ctx, insn, SH_ROR); }
EMU_HANDLER(rcl) { return shift(ctx, insn, SH_RCL); }
EMU_HANDLER(rcr) { return shift(ctx, insn, SH_RCR); }
EMU_HANDLER(shl) { return shift(ctx, insn, SH_SHL); }
EMU_HANDLER(shr) { return shift(ctx, insn, SH_SHR); }
EMU_HANDLER(sar) { return shift(ctx, insn, SH_SAR); }

/*
 * SHLD/SHRD: shift dst, filling from src. With 16-bit operands a count
 * above 16 leaves result and flags undefined; we shift the 48-bit
 * (SHLD: dst:src:dst) pattern, as the hosts do (docs/emulate.md).
 */
static int double_shift(struct emu_ctx *ctx, const struct emu_insn *insn, bool left)
{
	const unsigned size = insn->opsize, bits = size * 8;
	const unsigned cnt = (unsigned)shift_count(ctx, insn);
	struct emu_opnd d;
	uint64_t a, b, res, cf, f;
	int r;

	TRY(emu_resolve(ctx, insn, EMU_LOC_RM, EMU_ACC_WRITE, &d));
	TRY(emu_opnd_read(ctx, insn, &d, size, EMU_ACC_WRITE, &a));
	b = reg_read(ctx, insn->reg, size, insn);
	if (!cnt)
		return zero_count(ctx, insn, &d, size, a);
	if (size == 2) {
		/* 16-bit: counts 1..31 over the 48-bit pattern dst:src:dst. */
		uint64_t v = (a << 32) | (b << 16) | a;
		if (left) {
			res = (v << cnt) >> 32 & 0xffff;
			cf = (v << (cnt - 1)) >> 47 & 1;
		} else {
			res = (v >> cnt) & 0xffff;
			cf = (v >> (cnt - 1)) & 1;
		}
	} else if (left) {
		res = ((a << cnt) | (b >> (bits - cnt))) & size_mask(size);
		cf = (a >> (bits - cnt)) & 1;
	} else {
		res = ((a >> cnt) | (b << (bits - cnt))) & size_mask(size);
		cf = (a >> (cnt - 1)) & 1;
	}
	r = emu_opnd_write(ctx, insn, &d, size, res);
	if (r != EMU_CONTINUE)
		return r;
	f = flags_szp(res, size) | (cf ? EMU_FLAG_CF : 0) | EMU_FLAG_AF;
	/* OF: defined for a count of 1 (sign change). For larger counts the
	 * AMD hosts give MSB(res) ^ CF (SHLD) and MSB(res) ^ the bit below it
	 * (SHRD), which equal the sign-change rule at a count of 1. */
	bool msb = res & sign_bit(size);
	if (left ? msb ^ !!cf : msb ^ !!(res & (sign_bit(size) >> 1)))
		f |= EMU_FLAG_OF;
	set_arith_flags(ctx, f, ARITH);
	return EMU_CONTINUE;
}

EMU_HANDLER(shld) { return double_shift(ctx, insn, true); }
EMU_HANDLER(shrd) { return double_shift(ctx, insn, false); }

#ifdef CONFIG_EMU_DECODE_CACHE
/*
 * Fast forms (dcache.h) of SHL, SHR and SAR of a 32- or 64-bit register
 * by an immediate count that is not 0 after masking (s->s holds the
 * masked count): what shift() does for them, shift_compute() and all
 * six flags written (unless no one can see them, s->fl). A zero count
 * keeps the general path.
 */
FAST_ALWAYS_INLINE int shift_ri(FAST_ARGS, unsigned size, enum shift_op op)
{
	uint64_t f, mask;
	const uint64_t a = ctx->cpu.gpr[s->d] & size_mask(size);
	ctx->cpu.gpr[s->d] = shift_compute(op, a, s->s, size, 0, &f, &mask);
	if (s->fl)
		set_arith_flags(ctx, f, mask);
	return fast_next(ctx, s, env);
}
FAST_SIZED(shl_ri, shift_ri, SH_SHL)
FAST_SIZED(shr_ri, shift_ri, SH_SHR)
FAST_SIZED(sar_ri, shift_ri, SH_SAR)
static const emu_fast_fn shift_forms[3][2] = {
	FAST_PAIR(shl_ri), FAST_PAIR(shr_ri), FAST_PAIR(sar_ri),
};

emu_fast_fn emu_fast_shift(struct emu_slot *s)
{
	const struct emu_insn *insn = &s->insn;
	const int d = fast_reg_of(insn, insn->dst);
	unsigned k;

	switch (insn->op) {
	case EMU_OP_SHL: k = 0; break;
	case EMU_OP_SHR: k = 1; break;
	case EMU_OP_SAR: k = 2; break;
	default: return NULL;
	}
	if ((insn->opsize != 4 && insn->opsize != 8) || d < 0 ||
	    insn->src != EMU_LOC_IMM)
		return NULL;
	/* The count as shift_count() masks an immediate one. */
	const unsigned cnt = (unsigned)insn->imm & (insn->opsize == 8 ? 0x3f : 0x1f);
	if (!cnt)
		return NULL;
	s->d = (uint8_t)d;
	s->s = (uint8_t)cnt;
	return shift_forms[k][insn->opsize == 8];
}
#endif
