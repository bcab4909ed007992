/*
 * fuzz_emulate.c — libFuzzer target: decode + execute arbitrary bytes.
 *
 * Input layout: byte 0 picks the machine state (bits 0-1: real mode,
 * 16-bit protected, 32-bit protected, 64-bit; bit 2: CPL 3; bit 3:
 * DF; bit 4: CR0.AM+RFLAGS.AC; bit 5: run through the decode cache, with
 * the code page invalidated after every write to it), bytes 1..128 seed
 * the 16 GPRs, the rest
 * is code, placed at the start of a 64 KiB flat memory that also holds
 * data and the stack. The engine runs at most STEPS instructions with a
 * bounded REP (rep_limit) through permissive fake ops, so every input
 * terminates. The oracle is the sanitizers plus the engine's own
 * invariants: a result is one of enum emu_result, an exception vector is
 * architectural, and rip moves only as results allow.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "emulate/emulate.h"

#define MEM 0x10000
#define STEPS 256

struct fz {
	struct emu_ctx ctx;
	uint8_t mem[MEM];
};

#define to_fz(c) ((struct fz *)((char *)(c) - offsetof(struct fz, ctx)))

static int fz_read(struct emu_ctx *c, uint64_t la, void *buf, unsigned size, unsigned acc)
{
	if (la >= MEM || size > MEM - la)
		return emu_raise_pf(c, la, (acc & EMU_ACC_WRITE) ? 2 : 0);
	memcpy(buf, to_fz(c)->mem + la, size);
	return EMU_CONTINUE;
}

static int fz_write(struct emu_ctx *c, uint64_t la, const void *buf, unsigned size, unsigned acc)
{
	if (la >= MEM || size > MEM - la)
		return emu_raise_pf(c, la, 2);
	memcpy(to_fz(c)->mem + la, buf, size);
#ifdef CONFIG_EMU_DECODE_CACHE
	if (c->dcache) {
		emu_dcache_invalidate_page(c->dcache, la);
		emu_dcache_invalidate_page(c->dcache, la + size - 1);
	}
#endif
	return EMU_CONTINUE;
}

static int fz_fetch(struct emu_ctx *c, uint64_t la, void *buf, unsigned size)
{
	return fz_read(c, la, buf, size, EMU_ACC_FETCH);
}

static int fz_in(struct emu_ctx *c, uint16_t port, void *val, unsigned size)
{
	memset(val, 0xff, size);
	return EMU_CONTINUE;
}

static int fz_out(struct emu_ctx *c, uint16_t port, const void *val, unsigned size)
{
	return EMU_CONTINUE;
}

static int fz_get_cr(struct emu_ctx *c, unsigned cr, uint64_t *v)
{
	*v = cr == 0 ? c->cpu.cr0 : cr == 4 ? c->cpu.cr4 : 0;
	return EMU_CONTINUE;
}

static int fz_set_cr(struct emu_ctx *c, unsigned cr, uint64_t v)
{
	if (cr == 0)
		c->cpu.cr0 = v;
	else if (cr == 4)
		c->cpu.cr4 = v;
	return EMU_CONTINUE;
}

static int fz_get_dr(struct emu_ctx *c, unsigned dr, uint64_t *v)
{
	*v = 0;
	return EMU_CONTINUE;
}

static int fz_set_dr(struct emu_ctx *c, unsigned dr, uint64_t v)
{
	return EMU_CONTINUE;
}

static int fz_rdmsr(struct emu_ctx *c, uint32_t msr, uint64_t *v)
{
	if (msr & 1)
		return emu_raise(c, 13, true, 0);
	*v = msr * 0x1234567ull;
	return EMU_CONTINUE;
}

static int fz_wrmsr(struct emu_ctx *c, uint32_t msr, uint64_t v)
{
	if (msr == 0xc0000080)
		c->cpu.efer = v;
	return (msr & 1) ? emu_raise(c, 13, true, 0) : EMU_CONTINUE;
}

static int fz_cpuid(struct emu_ctx *c, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
	out[0] = leaf; out[1] = sub; out[2] = out[3] = 0;
	return EMU_CONTINUE;
}

static int fz_rdtsc(struct emu_ctx *c, uint64_t *tsc)
{
	*tsc = c->icount;
	return EMU_CONTINUE;
}

static int fz_ok(struct emu_ctx *c)
{
	return EMU_CONTINUE;
}

static int fz_invlpg(struct emu_ctx *c, uint64_t la)
{
	return EMU_CONTINUE;
}

static int fz_invpcid(struct emu_ctx *c, unsigned type, uint64_t pcid, uint64_t la)
{
	return EMU_CONTINUE;
}

static int fz_cache(struct emu_ctx *c, unsigned op)
{
	return EMU_CONTINUE;
}

static int fz_cmpxchg(struct emu_ctx *c, uint64_t la, void *old, const void *new, unsigned size)
{
	uint8_t cur[16];
	if (la >= MEM || size > MEM - la)
		return emu_raise_pf(c, la, 2);
	memcpy(cur, to_fz(c)->mem + la, size);
	bool equal = !memcmp(cur, old, size);
	memcpy(old, cur, size);
	return equal ? fz_write(c, la, new, size, EMU_ACC_WRITE) : EMU_CONTINUE;
}

static const struct emu_ops fz_ops = {
	.read = fz_read, .write = fz_write, .fetch = fz_fetch, .cmpxchg = fz_cmpxchg,
	.pio_in = fz_in, .pio_out = fz_out,
	.get_cr = fz_get_cr, .set_cr = fz_set_cr, .get_dr = fz_get_dr, .set_dr = fz_set_dr,
	.rdmsr = fz_rdmsr, .wrmsr = fz_wrmsr, .cpuid = fz_cpuid, .rdtsc = fz_rdtsc,
	.invlpg = fz_invlpg, .invpcid = fz_invpcid, .cache_op = fz_cache,
	.halt = fz_ok, .hypercall = fz_ok, .pause = fz_ok,
};

static void set_flat(struct emu_segment *s, uint32_t ar, uint16_t sel)
{
	s->base = 0;
	s->limit = 0xffffffff;
	s->ar = ar;
	s->sel = sel;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz f;
	if (size < 1 + 128)
		return 0;
	memset(&f.ctx, 0, sizeof(f.ctx));
	memset(f.mem, 0, sizeof(f.mem));
	struct emu_cpu *c = &f.ctx.cpu;
	const unsigned sel = data[0];
	const unsigned kind = sel & 3, cpl = (sel & 4) ? 3 : 0;

	memcpy(c->gpr, data + 1, 128);
	size_t code = size - 129 < MEM ? size - 129 : MEM;
	memcpy(f.mem, data + 129, code);
	c->rflags = EMU_FLAG_FIXED | ((sel & 8) ? EMU_FLAG_DF : 0) |
		    ((sel & 16) ? EMU_FLAG_AC : 0) | (c->gpr[0] & 0x8d5);
	c->cr0 = (sel & 16) ? EMU_CR0_AM : 0;
	c->gpr[EMU_RSP] = 0x8000 + (c->gpr[EMU_RSP] & 0xff0);
	if (kind == 0) {		/* real mode */
		for (int s = 0; s < EMU_NR_SREGS; s++) {
			c->seg[s].limit = 0xffff;
			c->seg[s].ar = s == EMU_CS ? 0x9b : 0x93;
		}
	} else {
		uint32_t dpl = cpl << 5, db = kind >= 2 ? EMU_AR_DB : 0;
		c->cr0 |= EMU_CR0_PE;
		for (int s = 0; s < EMU_NR_SREGS; s++)
			set_flat(&c->seg[s], 0x93 | dpl | EMU_AR_G | db, (uint16_t)(0x10 | cpl));
		set_flat(&c->seg[EMU_CS], 0x9b | dpl | EMU_AR_G | db, (uint16_t)(0x8 | cpl));
		if (kind == 3) {
			c->efer = EMU_EFER_LMA | (1ull << 8);
			c->cr0 |= 1ull << 31;
			c->seg[EMU_CS].ar = 0x9b | dpl | EMU_AR_G | EMU_AR_L;
		}
		c->cpl = (uint8_t)cpl;
	}
	f.ctx.ops = &fz_ops;
	f.ctx.rep_limit = 4096;
#ifdef CONFIG_EMU_DECODE_CACHE
	static struct emu_dcache *dc;
	if (!dc)
		dc = emu_dcache_create(6);
	emu_dcache_flush(dc);
	f.ctx.dcache = (sel & 32) ? dc : NULL;
#endif

	for (int i = 0; i < STEPS; i++) {
		int r = emu_step(&f.ctx);
		if (r == EMU_CONTINUE)
			continue;
		if (r == EMU_EXCEPTION) {
			if (f.ctx.exc.vector > 31)
				if (f.ctx.exc.kind != EMU_EVENT_SOFTINT)
					abort();
			break;
		}
		if (r == EMU_HALT || r == EMU_IO_NEEDED || r == EMU_STOP)
			break;
		if (r == EMU_UNHANDLEABLE) {
			if (!f.ctx.unhandleable)
				abort();
			break;
		}
		abort();	/* not an enum emu_result */
	}
	return 0;
}
