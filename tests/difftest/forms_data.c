/*
 * forms_data.c — emitters for data movement and the rest: MOV in all its
 * encodings (including moffs and Sreg sources), MOVZX/MOVSX/MOVSXD,
 * XCHG/BSWAP/LEA/XLAT, CMPXCHG/CMPXCHG8B/CMPXCHG16B, and the forms
 * without operands (CBW/CWD, LAHF/SAHF, CLC..STD, NOP and hint NOP).
 *
 * CMPXCHG* load the accumulator (EDX:EAX, RDX:RAX) from the destination
 * half the time, so both the exchange and the failure path are covered.
 */
#include "gen.h"

/* B0+r ib, B8+r iw/id/io */
static void emit_mov_oi(struct gen *g, unsigned form)
{
	const struct dt_form *f = &dt_forms[form];
	struct dt_ins in;

	gen_ins_init(g, &in, form);
	gen_osize(g, &in, f->sz);
	gen_opreg(&in, (unsigned)gen_reg(g, &in, true, f->sz == SZ_B));
	gen_imm(&in, in.osz, gen_value(g));
	gen_emit(g, &in, true);
}

/* 90+r: XCHG with the accumulator; 90 itself is NOP even with 32-bit
 * operands (SDM "XCHG": no zero extension). */
static void emit_xchg_o(struct gen *g, unsigned form)
{
	struct dt_ins in;
	int r;

	gen_ins_init(g, &in, form);
	gen_osize(g, &in, SZ_V);
	do
		r = gen_reg(g, &in, true, false);
	while (r == 0 && !dt_chance(&g->rng, 16));
	gen_opreg(&in, (unsigned)r);
	gen_emit(g, &in, true);
}

static void emit_bswap(struct gen *g, unsigned form)
{
	struct dt_ins in;

	gen_ins_init(g, &in, form);
	gen_osize(g, &in, SZ_DQ);
	gen_opreg(&in, (unsigned)gen_reg(g, &in, true, false));
	gen_emit(g, &in, true);
}

/* MOVZX/MOVSX r, r/m8|16 and MOVSXD r, r/m32 */
static void emit_movx(struct gen *g, unsigned form)
{
	const struct dt_form *f = &dt_forms[form];
	unsigned ssz;
	struct dt_ins in;

	gen_ins_init(g, &in, form);
	gen_osize(g, &in, SZ_V);
	if (f->op == 0x63)
		ssz = in.osz == 8 ? 4 : in.osz;
	else
		ssz = f->op & 1 ? 2 : 1;
	gen_modrm_reg(&in, (unsigned)gen_reg(g, &in, true, false));
	gen_rm_operand(g, &in, gen_want_mem(g, f), ssz, 0, false, ssz == 1);
	gen_emit(g, &in, true);
}

/* LEA: the address is computed, never accessed: any encoding will do;
 * one in 64 uses a register operand (#UD). */
static void emit_lea(struct gen *g, unsigned form)
{
	struct dt_ins in;

	gen_ins_init(g, &in, form);
	gen_osize(g, &in, SZ_V);
	gen_modrm_reg(&in, (unsigned)gen_reg(g, &in, true, false));
	gen_mem_random(g, &in);
	if (dt_chance(&g->rng, 64)) {
		in.e.mod = 3;
		in.e.has_sib = false;
		in.e.disp_bytes = 0;
	}
	gen_emit(g, &in, true);
}

/* 0F 1F /0: hint NOP; its operand is never accessed. */
static void emit_nopm(struct gen *g, unsigned form)
{
	struct dt_ins in;

	gen_ins_init(g, &in, form);
	gen_osize(g, &in, SZ_V);
	if (dt_chance(&g->rng, 4))
		gen_modrm_rm_reg(&in, dt_rand(&g->rng, 16));
	else
		gen_mem_random(g, &in);
	gen_emit(g, &in, true);
}

/* CMPXCHG r/m, reg: half the time the accumulator is loaded from the
 * destination first, so the exchange happens. */
static void emit_cmpxchg(struct gen *g, unsigned form)
{
	const struct dt_form *f = &dt_forms[form];
	bool byte = f->sz == SZ_B, mem, equal = dt_chance(&g->rng, 2);
	struct dt_ins in;
	int rm;

	gen_ins_init(g, &in, form);
	gen_osize(g, &in, f->sz);
	if (equal)
		gen_pin(g, EMU_RAX);
	mem = gen_want_mem(g, f);
	rm = gen_rm_operand(g, &in, mem, in.osz, 0, true, byte);
	gen_modrm_reg(&in, (unsigned)gen_reg(g, &in, false, byte));
	if (!mem && in.osz == 4) {
		/*
		 * When the comparison fails, Intel writes the destination
		 * back (SDM "CMPXCHG": DEST := TEMP, so a 32-bit register is
		 * zero-extended) and AMD leaves it alone: MOV r32,r32 first
		 * makes both behaviours agree.
		 */
		struct dt_ins mv;

		gen_ins_init(g, &mv, MOV_RM_R);
		gen_modrm_rm_reg(&mv, (unsigned)rm);
		gen_modrm_reg(&mv, (unsigned)rm);
		gen_emit(g, &mv, false);
	}
	if (equal && mem) {
		gen_load_acc(g, &in, in.osz, EMU_RAX);
	} else if (equal) {
		struct dt_ins mv;

		gen_ins_init(g, &mv, byte ? MOV_R8_RM8 : MOV_R_RM);
		if (byte && in.e.rex_on)
			mv.e.rex_on = true;
		if (!byte)
			gen_rex(&mv, REX_W);
		gen_modrm_reg(&mv, EMU_RAX);
		gen_modrm_rm_reg(&mv, (unsigned)rm);
		gen_emit(g, &mv, false);
	}
	in.lock_ok = mem;
	gen_emit(g, &in, true);
	gen_flags(g, f->def, f->undef);
}

