/*
 * mem.c — operands in memory: effective addresses, segmentation checks,
 * segmented reads and writes, resolved operands and the stack.
 *
 * SDM Vol. 3A 3.4.5 (segment descriptor types), 5.3 (limit checking),
 * 5.4 (type checking), 3.3.7.1 and 5.3.1 (canonical addresses and the
 * 64-bit mode exemptions), 6.15 #AC (alignment checking).
 */
#include "emulate/exec.h"

uint64_t emu_ea(const struct emu_ctx *ctx, const struct emu_insn *insn)
{
	uint64_t ea;
	if (insn->flags & EMU_I_MOFFS)
		return insn->imm & size_mask(insn->adsize);
	ea = (uint64_t)(int64_t)insn->disp;
	if (insn->base == EMU_REG_RIP)
		ea += ctx->next_rip;
	else if (insn->base != EMU_NOREG)
		ea += ctx->cpu.gpr[insn->base];
	if (insn->index != EMU_NOREG)
		ea += ctx->cpu.gpr[insn->index] << insn->scale;
	return ea & size_mask(insn->adsize);
}

static int seg_fault(struct emu_ctx *ctx, unsigned seg)
{
	return emu_raise(ctx, seg == EMU_SS ? EMU_EXC_SS : EMU_EXC_GP, true, 0);
}

int emu_linear(struct emu_ctx *ctx, unsigned seg, uint64_t ea, unsigned size,
	       unsigned acc, uint64_t *la)
{
	const struct emu_segment *s = &ctx->cpu.seg[seg];

	if (ctx->mode == EMU_MODE_64) {
		/* 64-bit mode: no limit or type checks; FS and GS keep their
		 * bases; the whole access must be canonical. */
		uint64_t a = ea + ((seg == EMU_FS || seg == EMU_GS) ? s->base : 0);
		if (!emu_is_canonical(a) || !emu_is_canonical(a + size - 1))
			return seg_fault(ctx, seg);
		*la = a;
	} else {
		uint32_t type = EMU_AR_TYPE(s->ar);
		if (in_protected(ctx)) {
			if (s->ar & EMU_AR_UNUSABLE)
				return seg_fault(ctx, seg);
			if (acc & EMU_ACC_FETCH) {
				/* CS is a code segment by construction. */
			} else if (type & 8) {
				/* Code: never writable, readable if type.R. */
				if ((acc & EMU_ACC_WRITE) || !(type & 2))
					return seg_fault(ctx, seg);
			} else if ((acc & EMU_ACC_WRITE) && !(type & 2)) {
				return seg_fault(ctx, seg);
			}
		}
		uint64_t last = ea + size - 1;
		if (!(type & 8) && (type & 4) && (s->ar & EMU_AR_S)) {
			/* Expand-down data: valid offsets are limit+1 .. top. */
			uint64_t top = (s->ar & EMU_AR_DB) ? 0xffffffffull : 0xffff;
			if (ea <= s->limit || last > top)
				return seg_fault(ctx, seg);
		} else if (last > s->limit) {
			return seg_fault(ctx, seg);
		}
		*la = (s->base + ea) & 0xffffffffull;
	}
	/* Alignment check (SDM Vol. 3A 6.15, interrupt 17). */
	if (size > 1 && !(acc & (EMU_ACC_FETCH | EMU_ACC_SYS)) &&
	    (*la & (size - 1)) && ctx->cpu.cpl == 3 &&
	    (ctx->cpu.cr0 & EMU_CR0_AM) && (ctx->cpu.rflags & EMU_FLAG_AC))
		return emu_raise(ctx, EMU_EXC_AC, true, 0);
	return EMU_CONTINUE;
}

int emu_read_buf(struct emu_ctx *ctx, unsigned seg, uint64_t ea, void *buf,
		 unsigned size, unsigned acc)
{
	uint64_t la;
	TRY(emu_linear(ctx, seg, ea, size, acc, &la));
	const void *p = emu_tlb_read(ctx, la, size, acc);
	if (p) {
		memcpy(buf, p, size);
		return EMU_CONTINUE;
	}
	return ctx->ops->read(ctx, la, buf, size, acc);
}

