/*
 * exec.c — the dispatcher: one table from operation to handler, the
 * fetch/decode/execute step, and exception results.
 *
 * The handler table is generated from opcodes.def, so every operation
 * the decoder can produce has exactly one handler (a missing one is a
 * link error, not a runtime surprise).
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
static int finish(struct emu_ctx *ctx, int r, uint64_t n)
{
	(void)n;
	emu_flags_sync(ctx);
	ctx->icount += r != EMU_CONTINUE && retired(ctx, r);
	return r;
}

/* One instruction fetched and decoded without the cache. */
static int step_uncached(struct emu_ctx *ctx)
{
	struct emu_insn insn;
	int r = fetch_decode(ctx, &insn);
	if (r == EMU_CONTINUE)
		r = execute(ctx, &insn);
	if (r == EMU_CONTINUE && !simple[insn.op])
		ctx->mode = emu_cpu_mode(&ctx->cpu);
	return r;
}

/* Without a cache: fetch and decode every instruction. */
static int run_uncached(struct emu_ctx *ctx, uint64_t max)
{
	uint64_t n = 0;

	ctx->mode = emu_cpu_mode(&ctx->cpu);
	while (n < max) {
		int r = step_uncached(ctx);
		if (r != EMU_CONTINUE)
			return finish(ctx, r, n);
		n++;
		ctx->icount++;
	}
	return finish(ctx, EMU_CONTINUE, n);
}

#ifdef CONFIG_EMU_DECODE_CACHE
/* A block ends after an unconditional transfer or a non-simple handler
 * (which may change the mode the rest was decoded in). */
static bool ends_block(unsigned op)
{
	return !simple[op] || op == EMU_OP_JMP || op == EMU_OP_JMP_IND ||
	       op == EMU_OP_CALL || op == EMU_OP_CALL_IND || op == EMU_OP_RET;
}

/*
 * Decode the block starting at rip (linear address @la, cache key @key)
 * into @b. The
 * first instruction is fetched as emu_step() would (its faults are the
 * result); the rest come from one fetch of the remainder of the page,
 * clipped to the CS limit and the rip wrap, and the block stops before
 * anything that does not decode within it.
 */
static int build_block(struct emu_ctx *ctx, struct emu_block *b, uint64_t key,
		       uint64_t la)
{
	uint8_t buf[4096];
	const uint64_t mask = rip_mask(ctx->mode);
	unsigned n = 1, used = 0;

	b->mode = BLOCK_EMPTY;
	TRY(fetch_decode(ctx, &b->insn[0]));
	const unsigned first = b->insn[0].len;
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
	if (ends_block(b->insn[0].op))
		avail = 0;
	if (avail && ctx->ops->fetch(ctx, next_la, buf, (unsigned)avail) == EMU_CONTINUE) {
		while (n < EMU_BLOCK_INSNS && used < avail) {
			int r = emu_decode(buf + used, avail - used, ctx->mode, &b->insn[n]);
			if (r < 0)
				break;
			used += (unsigned)r;
			if (ends_block(b->insn[n++].op))
				break;
		}
	}
	b->addr = key;
	b->cs_limit = ctx->cpu.seg[EMU_CS].limit;
	b->n = (uint8_t)n;
	b->bytes = (uint16_t)(first + used);
	b->mode = (uint8_t)ctx->mode;
	return EMU_CONTINUE;
}

/*
 * The interpreter loop over blocks: look up (or build) the block at rip,
 * run its instructions while rip follows them, and leave it when a branch
 * goes elsewhere, the mode may have changed, or code was invalidated.
 */
static int run_cached(struct emu_ctx *ctx, uint64_t max)
{
	struct emu_dcache *dc = ctx->dcache;
	uint64_t n = 0;

	ctx->mode = emu_cpu_mode(&ctx->cpu);
	while (n < max) {
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
				int r = step_uncached(ctx);
				if (r != EMU_CONTINUE)
					return finish(ctx, r, n);
				n++;
				ctx->icount++;
				continue;
			}
		}
		struct emu_block *b = dcache_slot(dc, key);
		if (b->addr != key || b->mode != ctx->mode ||
		    b->cs_limit != ctx->cpu.seg[EMU_CS].limit) {
			int r = build_block(ctx, b, key, la);
			if (r != EMU_CONTINUE)
				return finish(ctx, r, n);
			/* Keyed by a translation, an instruction that runs into
			 * the next page depends on a second page the key does
			 * not name: run it once, do not keep it. */
			once = ctx->ops->code_key &&
			       (key & 4095) + b->bytes > 4096;
		}
		if (once)
			b->mode = BLOCK_EMPTY;
		const uint64_t gen = dc->gen, mask = rip_mask(ctx->mode);
		uint64_t expect = ctx->cpu.rip;
		for (unsigned i = 0; i < b->n; i++) {
			const struct emu_insn *insn = &b->insn[i];
			expect = (expect + insn->len) & mask;
			int r = execute(ctx, insn);
			if (r != EMU_CONTINUE)
				return finish(ctx, r, n);
			ctx->icount++;
			if (++n == max)
				break;
			if (!simple[insn->op]) {
				ctx->mode = emu_cpu_mode(&ctx->cpu);
				break;
			}
			if (ctx->cpu.rip != expect || dc->gen != gen)
				break;
		}
	}
	return finish(ctx, EMU_CONTINUE, n);
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
