/*
 * test_hw_vmx_exits_cr.c — control- and debug-register accesses in VMX
 * non-root operation: CR3-load exiting with the CR3-target values,
 * CR3-store, CR8-load/store, MOV-DR exiting (SDM Vol. 3C 26.1.3), and
 * the CR0/CR4 guest/host masks and read shadows (26.3: MOV from CR0/CR4,
 * MOV to CR0, CLTS, LMSW). Qualifications per 28.2.1: control-register
 * accesses (Table 28-3: CR number 3:0, access type 5:4, LMSW operand
 * type 6, GPR 11:8, LMSW source data 31:16) and MOV DR (Table 28-4: DR
 * number 2:0, direction 4 with 1 = MOV from DR, GPR 11:8).
 */
#include "tests/unit/test_hw_vmx_exits.h"

/* The harness's guest CR0: PG AM WP NE ET MP PE. */
#define GUEST_CR0	0x80050033ull
#define CR0_PE		(1ull << 0)
#define CR0_MP		(1ull << 1)
#define CR0_TS		(1ull << 3)
#define CR0_AM		(1ull << 18)
#define CR4_PAE		(1ull << 5)
#define CR4_PGE		(1ull << 7)
#define CR4_VMXE	(1ull << 13)
#define CR3_PCD		(1ull << 4)

/* Access types (Table 28-3). */
#define TO_CR	0
#define FROM_CR	1
#define CLTS	2
#define LMSW	3
#define CRQ(cr, type, gpr) ((uint64_t)(cr) | (uint64_t)(type) << 4 | (uint64_t)(gpr) << 8)

static void start(const uint8_t *code, size_t len)
{
	vx_start(false);
	vx_code(code, len);
}

/* ------------------------------------------------------------ CR3 */

static const uint8_t mov_to_cr3[] = {
	0x0f, 0x22, 0xdb,	/* mov cr3, rbx */
	0xf4,			/* hlt */
};

/* CR3-load exiting off: the load happens (PCD is a legal CR3 bit). */
static void cr3_load_off(void **state)
{
	start(mov_to_cr3, sizeof(mov_to_cr3));
	vx_ctl(VMCS_PROC_BASED_CTLS, 0, PROC_CR3_LOAD);
	vx_set_gpr(RBX, g.cr3 | CR3_PCD);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_read(VMCS_GUEST_CR3), g.cr3 | CR3_PCD);
}

static void cr3_load_on(void **state)
{
	start(mov_to_cr3, sizeof(mov_to_cr3));
	vx_ctl(VMCS_PROC_BASED_CTLS, PROC_CR3_LOAD, 0);
	vx_set_gpr(RBX, g.cr3 | CR3_PCD);
	assert_int_equal(vx_run(), R_CR);
	assert_int_equal(vx_qual(), CRQ(3, TO_CR, RBX));
	assert_int_equal(vx_len(), 3);
	assert_int_equal(vx_rip(), CODE);
	assert_int_equal(vx_read(VMCS_GUEST_CR3), g.cr3);
	assert_int_equal(vx_gpr(RBX), g.cr3 | CR3_PCD);
}

/*
 * 26.1.3 "MOV to CR3": with CR3-load exiting, a load of one of the first
 * n CR3-target values (n = CR3-target count) does not exit; values past
 * the count do not count.
 */
static void cr3_targets(void **state)
{
	static const uint64_t target[4] = {
		VMCS_CR3_TARGET_VALUE0, VMCS_CR3_TARGET_VALUE1,
		VMCS_CR3_TARGET_VALUE2, VMCS_CR3_TARGET_VALUE3,
	};
	struct { unsigned count, slot; bool exits; } cases[] = {
		{ 1, 0, false },	/* the first target */
		{ 4, 3, false },	/* the last of four */
		{ 3, 3, true },		/* beyond the count */
		{ 0, 0, true },		/* count 0: every load exits */
	};
	for (unsigned i = 0; i < 4; i++) {
		start(mov_to_cr3, sizeof(mov_to_cr3));
		const uint64_t want = g.cr3 | CR3_PCD;
		vx_ctl(VMCS_PROC_BASED_CTLS, PROC_CR3_LOAD, 0);
		for (unsigned t = 0; t < 4; t++)
			vx_write(target[t], 0x1000 * (t + 1));
		vx_write(VMCS_CR3_TARGET_COUNT, cases[i].count);
		vx_write(target[cases[i].slot], want);
		vx_set_gpr(RBX, want);
		if (cases[i].exits) {
			assert_int_equal(vx_run(), R_CR);
			assert_int_equal(vx_qual(), CRQ(3, TO_CR, RBX));
			assert_int_equal(vx_read(VMCS_GUEST_CR3), g.cr3);
		} else {
			assert_int_equal(vx_run(), R_HLT);
			assert_int_equal(vx_read(VMCS_GUEST_CR3), want);
		}
		hwg_destroy(&g);
	}
}

