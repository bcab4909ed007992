/*
 * difftest.h — the differential test of emulate/ against the host CPU.
 *
 * A case is a short sequence (1-8 "units") of user-mode instructions built
 * by gen.c from the form table forms.def. It runs twice from the same
 * initial state: natively in a long-lived child process (native.c) and in
 * emulate/ with emu_step() (emu_run.c); compare.c reports every GPR, the
 * defined RFLAGS bits and every sandbox byte that differ.
 *
 * Address-space layout, identical in the child and in the emulated
 * machine (all below 2 GiB, so [disp32] reaches it and RIP-relative
 * operands reach the sandbox from the code):
 *
 *   DT_STATE_BASE  state page: registers in/out, host RSP (child only;
 *                  the emulator treats it as unmapped)
 *   DT_CODE_BASE   one code page, read+execute: prologue ending at
 *                  DT_SEQ_BASE, the sequence, the epilogue right after it
 *   DT_SB_BASE     the 64 KiB sandbox, read+write, with PROT_NONE guards
 *                  of DT_GUARD bytes on both sides
 *
 * Sandbox map (generator conventions, see gen.c): data operands live in
 * [0x100, 0x4000), the stack in [0x5000, 0xb000) (RSP starts near 0x8000),
 * the rest is background that only wild or faulting accesses touch.
 */
#ifndef HVLAB_DIFFTEST_H
#define HVLAB_DIFFTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "emulate/emulate.h"

/* ------------------------------------------------------------ layout */

/* Plain integers: native.c's assembly stringifies DT_STATE_BASE. */
#define DT_STATE_BASE	0x30000000
#define DT_CODE_BASE	0x30010000
#define DT_CODE_SIZE	0x1000u
#define DT_SEQ_BASE	(DT_CODE_BASE + 0x200)
#define DT_SEQ_MAX	0xc00u		/* sequence bytes (epilogue follows) */
#define DT_SB_BASE	0x30100000
#define DT_SB_SIZE	0x10000u
#define DT_SB_END	(DT_SB_BASE + DT_SB_SIZE)
#define DT_GUARD	0x10000u

/* Offsets inside the sandbox (see the map above). */
#define DT_DATA_LO	0x0100u
#define DT_DATA_HI	0x4000u
#define DT_HOT		0x1000u		/* a 256-byte window most operands hit */
#define DT_STACK_TOP	0x8000u		/* initial RSP, minus a little */

#define DT_MAX_INSNS	256
#define DT_MAX_UNITS	8
#define DT_TRACE_MAX	512

/* ------------------------------------------------------------ flags */

/* The arithmetic flags, by index, for per-flag statistics. */
enum dt_aflag { DT_CF, DT_PF, DT_AF, DT_ZF, DT_SF, DT_OF, DT_NAFLAGS };
extern const uint32_t dt_aflag_bit[DT_NAFLAGS];
extern const char *const dt_aflag_name[DT_NAFLAGS];

/*
 * RFLAGS bits compared: everything user mode can observe except IF and
 * IOPL (POPF at CPL 3 silently ignores them) and RF (set in the image a
 * fault saves; never visible to PUSHF).
 */
#define DT_FLAGS_CMP	(0x3fffffu & ~(EMU_FLAG_IF | EMU_FLAG_IOPL | EMU_FLAG_RF))

/* ------------------------------------------------------------ rng */

/* splitmix64: tiny, fast, and every (seed, case) gets its own stream. */
struct dt_rng {
	uint64_t s;
};

static inline uint64_t dt_rand64(struct dt_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n); n > 0. */
static inline unsigned dt_rand(struct dt_rng *r, unsigned n)
{
	return (unsigned)(((dt_rand64(r) >> 32) * n) >> 32);
}

static inline bool dt_chance(struct dt_rng *r, unsigned one_in)
{
	return dt_rand(r, one_in) == 0;
}

static inline void dt_rng_seed(struct dt_rng *r, uint64_t seed, uint64_t index)
{
	struct dt_rng t = { seed ^ 0x5eed5eed5eed5eedull };

	r->s = dt_rand64(&t) ^ (index * 0xd1b54a32d192ed03ull);
	(void)dt_rand64(r);
}

/* ------------------------------------------------------------ forms */

