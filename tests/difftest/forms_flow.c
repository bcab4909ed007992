/*
 * forms_flow.c — emitters for control transfer, the stack and strings.
 *
 * Control flow stays inside the sequence and only goes forward:
 *   Jcc/JMP/LOOPcc/JrCXZ  skip 0-3 following units (gen_forward());
 *   JMP r/m               a register or memory slot set to the target;
 *   CALL rel32/r/m        "CALL L1; JMP L2; L1: body; RET [imm16]; L2:",
 *                         the body being 0-2 units without branches or
 *                         stack operations, so RET finds its return address;
 *   RET [imm16]           "PUSH target; RET", the target a later unit.
 * No 66 prefix on near branches: in 64-bit mode Intel ignores it and AMD
 * truncates RIP to 16 bits (APM Vol. 3 "Jcc"), so there is no single
 * right answer.
 *
 * The stack stays in the sandbox: every push/pop/ENTER/RET imm moves RSP
 * by a few hundred bytes at most, LEAVE reloads it from an RBP set to the
 * stack area, and POP RSP only follows a PUSH RSP.
 */
#include "gen.h"

/* Jcc rel8/rel32, JMP rel8/rel32 */
static void emit_jcc(struct gen *g, unsigned form)
{
	const struct dt_form *f = &dt_forms[form];
	bool rel8 = f->imm == I_B;
	unsigned skip = dt_rand(&g->rng, 4);
	int label = gen_label(g);
	struct dt_ins in;

	gen_ins_init(g, &in, form);
	gen_imm(&in, rel8 ? 1 : 4, 0);
	in.e.fix_label = (int8_t)label;
	in.e.fix_kind = rel8 ? FIX_REL8 : FIX_REL32;
	in.rex_free = 0xf;
	gen_emit(g, &in, true);
	gen_forward(g, label, skip, rel8);
}

/* FF /2 (CALL) or FF /4 (JMP) to @label through a register or through a
 * memory slot written just before. */
static void emit_indirect(struct gen *g, unsigned form, int label)
{
	struct dt_ins in;

	gen_ins_init(g, &in, form);
	in.rex_free |= REX_W;
	if (dt_chance(&g->rng, 2)) {
		int r;

		do
			r = gen_reg(g, &in, false, false);
		while (r == EMU_RSP);
		gen_setreg_label(g, (unsigned)r, label);
		gen_modrm_rm_reg(&in, (unsigned)r);
	} else {
		struct dt_ins st;

		gen_mem(g, &in, 8, M_NOFAULT, 0);
		gen_ins_init(g, &st, MOV_RM_IZ);
		gen_rex(&st, REX_W);
		gen_mem_apply(&st, &in.m);
		gen_imm(&st, 4, 0);
		st.e.fix_label = (int8_t)label;
		st.e.fix_kind = FIX_ABS32;
		gen_emit(g, &st, false);
	}
	gen_emit(g, &in, true);
}

static void emit_jmp_rm(struct gen *g, unsigned form)
{
	unsigned skip = dt_rand(&g->rng, 4);
	int label = gen_label(g);

	emit_indirect(g, form, label);
	gen_forward(g, label, skip, false);
}

/* LOOP/LOOPE/LOOPNE/JrCXZ: count in RCX, or ECX with a 67 prefix (the
 * upper half of RCX then garbage). */
static void emit_loop(struct gen *g, unsigned form)
{
	bool ad32 = dt_chance(&g->rng, 4);
	unsigned skip = dt_rand(&g->rng, 4);
	struct dt_ins in;
	int label;

	gen_ins_init(g, &in, form);
	if (ad32)
		dt_enc_prefix(&in.e, 0x67);
	if (dt_chance(&g->rng, 2)) {
		static const uint64_t counts[] = { 0, 1, 2, 0x100000000ull, 0x100000001ull };
		uint64_t v = dt_chance(&g->rng, 3) ? dt_rand64(&g->rng) :
			counts[dt_rand(&g->rng, 5)];

		if (ad32 && dt_chance(&g->rng, 2))
			v = (v & 0xffffffffull) | (dt_rand64(&g->rng) << 32);
		gen_setreg(g, EMU_RCX, v);
	}
	label = gen_label(g);
	gen_imm(&in, 1, 0);
	in.e.fix_label = (int8_t)label;
	in.e.fix_kind = FIX_REL8;
	in.rex_free = 0xf;
	gen_emit(g, &in, true);
	gen_forward(g, label, skip, true);
}

