/*
 * test_hw_svm_exits_io.c — the IOIO and MSR intercepts of an SVM guest,
 * end to end on the model: IN/OUT/INS/OUTS against the I/O permissions
 * map (VMEXIT_IOIO 0x7b) and RDMSR/WRMSR against the MSR permissions map
 * (VMEXIT_MSR 0x7c), with the intercept bits and map bits off and on.
 *
 * Truth is the APM's, as literals: Vol. 2 Table B-1 (vector 3: IOIO_PROT
 * bit 27, MSR_PROT bit 28), Appendix C, 15.10.1 (IOPM: one bit per port,
 * every port a multi-byte access touches is checked), 15.10.2 and Figure
 * 15-2 (EXITINFO1: bit 0 TYPE 1 = IN, 2 STR, 3 REP, 4-6 SZ8/16/32, 7-9
 * A16/32/64, 12:10 SEG of OUTS (ES = 0 .. GS = 5), 31:16 port; EXITINFO2
 * = rIP of the next instruction; vm86/IOPL/TSS-bitmap exceptions come
 * before the intercept, all others after), 15.10.3 (OUTS: the effective
 * segment, DS by default; INS: ES = 0), 15.11 and Table 15-8 (MSRPM: vectors
 * of two bits per MSR - even RDMSR, odd WRMSR - at bytes 0x000, 0x800,
 * 0x1000 for MSRs 0-1fff, c0000000-c0001fff, c0010000-c0011fff; every
 * other MSR is intercepted; EXITINFO1 0 = RDMSR, 1 = WRMSR; the map is
 * checked before the MSR's own exceptions). Ports with
 * no intercept reach the model's platform, which has no devices: reads
 * float to all ones (hw/ops.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hw/svm.h"
#include "tests/support/hwguest.h"
#include "test_hw_svm_exits.h"

#define CODE	0x10000ull
#define BUF	0x20000ull
#define STACK	0x80000ull

#define V3_IOIO_PROT	(1u << 27)
#define V3_MSR_PROT	(1u << 28)

#define EXIT_EXCP(v)	(0x40 + (v))
#define EXIT_HLT	0x78
#define EXIT_IOIO	0x7b
#define EXIT_MSR	0x7c

#define GP 13

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI };

static uint8_t *iopm(void)
{
	uint8_t *p = hw_hpa_ptr(g.m, vmcb()->control.iopm_base_pa & ~0xfffull, 12 << 10);
	assert_non_null(p);
	return p;
}

static uint8_t *msrpm(void)
{
	uint8_t *p = hw_hpa_ptr(g.m, vmcb()->control.msrpm_base_pa & ~0xfffull, 8 << 10);
	assert_non_null(p);
	return p;
}

static void iopm_set(unsigned port, bool on)
{
	uint8_t *b = &iopm()[port / 8];
	*b = (uint8_t)(on ? *b | (1u << (port % 8)) : *b & ~(1u << (port % 8)));
}

/* @code followed by HLT at CODE, entered there. */
static void load1(const uint8_t *code, size_t len)
{
	uint8_t buf[32];
	memcpy(buf, code, len);
	buf[len] = 0xf4;
	hwg_load(&g, CODE, buf, len + 1);
	hwg_set_entry(&g, CODE, STACK);
}

static const uint64_t sentinel[8] = {
	0x1122334455667700ull, 3, 0, 0x4444444444444444ull, STACK, 0x6666ull,
	BUF, BUF + 0x100,
};

/* RAX, RCX (a REP count), RDX = @dx, RBX, RBP, RSI, RDI (string buffers). */
static void set_regs(uint64_t dx)
{
	for (unsigned r = 0; r < 8; r++)
		if (r != RSP)
			hwg_set_gpr(&g, r, r == RDX ? dx : sentinel[r]);
}

static void assert_regs(uint64_t dx)
{
	for (unsigned r = 0; r < 8; r++)
		assert_int_equal(hwg_gpr(&g, r), r == RDX ? dx : sentinel[r]);
}