/* Generator kinds: which emitter in forms.c builds the instruction. */
enum dt_kind {
	K_RM_R, K_R_RM, K_ACC_IMM, K_RM_IMM, K_RM, K_MUL, K_DIV,
	K_MOV_OI, K_XCHG_O, K_BSWAP, K_MOVX, K_LEA, K_SHIFT, K_SHXD,
	K_IMUL3, K_BT, K_BTI, K_BITSCAN, K_CMOV, K_SETCC, K_CMPXCHG,
	K_CX8, K_JCC, K_JMP, K_JMP_RM, K_LOOP, K_CALL, K_CALL_RM, K_RET,
	K_STR, K_PUSH_R, K_POP_R, K_PUSH_RM, K_POP_RM, K_PUSH_I, K_PUSH_SREG,
	K_PUSHF, K_POPF, K_ENTER, K_LEAVE, K_NONE, K_XLAT, K_MOFFS,
	K_MOV_SREG, K_NOPM,
};

/* Operand size classes. */
enum dt_size {
	SZ_NONE,	/* no sized operand */
	SZ_B,		/* byte */
	SZ_V,		/* 16 (66) / 32 / 64 (REX.W) */
	SZ_V64,		/* 16 (66) / 64: stack operations */
	SZ_DQ,		/* 32 / 64 (REX.W) */
};

/* Immediates. */
enum dt_imm { I_NONE, I_B, I_W, I_Z, I_V };

/* Form attributes. */
#define A_LOCK	 (1u << 0)	/* LOCK allowed with a memory destination */
#define A_NOWR	 (1u << 1)	/* the destination is only read */
#define A_MEM	 (1u << 2)	/* ModRM.rm must name memory */
#define A_REG	 (1u << 3)	/* ModRM.rm must name a register */
#define A_BRANCH (1u << 4)	/* transfers control */
#define A_STACK	 (1u << 5)	/* moves RSP */
#define A_POPCNT (1u << 6)	/* needs CPUID.01H:ECX.POPCNT */
#define A_LZCNT	 (1u << 7)	/* needs CPUID.80000001H:ECX.LZCNT */
#define A_BMI1	 (1u << 8)	/* needs CPUID.07H:EBX.BMI1 */
#define A_CX16	 (1u << 9)	/* needs CPUID.01H:ECX.CMPXCHG16B */
#define A_LAHF	 (1u << 10)	/* needs CPUID.80000001H:ECX.LAHF-SAHF */
#define A_REPOK	 (1u << 11)	/* string: may take F3 */
#define A_REPNE	 (1u << 12)	/* string: may take F2 (compare forms) */
#define A_XREG	 (1u << 13)	/* the ModRM.reg register is written too */
#define A_FEATURES (A_POPCNT | A_LZCNT | A_BMI1 | A_CX16 | A_LAHF)

struct dt_form {
	const char *name;
	uint8_t kind;		/* enum dt_kind */
	uint8_t mp;		/* mandatory prefix (0xf3) or 0 */
	uint8_t map;		/* 0: one-byte, 1: 0F */
	uint8_t op;		/* opcode byte */
	int8_t ext;		/* ModRM.reg opcode extension, or -1 */
	uint8_t sz;		/* enum dt_size */
	uint8_t imm;		/* enum dt_imm */
	uint16_t def;		/* flags defined (EMU_FLAG_*) */
	uint16_t undef;		/* flags left undefined */
	uint16_t rd;		/* flags read */
	uint16_t attr;		/* A_* */
};

#define FORM(id, ...) id,
enum dt_form_id {
#include "forms.def"
	DT_NFORMS
};
#undef FORM

extern const struct dt_form dt_forms[DT_NFORMS];

/* Which forms the generator may pick as a unit's main instruction. */
struct dt_filter {
	uint16_t forms[DT_NFORMS];
	unsigned n;
	uint16_t simple[DT_NFORMS];	/* no branch, no stack: CALL bodies */
	unsigned nsimple;
};

/* Fill @f with the forms the host supports whose name matches @pattern
 * (NULL: all; a glob when it has *?[, else a substring). */
int dt_filter_init(struct dt_filter *f, const char *pattern);

/* ------------------------------------------------------------ cases */

struct dt_insn {
	uint16_t off;		/* from DT_SEQ_BASE */
	uint8_t len;
	uint8_t unit;
	uint16_t form;		/* enum dt_form_id */
	bool main;		/* the unit's own instruction (not a setup) */
	uint32_t undef_in;	/* flags undefined before it, on any path */
	uint16_t fdef, fundef;	/* flags it defines / leaves undefined */
};

struct dt_case {
	uint64_t seed, index;
	uint64_t gpr[EMU_NR_GPRS];
	uint64_t rflags;
	uint8_t code[DT_SEQ_MAX];
	unsigned len;
	struct dt_insn insn[DT_MAX_INSNS];
	unsigned ninsn;
	unsigned nunits;
	uint16_t unit_form[DT_MAX_UNITS];
	uint32_t undef_out;	/* flags undefined at the end, on any path */
};

