/*
 * encode.c — turn struct dt_enc fields into x86-64 instruction bytes.
 *
 * The generator decides every field (which prefixes, in which order,
 * which REX bits, ModRM/SIB, displacement and immediate widths); this
 * file only lays them out in the order SDM Vol. 2 2.1 gives:
 * legacy prefixes, REX, opcode (with 0F escape), ModRM, SIB,
 * displacement, immediate. Knowing nothing about semantics keeps it
 * honest: it will happily encode things the decoder must reject.
 */
#include <string.h>

#include "gen.h"

void dt_enc_init(struct dt_enc *e, unsigned map, unsigned op)
{
	memset(e, 0, sizeof(*e));
	e->map = (uint8_t)map;
	e->op = (uint8_t)op;
	e->fix_label = -1;
}

void dt_enc_prefix(struct dt_enc *e, uint8_t p)
{
	if (e->npfx < sizeof(e->pfx))
		e->pfx[e->npfx++] = p;
}

bool dt_enc_has_prefix(const struct dt_enc *e, uint8_t p)
{
	for (unsigned i = 0; i < e->npfx; i++)
		if (e->pfx[i] == p)
			return true;
	return false;
}

unsigned dt_enc_len(const struct dt_enc *e)
{
	return e->npfx + e->rex_on + (e->map ? 1 : 0) + 1 + e->has_modrm +
	       e->has_sib + e->disp_bytes + e->imm_bytes + e->imm2_bytes;
}

static unsigned put_le(uint8_t *out, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		out[i] = (uint8_t)(v >> (8 * i));
	return bytes;
}

unsigned dt_enc_emit(struct dt_enc *e, uint64_t addr, uint8_t *out)
{
	unsigned n = 0;
	unsigned len = dt_enc_len(e);

	/* RIP-relative: relative to the end of this instruction (SDM Vol. 2
	 * 2.2.1.6); with a 67 prefix the sum wraps at 32 bits, which for
	 * targets below 2 GiB gives the same displacement. */
	if (e->riprel)
		e->disp = (int32_t)(uint32_t)(e->rip_target - (addr + len));

	memcpy(out, e->pfx, e->npfx);
	n += e->npfx;
	if (e->rex_on)
		out[n++] = (uint8_t)(0x40 | (e->rex & 0xf));
	if (e->map)
		out[n++] = 0x0f;
	out[n++] = e->op;
	if (e->has_modrm)
		out[n++] = (uint8_t)(e->mod << 6 | (e->reg & 7) << 3 | (e->rm & 7));
	if (e->has_sib)
		out[n++] = (uint8_t)(e->ss << 6 | (e->index & 7) << 3 | (e->base & 7));
	n += put_le(out + n, (uint64_t)(int64_t)e->disp, e->disp_bytes);
	e->imm_off = (uint8_t)n;
	n += put_le(out + n, e->imm, e->imm_bytes);
	n += put_le(out + n, e->imm2, e->imm2_bytes);
	return n;
}
