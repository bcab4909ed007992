/*
 * gen.c — byte strings that reach the decoder's corners.
 *
 * Uniform random bytes mostly exercise the one-byte map and say little
 * about prefixes, mandatory prefixes, groups or the 15-byte limit, so a
 * case is one of three shapes (shares in dt_gen_case()):
 *   (a) uniform: 15 random bytes;
 *   (b) shaped: 0-4 legacy prefixes, in 64-bit mode an optional REX
 *       (sometimes followed by one more legacy prefix, which makes the
 *       REX ineffective, SDM Vol. 2A 2.2.1), an opcode from the one-byte,
 *       0F, 0F 38 or 0F 3A map (part of the time from a short list of
 *       group and system opcodes, which would otherwise be rare), then a
 *       ModRM biased towards the SIB, disp32/RIP and register forms, and
 *       random SIB, displacement and immediate bytes;
 *   (c) prefix run: 8-15 prefixes before a shaped instruction, so the
 *       15-byte limit (SDM Vol. 2A 2.3.11) falls anywhere in it; in
 *       64-bit mode some are stray REX bytes, ineffective where a legacy
 *       prefix follows them.
 * Every case has exactly EMU_MAX_INSN_LEN bytes.
 */
#include <string.h>

#include "decodetest.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

const char *const dt_gen_kind_name[DT_GEN_NR] = {
	[DT_GEN_UNIFORM] = "uniform",
	[DT_GEN_SHAPED] = "shaped",
	[DT_GEN_PREFIX_RUN] = "prefix-run",
	[DT_GEN_SWEEP] = "sweep",
};

/* SDM Vol. 2A 2.1.1: groups 1-4. */
static const uint8_t legacy_prefixes[] = {
	0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65,
};

/* One-byte opcodes with groups, mode-dependent meanings or odd lengths. */
static const uint8_t hot_map0[] = {
	0x06, 0x0e, 0x17, 0x1f, 0x27, 0x37, 0x60, 0x61, 0x62, 0x63, 0x68,
	0x69, 0x6a, 0x6b, 0x6c, 0x6f, 0x80, 0x81, 0x82, 0x83, 0x8c, 0x8d,
	0x8e, 0x8f, 0x90, 0x98, 0x99, 0x9a, 0x9c, 0x9d, 0xa0, 0xa3, 0xa4,
	0xa7, 0xaa, 0xad, 0xaf, 0xb8, 0xc0, 0xc1, 0xc2, 0xc4, 0xc5, 0xc6,
	0xc7, 0xc8, 0xca, 0xcd, 0xce, 0xcf, 0xd0, 0xd3, 0xd4, 0xd5, 0xd6,
	0xd7, 0xe0, 0xe3, 0xe4, 0xe7, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xf1,
	0xf4, 0xf6, 0xf7, 0xfa, 0xfe, 0xff,
};

/* 0F opcodes: system instructions, groups, mandatory-prefix forms. */
static const uint8_t hot_map1[] = {
	0x00, 0x01, 0x02, 0x03, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0b, 0x0d,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22,
	0x23, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x40, 0x78, 0x79, 0x80,
	0x90, 0xa0,
	0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad,
	0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8,
	0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf, 0xc0, 0xc1, 0xc7, 0xc8,
	0xff,
};

/* 0F 38: INVEPT, INVVPID, INVPCID and their neighbours, MOVBE, CRC32,
 * ADCX/ADOX. */
static const uint8_t hot_map2[] = { 0x80, 0x81, 0x82, 0xf0, 0xf1, 0xf6 };

static uint8_t pick(struct dt_rng *rng, const uint8_t *set, size_t n)
{
	return set[dt_rng_below(rng, (unsigned)n)];
}

static uint8_t random_byte(struct dt_rng *rng)
{
	return (uint8_t)(dt_rng_next(rng) >> 56);
}

