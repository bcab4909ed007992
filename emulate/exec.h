/*
 * exec.h — what the executor's files share: handler declarations,
 * register and operand access, memory through segmentation, the stack,
 * and the arithmetic flags. Internal to emulate/.
 *
 * Handler contract: `int exec_NAME(ctx, insn)` runs with ctx->cpu.rip at
 * the instruction and ctx->next_rip = rip + len (masked to the code
 * size). It returns an enum emu_result. On EMU_CONTINUE the dispatcher
 * commits rip = ctx->next_rip; a branch sets next_rip, an instruction
 * that must run again (an unfinished REP) sets next_rip = rip. On any
 * other result rip is not moved, except for EMU_HALT and traps, which
 * set it themselves. A handler commits architectural state only after
 * the last access that can fault, unless the SDM says otherwise.
 */
#ifndef HVLAB_EMULATE_EXEC_H
#define HVLAB_EMULATE_EXEC_H

#include <string.h>

#include "emulate/emulate.h"

#ifdef CONFIG_ASSERTIONS
#include <stdio.h>
#include <stdlib.h>
#define EMU_ASSERT(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "emulate: %s: invariant '%s' broken\n",	\
			__func__, #cond);				\
		abort();						\
	}								\
} while (0)
#else
#define EMU_ASSERT(cond) do { (void)sizeof(cond); } while (0)
#endif

#define INSN(name, mnem) \
	int exec_##mnem(struct emu_ctx *ctx, const struct emu_insn *insn);
#include "emulate/opcodes.def"

#define EMU_HANDLER(mnem) \
	int exec_##mnem(struct emu_ctx *ctx, const struct emu_insn *insn)

/* Propagate a non-EMU_CONTINUE result. */
#define TRY(expr) do { int r_ = (expr); if (r_ != EMU_CONTINUE) return r_; } while (0)

/* ------------------------------------------------------------ sizes */

static inline uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static inline uint64_t sign_bit(unsigned size)
{
	return 1ull << (size * 8 - 1);
}

static inline int64_t sext_to64(uint64_t v, unsigned size)
{
	unsigned sh = 64 - size * 8;
	return (int64_t)(v << sh) >> sh;
}

/* ------------------------------------------------------------ registers */

/* Byte registers 4-7 are AH..BH unless a REX prefix is present. */
static inline uint64_t reg_read(const struct emu_ctx *ctx, unsigned r,
				unsigned size, const struct emu_insn *insn)
{
	if (size == 1 && r >= 4 && r < 8 && !(insn->flags & EMU_I_REX))
		return (ctx->cpu.gpr[r - 4] >> 8) & 0xff;
	return ctx->cpu.gpr[r] & size_mask(size);
}

/* 32-bit writes zero-extend to 64 bits; 8- and 16-bit writes merge. */
static inline void reg_write(struct emu_ctx *ctx, unsigned r, unsigned size,
			     uint64_t v, const struct emu_insn *insn)
{
	uint64_t *g;
	switch (size) {
	case 1:
		if (r >= 4 && r < 8 && !(insn->flags & EMU_I_REX)) {
			g = &ctx->cpu.gpr[r - 4];
			*g = (*g & ~0xff00ull) | ((v & 0xff) << 8);
		} else {
			g = &ctx->cpu.gpr[r];
			*g = (*g & ~0xffull) | (v & 0xff);
		}
		break;
	case 2:
		g = &ctx->cpu.gpr[r];
		*g = (*g & ~0xffffull) | (v & 0xffff);
		break;
	case 4:
		ctx->cpu.gpr[r] = (uint32_t)v;
		break;
	default:
		ctx->cpu.gpr[r] = v;
		break;
	}
}

/* Plain (non-byte-register) access to a GPR by size: rAX, rCX, rSI... */
static inline uint64_t gpr_get(const struct emu_ctx *ctx, unsigned r, unsigned size)
{
	return ctx->cpu.gpr[r] & size_mask(size);
}

static inline void gpr_set(struct emu_ctx *ctx, unsigned r, unsigned size, uint64_t v)
{
	uint64_t *g = &ctx->cpu.gpr[r];
	if (size == 4)
		*g = (uint32_t)v;
	else if (size == 8)
		*g = v;
	else
		*g = (*g & ~size_mask(size)) | (v & size_mask(size));
}

/* ------------------------------------------------------------ modes */

/* A 64-bit address is canonical when bits 63:47 are all equal (SDM Vol.
 * 1 3.3.7.1, with 48-bit linear addresses). */
