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
	if (!simple[insn->op])
		emu_flags_sync(ctx);
	int r = handlers[insn->op](ctx, insn);
	if (r == EMU_CONTINUE)
		ctx->cpu.rip = ctx->next_rip;
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

/* Fetch and decode the instruction at rip, through the cache if any.
 * @local receives it when it does not come from the cache. */
static inline __attribute__((always_inline)) int get_insn(struct emu_ctx *ctx, struct emu_insn *local,
		    const struct emu_insn **insn)
{
#ifdef CONFIG_EMU_DECODE_CACHE
	if (ctx->dcache) {
		uint64_t key = ctx->cpu.seg[EMU_CS].base + ctx->cpu.rip;
		*insn = dcache_lookup(ctx->dcache, key, ctx->mode);
		if (*insn)
			return EMU_CONTINUE;
		TRY(fetch_decode(ctx, local));
		emu_dcache_fill(ctx->dcache, key, ctx->mode, local);
		*insn = local;
		return EMU_CONTINUE;
	}
#endif
	*insn = local;
	return fetch_decode(ctx, local);
}

static bool retired(const struct emu_ctx *ctx, int r)
{
	return r == EMU_CONTINUE || r == EMU_HALT ||
	       (r == EMU_EXCEPTION && ctx->exc.kind != EMU_EVENT_FAULT);
}

int emu_step(struct emu_ctx *ctx)
{
	struct emu_insn local;
	const struct emu_insn *insn;

	ctx->mode = emu_cpu_mode(&ctx->cpu);
	TRY(get_insn(ctx, &local, &insn));
	int r = execute(ctx, insn);
	emu_flags_sync(ctx);
	if (retired(ctx, r))
		ctx->icount++;
	return r;
}

int emu_run(struct emu_ctx *ctx, uint64_t max)
{
	struct emu_insn local;
	const struct emu_insn *insn;

	ctx->mode = emu_cpu_mode(&ctx->cpu);
	for (uint64_t n = 0; n < max; n++) {
		int r = get_insn(ctx, &local, &insn);
		if (r == EMU_CONTINUE)
			r = execute(ctx, insn);
		if (r != EMU_CONTINUE) {
			emu_flags_sync(ctx);
			if (retired(ctx, r))
				ctx->icount++;
			return r;
		}
		ctx->icount++;
		if (!simple[insn->op])
			ctx->mode = emu_cpu_mode(&ctx->cpu);
	}
	emu_flags_sync(ctx);
	return EMU_CONTINUE;
}
