/*
 * emu_run.c — run a case in emulate/: the same machine as the child's.
 *
 * The emulated CPU is a Linux user process at CPL 3 in 64-bit mode: flat
 * segments with the host's selector values, CR0.PE|PG, EFER.LME|LMA,
 * RFLAGS.IF set. Linear memory is two regions: the sandbox (read-write,
 * not executable) and the code page (read and execute, never written).
 * Anything else — including the state page the native side uses — is
 * unmapped, and every access outside the regions is a #PF raised by the
 * ops with the error code the host would report (P when the page exists,
 * W for writes and for the read of a read-modify-write, U always, I/D for
 * fetches), so a fault the native run took must happen here too.
 *
 * The run stops when RIP reaches the epilogue (the first byte after the
 * sequence), on an exception, on any other emu_step() result, or after
 * a step limit no correct run can reach.
 *
 * With -d the decode cache is used too, its code page invalidated before
 * every case (the page is rewritten for each case, as self-modifying code
 * would be): a mismatch that only shows without -c points at the cache's
 * invalidation rather than at decoding. With -r the case runs through
 * emu_run(), the interpreter loop (see run_loop()).
 */
#include <cpuid.h>
#include <stdio.h>
#include <string.h>

#include "difftest.h"

#define DT_EMU_MAX_STEPS 20000

#define PF_P (1u << 0)
#define PF_W (1u << 1)
#define PF_U (1u << 2)
#define PF_I (1u << 4)

static uint16_t host_sel[EMU_NR_SREGS];
static bool use_run;			/* -r */
#ifdef CONFIG_EMU_DECODE_CACHE
static struct emu_dcache *dcache;	/* -d */
#endif

struct dt_emu {
	struct emu_ctx ctx;
	const uint8_t *code;
	uint8_t *sb;
};

#define to_dt_emu(c) ((struct dt_emu *)((char *)(c) - offsetof(struct dt_emu, ctx)))

enum region { R_NONE, R_SB, R_CODE };

static enum region region_of(uint64_t la)
{
	if (la - DT_SB_BASE < DT_SB_SIZE)
		return R_SB;
	if (la - DT_CODE_BASE < DT_CODE_SIZE)
		return R_CODE;
	return R_NONE;
}

/* Check every byte of [la, la + size); raise #PF at the first bad one. */
static int check(struct emu_ctx *ctx, uint64_t la, unsigned size, bool write,
		 bool fetch)
{
	for (unsigned i = 0; i < size; i++) {
		uint64_t a = la + i;
		enum region r = region_of(a);
		bool ok = fetch ? r == R_CODE : write ? r == R_SB : r != R_NONE;

		if (!ok)
			return emu_raise_pf(ctx, a, PF_U | (write ? PF_W : 0) |
					    (fetch ? PF_I : 0) |
					    (r != R_NONE ? PF_P : 0));
	}
	return EMU_CONTINUE;
}

static uint8_t *host_ptr(struct dt_emu *de, uint64_t la)
{
	if (region_of(la) == R_SB)
		return de->sb + (la - DT_SB_BASE);
	return (uint8_t *)de->code + (la - DT_CODE_BASE);
}

/* Copy byte by byte: an access may span both regions' neighbours only
 * when it faults, which check() already reported. */
static int dt_emu_read(struct emu_ctx *ctx, uint64_t la, void *buf,
		       unsigned size, unsigned acc)
{
	struct dt_emu *de = to_dt_emu(ctx);
	int rc = check(ctx, la, size, acc & EMU_ACC_WRITE, false);

	if (rc != EMU_CONTINUE)
		return rc;
	for (unsigned i = 0; i < size; i++)
		((uint8_t *)buf)[i] = *host_ptr(de, la + i);
	return EMU_CONTINUE;
}

static int dt_emu_write(struct emu_ctx *ctx, uint64_t la, const void *buf,
			unsigned size, unsigned acc)
{
	struct dt_emu *de = to_dt_emu(ctx);
	int rc = check(ctx, la, size, true, false);

	if (rc != EMU_CONTINUE)
		return rc;
	for (unsigned i = 0; i < size; i++)
		*host_ptr(de, la + i) = ((const uint8_t *)buf)[i];
	return EMU_CONTINUE;
}

static int dt_emu_cmpxchg(struct emu_ctx *ctx, uint64_t la, void *old,
			  const void *new, unsigned size)
{
	struct dt_emu *de = to_dt_emu(ctx);
	uint8_t cur[16];
	int rc = check(ctx, la, size, true, false);

	if (rc != EMU_CONTINUE)
		return rc;
	if (size > sizeof(cur))
		return emu_raise(ctx, EMU_EXC_GP, true, 0);
	for (unsigned i = 0; i < size; i++)
		cur[i] = *host_ptr(de, la + i);
	if (!memcmp(cur, old, size))
		for (unsigned i = 0; i < size; i++)
			*host_ptr(de, la + i) = ((const uint8_t *)new)[i];
	memcpy(old, cur, size);
	return EMU_CONTINUE;
}

