/*
 * forms_arith.c — emitters for arithmetic: the ALU forms, multiply and
 * divide, shifts and rotates, bit test and bit scan.
 *
 * Flags follow SDM Vol. 2 "Flags Affected" per instruction; where they
 * depend on a count (shifts, rotates, SHLD/SHRD), the count is known to
 * the generator (an immediate, or CL set by the unit), so the flags each
 * case defines are exact rather than a worst case.
 */
#include "gen.h"

/* op r/m, reg (ALU, TEST, MOV, XCHG, XADD) */
static void emit_rm_r(struct gen *g, unsigned form)
{
	const struct dt_form *f = &dt_forms[form];
	bool byte = f->sz == SZ_B, mem;
	struct dt_ins in;

	gen_ins_init(g, &in, form);
	gen_osize(g, &in, f->sz);
	mem = gen_want_mem(g, f);
	gen_rm_operand(g, &in, mem, in.osz, 0, !(f->attr & A_NOWR), byte);
	gen_modrm_reg(&in, (unsigned)gen_reg(g, &in, f->attr & A_XREG, byte));
	in.lock_ok = mem && (f->attr & A_LOCK);
	gen_emit(g, &in, true);
	gen_flags(g, f->def, f->undef);
}

/* op reg, r/m (ALU, MOV, IMUL, CMOVcc, TZCNT/LZCNT/POPCNT) */
static void emit_r_rm(struct gen *g, unsigned form)
{
	const struct dt_form *f = &dt_forms[form];
	bool byte = f->sz == SZ_B;
	struct dt_ins in;

	gen_ins_init(g, &in, form);
	gen_osize(g, &in, f->sz);
	gen_rm_operand(g, &in, gen_want_mem(g, f), in.osz, 0, false, byte);
	gen_modrm_reg(&in, (unsigned)gen_reg(g, &in, !(f->attr & A_NOWR), byte));
	gen_emit(g, &in, true);
	gen_flags(g, f->def, f->undef);
}

static void emit_acc_imm(struct gen *g, unsigned form)
{
	const struct dt_form *f = &dt_forms[form];
	struct dt_ins in;

	gen_ins_init(g, &in, form);
	gen_osize(g, &in, f->sz);
	gen_imm(&in, dt_izsize(in.osz), dt_rand64(&g->rng));
	in.rex_free |= REX_R | REX_X | REX_B;
	gen_emit(g, &in, true);
	gen_flags(g, f->def, f->undef);
}

/* op r/m, imm (group 1, TEST, MOV C6/C7) */
static void emit_rm_imm(struct gen *g, unsigned form)
{
	const struct dt_form *f = &dt_forms[form];
	struct dt_ins in;
	bool mem;

	gen_ins_init(g, &in, form);
	gen_osize(g, &in, f->sz);
	mem = gen_want_mem(g, f);
	gen_rm_operand(g, &in, mem, in.osz, 0, !(f->attr & A_NOWR), f->sz == SZ_B);
	gen_imm(&in, f->imm == I_B ? 1 : dt_izsize(in.osz), gen_value(g));
	in.lock_ok = mem && (f->attr & A_LOCK);
	gen_emit(g, &in, true);
	gen_flags(g, f->def, f->undef);
}

/* op r/m (NOT, NEG, INC, DEC, MUL, IMUL, SETcc) */
static void emit_rm(struct gen *g, unsigned form)
{
	const struct dt_form *f = &dt_forms[form];
	bool write = f->kind != K_MUL;
	struct dt_ins in;
	bool mem;

	gen_ins_init(g, &in, form);
	gen_osize(g, &in, f->sz);
	mem = gen_want_mem(g, f);
	gen_rm_operand(g, &in, mem, in.osz, 0, write, f->sz == SZ_B);
	in.lock_ok = mem && (f->attr & A_LOCK);
	gen_emit(g, &in, true);
	gen_flags(g, f->def, f->undef);
}

/*
 * DIV/IDIV (SDM Vol. 2 "DIV": #DE when the divisor is 0 or the quotient
 * does not fit). Usually the dividend is built so the quotient fits; one
 * in eight divides by zero, one in eight uses random (mostly overflowing)
 * dividends.
 */