/* ------------------------------------------------------------ IOIO EXITINFO */

struct io_case {
	uint8_t insn[6];
	unsigned len;
	uint16_t dx;
	uint64_t info1;
};

/* One instruction, every port intercepted (the harness's IOPM): the exit
 * before anything moves, EXITINFO1 as Figure 15-2, EXITINFO2 = nRIP =
 * the next instruction. */
static void check_io(const struct io_case *c)
{
	load1(c->insn, c->len);
	set_regs(c->dx);
	assert_int_equal(run(), EXIT_IOIO);
	assert_int_equal(vmcb()->control.exitinfo1, c->info1);
	assert_int_equal(vmcb()->control.exitinfo2, CODE + c->len);
	assert_int_equal(vmcb()->control.next_rip, CODE + c->len);
	assert_int_equal(hwg_rip(&g), CODE);
	assert_regs(c->dx);
}

static void ioio_in_out_exitinfo(void **state)
{
	static const struct io_case c[] = {
		{ { 0xec }, 1, 0x1234, 0x12340211 },		/* in al, dx */
		{ { 0x66, 0xed }, 2, 0x1234, 0x12340221 },	/* in ax, dx */
		{ { 0xed }, 1, 0x1234, 0x12340241 },		/* in eax, dx */
		{ { 0xe4, 0x80 }, 2, 0, 0x00800211 },		/* in al, 0x80 */
		{ { 0xe5, 0xfe }, 2, 0, 0x00fe0241 },		/* in eax, 0xfe */
		{ { 0xee }, 1, 0xcf8, 0x0cf80210 },		/* out dx, al */
		{ { 0x66, 0xef }, 2, 0xcfc, 0x0cfc0220 },	/* out dx, ax */
		{ { 0xe6, 0x80 }, 2, 0, 0x00800210 },		/* out 0x80, al */
		{ { 0xe7, 0x70 }, 2, 0, 0x00700240 },		/* out 0x70, eax */
	};
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		check_io(&c[i]);
}

/* String forms: STR, REP, the address size, and for OUTS the segment. */
static void ioio_string_exitinfo(void **state)
{
	static const struct io_case c[] = {
		{ { 0x6c }, 1, 0x60, 0x00600215 },		/* insb */
		{ { 0xf3, 0x6d }, 2, 0x60, 0x0060024d },	/* rep insd */
		{ { 0x6e }, 1, 0x60, 0x00600e14 },		/* outsb: DS (3) */
		{ { 0x64, 0xf3, 0x66, 0x6f }, 4, 0x60, 0x0060122c },	/* fs rep outsw */
		{ { 0x65, 0x6f }, 2, 0x60, 0x00601644 },	/* gs outsd */
		{ { 0x67, 0xf3, 0x6e }, 3, 0x60, 0x00600d1c },	/* addr32 rep outsb */
		{ { 0x67, 0x6c }, 2, 0x61, 0x00610115 },	/* addr32 insb */
	};
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		check_io(&c[i]);
}

/*
 * 15.10.2: only the vm86, IOPL and TSS-bitmap exceptions come before the
 * IOIO intercept; "all other exceptions are checked after". INS and
 * OUTS whose buffer is on an unmapped page exit instead of faulting.
 */
static void ioio_intercept_before_string_fault(void **state)
{
	static const uint8_t insb[] = { 0x6c };
	static const uint8_t outsb[] = { 0x6e };
	vmcb()->control.intercept_exceptions = 1u << 14;		/* #PF */

	load1(insb, 1);
	set_regs(0x60);
	hwg_set_gpr(&g, RDI, 0x40000000);
	assert_int_equal(run(), EXIT_IOIO);
	assert_int_equal(vmcb()->control.exitinfo1, 0x00600215);

	load1(outsb, 1);
	set_regs(0x60);
	hwg_set_gpr(&g, RSI, 0x40000000);
	assert_int_equal(run(), EXIT_IOIO);
	assert_int_equal(vmcb()->control.exitinfo1, 0x00600e14);
}

