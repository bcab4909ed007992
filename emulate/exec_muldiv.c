/*
 * exec_muldiv.c — MUL, IMUL (one, two and three operands), DIV, IDIV
 * and the BCD adjustments (SDM Vol. 2A/2B, each instruction's
 * "Operation" and "Flags Affected").
 *
 * Products and quotients use 128-bit host arithmetic. DIV/IDIV raise
 * #DE for a zero divisor and for a quotient that does not fit (SDM:
 * "If the quotient is too large for the designated register, #DE").
 *
 * Undefined flags: see mul_flags() and div_flags().
 * docs/emulate.md compares this with what the hosts do.
 */
#include "emulate/exec.h"
#ifdef CONFIG_EMU_DECODE_CACHE
#include "emulate/dcache.h"
#endif

typedef unsigned __int128 u128;
typedef __int128 s128;

/* The accumulator pair for size: AL/AH (AX), AX/DX, EAX/EDX, RAX/RDX. */
static void put_pair(struct emu_ctx *ctx, unsigned size, uint64_t lo, uint64_t hi)
{
	if (size == 1) {
		gpr_set(ctx, EMU_RAX, 2, (lo & 0xff) | ((hi & 0xff) << 8));
	} else {
		gpr_set(ctx, EMU_RAX, size, lo);
		gpr_set(ctx, EMU_RDX, size, hi);
	}
}

/* CF = OF = overflow; SF, ZF, AF, PF are undefined and, as on the AMD
 * hosts, left unchanged. */
static void mul_flags(struct emu_ctx *ctx, bool overflow)
{
	set_arith_flags(ctx, overflow ? EMU_FLAG_CF | EMU_FLAG_OF : 0,
			EMU_FLAG_CF | EMU_FLAG_OF);
}

EMU_HANDLER(mul)
{
	const unsigned size = insn->opsize;
	uint64_t b;
	TRY(emu_src_read(ctx, insn, EMU_LOC_RM, size, &b));
	u128 p = (u128)gpr_get(ctx, EMU_RAX, size) * b;
	uint64_t lo = (uint64_t)p & size_mask(size);
	uint64_t hi = (uint64_t)(p >> (size * 8)) & size_mask(size);
	put_pair(ctx, size, lo, hi);
	mul_flags(ctx, hi != 0);
	return EMU_CONTINUE;
}

/* Signed product of two size-byte values; *ovf when it does not fit. */
static uint64_t smul(uint64_t a, uint64_t b, unsigned size, uint64_t *hi, bool *ovf)
{
	s128 p = (s128)sext_to64(a, size) * (s128)sext_to64(b, size);
	uint64_t lo = (uint64_t)p & size_mask(size);
	*hi = (uint64_t)(p >> (size * 8)) & size_mask(size);
	*ovf = (s128)sext_to64(lo, size) != p;
	return lo;
}

EMU_HANDLER(imul1)
{
	const unsigned size = insn->opsize;
	uint64_t b, hi;
	bool ovf;
	TRY(emu_src_read(ctx, insn, EMU_LOC_RM, size, &b));
	uint64_t lo = smul(gpr_get(ctx, EMU_RAX, size), b, size, &hi, &ovf);
	put_pair(ctx, size, lo, hi);
	mul_flags(ctx, ovf);
	return EMU_CONTINUE;
}

/* IMUL r, r/m (0F AF) and IMUL r, r/m, imm (69, 6B): the truncated
 * signed product goes to the register. */
static int imul_to_reg(struct emu_ctx *ctx, const struct emu_insn *insn, uint64_t b)
{
	const unsigned size = insn->opsize;
	uint64_t a, hi;
	bool ovf;
	TRY(emu_src_read(ctx, insn, EMU_LOC_RM, size, &a));
	uint64_t lo = smul(a, b, size, &hi, &ovf);
	reg_write(ctx, insn->reg, size, lo, insn);
	mul_flags(ctx, ovf);
	return EMU_CONTINUE;
}

EMU_HANDLER(imul2)
{
	return imul_to_reg(ctx, insn, reg_read(ctx, insn->reg, insn->opsize, insn));
}

EMU_HANDLER(imul3)
{
	return imul_to_reg(ctx, insn, insn->imm & size_mask(insn->opsize));
}

