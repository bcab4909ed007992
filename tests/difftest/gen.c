/*
 * gen.c — build one case: initial state, units, operands, flags, labels.
 *
 * A case is generated from its own random stream (seed, index), so any
 * case can be rebuilt alone (-c) and a prefix of it (stop_after, used to
 * find the first unit that diverges) is byte-identical to the full case.
 *
 * Invariants the generator keeps, so that native runs are always safe
 * and both sides see well-defined results:
 *   - every memory operand is computed from registers set by the same
 *     unit's setups (MOV reg,imm), from RSP (which stays in the stack part
 *     of the sandbox), or from RIP/disp32; its target lies in the data
 *     part of the sandbox unless it is meant to fault (1 in 40 operands:
 *     just outside the sandbox, straddling its ends, in the read-only code
 *     page, or non-canonical);
 *   - RSP is only moved by PUSH/POP/CALL/RET/ENTER/LEAVE by bounded amounts
 *     and is never a written operand;
 *   - branches go forward to unit boundaries inside the sequence (or to
 *     the epilogue); a rel8 that would not reach is retargeted and the
 *     unit regenerated;
 *   - an instruction that reads a flag undefined on some path first gets
 *     a CMP that defines all arithmetic flags (SDM Vol. 1 3.4.3.1 lists
 *     which instructions read which status flags).
 */
#include <string.h>

#include "gen.h"

const uint32_t dt_aflag_bit[DT_NAFLAGS] = {
	EMU_FLAG_CF, EMU_FLAG_PF, EMU_FLAG_AF, EMU_FLAG_ZF, EMU_FLAG_SF, EMU_FLAG_OF,
};
const char *const dt_aflag_name[DT_NAFLAGS] = { "CF", "PF", "AF", "ZF", "SF", "OF" };

/* ------------------------------------------------------------ values */

/* A register value with the boundary cases over-represented. */
uint64_t gen_value(struct gen *g)
{
	switch (dt_rand(&g->rng, 10)) {
	case 0: return 0;
	case 1: return dt_rand(&g->rng, 256);
	case 2: return -(uint64_t)dt_rand(&g->rng, 4);
	case 3: return 1ull << dt_rand(&g->rng, 64);
	case 4: return (1ull << dt_rand(&g->rng, 64)) - 1;
	case 5: return gen_sb_addr(g, DT_DATA_LO, DT_DATA_HI);
	case 6: return dt_rand64(&g->rng) & dt_rand64(&g->rng);
	default: return dt_rand64(&g->rng);
	}
}

uint64_t gen_sb_addr(struct gen *g, unsigned lo, unsigned hi)
{
	return DT_SB_BASE + lo + dt_rand(&g->rng, hi - lo);
}

/* ------------------------------------------------------------ instructions */

void gen_ins_init(struct gen *g, struct dt_ins *in, unsigned form)
{
	const struct dt_form *f = &dt_forms[form];

	memset(in, 0, sizeof(*in));
	in->form = form;
	dt_enc_init(&in->e, f->map, f->op);
	if (f->ext >= 0) {
		in->e.has_modrm = true;
		in->e.reg = (uint8_t)f->ext;
		in->rex_free |= REX_R;
	}
}

void gen_rex(struct dt_ins *in, uint8_t bits)
{
	if (bits) {
		in->e.rex_on = true;
		in->e.rex |= bits;
	}
}

/* Operand size: 66 for 16 bits, REX.W for 64 (REX.W beats 66, SDM 2.2.1.2). */
void gen_osize(struct gen *g, struct dt_ins *in, unsigned sz)
{
	switch (sz) {
	case SZ_B:
		in->osz = 1;
		in->rex_free |= REX_W;
		break;
	case SZ_V:
		switch (dt_rand(&g->rng, 3)) {
		case 0:
			in->osz = 2;
			dt_enc_prefix(&in->e, 0x66);
			break;
		case 1:
			in->osz = 4;
			break;
		default:
			in->osz = 8;
			gen_rex(in, REX_W);
			if (dt_chance(&g->rng, 16))
				dt_enc_prefix(&in->e, 0x66);
			break;
		}
		break;
	case SZ_V64:
		if (dt_chance(&g->rng, 4)) {
			in->osz = 2;
			dt_enc_prefix(&in->e, 0x66);
		} else {
			in->osz = 8;
			in->rex_free |= REX_W;
		}
		break;
	case SZ_DQ:
		in->osz = dt_chance(&g->rng, 2) ? 8 : 4;
		if (in->osz == 8)
			gen_rex(in, REX_W);
		break;
	default:
		in->osz = 0;
		break;
	}
}

/* Fix whether byte registers 4-7 are AH..BH (no REX) or SPL..DIL. */
void gen_byte_mode(struct gen *g, struct dt_ins *in)
{
	if (in->byte_mode)
		return;
	in->byte_mode = true;
	if (!in->e.rex_on && dt_chance(&g->rng, 3))
		in->e.rex_on = true;	/* a bare 40: SPL..DIL */
}

