/*
 * seg.c — instructions on segment registers and descriptors: MOV to/from
 * Sreg, PUSH/POP Sreg, LDS/LES/LSS/LFS/LGS, LLDT/SLDT, LTR/STR, LAR, LSL,
 * VERR, VERW, ARPL (SDM Vol. 2A/2B, each instruction's "Operation";
 * Vol. 3A 5.10.4 for the pointer-validation instructions).
 *
 * The descriptor checks of a data/stack load live in desc.c
 * (emu_load_sreg). A load that faults changes nothing: rSP and the
 * destination GPR are committed after it. LLDT, LTR, SLDT and STR ask
 * ops->intercept after their #UD and privilege checks and before their
 * operand is read or written (APM Vol. 2 15.7; SDM Vol. 3C 26.1.3).
 */
#include "emulate/sys.h"

static bool ia32e(const struct emu_ctx *ctx)
{
	return ctx->cpu.efer & EMU_EFER_LMA;
}

static void ss_shadow(struct emu_ctx *ctx, unsigned sreg)
{
	if (sreg == EMU_SS && ctx->ops->set_shadow)
		ctx->ops->set_shadow(ctx, true);
}

/* Store a 16-bit selector to r/m: memory takes 16 bits, a register the
 * zero-extended value at the operand size (P6 and later). */
static int store_sel(struct emu_ctx *ctx, const struct emu_insn *insn, uint16_t sel)
{
	if (insn->flags & EMU_I_MEM)
		return emu_write_mem(ctx, insn->seg, emu_ea(ctx, insn), sel, 2);
	gpr_set(ctx, insn->rm, insn->opsize, sel);
	return EMU_CONTINUE;
}

static void set_zf(struct emu_ctx *ctx, bool zf)
{
	if (zf)
		ctx->cpu.rflags |= EMU_FLAG_ZF;
	else
		ctx->cpu.rflags &= ~(uint64_t)EMU_FLAG_ZF;
}

/* MOV Sreg, r/m16. MOV SS blocks interrupts for one instruction. */
EMU_HANDLER(mov_seg)
{
	uint64_t v;
	TRY(emu_src_read(ctx, insn, insn->src, 2, &v));
	TRY(emu_load_sreg(ctx, insn->reg, (uint16_t)v));
	ss_shadow(ctx, insn->reg);
	return EMU_CONTINUE;
}

EMU_HANDLER(mov_from_seg)
{
	return store_sel(ctx, insn, ctx->cpu.seg[insn->reg].sel);
}

/*
 * PUSH Sreg: rSP moves by the operand size, but recent processors write
 * only the 16-bit selector and leave the rest of the slot alone (SDM
 * Vol. 2B PUSH, Description). The whole slot is checked.
 */
EMU_HANDLER(push_seg)
{
	const unsigned os = insn->opsize;
	const uint64_t m = size_mask(stack_size(ctx));
	const uint64_t sp = (ctx->cpu.gpr[EMU_RSP] - os) & m;
	uint64_t la;

	TRY(emu_linear(ctx, EMU_SS, sp, os, EMU_ACC_WRITE, &la));
	TRY(la_write(ctx, la, ctx->cpu.seg[insn->reg].sel, 2, EMU_ACC_WRITE));
	ctx->cpu.gpr[EMU_RSP] = (ctx->cpu.gpr[EMU_RSP] & ~m) | sp;
	return EMU_CONTINUE;
}

EMU_HANDLER(pop_seg)
{
	uint64_t v;
	TRY(emu_stack_peek(ctx, 0, &v, insn->opsize));
	TRY(emu_load_sreg(ctx, insn->reg, (uint16_t)v));
	emu_sp_add(ctx, insn->opsize);
	ss_shadow(ctx, insn->reg);
	return EMU_CONTINUE;
}

/* LDS/LES/LSS/LFS/LGS r, m16:16/32/64: offset first, then the selector.
 * insn->imm2 is the segment register. */
EMU_HANDLER(lds)
{
	const unsigned os = insn->opsize;
	const uint64_t ea = emu_ea(ctx, insn);
	uint64_t off, sel;

	TRY(emu_read_mem(ctx, insn->seg, ea, &off, os));
	TRY(emu_read_mem(ctx, insn->seg, (ea + os) & size_mask(insn->adsize), &sel, 2));
	TRY(emu_load_sreg(ctx, insn->imm2, (uint16_t)sel));
	gpr_set(ctx, insn->reg, os, off);
	return EMU_CONTINUE;
}

/* ------------------------------------------------------------ LDTR and TR */

