/*
 * desc.c — segment descriptors and data/stack segment register loads.
 *
 * Descriptor lookup (SDM Vol. 3A 3.4.2 selectors, 3.4.5 descriptors, 3.5.1
 * GDT/LDT): the selector's index is checked against the limit of the
 * table TI names before anything is read; in IA-32e mode system
 * descriptors are 16 bytes (SDM Vol. 3A 7.2.3) and the limit must cover
 * both halves. Descriptor-table reads and the accessed/busy bit writes
 * are implicit supervisor accesses (EMU_ACC_SYS).
 *
 * emu_load_sreg() is the common part of MOV Sreg, POP Sreg and LDS..LGS
 * (SDM Vol. 2B MOV/POP "Operation", Vol. 3A 5.5-5.8): the decision table
 * is written out above it. Nothing is committed until every check and
 * the accessed-bit write have succeeded.
 */
#include "emulate/sys.h"

void emu_desc_to_seg(const struct emu_desc *d, uint16_t sel, struct emu_segment *s)
{
	s->sel = sel;
	s->base = emu_desc_base(d);
	s->limit = emu_desc_limit(d);
	s->ar = emu_desc_ar(d);
}

void emu_null_seg(struct emu_segment *s, uint16_t sel)
{
	/* Intel clears the base of a null FS/GS load (SDM Vol. 3A 3.4.4
	 * leaves it to the implementation; AMD keeps it). */
	s->sel = sel;
	s->base = 0;
	s->limit = 0;
	s->ar = EMU_AR_UNUSABLE;
}

void emu_real_seg(const struct emu_ctx *ctx, struct emu_segment *s, uint16_t sel)
{
	s->sel = sel;
	s->base = (uint64_t)sel << 4;
	if (in_vm86(ctx)) {
		/* SDM Vol. 3A 20.1.1: vm86 segments are 64 KiB, DPL 3,
		 * read/write, accessed. */
		s->limit = 0xffff;
		s->ar = 0x3 | EMU_AR_S | (3u << 5) | EMU_AR_P;
	} else if (s->ar & EMU_AR_UNUSABLE) {
		/* Real mode keeps the cached limit and attributes (the "unreal"
		 * mode guests rely on), but a real-mode load makes the
		 * register usable again. */
		s->ar = 0x3 | EMU_AR_S | EMU_AR_P;
	}
}

int emu_probe_desc(struct emu_ctx *ctx, uint16_t sel, bool wide,
		   struct emu_desc *d, bool *found)
{
	const struct emu_cpu *c = &ctx->cpu;
	uint64_t base, off = sel & ~7u;
	uint32_t limit, buf[2];

	*found = false;
	if (sel & EMU_SEL_TI) {
		if (c->ldtr.ar & EMU_AR_UNUSABLE)
			return EMU_CONTINUE;
		base = c->ldtr.base;
		limit = c->ldtr.limit;
	} else {
		base = c->gdtr.base;
		limit = c->gdtr.limit;
	}
	if (off + 7 > limit)
		return EMU_CONTINUE;
	d->la = base + off;
	if (!(c->efer & EMU_EFER_LMA))
		d->la &= 0xffffffffull;
	TRY(ctx->ops->read(ctx, d->la, buf, 8, EMU_ACC_SYS));
	d->lo = buf[0];
	d->hi = buf[1];
	d->base_hi = 0;
	if (wide && emu_desc_is_system(d)) {
		if (off + 15 > limit)
			return EMU_CONTINUE;
		TRY(ctx->ops->read(ctx, d->la + 8, buf, 8, EMU_ACC_SYS));
		/* The upper half's type field must be 0 (Figure 7-4), so a
		 * legacy descriptor cannot be mistaken for one. */
		if (buf[1] & 0x1f00)
			return EMU_CONTINUE;
		d->base_hi = buf[0];
	}
	*found = true;
	return EMU_CONTINUE;
}

int emu_read_desc(struct emu_ctx *ctx, uint16_t sel, bool wide, unsigned vec,
		  struct emu_desc *d)
{
	bool found;
	TRY(emu_probe_desc(ctx, sel, wide, d, &found));
	return found ? EMU_CONTINUE : emu_raise_sel(ctx, vec, sel);
}

int emu_desc_set_accessed(struct emu_ctx *ctx, struct emu_desc *d)
{
	if (d->hi & (EMU_TYPE_A << 8))
		return EMU_CONTINUE;
	uint8_t b = (uint8_t)(d->hi >> 8) | EMU_TYPE_A;
	TRY(ctx->ops->write(ctx, d->la + 5, &b, 1, EMU_ACC_SYS | EMU_ACC_WRITE));
	d->hi |= EMU_TYPE_A << 8;
	return EMU_CONTINUE;
}

/*
 * Protected-mode data/stack segment loads (SDM Vol. 2B MOV "Operation"):
 *
 *   register  selector / descriptor                         result
 *   SS        null, 64-bit mode, CPL < 3, RPL = CPL         null SS
 *   SS        null otherwise                                #GP(0)
 *   SS        RPL != CPL, not writable data, DPL != CPL     #GP(sel)
 *   SS        not present                                   #SS(sel)
 *   DS..GS    null                                          null register
 *   DS..GS    not data and not readable code                #GP(sel)
 *   DS..GS    data or non-conforming code, RPL or CPL > DPL #GP(sel)
 *   DS..GS    not present                                   #NP(sel)
 *   any       index beyond the GDT/LDT limit                #GP(sel)
 */
int emu_load_sreg(struct emu_ctx *ctx, unsigned sreg, uint16_t sel)
{
	struct emu_segment *s = &ctx->cpu.seg[sreg];
	const unsigned cpl = ctx->cpu.cpl, rpl = EMU_SEL_RPL(sel);
	struct emu_desc d;

	EMU_ASSERT(sreg < EMU_NR_SREGS && sreg != EMU_CS);
	if (!in_protected(ctx)) {
		emu_real_seg(ctx, s, sel);
		return EMU_CONTINUE;
	}
	if (!(sel & 0xfffc)) {
		if (sreg == EMU_SS && !(in_long_mode(ctx) && cpl < 3 && rpl == cpl))
			return raise_gp0(ctx);
		emu_null_seg(s, sel);
		if (sreg == EMU_SS)
			s->ar |= cpl << 5;	/* SS.DPL tracks CPL */
		return EMU_CONTINUE;
	}
	TRY(emu_read_desc(ctx, sel, false, EMU_EXC_GP, &d));
	const unsigned type = emu_desc_type(&d), dpl = emu_desc_dpl(&d);
	if (sreg == EMU_SS) {
		if (rpl != cpl || !emu_desc_is_data(&d) || !(type & EMU_TYPE_RW) ||
		    dpl != cpl)
			return emu_raise_sel(ctx, EMU_EXC_GP, sel);
		if (!emu_desc_present(&d))
			return emu_raise_sel(ctx, EMU_EXC_SS, sel);
	} else {
		bool data = emu_desc_is_data(&d);
		bool rcode = emu_desc_is_code(&d) && (type & EMU_TYPE_RW);
		if (!data && !rcode)
			return emu_raise_sel(ctx, EMU_EXC_GP, sel);
		if ((data || !(type & EMU_TYPE_CE)) && (rpl > dpl || cpl > dpl))
			return emu_raise_sel(ctx, EMU_EXC_GP, sel);
		if (!emu_desc_present(&d))
			return emu_raise_sel(ctx, EMU_EXC_NP, sel);
	}
	TRY(emu_desc_set_accessed(ctx, &d));
	emu_desc_to_seg(&d, sel, s);
	return EMU_CONTINUE;
}
