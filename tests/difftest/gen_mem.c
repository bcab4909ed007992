/*
 * gen_mem.c — memory operands: where they point and how they are encoded.
 *
 * A memory operand gets a target address first (gen_target(): the hot
 * window, the data area, or one of the deliberate faults), then an
 * addressing form that reaches it, then the setups (MOV reg,imm) that put
 * the base and index registers where the arithmetic lands on the target:
 *
 *   MM_ABS      [disp32] through a SIB with no base and no index
 *   MM_RIP      [rip+disp32] (with 67: eip-relative, same target here)
 *   MM_BASE     [base+disp0/8/32], sometimes through a redundant SIB
 *   MM_BASEIDX  [base+index*scale+disp], index sometimes huge so the sum
 *               wraps (mod 2^64, or 2^32 with 67: upper halves garbage)
 *   MM_INDEX    [index*scale+disp32]
 *   MM_RSP      [rsp(+index*scale)+disp]: no setup, the stack area
 *
 * Encodings that do not matter (SIB scale without an index, REX.B with
 * a no-base SIB or RIP-relative ModRM) are randomised by gen_finish()
 * through dt_ins.rex_free. Operands that are never accessed (LEA, NOP
 * r/m) take any encoding at all (gen_mem_random()).
 */
#include <string.h>

#include "gen.h"

/*
 * A target address for a @size-byte access: mostly the hot window or the
 * data area; one in 40 deliberately faults (or, in the code page, faults
 * only when written).
 */
uint64_t gen_target(struct gen *g, unsigned size, unsigned flags,
		    unsigned adsize, bool *fault)
{
	uint64_t t;

	*fault = false;
	if (!(flags & M_NOFAULT) && dt_chance(&g->rng, 40)) {
		*fault = true;
		switch (dt_rand(&g->rng, 5)) {
		case 0:
			return DT_SB_BASE - 1 - dt_rand(&g->rng, size);
		case 1:
			return DT_SB_END - dt_rand(&g->rng, size);
		case 2:
			return DT_SB_END + dt_rand(&g->rng, 0x1000);
		case 3:
			return DT_CODE_BASE + 0x800 + dt_rand(&g->rng, 0x100);
		default:
			if (adsize == 8 && !(flags & M_EXACT))
				return (dt_chance(&g->rng, 2) ? 0x0000800000000000ull :
					0xffff000000000000ull) + dt_rand(&g->rng, 0x10000);
			return DT_SB_END + dt_rand(&g->rng, 0x1000);
		}
	}
	if (dt_chance(&g->rng, 2))
		t = gen_sb_addr(g, DT_HOT, DT_HOT + 0x100);
	else
		t = gen_sb_addr(g, DT_DATA_LO, DT_DATA_HI - 16);
	/* A LOCKed access split across cache lines is slow on Intel hosts
	 * with split-lock detection, or a SIGBUS (#AC) when it is fatal. */
	if ((flags & M_NOSPLIT) && (t & 63) + size > 64)
		t = (t & ~63ull) + 64 - size;
	if (flags & M_ALIGN16) {
		t &= ~15ull;
		if (!(flags & M_NOFAULT) && dt_chance(&g->rng, 16)) {
			t += 8;		/* CMPXCHG16B: #GP(0) */
			*fault = true;
		}
	}
	return t;
}

static bool is_canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* A register for a base or index: not RSP, not pinned, not @other; only
 * 0-7 once byte registers AH..BH fixed the instruction without REX. */
static int free_reg(struct gen *g, const struct dt_ins *in, int other)
{
	unsigned avail = 0xffffu & ~(1u << EMU_RSP) & ~(unsigned)g->pinned;

	if (in->byte_mode && !in->e.rex_on)
		avail &= 0xffu;

	if (other >= 0)
		avail &= ~(1u << other);
	if (!avail)
		return -1;
	for (;;) {
		int r = (int)dt_rand(&g->rng, 16);

		if (avail & (1u << r))
			return r;
	}
}

static int32_t gen_disp(struct gen *g, struct dt_mem *m, bool need)
{
	switch (dt_rand(&g->rng, need ? 2 : 3)) {
	case 0:
		m->disp_bytes = 1;
		return (int8_t)dt_rand(&g->rng, 256);
	case 1:
		m->disp_bytes = 4;
		if (dt_chance(&g->rng, 4))
			return (int32_t)dt_rand64(&g->rng);
		return (int32_t)dt_rand(&g->rng, 0x2000) - 0x1000;
	default:
		m->disp_bytes = 0;
		return 0;
	}
}

