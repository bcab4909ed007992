/*
 * test_hw_vmx_exits_io.c — port I/O and MSR accesses in VMX non-root
 * operation (SDM Vol. 3C 26.1.3): unconditional I/O exiting, the I/O
 * bitmaps (A for ports 0-7fff, B for 8000-ffff; any port of the access
 * with its bit set exits; an access that wraps past ffff always exits),
 * the MSR bitmaps (read low/high at bytes 0/1024, write low/high at
 * 2048/3072; MSRs outside 0-1fff and c0000000-c0001fff always exit) and,
 * without MSR bitmaps, RDMSR and WRMSR exiting always.
 *
 * I/O qualification (28.2.1, Table 28-5): size - 1 in 2:0, direction 3
 * (1 = IN), string 4, REP 5, operand encoding 6 (1 = immediate), port
 * 31:16. INS/OUTS also fill the guest-linear address (the memory
 * operand's) and the instruction information (28.2.5: address size 9:7,
 * and for OUTS the segment in 17:15), VMX_BASIC[54] being 1.
 */
#include "tests/unit/test_hw_vmx_exits.h"

#define IOQ(size, in, port) ((uint64_t)((size) - 1) | ((in) ? 1u << 3 : 0) | \
			     (uint64_t)(port) << 16)
#define IOQ_STRING	(1u << 4)
#define IOQ_REP		(1u << 5)
#define IOQ_IMM		(1u << 6)

/* ------------------------------------------------------------ unconditional */

static const uint8_t io_imm[] = {
	0xe4, 0x80,		/* in al, 0x80 */
	0xe6, 0x80,		/* out 0x80, al     (CODE + 2) */
	0xf4,			/* hlt */
};

/* Neither unconditional I/O exiting nor I/O bitmaps: the I/O happens;
 * the model's platform has nothing on port 0x80, so IN reads all ones. */
static void io_off_runs(void **state)
{
	vx_start(false);
	vx_code(io_imm, sizeof(io_imm));
	vx_ctl(VMCS_PROC_BASED_CTLS, 0, PROC_UNCOND_IO | PROC_IO_BITMAPS);
	vx_set_gpr(RAX, 0x1200);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_gpr(RAX), 0x12ff);
}

static void io_uncond_imm(void **state)
{
	vx_start(false);
	vx_code(io_imm, sizeof(io_imm));
	vx_set_gpr(RAX, 0x1200);
	assert_int_equal(vx_run(), R_IO);
	assert_int_equal(vx_qual(), IOQ(1, true, 0x80) | IOQ_IMM);
	assert_int_equal(vx_len(), 2);
	assert_int_equal(vx_rip(), CODE);
	assert_int_equal(vx_gpr(RAX), 0x1200);
	hwg_skip(&g);
	assert_int_equal(vx_run(), R_IO);
	assert_int_equal(vx_qual(), IOQ(1, false, 0x80) | IOQ_IMM);
	assert_int_equal(vx_len(), 2);
	assert_int_equal(vx_rip(), CODE + 2);
}

static const uint8_t io_dx[] = {
	0xed,			/* in eax, dx */
	0x66, 0xed,		/* in ax, dx        (CODE + 1) */
	0xee,			/* out dx, al       (CODE + 3) */
	0xf4,			/* hlt */
};

static void io_uncond_dx(void **state)
{
	vx_start(false);
	vx_code(io_dx, sizeof(io_dx));
	vx_set_gpr(RDX, 0x3f8);
	assert_int_equal(vx_run(), R_IO);
	assert_int_equal(vx_qual(), IOQ(4, true, 0x3f8));
	assert_int_equal(vx_len(), 1);
	hwg_skip(&g);
	assert_int_equal(vx_run(), R_IO);
	assert_int_equal(vx_qual(), IOQ(2, true, 0x3f8));
	assert_int_equal(vx_len(), 2);
	assert_int_equal(vx_rip(), CODE + 1);
	hwg_skip(&g);
	assert_int_equal(vx_run(), R_IO);
	assert_int_equal(vx_qual(), IOQ(1, false, 0x3f8));
	assert_int_equal(vx_len(), 1);
	assert_int_equal(vx_rip(), CODE + 3);
}

/* ------------------------------------------------------------ INS/OUTS */

