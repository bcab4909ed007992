/*
 * sweep.c — the systematic counterpart of gen.c (-e): every opcode of the
 * one-byte, 0F, 0F 38 and 0F 3A maps with every ModRM byte, under each of
 * a short list of prefix sets (mandatory prefixes, LOCK, size overrides,
 * REX bits), in each mode. The bytes after the ModRM (SIB, displacement,
 * immediates) are random, from the seed, so a sweep is reproducible too.
 * 20 prefix sets in 64-bit mode, 13 elsewhere, 262144 cases each.
 */
#include <string.h>

#include "decodetest.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct pfx_set {
	uint8_t n;
	uint8_t b[12];
	bool only64;		/* holds a REX byte */
};

static const struct pfx_set pfx_sets[] = {
	{ 0, { 0 }, false },
	{ 1, { 0x66 }, false },
	{ 1, { 0x67 }, false },
	{ 1, { 0xf2 }, false },
	{ 1, { 0xf3 }, false },
	{ 1, { 0xf0 }, false },
	{ 2, { 0x66, 0xf2 }, false },
	{ 2, { 0x66, 0xf3 }, false },
	{ 2, { 0xf0, 0x66 }, false },
	{ 2, { 0xf3, 0x66 }, false },
	{ 2, { 0x66, 0x67 }, false },
	{ 1, { 0x48 }, true },		/* REX.W */
	{ 1, { 0x45 }, true },		/* REX.RB */
	{ 1, { 0x42 }, true },		/* REX.X */
	{ 2, { 0x66, 0x48 }, true },
	{ 2, { 0xf3, 0x48 }, true },
	{ 2, { 0xf0, 0x48 }, true },
	{ 2, { 0x48, 0x66 }, true },	/* REX not last: ignored */
	/* Long runs: the 15-byte limit falls in the ModRM, SIB, displacement
	 * or immediate of every form. */
	{ 10, { 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e }, false },
	{ 12, { 0x26, 0x66, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0xf0 }, false },
};

#define CASES_PER_SET (4u * 256u * 256u)

static bool usable(const struct pfx_set *p, enum emu_mode mode)
{
	return !p->only64 || mode == EMU_MODE_64;
}

size_t dt_sweep_count(enum emu_mode mode)
{
	size_t i, n = 0;

	for (i = 0; i < ARRAY_SIZE(pfx_sets); i++)
		if (usable(&pfx_sets[i], mode))
			n += CASES_PER_SET;
	return n;
}

/* Case @index (0 .. dt_sweep_count(mode) - 1) of the sweep in @mode. */
void dt_sweep_case(struct dt_rng *rng, enum emu_mode mode, size_t index,
		   uint8_t out[EMU_MAX_INSN_LEN])
{
	static const uint8_t esc[4][2] = { { 0 }, { 0x0f }, { 0x0f, 0x38 }, { 0x0f, 0x3a } };
	static const uint8_t esc_len[4] = { 0, 1, 2, 2 };
	const struct pfx_set *p = NULL;
	unsigned map, op, modrm;
	size_t i, n = 0, k = index / CASES_PER_SET;

	for (i = 0; i < ARRAY_SIZE(pfx_sets); i++) {
		if (!usable(&pfx_sets[i], mode))
			continue;
		if (!k--) {
			p = &pfx_sets[i];
			break;
		}
	}
	index %= CASES_PER_SET;
	map = (unsigned)(index >> 16);
	op = (unsigned)(index >> 8) & 0xff;
	modrm = (unsigned)index & 0xff;

	for (i = 0; i < EMU_MAX_INSN_LEN; i++)
		out[i] = (uint8_t)(dt_rng_next(rng) >> 56);
	memcpy(out, p->b, p->n);
	n = p->n;
	for (i = 0; i < esc_len[map] && n < EMU_MAX_INSN_LEN; i++)
		out[n++] = esc[map][i];
	if (n < EMU_MAX_INSN_LEN)
		out[n++] = (uint8_t)op;
	if (n < EMU_MAX_INSN_LEN)
		out[n] = (uint8_t)modrm;
}