/* Set a base/index register so the address arithmetic lands on target;
 * with 32-bit addressing the upper half is garbage the CPU must ignore. */
static void set_addr_reg(struct gen *g, const struct dt_mem *m, unsigned reg,
			 uint64_t v)
{
	if (m->adsize == 4) {
		v &= 0xffffffffull;
		if (dt_chance(&g->rng, 2))
			v |= dt_rand64(&g->rng) << 32;
	}
	gen_setreg(g, reg, v);
}

/*
 * Choose a memory operand of @size bytes for @in, emit the setups that
 * put its base/index registers in place, and apply it to @in.
 */
void gen_mem(struct gen *g, struct dt_ins *in, unsigned size, unsigned flags,
	     uint64_t target)
{
	struct dt_mem *m = &in->m;
	bool rsp_ok, noncanon;
	int base = -1, index = -1;
	unsigned pick;
	uint64_t iv = 0;

	memset(m, 0, sizeof(*m));
	m->base = m->index = EMU_NOREG;
	if (dt_forms[in->form].attr & A_LOCK)
		flags |= M_NOSPLIT;
	m->adsize = (!(flags & M_AD64) && dt_chance(&g->rng, 6)) ? 4 : 8;
	if (flags & M_TARGET)
		m->target = target;
	else
		m->target = gen_target(g, size, flags, m->adsize, &m->fault);
	noncanon = !is_canonical(m->target);
	if (m->adsize == 4 && m->target > 0xffffffffull)
		m->adsize = 8;
	rsp_ok = !g->in_body && !(flags & (M_EXACT | M_TARGET)) && !m->fault;

	/* ABS 2, RIP 3, BASE 5, BASEIDX 6, INDEX 2, RSP 2 */
	pick = dt_rand(&g->rng, rsp_ok ? 20 : 18);
	if (noncanon)
		m->mode = pick & 1 ? MM_BASE : MM_BASEIDX;
	else if (pick < 2)
		m->mode = MM_ABS;
	else if (pick < 5)
		m->mode = MM_RIP;
	else if (pick < 10)
		m->mode = MM_BASE;
	else if (pick < 16)
		m->mode = MM_BASEIDX;
	else if (pick < 18)
		m->mode = MM_INDEX;
	else
		m->mode = MM_RSP;

	if (m->mode == MM_BASE || m->mode == MM_BASEIDX) {
		base = free_reg(g, in, -1);
		if (m->mode == MM_BASEIDX && base >= 0)
			index = free_reg(g, in, base);
		if (base < 0 || (m->mode == MM_BASEIDX && index < 0))
			m->mode = noncanon ? MM_BASE : MM_ABS;
		if (base < 0)
			m->mode = MM_ABS;	/* everything pinned: rare */
	}
	if (m->mode == MM_INDEX || m->mode == MM_RSP) {
		index = free_reg(g, in, -1);
		if (index < 0 && m->mode == MM_INDEX)
			m->mode = MM_ABS;
	}

	switch (m->mode) {
	case MM_ABS:
		m->sib = true;
		m->sib_ss = (uint8_t)dt_rand(&g->rng, 4);
		m->disp_bytes = 4;
		m->disp = (int32_t)m->target;
		break;
	case MM_RIP:
		m->disp_bytes = 4;
		break;
	case MM_BASE:
		m->base = (uint8_t)base;
		m->disp = gen_disp(g, m, (base & 7) == 5);
		m->sib = (base & 7) == 4 || dt_chance(&g->rng, 4);
		m->sib_ss = (uint8_t)dt_rand(&g->rng, 4);
		gen_pin(g, base);
		set_addr_reg(g, m, base, m->target - (uint64_t)(int64_t)m->disp);
		break;
	case MM_BASEIDX:
		m->base = (uint8_t)base;
		m->index = (uint8_t)index;
		m->sib = true;
		m->scale = (uint8_t)dt_rand(&g->rng, 4);
		m->disp = gen_disp(g, m, (base & 7) == 5);
		iv = dt_chance(&g->rng, 8) ? dt_rand64(&g->rng) :
			(uint64_t)(int64_t)((int)dt_rand(&g->rng, 0x200) - 0x100);
		gen_pin(g, base);
		gen_pin(g, index);
		set_addr_reg(g, m, index, iv);
		set_addr_reg(g, m, base, m->target - (iv << m->scale) -
			     (uint64_t)(int64_t)m->disp);
		break;
	case MM_INDEX: {
		int64_t d0 = (int)dt_rand(&g->rng, 0x2000) - 0x1000;

		m->index = (uint8_t)index;
		m->sib = true;
		m->scale = (uint8_t)dt_rand(&g->rng, 4);
		m->disp_bytes = 4;
		iv = (m->target - (uint64_t)d0) >> m->scale;
		m->disp = (int32_t)(m->target - (iv << m->scale));
		gen_pin(g, index);
		set_addr_reg(g, m, index, iv);
		break;
	}
	case MM_RSP:
		m->base = EMU_RSP;
		m->sib = true;
		m->sib_ss = (uint8_t)dt_rand(&g->rng, 4);
		if (index >= 0 && dt_chance(&g->rng, 3)) {
			m->index = (uint8_t)index;
			m->scale = (uint8_t)dt_rand(&g->rng, 4);
			gen_pin(g, index);
			set_addr_reg(g, m, index, (uint64_t)(int64_t)((int)dt_rand(&g->rng, 9) - 4));
		}
		m->disp_bytes = dt_chance(&g->rng, 4) ? 4 : 1;
		m->disp = (int32_t)dt_rand(&g->rng, 0x80) - 0x40;
		break;
	}
	gen_mem_apply(in, m);
}