/* Append the opcode bytes; returns the new length. */
static size_t put_opcode(struct dt_rng *rng, uint8_t *b, size_t n)
{
	unsigned r = dt_rng_below(rng, 100);

	if (r < 40) {
		b[n++] = random_byte(rng);
	} else if (r < 52) {
		b[n++] = pick(rng, hot_map0, ARRAY_SIZE(hot_map0));
	} else if (r < 74) {
		b[n++] = 0x0f;
		b[n++] = random_byte(rng);
	} else if (r < 90) {
		b[n++] = 0x0f;
		b[n++] = pick(rng, hot_map1, ARRAY_SIZE(hot_map1));
	} else if (r < 96) {
		b[n++] = 0x0f;
		b[n++] = 0x38;
		b[n++] = r < 93 ? random_byte(rng)
				: pick(rng, hot_map2, ARRAY_SIZE(hot_map2));
	} else {
		b[n++] = 0x0f;
		b[n++] = 0x3a;
		b[n++] = random_byte(rng);
	}
	return n;
}

/*
 * A ModRM (and SIB) byte biased towards the forms with extra bytes:
 * SIB (rm = 4), disp32 or RIP-relative (mod = 0, rm = 5), SIB without
 * base (base = 5, mod = 0), and register forms (mod = 3), which select
 * a different instruction in many groups.
 */
static size_t put_modrm(struct dt_rng *rng, uint8_t *b, size_t n)
{
	uint8_t modrm = random_byte(rng);
	uint8_t sib = random_byte(rng);

	switch (dt_rng_below(rng, 8)) {
	case 5:
		modrm |= 0xc0;
		break;
	case 6:
		modrm = (uint8_t)((modrm & 0x38) | (dt_rng_below(rng, 3) << 6) | 4);
		if (dt_rng_below(rng, 2))
			sib = (uint8_t)((sib & 0xf8) | 5);
		break;
	case 7:
		modrm = (uint8_t)((modrm & 0x38) | 5);
		break;
	default:
		break;
	}
	b[n++] = modrm;
	b[n++] = sib;
	return n;
}

/* @count prefixes; with @stray_rex, some are REX bytes (64-bit mode). */
static size_t put_prefixes(struct dt_rng *rng, uint8_t *b, size_t n,
			   unsigned count, bool stray_rex)
{
	while (count--) {
		if (stray_rex && dt_rng_below(rng, 6) == 0)
			b[n++] = (uint8_t)(0x40 | dt_rng_below(rng, 16));
		else
			b[n++] = pick(rng, legacy_prefixes, ARRAY_SIZE(legacy_prefixes));
	}
	return n;
}

/* Shape (b) after @npfx prefixes; @b has room for 32 bytes. */
static size_t put_shaped(struct dt_rng *rng, enum emu_mode mode, uint8_t *b,
			 unsigned npfx, bool stray_rex)
{
	size_t n = put_prefixes(rng, b, 0, npfx, stray_rex);

	if (mode == EMU_MODE_64 && dt_rng_below(rng, 2)) {
		b[n++] = (uint8_t)(0x40 | dt_rng_below(rng, 16));
		if (dt_rng_below(rng, 8) == 0)
			n = put_prefixes(rng, b, n, 1, false);
	}
	n = put_opcode(rng, b, n);
	return put_modrm(rng, b, n);
}

enum dt_gen_kind dt_gen_case(struct dt_rng *rng, enum emu_mode mode,
			     uint8_t out[EMU_MAX_INSN_LEN])
{
	uint8_t b[40];
	enum dt_gen_kind kind;
	unsigned r = dt_rng_below(rng, 100);
	size_t i;

	/* Random tail first: displacement and immediate bytes. */
	for (i = 0; i < sizeof(b); i++)
		b[i] = random_byte(rng);

	if (r < 20) {
		kind = DT_GEN_UNIFORM;
	} else if (r < 85) {
		kind = DT_GEN_SHAPED;
		put_shaped(rng, mode, b, dt_rng_below(rng, 5), false);
	} else {
		kind = DT_GEN_PREFIX_RUN;
		put_shaped(rng, mode, b, 8 + dt_rng_below(rng, 8),
			   mode == EMU_MODE_64);
	}
	memcpy(out, b, EMU_MAX_INSN_LEN);
	return kind;
}