#define INFO_ASIZE(v)	((v) & 0x380u)		/* 9:7 */
#define INFO_SEG(v)	((v) & 0x38000u)	/* 17:15 */

/* Run one string instruction at CODE with RSI = @rsi and check its
 * exit: @asize the address-size code, @seg the segment code or -1. */
static void string_exit(const uint8_t *code, size_t len, uint64_t rsi, uint64_t qual,
			uint64_t gla, uint32_t asize, int seg)
{
	vx_start(false);
	vx_code(code, len);
	vx_set_gpr(RDX, 0x3f8);
	vx_set_gpr(RCX, 5);
	vx_set_gpr(RSI, rsi);
	vx_set_gpr(RDI, DATA + 0x20);
	vx_write(VMCS_GUEST_FS_BASE, 0x100000);
	assert_int_equal(vx_run(), R_IO);
	assert_int_equal(vx_qual(), qual);
	assert_int_equal(vx_rip(), CODE);
	assert_int_equal(vx_len(), len);
	assert_int_equal(vx_read(VMCS_GUEST_LINEAR_ADDRESS), gla);
	const uint32_t info = (uint32_t)vx_read(VMCS_EXIT_INSTRUCTION_INFO);
	assert_int_equal(INFO_ASIZE(info), asize << 7);
	if (seg >= 0)
		assert_int_equal(INFO_SEG(info), (uint32_t)seg << 15);
	/* Nothing was transferred: the count and pointers are as they were. */
	assert_int_equal(vx_gpr(RCX), 5);
	assert_int_equal(vx_gpr(RDI), DATA + 0x20);
	hwg_destroy(&g);
}

/* Segment numbers of the instruction information (28.2.5). */
#define SEG_DS 3
#define SEG_FS 4

static void io_rep_outsb(void **state)
{
	static const uint8_t code[] = { 0xf3, 0x6e };		/* rep outsb */
	string_exit(code, 2, DATA + 0x10, IOQ(1, false, 0x3f8) | IOQ_STRING | IOQ_REP,
		    DATA + 0x10, 2, SEG_DS);
}

static void io_insd(void **state)
{
	static const uint8_t code[] = { 0x6d };			/* insd */
	string_exit(code, 1, DATA + 0x10, IOQ(4, true, 0x3f8) | IOQ_STRING, DATA + 0x20, 2, -1);
}

/* A 32-bit address size truncates RSI to ESI. */
static void io_outsb_addr32(void **state)
{
	static const uint8_t code[] = { 0x67, 0x6e };		/* outsb (esi) */
	string_exit(code, 2, (1ull << 32) | (DATA + 0x10), IOQ(1, false, 0x3f8) | IOQ_STRING,
		    DATA + 0x10, 1, SEG_DS);
}

/* A segment override: FS base + RSI, segment 4. */
static void io_outsb_fs(void **state)
{
	static const uint8_t code[] = { 0x64, 0x6e };		/* outsb fs:(rsi) */
	string_exit(code, 2, DATA + 0x10, IOQ(1, false, 0x3f8) | IOQ_STRING,
		    0x100000 + DATA + 0x10, 2, SEG_FS);
}

/* ------------------------------------------------------------ I/O bitmaps */

/*
 * One access of @size bytes at @port through `in al/ax/eax, dx`, with
 * unconditional I/O exiting on (ignored when bitmaps are used) and these
 * bits set: A[2], A[0x80], B[0] (port 8000), B[1] (port 8001).
 */
