/*
 * exec_stack.c — PUSH, POP, PUSHA, POPA, PUSHF, POPF and the flag
 * instructions CLC, STC, CMC, CLD, STD (SDM Vol. 2B).
 *
 * POPF's rules on which RFLAGS bits may change depend on mode, CPL and
 * IOPL; they are written as the SDM's decision table below. PUSHF and
 * POPF ask ops->intercept after their vm86 #GP(0) and before the stack
 * access (APM Vol. 2 15.7).
 */
#include "emulate/exec.h"
#ifdef CONFIG_EMU_DECODE_CACHE
#include "emulate/dcache.h"
#endif

EMU_HANDLER(push)
{
	uint64_t v;
	/* PUSH imm: the immediate is sign-extended to the operand size. */
	TRY(emu_src_read(ctx, insn, insn->dst, insn->opsize, &v));
	return emu_push(ctx, v, insn->opsize);
}

/*
 * POP: with rSP as the base of a memory destination, the address is
 * computed after rSP has been incremented (SDM POP). POP rSP loads the
 * popped value (the increment is lost).
 */
EMU_HANDLER(pop)
{
	const unsigned size = insn->opsize;
	uint64_t v, old_sp = ctx->cpu.gpr[EMU_RSP];
	struct emu_opnd d;
	int r;

	TRY(emu_stack_peek(ctx, 0, &v, size));
	emu_sp_add(ctx, size);
	r = emu_resolve(ctx, insn, insn->dst, EMU_ACC_WRITE, &d);
	if (r == EMU_CONTINUE)
		r = emu_opnd_write(ctx, insn, &d, size, v);
	if (r != EMU_CONTINUE)
		ctx->cpu.gpr[EMU_RSP] = old_sp;
	return r;
}

/* PUSHA/PUSHAD: AX CX DX BX (original SP) BP SI DI. */
EMU_HANDLER(pusha)
{
	const unsigned os = insn->opsize;
	const uint64_t m = size_mask(stack_size(ctx));
	uint64_t sp = ctx->cpu.gpr[EMU_RSP] & m;
	for (unsigned r = EMU_RAX; r <= EMU_RDI; r++) {
		sp = (sp - os) & m;
		TRY(emu_write_mem(ctx, EMU_SS, sp, gpr_get(ctx, r, os), os));
	}
	ctx->cpu.gpr[EMU_RSP] = (ctx->cpu.gpr[EMU_RSP] & ~m) | sp;
	return EMU_CONTINUE;
}

/* POPA/POPAD: DI SI BP (SP skipped) BX DX CX AX. */
EMU_HANDLER(popa)
{
	const unsigned os = insn->opsize;
	const uint64_t m = size_mask(stack_size(ctx));
	uint64_t sp = ctx->cpu.gpr[EMU_RSP] & m, v[8];
	for (int r = EMU_RDI; r >= EMU_RAX; r--) {
		TRY(emu_read_mem(ctx, EMU_SS, sp, &v[r], os));
		sp = (sp + os) & m;
	}
	for (unsigned r = EMU_RAX; r <= EMU_RDI; r++)
		if (r != EMU_RSP)
			gpr_set(ctx, r, os, v[r]);
	ctx->cpu.gpr[EMU_RSP] = (ctx->cpu.gpr[EMU_RSP] & ~m) | sp;
	return EMU_CONTINUE;
}

/* PUSHF: the image has VM and RF cleared; vm86 needs IOPL 3. */
EMU_HANDLER(pushf)
{
	uint64_t f = ctx->cpu.rflags;
	if (in_vm86(ctx) && ((f & EMU_FLAG_IOPL) >> 12) < 3)
		return raise_gp0(ctx);
	TRY(emu_intercept(ctx, EMU_ICPT_PUSHF));
	f &= ~(uint64_t)(EMU_FLAG_VM | EMU_FLAG_RF);
	return emu_push(ctx, f, insn->opsize);
}

#define FLAGS_ALL (EMU_FLAGS_ARITH | EMU_FLAG_TF | EMU_FLAG_IF | EMU_FLAG_DF | \
		   EMU_FLAG_IOPL | EMU_FLAG_NT | EMU_FLAG_RF | EMU_FLAG_VM | \
		   EMU_FLAG_AC | EMU_FLAG_VIF | EMU_FLAG_VIP | EMU_FLAG_ID)