/* CALL L1; JMP L2; L1: body; RET [imm16]; L2: */
static void emit_call(struct gen *g, unsigned form)
{
	int l1 = gen_label(g), l2 = gen_label(g);
	unsigned nbody = dt_rand(&g->rng, 3);
	struct dt_ins in;

	if (form == CALL_32) {
		gen_ins_init(g, &in, form);
		gen_imm(&in, 4, 0);
		in.e.fix_label = (int8_t)l1;
		in.e.fix_kind = FIX_REL32;
		in.rex_free = 0xf;
		gen_emit(g, &in, true);
	} else {
		emit_indirect(g, form, l1);
	}

	gen_ins_init(g, &in, nbody <= 1 ? JMP_8 : JMP_32);
	gen_imm(&in, nbody <= 1 ? 1 : 4, 0);
	in.e.fix_label = (int8_t)l2;
	in.e.fix_kind = nbody <= 1 ? FIX_REL8 : FIX_REL32;
	gen_emit(g, &in, false);

	gen_bind(g, l1);
	g->in_body = true;
	for (unsigned i = 0; i < nbody; i++)
		gen_unit(g, gen_pick_simple(g));
	g->in_body = false;

	if (dt_chance(&g->rng, 3)) {
		gen_ins_init(g, &in, RET_I16);
		gen_imm(&in, 2, dt_rand(&g->rng, 0x100));
	} else {
		gen_ins_init(g, &in, RET);
	}
	gen_emit(g, &in, false);
	gen_bind(g, l2);
}

/* PUSH target; RET [imm16] */
static void emit_ret(struct gen *g, unsigned form)
{
	unsigned skip = dt_rand(&g->rng, 3);
	int label = gen_label(g);
	struct dt_ins in;

	gen_ins_init(g, &in, PUSH_IZ);
	gen_imm(&in, 4, 0);
	in.e.fix_label = (int8_t)label;
	in.e.fix_kind = FIX_ABS32;
	gen_emit(g, &in, false);

	gen_ins_init(g, &in, form);
	if (form == RET_I16)
		gen_imm(&in, 2, dt_rand(&g->rng, 0x100));
	in.rex_free = 0xf;
	gen_emit(g, &in, true);
	gen_forward(g, label, skip, false);
}

/* ------------------------------------------------------------ strings */

/* A string pointer: the data area with room for 40 elements either way
 * (DF may be set), or one in 24 near an end of the sandbox, where the
 * run crosses into the guard and faults part-way through. */
static uint64_t str_addr(struct gen *g, bool ad32)
{
	uint64_t v;

	switch (dt_rand(&g->rng, 48)) {
	case 0:
		v = DT_SB_BASE + dt_rand(&g->rng, 0x40);
		break;
	case 1:
		v = DT_SB_END - 8 - dt_rand(&g->rng, 0x40);
		break;
	default:
		v = gen_sb_addr(g, 0x1200, 0x3600);
		break;
	}
	if (ad32 && dt_chance(&g->rng, 2))
		v |= dt_rand64(&g->rng) << 32;
	return v;
}

/*
 * MOVS/CMPS/STOS/LODS/SCAS, with REP (F3) or REPNE (F2) where defined.
 * With a 67 prefix RCX/RSI/RDI are used as ECX/ESI/EDI (SDM Vol. 1
 * 7.3.9.2), so their upper halves get garbage.
 */
static void emit_str(struct gen *g, unsigned form)
{
	const struct dt_form *f = &dt_forms[form];
	unsigned kind = f->op & 0xfe, n = 0;
	bool ad32 = dt_chance(&g->rng, 5), rep = false;
	bool si = kind == 0xa4 || kind == 0xa6 || kind == 0xac;
	bool di = kind != 0xac;
	struct dt_ins in;

	gen_ins_init(g, &in, form);
	gen_osize(g, &in, f->sz);
	if ((f->attr & A_REPOK) && dt_chance(&g->rng, 2)) {
		dt_enc_prefix(&in.e, 0xf3);
		rep = true;
	} else if ((f->attr & A_REPNE) && dt_chance(&g->rng, 3)) {
		dt_enc_prefix(&in.e, 0xf2);
		rep = true;
	}
	if (ad32)
		dt_enc_prefix(&in.e, 0x67);
	if (rep) {
		uint64_t v;

		n = dt_chance(&g->rng, 8) ? 0 : 1 + dt_rand(&g->rng, 40);
		v = n;
		if (ad32 && dt_chance(&g->rng, 2))
			v |= dt_rand64(&g->rng) << 32;
		gen_setreg(g, EMU_RCX, v);
	}
	if (si)
		gen_setreg(g, EMU_RSI, str_addr(g, ad32));
	if (di)
		gen_setreg(g, EMU_RDI, str_addr(g, ad32));
	in.rex_free |= REX_R | REX_X | REX_B;
	gen_emit(g, &in, true);
	if (!rep || n)
		gen_flags(g, f->def, f->undef);
}

