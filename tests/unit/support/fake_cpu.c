/*
 * fake_cpu.c — the fake machine behind the executor's unit tests (see
 * fake_cpu.h for the memory layout). Ops record their calls in `fake`
 * so tests can check what the executor asked for.
 */
#include <string.h>

#include "tests/unit/support/fake_cpu.h"

struct fake_cpu fake;

static bool in_mem(uint64_t la, unsigned size)
{
	return la < FAKE_MEM_SIZE && size <= FAKE_MEM_SIZE - la;
}

static int f_read(struct emu_ctx *ctx, uint64_t la, void *buf, unsigned size,
		  unsigned acc)
{
	fake.read_count++;
	if (!in_mem(la, size))
		return emu_raise_pf(ctx, la, 0);
	memcpy(buf, fake.mem + la, size);
	return EMU_CONTINUE;
}

static int f_write(struct emu_ctx *ctx, uint64_t la, const void *buf,
		   unsigned size, unsigned acc)
{
	fake.write_count++;
	if (!in_mem(la, size))
		return emu_raise_pf(ctx, la, 2);
	if (acc & EMU_ACC_SYS)
		fake.sys_writes++;
	memcpy(fake.mem + la, buf, size);
	return EMU_CONTINUE;
}

static int f_fetch(struct emu_ctx *ctx, uint64_t la, void *buf, unsigned size)
{
	if (!in_mem(la, size))
		return emu_raise_pf(ctx, la, 0x10);
	memcpy(buf, fake.mem + la, size);
	return EMU_CONTINUE;
}

static int f_pio_in(struct emu_ctx *ctx, uint16_t port, void *val, unsigned size)
{
	fake.pio_dir = 'i';
	fake.pio_port = port;
	fake.pio_size = size;
	fake.pio_count++;
	if (fake.pio_result != EMU_CONTINUE)
		return fake.pio_result;
	memcpy(val, &fake.pio_in_val, size);
	return EMU_CONTINUE;
}

static int f_pio_out(struct emu_ctx *ctx, uint16_t port, const void *val,
		     unsigned size)
{
	fake.pio_dir = 'o';
	fake.pio_port = port;
	fake.pio_size = size;
	fake.pio_val = 0;
	memcpy(&fake.pio_val, val, size);
	fake.pio_count++;
	return fake.pio_result;
}

static int f_get_cr(struct emu_ctx *ctx, unsigned cr, uint64_t *v)
{
	switch (cr) {
	case 0: *v = ctx->cpu.cr0; break;
	case 2: *v = fake.cr2; break;
	case 3: *v = fake.cr3; break;
	case 4: *v = ctx->cpu.cr4; break;
	case 8: *v = fake.cr8; break;
	default: return emu_raise(ctx, EMU_EXC_UD, false, 0);
	}
	return EMU_CONTINUE;
}

static int f_set_cr(struct emu_ctx *ctx, unsigned cr, uint64_t v)
{
	fake.set_cr_count++;
	fake.last_cr = cr;
	switch (cr) {
	case 0: ctx->cpu.cr0 = v; break;
	case 2: fake.cr2 = v; break;
	case 3: fake.cr3 = v; break;
	case 4: ctx->cpu.cr4 = v; break;
	case 8: fake.cr8 = v; break;
	default: return emu_raise(ctx, EMU_EXC_UD, false, 0);
	}
	return EMU_CONTINUE;
}

static int f_get_dr(struct emu_ctx *ctx, unsigned dr, uint64_t *v)
{
	*v = fake.dr[dr & 7];
	return EMU_CONTINUE;
}

static int f_set_dr(struct emu_ctx *ctx, unsigned dr, uint64_t v)
{
	fake.dr[dr & 7] = v;
	return EMU_CONTINUE;
}

static struct fake_msr *find_msr(uint32_t index)
{
	for (unsigned i = 0; i < fake.nmsr; i++)
		if (fake.msr[i].index == index)
			return &fake.msr[i];
	return NULL;
}

static int f_rdmsr(struct emu_ctx *ctx, uint32_t msr, uint64_t *v)
{
	struct fake_msr *m = find_msr(msr);
	if (!m)
		return emu_raise(ctx, EMU_EXC_GP, true, 0);
	*v = m->val;
	return EMU_CONTINUE;
}

static int f_wrmsr(struct emu_ctx *ctx, uint32_t msr, uint64_t v)
{
	struct fake_msr *m = find_msr(msr);
	if (!m)
		return emu_raise(ctx, EMU_EXC_GP, true, 0);
	fake.wrmsr_count++;
	fake.last_wrmsr = msr;
	m->val = v;
	if (msr == 0xc0000080u)
		ctx->cpu.efer = v;
	return EMU_CONTINUE;
}

