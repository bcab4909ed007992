/*
 * exec.c — the dispatcher: one table from operation to handler, the
 * fetch/decode/execute step, exception results, and the interpreter
 * loop over cached blocks.
 *
 * The handler table is generated from opcodes.def, so every operation
 * the decoder can produce has exactly one handler (a missing one is a
 * link error, not a runtime surprise). That handler is the general
 * path. With the decode cache, blocks run as chains of slot handlers
 * (dcache.h): fast forms for common 64-bit operand forms, chosen when a
 * block is built, and the general path wrapped as a slot handler for
 * everything else; a fast form must leave exactly the state the general
 * path leaves, and takes the general path itself whenever anything is
 * unusual (a front-TLB miss, a fault to raise).
 */
#include "emulate/exec.h"
#ifdef CONFIG_EMU_DECODE_CACHE
#include "emulate/dcache.h"
#endif

typedef int (*emu_handler_t)(struct emu_ctx *ctx, const struct emu_insn *insn);

static const emu_handler_t handlers[EMU_NR_OPS] = {
#define INSN(name, mnem) [EMU_OP_##name] = exec_##mnem,
#include "emulate/opcodes.def"
};

/*
 * The simple handlers: they cope with pending lazy flags (they read flags
 * only through emu_cond()/cur_cf() and write them only through
 * lazy_flags()/set_arith_flags()), and they cannot change the CPU mode
 * (CR0, EFER, CS, RFLAGS.VM). Every other handler runs with the flags
 * folded into rflags first, and the interpreter loop recomputes the mode
 * after it.
 */
#define L(name) [EMU_OP_##name] = true
static const bool simple[EMU_NR_OPS] = {
	L(ADD), L(OR), L(ADC), L(SBB), L(AND), L(SUB), L(XOR), L(CMP), L(TEST),
	L(INC), L(DEC), L(NEG), L(NOT), L(MUL), L(IMUL1), L(IMUL2), L(IMUL3),
	L(DIV), L(IDIV), L(ROL), L(ROR), L(RCL), L(RCR), L(SHL), L(SHR), L(SAR),
	L(SHLD), L(SHRD), L(BT), L(BTS), L(BTR), L(BTC), L(BSF), L(BSR),
	L(TZCNT), L(LZCNT), L(POPCNT), L(MOV), L(MOVZX), L(MOVSX), L(MOVSXD),
	L(XCHG), L(BSWAP), L(LEA), L(CMOVCC), L(SETCC), L(CBW), L(CWD), L(NOP),
	L(CMPXCHG), L(CMPXCHG8B), L(XADD), L(JCC), L(JMP), L(JMP_IND), L(CALL),
	L(CALL_IND), L(RET), L(LOOP), L(JRCXZ), L(ENTER), L(LEAVE), L(PUSH),
	L(POP), L(MOVS), L(CMPS), L(STOS), L(LODS), L(SCAS),
};
#undef L

enum emu_mode emu_cpu_mode(const struct emu_cpu *cpu)
{
	const uint32_t ar = cpu->seg[EMU_CS].ar;
	if (!(cpu->cr0 & EMU_CR0_PE) || (cpu->rflags & EMU_FLAG_VM))
		return EMU_MODE_16;
	if ((cpu->efer & EMU_EFER_LMA) && (ar & EMU_AR_L))
		return EMU_MODE_64;
	return (ar & EMU_AR_DB) ? EMU_MODE_32 : EMU_MODE_16;
}

int emu_raise(struct emu_ctx *ctx, unsigned vector, bool has_error,
	      uint32_t error_code)
{
	ctx->exc.vector = (uint8_t)vector;
	ctx->exc.kind = EMU_EVENT_FAULT;
	ctx->exc.has_error_code = has_error;
	ctx->exc.error_code = has_error ? error_code : 0;
	ctx->exc.cr2 = 0;
	ctx->exc.dr6 = 0;
	ctx->exc.insn_len = 0;
	return EMU_EXCEPTION;
}

