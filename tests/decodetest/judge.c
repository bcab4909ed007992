/*
 * judge.c — one case: both decoders' answers and the verdict.
 *
 * Decision table (Zydis's answer down, ours across; "=" means the length,
 * and for in-scope instructions the visible operand count, must match):
 *
 *   Zydis \ ours          valid        #UD          TOOLONG   SHORT
 *   valid, in scope       agree if =   disagree     disagree  disagree
 *   valid, out of scope   oos if len=  oos          disagree  disagree
 *   invalid               disagree     agree        agree     disagree
 *   TOOLONG               disagree     see below    agree     disagree
 *   SHORT (-x only)       disagree     see below    disagree  agree
 *
 * TOOLONG against our #UD: our decoder does not know the length of an
 * instruction outside its ISA and may reject it as soon as it sees the
 * opcode, before the 16th byte. That is an out-of-scope case when no
 * in-scope instruction can start with these opcode bytes, whatever the
 * missing bytes and the prefixes that only qualify it (LOCK, segment,
 * F2/F3) are: see dt_opcode_may_be_in_scope(). For an in-scope opcode
 * the 15-byte limit wins: #GP(0) (SDM Vol. 2A 2.3.11), and "instruction
 * length > 15 bytes" comes before "invalid opcode" among the decode
 * faults (SDM Vol. 3A 6.9, Table 6-2, priority 9), so an over-long
 * LOCKed Jcc, say, is #GP, not #UD. The same rule excuses our #UD
 * where Zydis runs out of the bytes given to -x ("c4 00": VEX).
 *
 * A disagreement becomes a known deviation when deviations.c has an
 * entry for it under which our answer is the SDM's.
 */
#include <string.h>

#include "decodetest.h"

const char *const dt_why_name[] = {
	[DT_WHY_NONE] = "none",
	[DT_WHY_VALIDITY] = "validity",
	[DT_WHY_ERROR] = "error-kind",
	[DT_WHY_LENGTH] = "length",
	[DT_WHY_OPERANDS] = "operands",
};

static void run_emu(struct dt_case *c)
{
	struct dt_emu *e = &c->e;

	memset(&e->insn, 0, sizeof(e->insn));
	e->ret = emu_decode(c->bytes, c->n, c->mode, &e->insn);
	if (e->ret > 0)
		e->status = DT_OK;
	else if (e->ret == -EMU_DEC_TOOLONG)
		e->status = DT_TOOLONG;
	else if (e->ret == -EMU_DEC_SHORT)
		e->status = DT_SHORT;
	else
		e->status = DT_INVALID;	/* -EMU_DEC_UD; others are caught below */
}

static bool is_legacy_prefix(uint8_t b)
{
	switch (b) {
	case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
	case 0x2e: case 0x36: case 0x3e: case 0x26: case 0x64: case 0x65:
		return true;
	default:
		return false;
	}
}

static bool is_prefix(uint8_t b, enum emu_mode mode)
{
	return is_legacy_prefix(b) || (mode == EMU_MODE_64 && (b & 0xf0) == 0x40);
}

/*
 * Could an in-scope instruction start with @c's opcode bytes? Keep the
 * prefixes that change lengths (66, 67, a REX directly before the
 * opcode), drop the rest, once without and once with the last F2/F3
 * (F3 0F B8 is POPCNT), then let the first byte past the given ones take
 * every value. On true, *example is an in-scope instruction found.
 */