static int f_cpuid(struct emu_ctx *ctx, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	if (leaf == 0) {
		/* Vendor: GenuineIntel or AuthenticAMD. */
		out[0] = 0x16;
		out[1] = fake.amd ? 0x68747541 : 0x756e6547;
		out[2] = fake.amd ? 0x444d4163 : 0x6c65746e;
		out[3] = fake.amd ? 0x69746e65 : 0x49656e69;
		return EMU_CONTINUE;
	}
	fake.cpuid_leaf = leaf;
	fake.cpuid_subleaf = subleaf;
	memcpy(out, fake.cpuid_out, sizeof(fake.cpuid_out));
	return EMU_CONTINUE;
}

static int f_rdtsc(struct emu_ctx *ctx, uint64_t *tsc)
{
	*tsc = fake.tsc;
	return EMU_CONTINUE;
}

static int f_invlpg(struct emu_ctx *ctx, uint64_t la)
{
	fake.invlpg_la = la;
	fake.invlpg_count++;
	return EMU_CONTINUE;
}

static int f_invpcid(struct emu_ctx *ctx, unsigned type, uint64_t pcid, uint64_t la)
{
	fake.invpcid_type = type;
	fake.invpcid_pcid = pcid;
	fake.invpcid_la = la;
	fake.invpcid_count++;
	return EMU_CONTINUE;
}

static int f_cache_op(struct emu_ctx *ctx, unsigned op)
{
	fake.cache_op = (int)op;
	fake.cache_count++;
	return EMU_CONTINUE;
}

static int f_halt(struct emu_ctx *ctx) { fake.halt_count++; return EMU_CONTINUE; }
static int f_hypercall(struct emu_ctx *ctx) { fake.hypercall_count++; return EMU_CONTINUE; }
static int f_pause(struct emu_ctx *ctx) { fake.pause_count++; return EMU_CONTINUE; }

static void f_set_shadow(struct emu_ctx *ctx, bool mov_ss)
{
	fake.shadow_count++;
	fake.shadow_mov_ss = mov_ss;
}

static void f_mode_changed(struct emu_ctx *ctx) { fake.mode_changed_count++; }

static int f_rdpmc(struct emu_ctx *ctx, uint32_t ecx, uint64_t *val)
{
	fake.pmc_ecx = ecx;
	fake.rdpmc_count++;
	*val = fake.pmc_val;
	return EMU_CONTINUE;
}

static int f_monitor(struct emu_ctx *ctx, uint64_t la, uint32_t ecx, uint32_t edx)
{
	fake.monitor_la = la;
	fake.monitor_ecx = ecx;
	fake.monitor_edx = edx;
	fake.monitor_count++;
	return EMU_CONTINUE;
}

static int f_mwait(struct emu_ctx *ctx, uint32_t eax, uint32_t ecx)
{
	fake.mwait_eax = eax;
	fake.mwait_ecx = ecx;
	fake.mwait_count++;
	return fake.mwait_result;
}

static int f_virt_insn(struct emu_ctx *ctx, const struct emu_insn *insn)
{
	fake.virt_insn = *insn;
	fake.virt_count++;
	return fake.virt_result;
}

static int f_intercept(struct emu_ctx *ctx, unsigned what)
{
	if (what < EMU_NR_ICPTS)
		fake.icpt_count[what]++;
	fake.icpt_calls++;
	fake.icpt_what = what;
	fake.icpt_mem_before = fake.read_count + fake.write_count;
	return fake.icpt_result;
}

static const struct emu_ops fake_ops = {
	.read = f_read,
	.write = f_write,
	.fetch = f_fetch,
	.pio_in = f_pio_in,
	.pio_out = f_pio_out,
	.get_cr = f_get_cr,
	.set_cr = f_set_cr,
	.get_dr = f_get_dr,
	.set_dr = f_set_dr,
	.rdmsr = f_rdmsr,
	.wrmsr = f_wrmsr,
	.cpuid = f_cpuid,
	.rdtsc = f_rdtsc,
	.invlpg = f_invlpg,
	.invpcid = f_invpcid,
	.cache_op = f_cache_op,
	.halt = f_halt,
	.hypercall = f_hypercall,
	.pause = f_pause,
	.set_shadow = f_set_shadow,
	.mode_changed = f_mode_changed,
	.rdpmc = f_rdpmc,
	.monitor = f_monitor,
	.mwait = f_mwait,
	.virt_insn = f_virt_insn,
	.intercept = f_intercept,
};

/* ------------------------------------------------------------ memory */