int emu_write_buf(struct emu_ctx *ctx, unsigned seg, uint64_t ea, const void *buf,
		  unsigned size, unsigned acc)
{
	uint64_t la;
	TRY(emu_linear(ctx, seg, ea, size, acc | EMU_ACC_WRITE, &la));
	void *p = emu_tlb_write(ctx, la, size, acc | EMU_ACC_WRITE);
	if (p) {
		memcpy(p, buf, size);
		return EMU_CONTINUE;
	}
	return ctx->ops->write(ctx, la, buf, size, acc | EMU_ACC_WRITE);
}

int emu_read_mem(struct emu_ctx *ctx, unsigned seg, uint64_t ea, uint64_t *val,
		 unsigned size)
{
	uint64_t la;
	TRY(emu_linear(ctx, seg, ea, size, 0, &la));
	return la_read(ctx, la, val, size, 0);
}

int emu_write_mem(struct emu_ctx *ctx, unsigned seg, uint64_t ea, uint64_t val,
		  unsigned size)
{
	uint64_t la;
	TRY(emu_linear(ctx, seg, ea, size, EMU_ACC_WRITE, &la));
	return la_write(ctx, la, val, size, EMU_ACC_WRITE);
}

/* The memory halves of the operand helpers in exec.h. */
int emu_resolve_mem(struct emu_ctx *ctx, const struct emu_insn *insn,
		    unsigned acc, struct emu_opnd *o)
{
	o->mem = true;
	return emu_linear(ctx, insn->seg, emu_ea(ctx, insn), insn->opsize, acc, &o->la);
}

int emu_src_read_mem(struct emu_ctx *ctx, const struct emu_insn *insn,
		     unsigned size, uint64_t *v)
{
	return emu_read_mem(ctx, insn->seg, emu_ea(ctx, insn), v, size);
}

int emu_rmw_commit_locked(struct emu_ctx *ctx, const struct emu_opnd *o,
			  unsigned size, uint64_t old, uint64_t new)
{
	uint64_t cur = old;
	TRY(ctx->ops->cmpxchg(ctx, o->la, &cur, &new, size));
	return ((cur ^ old) & size_mask(size)) ? EMU_RMW_RETRY : EMU_CONTINUE;
}

/* ------------------------------------------------------------ stack */

static uint64_t sp_mask(const struct emu_ctx *ctx)
{
	return size_mask(stack_size(ctx));
}

void emu_sp_add(struct emu_ctx *ctx, int64_t delta)
{
	uint64_t m = sp_mask(ctx);
	uint64_t *sp = &ctx->cpu.gpr[EMU_RSP];
	*sp = (*sp & ~m) | ((*sp + (uint64_t)delta) & m);
}

int emu_push(struct emu_ctx *ctx, uint64_t val, unsigned size)
{
	uint64_t m = sp_mask(ctx);
	uint64_t sp = (ctx->cpu.gpr[EMU_RSP] - size) & m;
	TRY(emu_write_mem(ctx, EMU_SS, sp, val, size));
	ctx->cpu.gpr[EMU_RSP] = (ctx->cpu.gpr[EMU_RSP] & ~m) | sp;
	return EMU_CONTINUE;
}

int emu_stack_peek(struct emu_ctx *ctx, unsigned off, uint64_t *val, unsigned size)
{
	uint64_t sp = (ctx->cpu.gpr[EMU_RSP] + off) & sp_mask(ctx);
	return emu_read_mem(ctx, EMU_SS, sp, val, size);
}

int emu_pop(struct emu_ctx *ctx, uint64_t *val, unsigned size)
{
	TRY(emu_stack_peek(ctx, 0, val, size));
	emu_sp_add(ctx, size);
	return EMU_CONTINUE;
}