static void emit_div(struct gen *g, unsigned form)
{
	const struct dt_form *f = &dt_forms[form];
	bool is_signed = f->ext == 7, mem;
	unsigned mode = dt_rand(&g->rng, 8), osz, bits;
	uint64_t d, mask;
	struct dt_ins in;
	int dreg = -1;

	gen_ins_init(g, &in, form);
	gen_osize(g, &in, f->sz);
	osz = in.osz;
	bits = osz * 8;
	mask = size_mask(osz);
	gen_pin(g, EMU_RAX);
	if (osz > 1)
		gen_pin(g, EMU_RDX);
	mem = gen_want_mem(g, f);
	if (mem) {
		gen_mem(g, &in, osz, M_NOFAULT, 0);
	} else {
		for (;;) {
			dreg = gen_reg(g, &in, false, osz == 1);
			if (osz == 1 && (dreg == 0 || (!in.e.rex_on && dreg == 4)))
				continue;	/* AL, AH: part of the dividend */
			if (osz > 1 && (dreg == EMU_RAX || dreg == EMU_RDX ||
					dreg == EMU_RSP))
				continue;
			if (osz == 1 && in.e.rex_on && dreg == EMU_RSP)
				continue;
			break;
		}
		gen_modrm_rm_reg(&in, (unsigned)dreg);
	}

	/* the divisor */
	if (mode == 0) {
		d = 0;
	} else {
		d = dt_chance(&g->rng, 3) ? 1 + dt_rand(&g->rng, 300) : dt_rand64(&g->rng);
		if (is_signed && dt_chance(&g->rng, 2))
			d = -d;
		if (mem && osz == 8)
			d = (uint64_t)(int64_t)(int32_t)d;
		d &= mask;
		if (!d)
			d = 7;
	}
	if (mem)
		gen_store_imm(g, &in, osz, d);
	else
		gen_set_operand(g, &in, (unsigned)dreg, osz, d);

	/* the dividend: (hi:lo) of 2 * bits */
	if (mode >= 2) {
		unsigned __int128 hi, lo;

		if (!is_signed) {
			hi = dt_rand64(&g->rng) & mask;
			hi = d ? hi % d : 0;
			lo = dt_rand64(&g->rng) & mask;
		} else {
			__int128 sd = (__int128)(int64_t)(d << (64 - bits)) >> (64 - bits);
			__int128 q = (__int128)(int64_t)(dt_rand64(&g->rng) << (64 - bits)) >> (64 - bits);
			__int128 r, n;

			if (dt_chance(&g->rng, 2))
				q >>= dt_rand(&g->rng, bits);
			r = sd < 0 ? -sd : sd;
			r = r ? (__int128)(dt_rand64(&g->rng) % (unsigned __int128)r) : 0;
			n = q * sd;
			n = n >= 0 ? n + r : n - r;
			lo = (unsigned __int128)n & mask;
			hi = ((unsigned __int128)n >> bits) & mask;
		}
		if (osz == 1) {
			gen_setreg(g, EMU_RAX, (dt_rand64(&g->rng) & ~0xffffull) |
				   (uint64_t)(hi << 8 | lo));
		} else {
			gen_setreg(g, EMU_RDX, (dt_rand64(&g->rng) & ~mask) | (uint64_t)hi);
			gen_setreg(g, EMU_RAX, (dt_rand64(&g->rng) & ~mask) | (uint64_t)lo);
		}
	}
	gen_emit(g, &in, true);
	gen_flags(g, f->def, f->undef);
}

static void emit_imul3(struct gen *g, unsigned form)
{
	const struct dt_form *f = &dt_forms[form];
	struct dt_ins in;

	gen_ins_init(g, &in, form);
	gen_osize(g, &in, SZ_V);
	gen_rm_operand(g, &in, gen_want_mem(g, f), in.osz, 0, false, false);
	gen_modrm_reg(&in, (unsigned)gen_reg(g, &in, true, false));
	gen_imm(&in, f->imm == I_B ? 1 : dt_izsize(in.osz), gen_value(g));
	gen_emit(g, &in, true);
	gen_flags(g, f->def, f->undef);
}

static unsigned shift_count(struct gen *g, unsigned bits)
{
	switch (dt_rand(&g->rng, 6)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return bits - 1 + dt_rand(&g->rng, 3);
	case 3: return 32 + dt_rand(&g->rng, 32);
	default: return dt_rand(&g->rng, 256);
	}
}

/*
 * Flags of a shift or rotate by @count (SDM Vol. 2 "RCL/RCR/ROL/ROR" and
 * "SAL/SAR/SHL/SHR", Flags Affected): a masked count of 0 changes
 * nothing; OF is defined only for a count of 1; AF is undefined after
 * shifts; CF is undefined for SHL/SHR by at least the operand width; RCL/
 * RCR rotate (count mod 9/17 for bytes/words) through CF.
 */