static const uint8_t mov_from_cr3[] = {
	0x0f, 0x20, 0xdb,	/* mov rbx, cr3 */
	0xf4,			/* hlt */
};

static void cr3_store_off(void **state)
{
	start(mov_from_cr3, sizeof(mov_from_cr3));
	vx_ctl(VMCS_PROC_BASED_CTLS, 0, PROC_CR3_STORE);
	vx_set_gpr(RBX, 0);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_gpr(RBX), g.cr3);
}

static void cr3_store_on(void **state)
{
	start(mov_from_cr3, sizeof(mov_from_cr3));
	vx_ctl(VMCS_PROC_BASED_CTLS, PROC_CR3_STORE, 0);
	vx_set_gpr(RBX, 0x77);
	assert_int_equal(vx_run(), R_CR);
	assert_int_equal(vx_qual(), CRQ(3, FROM_CR, RBX));
	assert_int_equal(vx_len(), 3);
	assert_int_equal(vx_rip(), CODE);
	assert_int_equal(vx_gpr(RBX), 0x77);
}

/* ------------------------------------------------------------ CR8 */

static const uint8_t cr8_code[] = {
	0x44, 0x0f, 0x22, 0xc1,	/* mov cr8, rcx */
	0x44, 0x0f, 0x20, 0xc2,	/* mov rdx, cr8     (CODE + 4) */
	0xf4,			/* hlt */
};

static void cr8_start(uint32_t set, uint32_t clear)
{
	start(cr8_code, sizeof(cr8_code));
	vx_ctl(VMCS_PROC_BASED_CTLS, set, clear);
	vx_set_gpr(RCX, 5);
	vx_set_gpr(RDX, 0x99);
}

static void cr8_off(void **state)
{
	cr8_start(0, PROC_CR8_LOAD | PROC_CR8_STORE);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_gpr(RDX), 5);
}

static void cr8_load_on(void **state)
{
	cr8_start(PROC_CR8_LOAD, PROC_CR8_STORE);
	assert_int_equal(vx_run(), R_CR);
	assert_int_equal(vx_qual(), CRQ(8, TO_CR, RCX));
	assert_int_equal(vx_len(), 4);
	assert_int_equal(vx_rip(), CODE);
	/* Skipped, not executed: the store reads the old TPR (0). */
	hwg_skip(&g);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_gpr(RDX), 0);
}

static void cr8_store_on(void **state)
{
	cr8_start(PROC_CR8_STORE, PROC_CR8_LOAD);
	assert_int_equal(vx_run(), R_CR);
	assert_int_equal(vx_qual(), CRQ(8, FROM_CR, RDX));
	assert_int_equal(vx_len(), 4);
	assert_int_equal(vx_rip(), CODE + 4);
	assert_int_equal(vx_gpr(RDX), 0x99);
}

/* ------------------------------------------------------------ MOV DR */

static const uint8_t dr_code[] = {
	0x0f, 0x23, 0xda,	/* mov dr3, rdx */
	0x0f, 0x21, 0xd8,	/* mov rax, dr3     (CODE + 3) */
	0x0f, 0x21, 0xf6,	/* mov rsi, dr6     (CODE + 6) */
	0xf4,			/* hlt */
};

static void mov_dr_off(void **state)
{
	start(dr_code, sizeof(dr_code));
	vx_ctl(VMCS_PROC_BASED_CTLS, 0, PROC_MOV_DR);
	vx_set_gpr(RDX, 0x12345678);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_gpr(RAX), 0x12345678);
	assert_int_equal(vx_gpr(RSI), 0xffff0ff0);	/* DR6 at reset (SDM Table 9-1) */
}