static inline bool emu_is_canonical(uint64_t la)
{
	return (uint64_t)((int64_t)(la << 16) >> 16) == la;
}

static inline bool in_long_mode(const struct emu_ctx *ctx)
{
	return ctx->mode == EMU_MODE_64;
}

static inline bool in_real_mode(const struct emu_ctx *ctx)
{
	return !(ctx->cpu.cr0 & EMU_CR0_PE);
}

static inline bool in_vm86(const struct emu_ctx *ctx)
{
	return (ctx->cpu.cr0 & EMU_CR0_PE) && (ctx->cpu.rflags & EMU_FLAG_VM);
}

/* Protected mode proper: PE = 1 and not vm86. */
static inline bool in_protected(const struct emu_ctx *ctx)
{
	return (ctx->cpu.cr0 & EMU_CR0_PE) && !(ctx->cpu.rflags & EMU_FLAG_VM);
}

/* Stack address size: 8 in 64-bit mode, else SS.B. */
static inline unsigned stack_size(const struct emu_ctx *ctx)
{
	if (in_long_mode(ctx))
		return 8;
	return (ctx->cpu.seg[EMU_SS].ar & EMU_AR_DB) ? 4 : 2;
}

/* ------------------------------------------------------------ exceptions */

static inline int raise_gp0(struct emu_ctx *ctx)
{
	return emu_raise(ctx, EMU_EXC_GP, true, 0);
}

static inline int raise_ud(struct emu_ctx *ctx)
{
	return emu_raise(ctx, EMU_EXC_UD, false, 0);
}

/* ------------------------------------------------------------ memory (mem.c) */

/*
 * Effective address of the memory operand (before segmentation),
 * truncated to the address size.
 */
uint64_t emu_ea(const struct emu_ctx *ctx, const struct emu_insn *insn);

/*
 * Segmentation (SDM Vol. 3A 3.4.5, 5.3; 64-bit mode 3.2.4, 5.3.1): check
 * an access of @size bytes at offset @ea in segment @seg and produce the
 * linear address. Faults: #GP(0), or #SS(0) for SS; non-canonical
 * addresses in 64-bit mode likewise; #AC(0) for a misaligned data access
 * at CPL 3 with CR0.AM and RFLAGS.AC set.
 */
int emu_linear(struct emu_ctx *ctx, unsigned seg, uint64_t ea, unsigned size,
	       unsigned acc, uint64_t *la);

/* Segmented data accesses (little-endian values up to 8 bytes). */
int emu_read_mem(struct emu_ctx *ctx, unsigned seg, uint64_t ea, uint64_t *val,
		 unsigned size);
int emu_write_mem(struct emu_ctx *ctx, unsigned seg, uint64_t ea, uint64_t val,
		  unsigned size);
/* Any size (descriptor tables, 16-byte operands). */
int emu_read_buf(struct emu_ctx *ctx, unsigned seg, uint64_t ea, void *buf,
		 unsigned size, unsigned acc);
int emu_write_buf(struct emu_ctx *ctx, unsigned seg, uint64_t ea, const void *buf,
		  unsigned size, unsigned acc);

/*
 * An operand resolved once for a read-modify-write: either a register
 * or a checked linear address.
 */
struct emu_opnd {
	bool mem;
	uint8_t reg;
	uint64_t la;
};

/*
 * The front TLB lookups (emulate.h): NULL when the access must go to the
 * ops: no front TLB, a fetch or implicit system access, a miss, or an
 * access that crosses into the next page. The read of a read-modify-
 * write (EMU_ACC_WRITE) must be allowed to write: it needs the write tag.
 */
static inline void *emu_tlb_read(struct emu_ctx *ctx, uint64_t la, unsigned size,
				 unsigned acc)
{
	if (!ctx->tlb || (acc & (EMU_ACC_FETCH | EMU_ACC_SYS)) ||
	    (la & 4095) + size > 4096)
		return NULL;
	const struct emu_tlb_entry *e = &ctx->tlb[(la >> 12) & (EMU_TLB_SIZE - 1)];
	if (((acc & EMU_ACC_WRITE) ? e->write_tag : e->read_tag) !=
	    ((la & ~4095ull) | emu_tlb_key(ctx)))
		return NULL;
	ctx->tlb_hits++;
	return (void *)(e->addend + (uintptr_t)la);
}