/* ------------------------------------------------------------ IOPM */

/* Clear bits: no exit. IN from a port nothing decodes reads all ones
 * (IN AL keeps RAX[63:8]; IN EAX zero-extends), OUT goes nowhere. */
static void iopm_clear_bits_do_not_exit(void **state)
{
	static const uint8_t code[] = {
		0xec,			/* in al, dx */
		0x48, 0x89, 0xc3,	/* mov rbx, rax */
		0xed,			/* in eax, dx */
		0xee,			/* out dx, al */
		0xf4,
	};
	for (unsigned p = 0x1234; p < 0x1238; p++)
		iopm_set(p, false);
	hwg_load(&g, CODE, code, sizeof(code));
	hwg_set_entry(&g, CODE, STACK);
	set_regs(0x1234);
	assert_int_equal(run(), EXIT_HLT);
	assert_int_equal(hwg_rip(&g), CODE + 6);
	assert_int_equal(hwg_gpr(&g, RBX), 0x11223344556677ffull);
	assert_int_equal(hwg_gpr(&g, RAX), 0xffffffffull);

	/* The neighbour 0x1238 is still intercepted. */
	set_regs(0x1238);
	hwg_set_rip(&g, CODE);
	assert_int_equal(run(), EXIT_IOIO);
	assert_int_equal(vmcb()->control.exitinfo1 >> 16, 0x1238);
}

/* A multi-byte access exits when any port it touches has its bit set. */
static void iopm_multibyte_across_a_set_bit(void **state)
{
	static const struct { uint8_t insn[3]; unsigned len; bool exits; } c[] = {
		{ { 0xe4, 0x80 }, 2, false },		/* in al, 0x80: 0x80 */
		{ { 0xe4, 0x81 }, 2, true },		/* in al, 0x81 */
		{ { 0x66, 0xe5, 0x82 }, 3, false },	/* in ax, 0x82: 0x82-0x83 */
		{ { 0x66, 0xe5, 0x80 }, 3, true },	/* in ax, 0x80: 0x80-0x81 */
		{ { 0xe5, 0x7e }, 2, true },		/* in eax, 0x7e: 0x7e-0x81 */
		{ { 0xe5, 0x82 }, 2, false },		/* in eax, 0x82: 0x82-0x85 */
		{ { 0x66, 0xe7, 0x81 }, 3, true },	/* out 0x81, ax */
	};
	memset(iopm(), 0, 12 << 10);
	iopm_set(0x81, true);
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		load1(c[i].insn, c[i].len);
		set_regs(0);
		assert_int_equal(run(), c[i].exits ? EXIT_IOIO : EXIT_HLT);
		assert_int_equal(hwg_rip(&g), c[i].exits ? CODE : CODE + c[i].len);
	}
}

/* A 4-byte access at 0xfffe touches 0xfffe-0x10001: bits past 0xffff
 * are in the map's third page (15.10.1). */
static void iopm_top_port_reaches_the_third_page(void **state)
{
	static const uint8_t in_eax_dx[] = { 0xed };
	memset(iopm(), 0, 12 << 10);
	iopm_set(0x10001, true);
	load1(in_eax_dx, 1);
	set_regs(0xfffe);
	assert_int_equal(run(), EXIT_IOIO);
	assert_int_equal(vmcb()->control.exitinfo1, 0xfffe0241);

	iopm_set(0x10001, false);
	hwg_set_rip(&g, CODE);
	assert_int_equal(run(), EXIT_HLT);
	assert_int_equal(hwg_gpr(&g, RAX), 0xffffffffull);
}

/* IOIO_PROT clear: the map is not consulted, nothing exits. */
static void ioio_prot_off(void **state)
{
	static const uint8_t in_eax_dx[] = { 0xed };
	vmcb()->control.intercept_misc1 &= ~V3_IOIO_PROT;
	load1(in_eax_dx, 1);
	set_regs(0x60);
	assert_int_equal(run(), EXIT_HLT);
	assert_int_equal(hwg_gpr(&g, RAX), 0xffffffffull);
}