static void shift_flags(unsigned n, unsigned osz, unsigned count,
			uint32_t *def, uint32_t *undef)
{
	unsigned bits = osz * 8, masked = count & (osz == 8 ? 63 : 31);
	uint32_t of = masked == 1 ? EMU_FLAG_OF : 0;

	*def = *undef = 0;
	if (!masked)
		return;
	switch (n) {
	case 0: case 1:		/* ROL, ROR */
		*def = EMU_FLAG_CF | of;
		*undef = EMU_FLAG_OF & ~of;
		break;
	case 2: case 3: {	/* RCL, RCR */
		unsigned t = osz == 1 ? masked % 9 : osz == 2 ? masked % 17 : masked;

		*def = (t ? EMU_FLAG_CF : 0) | of;
		*undef = EMU_FLAG_OF & ~of;
		break;
	}
	case 4: case 5:		/* SHL, SHR */
		*def = EMU_FLAG_SF | EMU_FLAG_ZF | EMU_FLAG_PF | of |
			(masked < bits ? EMU_FLAG_CF : 0);
		*undef = EMU_FLAG_AF | (EMU_FLAG_OF & ~of) |
			(masked < bits ? 0 : EMU_FLAG_CF);
		break;
	default:		/* SAR */
		*def = EMU_FLAG_SF | EMU_FLAG_ZF | EMU_FLAG_PF | EMU_FLAG_CF | of;
		*undef = EMU_FLAG_AF | (EMU_FLAG_OF & ~of);
		break;
	}
}

static void emit_shift(struct gen *g, unsigned form)
{
	const struct dt_form *f = &dt_forms[form];
	bool by_cl = (f->op & 0xfe) == 0xd2, mem;
	unsigned count;
	uint32_t def, undef;
	struct dt_ins in;

	if (f->ext == 2 || f->ext == 3)
		gen_need_flags(g, EMU_FLAG_CF);
	gen_ins_init(g, &in, form);
	gen_osize(g, &in, f->sz);
	count = (f->op & 0xfe) == 0xd0 ? 1 : shift_count(g, in.osz * 8);
	if (by_cl)
		gen_pin(g, EMU_RCX);
	mem = gen_want_mem(g, f);
	gen_rm_operand(g, &in, mem, in.osz, 0, true, f->sz == SZ_B);
	if (by_cl)
		gen_setreg(g, EMU_RCX, (dt_rand64(&g->rng) & ~0xffull) | count);
	if (f->imm == I_B)
		gen_imm(&in, 1, count);
	gen_emit(g, &in, true);
	shift_flags((unsigned)f->ext, in.osz, count, &def, &undef);
	gen_flags(g, def, undef);
}

/* SHLD/SHRD: a 16-bit count above 16 leaves the result undefined (SDM
 * "SHLD"), so 16-bit counts mask to 0..16 here. */
static void emit_shxd(struct gen *g, unsigned form)
{
	const struct dt_form *f = &dt_forms[form];
	bool by_cl = f->op & 1;
	unsigned count, masked;
	uint32_t of;
	struct dt_ins in;

	gen_ins_init(g, &in, form);
	gen_osize(g, &in, SZ_V);
	if (in.osz == 2)
		count = dt_rand(&g->rng, 17) + 32 * dt_rand(&g->rng, 8);
	else
		count = shift_count(g, in.osz * 8);
	if (by_cl)
		gen_pin(g, EMU_RCX);
	gen_rm_operand(g, &in, gen_want_mem(g, f), in.osz, 0, true, false);
	gen_modrm_reg(&in, (unsigned)gen_reg(g, &in, false, false));
	if (by_cl)
		gen_setreg(g, EMU_RCX, (dt_rand64(&g->rng) & ~0xffull) | count);
	else
		gen_imm(&in, 1, count);
	gen_emit(g, &in, true);
	masked = count & (in.osz == 8 ? 63 : 31);
	if (masked) {
		of = masked == 1 ? EMU_FLAG_OF : 0;
		gen_flags(g, EMU_FLAG_CF | EMU_FLAG_SF | EMU_FLAG_ZF | EMU_FLAG_PF | of,
			  EMU_FLAG_AF | (EMU_FLAG_OF & ~of));
	}
}

/*
 * BT/BTS/BTR/BTC r/m, reg. With a memory operand the register is a
 * signed bit offset that may reach far beyond the operand (SDM Vol. 2
 * "BT", Table 3-2: the operand accessed is at base + osz * floor(offset /
 * (8 * osz))); here the offset stays within +/-2 KiB of a target in the
 * middle of the data area, with garbage above the operand size.
 */