/*
 * A register operand. Written registers are never RSP (nor SPL, which
 * would move RSP); without REX, byte registers 4-7 are AH..BH, which are
 * fine to write. Once byte registers are fixed without REX, later
 * register choices stay in 0-7.
 */
int gen_reg(struct gen *g, struct dt_ins *in, bool write, bool byte)
{
	if (byte)
		gen_byte_mode(g, in);
	for (;;) {
		bool narrow = in->byte_mode && !in->e.rex_on;
		int r = (int)dt_rand(&g->rng, narrow ? 8 : 16);

		if (write && r == EMU_RSP && !(byte && narrow))
			continue;
		return r;
	}
}

void gen_modrm_reg(struct dt_ins *in, unsigned reg)
{
	in->e.has_modrm = true;
	in->e.reg = reg & 7;
	in->rex_free &= (uint8_t)~REX_R;
	gen_rex(in, reg & 8 ? REX_R : 0);
}

void gen_modrm_rm_reg(struct dt_ins *in, unsigned reg)
{
	in->e.has_modrm = true;
	in->e.mod = 3;
	in->e.rm = reg & 7;
	in->rex_free |= REX_X;
	gen_rex(in, reg & 8 ? REX_B : 0);
}

void gen_opreg(struct dt_ins *in, unsigned reg)
{
	in->e.op = (uint8_t)(in->e.op + (reg & 7));
	in->rex_free |= REX_R | REX_X;
	gen_rex(in, reg & 8 ? REX_B : 0);
}

void gen_imm(struct dt_ins *in, unsigned bytes, uint64_t v)
{
	in->e.imm_bytes = (uint8_t)bytes;
	in->e.imm = v & size_mask(bytes);
}

/* ------------------------------------------------------------ emission */

static const uint8_t seg_nops[4] = { 0x26, 0x2e, 0x36, 0x3e };

/*
 * Last touches on the main instruction of a unit: a no-op segment
 * prefix, LOCK where legal (and rarely where not: #UD), REX bits that do
 * not matter, prefixes in random order, the mandatory prefix last.
 */
void gen_finish(struct gen *g, struct dt_ins *in, bool main)
{
	const struct dt_form *f = &dt_forms[in->form];
	struct dt_enc *e = &in->e;
	unsigned room = 15 - (f->mp ? 1 : 0);

	if (main) {
		if (in->lock_ok && dt_chance(&g->rng, 3))
			dt_enc_prefix(e, 0xf0);
		else if (!(f->attr & A_BRANCH) && dt_chance(&g->rng, 300))
			dt_enc_prefix(e, 0xf0);
		if (!in->no_seg && dt_chance(&g->rng, 8) && dt_enc_len(e) < room)
			dt_enc_prefix(e, seg_nops[dt_rand(&g->rng, 4)]);
		if (e->npfx && dt_chance(&g->rng, 32) && dt_enc_len(e) < room)
			dt_enc_prefix(e, e->pfx[dt_rand(&g->rng, e->npfx)]);
		if (in->rex_free && !(in->byte_mode && !e->rex_on) &&
		    dt_chance(&g->rng, 6) && (e->rex_on || dt_enc_len(e) < room)) {
			e->rex_on = true;
			e->rex |= (uint8_t)(dt_rand(&g->rng, 16) & in->rex_free);
		}
		for (unsigned i = e->npfx; i > 1; i--) {
			unsigned j = dt_rand(&g->rng, i);
			uint8_t t = e->pfx[i - 1];

			e->pfx[i - 1] = e->pfx[j];
			e->pfx[j] = t;
		}
	}
	if (f->mp)
		dt_enc_prefix(e, f->mp);
}

void gen_emit(struct gen *g, struct dt_ins *in, bool main)
{
	struct dt_case *c = g->c;
	struct dt_insn *ri;
	unsigned len, off = c->len;

	if (g->full)
		return;
	gen_finish(g, in, main);
	len = dt_enc_len(&in->e);
	if (len > EMU_MAX_INSN_LEN || off + len + 16 > DT_SEQ_MAX ||
	    c->ninsn + 1 >= DT_MAX_INSNS ||
	    (in->e.fix_label >= 0 && g->nfix >= GEN_MAX_FIX)) {
		g->full = true;
		return;
	}
	dt_enc_emit(&in->e, DT_SEQ_BASE + off, c->code + off);
	ri = &c->insn[c->ninsn++];
	ri->off = (uint16_t)off;
	ri->len = (uint8_t)len;
	ri->unit = (uint8_t)g->unit;
	ri->form = (uint16_t)in->form;
	ri->main = main;
	ri->undef_in = g->undef;
	ri->fdef = ri->fundef = 0;
	if (in->e.fix_label >= 0) {
		struct dt_fix *fx = &g->fix[g->nfix++];

		fx->at = (uint16_t)(off + in->e.imm_off);
		fx->end = (uint16_t)(off + len);
		fx->kind = in->e.fix_kind;
		fx->label = in->e.fix_label;
	}
	c->len += len;
}