static void io_bitmap_case(uint16_t port, unsigned size, bool exits)
{
	uint8_t code[8], *a, *b;
	size_t n = 0;

	code[n++] = 0xba;					/* mov edx, imm32 */
	memcpy(code + n, &(uint32_t){ port }, 4);
	n += 4;
	if (size == 2)
		code[n++] = 0x66;
	code[n++] = size == 1 ? 0xec : 0xed;			/* in al/ax/eax, dx */
	code[n++] = 0xf4;					/* hlt */

	vx_start(false);
	vx_code(code, n);
	const uint64_t pa_a = vx_host_page(&a), pa_b = vx_host_page(&b);
	a[2 / 8] |= 1u << (2 % 8);
	a[0x80 / 8] |= 1u << (0x80 % 8);
	b[0] |= 1u << 0 | 1u << 1;
	vx_write(VMCS_IO_BITMAP_A, pa_a);
	vx_write(VMCS_IO_BITMAP_B, pa_b);
	vx_ctl(VMCS_PROC_BASED_CTLS, PROC_IO_BITMAPS | PROC_UNCOND_IO, 0);
	vx_set_gpr(RAX, 0);
	if (exits) {
		assert_int_equal(vx_run(), R_IO);
		assert_int_equal(vx_qual(), IOQ(size, true, port));
		assert_int_equal(vx_rip(), CODE + 5);
	} else {
		assert_int_equal(vx_run(), R_HLT);
		assert_int_equal(vx_gpr(RAX), size == 4 ? 0xffffffff : (1u << 8 * size) - 1);
	}
	hwg_destroy(&g);
}

static void io_bitmap_a(void **state)
{
	io_bitmap_case(0x80, 1, true);
	io_bitmap_case(0x81, 1, false);
	io_bitmap_case(0x02, 1, true);
	io_bitmap_case(0x01, 1, false);
}

/* Ports 8000-ffff use bitmap B: 8001 exits (B[1]), 8002 does not even
 * though A[2] is set. */
static void io_bitmap_b(void **state)
{
	io_bitmap_case(0x8001, 1, true);
	io_bitmap_case(0x8002, 1, false);
	io_bitmap_case(0x8003, 1, false);
}

/* Every port of a multi-byte access counts. */
static void io_bitmap_span(void **state)
{
	io_bitmap_case(0x7f, 2, true);		/* 7f, 80 */
	io_bitmap_case(0x7e, 2, false);		/* 7e, 7f */
	io_bitmap_case(0x7d, 4, true);		/* 7d .. 80 */
	io_bitmap_case(0x7c, 4, false);		/* 7c .. 7f */
	io_bitmap_case(0x7fff, 2, true);	/* 7fff in A, 8000 in B */
	io_bitmap_case(0x7fff, 1, false);
}

/* An access that wraps from ffff to 0 exits whatever the bitmaps say. */
static void io_bitmap_wrap(void **state)
{
	io_bitmap_case(0xffff, 2, true);
	io_bitmap_case(0xfffd, 4, true);
	io_bitmap_case(0xffff, 1, false);
	io_bitmap_case(0xfffe, 2, false);
}

/* ------------------------------------------------------------ MSRs */

static const uint8_t rdmsr_code[] = { 0x0f, 0x32, 0xf4 };	/* rdmsr; hlt */
static const uint8_t wrmsr_code[] = { 0x0f, 0x30, 0xf4 };	/* wrmsr; hlt */

/* Bit offsets in the MSR bitmap page (25.6.9). */
#define READ_LOW	0
#define READ_HIGH	(1024 * 8)
#define WRITE_LOW	(2048 * 8)
#define WRITE_HIGH	(3072 * 8)

/*
 * RDMSR (or WRMSR) of @msr. @bit >= 0: MSR bitmaps on, with only that
 * bit set; -1: bitmaps on and all clear; -2: MSR bitmaps off.
 */
static uint64_t msr_run(uint32_t msr, bool write, long bit)
{
	vx_start(false);
	vx_code(write ? wrmsr_code : rdmsr_code, 3);
	vx_write(VMCS_GUEST_IA32_SYSENTER_CS, 0x1234);
	if (bit != -2) {
		uint8_t *p;
		vx_write(VMCS_MSR_BITMAP, vx_host_page(&p));
		if (bit >= 0)
			p[bit / 8] |= 1u << (bit % 8);
		vx_ctl(VMCS_PROC_BASED_CTLS, PROC_MSR_BITMAPS, 0);
	} else {
		vx_ctl(VMCS_PROC_BASED_CTLS, 0, PROC_MSR_BITMAPS);
	}
	vx_set_gpr(RCX, msr);
	vx_set_gpr(RAX, write ? 0x10 : 0xaaaa);
	vx_set_gpr(RDX, write ? 0 : 0xbbbb);
	return vx_run();
}