int emu_raise_pf(struct emu_ctx *ctx, uint64_t la, uint32_t error_code)
{
	emu_raise(ctx, EMU_EXC_PF, true, error_code);
	ctx->exc.cr2 = la;
	return EMU_EXCEPTION;
}

static uint64_t rip_mask(enum emu_mode mode)
{
	return mode == EMU_MODE_64 ? ~0ull : mode == EMU_MODE_32 ? 0xffffffffull : 0xffff;
}

/* Execute a decoded instruction; ctx->mode must be the mode it was
 * decoded in. */
static inline __attribute__((always_inline)) int execute(struct emu_ctx *ctx, const struct emu_insn *insn)
{
	EMU_ASSERT(insn->op > EMU_OP_INVALID && insn->op < EMU_NR_OPS);
	ctx->next_rip = (ctx->cpu.rip + insn->len) & rip_mask(ctx->mode);
	ctx->insn = insn;
	if (!simple[insn->op])
		emu_flags_sync(ctx);
	int r = handlers[insn->op](ctx, insn);
	if (r == EMU_CONTINUE)
		ctx->cpu.rip = ctx->next_rip;
	else
		ctx->exc.insn_len = insn->len;
	return r;
}

int emu_execute(struct emu_ctx *ctx, const struct emu_insn *insn)
{
	ctx->mode = emu_cpu_mode(&ctx->cpu);
	int r = execute(ctx, insn);
	emu_flags_sync(ctx);
	return r;
}

/* Map a decode failure to the exception it raises. */
static int decode_fault(struct emu_ctx *ctx, int err)
{
	if (err == -EMU_DEC_TOOLONG)
		return raise_gp0(ctx);
	return raise_ud(ctx);
}

/*
 * Fetch up to 15 bytes at CS:rip. Bytes are fetched in pieces that do
 * not cross a page boundary, so a fault on the second page is raised
 * only when the decoder needs a byte from it (SDM: an instruction that
 * would fit in the first page does not touch the second).
 */
static int fetch_decode(struct emu_ctx *ctx, struct emu_insn *insn)
{
	uint8_t buf[EMU_MAX_INSN_LEN];
	size_t have = 0;
	uint64_t ip = ctx->cpu.rip;

	for (;;) {
		uint64_t la;
		unsigned chunk = EMU_MAX_INSN_LEN - have;
		/* CS limit and canonical checks apply to every fetched byte. */
		int r = emu_linear(ctx, EMU_CS, (ip + have) & rip_mask(ctx->mode),
				   1, EMU_ACC_FETCH, &la);
		if (r != EMU_CONTINUE)
			return r;
		unsigned to_page = 4096 - (unsigned)(la & 4095);
		if (chunk > to_page)
			chunk = to_page;
		/* Do not fetch past the CS limit outside 64-bit mode. */
		if (ctx->mode != EMU_MODE_64) {
			uint64_t lim = ctx->cpu.seg[EMU_CS].limit;
			uint64_t off = (ip + have) & rip_mask(ctx->mode);
			if (off + chunk - 1 > lim)
				chunk = (unsigned)(lim - off + 1);
		}
		r = ctx->ops->fetch(ctx, la, buf + have, chunk);
		if (r != EMU_CONTINUE)
			return r;
		have += chunk;
		int n = emu_decode(buf, have, ctx->mode, insn);
		if (n != -EMU_DEC_SHORT)
			return n < 0 ? decode_fault(ctx, n) : EMU_CONTINUE;
		if (have >= EMU_MAX_INSN_LEN)
			return raise_gp0(ctx);
	}
}

static bool retired(const struct emu_ctx *ctx, int r)
{
	return r == EMU_CONTINUE || r == EMU_HALT ||
	       (r == EMU_EXCEPTION && ctx->exc.kind != EMU_EVENT_FAULT);
}

/* Leave the interpreter: fold the flags back, count the last
 * instruction if it retired with an event (ctx->icount is kept live for
 * the others, so ops can tell which instruction they run in). */