/*
 * Build case @index of @seed's stream. With @stop_after > 0 only the first
 * @stop_after units are generated (identical to the full case's prefix;
 * branches past the end land on the epilogue). Returns 0, or -1 when the
 * case could not be built (never expected; reported as a harness error).
 */
int dt_gen_case(struct dt_case *c, const struct dt_filter *f, uint64_t seed,
		uint64_t index, unsigned stop_after);

/* The sandbox's initial contents for case @index of @seed. */
void dt_gen_sandbox(uint8_t *sb, uint64_t seed, uint64_t index);

/* The instruction whose first byte is at @rip, or NULL. */
const struct dt_insn *dt_case_insn_at(const struct dt_case *c, uint64_t rip);

/* ------------------------------------------------------------ results */

enum dt_status {
	DT_END,			/* reached the epilogue */
	DT_FAULT,		/* an exception ended the case */
	DT_NATIVE_DIED,		/* the child died (harness error) */
	DT_NATIVE_HUNG,		/* the child timed out (harness error) */
	DT_EMU_ERROR,		/* emu_step() returned something else */
	DT_EMU_RUNAWAY,		/* step limit without reaching the epilogue */
};

struct dt_result {
	uint8_t status;		/* enum dt_status */
	uint8_t vector;		/* DT_FAULT: exception vector */
	uint32_t error_code;	/* DT_FAULT: #PF/#GP/#SS error code */
	uint64_t cr2;		/* DT_FAULT, #PF: faulting address */
	int signo;		/* native: the signal that reported it */
	uint64_t gpr[EMU_NR_GPRS];
	uint64_t rflags;
	uint64_t rip;		/* the epilogue or the faulting instruction */
	char why[96];		/* DT_EMU_ERROR / harness errors */
	/* emulator only: offsets of the instructions executed, in order */
	uint16_t trace[DT_TRACE_MAX];
	unsigned ntrace;
};

/* ------------------------------------------------------------ native */

/* Start the child; 0 or -errno (message printed). */
int dt_native_init(void);
void dt_native_fini(void);
/* Write the prologue, @c's sequence and the epilogue into the code page
 * and @sb_init into the sandbox, run in the child; the sandbox after the
 * run is at *sb_out (valid until the next run). */
void dt_native_run(const struct dt_case *c, const uint8_t *sb_init,
		   struct dt_result *r, const uint8_t **sb_out);
/* The code page as last built (the emulator fetches from it). */
const uint8_t *dt_native_code_page(void);

/* ------------------------------------------------------------ emulator */

/* Run @c in emulate/ over @sb (the sandbox, updated in place) and the
 * code page image @code. */
void dt_emu_run(const struct dt_case *c, const uint8_t *code, uint8_t *sb,
		struct dt_result *r);

/* Read the host's selectors (the emulated CPU copies them, for MOV
 * r/m,Sreg and PUSH FS/GS) and check the emulated machine is in 64-bit
 * mode; 0 or -1 (message printed). */
int dt_emu_init(void);
/* -d: run the emulator through its decode cache; 0 or -1 (message printed). */
int dt_emu_use_dcache(void);
/* -r: run each case with one emu_run() instead of emu_step() by step. */
void dt_emu_use_run(void);

/* ------------------------------------------------------------ compare */

struct dt_undef_stat {
	uint32_t seen;		/* times the flag was undefined at the end */
	uint32_t host_set;	/* ... and the host had it set */
	uint32_t differ;	/* ... and the emulator disagreed */
};

/* Compare native (@exp) and emulated (@got) results; with @out, print
 * one line per difference. Returns the number of differences. */
unsigned dt_compare(const struct dt_case *c, const struct dt_result *exp,
		    const uint8_t *exp_sb, const struct dt_result *got,
		    const uint8_t *got_sb, FILE *out);

/* Account the flags left undefined where the case stopped, following
 * the path the emulator took (a mismatch-free case: the host's path). */
void dt_undef_account(const struct dt_case *c, const struct dt_result *exp,
		      const struct dt_result *got,
		      struct dt_undef_stat st[DT_NFORMS][DT_NAFLAGS]);
void dt_undef_print(struct dt_undef_stat st[DT_NFORMS][DT_NAFLAGS]);

/* Print the case's instructions (bytes, emu_op_name(), form; '*' marks
 * unit @mark's main instruction) and, with @regs, the initial state. */
void dt_print_case(FILE *out, const struct dt_case *c, int mark, bool regs);
/* One-line description of a result ("completed", "#PF(6) at ..."). */
void dt_describe(char *buf, size_t size, const struct dt_result *r);

#endif /* HVLAB_DIFFTEST_H */