/* CMPXCHG8B m64 / CMPXCHG16B m128 (16-byte aligned, else #GP(0)). */
static void emit_cx8(struct gen *g, unsigned form)
{
	bool is16 = form == CMPXCHG16B, equal = dt_chance(&g->rng, 2);
	unsigned half = is16 ? 8 : 4;
	struct dt_ins in;

	gen_ins_init(g, &in, form);
	if (is16)
		gen_rex(&in, REX_W);
	if (dt_chance(&g->rng, 64)) {		/* register operand: #UD */
		gen_modrm_rm_reg(&in, dt_rand(&g->rng, 16));
		gen_emit(g, &in, true);
		return;
	}
	if (equal) {
		gen_pin(g, EMU_RAX);
		gen_pin(g, EMU_RDX);
	}
	gen_mem(g, &in, 2 * half, M_EXACT | (is16 ? M_ALIGN16 : 0), 0);
	for (unsigned i = 0; equal && i < 2; i++) {
		struct dt_mem abs = {
			.mode = MM_ABS, .adsize = 8, .base = EMU_NOREG,
			.index = EMU_NOREG, .disp_bytes = 4, .sib = true,
			.target = in.m.target + i * half,
		};
		struct dt_ins ld;

		abs.disp = (int32_t)abs.target;
		gen_ins_init(g, &ld, MOV_R_RM);
		if (is16)
			gen_rex(&ld, REX_W);
		gen_modrm_reg(&ld, i ? EMU_RDX : EMU_RAX);
		gen_mem_apply(&ld, &abs);
		gen_emit(g, &ld, false);
	}
	in.lock_ok = true;
	gen_emit(g, &in, true);
	gen_flags(g, EMU_FLAG_ZF, 0);
}

static void emit_xlat(struct gen *g, unsigned form)
{
	bool ad32 = dt_chance(&g->rng, 5);
	uint64_t v = gen_sb_addr(g, 0x1000, 0x3000);
	struct dt_ins in;

	gen_ins_init(g, &in, form);
	if (ad32) {
		dt_enc_prefix(&in.e, 0x67);
		if (dt_chance(&g->rng, 2))
			v |= dt_rand64(&g->rng) << 32;
	}
	gen_setreg(g, EMU_RBX, v);
	in.rex_free = 0xf;
	gen_emit(g, &in, true);
}

/* MOV AL/eAX <-> moffs: a 64-bit (or, with 67, 32-bit) absolute address. */
static void emit_moffs(struct gen *g, unsigned form)
{
	const struct dt_form *f = &dt_forms[form];
	bool ad32 = dt_chance(&g->rng, 4), fault;
	struct dt_ins in;

	gen_ins_init(g, &in, form);
	gen_osize(g, &in, f->sz);
	if (ad32)
		dt_enc_prefix(&in.e, 0x67);
	gen_imm(&in, ad32 ? 4 : 8,
		gen_target(g, in.osz, ad32 ? M_EXACT : 0, ad32 ? 4 : 8, &fault));
	in.rex_free |= REX_R | REX_X | REX_B;
	gen_emit(g, &in, true);
}

/* MOV r/m, Sreg: memory operands are always 16 bits; a register
 * destination is zero-extended to the operand size. */
static void emit_mov_sreg(struct gen *g, unsigned form)
{
	const struct dt_form *f = &dt_forms[form];
	struct dt_ins in;
	bool mem;

	gen_ins_init(g, &in, form);
	gen_osize(g, &in, SZ_V);
	gen_modrm_reg(&in, dt_rand(&g->rng, 6));
	mem = gen_want_mem(g, f);
	gen_rm_operand(g, &in, mem, 2, 0, true, false);
	gen_emit(g, &in, true);
}

/* Forms without operands (CBW, CWD, LAHF, SAHF, CLC ... STD, NOP). */
static void emit_none(struct gen *g, unsigned form)
{
	const struct dt_form *f = &dt_forms[form];
	struct dt_ins in;

	gen_ins_init(g, &in, form);
	gen_osize(g, &in, f->sz);
	in.rex_free |= REX_R | REX_X | REX_B;
	if (f->sz == SZ_NONE)
		in.rex_free |= REX_W;
	if (form == NOP) {
		in.rex_free &= (uint8_t)~REX_B;	/* 41 90 is XCHG r8, rax */
		if (dt_chance(&g->rng, 3))
			dt_enc_prefix(&in.e, 0x66);
	}
	gen_emit(g, &in, true);
	gen_flags(g, f->def, f->undef);
}

bool dt_emit_data(struct gen *g, unsigned form)
{
	switch (dt_forms[form].kind) {
	case K_MOV_OI:		emit_mov_oi(g, form); return true;
	case K_XCHG_O:		emit_xchg_o(g, form); return true;
	case K_BSWAP:		emit_bswap(g, form); return true;
	case K_MOVX:		emit_movx(g, form); return true;
	case K_LEA:		emit_lea(g, form); return true;
	case K_NOPM:		emit_nopm(g, form); return true;
	case K_CMPXCHG:		emit_cmpxchg(g, form); return true;
	case K_CX8:		emit_cx8(g, form); return true;
	case K_XLAT:		emit_xlat(g, form); return true;
	case K_MOFFS:		emit_moffs(g, form); return true;
	case K_MOV_SREG:	emit_mov_sreg(g, form); return true;
	case K_NONE:		emit_none(g, form); return true;
	default:		return false;
	}
}