static inline void *emu_tlb_write(struct emu_ctx *ctx, uint64_t la, unsigned size,
				  unsigned acc)
{
	if (!ctx->tlb || (acc & (EMU_ACC_FETCH | EMU_ACC_SYS)) ||
	    (la & 4095) + size > 4096)
		return NULL;
	const struct emu_tlb_entry *e = &ctx->tlb[(la >> 12) & (EMU_TLB_SIZE - 1)];
	if (e->write_tag != ((la & ~4095ull) | emu_tlb_key(ctx)))
		return NULL;
	ctx->tlb_hits++;
	return (void *)(e->addend + (uintptr_t)la);
}

/* Little-endian loads and stores of 1, 2, 4 or 8 bytes at host memory,
 * with a constant size per case so the compiler emits one move. */
static inline uint64_t emu_host_load(const void *p, unsigned size)
{
	uint8_t b; uint16_t w; uint32_t d; uint64_t q;
	switch (size) {
	case 1: memcpy(&b, p, 1); return b;
	case 2: memcpy(&w, p, 2); return w;
	case 4: memcpy(&d, p, 4); return d;
	default: memcpy(&q, p, 8); return q;
	}
}

static inline void emu_host_store(void *p, uint64_t v, unsigned size)
{
	uint8_t b = (uint8_t)v; uint16_t w = (uint16_t)v; uint32_t d = (uint32_t)v;
	switch (size) {
	case 1: memcpy(p, &b, 1); break;
	case 2: memcpy(p, &w, 2); break;
	case 4: memcpy(p, &d, 4); break;
	default: memcpy(p, &v, 8); break;
	}
}

/* Linear-address accesses (after segmentation), size 1, 2, 4 or 8. */
static inline int la_read(struct emu_ctx *ctx, uint64_t la, uint64_t *v,
			  unsigned size, unsigned acc)
{
	const void *p = emu_tlb_read(ctx, la, size, acc);
	if (p) {
		*v = emu_host_load(p, size);
		return EMU_CONTINUE;
	}
	*v = 0;
	return ctx->ops->read(ctx, la, v, size, acc);
}

static inline int la_write(struct emu_ctx *ctx, uint64_t la, uint64_t v,
			   unsigned size, unsigned acc)
{
	void *p = emu_tlb_write(ctx, la, size, acc | EMU_ACC_WRITE);
	if (p) {
		emu_host_store(p, v, size);
		return EMU_CONTINUE;
	}
	return ctx->ops->write(ctx, la, &v, size, acc);
}

/* Out-of-line memory halves (mem.c). */
int emu_resolve_mem(struct emu_ctx *ctx, const struct emu_insn *insn,
		    unsigned acc, struct emu_opnd *o);
int emu_src_read_mem(struct emu_ctx *ctx, const struct emu_insn *insn,
		     unsigned size, uint64_t *v);
int emu_rmw_commit_locked(struct emu_ctx *ctx, const struct emu_opnd *o,
			  unsigned size, uint64_t old, uint64_t new);

/*
 * Resolve the operand at @loc (REG, ACC or RM) once: a register, or a
 * memory operand whose segmentation checks for @acc have passed.
 * Inline: the register cases are the interpreter's hot path.
 */
static inline int emu_resolve(struct emu_ctx *ctx, const struct emu_insn *insn,
			      enum emu_loc loc, unsigned acc, struct emu_opnd *o)
{
	o->mem = false;
	if (loc == EMU_LOC_REG) {
		o->reg = insn->reg;
		return EMU_CONTINUE;
	}
	if (loc == EMU_LOC_ACC) {
		o->reg = EMU_RAX;
		return EMU_CONTINUE;
	}
	EMU_ASSERT(loc == EMU_LOC_RM);
	if (!(insn->flags & EMU_I_MEM)) {
		o->reg = insn->rm;
		return EMU_CONTINUE;
	}
	return emu_resolve_mem(ctx, insn, acc, o);
}

static inline int emu_opnd_read(struct emu_ctx *ctx, const struct emu_insn *insn,
				const struct emu_opnd *o, unsigned size,
				unsigned acc, uint64_t *v)
{
	if (!o->mem) {
		*v = reg_read(ctx, o->reg, size, insn);
		return EMU_CONTINUE;
	}
	return la_read(ctx, o->la, v, size, acc);
}

static inline int emu_opnd_write(struct emu_ctx *ctx, const struct emu_insn *insn,
				 const struct emu_opnd *o, unsigned size, uint64_t v)
{
	if (!o->mem) {
		reg_write(ctx, o->reg, size, v, insn);
		return EMU_CONTINUE;
	}
	return la_write(ctx, o->la, v, size, EMU_ACC_WRITE);
}