/*
 * POPF (SDM Vol. 2B POPF "Operation"), which bits the popped value may
 * change:
 *
 *   mode          CPL vs IOPL   changeable                    else
 *   real / CPL 0  -             all but VIP VIF VM            RF cleared
 *   CPL > 0       CPL <= IOPL   all but IOPL VIP VIF VM       RF cleared
 *   CPL > 0       CPL > IOPL    all but IF IOPL VIP VIF VM    RF cleared
 *   vm86          IOPL = 3      all but IOPL VIP VIF VM       RF cleared
 *   vm86          IOPL < 3      #GP(0) (CR4.VME not modelled here)
 *
 * A 16-bit POPF changes only bits 15:0.
 */
EMU_HANDLER(popf)
{
	const unsigned os = insn->opsize;
	const unsigned iopl = (ctx->cpu.rflags & EMU_FLAG_IOPL) >> 12;
	uint64_t v, mask = FLAGS_ALL & ~(uint64_t)(EMU_FLAG_VIP | EMU_FLAG_VIF |
						   EMU_FLAG_VM | EMU_FLAG_RF);

	if (in_vm86(ctx)) {
		if (iopl < 3)
			return raise_gp0(ctx);
		mask &= ~(uint64_t)EMU_FLAG_IOPL;
	} else if (!in_real_mode(ctx) && ctx->cpu.cpl > 0) {
		mask &= ~(uint64_t)EMU_FLAG_IOPL;
		if (ctx->cpu.cpl > iopl)
			mask &= ~(uint64_t)EMU_FLAG_IF;
	}
	TRY(emu_intercept(ctx, EMU_ICPT_POPF));
	if (os == 2)
		mask &= 0xffff;
	TRY(emu_pop(ctx, &v, os));
	uint64_t old = ctx->cpu.rflags;
	ctx->cpu.rflags = ((old & ~mask) | (v & mask) | EMU_FLAG_FIXED) & ~(uint64_t)EMU_FLAG_RF;
	return EMU_CONTINUE;
}

EMU_HANDLER(clc) { ctx->cpu.rflags &= ~(uint64_t)EMU_FLAG_CF; return EMU_CONTINUE; }
EMU_HANDLER(stc) { ctx->cpu.rflags |= EMU_FLAG_CF; return EMU_CONTINUE; }
EMU_HANDLER(cmc) { ctx->cpu.rflags ^= EMU_FLAG_CF; return EMU_CONTINUE; }
EMU_HANDLER(cld) { ctx->cpu.rflags &= ~(uint64_t)EMU_FLAG_DF; return EMU_CONTINUE; }
EMU_HANDLER(std) { ctx->cpu.rflags |= EMU_FLAG_DF; return EMU_CONTINUE; }

#ifdef CONFIG_EMU_DECODE_CACHE
/*
 * Fast forms (dcache.h) of PUSH and POP of a 64-bit register and PUSH of
 * an immediate, in 64-bit mode (stack size 8, SS base not applied):
 * exec_push()/emu_push() and exec_pop() for them. The stack slot goes
 * through the front TLB; rSP changes only once the access has hit. POP
 * rSP loads the popped value, after the increment.
 */
FAST_ALWAYS_INLINE int push_v(FAST_ARGS, uint64_t v)
{
	const uint64_t la = ctx->cpu.gpr[EMU_RSP] - 8;
	void *p;
	if (!fast_tlb(ctx, env, la, 8, true, &p))
		return emu_fast_general(ctx, s, env);
	emu_host_store(p, v, 8);
	ctx->cpu.gpr[EMU_RSP] = la;
	return fast_next(ctx, s, env);
}

static int push_r(FAST_ARGS) { return push_v(ctx, s, env, ctx->cpu.gpr[s->s]); }
static int push_i(FAST_ARGS) { return push_v(ctx, s, env, s->insn.imm); }

static int pop_r(FAST_ARGS)
{
	const uint64_t la = ctx->cpu.gpr[EMU_RSP];
	void *p;
	if (!fast_tlb(ctx, env, la, 8, false, &p))
		return emu_fast_general(ctx, s, env);
	const uint64_t v = emu_host_load(p, 8);
	ctx->cpu.gpr[EMU_RSP] = la + 8;
	ctx->cpu.gpr[s->d] = v;
	return fast_next(ctx, s, env);
}

emu_fast_fn emu_fast_stack(struct emu_slot *s)
{
	const struct emu_insn *insn = &s->insn;
	const int r = fast_reg_of(insn, insn->dst);

	if (insn->opsize != 8)
		return NULL;
	if (insn->op == EMU_OP_PUSH) {
		if (insn->dst == EMU_LOC_IMM)
			return push_i;
		if (r < 0)
			return NULL;
		s->s = (uint8_t)r;
		return push_r;
	}
	if (insn->op != EMU_OP_POP || r < 0)
		return NULL;
	s->d = (uint8_t)r;
	return pop_r;
}
#endif