static int finish(struct emu_ctx *ctx, int r)
{
	emu_flags_sync(ctx);
	ctx->icount += r != EMU_CONTINUE && retired(ctx, r);
	return r;
}

/* One instruction fetched and decoded without the cache; *@sys when it
 * was not simple (see emu_ctx.stop_after_system). */
static int step_uncached(struct emu_ctx *ctx, bool *sys)
{
	struct emu_insn insn;
	int r = fetch_decode(ctx, &insn);
	if (r == EMU_CONTINUE)
		r = execute(ctx, &insn);
	*sys = r == EMU_CONTINUE && !simple[insn.op];
	if (*sys)
		ctx->mode = emu_cpu_mode(&ctx->cpu);
	return r;
}

/* Without a cache: fetch and decode every instruction. */
static int run_uncached(struct emu_ctx *ctx, uint64_t max)
{
	uint64_t n = 0;

	ctx->mode = emu_cpu_mode(&ctx->cpu);
	while (n < max) {
		bool sys;
		int r = step_uncached(ctx, &sys);
		if (r != EMU_CONTINUE)
			return finish(ctx, r);
		n++;
		ctx->icount++;
		if (sys && ctx->stop_after_system)
			break;
	}
	return finish(ctx, EMU_CONTINUE);
}

#ifdef CONFIG_EMU_DECODE_CACHE
/* A block ends after an unconditional transfer or a non-simple handler
 * (which may change the mode the rest was decoded in). */
static bool ends_block(unsigned op)
{
	return !simple[op] || op == EMU_OP_JMP || op == EMU_OP_JMP_IND ||
	       op == EMU_OP_CALL || op == EMU_OP_CALL_IND || op == EMU_OP_RET;
}

/* ------------------------------------------------------------ slot handlers */

int emu_fast_general(struct emu_ctx *ctx, const struct emu_slot *s,
		     struct emu_fast_env *env)
{
	const struct emu_insn *insn = &s->insn;
	fast_sync(ctx, s, env);
	int r = execute(ctx, insn);
	if (r != EMU_CONTINUE)
		return r;
	ctx->icount++;
	if (!simple[insn->op])
		return EMU_FAST_MODE;
	if (ctx->cpu.rip != ((env->rip0 + s[1].off) & env->rip_mask) ||
	    env->dc->gen != env->gen)
		return EMU_FAST_LEAVE;
	if (ctx->key_epoch != env->epoch)
		env->loops = 0;			/* see fast_loop() */
	return s[1].fn(ctx, s + 1, env);
}

int emu_fast_sync_flags(struct emu_ctx *ctx, const struct emu_slot *s,
			struct emu_fast_env *env)
{
	emu_flags_sync(ctx);
	return s->fn(ctx, s, env);
}

/* slot[n]: the chain ran off the block's end. */
static int fast_end(struct emu_ctx *ctx, const struct emu_slot *s,
		    struct emu_fast_env *env)
{
	fast_sync(ctx, s, env);
	return EMU_FAST_LEAVE;
}

/*
 * The handler of a freshly decoded slot: a fast form where one exists
 * (64-bit code without LOCK; each exec_*.c file says which forms it
 * has), else the general path.
 */
static emu_fast_fn choose_fn(struct emu_slot *s, enum emu_mode mode)
{
	emu_fast_fn fn = NULL;

	if (mode != EMU_MODE_64 || (s->insn.flags & EMU_I_LOCK))
		return emu_fast_general;
	switch (s->insn.op) {
	case EMU_OP_ADD: case EMU_OP_OR: case EMU_OP_AND: case EMU_OP_SUB:
	case EMU_OP_XOR: case EMU_OP_CMP: case EMU_OP_TEST:
	case EMU_OP_INC: case EMU_OP_DEC:
		fn = emu_fast_alu(s);
		break;
	case EMU_OP_MOV: case EMU_OP_LEA: case EMU_OP_MOVZX: case EMU_OP_MOVSX:
		fn = emu_fast_move(s);
		break;
	case EMU_OP_PUSH: case EMU_OP_POP:
		fn = emu_fast_stack(s);
		break;
	case EMU_OP_SHL: case EMU_OP_SHR: case EMU_OP_SAR:
		fn = emu_fast_shift(s);
		break;
	case EMU_OP_IMUL2: case EMU_OP_IMUL3:
		fn = emu_fast_muldiv(s);
		break;
	case EMU_OP_JCC: case EMU_OP_JMP: case EMU_OP_CALL: case EMU_OP_RET:
		fn = emu_fast_branch(s);
		break;
	}
	return fn ? fn : emu_fast_general;
}