static int dt_emu_fetch(struct emu_ctx *ctx, uint64_t la, void *buf,
			unsigned size)
{
	struct dt_emu *de = to_dt_emu(ctx);
	int rc = check(ctx, la, size, false, true);

	if (rc != EMU_CONTINUE)
		return rc;
	memcpy(buf, host_ptr(de, la), size);
	return EMU_CONTINUE;
}

/* The emulated CPU reports the host's CPUID: the test compares against
 * this CPU, including which optional instructions exist. */
static int dt_emu_cpuid(struct emu_ctx *ctx, uint32_t leaf, uint32_t subleaf,
			uint32_t out[4])
{
	__cpuid_count(leaf, subleaf, out[0], out[1], out[2], out[3]);
	return EMU_CONTINUE;
}

static const struct emu_ops dt_emu_ops = {
	.read = dt_emu_read,
	.write = dt_emu_write,
	.cmpxchg = dt_emu_cmpxchg,
	.fetch = dt_emu_fetch,
	.cpuid = dt_emu_cpuid,
};

/* ------------------------------------------------------------ machine */

static void flat_seg(struct emu_segment *s, uint16_t sel, bool code)
{
	s->base = 0;
	s->limit = 0xffffffffu;
	s->sel = sel;
	s->ar = (code ? 0xbu : 0x3u) | EMU_AR_S | (3u << 5) | EMU_AR_P |
		EMU_AR_G | (code ? EMU_AR_L : EMU_AR_DB);
}

static void machine_init(struct emu_cpu *cpu)
{
	memset(cpu, 0, sizeof(*cpu));
	for (unsigned s = 0; s < EMU_NR_SREGS; s++)
		flat_seg(&cpu->seg[s], host_sel[s], s == EMU_CS);
	cpu->ldtr.ar = EMU_AR_UNUSABLE;
	cpu->tr.ar = 0xb | EMU_AR_P;		/* busy 64-bit TSS */
	cpu->tr.limit = 0x67;
	cpu->cr0 = 0x80050033ull;		/* PE MP ET NE WP AM PG, as Linux */
	cpu->cr4 = 0x20;			/* PAE */
	cpu->efer = EMU_EFER_SCE | (1ull << 8) | EMU_EFER_LMA | (1ull << 11);
	cpu->cpl = 3;
}

int dt_emu_init(void)
{
	struct emu_cpu cpu;
	uint16_t v;

	__asm__("mov %%es, %0" : "=r"(v)); host_sel[EMU_ES] = v;
	__asm__("mov %%cs, %0" : "=r"(v)); host_sel[EMU_CS] = v;
	__asm__("mov %%ss, %0" : "=r"(v)); host_sel[EMU_SS] = v;
	__asm__("mov %%ds, %0" : "=r"(v)); host_sel[EMU_DS] = v;
	__asm__("mov %%fs, %0" : "=r"(v)); host_sel[EMU_FS] = v;
	__asm__("mov %%gs, %0" : "=r"(v)); host_sel[EMU_GS] = v;
	machine_init(&cpu);
	if (emu_cpu_mode(&cpu) != EMU_MODE_64) {
		fprintf(stderr, "difftest: emu_cpu_mode() does not see 64-bit mode "
			"in a flat CS.L=1, EFER.LMA=1 machine\n");
		return -1;
	}
	return 0;
}

int dt_emu_use_dcache(void)
{
#ifdef CONFIG_EMU_DECODE_CACHE
	dcache = emu_dcache_create(10);
	if (dcache)
		return 0;
	fprintf(stderr, "difftest: emu_dcache_create() failed\n");
#else
	fprintf(stderr, "difftest: -d needs a build with CONFIG_EMU_DECODE_CACHE\n");
#endif
	return -1;
}

static void set_result(struct dt_emu *de, int rc, struct dt_result *r)
{
	if (rc == EMU_EXCEPTION) {
		r->status = DT_FAULT;
		r->vector = de->ctx.exc.vector;
		r->error_code = de->ctx.exc.has_error_code ? de->ctx.exc.error_code : 0;
		r->cr2 = de->ctx.exc.cr2;
	} else {
		r->status = DT_EMU_ERROR;
		snprintf(r->why, sizeof(r->why), "emu_%s() = %d%s%s",
			 use_run ? "run" : "step", rc,
			 rc == EMU_UNHANDLEABLE ? ": " : "",
			 rc == EMU_UNHANDLEABLE && de->ctx.unhandleable ?
			 de->ctx.unhandleable : "");
	}
}