static void emit_bt(struct gen *g, unsigned form)
{
	const struct dt_form *f = &dt_forms[form];
	struct dt_ins in;
	bool mem;

	gen_ins_init(g, &in, form);
	gen_osize(g, &in, SZ_V);
	mem = gen_want_mem(g, f);
	if (mem) {
		int r = gen_value_reg(g, &in, 0);
		int64_t off = (int64_t)dt_rand(&g->rng, 0x8000) - 0x4000;

		gen_pin(g, (unsigned)r);
		gen_modrm_reg(&in, (unsigned)r);
		gen_mem(g, &in, in.osz, M_TARGET | M_NOFAULT,
			gen_sb_addr(g, 0x2800, 0x3800) & ~(uint64_t)(in.osz - 1));
		gen_set_operand(g, &in, (unsigned)r, in.osz, (uint64_t)off);
	} else {
		gen_rm_operand(g, &in, false, in.osz, 0, !(f->attr & A_NOWR), false);
		gen_modrm_reg(&in, (unsigned)gen_reg(g, &in, false, false));
	}
	in.lock_ok = mem && (f->attr & A_LOCK);
	gen_emit(g, &in, true);
	gen_flags(g, f->def, f->undef);
}

static void emit_bti(struct gen *g, unsigned form)
{
	const struct dt_form *f = &dt_forms[form];
	struct dt_ins in;
	bool mem;

	gen_ins_init(g, &in, form);
	gen_osize(g, &in, SZ_V);
	mem = gen_want_mem(g, f);
	gen_rm_operand(g, &in, mem, in.osz, 0, !(f->attr & A_NOWR), false);
	gen_imm(&in, 1, dt_rand(&g->rng, 256));
	in.lock_ok = mem && (f->attr & A_LOCK);
	gen_emit(g, &in, true);
	gen_flags(g, f->def, f->undef);
}

/* A sparse or dense random value, sometimes zero. */
static uint64_t scan_value(struct gen *g)
{
	switch (dt_rand(&g->rng, 4)) {
	case 0: return 0;
	case 1: return 1ull << dt_rand(&g->rng, 64);
	case 2: return dt_rand64(&g->rng) & dt_rand64(&g->rng) & dt_rand64(&g->rng);
	default: return dt_rand64(&g->rng);
	}
}

/*
 * BSF/BSR: the destination is undefined when the source is 0 (SDM
 * "BSF"; AMD documents it unchanged). The source gets a known value, and
 * after a zero source the destination is overwritten.
 */
static void emit_bitscan(struct gen *g, unsigned form)
{
	const struct dt_form *f = &dt_forms[form];
	struct dt_ins in;
	uint64_t v;
	int d;

	gen_ins_init(g, &in, form);
	gen_osize(g, &in, SZ_V);
	d = gen_reg(g, &in, true, false);
	gen_modrm_reg(&in, (unsigned)d);
	v = scan_value(g);
	if (gen_want_mem(g, f)) {
		if (in.osz == 8)	/* MOV r/m64, imm32 sign-extends */
			v = (uint64_t)(int64_t)(int32_t)v;
		v &= size_mask(in.osz);
		gen_mem(g, &in, in.osz, M_NOFAULT, 0);
		gen_store_imm(g, &in, in.osz, v);
	} else {
		int s = gen_value_reg(g, &in, 0);

		gen_modrm_rm_reg(&in, (unsigned)s);
		gen_set_operand(g, &in, (unsigned)s, in.osz, v);
	}
	gen_emit(g, &in, true);
	gen_flags(g, f->def, f->undef);
	if (!(v & size_mask(in.osz)))
		gen_setreg(g, (unsigned)d, gen_value(g));
}

bool dt_emit_arith(struct gen *g, unsigned form)
{
	switch (dt_forms[form].kind) {
	case K_RM_R:		emit_rm_r(g, form); return true;
	case K_R_RM:
	case K_CMOV:		emit_r_rm(g, form); return true;
	case K_ACC_IMM:		emit_acc_imm(g, form); return true;
	case K_RM_IMM:		emit_rm_imm(g, form); return true;
	case K_RM:
	case K_MUL:
	case K_SETCC:		emit_rm(g, form); return true;
	case K_DIV:		emit_div(g, form); return true;
	case K_IMUL3:		emit_imul3(g, form); return true;
	case K_SHIFT:		emit_shift(g, form); return true;
	case K_SHXD:		emit_shxd(g, form); return true;
	case K_BT:		emit_bt(g, form); return true;
	case K_BTI:		emit_bti(g, form); return true;
	case K_BITSCAN:		emit_bitscan(g, form); return true;
	default:		return false;
	}
}