static int system_sel_prologue(struct emu_ctx *ctx, const struct emu_insn *insn,
			       enum emu_icpt icpt, uint16_t *sel)
{
	uint64_t v;
	if (!in_protected(ctx))
		return raise_ud(ctx);
	if (ctx->cpu.cpl)
		return raise_gp0(ctx);
	TRY(emu_intercept(ctx, icpt));
	TRY(emu_src_read(ctx, insn, EMU_LOC_RM, 2, &v));
	*sel = (uint16_t)v;
	return EMU_CONTINUE;
}

/* LLDT (SDM Vol. 2A LLDT): a null selector makes the LDT unusable. */
EMU_HANDLER(lldt)
{
	struct emu_desc d;
	uint16_t sel;

	TRY(system_sel_prologue(ctx, insn, EMU_ICPT_LLDT, &sel));
	if (!(sel & 0xfffc)) {
		emu_null_seg(&ctx->cpu.ldtr, sel);
		return EMU_CONTINUE;
	}
	if (sel & EMU_SEL_TI)
		return emu_raise_sel(ctx, EMU_EXC_GP, sel);
	TRY(emu_read_desc(ctx, sel, ia32e(ctx), EMU_EXC_GP, &d));
	if (!emu_desc_is_system(&d) || emu_desc_type(&d) != EMU_DT_LDT)
		return emu_raise_sel(ctx, EMU_EXC_GP, sel);
	if (!emu_desc_present(&d))
		return emu_raise_sel(ctx, EMU_EXC_NP, sel);
	if (ia32e(ctx) && !emu_is_canonical(emu_desc_base(&d)))
		return emu_raise_sel(ctx, EMU_EXC_GP, sel);
	emu_desc_to_seg(&d, sel, &ctx->cpu.ldtr);
	return EMU_CONTINUE;
}

/* LTR (SDM Vol. 2A LTR): an available TSS in the GDT, marked busy. */
EMU_HANDLER(ltr)
{
	struct emu_desc d;
	uint16_t sel;

	TRY(system_sel_prologue(ctx, insn, EMU_ICPT_LTR, &sel));
	if (!(sel & 0xfffc))
		return raise_gp0(ctx);
	if (sel & EMU_SEL_TI)
		return emu_raise_sel(ctx, EMU_EXC_GP, sel);
	TRY(emu_read_desc(ctx, sel, ia32e(ctx), EMU_EXC_GP, &d));
	const unsigned type = emu_desc_type(&d);
	if (!emu_desc_is_system(&d) ||
	    !(type == EMU_DT_TSS_AVL || (type == EMU_DT_TSS16_AVL && !ia32e(ctx))))
		return emu_raise_sel(ctx, EMU_EXC_GP, sel);
	if (!emu_desc_present(&d))
		return emu_raise_sel(ctx, EMU_EXC_NP, sel);
	if (ia32e(ctx) && !emu_is_canonical(emu_desc_base(&d)))
		return emu_raise_sel(ctx, EMU_EXC_GP, sel);
	uint8_t b = (uint8_t)(d.hi >> 8) | 2;	/* busy */
	TRY(ctx->ops->write(ctx, d.la + 5, &b, 1, EMU_ACC_SYS | EMU_ACC_WRITE));
	d.hi |= 2u << 8;
	emu_desc_to_seg(&d, sel, &ctx->cpu.tr);
	return EMU_CONTINUE;
}

/* SLDT/STR: not in real mode or vm86; CR4.UMIP makes them CPL 0 only. */
static int store_system_sel(struct emu_ctx *ctx, const struct emu_insn *insn,
			    uint16_t sel, enum emu_icpt icpt)
{
	if (!in_protected(ctx))
		return raise_ud(ctx);
	if ((ctx->cpu.cr4 & EMU_CR4_UMIP) && ctx->cpu.cpl > 0)
		return raise_gp0(ctx);
	TRY(emu_intercept(ctx, icpt));
	return store_sel(ctx, insn, sel);
}

EMU_HANDLER(sldt) { return store_system_sel(ctx, insn, ctx->cpu.ldtr.sel, EMU_ICPT_SLDT); }
EMU_HANDLER(str) { return store_system_sel(ctx, insn, ctx->cpu.tr.sel, EMU_ICPT_STR); }

/* ------------------------------------------------------------ LAR LSL VERR VERW */

/*
 * Which system types LAR and LSL accept (SDM Vol. 2A LAR Table 3-55,
 * LSL Table 3-59). IA-32e mode accepts only the 64-bit forms.
 */
static bool lar_type_ok(unsigned type, bool lm)
{
	static const uint16_t legacy = 1u << 1 | 1u << 2 | 1u << 3 | 1u << 4 |
		1u << 5 | 1u << 9 | 1u << 11 | 1u << 12;
	static const uint16_t longm = 1u << 2 | 1u << 9 | 1u << 11 | 1u << 12;
	return ((lm ? longm : legacy) >> type) & 1;
}