/*
 * Flag liveness. A fast form need not record the arithmetic flags it
 * writes when the rest of the block overwrites them before anything can
 * see them. Seeing them includes leaving the chain: the flags at a fault
 * are the last retired instruction's, and the next block or the caller
 * may read them. So an instruction that may leave (the general path, a
 * fast form with a memory operand, which may take the general path and
 * fault, a branch) reads all of them, and they are all live at the end
 * of the block. @rd and @wr are what slot @s reads and writes; INC and
 * DEC pass CF through, IMUL passes SF, ZF, AF and PF.
 */
static void flag_effect(const struct emu_slot *s, uint64_t *rd, uint64_t *wr)
{
	const struct emu_insn *insn = &s->insn;
	const bool leaves = s->fn == emu_fast_general || insn->op == EMU_OP_JCC ||
			    insn->op == EMU_OP_JMP || insn->op == EMU_OP_CALL ||
			    insn->op == EMU_OP_RET || insn->op == EMU_OP_PUSH ||
			    insn->op == EMU_OP_POP ||
			    ((insn->flags & EMU_I_MEM) && insn->op != EMU_OP_LEA);

	*rd = leaves ? ARITH : 0;
	switch (insn->op) {
	case EMU_OP_ADD: case EMU_OP_OR: case EMU_OP_AND: case EMU_OP_SUB:
	case EMU_OP_XOR: case EMU_OP_CMP: case EMU_OP_TEST:
	case EMU_OP_SHL: case EMU_OP_SHR: case EMU_OP_SAR:
		*wr = ARITH;
		break;
	case EMU_OP_INC: case EMU_OP_DEC:
		*wr = ARITH & ~(uint64_t)EMU_FLAG_CF;
		break;
	case EMU_OP_IMUL2: case EMU_OP_IMUL3:
		*wr = EMU_FLAG_CF | EMU_FLAG_OF;
		break;
	default:
		*wr = 0;
		break;
	}
}

/* Set each slot's fl, from the block's end backwards. */
static void mark_flag_liveness(struct emu_block *b)
{
	uint64_t live = ARITH;

	for (unsigned i = b->n; i-- > 0;) {
		uint64_t rd, wr;
		flag_effect(&b->slot[i], &rd, &wr);
		b->slot[i].fl = (wr & live) != 0;
		live = rd | (live & ~wr);
	}
}

/*
 * The env of the chains that run now (dcache.h). With alignment
 * checking on, no fast memory access may hit (see EMU_FAST_NO_KEY).
 */
static void fast_env_init(struct emu_ctx *ctx, struct emu_fast_env *env)
{
	static const struct emu_tlb_entry no_tlb[EMU_TLB_SIZE] = {
		[0 ... EMU_TLB_SIZE - 1] = { EMU_TLB_INVALID, EMU_TLB_INVALID, 0 },
	};
	const bool ac = ctx->cpu.cpl == 3 && (ctx->cpu.cr0 & EMU_CR0_AM) &&
			(ctx->cpu.rflags & EMU_FLAG_AC);

	env->tlb = ctx->tlb ? ctx->tlb : no_tlb;
	env->key = ac ? EMU_FAST_NO_KEY : emu_tlb_key(ctx);
	env->rip_mask = rip_mask(ctx->mode);
	env->dc = ctx->dcache;
	env->gen = ctx->dcache->gen;
}

/* ------------------------------------------------------------ blocks */

