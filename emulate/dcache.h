/*
 * dcache.h — the decode cache's layout and the threaded fast path that
 * runs it, shared by dcache.c (management), exec.c (block building and
 * the interpreter loop) and the exec_*.c files that provide fast forms.
 * See dcache.c for the cache, and below for the slot contract.
 */
#ifndef HVLAB_EMULATE_DCACHE_H
#define HVLAB_EMULATE_DCACHE_H

#include "emulate/exec.h"

#define EMU_BLOCK_INSNS 16

struct emu_slot;
struct emu_fast_env;

/*
 * A slot handler: runs the instruction in @s and then, by a tail call,
 * the next slot's handler, so a block runs as a chain of jumps with no
 * loop in between (threaded code). Each handler ends the chain by
 * returning instead:
 *
 *   EMU_FAST_LEAVE  the instruction retired and rip went somewhere the
 *                   block does not continue (a taken branch, the block's
 *                   end, a REP restart), or decoded code may have been
 *                   invalidated: look the block up again
 *   EMU_FAST_MODE   a non-simple instruction retired (exec.c simple[]):
 *                   recompute the mode and the env, then look up
 *   other           an enum emu_result other than EMU_CONTINUE: that
 *                   instruction's result, as emu_step() would return it
 *
 * Inside a chain, ctx->cpu.rip and ctx->icount are not kept current:
 * slot i's instruction starts at env->rip0 + slot[i].off and is the
 * env->icount0 + slot[i].idx'th. Whatever leaves the chain or calls
 * anything that may look at them (ops, exceptions) first writes them
 * back with fast_sync(): the general path, the block's end, a taken
 * branch. So ops, the caller and the general path see both exactly as
 * they would without chains. A block holds at most EMU_BLOCK_INSNS
 * instructions, so even without tail-call optimisation (-O0,
 * sanitizers) a pass over it nests at most that deep, and fast_loop()
 * bounds the passes a chain makes.
 */
#define EMU_FAST_LEAVE 0x200
#define EMU_FAST_MODE 0x201

typedef int (*emu_fast_fn)(struct emu_ctx *ctx, const struct emu_slot *s,
			   struct emu_fast_env *env);

/*
 * One decoded instruction and how to run it. The emu_insn is exactly
 * what the decoder produced (the general path's input, pointer-free);
 * fn is a specialised fast form chosen when the block was built, or the
 * general wrapper emu_fast_general(). d and s are the destination and
 * source GPR numbers of a fast form (or its constant shift count),
 * resolved from the insn's dst/src locations once instead of per
 * execution. idx and off place the instruction in its block (see
 * above); the end slot has idx = n and off = the block's length. fl
 * says whether anything may read the arithmetic flags the instruction
 * writes (exec.c mark_flag_liveness()); a fast form skips recording
 * them when not.
 */
struct emu_slot {
	struct emu_insn insn;
	emu_fast_fn fn;
	uint8_t d, s;
	uint8_t idx;
	bool fl;
	uint16_t off;
};

/* A straight-line run of decoded instructions; slot[n] ends the chain. */
struct emu_block {
	uint64_t addr;		/* linear address of the first instruction */
	uint32_t cs_limit;	/* CS limit it was decoded under */
	uint8_t mode;		/* enum emu_mode, or BLOCK_EMPTY */
	uint8_t n;		/* instructions, 1..EMU_BLOCK_INSNS */
	uint16_t bytes;		/* their total length */
	struct emu_slot slot[EMU_BLOCK_INSNS + 1];
};

/* The block size, which the help of EMU_DECODE_CACHE_BITS (emulate/Kconfig)
 * quotes. */
_Static_assert(sizeof(struct emu_slot) == 48 && sizeof(struct emu_block) == 832,
	       "a block is 16 + 17 slots of 48 bytes");

struct emu_dcache {
	uint64_t gen;		/* bumped by every invalidation */
	unsigned bits;
	struct emu_block *b;
};

#define BLOCK_EMPTY 0xff

static inline struct emu_block *dcache_slot(struct emu_dcache *dc, uint64_t addr)
{
	return &dc->b[(addr * 0x9e3779b97f4a7c15ull) >> (64 - dc->bits)];
}