/* ------------------------------------------------------------ stack */

static void emit_push_r(struct gen *g, unsigned form)
{
	struct dt_ins in;

	gen_ins_init(g, &in, form);
	gen_osize(g, &in, SZ_V64);
	gen_opreg(&in, dt_rand(&g->rng, 16));
	gen_emit(g, &in, true);
}

/* POP r; POP RSP only right after PUSH RSP of the same size. */
static void emit_pop_r(struct gen *g, unsigned form)
{
	struct dt_ins in;
	unsigned r;

	gen_ins_init(g, &in, form);
	gen_osize(g, &in, SZ_V64);
	if (dt_chance(&g->rng, 16)) {
		struct dt_ins ps;

		gen_ins_init(g, &ps, PUSH_R);
		if (in.osz == 2)
			dt_enc_prefix(&ps.e, 0x66);
		gen_opreg(&ps, EMU_RSP);
		gen_emit(g, &ps, false);
		r = EMU_RSP;
	} else {
		r = (unsigned)gen_reg(g, &in, true, false);
	}
	gen_opreg(&in, r);
	gen_emit(g, &in, true);
}

/* PUSH r/m (FF /6) and POP r/m (8F /0): memory operands may be RSP-based
 * (POP computes the address after incrementing RSP, SDM "POP"). */
static void emit_push_pop_rm(struct gen *g, unsigned form)
{
	struct dt_ins in;

	gen_ins_init(g, &in, form);
	gen_osize(g, &in, SZ_V64);
	if (dt_rand(&g->rng, 5) < 3)
		gen_mem(g, &in, in.osz, 0, 0);
	else
		gen_modrm_rm_reg(&in, (unsigned)gen_reg(g, &in, form == POP_RM, false));
	gen_emit(g, &in, true);
}

static void emit_push_i(struct gen *g, unsigned form)
{
	const struct dt_form *f = &dt_forms[form];
	struct dt_ins in;

	gen_ins_init(g, &in, form);
	gen_osize(g, &in, SZ_V64);
	gen_imm(&in, f->imm == I_B ? 1 : in.osz == 2 ? 2 : 4, gen_value(g));
	in.rex_free |= REX_R | REX_X | REX_B;
	gen_emit(g, &in, true);
}

/*
 * PUSH FS/GS, PUSHF: no operands but a size. A 64-bit PUSH Sreg writes
 * either the zero-extended selector or only its 16 bits (SDM "PUSH":
 * recent Intel cores do the latter; AMD zero-extends), so the slot is
 * zeroed first and both behaviours leave the same bytes.
 */
static void emit_push_plain(struct gen *g, unsigned form)
{
	struct dt_ins in;

	gen_ins_init(g, &in, form);
	gen_osize(g, &in, SZ_V64);
	if (form != PUSHF && in.osz == 8) {
		struct dt_mem slot = {
			.mode = MM_RSP, .adsize = 8, .base = EMU_RSP,
			.index = EMU_NOREG, .sib = true, .disp_bytes = 1, .disp = -8,
		};
		struct dt_ins st;

		gen_ins_init(g, &st, MOV_RM_IZ);
		gen_rex(&st, REX_W);
		gen_mem_apply(&st, &slot);
		gen_imm(&st, 4, 0);
		gen_emit(g, &st, false);
	}
	in.rex_free |= REX_R | REX_X | REX_B;
	gen_emit(g, &in, true);
}

/*
 * POPF of a pushed value: arithmetic flags and DF random, ID sometimes,
 * IF/IOPL/VIF/VIP/RF/VM bits random (POPF at CPL 3 leaves them alone or
 * clears them, SDM "POPF"), never TF or AC (those would trap or check
 * alignment natively), and never NT: the host kernel may clear a user
 * process's NT behind its back (on the way back from an interrupt or a
 * preemption), which made the oracle flaky about one run in many. NT
 * through POPF is covered by the unit tests.
 */
