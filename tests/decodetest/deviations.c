/*
 * deviations.c — where Zydis contradicts the Intel SDM.
 *
 * Every entry names the SDM passage that decides the case, and matches
 * only when our answer is the SDM's; a disagreement in which we are the
 * odd one out stays a disagreement. docs/zydis-deviations.md lists every
 * entry with its reference: keep the two in step, and keep this short —
 * an entry is a claim about Zydis, checked against the manual, never a
 * way to quiet the test.
 */
#include <Zydis/Zydis.h>

#include "decodetest.h"

/*
 * D6 (SALC): Zydis decodes it outside 64-bit mode. The SDM's one-byte
 * opcode map leaves D6 blank, and blanks are reserved (Vol. 2D A.1);
 * no instruction page defines it. We say #UD.
 */
static bool match_salc(const struct dt_case *c)
{
	return c->mode != EMU_MODE_64 && c->z.status == DT_OK &&
	       c->z.mnemonic == ZYDIS_MNEMONIC_SALC &&
	       c->e.status == DT_INVALID;
}

/*
 * The reserved-NOP space 0F 18-1F (ModRM forms): Zydis shows a second,
 * register operand (XED's "NOP Ev, Gv") for 0F 19 and 0F 1C-1F, though
 * not for 0F 18, 0F 1A, 0F 1B. The SDM's NOP has one operand: "NOP r/m16",
 * "NOP r/m32", Op/En M (Vol. 2B 4.3 NOP), and Table A-3 lists 0F 1F as
 * "NOP Ev". We say one operand, with Zydis's length.
 */
static bool match_nop_operands(const struct dt_case *c)
{
	return c->why == DT_WHY_OPERANDS &&
	       c->z.category == ZYDIS_CATEGORY_WIDENOP &&
	       c->z.vis == 2 && c->e.insn.nops == 1;
}

const struct dt_deviation dt_deviations[] = {
	{ "salc", "SDM Vol. 2D A.1 and Table A-2 (D6 blank: reserved)",
	  "Zydis decodes D6 as SALC; the SDM does not define D6: #UD",
	  match_salc },
	{ "nop-operands", "SDM Vol. 2B 4.3 NOP (NOP r/m16, NOP r/m32: Op/En M); Table A-3 (0F 1F: NOP Ev)",
	  "Zydis shows reserved NOPs 0F 19, 0F 1C-1F with two operands; the SDM's NOP has one",
	  match_nop_operands },
};

const size_t dt_nr_deviations = sizeof(dt_deviations) / sizeof(dt_deviations[0]);

const struct dt_deviation *dt_find_deviation(const struct dt_case *c)
{
	size_t i;

	for (i = 0; i < dt_nr_deviations; i++)
		if (dt_deviations[i].match(c))
			return &dt_deviations[i];
	return NULL;
}