void fake_w8(uint64_t a, uint8_t v) { fake.mem[a] = v; }
void fake_w16(uint64_t a, uint16_t v) { memcpy(fake.mem + a, &v, 2); }
void fake_w32(uint64_t a, uint32_t v) { memcpy(fake.mem + a, &v, 4); }
void fake_w64(uint64_t a, uint64_t v) { memcpy(fake.mem + a, &v, 8); }
uint16_t fake_r16(uint64_t a) { uint16_t v; memcpy(&v, fake.mem + a, 2); return v; }
uint32_t fake_r32(uint64_t a) { uint32_t v; memcpy(&v, fake.mem + a, 4); return v; }
uint64_t fake_r64(uint64_t a) { uint64_t v; memcpy(&v, fake.mem + a, 8); return v; }

/* ------------------------------------------------------------ descriptors */

static uint64_t desc_addr(uint16_t sel)
{
	return ((sel & 4) ? FAKE_LDT : FAKE_GDT) + (sel & ~7u);
}

void fake_set_desc(uint16_t sel, uint32_t base, uint32_t limit, uint32_t ar)
{
	uint32_t lo = (base << 16) | (limit & 0xffff);
	uint32_t hi = ((base >> 16) & 0xff) | (base & 0xff000000u) | (limit & 0xf0000) |
		      ((ar & 0xf0ff) << 8);
	fake_w32(desc_addr(sel), lo);
	fake_w32(desc_addr(sel) + 4, hi);
}

void fake_set_sysdesc64(uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
	fake_set_desc(sel, (uint32_t)base, limit, ar);
	fake_w32(desc_addr(sel) + 8, (uint32_t)(base >> 32));
	fake_w32(desc_addr(sel) + 12, 0);
}

void fake_set_gate(uint16_t sel, uint16_t target, uint64_t off, unsigned type,
		   unsigned dpl, unsigned params)
{
	uint32_t lo = ((uint32_t)target << 16) | (off & 0xffff);
	uint32_t hi = ((uint32_t)off & 0xffff0000u) | 0x8000 | (dpl << 13) |
		      (type << 8) | (params & 0x1f);
	fake_w32(desc_addr(sel), lo);
	fake_w32(desc_addr(sel) + 4, hi);
}

void fake_set_gate64(uint16_t sel, uint16_t target, uint64_t off, unsigned dpl)
{
	fake_set_gate(sel, target, off, 12, dpl, 0);
	fake_w32(desc_addr(sel) + 8, (uint32_t)(off >> 32));
	fake_w32(desc_addr(sel) + 12, 0);
}

uint32_t fake_desc_hi(uint16_t sel)
{
	return fake_r32(desc_addr(sel) + 4);
}

struct emu_segment fake_seg(uint16_t sel)
{
	uint32_t lo = fake_r32(desc_addr(sel)), hi = fake_desc_hi(sel);
	uint32_t lim = (lo & 0xffff) | (hi & 0xf0000);
	struct emu_segment s = {
		.sel = sel,
		.base = (lo >> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000u),
		.limit = (hi & (1u << 23)) ? (lim << 12) | 0xfff : lim,
		.ar = (hi >> 8) & 0xf0ff,
	};
	return s;
}

/* ------------------------------------------------------------ MSRs */

void fake_set_msr(uint32_t index, uint64_t val)
{
	struct fake_msr *m = find_msr(index);
	if (!m) {
		assert_true(fake.nmsr < sizeof(fake.msr) / sizeof(fake.msr[0]));
		m = &fake.msr[fake.nmsr++];
		m->index = index;
	}
	m->val = val;
}

uint64_t fake_get_msr(uint32_t index)
{
	struct fake_msr *m = find_msr(index);
	assert_non_null(m);
	return m->val;
}

/* ------------------------------------------------------------ modes */

static void load_tables(bool wide)
{
	memset(fake.mem + FAKE_GDT, 0, 0x200);
	fake_set_desc(SEL_CODE32, 0, 0xfffff, AR_CODE32(0));
	fake_set_desc(SEL_DATA32, 0, 0xfffff, AR_DATA32(0));
	fake_set_desc(SEL_CODE32_3, 0, 0xfffff, AR_CODE32(3));
	fake_set_desc(SEL_DATA32_3, 0, 0xfffff, AR_DATA32(3));
	fake_set_desc(SEL_CODE64, 0, 0xfffff, AR_CODE64(0));
	fake_set_desc(SEL_CODE64_3, 0, 0xfffff, AR_CODE64(3));
	fake_set_desc(SEL_CODE16, 0, 0xffff, 0x9b);
	if (wide) {
		fake_set_sysdesc64(SEL_TSS, FAKE_TSS, 0x2068, 0x8b);
		fake_set_sysdesc64(SEL_LDT, FAKE_LDT, 0xff, 0x82);
	} else {
		fake_set_desc(SEL_TSS, FAKE_TSS, 0x2068, 0x8b);
		fake_set_desc(SEL_LDT, FAKE_LDT, 0xff, 0x82);
	}
	CPU.gdtr.base = FAKE_GDT;
	CPU.gdtr.limit = 0xff;
	CPU.idtr.base = 0x3000;
	CPU.idtr.limit = 0x7ff;
	CPU.ldtr.sel = SEL_LDT;
	CPU.ldtr.base = FAKE_LDT;
	CPU.ldtr.limit = 0xff;
	CPU.ldtr.ar = 0x82;
	CPU.tr.sel = SEL_TSS;
	CPU.tr.base = FAKE_TSS;
	CPU.tr.limit = 0x2068;
	CPU.tr.ar = 0x8b;
	/* TSS: I/O bitmap at +0x68 allowing everything, then the 0xff
	 * terminator byte; ring 0 stack at FAKE_STACK0. */
	memset(fake.mem + FAKE_TSS, 0, 0x2069);
	fake_w16(FAKE_TSS + 102, FAKE_IOMAP);
	fake_w8(FAKE_TSS + 0x2068, 0xff);
	if (wide) {
		fake_w64(FAKE_TSS + 4, FAKE_STACK0);
	} else {
		fake_w32(FAKE_TSS + 4, FAKE_STACK0);
		fake_w32(FAKE_TSS + 8, SEL_DATA32);
	}
}