/* An exit of RDMSR/WRMSR: qualification 0, length 2, nothing done. */
static void msr_exits(uint32_t msr, bool write, long bit)
{
	assert_int_equal(msr_run(msr, write, bit), write ? R_WRMSR : R_RDMSR);
	assert_int_equal(vx_qual(), 0);
	assert_int_equal(vx_len(), 2);
	assert_int_equal(vx_rip(), CODE);
	assert_int_equal(vx_gpr(RAX), write ? 0x10 : 0xaaaa);
	assert_int_equal(vx_gpr(RDX), write ? 0 : 0xbbbb);
	hwg_destroy(&g);
}

/* Without MSR bitmaps every RDMSR and WRMSR exits. */
static void msr_no_bitmaps(void **state)
{
	msr_exits(0x174, false, -2);
	msr_exits(0x174, true, -2);
	msr_exits(0xc0000081, false, -2);
}

/* Read-low bit 0x174: RDMSR of IA32_SYSENTER_CS exits, WRMSR does not
 * (it writes the guest's IA32_SYSENTER_CS, saved at the exit, 28.3.2). */
static void msr_read_low(void **state)
{
	msr_exits(0x174, false, READ_LOW + 0x174);
	assert_int_equal(msr_run(0x174, true, READ_LOW + 0x174), R_HLT);
	assert_int_equal(vx_read(VMCS_GUEST_IA32_SYSENTER_CS), 0x10);
	hwg_destroy(&g);
	/* All clear: RDMSR runs and reads the guest value. */
	assert_int_equal(msr_run(0x174, false, -1), R_HLT);
	assert_int_equal(vx_gpr(RAX), 0x1234);
	assert_int_equal(vx_gpr(RDX), 0);
}

/* Write-low bit 0x174: WRMSR exits, RDMSR does not. */
static void msr_write_low(void **state)
{
	msr_exits(0x174, true, WRITE_LOW + 0x174);
	assert_int_equal(msr_run(0x174, false, WRITE_LOW + 0x174), R_HLT);
	assert_int_equal(vx_gpr(RAX), 0x1234);
}

/* The high halves: c0000081 (IA32_STAR) is bit 0x81 of each. */
static void msr_high(void **state)
{
	msr_exits(0xc0000081, false, READ_HIGH + 0x81);
	msr_exits(0xc0000081, true, WRITE_HIGH + 0x81);
	/* The low bit of the same index does not cover it. */
	assert_int_equal(msr_run(0xc0000081, false, READ_LOW + 0x81), R_HLT);
	assert_int_equal(vx_gpr(RAX), 0);	/* STAR is 0 at reset */
	hwg_destroy(&g);
	assert_int_equal(msr_run(0xc0000081, true, READ_HIGH + 0x81), R_HLT);
}

/* Outside both ranges an MSR exits with all bitmap bits clear. */
static void msr_outside_ranges(void **state)
{
	static const uint32_t msrs[] = { 0x2000, 0x40000000, 0xbfffffff, 0xc0002000 };
	for (unsigned i = 0; i < 4; i++) {
		msr_exits(msrs[i], false, -1);
		msr_exits(msrs[i], true, -1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(io_off_runs, vx_teardown),
		cmocka_unit_test_teardown(io_uncond_imm, vx_teardown),
		cmocka_unit_test_teardown(io_uncond_dx, vx_teardown),
		cmocka_unit_test_teardown(io_rep_outsb, vx_teardown),
		cmocka_unit_test_teardown(io_insd, vx_teardown),
		cmocka_unit_test_teardown(io_outsb_addr32, vx_teardown),
		cmocka_unit_test_teardown(io_outsb_fs, vx_teardown),
		cmocka_unit_test_teardown(io_bitmap_a, vx_teardown),
		cmocka_unit_test_teardown(io_bitmap_b, vx_teardown),
		cmocka_unit_test_teardown(io_bitmap_span, vx_teardown),
		cmocka_unit_test_teardown(io_bitmap_wrap, vx_teardown),
		cmocka_unit_test_teardown(msr_no_bitmaps, vx_teardown),
		cmocka_unit_test_teardown(msr_read_low, vx_teardown),
		cmocka_unit_test_teardown(msr_write_low, vx_teardown),
		cmocka_unit_test_teardown(msr_high, vx_teardown),
		cmocka_unit_test_teardown(msr_outside_ranges, vx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