static void mov_dr_on(void **state)
{
	start(dr_code, sizeof(dr_code));
	vx_ctl(VMCS_PROC_BASED_CTLS, PROC_MOV_DR, 0);
	vx_set_gpr(RDX, 0x12345678);
	vx_set_gpr(RAX, 0);
	assert_int_equal(vx_run(), R_DR);
	assert_int_equal(vx_qual(), 3 | 0 << 4 | RDX << 8);	/* MOV to DR3 from RDX */
	assert_int_equal(vx_len(), 3);
	assert_int_equal(vx_rip(), CODE);
	hwg_skip(&g);
	assert_int_equal(vx_run(), R_DR);
	assert_int_equal(vx_qual(), 3 | 1 << 4 | RAX << 8);	/* MOV from DR3 to RAX */
	assert_int_equal(vx_len(), 3);
	assert_int_equal(vx_rip(), CODE + 3);
	hwg_skip(&g);
	assert_int_equal(vx_run(), R_DR);
	assert_int_equal(vx_qual(), 6 | 1 << 4 | RSI << 8);	/* MOV from DR6 to RSI */
	assert_int_equal(vx_rip(), CODE + 6);
	assert_int_equal(vx_gpr(RAX), 0);
}

/* ------------------------------------------------------------ CR0/CR4 shadows */

static const uint8_t read_cr0_cr4[] = {
	0x0f, 0x20, 0xc0,	/* mov rax, cr0 */
	0x0f, 0x20, 0xe3,	/* mov rbx, cr4 */
	0xf4,			/* hlt */
};

/* 26.3 "MOV from CR0/CR4": bits set in the mask read from the shadow,
 * the others from the register. */
static void cr_read_shadows(void **state)
{
	start(read_cr0_cr4, sizeof(read_cr0_cr4));
	vx_write(VMCS_CR0_GUEST_HOST_MASK, CR0_MP | CR0_TS);
	vx_write(VMCS_CR0_READ_SHADOW, CR0_TS);
	vx_write(VMCS_CR4_GUEST_HOST_MASK, CR4_VMXE | CR4_PGE);
	vx_write(VMCS_CR4_READ_SHADOW, CR4_PGE);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_gpr(RAX), (GUEST_CR0 & ~CR0_MP) | CR0_TS);
	assert_int_equal(vx_gpr(RBX), CR4_PAE | CR4_PGE);
	/* The registers themselves are untouched. */
	assert_int_equal(vx_read(VMCS_GUEST_CR0), GUEST_CR0);
	assert_int_equal(vx_read(VMCS_GUEST_CR4), CR4_PAE | CR4_VMXE);
}

static const uint8_t write_cr0[] = {
	0x0f, 0x22, 0xc2,	/* mov cr0, rdx */
	0xf4,			/* hlt */
};

/* 26.1.3 "MOV to CR0": a masked bit written unlike its shadow exits. */
static void cr0_write_exits(void **state)
{
	start(write_cr0, sizeof(write_cr0));
	vx_write(VMCS_CR0_GUEST_HOST_MASK, CR0_TS);
	vx_write(VMCS_CR0_READ_SHADOW, 0);
	vx_set_gpr(RDX, GUEST_CR0 | CR0_TS);
	assert_int_equal(vx_run(), R_CR);
	assert_int_equal(vx_qual(), CRQ(0, TO_CR, RDX));
	assert_int_equal(vx_len(), 3);
	assert_int_equal(vx_rip(), CODE);
	assert_int_equal(vx_read(VMCS_GUEST_CR0), GUEST_CR0);
}

/*
 * 26.3 "MOV to CR0": written like the shadow, no exit; the masked bit of
 * CR0 keeps its value (TS stays 0 although the guest wrote 1) and the
 * other bits take the written value (AM cleared).
 */