/* The dividend: AX, DX:AX, EDX:EAX or RDX:RAX. */
static u128 dividend(const struct emu_ctx *ctx, unsigned size)
{
	if (size == 1)
		return gpr_get(ctx, EMU_RAX, 2);
	return ((u128)gpr_get(ctx, EMU_RDX, size) << (size * 8)) |
	       gpr_get(ctx, EMU_RAX, size);
}

/* All six flags are undefined after DIV/IDIV; the AMD hosts leave CF
 * and OF, set AF and clear SF, ZF, PF. We do the same. */
static void div_flags(struct emu_ctx *ctx)
{
	set_arith_flags(ctx, EMU_FLAG_AF, EMU_FLAG_AF | EMU_FLAG_SF | EMU_FLAG_ZF | EMU_FLAG_PF);
}

static int raise_de(struct emu_ctx *ctx)
{
	return emu_raise(ctx, EMU_EXC_DE, false, 0);
}

EMU_HANDLER(div)
{
	const unsigned size = insn->opsize;
	uint64_t d;
	TRY(emu_src_read(ctx, insn, EMU_LOC_RM, size, &d));
	if (!d)
		return raise_de(ctx);
	u128 n = dividend(ctx, size);
	u128 q = n / d;
	if (q > size_mask(size))
		return raise_de(ctx);
	put_pair(ctx, size, (uint64_t)q, (uint64_t)(n % d));
	div_flags(ctx);
	return EMU_CONTINUE;
}

EMU_HANDLER(idiv)
{
	const unsigned size = insn->opsize;
	uint64_t d;
	TRY(emu_src_read(ctx, insn, EMU_LOC_RM, size, &d));
	if (!d)
		return raise_de(ctx);
	/* Sign-extend the 2*size-byte dividend to 128 bits. */
	u128 un = dividend(ctx, size);
	unsigned bits = size * 16;
	s128 n = bits == 128 ? (s128)un : (s128)(un << (128 - bits)) >> (128 - bits);
	s128 dv = sext_to64(d, size);
	/* -2^127 / -1 would trap on the host; it is out of range anyway. */
	if (bits == 128 && un == (u128)1 << 127 && dv == -1)
		return raise_de(ctx);
	s128 q = n / dv, rem = n % dv;
	s128 qmax = (s128)(size_mask(size) >> 1);
	if (q > qmax || q < -qmax - 1)
		return raise_de(ctx);
	put_pair(ctx, size, (uint64_t)q & size_mask(size), (uint64_t)rem & size_mask(size));
	div_flags(ctx);
	return EMU_CONTINUE;
}

/* ------------------------------------------------------------ BCD */

static uint8_t al(const struct emu_ctx *ctx) { return ctx->cpu.gpr[EMU_RAX] & 0xff; }
static void set_al(struct emu_ctx *ctx, uint8_t v) { gpr_set(ctx, EMU_RAX, 1, v); }

/* DAA/DAS (SDM Vol. 2A DAA "Operation"): OF undefined (cleared here). */
static int decimal_adjust(struct emu_ctx *ctx, bool sub)
{
	uint8_t old_al = al(ctx), v = old_al;
	bool old_cf = ctx->cpu.rflags & EMU_FLAG_CF, cf = false, af = false;
	if ((v & 0xf) > 9 || (ctx->cpu.rflags & EMU_FLAG_AF)) {
		cf = old_cf || (sub ? v < 6 : v > 0xf9);
		v = sub ? v - 6 : v + 6;
		af = true;
	}
	if (old_al > 0x99 || old_cf) {
		v = sub ? v - 0x60 : v + 0x60;
		cf = true;
	}
	set_al(ctx, v);
	uint64_t f = flags_szp(v, 1) | (cf ? EMU_FLAG_CF : 0) | (af ? EMU_FLAG_AF : 0);
	set_arith_flags(ctx, f, ARITH);
	return EMU_CONTINUE;
}

EMU_HANDLER(daa) { return decimal_adjust(ctx, false); }
EMU_HANDLER(das) { return decimal_adjust(ctx, true); }

/* AAA/AAS: only AF and CF defined; OF, SF, ZF, PF undefined (cleared
 * here, with SF/ZF/PF from the result). */