/*
 * Decode the block starting at rip (linear address @la, cache key @key)
 * into @b. The first instruction is fetched as emu_step() would (its
 * faults are the result); the rest come from one fetch of the remainder
 * of the page, clipped to the CS limit and the rip wrap, and the block
 * stops before anything that does not decode within it. Each slot gets
 * its handler, and slot[n] the chain's end.
 */
static int build_block(struct emu_ctx *ctx, struct emu_block *b, uint64_t key,
		       uint64_t la)
{
	uint8_t buf[4096];
	const uint64_t mask = rip_mask(ctx->mode);
	unsigned n = 1, used = 0;

	b->mode = BLOCK_EMPTY;
	TRY(fetch_decode(ctx, &b->slot[0].insn));
	const unsigned first = b->slot[0].insn.len;
	const uint64_t next_la = la + first, next_ip = (ctx->cpu.rip + first) & mask;
	uint64_t avail = (next_la & 4095) ? 4096 - (next_la & 4095) : 0;
	if ((la & ~4095ull) != ((next_la - 1) & ~4095ull))
		avail = 0;				/* the first one crossed */
	if (avail > mask - next_ip + 1 || next_ip < ctx->cpu.rip)
		avail = next_ip < ctx->cpu.rip ? 0 : mask - next_ip + 1;
	if (ctx->mode != EMU_MODE_64) {
		uint64_t lim = ctx->cpu.seg[EMU_CS].limit;
		avail = next_ip > lim ? 0 : avail < lim - next_ip + 1 ? avail : lim - next_ip + 1;
	}
	if (ends_block(b->slot[0].insn.op))
		avail = 0;
	if (avail && ctx->ops->fetch(ctx, next_la, buf, (unsigned)avail) == EMU_CONTINUE) {
		while (n < EMU_BLOCK_INSNS && used < avail) {
			int r = emu_decode(buf + used, avail - used, ctx->mode, &b->slot[n].insn);
			if (r < 0)
				break;
			used += (unsigned)r;
			if (ends_block(b->slot[n++].insn.op))
				break;
		}
	}
	for (unsigned i = 0, off = 0; i <= n; i++) {
		b->slot[i].idx = (uint8_t)i;
		b->slot[i].off = (uint16_t)off;
		off += i < n ? b->slot[i].insn.len : 0;
	}
	for (unsigned i = 0; i < n; i++)
		b->slot[i].fn = choose_fn(&b->slot[i], ctx->mode);
	b->slot[n].fn = fast_end;
	b->n = (uint8_t)n;
	mark_flag_liveness(b);
	b->addr = key;
	b->cs_limit = ctx->cpu.seg[EMU_CS].limit;
	b->bytes = (uint16_t)(first + used);
	b->mode = (uint8_t)ctx->mode;
	return EMU_CONTINUE;
}

/*
 * The first @budget (fewer than b->n) instructions of @b, one at a time
 * through the general path, when the run's budget ends inside the
 * block. Returns as a chain does (dcache.h).
 */
static int run_steps(struct emu_ctx *ctx, const struct emu_block *b, uint64_t budget)
{
	const uint64_t gen = ctx->dcache->gen, mask = rip_mask(ctx->mode);

	for (unsigned i = 0; i < budget; i++) {
		const struct emu_insn *insn = &b->slot[i].insn;
		const uint64_t expect = (ctx->cpu.rip + insn->len) & mask;
		int r = execute(ctx, insn);
		if (r != EMU_CONTINUE)
			return r;
		ctx->icount++;
		if (!simple[insn->op])
			return EMU_FAST_MODE;
		if (ctx->cpu.rip != expect || ctx->dcache->gen != gen)
			break;
	}
	return EMU_FAST_LEAVE;
}

/* Back-edges a chain may take within its block (fast_loop()) before it
 * returns here: enough to make this loop's share small, few enough that
 * a build without tail calls nests at most FAST_LOOPS + 1 chains deep. */
#define FAST_LOOPS 32