/* ------------------------------------------------------------ setups */

void gen_pin(struct gen *g, unsigned reg)
{
	g->pinned |= (uint16_t)(1u << reg);
}

/* MOV reg, v in the shortest (or a random) encoding that gives exactly v. */
void gen_setreg(struct gen *g, unsigned reg, uint64_t v)
{
	struct dt_ins in;

	gen_pin(g, reg);
	if (v <= 0xffffffffull && !dt_chance(&g->rng, 4)) {
		gen_ins_init(g, &in, MOV_R_IV);
		gen_opreg(&in, reg);
		gen_imm(&in, 4, v);
	} else if ((uint64_t)(int64_t)(int32_t)v == v) {
		gen_ins_init(g, &in, MOV_RM_IZ);
		gen_rex(&in, REX_W);
		gen_modrm_rm_reg(&in, reg);
		gen_imm(&in, 4, v);
	} else {
		gen_ins_init(g, &in, MOV_R_IV);
		gen_rex(&in, REX_W);
		gen_opreg(&in, reg);
		gen_imm(&in, 8, v);
	}
	gen_emit(g, &in, false);
}

/* MOV r32, label (code addresses are below 2 GiB). */
void gen_setreg_label(struct gen *g, unsigned reg, int label)
{
	struct dt_ins in;

	gen_pin(g, reg);
	gen_ins_init(g, &in, MOV_R_IV);
	gen_opreg(&in, reg);
	gen_imm(&in, 4, 0);
	in.e.fix_label = (int8_t)label;
	in.e.fix_kind = FIX_ABS32;
	gen_emit(g, &in, false);
}

/* ------------------------------------------------------------ flags */

/* The flag effects of the instruction just emitted. */
void gen_flags(struct gen *g, uint32_t def, uint32_t undef)
{
	struct dt_insn *ri = &g->c->insn[g->c->ninsn - 1];

	g->undef = (g->undef & ~def) | undef;
	ri->fdef = (uint16_t)(ri->fdef | def);
	ri->fundef = (uint16_t)(ri->fundef | undef);
}

/* Before an instruction reads @rd: CMP r/m,imm8 defines them all. */
void gen_need_flags(struct gen *g, uint32_t rd)
{
	struct dt_ins in;

	if (!(g->undef & rd))
		return;
	gen_ins_init(g, &in, CMP_RM_I8);
	if (dt_chance(&g->rng, 2))
		gen_rex(&in, REX_W);
	gen_modrm_rm_reg(&in, dt_rand(&g->rng, 16));
	gen_imm(&in, 1, dt_rand(&g->rng, 256));
	gen_emit(g, &in, false);
	gen_flags(g, EMU_FLAGS_ARITH, 0);
}

/* ------------------------------------------------------------ labels */

int gen_label(struct gen *g)
{
	if (g->nlabels >= GEN_MAX_LABELS) {
		g->full = true;
		return 0;
	}
	g->label[g->nlabels] = -1;
	return (int)g->nlabels++;
}

void gen_bind(struct gen *g, int label)
{
	g->label[label] = (int16_t)g->c->len;
}

/* A branch just emitted goes to the start of unit (current + 1 + skip);
 * the flags at that unit are the union over both paths. */
void gen_forward(struct gen *g, int label, unsigned skip, bool rel8)
{
	struct dt_pend *p;

	if (g->npend >= GEN_MAX_PEND) {
		g->full = true;
		return;
	}
	p = &g->pend[g->npend++];
	p->label = (int8_t)label;
	p->target = (uint8_t)(g->unit + 1 + skip);
	p->rel8 = rel8;
	p->from = (uint16_t)g->c->len;
	p->undef = g->undef;
}

/* Bind the labels of pending branches due at unit @u (all when @all). */
static void bind_due(struct gen *g, unsigned u, bool all)
{
	unsigned i = 0;

	while (i < g->npend) {
		struct dt_pend *p = &g->pend[i];

		if (!all && p->target != u) {
			i++;
			continue;
		}
		gen_bind(g, p->label);
		g->undef |= p->undef;
		*p = g->pend[--g->npend];
	}
}

/* Pending rel8 branches that could not reach past the end of unit @u. */
static unsigned rel8_violations(const struct gen *g, unsigned u)
{
	unsigned bad = 0;

	for (unsigned i = 0; i < g->npend; i++) {
		const struct dt_pend *p = &g->pend[i];

		if (p->rel8 && p->target > u && g->c->len - p->from > 127)
			bad |= 1u << i;
	}
	return bad;
}

