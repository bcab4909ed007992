/*
 * io.c — port I/O protection and IN/OUT (SDM Vol. 1 19.5 I/O privilege
 * level and I/O permission bit map; Vol. 2A IN, Vol. 2B OUT; Vol. 3A
 * 20.2.8.1 I/O in virtual-8086 mode).
 *
 *   mode                    check
 *   real                    none
 *   protected, CPL <= IOPL  none
 *   protected, CPL > IOPL   I/O permission bitmap
 *   vm86                    I/O permission bitmap (IOPL is not consulted)
 *
 * The bitmap lives in a 32-bit (or 64-bit) TSS: its offset is the word
 * at TSS offset 102, and every bit for ports port..port+size-1 must be
 * clear. The processor reads the two bytes that hold those bits; if
 * either lies beyond the TSS limit, or the TSS is a 16-bit one or too
 * short to hold the offset (limit < 103), access is denied: #GP(0).
 */
#include "emulate/sys.h"

int emu_io_check(struct emu_ctx *ctx, uint16_t port, unsigned size)
{
	const struct emu_segment *tr = &ctx->cpu.tr;
	const unsigned type = EMU_AR_TYPE(tr->ar);
	uint64_t map, bits;

	if (in_real_mode(ctx))
		return EMU_CONTINUE;
	if (!in_vm86(ctx) && ctx->cpu.cpl <= emu_iopl(ctx))
		return EMU_CONTINUE;
	if ((tr->ar & EMU_AR_UNUSABLE) ||
	    (type != EMU_DT_TSS_AVL && type != EMU_DT_TSS_BUSY) || tr->limit < 103)
		return raise_gp0(ctx);
	TRY(la_read(ctx, tr->base + 102, &map, 2, EMU_ACC_SYS));
	const uint64_t off = map + port / 8;
	if (off + 1 > tr->limit)
		return raise_gp0(ctx);
	TRY(la_read(ctx, tr->base + off, &bits, 2, EMU_ACC_SYS));
	if ((bits >> (port & 7)) & ((1u << size) - 1))
		return raise_gp0(ctx);
	return EMU_CONTINUE;
}

static uint16_t port_of(const struct emu_ctx *ctx, const struct emu_insn *insn,
			enum emu_loc loc)
{
	if (loc == EMU_LOC_DX)
		return (uint16_t)ctx->cpu.gpr[EMU_RDX];
	return (uint16_t)(insn->imm & 0xff);
}

/* IN AL/AX/EAX, imm8 or DX. A 32-bit read zero-extends into RAX. */
EMU_HANDLER(in)
{
	const uint16_t port = port_of(ctx, insn, insn->src);
	const unsigned size = insn->opsize;
	uint64_t v = 0;

	TRY(emu_io_check(ctx, port, size));
	if (!ctx->ops->pio_in)
		return raise_ud(ctx);
	TRY(ctx->ops->pio_in(ctx, port, &v, size));
	gpr_set(ctx, EMU_RAX, size, v);
	return EMU_CONTINUE;
}

/* OUT imm8 or DX, AL/AX/EAX. */
EMU_HANDLER(out)
{
	const uint16_t port = port_of(ctx, insn, insn->dst);
	const unsigned size = insn->opsize;
	const uint64_t v = gpr_get(ctx, EMU_RAX, size);

	TRY(emu_io_check(ctx, port, size));
	if (!ctx->ops->pio_out)
		return raise_ud(ctx);
	return ctx->ops->pio_out(ctx, port, &v, size);
}