bool dt_opcode_may_be_in_scope(const struct dt_case *c, struct dt_zydis *example)
{
	uint8_t b[EMU_MAX_INSN_LEN];
	uint8_t rep = 0;
	bool opsz = false, adsz = false;
	size_t end, i, n, real;
	int rex = -1, variant;
	unsigned v;

	for (end = 0; end < c->n && is_prefix(c->bytes[end], c->mode); end++) {
		uint8_t p = c->bytes[end];

		opsz |= p == 0x66;
		adsz |= p == 0x67;
		if (p == 0xf2 || p == 0xf3)
			rep = p;
	}
	if (end && !is_legacy_prefix(c->bytes[end - 1]))
		rex = c->bytes[end - 1];

	for (variant = 0; variant < 2; variant++) {
		if (variant && !rep)
			break;
		n = 0;
		if (opsz)
			b[n++] = 0x66;
		if (adsz)
			b[n++] = 0x67;
		if (variant)
			b[n++] = rep;
		if (rex >= 0)
			b[n++] = (uint8_t)rex;
		for (i = end; i < c->n && n < EMU_MAX_INSN_LEN; i++)
			b[n++] = c->bytes[i];
		real = n;
		for (v = 0; v < 256; v++) {
			if (real == EMU_MAX_INSN_LEN && v)
				break;
			for (n = real; n < EMU_MAX_INSN_LEN; n++)
				b[n] = n == real ? (uint8_t)v : 0;
			dt_zydis_decode(c->mode, b, EMU_MAX_INSN_LEN, example);
			if (example->status == DT_OK && example->in_scope)
				return true;
		}
	}
	return false;
}

static enum dt_why compare(struct dt_case *c, bool *oos)
{
	const struct dt_zydis *z = &c->z;
	const struct dt_emu *e = &c->e;
	struct dt_zydis tmp;

	*oos = false;
	if (e->status == DT_OK &&
	    (e->insn.len != e->ret || (size_t)e->ret > c->n))
		return DT_WHY_LENGTH;	/* emu_decode() contradicts itself */
	if (e->ret <= 0 && e->ret != -EMU_DEC_UD && e->ret != -EMU_DEC_TOOLONG &&
	    e->ret != -EMU_DEC_SHORT)
		return DT_WHY_ERROR;	/* not a documented return value */

	switch (z->status) {
	case DT_OK:
		if (!z->in_scope) {
			*oos = true;
			if (e->status == DT_INVALID)
				return DT_WHY_NONE;
			if (e->status != DT_OK)
				return DT_WHY_VALIDITY;
			return (unsigned)e->ret == z->len ? DT_WHY_NONE : DT_WHY_LENGTH;
		}
		if (e->status != DT_OK)
			return DT_WHY_VALIDITY;
		if ((unsigned)e->ret != z->len)
			return DT_WHY_LENGTH;
		if (e->insn.nops != z->vis)
			return DT_WHY_OPERANDS;
		return DT_WHY_NONE;
	case DT_INVALID:
		if (e->status == DT_INVALID || e->status == DT_TOOLONG)
			return DT_WHY_NONE;
		return e->status == DT_OK ? DT_WHY_VALIDITY : DT_WHY_ERROR;
	case DT_TOOLONG:
		if (e->status == DT_TOOLONG)
			return DT_WHY_NONE;
		if (e->status == DT_INVALID && !dt_opcode_may_be_in_scope(c, &tmp)) {
			*oos = true;
			return DT_WHY_NONE;
		}
		return e->status == DT_OK ? DT_WHY_VALIDITY : DT_WHY_ERROR;
	case DT_SHORT:
		if (e->status == DT_SHORT)
			return DT_WHY_NONE;
		if (e->status == DT_INVALID && !dt_opcode_may_be_in_scope(c, &tmp)) {
			*oos = true;
			return DT_WHY_NONE;
		}
		return e->status == DT_OK ? DT_WHY_VALIDITY : DT_WHY_ERROR;
	}
	return DT_WHY_ERROR;
}

void dt_judge(struct dt_case *c)
{
	bool oos;

	dt_zydis_decode(c->mode, c->bytes, c->n, &c->z);
	run_emu(c);
	c->dev = NULL;
	c->why = compare(c, &oos);
	c->decoded_out_of_scope = oos && c->why == DT_WHY_NONE &&
				  c->e.status == DT_OK;
	if (c->why == DT_WHY_NONE) {
		c->verdict = oos ? DT_OUT_OF_SCOPE : DT_AGREE;
		return;
	}
	c->dev = dt_find_deviation(c);
	c->verdict = c->dev ? DT_DEVIATION : DT_DISAGREE;
}
