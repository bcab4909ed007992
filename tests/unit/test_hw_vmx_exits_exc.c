/*
 * test_hw_vmx_exits_exc.c — the exception bitmap (SDM Vol. 3C 25.6.3,
 * 26.2): an exception whose bit is set exits with reason 0 instead of
 * being delivered through the guest IDT; #PF additionally follows the
 * error-code mask/match rule (bit 14 set: exit iff PFEC & MASK == MATCH;
 * clear: exit iff they differ). The exit interruption information
 * (25.9.2) names the vector and type (3 hardware exception, 6 software
 * exception), the error code goes to its own field, a #PF's
 * qualification is the faulting linear address (28.2.1) and CR2 is not
 * written (27.1 / 28.1: the exit happens instead of the delivery).
 *
 * Off, each exception reaches a guest handler that halts; the frame on
 * its stack (SDM Vol. 3A 6.14.2) shows the return address: the faulting
 * instruction for faults, the next one for INT3 (a trap).
 */
#include "tests/unit/test_hw_vmx_exits.h"

#define RFLAGS_RF (1ull << 16)

static void start(const uint8_t *code, size_t len, unsigned vector, bool exits)
{
	vx_start(false);
	vx_code(code, len);
	vx_write(VMCS_EXCEPTION_BITMAP, exits ? 1u << vector : 0);
}

/* Exit 0 for hardware exception @vector at CODE (no error code). */
static void check_exit(unsigned type, unsigned vector)
{
	assert_int_equal(vx_read(VMCS_EXIT_INTR_INFO), II(type, vector));
	assert_int_equal(vx_rip(), CODE);
	assert_int_equal(vx_cnt()->exceptions, 0);
}

/* Delivered to a halting handler: the frame's RIP is @ret, with an error
 * code below it when @ec >= 0. */
static void check_delivered(uint64_t handler, uint64_t ret, long ec)
{
	assert_int_equal(vx_rip(), handler);
	uint64_t rsp = vx_gpr(RSP);
	if (ec >= 0) {
		assert_int_equal(rsp, STACK - 48);
		assert_int_equal(vx_get64(rsp), (uint64_t)ec);
		rsp += 8;
	} else {
		assert_int_equal(rsp, STACK - 40);
	}
	assert_int_equal(vx_get64(rsp), ret);
	assert_int_equal(vx_get64(rsp + 16) & ~RFLAGS_RF, RFL_FIXED);
	assert_int_equal(vx_cnt()->exceptions, 1);
}

/* ------------------------------------------------------------ #UD */

static const uint8_t ud2[] = { 0x0f, 0x0b, 0xf4 };	/* ud2; hlt */

static void ud_exits(void **state)
{
	start(ud2, sizeof(ud2), 6, true);
	assert_int_equal(vx_run(), R_EXC_NMI);
	check_exit(T_HW_EXC, 6);
	assert_int_equal(vx_qual(), 0);
}

static void ud_delivered(void **state)
{
	start(ud2, sizeof(ud2), 6, false);
	const uint64_t h = vx_hlt_handler(6);
	assert_int_equal(vx_run(), R_HLT);
	check_delivered(h, CODE, -1);
}

/* ------------------------------------------------------------ #BP */

/* INT3 first: decoded outside the decode cache (the code page is not in
 * the TLB yet), so its length must outlive the engine's run. */
static const uint8_t int3[] = { 0xcc, 0xf4 };		/* int3; hlt */

/* INT3 is a software exception (type 6): RIP stays at the INT3 and the
 * exit reports its length, 1 (28.2.4, 28.3.3), for re-injection. */
static void bp_exits(void **state)
{
	start(int3, sizeof(int3), 3, true);
	assert_int_equal(vx_run(), R_EXC_NMI);
	assert_int_equal(vx_read(VMCS_EXIT_INTR_INFO), II(T_SOFT_EXC, 3));
	assert_int_equal(vx_rip(), CODE);
	assert_int_equal(vx_len(), 1);
	assert_int_equal(vx_cnt()->exceptions, 0);
}

/* A trap: the handler's frame returns past the INT3. */
static void bp_delivered(void **state)
{
	start(int3, sizeof(int3), 3, false);
	const uint64_t h = vx_hlt_handler(3);
	assert_int_equal(vx_run(), R_HLT);
	check_delivered(h, CODE + 1, -1);
}

/* ------------------------------------------------------------ #DE */

static const uint8_t div0[] = { 0xf7, 0xf1, 0xf4 };	/* div ecx (ecx = 0); hlt */

static void de_exits(void **state)
{
	start(div0, sizeof(div0), 0, true);
	vx_set_gpr(RCX, 0);
	vx_set_gpr(RAX, 7);
	assert_int_equal(vx_run(), R_EXC_NMI);
	check_exit(T_HW_EXC, 0);
	assert_int_equal(vx_gpr(RAX), 7);
}

static void de_delivered(void **state)
{
	start(div0, sizeof(div0), 0, false);
	vx_set_gpr(RCX, 0);
	const uint64_t h = vx_hlt_handler(0);
	assert_int_equal(vx_run(), R_HLT);
	check_delivered(h, CODE, -1);
}

/* ------------------------------------------------------------ #GP */

/* A non-canonical address: #GP(0) (SDM Vol. 3A 3.3.7.1). */
static const uint8_t noncanon[] = { 0x48, 0x8b, 0x03, 0xf4 };	/* mov rax, [rbx]; hlt */
#define NONCANONICAL 0x8000000000000000ull