/* emu_step() until the epilogue, recording the path for -u. */
static void step_loop(struct dt_emu *de, uint64_t end, struct dt_result *r)
{
	struct emu_cpu *cpu = &de->ctx.cpu;

	for (unsigned steps = 0;; steps++) {
		int rc;

		if (cpu->rip == end) {
			r->status = DT_END;
			return;
		}
		if (steps == DT_EMU_MAX_STEPS) {
			r->status = DT_EMU_RUNAWAY;
			snprintf(r->why, sizeof(r->why),
				 "no epilogue after %u steps", steps);
			return;
		}
		if (r->ntrace < DT_TRACE_MAX)
			r->trace[r->ntrace++] = (uint16_t)(cpu->rip - DT_SEQ_BASE);
		rc = emu_step(&de->ctx);
		if (rc != EMU_CONTINUE) {
			set_result(de, rc, r);
			return;
		}
	}
}

/*
 * -r: one emu_run(), the interpreter loop, which cannot be told where to
 * stop. The emulator's copy of the code page has HLT at the epilogue, so
 * the run ends there with #GP(0) (HLT at CPL 3) or EMU_HALT. No path is
 * recorded, so -u statistics are not available with -r.
 */
static void run_loop(struct dt_emu *de, uint64_t end, struct dt_result *r)
{
	struct emu_cpu *cpu = &de->ctx.cpu;
	int rc = emu_run(&de->ctx, DT_EMU_MAX_STEPS);

	r->ntrace = DT_TRACE_MAX;
	if ((rc == EMU_EXCEPTION && de->ctx.exc.vector == EMU_EXC_GP &&
	     cpu->rip == end) || (rc == EMU_HALT && cpu->rip == end + 1)) {
		cpu->rip = end;
		r->status = DT_END;
	} else if (rc == EMU_CONTINUE) {
		r->status = DT_EMU_RUNAWAY;
		snprintf(r->why, sizeof(r->why), "no epilogue after %u instructions",
			 DT_EMU_MAX_STEPS);
	} else {
		set_result(de, rc, r);
	}
}

void dt_emu_use_run(void)
{
	use_run = true;
}

/*
 * -r: a front TLB over the sandbox (read-write) and the code page (read
 * only), filled as hw/ fills one, so emu_run()'s fast paths that hit it
 * are compared with the host too. Key 1: CPL 3 (emu_tlb_key()).
 */
static void front_tlb(struct emu_tlb_entry *tlb, const uint8_t *code, uint8_t *sb)
{
	for (unsigned i = 0; i < EMU_TLB_SIZE; i++)
		tlb[i].read_tag = tlb[i].write_tag = EMU_TLB_INVALID;
	for (uint64_t la = DT_SB_BASE; la < DT_SB_END; la += 4096) {
		struct emu_tlb_entry *e = &tlb[(la >> 12) % EMU_TLB_SIZE];
		e->read_tag = e->write_tag = la | 1;
		e->addend = (uintptr_t)(sb + (la - DT_SB_BASE)) - (uintptr_t)la;
	}
	struct emu_tlb_entry *e = &tlb[(DT_CODE_BASE >> 12) % EMU_TLB_SIZE];
	e->read_tag = DT_CODE_BASE | 1;
	e->write_tag = EMU_TLB_INVALID;
	e->addend = (uintptr_t)code - (uintptr_t)DT_CODE_BASE;
}

void dt_emu_run(const struct dt_case *c, const uint8_t *code, uint8_t *sb,
		struct dt_result *r)
{
	static struct emu_tlb_entry tlb[EMU_TLB_SIZE];
	static uint8_t run_code[DT_CODE_SIZE];
	struct dt_emu de;
	struct emu_cpu *cpu = &de.ctx.cpu;
	uint64_t end = DT_SEQ_BASE + c->len;

	memset(&de, 0, sizeof(de));
	memset(r, 0, sizeof(*r));
	if (use_run) {
		memcpy(run_code, code, DT_CODE_SIZE);
		run_code[end - DT_CODE_BASE] = 0xf4;	/* HLT */
		code = run_code;
	}
	de.code = code;
	de.sb = sb;
	de.ctx.ops = &dt_emu_ops;
	if (use_run) {
		front_tlb(tlb, code, sb);
		de.ctx.tlb = tlb;
	}
#ifdef CONFIG_EMU_DECODE_CACHE
	if (dcache) {
		emu_dcache_invalidate_page(dcache, DT_CODE_BASE);
		de.ctx.dcache = dcache;
	}
#endif
	machine_init(cpu);
	memcpy(cpu->gpr, c->gpr, sizeof(cpu->gpr));
	cpu->rip = DT_SEQ_BASE;
	cpu->rflags = c->rflags;

	if (use_run)
		run_loop(&de, end, r);
	else
		step_loop(&de, end, r);
	memcpy(r->gpr, cpu->gpr, sizeof(r->gpr));
	r->rflags = cpu->rflags;
	r->rip = cpu->rip;
}
