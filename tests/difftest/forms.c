/*
 * forms.c — the form table, the host-feature filter, the helpers the
 * emitters share, and the dispatch to them.
 *
 * An emitter builds a unit's main instruction from its form row: it picks
 * the operand size and the operands, emits the setups that give operands
 * the values the form needs (a divisor that does or does not fault, a
 * shift count whose flag effects are then known, a non-zero BSF source),
 * emits the instruction, and records its flag effects. Where the SDM
 * makes a result undefined (BSF/BSR of zero, SHLD/SHRD 16-bit counts
 * above 16), the emitter either avoids the case or overwrites the result
 * right after, so only architecturally defined state is ever compared.
 *
 *   forms_arith.c  ALU, multiply/divide, shifts, bit test/scan
 *   forms_data.c   moves, exchanges, atomics, flag/misc forms
 *   forms_flow.c   branches, calls, the stack, strings
 */
#include <cpuid.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "gen.h"

#define FORM(id, nm, kind, mp, map, op, ext, sz, imm, def, undef, rd, attr) \
	[id] = { nm, kind, mp, map, op, ext, sz, imm, def, undef, rd, attr },
const struct dt_form dt_forms[DT_NFORMS] = {
#include "forms.def"
};
#undef FORM

/* ------------------------------------------------------------ filter */

static unsigned host_features(void)
{
	unsigned a, b, c, d, feats = 0;

	if (__get_cpuid(1, &a, &b, &c, &d)) {
		if (c & (1u << 23))
			feats |= A_POPCNT;
		if (c & (1u << 13))
			feats |= A_CX16;
	}
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 3)))
		feats |= A_BMI1;
	if (__get_cpuid(0x80000001, &a, &b, &c, &d)) {
		if (c & (1u << 5))
			feats |= A_LZCNT;
		if (c & (1u << 0))
			feats |= A_LAHF;
	}
	return feats;
}

static bool name_matches(const char *name, const char *pattern)
{
	if (!pattern)
		return true;
	if (strpbrk(pattern, "*?["))
		return fnmatch(pattern, name, 0) == 0;
	return strstr(name, pattern) != NULL;
}

int dt_filter_init(struct dt_filter *f, const char *pattern)
{
	unsigned feats = host_features();

	memset(f, 0, sizeof(*f));
	for (unsigned i = 0; i < DT_NFORMS; i++) {
		const struct dt_form *fm = &dt_forms[i];

		if ((fm->attr & A_FEATURES) & ~feats)
			continue;
		if (!(fm->attr & (A_BRANCH | A_STACK)))
			f->simple[f->nsimple++] = (uint16_t)i;
		if (name_matches(fm->name, pattern))
			f->forms[f->n++] = (uint16_t)i;
	}
	if (!f->n) {
		fprintf(stderr, "difftest: no form matches '%s' on this host; "
			"'difftest -l' lists them\n", pattern ? pattern : "");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ helpers */

bool gen_want_mem(struct gen *g, const struct dt_form *f)
{
	if (f->attr & A_MEM)
		return true;
	if (f->attr & A_REG)
		return false;
	return dt_rand(&g->rng, 5) < 3;
}

/* ModRM.rm: memory (with its setups) or a register; returns the register
 * or -1. */
int gen_rm_operand(struct gen *g, struct dt_ins *in, bool mem,
		      unsigned size, unsigned mflags, bool write, bool byte)
{
	int r;

	if (mem) {
		gen_mem(g, in, size, mflags, 0);
		return -1;
	}
	r = gen_reg(g, in, write, byte);
	gen_modrm_rm_reg(in, (unsigned)r);
	return r;
}

/* A register that may be read but whose value we set: anything but RSP. */
int gen_value_reg(struct gen *g, struct dt_ins *in, unsigned exclude)
{
	for (;;) {
		int r = gen_reg(g, in, false, false);

		if (r != EMU_RSP && !(exclude & (1u << r)))
			return r;
	}
}

/* Give register operand @r (as encoded, @osz bytes) the value @v; the
 * rest of the GPR is garbage the instruction must ignore. */
void gen_set_operand(struct gen *g, const struct dt_ins *in, unsigned r,
			unsigned osz, uint64_t v)
{
	unsigned shift = 0, gpr = r;
	uint64_t mask;

	if (osz == 1 && !in->e.rex_on && r >= 4 && r < 8) {
		gpr = r - 4;	/* AH..BH */
		shift = 8;
	}
	mask = size_mask(osz) << shift;
	gen_setreg(g, gpr, (dt_rand64(&g->rng) & ~mask) | ((v << shift) & mask));
}

/* MOV r/m, imm of @osz bytes to the memory operand of @like. */
void gen_store_imm(struct gen *g, const struct dt_ins *like, unsigned osz,
		      uint64_t v)
{
	struct dt_ins st;

	gen_ins_init(g, &st, osz == 1 ? MOV_RM8_I8 : MOV_RM_IZ);
	if (osz == 2)
		dt_enc_prefix(&st.e, 0x66);
	if (osz == 8)
		gen_rex(&st, REX_W);
	gen_mem_apply(&st, &like->m);
	gen_imm(&st, osz == 1 ? 1 : osz == 2 ? 2 : 4, v);
	gen_emit(g, &st, false);
}

/* MOV accumulator (@osz bytes) from the memory operand of @like. */
void gen_load_acc(struct gen *g, const struct dt_ins *like, unsigned osz,
		     unsigned reg)
{
	struct dt_ins ld;

	gen_ins_init(g, &ld, osz == 1 ? MOV_R8_RM8 : MOV_R_RM);
	if (osz == 2)
		dt_enc_prefix(&ld.e, 0x66);
	if (osz == 8)
		gen_rex(&ld, REX_W);
	gen_modrm_reg(&ld, reg);
	gen_mem_apply(&ld, &like->m);
	gen_emit(g, &ld, false);
}

void dt_emit_form(struct gen *g, unsigned form)
{
	if (!dt_emit_arith(g, form) && !dt_emit_data(g, form))
		dt_emit_flow(g, form);
}