/*
 * The interpreter loop over blocks: look up (or build) the block at rip
 * and run it as a chain of slot handlers, which leaves it when a branch
 * goes elsewhere, the mode may have changed, or code was invalidated.
 * A chain that ends back at its own start (a loop within one block)
 * runs again without the lookup, when the lookup could only have found
 * the same block: rip, the code keys (key_epoch) and the cache (gen) are
 * as they were when it was looked up. A fast Jcc does the same within
 * the chain (fast_loop()), FAST_LOOPS times before it comes back here.
 */
static int run_cached(struct emu_ctx *ctx, uint64_t max)
{
	struct emu_dcache *dc = ctx->dcache;
	const uint64_t start = ctx->icount;
	struct emu_fast_env env;
	int r;

	ctx->mode = emu_cpu_mode(&ctx->cpu);
	fast_env_init(ctx, &env);
	while (ctx->icount - start < max) {
		const uint64_t la = ctx->cpu.seg[EMU_CS].base + ctx->cpu.rip;
		uint64_t key = la;
		bool once = false;
		if (ctx->ops->code_key && (la & ~4095ull) == ctx->key_page_la &&
		    ctx->key_epoch == ctx->key_page_epoch) {
			key = ctx->key_page | (la & 4095);
		} else if (ctx->ops->code_key) {
			if (ctx->ops->code_key(ctx, la, &key)) {
				ctx->key_page_la = la & ~4095ull;
				ctx->key_page = key & ~4095ull;
				ctx->key_page_epoch = ctx->key_epoch;
			} else {
				bool sys;
				r = step_uncached(ctx, &sys);
				if (r != EMU_CONTINUE)
					return finish(ctx, r);
				ctx->icount++;
				if (sys && ctx->stop_after_system)
					break;
				fast_env_init(ctx, &env);
				continue;
			}
		}
		struct emu_block *b = dcache_slot(dc, key);
		if (b->addr != key || b->mode != ctx->mode ||
		    b->cs_limit != ctx->cpu.seg[EMU_CS].limit) {
			r = build_block(ctx, b, key, la);
			if (r != EMU_CONTINUE)
				return finish(ctx, r);
			/* Keyed by a translation, an instruction that runs into
			 * the next page depends on a second page the key does
			 * not name: run it once, do not keep it. */
			once = ctx->ops->code_key &&
			       (key & 4095) + b->bytes > 4096;
		}
		if (once)
			b->mode = BLOCK_EMPTY;
		const uint64_t rip = ctx->cpu.rip, epoch = ctx->key_epoch;
		if (max - (ctx->icount - start) < b->n) {
			r = run_steps(ctx, b, max - (ctx->icount - start));
		} else {
			env.epoch = epoch;
			env.slot0 = b->slot;
			do {
				/* Each pass runs at most b->n instructions. */
				env.loops = !once && max - (ctx->icount - start) >=
					    (FAST_LOOPS + 1) * (uint64_t)b->n ? FAST_LOOPS : 0;
				env.rip0 = ctx->cpu.rip;
				env.icount0 = ctx->icount;
				env.gen = dc->gen;
				r = b->slot[0].fn(ctx, b->slot, &env);
			} while (r == EMU_FAST_LEAVE && ctx->cpu.rip == rip && !once &&
				 dc->gen == env.gen && ctx->key_epoch == epoch &&
				 max - (ctx->icount - start) >= b->n);
		}
		if (r == EMU_FAST_MODE) {
			if (ctx->stop_after_system)
				break;
			ctx->mode = emu_cpu_mode(&ctx->cpu);
			fast_env_init(ctx, &env);
		} else if (r != EMU_FAST_LEAVE) {
			return finish(ctx, r);
		}
	}
	return finish(ctx, EMU_CONTINUE);
}
#endif

int emu_run(struct emu_ctx *ctx, uint64_t max)
{
#ifdef CONFIG_EMU_DECODE_CACHE
	if (ctx->dcache)
		return run_cached(ctx, max);
#endif
	return run_uncached(ctx, max);
}

int emu_step(struct emu_ctx *ctx)
{
	return emu_run(ctx, 1);
}