static int ascii_adjust(struct emu_ctx *ctx, bool sub)
{
	uint16_t ax = ctx->cpu.gpr[EMU_RAX] & 0xffff;
	bool adj = (ax & 0xf) > 9 || (ctx->cpu.rflags & EMU_FLAG_AF);
	if (adj) {
		if (sub) {
			ax = (uint16_t)(ax - 6);
			ax = (uint16_t)((ax & 0xff) | ((unsigned)((ax >> 8) - 1) << 8));
		} else {
			ax = (uint16_t)(ax + 0x106);
		}
	}
	ax &= 0xff0f;
	gpr_set(ctx, EMU_RAX, 2, ax);
	uint64_t f = flags_szp(ax & 0xff, 1);
	if (adj)
		f |= EMU_FLAG_AF | EMU_FLAG_CF;
	set_arith_flags(ctx, f, ARITH);
	return EMU_CONTINUE;
}

EMU_HANDLER(aaa) { return ascii_adjust(ctx, false); }
EMU_HANDLER(aas) { return ascii_adjust(ctx, true); }

/* AAM imm8: AH = AL / imm8, AL = AL % imm8; #DE on imm8 = 0. */
EMU_HANDLER(aam)
{
	uint8_t base = insn->imm & 0xff, v = al(ctx);
	if (!base)
		return raise_de(ctx);
	gpr_set(ctx, EMU_RAX, 2, ((v / base) << 8) | (v % base));
	set_arith_flags(ctx, flags_szp(v % base, 1), ARITH);
	return EMU_CONTINUE;
}

/* AAD imm8: AL = (AL + AH * imm8) & 0xff, AH = 0. */
EMU_HANDLER(aad)
{
	uint8_t base = insn->imm & 0xff;
	uint8_t ah = (ctx->cpu.gpr[EMU_RAX] >> 8) & 0xff;
	uint8_t v = (uint8_t)(al(ctx) + ah * base);
	gpr_set(ctx, EMU_RAX, 2, v);
	set_arith_flags(ctx, flags_szp(v, 1), ARITH);
	return EMU_CONTINUE;
}

#ifdef CONFIG_EMU_DECODE_CACHE
/*
 * Fast forms (dcache.h) of IMUL r, r (IMUL2) and IMUL r, r, imm (IMUL3)
 * with 32- or 64-bit operands and a register source: imul_to_reg() for
 * them. s->s is the r/m register, s->d the destination.
 */
FAST_ALWAYS_INLINE int imul_rr(FAST_ARGS, unsigned size, bool imm)
{
	const uint64_t m = size_mask(size), cfof = EMU_FLAG_CF | EMU_FLAG_OF;
	const uint64_t b = imm ? s->insn.imm & m : ctx->cpu.gpr[s->d] & m;
	uint64_t hi;
	bool ovf;

	/* mul_flags() inline for no pending flags and a pending logic op;
	 * anything else is folded into rflags first. */
	if (s->fl && ctx->lf.op != LF_NONE && ctx->lf.op != LF_LOGIC)
		return emu_fast_sync_flags(ctx, s, env);
	const uint64_t lo = smul(ctx->cpu.gpr[s->s] & m, b, size, &hi, &ovf);
	ctx->cpu.gpr[s->d] = lo;
	if (!s->fl) {
		/* no one sees CF and OF */
	} else if (ctx->lf.op == LF_NONE) {
		ctx->cpu.rflags = (ctx->cpu.rflags & ~cfof) | (ovf ? cfof : 0);
	} else if (ovf) {
		ctx->cpu.rflags = (ctx->cpu.rflags & ~(uint64_t)ARITH) | cfof |
				  flags_szp_masked(ctx->lf.res, ctx->lf.size);
		ctx->lf.op = LF_NONE;
	}
	return fast_next(ctx, s, env);
}
FAST_SIZED(imul2_rr, imul_rr, false)
FAST_SIZED(imul3_rri, imul_rr, true)
static const emu_fast_fn imul_forms[2][2] = { FAST_PAIR(imul2_rr), FAST_PAIR(imul3_rri) };

emu_fast_fn emu_fast_muldiv(struct emu_slot *s)
{
	const struct emu_insn *insn = &s->insn;
	const int sr = fast_reg_of(insn, EMU_LOC_RM);

	if ((insn->op != EMU_OP_IMUL2 && insn->op != EMU_OP_IMUL3) ||
	    (insn->opsize != 4 && insn->opsize != 8) || sr < 0)
		return NULL;
	s->d = insn->reg;
	s->s = (uint8_t)sr;
	return imul_forms[insn->op == EMU_OP_IMUL3][insn->opsize == 8];
}
#endif
