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

/*
 * F2 0F 78 with a register ModRM: Zydis decodes AMD's SSE4a INSERTQ
 * (xmm, xmm, imm8, imm8), two bytes longer, so near the 15-byte limit it
 * says too-long. The SDM's two-byte map has only VMREAD Ey, Gy at 0F 78
 * (Vol. 2D Table A-3), an NP opcode ("NP 0F 78", Vol. 3C 31.3 VMREAD):
 * with 66/F2/F3 it is #UD (Vol. 2A 3.1.1.1). Where Intel and AMD differ
 * the engine follows Intel: #UD, at VMREAD's length (which fits in 15
 * bytes, or we would say too-long ourselves).
 */
static bool match_insertq(const struct dt_case *c)
{
	uint8_t rep = 0;
	size_t i;

	if (c->z.status != DT_TOOLONG || c->e.status != DT_INVALID)
		return false;
	for (i = 0; i < c->n; i++) {
		uint8_t b = c->bytes[i];
		if (b == 0xf2 || b == 0xf3)
			rep = b;
		else if (!(b == 0x66 || b == 0x67 || b == 0xf0 || b == 0x2e ||
			   b == 0x36 || b == 0x3e || b == 0x26 || b == 0x64 ||
			   b == 0x65 || (c->mode == EMU_MODE_64 && (b & 0xf0) == 0x40)))
			break;
	}
	return rep == 0xf2 && i + 2 < c->n && c->bytes[i] == 0x0f &&
	       c->bytes[i + 1] == 0x78 && (c->bytes[i + 2] >> 6) == 3;
}

const struct dt_deviation dt_deviations[] = {
	{ "salc", "SDM Vol. 2D A.1 and Table A-2 (D6 blank: reserved)",
	  "Zydis decodes D6 as SALC; the SDM does not define D6: #UD",
	  match_salc },
	{ "nop-operands", "SDM Vol. 2B 4.3 NOP (NOP r/m16, NOP r/m32: Op/En M); Table A-3 (0F 1F: NOP Ev)",
	  "Zydis shows reserved NOPs 0F 19, 0F 1C-1F with two operands; the SDM's NOP has one",
	  match_nop_operands },
	{ "sse4a-insertq", "SDM Vol. 2D Table A-3 (0F 78: VMREAD only); Vol. 3C 31.3 VMREAD (NP 0F 78); Vol. 2A 3.1.1.1 (NP)",
	  "Zydis decodes F2 0F 78 /r (mod 3) as AMD's INSERTQ with two imm8 (too long near 15 bytes); the SDM has VMREAD there: #UD",
	  match_insertq },
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