/*
 * What a chain needs that stays fixed while it runs, set up by the
 * interpreter loop at its start and after every EMU_FAST_MODE (only a
 * non-simple instruction can change CPL, RFLAGS.AC or CR0.AM, and it
 * ends the chain):
 *
 * tlb/key: the front TLB and emu_tlb_key(). When the engine has no
 * front TLB, tlb points at an empty one; when alignment checking is on
 * (CPL 3, CR0.AM, RFLAGS.AC), key is EMU_FAST_NO_KEY, which no tag
 * holds, so every fast memory access takes the general path (which
 * raises #AC).
 */
struct emu_fast_env {
	const struct emu_tlb_entry *tlb;
	uint64_t key;
	uint64_t rip0, icount0;		/* rip and icount at slot 0 */
	uint64_t gen;			/* dc->gen when the chain started */
	uint64_t rip_mask;		/* of the block's mode */
	const struct emu_dcache *dc;
	/* Loops within the block (fast_loop()): */
	const struct emu_slot *slot0;	/* the block's first slot */
	uint64_t epoch;			/* ctx->key_epoch at the lookup */
	unsigned loops;			/* back-edges left; 0: none allowed */
};

/*
 * A taken branch from slot @s back to the start of its own block: run
 * the block again right here, without going back to the interpreter
 * loop, when that loop would only look up this same block and run it as
 * a chain (exec.c run_cached(): rip is the block's; the cache is
 * unchanged, as within a chain it always is, any change ends one; the
 * code keys are unchanged: emu_fast_general() sets loops to 0 when an op
 * it called changed them). env->loops is nonzero only when the run's
 * budget has room for that many more passes over the whole block, and
 * bounds how deep chains nest where calls are not turned into jumps.
 */
static inline __attribute__((always_inline)) int
fast_loop(struct emu_ctx *ctx, const struct emu_slot *s, struct emu_fast_env *env)
{
	const uint64_t icount = env->icount0 + s->idx + 1;
	if (!env->loops) {
		ctx->cpu.rip = env->rip0;
		ctx->icount = icount;
		return EMU_FAST_LEAVE;
	}
	env->loops--;
	env->icount0 = icount;
	return env->slot0->fn(ctx, env->slot0, env);
}

#define EMU_FAST_NO_KEY 0x800	/* never in a tag: keys are 0..2 */

/* The general path as a slot handler (exec.c): execute() the insn, then
 * go on to the next slot only if rip followed the block and no decoded
 * code was dropped. Fast forms tail-call it for anything unusual. */
int emu_fast_general(struct emu_ctx *ctx, const struct emu_slot *s,
		     struct emu_fast_env *env);

/* Fold the pending lazy flags into rflags and run slot @s again (exec.c):
 * for fast forms that handle only some pending states inline. */
int emu_fast_sync_flags(struct emu_ctx *ctx, const struct emu_slot *s,
			struct emu_fast_env *env);

/* Write rip and icount back as they are at the start of slot @s. */
static inline __attribute__((always_inline)) void
fast_sync(struct emu_ctx *ctx, const struct emu_slot *s, const struct emu_fast_env *env)
{
	ctx->cpu.rip = (env->rip0 + s->off) & env->rip_mask;
	ctx->icount = env->icount0 + s->idx;
}

/* The rip after slot @s's instruction (64-bit mode: no wrap). */
static inline uint64_t fast_next_rip(const struct emu_slot *s, const struct emu_fast_env *env)
{
	return env->rip0 + s[1].off;
}

/* Retire the fast form in @s and run the next slot. */
static inline __attribute__((always_inline)) int
fast_next(struct emu_ctx *ctx, const struct emu_slot *s, struct emu_fast_env *env)
{
	return s[1].fn(ctx, s + 1, env);
}

/*
 * Defining fast forms. A form is an always_inline body
 * body(ctx, s, env, size, ...) with constant parameters; FAST_SIZED
 * instantiates it as the slot handlers NAME_4 and NAME_8 (32- and
 * 64-bit operands), and FAST_PAIR(NAME) is their row { NAME_4, NAME_8 }
 * in a table indexed by opsize == 8.
 */
#define FAST_ARGS struct emu_ctx *ctx, const struct emu_slot *s, \
		  struct emu_fast_env *env
#define FAST_SIZED(name, body, ...)						\
	static int name##_4(FAST_ARGS) { return body(ctx, s, env, 4, __VA_ARGS__); } \
	static int name##_8(FAST_ARGS) { return body(ctx, s, env, 8, __VA_ARGS__); }
#define FAST_PAIR(name) { name##_4, name##_8 }
#define FAST_ALWAYS_INLINE static inline __attribute__((always_inline))