static void cr0_write_like_shadow(void **state)
{
	start(write_cr0, sizeof(write_cr0));
	vx_write(VMCS_CR0_GUEST_HOST_MASK, CR0_TS);
	vx_write(VMCS_CR0_READ_SHADOW, CR0_TS);
	vx_set_gpr(RDX, (GUEST_CR0 & ~CR0_AM) | CR0_TS);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_read(VMCS_GUEST_CR0), GUEST_CR0 & ~CR0_AM);
}

static const uint8_t write_cr4[] = {
	0x0f, 0x22, 0xe0,	/* mov cr4, rax */
	0xf4,			/* hlt */
};

/*
 * CR4 follows the same rule. The harness owns CR4.VMXE (mask bit 13)
 * with shadow 0: the guest may "clear" it (no exit, VMXE stays 1) while
 * setting PGE, an unmasked bit; writing VMXE = 1, unlike the shadow,
 * exits.
 */
static void cr4_write_masked(void **state)
{
	start(write_cr4, sizeof(write_cr4));
	vx_write(VMCS_CR4_GUEST_HOST_MASK, CR4_VMXE);
	vx_write(VMCS_CR4_READ_SHADOW, 0);
	vx_set_gpr(RAX, CR4_PAE | CR4_PGE);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_read(VMCS_GUEST_CR4), CR4_PAE | CR4_PGE | CR4_VMXE);
	hwg_destroy(&g);

	start(write_cr4, sizeof(write_cr4));
	vx_write(VMCS_CR4_GUEST_HOST_MASK, CR4_VMXE);
	vx_write(VMCS_CR4_READ_SHADOW, 0);
	vx_set_gpr(RAX, CR4_PAE | CR4_VMXE);
	assert_int_equal(vx_run(), R_CR);
	assert_int_equal(vx_qual(), CRQ(4, TO_CR, RAX));
	assert_int_equal(vx_len(), 3);
	assert_int_equal(vx_read(VMCS_GUEST_CR4), CR4_PAE | CR4_VMXE);
}

/* ------------------------------------------------------------ CLTS */

static const uint8_t clts_code[] = {
	0x0f, 0x06,		/* clts */
	0xf4,			/* hlt */
};

/* Run CLTS with guest CR0.TS = 1 and the given TS mask/shadow bits. */
static uint64_t clts(uint64_t mask, uint64_t shadow)
{
	start(clts_code, sizeof(clts_code));
	vx_write(VMCS_GUEST_CR0, GUEST_CR0 | CR0_TS);
	vx_write(VMCS_CR0_GUEST_HOST_MASK, mask);
	vx_write(VMCS_CR0_READ_SHADOW, shadow);
	return vx_run();
}

/* 26.1.3 "CLTS": exits iff TS is set in both mask and shadow. */
static void clts_exits(void **state)
{
	assert_int_equal(clts(CR0_TS, CR0_TS), R_CR);
	assert_int_equal(vx_qual(), CRQ(0, CLTS, 0));
	assert_int_equal(vx_len(), 2);
	assert_int_equal(vx_rip(), CODE);
	assert_int_equal(vx_read(VMCS_GUEST_CR0), GUEST_CR0 | CR0_TS);
}

/* 26.3 "CLTS": mask 1, shadow 0: completes without changing CR0.TS. */
static void clts_masked_keeps_ts(void **state)
{
	assert_int_equal(clts(CR0_TS, 0), R_HLT);
	assert_int_equal(vx_read(VMCS_GUEST_CR0), GUEST_CR0 | CR0_TS);
}

/* Mask 0: CLTS clears TS whatever the shadow says. */
static void clts_unmasked_clears_ts(void **state)
{
	assert_int_equal(clts(0, CR0_TS), R_HLT);
	assert_int_equal(vx_read(VMCS_GUEST_CR0), GUEST_CR0);
}

/* ------------------------------------------------------------ LMSW */

static const uint8_t lmsw_code[] = {
	0x0f, 0x01, 0xf0,	/* lmsw ax */
	0x0f, 0x01, 0x33,	/* lmsw [rbx]       (CODE + 3) */
	0xf4,			/* hlt */
};

static void lmsw_start(uint64_t mask, uint64_t shadow, uint16_t src)
{
	start(lmsw_code, sizeof(lmsw_code));
	vx_write(VMCS_CR0_GUEST_HOST_MASK, mask);
	vx_write(VMCS_CR0_READ_SHADOW, shadow);
	vx_set_gpr(RAX, 0xffff0000u | src);
	vx_set_gpr(RBX, DATA);
	hwg_load(&g, DATA, &src, 2);
}