/*
 * Commit a read-modify-write. With LOCK and an ops->cmpxchg, the store
 * happens only if memory still holds @old; otherwise EMU_RMW_RETRY tells
 * the handler to read again and recompute (another agent wrote between
 * our read and our write).
 */
#define EMU_RMW_RETRY 0x100
static inline int emu_rmw_commit(struct emu_ctx *ctx, const struct emu_insn *insn,
				 const struct emu_opnd *o, unsigned size,
				 uint64_t old, uint64_t new)
{
	if (o->mem && (insn->flags & EMU_I_LOCK) && ctx->ops->cmpxchg)
		return emu_rmw_commit_locked(ctx, o, size, old, new);
	return emu_opnd_write(ctx, insn, o, size, new);
}

/* Read the source operand (register, memory, immediate, CL, DX, rAX). */
static inline int emu_src_read(struct emu_ctx *ctx, const struct emu_insn *insn,
			       enum emu_loc loc, unsigned size, uint64_t *v)
{
	switch (loc) {
	case EMU_LOC_REG:
		*v = reg_read(ctx, insn->reg, size, insn);
		return EMU_CONTINUE;
	case EMU_LOC_IMM:
		*v = insn->imm & size_mask(size);
		return EMU_CONTINUE;
	case EMU_LOC_ACC:
		*v = gpr_get(ctx, EMU_RAX, size);
		return EMU_CONTINUE;
	case EMU_LOC_CL:
		*v = ctx->cpu.gpr[EMU_RCX] & 0xff;
		return EMU_CONTINUE;
	case EMU_LOC_DX:
		*v = ctx->cpu.gpr[EMU_RDX] & 0xffff;
		return EMU_CONTINUE;
	default:
		EMU_ASSERT(loc == EMU_LOC_RM);
		if (!(insn->flags & EMU_I_MEM)) {
			*v = reg_read(ctx, insn->rm, size, insn);
			return EMU_CONTINUE;
		}
		return emu_src_read_mem(ctx, insn, size, v);
	}
}

/* ------------------------------------------------------------ stack (mem.c) */

/* Push/pop @size bytes at SS:rSP, honouring the stack address size.
 * emu_push commits rSP only when the write succeeded. */
int emu_push(struct emu_ctx *ctx, uint64_t val, unsigned size);
int emu_pop(struct emu_ctx *ctx, uint64_t *val, unsigned size);
/* Read the stack @off bytes above rSP without popping. */
int emu_stack_peek(struct emu_ctx *ctx, unsigned off, uint64_t *val, unsigned size);
/* rSP += delta within the stack address size. */
void emu_sp_add(struct emu_ctx *ctx, int64_t delta);

/* ------------------------------------------------------------ flags (flags.c) */

#define ARITH EMU_FLAGS_ARITH

/*
 * Lazy flags. A flag-setting ALU operation records (op, a, b, res, size)
 * in ctx->lf; the six arithmetic flags are computed only when something
 * reads them (emu_flags_sync()). Jcc/SETcc/CMOVcc on ZF and SF test the
 * result directly. Handlers that are not lazy-aware never see pending
 * state: exec.c folds it into rflags before calling them (see lazy_ok[]).
 */
enum emu_lazy_op {
	LF_NONE,	/* rflags holds the flags */
	LF_ADD,		/* res = a + b (+ CF): ADD, ADC, XADD */
	LF_SUB,		/* res = a - b (- CF): SUB, SBB, CMP, NEG, CMPS, SCAS, CMPXCHG */
	LF_LOGIC,	/* res = a op b: AND, OR, XOR, TEST; CF = OF = AF = 0
			 * (only res is recorded: lazy_flags_logic()) */
	LF_INC,		/* res = a + 1, CF from rflags (b not recorded) */
	LF_DEC,		/* res = a - 1, CF from rflags (b not recorded) */
};

void emu_flags_sync_slow(struct emu_ctx *ctx);

/* Fold pending lazy flags into rflags. */
static inline void emu_flags_sync(struct emu_ctx *ctx)
{
	if (ctx->lf.op != LF_NONE)
		emu_flags_sync_slow(ctx);
}