/* The GPR a register operand at @loc names (REG, ACC, or RM without
 * memory), or -1. */
static inline int fast_reg_of(const struct emu_insn *insn, enum emu_loc loc)
{
	switch (loc) {
	case EMU_LOC_REG: return insn->reg;
	case EMU_LOC_ACC: return EMU_RAX;
	case EMU_LOC_RM: return (insn->flags & EMU_I_MEM) ? -1 : insn->rm;
	default: return -1;
	}
}

/* ------------------------------------------------------------ fast memory */

/*
 * Memory operands of fast forms: 64-bit addressing with a GPR base
 * (EA_B), a base and an index (EA_BI), or RIP-relative (EA_RIP), in a
 * segment with base 0 (not FS or GS). The effective address agrees with
 * emu_ea() for these forms, and in 64-bit mode it is the linear address
 * (emu_linear(): no base, no limit).
 */
enum fast_ea { FAST_EA_B, FAST_EA_BI, FAST_EA_RIP, FAST_NR_EA };

static inline __attribute__((always_inline)) uint64_t
fast_ea(const struct emu_ctx *ctx, const struct emu_slot *s,
	const struct emu_fast_env *env, enum fast_ea form)
{
	const struct emu_insn *insn = &s->insn;
	const uint64_t disp = (uint64_t)(int64_t)insn->disp;
	switch (form) {
	case FAST_EA_RIP:
		return fast_next_rip(s, env) + disp;
	case FAST_EA_BI:
		return ctx->cpu.gpr[insn->base] + (ctx->cpu.gpr[insn->index] << insn->scale) + disp;
	default:
		return ctx->cpu.gpr[insn->base] + disp;
	}
}

/* The EA form of a memory operand, or FAST_NR_EA if no fast form takes
 * it (other segments, 32-bit addressing, no base, moffs). */
static inline enum fast_ea fast_ea_form(const struct emu_insn *insn)
{
	if (!(insn->flags & EMU_I_MEM) || (insn->flags & EMU_I_MOFFS) ||
	    insn->adsize != 8 || insn->seg == EMU_FS || insn->seg == EMU_GS)
		return FAST_NR_EA;
	if (insn->base == EMU_REG_RIP)
		return insn->index == EMU_NOREG ? FAST_EA_RIP : FAST_NR_EA;
	if (insn->base == EMU_NOREG)
		return FAST_NR_EA;
	return insn->index == EMU_NOREG ? FAST_EA_B : FAST_EA_BI;
}

/*
 * Whether the front TLB holds the page of the @size bytes at linear @la
 * for this access (a read, or a write when @write); if so *p is their
 * host address. If not, the caller takes the general path, which does
 * everything the checks below leave out.
 *
 * The index comes from la and the tag from the access's last byte, so
 * an access that crosses into the next page never matches (the next
 * page has the next index). A hit also means the page is canonical: the
 * caller fills entries only for pages the engine asked it to translate,
 * and the engine asks only after emu_linear()'s checks. It counts as a
 * TLB hit, exactly as emu_tlb_read()/emu_tlb_write() count one.
 */
static inline __attribute__((always_inline)) bool
fast_tlb(struct emu_ctx *ctx, const struct emu_fast_env *env, uint64_t la,
	 unsigned size, bool write, void **p)
{
	const struct emu_tlb_entry *e = &env->tlb[(la >> 12) & (EMU_TLB_SIZE - 1)];
	const uint64_t tag = ((la + size - 1) & ~4095ull) | env->key;
	if ((write ? e->write_tag : e->read_tag) != tag)
		return false;
	ctx->tlb_hits++;
	*p = (void *)(e->addend + (uintptr_t)la);
	return true;
}

/*
 * The fast forms each exec_*.c file provides for its operations: the
 * handler for the instruction in @s (with s->d, s->s filled in), or NULL
 * when it has none for this form. Called for 64-bit blocks only, for
 * instructions without LOCK, with every slot's idx and off set.
 */
emu_fast_fn emu_fast_alu(struct emu_slot *s);
emu_fast_fn emu_fast_move(struct emu_slot *s);
emu_fast_fn emu_fast_shift(struct emu_slot *s);
emu_fast_fn emu_fast_muldiv(struct emu_slot *s);
emu_fast_fn emu_fast_branch(struct emu_slot *s);
emu_fast_fn emu_fast_stack(struct emu_slot *s);

#endif