/* ------------------------------------------------------------ MSRPM */

/* The MSRPM bit of @msr (read, or write when @wr), Table 15-8. */
static void msrpm_set(uint32_t msr, bool wr, bool on)
{
	uint32_t base, first;
	if (msr < 0x2000) {
		base = 0x000; first = 0;
	} else if (msr >= 0xc0000000u && msr < 0xc0002000u) {
		base = 0x800; first = 0xc0000000u;
	} else {
		assert_true(msr >= 0xc0010000u && msr < 0xc0012000u);
		base = 0x1000; first = 0xc0010000u;
	}
	const uint32_t bit = (msr - first) * 2 + (wr ? 1 : 0);
	uint8_t *b = &msrpm()[base + bit / 8];
	*b = (uint8_t)(on ? *b | (1u << (bit % 8)) : *b & ~(1u << (bit % 8)));
}

static const uint8_t wrmsr_rdmsr[] = { 0x0f, 0x30, 0x0f, 0x32 };	/* wrmsr; rdmsr */

/* WRMSR then RDMSR of @msr with the map's bits as given. */
static uint64_t msr_run(uint32_t msr, uint64_t val)
{
	load1(wrmsr_rdmsr, 4);
	hwg_set_gpr(&g, RCX, msr);
	hwg_set_gpr(&g, RAX, val & 0xffffffff);
	hwg_set_gpr(&g, RDX, val >> 32);
	return run();
}

static void msr_bits_in_the_first_two_vectors(void **state)
{
	static const struct { uint32_t msr; uint64_t val; } c[] = {
		{ 0x174, 0x10 },			/* SYSENTER_CS */
		{ 0xc0000081, 0x0023001000000000ull },	/* STAR */
	};
	for (unsigned i = 0; i < 2; i++) {
		msrpm_set(c[i].msr, false, true);	/* RDMSR only */
		assert_int_equal(msr_run(c[i].msr, c[i].val), EXIT_MSR);
		assert_int_equal(hwg_rip(&g), CODE + 2);	/* WRMSR ran */
		assert_int_equal(vmcb()->control.next_rip, CODE + 4);
		assert_int_equal(vmcb()->control.exitinfo1, 0);
		assert_int_equal(hwg_gpr(&g, RAX), c[i].val & 0xffffffff);

		msrpm_set(c[i].msr, false, false);
		msrpm_set(c[i].msr, true, true);	/* WRMSR only */
		assert_int_equal(msr_run(c[i].msr, c[i].val + 1), EXIT_MSR);
		assert_int_equal(hwg_rip(&g), CODE);
		assert_int_equal(vmcb()->control.next_rip, CODE + 2);
		assert_int_equal(vmcb()->control.exitinfo1, 1);
		assert_int_equal(hwg_gpr(&g, RCX), c[i].msr);

		msrpm_set(c[i].msr, true, false);	/* neither: it reads back */
		assert_int_equal(msr_run(c[i].msr, c[i].val), EXIT_HLT);
		assert_int_equal(hwg_gpr(&g, RAX), c[i].val & 0xffffffff);
		assert_int_equal(hwg_gpr(&g, RDX), c[i].val >> 32);
	}
}

/* The third vector (VM_CR, c001_0114: byte 0x1045 bits 0 and 1). */
static void msr_bits_in_the_third_vector(void **state)
{
	static const uint8_t rdmsr[] = { 0x0f, 0x32 };
	static const uint8_t wrmsr[] = { 0x0f, 0x30 };
	msrpm()[0x1045] = 0x01;
	load1(rdmsr, 2);
	hwg_set_gpr(&g, RCX, 0xc0010114);
	assert_int_equal(run(), EXIT_MSR);
	assert_int_equal(vmcb()->control.exitinfo1, 0);

	msrpm()[0x1045] = 0x02;
	hwg_set_rip(&g, CODE);
	hwg_set_gpr(&g, RAX, 0xdead);
	assert_int_equal(run(), EXIT_HLT);			/* RDMSR ran */
	assert_int_equal(hwg_gpr(&g, RAX) >> 32, 0);
	load1(wrmsr, 2);
	assert_int_equal(run(), EXIT_MSR);
	assert_int_equal(vmcb()->control.exitinfo1, 1);
	assert_int_equal(hwg_rip(&g), CODE);
}