/* @res is masked to @size (emu_cond() relies on it). */
static inline void lazy_flags(struct emu_ctx *ctx, enum emu_lazy_op op, uint64_t a,
			      uint64_t b, uint64_t res, unsigned size)
{
	EMU_ASSERT(!(res & ~size_mask(size)));
	ctx->lf.op = (uint8_t)op;
	ctx->lf.size = (uint8_t)size;
	ctx->lf.a = a;
	ctx->lf.b = b;
	ctx->lf.res = res;
}

/* A logic op's flags depend on its result alone. */
static inline void lazy_flags_logic(struct emu_ctx *ctx, uint64_t res, unsigned size)
{
	EMU_ASSERT(!(res & ~size_mask(size)));
	ctx->lf.op = LF_LOGIC;
	ctx->lf.size = (uint8_t)size;
	ctx->lf.res = res;
}

/* CF alone (ADC/SBB/RCL/RCR carry-in, INC/DEC), without computing the
 * rest: the carry or borrow out of the top bit, by the formulas of
 * flags_add() and flags_sub(). */
_Static_assert(EMU_FLAG_CF == 1, "cur_cf() shifts the carry into bit 0");
static inline uint64_t cur_cf(const struct emu_ctx *ctx)
{
	const unsigned op = ctx->lf.op;
	if (op == LF_ADD || op == LF_SUB) {
		const uint64_t a = ctx->lf.a, b = ctx->lf.b, res = ctx->lf.res;
		const uint64_t c = op == LF_ADD ? (a & b) | ((a | b) & ~res)
					       : (~a & b) | (~(a ^ b) & res);
		return (c >> (ctx->lf.size * 8 - 1)) & EMU_FLAG_CF;
	}
	return op == LF_LOGIC ? 0 : ctx->cpu.rflags & EMU_FLAG_CF;
}

/* INC/DEC keep CF: park it in rflags and record the new operation (the
 * other five flags of the pending one are overwritten anyway). Their b
 * is the constant 1, which no reader of LF_INC/LF_DEC loads. */
static inline void lazy_flags_keep_cf(struct emu_ctx *ctx, enum emu_lazy_op op,
				      uint64_t a, uint64_t res, unsigned size)
{
	uint64_t cf = cur_cf(ctx);
	ctx->cpu.rflags = (ctx->cpu.rflags & ~(uint64_t)EMU_FLAG_CF) | cf;
	EMU_ASSERT(!(res & ~size_mask(size)));
	ctx->lf.op = (uint8_t)op;
	ctx->lf.size = (uint8_t)size;
	ctx->lf.a = a;
	ctx->lf.res = res;
}

/* Write some arithmetic flags (the rest keep their values). Writing all
 * six just drops whatever was pending. */
static inline void set_arith_flags(struct emu_ctx *ctx, uint64_t f, uint64_t mask)
{
	if ((mask & ARITH) == ARITH)
		ctx->lf.op = LF_NONE;
	else
		emu_flags_sync(ctx);
	ctx->cpu.rflags = (ctx->cpu.rflags & ~mask) | (f & mask);
}

/* SF, ZF, PF of a result. */
static inline uint64_t flags_szp(uint64_t res, unsigned size)
{
	uint64_t f = 0;
	res &= size_mask(size);
	if (!res)
		f |= EMU_FLAG_ZF;
	if (res & sign_bit(size))
		f |= EMU_FLAG_SF;
	if (!__builtin_parity((unsigned)(res & 0xff)))
		f |= EMU_FLAG_PF;
	return f;
}

/* The same for a result already masked to @size (lazy_flags()' res). */
static inline uint64_t flags_szp_masked(uint64_t res, unsigned size)
{
	_Static_assert(EMU_FLAG_SF == 0x80, "SF is bit 7");
	return (res ? 0 : EMU_FLAG_ZF) | (((res >> (size * 8 - 1)) & 1) << 7) |
	       (__builtin_parity((unsigned)(res & 0xff)) ? 0 : EMU_FLAG_PF);
}

/* res = a + b + cin: all six arithmetic flags. */
static inline uint64_t flags_add(uint64_t a, uint64_t b, uint64_t res, unsigned size)
{
	uint64_t sb = sign_bit(size);
	uint64_t f = flags_szp(res, size);
	if (((a & b) | ((a | b) & ~res)) & sb)
		f |= EMU_FLAG_CF;
	if ((a ^ res) & (b ^ res) & sb)
		f |= EMU_FLAG_OF;
	if ((a ^ b ^ res) & 0x10)
		f |= EMU_FLAG_AF;
	return f;
}