static bool lsl_type_ok(unsigned type, bool lm)
{
	static const uint16_t legacy = 1u << 1 | 1u << 2 | 1u << 3 | 1u << 9 | 1u << 11;
	static const uint16_t longm = 1u << 2 | 1u << 9 | 1u << 11;
	return ((lm ? longm : legacy) >> type) & 1;
}

/* Conforming code segments are visible at any privilege; everything
 * else needs DPL >= max(CPL, RPL). */
static bool visible(const struct emu_ctx *ctx, const struct emu_desc *d, uint16_t sel)
{
	if (emu_desc_is_code(d) && (emu_desc_type(d) & EMU_TYPE_CE))
		return true;
	unsigned dpl = emu_desc_dpl(d);
	return dpl >= ctx->cpu.cpl && dpl >= EMU_SEL_RPL(sel);
}

/* Read the selector operand and look its descriptor up; *ok = false for
 * a null or out-of-table selector. */
static int probe_operand(struct emu_ctx *ctx, const struct emu_insn *insn,
			 uint16_t *sel, struct emu_desc *d, bool *ok)
{
	uint64_t v;
	if (!in_protected(ctx))
		return raise_ud(ctx);
	TRY(emu_src_read(ctx, insn, EMU_LOC_RM, 2, &v));
	*sel = (uint16_t)v;
	*ok = false;
	if (!(*sel & 0xfffc))
		return EMU_CONTINUE;
	return emu_probe_desc(ctx, *sel, false, d, ok);
}

EMU_HANDLER(lar)
{
	struct emu_desc d;
	uint16_t sel;
	bool ok;

	TRY(probe_operand(ctx, insn, &sel, &d, &ok));
	if (ok && emu_desc_is_system(&d))
		ok = lar_type_ok(emu_desc_type(&d), ia32e(ctx));
	ok = ok && visible(ctx, &d, sel);
	if (ok) {
		/* Bits 19:16 are undefined (SDM "00FxFF00H"); we give 0. */
		uint32_t ar = d.hi & (insn->opsize == 2 ? 0xff00u : 0x00f0ff00u);
		gpr_set(ctx, insn->reg, insn->opsize, ar);
	}
	set_zf(ctx, ok);
	return EMU_CONTINUE;
}

EMU_HANDLER(lsl)
{
	struct emu_desc d;
	uint16_t sel;
	bool ok;

	TRY(probe_operand(ctx, insn, &sel, &d, &ok));
	if (ok && emu_desc_is_system(&d))
		ok = lsl_type_ok(emu_desc_type(&d), ia32e(ctx));
	ok = ok && visible(ctx, &d, sel);
	if (ok)
		gpr_set(ctx, insn->reg, insn->opsize, emu_desc_limit(&d));
	set_zf(ctx, ok);
	return EMU_CONTINUE;
}

/* VERR: data, or readable code; VERW: writable data. */
static int verify(struct emu_ctx *ctx, const struct emu_insn *insn, bool write)
{
	struct emu_desc d;
	uint16_t sel;
	bool ok;

	TRY(probe_operand(ctx, insn, &sel, &d, &ok));
	if (ok && emu_desc_is_system(&d))
		ok = false;
	if (ok) {
		unsigned type = emu_desc_type(&d);
		if (write)
			ok = emu_desc_is_data(&d) && (type & EMU_TYPE_RW);
		else
			ok = emu_desc_is_data(&d) || (type & EMU_TYPE_RW);
	}
	set_zf(ctx, ok && visible(ctx, &d, sel));
	return EMU_CONTINUE;
}

EMU_HANDLER(verr) { return verify(ctx, insn, false); }
EMU_HANDLER(verw) { return verify(ctx, insn, true); }

/* ARPL r/m16, r16: raise the destination's RPL to the source's. */
EMU_HANDLER(arpl)
{
	struct emu_opnd o;
	uint64_t dst;

	if (!in_protected(ctx))
		return raise_ud(ctx);
	TRY(emu_resolve(ctx, insn, EMU_LOC_RM, EMU_ACC_WRITE, &o));
	TRY(emu_opnd_read(ctx, insn, &o, 2, EMU_ACC_WRITE, &dst));
	const uint64_t src = reg_read(ctx, insn->reg, 2, insn);
	if ((dst & 3) < (src & 3)) {
		TRY(emu_opnd_write(ctx, insn, &o, 2, (dst & ~3ull) | (src & 3)));
		set_zf(ctx, true);
	} else {
		set_zf(ctx, false);
	}
	return EMU_CONTINUE;
}
