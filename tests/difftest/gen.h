/*
 * gen.h — internals shared by the generator's files: encode.c (bytes from
 * fields), gen.c (cases, units, registers, flags, labels), gen_mem.c
 * (memory operands) and forms*.c (one emitter per form kind).
 *
 * Vocabulary:
 *   unit   one "instruction" of a case: the setup instructions that give
 *          its operands known values (MOV reg,imm for base/index, counts,
 *          divisors), possibly a CMP that defines flags it reads, the main
 *          instruction, and fix-ups after it. Branches only ever land on
 *          unit boundaries, so a unit's setups always run with it.
 *   pinned registers a unit has given a value it relies on; memory
 *          operands never pick them as base or index.
 *   undef  RFLAGS bits undefined at this point on some path (union over
 *          the forward branches that reach it).
 */
#ifndef HVLAB_DIFFTEST_GEN_H
#define HVLAB_DIFFTEST_GEN_H

#include "difftest.h"

/* ------------------------------------------------------------ encoding */

enum dt_fix_kind { FIX_NONE, FIX_REL8, FIX_REL32, FIX_ABS32 };

/*
 * One instruction as fields. Legacy prefixes go out in pfx[] order, then
 * REX (when rex_on), 0F (map 1), the opcode, ModRM, SIB, displacement,
 * immediates. A RIP-relative operand stores its target; the displacement
 * is computed at emission, when the instruction's end is known.
 */
struct dt_enc {
	uint8_t pfx[8];
	unsigned npfx;
	bool rex_on;
	uint8_t rex;		/* W R X B in bits 3..0 */
	uint8_t map;
	uint8_t op;
	bool has_modrm;
	uint8_t mod, reg, rm;	/* ModRM fields (3 bits each, mod 2) */
	bool has_sib;
	uint8_t ss, index, base;
	uint8_t disp_bytes;	/* 0, 1, 4 */
	int32_t disp;
	bool riprel;
	uint64_t rip_target;
	uint8_t imm_bytes;	/* 0, 1, 2, 4, 8 */
	uint64_t imm;
	uint8_t imm2_bytes;	/* ENTER's level */
	uint64_t imm2;
	int8_t fix_label;	/* the immediate refers to a label, or -1 */
	uint8_t fix_kind;	/* enum dt_fix_kind */
	uint8_t imm_off;	/* out: offset of the immediate */
};

#define REX_W 8u
#define REX_R 4u
#define REX_X 2u
#define REX_B 1u

void dt_enc_init(struct dt_enc *e, unsigned map, unsigned op);
void dt_enc_prefix(struct dt_enc *e, uint8_t p);
bool dt_enc_has_prefix(const struct dt_enc *e, uint8_t p);
/* Length in bytes (before emission; RIP-relative needs no address). */
unsigned dt_enc_len(const struct dt_enc *e);
/* Write the bytes for an instruction at @addr into @out; returns length. */
unsigned dt_enc_emit(struct dt_enc *e, uint64_t addr, uint8_t *out);

/* ------------------------------------------------------------ operands */

enum dt_mem_mode { MM_ABS, MM_RIP, MM_BASE, MM_BASEIDX, MM_INDEX, MM_RSP };

/* A memory operand as chosen, applied to one or more instructions. */
struct dt_mem {
	uint8_t mode;		/* enum dt_mem_mode */
	uint8_t adsize;		/* 4 (67 prefix) or 8 */
	uint8_t base, index;	/* GPRs or EMU_NOREG */
	uint8_t scale;		/* 0..3 */
	uint8_t disp_bytes;
	int32_t disp;
	bool sib;		/* encode with a SIB byte */
	uint8_t sib_ss;		/* scale bits when the SIB has no index */
	uint64_t target;	/* effective address (unknown for MM_RSP) */
	bool fault;		/* the target is meant to fault */
};

/* gen_mem() flags */
#define M_NOFAULT  (1u << 0)	/* no deliberately faulting target */
#define M_EXACT	   (1u << 1)	/* the target must be known (no RSP base) */
#define M_ALIGN16  (1u << 2)	/* 16-byte aligned target (may misalign to fault) */
#define M_TARGET   (1u << 3)	/* use the caller's target */
#define M_AD64	   (1u << 4)	/* no address-size prefix */
#define M_NOSPLIT  (1u << 5)	/* stay inside one 64-byte line (LOCK) */

/* An instruction under construction. */
struct dt_ins {
	struct dt_enc e;
	unsigned form;
	unsigned osz;		/* operand size in bytes, 0 when none */
	bool mem;		/* ModRM.rm is memory */
	struct dt_mem m;
	bool byte_mode;		/* byte registers chosen: REX fixed */
	uint8_t rex_free;	/* REX bits that do not change the meaning */
	bool no_seg;		/* no segment prefix */
	bool lock_ok;		/* LOCK is legal */
};