/* res = a - b - bin. */
static inline uint64_t flags_sub(uint64_t a, uint64_t b, uint64_t res, unsigned size)
{
	uint64_t sb = sign_bit(size);
	uint64_t f = flags_szp(res, size);
	if (((~a & b) | (~(a ^ b) & res)) & sb)
		f |= EMU_FLAG_CF;
	if ((a ^ b) & (a ^ res) & sb)
		f |= EMU_FLAG_OF;
	if ((a ^ b ^ res) & 0x10)
		f |= EMU_FLAG_AF;
	return f;
}

/* AND/OR/XOR/TEST: CF = OF = 0, AF = 0 (undefined; 0 on the hosts we
 * checked, see docs/emulate.md). */
static inline uint64_t flags_logic(uint64_t res, unsigned size)
{
	return flags_szp(res, size);
}

/* Condition code cc (the low nibble of Jcc/SETcc/CMOVcc; SDM Vol. 1 B.1). */
bool emu_cond_slow(struct emu_ctx *ctx, unsigned cc);

static inline bool emu_cond(struct emu_ctx *ctx, unsigned cc)
{
	if (ctx->lf.op != LF_NONE) {
		const uint64_t r = ctx->lf.res;		/* masked: lazy_flags() */
		if ((cc & 0xe) == 4)			/* Z / NZ */
			return !r ^ (cc & 1);
		if ((cc & 0xe) == 8)			/* S / NS */
			return ((r >> (ctx->lf.size * 8 - 1)) & 1) ^ (cc & 1);
	}
	return emu_cond_slow(ctx, cc);
}

/* Condition @cc of the arithmetic flags @f, as emu_cond_slow() tests
 * them (SDM Vol. 1 Table B-1). */
static inline bool emu_cond_flags(uint64_t f, unsigned cc)
{
	bool r;
	switch ((cc >> 1) & 7) {
	case 0: r = f & EMU_FLAG_OF; break;				/* O */
	case 1: r = f & EMU_FLAG_CF; break;				/* B/C */
	case 2: r = f & EMU_FLAG_ZF; break;				/* E/Z */
	case 3: r = f & (EMU_FLAG_CF | EMU_FLAG_ZF); break;		/* BE */
	case 4: r = f & EMU_FLAG_SF; break;				/* S */
	case 5: r = f & EMU_FLAG_PF; break;				/* P */
	case 6: r = !(f & EMU_FLAG_SF) != !(f & EMU_FLAG_OF); break;	/* L */
	default: r = (f & EMU_FLAG_ZF) ||
		     !(f & EMU_FLAG_SF) != !(f & EMU_FLAG_OF); break;	/* LE */
	}
	return r ^ (cc & 1);
}

/*
 * emu_cond() without a call, for hot paths with a constant @cc: the
 * arithmetic flags the pending operation stands for (as
 * emu_flags_sync_slow() computes them) tested by emu_cond_flags(), in
 * each case separately so the compiler keeps only the flags that @cc
 * reads. Nothing is folded into rflags.
 */
static inline __attribute__((always_inline)) bool
emu_cond_inline(const struct emu_ctx *ctx, unsigned cc)
{
	const uint64_t a = ctx->lf.a, b = ctx->lf.b, res = ctx->lf.res;
	const uint64_t cf = ctx->cpu.rflags & EMU_FLAG_CF;
	const unsigned size = ctx->lf.size;
	switch (ctx->lf.op) {
	case LF_ADD: return emu_cond_flags(flags_add(a, b, res, size), cc);
	case LF_SUB: return emu_cond_flags(flags_sub(a, b, res, size), cc);
	case LF_INC:
		return emu_cond_flags((flags_add(a, 1, res, size) & ~(uint64_t)EMU_FLAG_CF) | cf, cc);
	case LF_DEC:
		return emu_cond_flags((flags_sub(a, 1, res, size) & ~(uint64_t)EMU_FLAG_CF) | cf, cc);
	case LF_LOGIC: return emu_cond_flags(flags_szp_masked(res, size), cc);
	default: return emu_cond_flags(ctx->cpu.rflags, cc);
	}
}

/* ------------------------------------------------------------ branches */

/* Set the next rip for a near branch: truncated to the operand size
 * (16/32) outside 64-bit mode; #GP(0) when beyond the CS limit or, in
 * 64-bit mode, non-canonical (SDM Vol. 2A JMP "Operation"). */
int emu_branch(struct emu_ctx *ctx, uint64_t target, unsigned opsize);

#endif /* HVLAB_EMULATE_EXEC_H */