/* Apply a chosen memory operand to an instruction (also to a second
 * instruction that must access the same address). */
void gen_mem_apply(struct dt_ins *in, const struct dt_mem *m)
{
	struct dt_enc *e = &in->e;

	in->mem = true;
	in->m = *m;
	e->has_modrm = true;
	e->riprel = false;
	if (m->adsize == 4 && !dt_enc_has_prefix(e, 0x67))
		dt_enc_prefix(e, 0x67);
	switch (m->mode) {
	case MM_RIP:
		e->mod = 0;
		e->rm = 5;
		e->has_sib = false;
		e->riprel = true;
		e->rip_target = m->target;
		in->rex_free |= REX_X | REX_B;
		break;
	case MM_ABS:
	case MM_INDEX:
		e->mod = 0;
		e->rm = 4;
		e->has_sib = true;
		e->ss = m->mode == MM_ABS ? m->sib_ss : m->scale;
		e->index = m->mode == MM_ABS ? 4 : (m->index & 7);
		e->base = 5;
		if (m->mode == MM_INDEX)
			gen_rex(in, m->index & 8 ? REX_X : 0);
		else
			in->rex_free &= (uint8_t)~REX_X;
		in->rex_free |= REX_B;	/* base 101 with mod 00: no base, REX.B or not */
		break;
	default:	/* MM_BASE, MM_BASEIDX, MM_RSP */
		e->mod = m->disp_bytes == 0 ? 0 : m->disp_bytes == 1 ? 1 : 2;
		if (m->sib) {
			e->rm = 4;
			e->has_sib = true;
			e->base = m->base & 7;
			if (m->index != EMU_NOREG) {
				e->index = m->index & 7;
				e->ss = m->scale;
				gen_rex(in, m->index & 8 ? REX_X : 0);
			} else {
				e->index = 4;	/* none; REX.X must stay 0 (R12) */
				e->ss = m->sib_ss;
			}
			in->rex_free &= (uint8_t)~REX_X;
		} else {
			e->rm = m->base & 7;
			e->has_sib = false;
			in->rex_free |= REX_X;
		}
		gen_rex(in, m->base & 8 ? REX_B : 0);
		break;
	}
	e->disp_bytes = m->disp_bytes;
	if (m->mode != MM_RIP)
		e->disp = m->disp;
}

/* An operand that is never accessed (LEA, NOP r/m): any encoding at all. */
void gen_mem_random(struct gen *g, struct dt_ins *in)
{
	struct dt_enc *e = &in->e;

	in->mem = true;
	e->has_modrm = true;
	e->mod = (uint8_t)dt_rand(&g->rng, 3);
	e->rm = (uint8_t)dt_rand(&g->rng, 8);
	if (dt_chance(&g->rng, 5))
		dt_enc_prefix(e, 0x67);
	gen_rex(in, (uint8_t)(dt_rand(&g->rng, 4) & (REX_X | REX_B)));
	if (e->rm == 4) {
		e->has_sib = true;
		e->ss = (uint8_t)dt_rand(&g->rng, 4);
		e->index = (uint8_t)dt_rand(&g->rng, 8);
		e->base = (uint8_t)dt_rand(&g->rng, 8);
	}
	if (e->mod == 1)
		e->disp_bytes = 1;
	else if (e->mod == 2 || (e->mod == 0 && (e->rm == 5 ||
			(e->has_sib && e->base == 5))))
		e->disp_bytes = 4;
	e->disp = (int32_t)dt_rand64(&g->rng);
	if (e->disp_bytes == 1)
		e->disp = (int8_t)e->disp;
}