static void gp_exits(void **state)
{
	start(noncanon, sizeof(noncanon), 13, true);
	vx_set_gpr(RBX, NONCANONICAL);
	assert_int_equal(vx_run(), R_EXC_NMI);
	assert_int_equal(vx_read(VMCS_EXIT_INTR_INFO), II(T_HW_EXC, 13) | II_EC);
	assert_int_equal(vx_read(VMCS_EXIT_INTR_ERROR_CODE), 0);
	assert_int_equal(vx_rip(), CODE);
}

static void gp_delivered(void **state)
{
	start(noncanon, sizeof(noncanon), 13, false);
	vx_set_gpr(RBX, NONCANONICAL);
	const uint64_t h = vx_hlt_handler(13);
	assert_int_equal(vx_run(), R_HLT);
	check_delivered(h, CODE, 0);
}

/* Other bits do not catch it: the bitmap is per vector. */
static void gp_other_bits(void **state)
{
	start(noncanon, sizeof(noncanon), 13, false);
	vx_write(VMCS_EXCEPTION_BITMAP, ~(1u << 13));
	vx_set_gpr(RBX, NONCANONICAL);
	vx_hlt_handler(13);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_cnt()->exceptions, 1);
}

/* ------------------------------------------------------------ #PF */

#define PF_PAGE 0x300000ull
#define PF_ADDR (PF_PAGE + 0x10)
#define OLD_CR2 0x5555ull
#define PFEC_W	(1u << 1)	/* a write to a not-present page: PFEC 2 (SDM 4.7) */
#define PFEC_US	(1u << 2)

static const uint8_t pf_code[] = {
	0x0f, 0x22, 0xd3,	/* mov cr2, rbx */
	0x89, 0x08,		/* mov [rax], ecx   (CODE + 3) faults */
	0x0f, 0x20, 0xd1,	/* mov rcx, cr2     (CODE + 5) */
	0xf4,			/* hlt */
};

static const uint8_t pf_handler[] = {
	0x0f, 0x20, 0xd1,	/* mov rcx, cr2 */
	0xf4,			/* hlt */
};

/* A write to not-present PF_PAGE under the given bitmap bit and
 * PFEC_MASK / PFEC_MATCH; check whether it exits or is delivered. */
static void pf_case(bool bit14, uint32_t mask, uint32_t match, bool exits)
{
	vx_start(false);
	vx_code(pf_code, sizeof(pf_code));
	assert_int_equal(ptb_update(&g.guest, PTB_64, g.cr3, PF_PAGE, 1, 0, PTE_P), 0);
	hwg_load(&g, HANDLERS, pf_handler, sizeof(pf_handler));
	vx_gate(14, HANDLERS);
	vx_write(VMCS_EXCEPTION_BITMAP, bit14 ? 1u << 14 : 0);
	vx_write(VMCS_PF_ERROR_CODE_MASK, mask);
	vx_write(VMCS_PF_ERROR_CODE_MATCH, match);
	vx_set_gpr(RAX, PF_ADDR);
	vx_set_gpr(RBX, OLD_CR2);
	vx_set_gpr(RCX, 0);

	if (exits) {
		assert_int_equal(vx_run(), R_EXC_NMI);
		assert_int_equal(vx_read(VMCS_EXIT_INTR_INFO), II(T_HW_EXC, 14) | II_EC);
		assert_int_equal(vx_read(VMCS_EXIT_INTR_ERROR_CODE), PFEC_W);
		assert_int_equal(vx_qual(), PF_ADDR);
		assert_int_equal(vx_rip(), CODE + 3);
		/* CR2 is not written by a #PF that exits: the guest reads the
		 * value it had once resumed past the faulting MOV. */
		hwg_set_rip(&g, CODE + 5);
		assert_int_equal(vx_run(), R_HLT);
		assert_int_equal(vx_gpr(RCX), OLD_CR2);
	} else {
		assert_int_equal(vx_run(), R_HLT);
		assert_int_equal(vx_rip(), HANDLERS + 3);
		assert_int_equal(vx_gpr(RCX), PF_ADDR);		/* CR2 written */
		assert_int_equal(vx_get64(vx_gpr(RSP)), PFEC_W);
		assert_int_equal(vx_get64(vx_gpr(RSP) + 8), CODE + 3);
	}
	hwg_destroy(&g);
}

/* Bit 14 set: exit iff (PFEC & MASK) == MATCH. */
static void pf_bit_set(void **state)
{
	pf_case(true, 0, 0, true);			/* 0 == 0 */
	pf_case(true, PFEC_W, PFEC_W, true);		/* 2 == 2 */
	pf_case(true, PFEC_W, 0, false);		/* 2 != 0 */
	pf_case(true, PFEC_US, PFEC_US, false);		/* 0 != 4 */
	pf_case(true, PFEC_US, 0, true);		/* 0 == 0 */
}

/* Bit 14 clear: exit iff (PFEC & MASK) != MATCH. */
static void pf_bit_clear(void **state)
{
	pf_case(false, 0, 0, false);
	pf_case(false, PFEC_W, 0, true);
	pf_case(false, PFEC_W, PFEC_W, false);
	pf_case(false, 0, PFEC_US, true);		/* 0 != 4 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(ud_exits, vx_teardown),
		cmocka_unit_test_teardown(ud_delivered, vx_teardown),
		cmocka_unit_test_teardown(bp_exits, vx_teardown),
		cmocka_unit_test_teardown(bp_delivered, vx_teardown),
		cmocka_unit_test_teardown(de_exits, vx_teardown),
		cmocka_unit_test_teardown(de_delivered, vx_teardown),
		cmocka_unit_test_teardown(gp_exits, vx_teardown),
		cmocka_unit_test_teardown(gp_delivered, vx_teardown),
		cmocka_unit_test_teardown(gp_other_bits, vx_teardown),
		cmocka_unit_test_teardown(pf_bit_set, vx_teardown),
		cmocka_unit_test_teardown(pf_bit_clear, vx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