/*
 * 26.1.3 "LMSW": exits when a bit of 3:1 is masked and the source
 * differs from the shadow there. Qualification: access type 3, operand
 * type 0 (register) / 1 (memory) in bit 6, the 16-bit source in 31:16.
 */
static void lmsw_exits(void **state)
{
	lmsw_start(CR0_MP, CR0_MP, 0x1231);	/* MP 0 in the source */
	assert_int_equal(vx_run(), R_CR);
	assert_int_equal(vx_qual(), CRQ(0, LMSW, 0) | 0x1231ull << 16);
	assert_int_equal(vx_len(), 3);
	assert_int_equal(vx_rip(), CODE);
	hwg_skip(&g);
	assert_int_equal(vx_run(), R_CR);
	assert_int_equal(vx_qual(), CRQ(0, LMSW, 0) | 1u << 6 | 0x1231ull << 16);
	assert_int_equal(vx_len(), 3);
	assert_int_equal(vx_rip(), CODE + 3);
	assert_int_equal(vx_read(VMCS_GUEST_CR0), GUEST_CR0);
}

/* Source like the shadow in the masked bit: LMSW loads the unmasked
 * bits 3:0 (TS set here) and leaves the masked one alone. */
static void lmsw_like_shadow(void **state)
{
	lmsw_start(CR0_MP, CR0_MP, 0x000b);	/* PE MP TS */
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_read(VMCS_GUEST_CR0), GUEST_CR0 | CR0_TS);
}

/* PE: LMSW never clears it, so it exits only when the source sets PE,
 * PE is masked and its shadow is 0. */
static void lmsw_pe_rule(void **state)
{
	lmsw_start(CR0_PE, 0, 0x0003);		/* sets PE: exits */
	assert_int_equal(vx_run(), R_CR);
	assert_int_equal(vx_qual(), CRQ(0, LMSW, 0) | 0x0003ull << 16);
	hwg_destroy(&g);

	lmsw_start(CR0_PE, CR0_PE, 0x0002);	/* would clear PE: cannot, no exit */
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_read(VMCS_GUEST_CR0), GUEST_CR0);
	hwg_destroy(&g);

	/* PE clear in the source: no exit although the shadow's PE is 0 and
	 * CR0.PE itself is 1 (only the source operand counts). */
	lmsw_start(CR0_PE, 0, 0x0002);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_read(VMCS_GUEST_CR0), GUEST_CR0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(cr3_load_off, vx_teardown),
		cmocka_unit_test_teardown(cr3_load_on, vx_teardown),
		cmocka_unit_test_teardown(cr3_targets, vx_teardown),
		cmocka_unit_test_teardown(cr3_store_off, vx_teardown),
		cmocka_unit_test_teardown(cr3_store_on, vx_teardown),
		cmocka_unit_test_teardown(cr8_off, vx_teardown),
		cmocka_unit_test_teardown(cr8_load_on, vx_teardown),
		cmocka_unit_test_teardown(cr8_store_on, vx_teardown),
		cmocka_unit_test_teardown(mov_dr_off, vx_teardown),
		cmocka_unit_test_teardown(mov_dr_on, vx_teardown),
		cmocka_unit_test_teardown(cr_read_shadows, vx_teardown),
		cmocka_unit_test_teardown(cr0_write_exits, vx_teardown),
		cmocka_unit_test_teardown(cr0_write_like_shadow, vx_teardown),
		cmocka_unit_test_teardown(cr4_write_masked, vx_teardown),
		cmocka_unit_test_teardown(clts_exits, vx_teardown),
		cmocka_unit_test_teardown(clts_masked_keeps_ts, vx_teardown),
		cmocka_unit_test_teardown(clts_unmasked_clears_ts, vx_teardown),
		cmocka_unit_test_teardown(lmsw_exits, vx_teardown),
		cmocka_unit_test_teardown(lmsw_like_shadow, vx_teardown),
		cmocka_unit_test_teardown(lmsw_pe_rule, vx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