static int resolve_fixups(struct gen *g)
{
	struct dt_case *c = g->c;

	for (unsigned i = 0; i < g->nfix; i++) {
		const struct dt_fix *fx = &g->fix[i];
		int to = g->label[fx->label];
		int64_t rel = (int64_t)to - fx->end;
		uint64_t v;
		unsigned bytes;

		if (to < 0)
			return -1;
		switch (fx->kind) {
		case FIX_REL8:
			if (rel < -128 || rel > 127)
				return -1;
			v = (uint64_t)rel;
			bytes = 1;
			break;
		case FIX_REL32:
			v = (uint64_t)rel;
			bytes = 4;
			break;
		default:
			v = DT_SEQ_BASE + (uint64_t)to;
			bytes = 4;
			break;
		}
		for (unsigned b = 0; b < bytes; b++)
			c->code[fx->at + b] = (uint8_t)(v >> (8 * b));
	}
	return 0;
}

/* ------------------------------------------------------------ units */

static unsigned pick_form(struct gen *g)
{
	if (g->in_body)
		return gen_pick_simple(g);
	return g->flt->forms[dt_rand(&g->rng, g->flt->n)];
}

unsigned gen_pick_simple(struct gen *g)
{
	if (!g->flt->nsimple)
		return NOP;
	return g->flt->simple[dt_rand(&g->rng, g->flt->nsimple)];
}

void gen_unit(struct gen *g, unsigned form)
{
	uint16_t pinned = g->pinned;

	g->pinned = 0;
	gen_need_flags(g, dt_forms[form].rd);
	dt_emit_form(g, form);
	g->pinned = pinned;
}

static void gen_init_state(struct gen *g)
{
	struct dt_case *c = g->c;

	for (unsigned r = 0; r < EMU_NR_GPRS; r++)
		c->gpr[r] = gen_value(g);
	c->gpr[EMU_RSP] = DT_SB_BASE + DT_STACK_TOP - 8 * dt_rand(&g->rng, 8);
	if (dt_chance(&g->rng, 8))
		c->gpr[EMU_RSP] -= 1 + dt_rand(&g->rng, 7);
	c->rflags = (dt_rand64(&g->rng) & EMU_FLAGS_ARITH) |
		(dt_chance(&g->rng, 4) ? EMU_FLAG_DF : 0) |
		EMU_FLAG_IF | EMU_FLAG_FIXED;
}

int dt_gen_case(struct dt_case *c, const struct dt_filter *f, uint64_t seed,
		uint64_t index, unsigned stop_after)
{
	struct gen g, save;
	unsigned nunits, u, len0, n0;

	memset(&g, 0, sizeof(g));
	dt_rng_seed(&g.rng, seed, index);
	g.c = c;
	g.flt = f;
	c->seed = seed;
	c->index = index;
	c->len = 0;
	c->ninsn = 0;
	gen_init_state(&g);

	nunits = 1 + dt_rand(&g.rng, DT_MAX_UNITS);
	for (u = 0; u < nunits; u++) {
		if (stop_after && u == stop_after)
			break;
		bind_due(&g, u, false);
		save = g;
		len0 = c->len;
		n0 = c->ninsn;
		for (;;) {
			unsigned bad;

			g.unit = u;
			c->unit_form[u] = (uint16_t)pick_form(&g);
			gen_unit(&g, c->unit_form[u]);
			bad = g.full ? 0 : rel8_violations(&g, u);
			if (!bad)
				break;
			g = save;
			c->len = len0;
			c->ninsn = n0;
			for (unsigned i = 0; i < g.npend; i++)
				if (bad & (1u << i))
					g.pend[i].target = (uint8_t)u;
			bind_due(&g, u, false);
			save = g;
		}
		if (g.full) {		/* no room: end the case before this unit */
			g = save;
			c->len = len0;
			c->ninsn = n0;
			break;
		}
	}
	c->nunits = u;
	bind_due(&g, 0, true);
	c->undef_out = g.undef;
	return resolve_fixups(&g);
}

void dt_gen_sandbox(uint8_t *sb, uint64_t seed, uint64_t index)
{
	struct dt_rng r;

	dt_rng_seed(&r, seed ^ 0x5a4db0c5, index);
	for (unsigned i = 0; i < DT_SB_SIZE; i += 8) {
		uint64_t v = dt_rand64(&r);

		memcpy(sb + i, &v, 8);
	}
}

const struct dt_insn *dt_case_insn_at(const struct dt_case *c, uint64_t rip)
{
	for (unsigned i = 0; i < c->ninsn; i++)
		if ((uint64_t)DT_SEQ_BASE + c->insn[i].off == rip)
			return &c->insn[i];
	return NULL;
}