static void emit_popf(struct gen *g, unsigned form)
{
	const uint64_t ignored = EMU_FLAG_IF | EMU_FLAG_IOPL | EMU_FLAG_VIF |
		EMU_FLAG_VIP | EMU_FLAG_RF | EMU_FLAG_VM;
	uint64_t v = (dt_rand64(&g->rng) & (EMU_FLAGS_ARITH | EMU_FLAG_DF | ignored)) |
		EMU_FLAG_FIXED;
	struct dt_ins in, ps;

	if (dt_chance(&g->rng, 4))
		v |= EMU_FLAG_ID;
	gen_ins_init(g, &in, form);
	gen_osize(g, &in, SZ_V64);
	if (in.osz == 2) {
		gen_ins_init(g, &ps, PUSH_IZ);
		dt_enc_prefix(&ps.e, 0x66);
		gen_imm(&ps, 2, v);
	} else if (dt_chance(&g->rng, 4)) {
		unsigned r = EMU_RAX + dt_rand(&g->rng, 4);

		gen_setreg(g, r, v | (dt_rand64(&g->rng) << 32));
		gen_ins_init(g, &ps, PUSH_R);
		gen_opreg(&ps, r);
	} else {
		gen_ins_init(g, &ps, PUSH_IZ);
		gen_imm(&ps, 4, v);
	}
	gen_emit(g, &ps, false);
	in.rex_free |= REX_R | REX_X | REX_B;
	gen_emit(g, &in, true);
	gen_flags(g, EMU_FLAGS_ARITH, 0);
}

/* ENTER size, level: levels above 1 copy frame pointers from [RBP-8k],
 * so RBP is pointed at the stack area first. */
static void emit_enter(struct gen *g, unsigned form)
{
	unsigned level = dt_rand(&g->rng, 8);
	struct dt_ins in;

	level = level < 4 ? 0 : level < 6 ? 1 : 2 + dt_rand(&g->rng, 2);
	if (dt_chance(&g->rng, 8))
		level += 32 * (1 + dt_rand(&g->rng, 7));	/* masked to 5 bits */
	if ((level & 31) >= 2)
		gen_setreg(g, EMU_RBP, gen_sb_addr(g, 0x7800, 0x8800));
	gen_ins_init(g, &in, form);
	gen_imm(&in, 2, dt_rand(&g->rng, 0x180));
	in.e.imm2_bytes = 1;
	in.e.imm2 = level;
	in.rex_free = 0xf;
	gen_emit(g, &in, true);
}

/* LEAVE: RSP <- RBP (always 64-bit in 64-bit mode), then pop RBP/BP. */
static void emit_leave(struct gen *g, unsigned form)
{
	struct dt_ins in;

	gen_setreg(g, EMU_RBP, gen_sb_addr(g, 0x7800, 0x8800));
	gen_ins_init(g, &in, form);
	if (dt_chance(&g->rng, 4))
		dt_enc_prefix(&in.e, 0x66);
	else
		in.rex_free |= REX_W;
	in.rex_free |= REX_R | REX_X | REX_B;
	gen_emit(g, &in, true);
}

bool dt_emit_flow(struct gen *g, unsigned form)
{
	switch (dt_forms[form].kind) {
	case K_JCC:
	case K_JMP:		emit_jcc(g, form); return true;
	case K_JMP_RM:		emit_jmp_rm(g, form); return true;
	case K_LOOP:		emit_loop(g, form); return true;
	case K_CALL:
	case K_CALL_RM:		emit_call(g, form); return true;
	case K_RET:		emit_ret(g, form); return true;
	case K_STR:		emit_str(g, form); return true;
	case K_PUSH_R:		emit_push_r(g, form); return true;
	case K_POP_R:		emit_pop_r(g, form); return true;
	case K_PUSH_RM:
	case K_POP_RM:		emit_push_pop_rm(g, form); return true;
	case K_PUSH_I:		emit_push_i(g, form); return true;
	case K_PUSH_SREG:
	case K_PUSHF:		emit_push_plain(g, form); return true;
	case K_POPF:		emit_popf(g, form); return true;
	case K_ENTER:		emit_enter(g, form); return true;
	case K_LEAVE:		emit_leave(g, form); return true;
	default:		return false;
	}
}