static void load_flat(unsigned cpl, uint16_t cs)
{
	const uint16_t ds = cpl ? SEL_DATA32_3 | 3 : SEL_DATA32;
	for (unsigned i = 0; i < EMU_NR_SREGS; i++)
		CPU.seg[i] = fake_seg(ds & ~3u);
	for (unsigned i = 0; i < EMU_NR_SREGS; i++)
		CPU.seg[i].sel = ds;
	CPU.seg[EMU_CS] = fake_seg(cs);
	CPU.seg[EMU_CS].sel = (uint16_t)(cs | cpl);
	CPU.cpl = (uint8_t)cpl;
	CPU.rip = FAKE_CODE;
	CPU.gpr[EMU_RSP] = FAKE_STACK;
	CPU.rflags = EMU_FLAG_FIXED;
}

void fake_mode_prot32(unsigned cpl)
{
	CPU.cr0 = EMU_CR0_PE | 0x10;
	CPU.cr4 = 0;
	CPU.efer = 0;
	load_tables(false);
	load_flat(cpl, cpl ? SEL_CODE32_3 : SEL_CODE32);
}

void fake_mode_long(unsigned cpl)
{
	CPU.cr0 = EMU_CR0_PE | 0x10 | (1ull << 31);
	CPU.cr4 = 1u << 5;
	CPU.efer = (1u << 8) | EMU_EFER_LMA;
	load_tables(true);
	load_flat(cpl, cpl ? SEL_CODE64_3 : SEL_CODE64);
}

void fake_mode_compat(unsigned cpl)
{
	fake_mode_long(cpl);
	load_flat(cpl, cpl ? SEL_CODE32_3 : SEL_CODE32);
}

static void real_seg(struct emu_segment *s, uint16_t sel, uint32_t ar)
{
	s->sel = sel;
	s->base = (uint64_t)sel << 4;
	s->limit = 0xffff;
	s->ar = ar;
}

void fake_mode_real(void)
{
	CPU.cr0 = 0x10;
	CPU.cr4 = 0;
	CPU.efer = 0;
	load_tables(false);
	for (unsigned i = 0; i < EMU_NR_SREGS; i++)
		real_seg(&CPU.seg[i], FAKE_DATA >> 4, 0x93);
	real_seg(&CPU.seg[EMU_SS], 0, 0x93);
	real_seg(&CPU.seg[EMU_CS], FAKE_CODE >> 4, 0x9b);
	CPU.cpl = 0;
	CPU.rip = 0;
	CPU.gpr[EMU_RSP] = FAKE_STACK;
	CPU.rflags = EMU_FLAG_FIXED;
}

void fake_mode_vm86(unsigned iopl)
{
	fake_mode_real();
	CPU.cr0 = EMU_CR0_PE | 0x10;
	for (unsigned i = 0; i < EMU_NR_SREGS; i++)
		CPU.seg[i].ar = 0xf3;
	CPU.cpl = 3;
	CPU.rflags = EMU_FLAG_FIXED | EMU_FLAG_VM | ((uint64_t)iopl << 12);
}

int fake_setup(void **state)
{
	memset(&fake, 0, sizeof(fake));
	fake.ops = fake_ops;
	fake.ctx.ops = &fake.ops;
	fake.pio_result = EMU_CONTINUE;
	fake_mode_prot32(0);
	return 0;
}

int fake_run(const uint8_t *bytes, size_t n)
{
	uint64_t la = CPU.seg[EMU_CS].base + CPU.rip;
	if (emu_cpu_mode(&CPU) == EMU_MODE_64)
		la = CPU.rip;
	assert_true(la + n + 16 <= FAKE_MEM_SIZE);
	memcpy(fake.mem + la, bytes, n);
	return emu_step(&fake.ctx);
}