struct dt_pend {
	int8_t label;
	uint8_t target;		/* unit whose start the label binds to */
	bool rel8;
	uint16_t from;		/* end of the branch (rel8 reach) */
	uint32_t undef;
};

struct dt_fix {
	uint16_t at;		/* offset of the immediate in the sequence */
	uint16_t end;		/* offset after the instruction */
	uint8_t kind;
	int8_t label;
};

#define GEN_MAX_LABELS 32
#define GEN_MAX_FIX 32
#define GEN_MAX_PEND 16

struct gen {
	struct dt_rng rng;
	struct dt_case *c;
	const struct dt_filter *flt;
	uint32_t undef;
	uint16_t pinned;
	unsigned unit;
	bool in_body;		/* generating a CALL body: no branch, no stack */
	bool full;		/* ran out of room */
	int16_t label[GEN_MAX_LABELS];
	unsigned nlabels;
	struct dt_fix fix[GEN_MAX_FIX];
	unsigned nfix;
	struct dt_pend pend[GEN_MAX_PEND];
	unsigned npend;
};

/* gen.c: instruction building */
void gen_ins_init(struct gen *g, struct dt_ins *in, unsigned form);
void gen_osize(struct gen *g, struct dt_ins *in, unsigned sz);
void gen_rex(struct dt_ins *in, uint8_t bits);
int gen_reg(struct gen *g, struct dt_ins *in, bool write, bool byte);
void gen_byte_mode(struct gen *g, struct dt_ins *in);
void gen_modrm_reg(struct dt_ins *in, unsigned reg);
void gen_modrm_rm_reg(struct dt_ins *in, unsigned reg);
void gen_opreg(struct dt_ins *in, unsigned reg);
void gen_mem(struct gen *g, struct dt_ins *in, unsigned size, unsigned flags,
	     uint64_t target);
void gen_mem_apply(struct dt_ins *in, const struct dt_mem *m);
void gen_mem_random(struct gen *g, struct dt_ins *in);
void gen_imm(struct dt_ins *in, unsigned bytes, uint64_t v);
void gen_finish(struct gen *g, struct dt_ins *in, bool main);
void gen_emit(struct gen *g, struct dt_ins *in, bool main);

/* gen.c: setups, flags, labels */
void gen_setreg(struct gen *g, unsigned reg, uint64_t v);
void gen_setreg_label(struct gen *g, unsigned reg, int label);
void gen_need_flags(struct gen *g, uint32_t rd);
void gen_flags(struct gen *g, uint32_t def, uint32_t undef);
void gen_pin(struct gen *g, unsigned reg);
int gen_label(struct gen *g);
void gen_bind(struct gen *g, int label);
void gen_forward(struct gen *g, int label, unsigned skip, bool rel8);
void gen_unit(struct gen *g, unsigned form);
unsigned gen_pick_simple(struct gen *g);
uint64_t gen_value(struct gen *g);
uint64_t gen_sb_addr(struct gen *g, unsigned lo, unsigned hi);
uint64_t gen_target(struct gen *g, unsigned size, unsigned flags,
		    unsigned adsize, bool *fault);

/* forms.c: helpers shared by the emitters */
bool gen_want_mem(struct gen *g, const struct dt_form *f);
int gen_rm_operand(struct gen *g, struct dt_ins *in, bool mem, unsigned size,
		   unsigned mflags, bool write, bool byte);
int gen_value_reg(struct gen *g, struct dt_ins *in, unsigned exclude);
void gen_set_operand(struct gen *g, const struct dt_ins *in, unsigned r,
		     unsigned osz, uint64_t v);
void gen_store_imm(struct gen *g, const struct dt_ins *like, unsigned osz,
		   uint64_t v);
void gen_load_acc(struct gen *g, const struct dt_ins *like, unsigned osz,
		  unsigned reg);

/* The emitters: dt_emit_form() dispatches to the file that knows the kind. */
void dt_emit_form(struct gen *g, unsigned form);
bool dt_emit_arith(struct gen *g, unsigned form);
bool dt_emit_data(struct gen *g, unsigned form);
bool dt_emit_flow(struct gen *g, unsigned form);

static inline uint64_t size_mask(unsigned bytes)
{
	return bytes >= 8 ? ~0ull : (1ull << (bytes * 8)) - 1;
}

/* Bytes of an iz immediate (16 or 32 bits; 64-bit operands sign-extend). */
static inline unsigned dt_izsize(unsigned osz)
{
	return osz == 1 ? 1 : osz == 2 ? 2 : 4;
}

#endif /* HVLAB_DIFFTEST_GEN_H */
