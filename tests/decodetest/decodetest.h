/*
 * decodetest.h — emu_decode() against Zydis, on random byte strings.
 *
 * The pieces, one file each:
 *   rng.c           a seeded PRNG that reproduces on any machine
 *   gen.c           byte strings shaped to reach the decoder's corners
 *   sweep.c         every opcode x ModRM under a few prefix sets (-e)
 *   zydis_oracle.c  Zydis as the reference, and what is in scope
 *   deviations.c    the short table of places where Zydis is wrong
 *                   per the SDM (docs/zydis-deviations.md lists them)
 *   judge.c         one case: both answers and the verdict
 *   report.c        printing a case, grouping disagreements
 *   main.c          options and the loop
 *
 * A case is a mode and 15 bytes (fewer only for -x). Both decoders get
 * the same bytes, so running out of bytes is never a valid answer for
 * a 15-byte case.
 */
#ifndef HVLAB_DECODETEST_H
#define HVLAB_DECODETEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emulate/emulate.h"

/* ------------------------------------------------------------ rng.c */

/* xorshift64* seeded through splitmix64; never zero. */
struct dt_rng {
	uint64_t s;
};

void dt_rng_seed(struct dt_rng *rng, uint64_t seed);
uint64_t dt_rng_next(struct dt_rng *rng);
unsigned dt_rng_below(struct dt_rng *rng, unsigned n);	/* 0..n-1 */

/* ------------------------------------------------------------ gen.c */

enum dt_gen_kind {
	DT_GEN_UNIFORM,		/* (a) 15 uniform random bytes */
	DT_GEN_SHAPED,		/* (b) prefixes, REX, opcode, operand bytes */
	DT_GEN_PREFIX_RUN,	/* (c) long prefix runs near the 15-byte limit */
	DT_GEN_SWEEP,		/* sweep.c, not random */
	DT_GEN_NR
};

extern const char *const dt_gen_kind_name[DT_GEN_NR];

/* Fill @out with EMU_MAX_INSN_LEN bytes for @mode. */
enum dt_gen_kind dt_gen_case(struct dt_rng *rng, enum emu_mode mode,
			     uint8_t out[EMU_MAX_INSN_LEN]);

/* ------------------------------------------------------------ sweep.c */

size_t dt_sweep_count(enum emu_mode mode);
void dt_sweep_case(struct dt_rng *rng, enum emu_mode mode, size_t index,
		   uint8_t out[EMU_MAX_INSN_LEN]);

/* ------------------------------------------------------------ zydis_oracle.c */

enum dt_status {
	DT_OK,			/* a valid instruction */
	DT_INVALID,		/* #UD */
	DT_TOOLONG,		/* more than 15 bytes */
	DT_SHORT,		/* ran out of the bytes given */
};

/* What Zydis says about one byte string. */
struct dt_zydis {
	enum dt_status status;
	const char *why;	/* Zydis's status name when not DT_OK */
	unsigned len;
	unsigned vis;		/* operand_count_visible */
	bool in_scope;		/* in the engine's ISA (zydis_oracle.c) */
	unsigned mnemonic;	/* ZydisMnemonic */
	unsigned isa_set, isa_ext, category;	/* Zydis meta, for -v */
	unsigned opsize, adsize;		/* bits */
	unsigned ident_len;	/* bytes that select the instruction: through
				 * the ModRM, or the opcode when it has none */
};

int dt_zydis_init(void);
void dt_zydis_decode(enum emu_mode mode, const uint8_t *bytes, size_t n,
		     struct dt_zydis *z);
const char *dt_zydis_mnemonic(const struct dt_zydis *z);
/* Intel-syntax text of the instruction (for -v); "" if not DT_OK. */
void dt_zydis_format(enum emu_mode mode, const uint8_t *bytes, size_t n,
		     char *buf, size_t size);
void dt_zydis_meta(const struct dt_zydis *z, char *buf, size_t size);

/* ------------------------------------------------------------ judge.c */

/* What emu_decode() says. */
struct dt_emu {
	enum dt_status status;
	int ret;		/* emu_decode()'s return value */
	struct emu_insn insn;	/* valid when DT_OK */
};

enum dt_verdict {
	DT_AGREE,		/* same validity, length and operand count */
	DT_OUT_OF_SCOPE,	/* Zydis decodes an instruction outside the
				 * engine's ISA and we say #UD (or agree) */
	DT_DEVIATION,		/* a known Zydis deviation; we follow the SDM */
	DT_DISAGREE,
	DT_NR_VERDICTS
};

/* Why a case disagrees (for grouping). */
enum dt_why {
	DT_WHY_NONE,
	DT_WHY_VALIDITY,	/* one says valid, the other invalid */
	DT_WHY_ERROR,		/* both invalid, wrong kind (TOOLONG, SHORT) */
	DT_WHY_LENGTH,
	DT_WHY_OPERANDS,
};

extern const char *const dt_why_name[];

struct dt_case {
	enum emu_mode mode;
	uint8_t bytes[EMU_MAX_INSN_LEN];
	size_t n;
	enum dt_gen_kind kind;
	/* Filled by dt_judge(). */
	struct dt_zydis z;
	struct dt_emu e;
	enum dt_verdict verdict;
	enum dt_why why;
	bool decoded_out_of_scope;	/* out of scope, we decoded it anyway */
	const struct dt_deviation *dev;	/* DT_DEVIATION: the table entry */
};

void dt_judge(struct dt_case *c);
/* For TOOLONG cases: might @c's opcode bytes start an in-scope instruction? */
bool dt_opcode_may_be_in_scope(const struct dt_case *c, struct dt_zydis *example);

/* ------------------------------------------------------------ deviations.c */

/*
 * One place where Zydis contradicts the SDM. An entry excuses a
 * disagreement only when our answer is the SDM's answer, so it can never
 * hide a bug of ours.
 */
struct dt_deviation {
	const char *id;		/* short name, as in docs/zydis-deviations.md */
	const char *sdm;	/* the SDM reference */
	const char *what;	/* one line: what Zydis does, what is right */
	/* Does this case fall under the entry, with our answer the SDM's? */
	bool (*match)(const struct dt_case *c);
};

extern const struct dt_deviation dt_deviations[];
extern const size_t dt_nr_deviations;

const struct dt_deviation *dt_find_deviation(const struct dt_case *c);

/* ------------------------------------------------------------ report.c */

unsigned dt_mode_bits(enum emu_mode mode);
const char *dt_status_name(enum dt_status s);
/* One line: verdict tag, mode, bytes, Zydis's answer, ours. */
void dt_print_case(const char *tag, const struct dt_case *c);
/* Extra lines for -v. */
void dt_print_detail(const struct dt_case *c);

/* Disagreement groups: (mode, what Zydis said, what we said, why). */
void dt_group_add(const struct dt_case *c);
void dt_group_print(void);

#endif /* HVLAB_DECODETEST_H */