/* The last MSR of each vector and the first of the second (the edges of
 * Table 15-8); unimplemented, so without their bit they #GP. */
static void msr_vector_edges(void **state)
{
	static const uint8_t rdmsr[] = { 0x0f, 0x32 };
	static const uint32_t msr[] = { 0x1fff, 0xc0000000u, 0xc0001fffu, 0xc0011fffu };
	vmcb()->control.intercept_exceptions = 1u << GP;
	load1(rdmsr, 2);
	for (unsigned i = 0; i < 4; i++) {
		memset(msrpm(), 0, 8 << 10);
		hwg_set_rip(&g, CODE);
		hwg_set_gpr(&g, RCX, msr[i]);
		assert_int_equal(run(), EXIT_EXCP(GP));
		msrpm_set(msr[i], false, true);
		hwg_set_rip(&g, CODE);
		assert_int_equal(run(), EXIT_MSR);
		assert_int_equal(vmcb()->control.exitinfo1, 0);
	}
}

/* Outside the three vectors every RDMSR and WRMSR exits, map or no map. */
static void msr_outside_the_ranges_always_exits(void **state)
{
	static const uint8_t rdmsr[] = { 0x0f, 0x32 };
	static const uint8_t wrmsr[] = { 0x0f, 0x30 };
	static const uint32_t msr[] = {
		0x2000, 0xbfffffffu, 0xc0002000u, 0xc000ffffu, 0xc0012000u, 0x40000000u,
		0xffffffffu,
	};
	memset(msrpm(), 0, 8 << 10);
	for (unsigned i = 0; i < sizeof(msr) / sizeof(msr[0]); i++) {
		load1(rdmsr, 2);
		hwg_set_gpr(&g, RCX, msr[i]);
		assert_int_equal(run(), EXIT_MSR);
		assert_int_equal(vmcb()->control.exitinfo1, 0);
		load1(wrmsr, 2);
		assert_int_equal(run(), EXIT_MSR);
		assert_int_equal(vmcb()->control.exitinfo1, 1);
		assert_int_equal(vmcb()->control.next_rip, CODE + 2);
	}
}

/* MSR_PROT clear: nothing exits, not even a set map bit or an MSR no
 * map covers - the unimplemented one raises #GP(0) in the guest. */
static void msr_prot_off(void **state)
{
	static const uint8_t rdmsr[] = { 0x0f, 0x32 };
	vmcb()->control.intercept_misc1 &= ~V3_MSR_PROT;
	vmcb()->control.intercept_exceptions = 1u << GP;
	memset(msrpm(), 0xff, 8 << 10);
	load1(rdmsr, 2);
	hwg_set_gpr(&g, RCX, 0x174);
	assert_int_equal(run(), EXIT_HLT);
	hwg_set_rip(&g, CODE);
	hwg_set_gpr(&g, RCX, 0x2000);
	assert_int_equal(run(), EXIT_EXCP(GP));
	assert_int_equal(vmcb()->control.exitinfo1, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(ioio_in_out_exitinfo),
		T(ioio_string_exitinfo),
		T(ioio_intercept_before_string_fault),
		T(iopm_clear_bits_do_not_exit),
		T(iopm_multibyte_across_a_set_bit),
		T(iopm_top_port_reaches_the_third_page),
		T(ioio_prot_off),
		T(msr_bits_in_the_first_two_vectors),
		T(msr_bits_in_the_third_vector),
		T(msr_vector_edges),
		T(msr_outside_the_ranges_always_exits),
		T(msr_prot_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
