/*
 * test_hw_vmx_exits_mon.c — RDPMC exiting, MONITOR exiting and MWAIT
 * exiting (SDM Vol. 3C 25.6.2 primary processor-based controls bits 11,
 * 29 and 10; 26.1.3), each with its control off and on.
 *
 *   RDPMC    exit 15; off: #GP(0), the model has no performance counters
 *            (CPUID.0AH reports none, so no ECX names a valid counter;
 *            SDM Vol. 2B RDPMC "#GP(0) if ECX specifies an invalid
 *            counter")
 *   MONITOR  exit 39; off: arms the monitor
 *   MWAIT    exit 36, qualification bit 0 = the monitor was armed
 *            (28.2.1); off: MWAIT may return at once (Vol. 2B MWAIT), the
 *            guest runs on
 *
 * Qualification 0 for RDPMC and MONITOR (28.2.1 lists neither: "For all
 * other VM exits, this field is cleared"), length per 28.2.4, RIP at the
 * instruction (28.3.3), EDX:EAX untouched.
 *
 * Ordering (26.1.1): #UD and "faults based on privilege level" come
 * before the exit - RDPMC at CPL 3 with CR4.PCE = 0 is #GP(0), MONITOR
 * and MWAIT at CPL 3 are #UD - while "fault-like VM exits have priority
 * over exceptions other than those mentioned above": an invalid counter
 * in ECX, or ECX ≠ 0 for MONITOR, exits rather than #GP. VM entry clears
 * address-range monitoring (Vol. 3C 31.3 VMLAUNCH/VMRESUME "Operation").
 */
#include "tests/unit/test_hw_vmx_exits.h"

#define R_RDPMC		15
#define R_MWAIT		36
#define R_MONITOR	39

#define PROC_MWAIT	(1u << 10)
#define PROC_RDPMC	(1u << 11)
#define PROC_MONITOR	(1u << 29)

#define UD 6
#define GP 13
#define CR4_PCE (1ull << 8)

#define EAX_SENTINEL 0x5555aaaa5555aaaaull
#define EDX_SENTINEL 0x3333cccc3333ccccull

static void start(const uint8_t *code, size_t len, uint32_t proc_set, uint32_t proc_clear)
{
	vx_start(false);
	vx_code(code, len);
	vx_ctl(VMCS_PROC_BASED_CTLS, proc_set, proc_clear);
	vx_write(VMCS_EXCEPTION_BITMAP, 1u << UD | 1u << GP);
	vx_set_gpr(RAX, EAX_SENTINEL);
	vx_set_gpr(RDX, EDX_SENTINEL);
}

/* The same CPL 3 as test_hw_vmx_exits_virt.c (27.3.1.2 checks). */
static void to_cpl3(void)
{
	vx_write(VMCS_GUEST_CS_SELECTOR, 0x2b);
	vx_write(VMCS_GUEST_CS_ACCESS_RIGHTS, 0xa0fb);
	vx_write(VMCS_GUEST_SS_SELECTOR, 0x33);
	vx_write(VMCS_GUEST_SS_ACCESS_RIGHTS, 0xc0f3);
	assert_int_equal(ptb_update(&g.guest, PTB_64, g.cr3, CODE, 1, PTE_US, 0), 0);
}

/* Exit 0 for an exception at @rip: #GP with error code 0, or #UD. */
static void assert_exc(unsigned vector, uint64_t rip)
{
	assert_int_equal(vx_run(), R_EXC_NMI);
	if (vector == GP) {
		assert_int_equal(vx_read(VMCS_EXIT_INTR_INFO), II(T_HW_EXC, GP) | II_EC);
		assert_int_equal(vx_read(VMCS_EXIT_INTR_ERROR_CODE), 0);
	} else {
		assert_int_equal(vx_read(VMCS_EXIT_INTR_INFO), II(T_HW_EXC, vector));
	}
	assert_int_equal(vx_rip(), rip);
}

/* The instruction at @rip exited with @reason, @qual, length @len. */
static void assert_insn_exit(uint64_t reason, uint64_t rip, unsigned len, uint64_t qual)
{
	assert_int_equal(vx_run(), reason);
	assert_int_equal(vx_rip(), rip);
	assert_int_equal(vx_len(), len);
	assert_int_equal(vx_qual(), qual);
	assert_int_equal(vx_gpr(RAX), EAX_SENTINEL);
	assert_int_equal(vx_gpr(RDX), EDX_SENTINEL);
}

/* ------------------------------------------------------------ RDPMC */

static const uint8_t rdpmc_hlt[] = { 0x0f, 0x33, 0xf4 };	/* rdpmc; hlt */

/* Off: counter 0 does not exist here, #GP(0) at the RDPMC. */
static void rdpmc_off_gp(void **state)
{
	start(rdpmc_hlt, sizeof(rdpmc_hlt), 0, PROC_RDPMC);
	vx_set_gpr(RCX, 0);
	assert_exc(GP, CODE);
	assert_int_equal(vx_gpr(RAX), EAX_SENTINEL);
}

/* On: exit 15 before anything is read. */
static void rdpmc_on_exits(void **state)
{
	start(rdpmc_hlt, sizeof(rdpmc_hlt), PROC_RDPMC, 0);
	vx_set_gpr(RCX, 0);
	assert_insn_exit(R_RDPMC, CODE, 2, 0);
	assert_int_equal(vx_cnt()->insns, 0);
}

/* An ECX no processor accepts (type 1 in ECX[31:16] is undefined):
 * the #GP depends on the operand, the exit comes first (26.1.1). */
static void rdpmc_exit_before_operand_gp(void **state)
{
	start(rdpmc_hlt, sizeof(rdpmc_hlt), PROC_RDPMC, 0);
	vx_set_gpr(RCX, 0x12345);
	assert_insn_exit(R_RDPMC, CODE, 2, 0);
}

/* CPL 3: with CR4.PCE = 0 the privilege #GP(0) beats the exit; with
 * CR4.PCE = 1 RDPMC is allowed at CPL 3 and exits. */
static void rdpmc_cpl3(void **state)
{
	start(rdpmc_hlt, sizeof(rdpmc_hlt), PROC_RDPMC, 0);
	to_cpl3();
	vx_write(VMCS_GUEST_CR4, vx_read(VMCS_GUEST_CR4) & ~CR4_PCE);
	vx_set_gpr(RCX, 0);
	assert_exc(GP, CODE);
	hwg_destroy(&g);

	start(rdpmc_hlt, sizeof(rdpmc_hlt), PROC_RDPMC, 0);
	to_cpl3();
	vx_write(VMCS_GUEST_CR4, vx_read(VMCS_GUEST_CR4) | CR4_PCE);
	vx_set_gpr(RCX, 0);
	assert_insn_exit(R_RDPMC, CODE, 2, 0);
}

/* ------------------------------------------------------------ MONITOR, MWAIT */

static const uint8_t monitor_mwait[] = {
	0x0f, 0x01, 0xc8,	/* monitor           (CODE) */
	0x0f, 0x01, 0xc9,	/* mwait             (CODE + 3) */
	0xf4,			/* hlt               (CODE + 6) */
};

static void mon_start(uint32_t proc_set, uint32_t proc_clear)
{
	start(monitor_mwait, sizeof(monitor_mwait), proc_set, proc_clear);
	vx_set_gpr(RAX, DATA);		/* the monitored address, DS:RAX */
	vx_set_gpr(RCX, 0);		/* no extensions */
	vx_set_gpr(RDX, EDX_SENTINEL);	/* hints */
}

/* Both off: MONITOR arms, MWAIT returns at once, the HLT exits. */
static void monitor_mwait_off(void **state)
{
	mon_start(0, PROC_MONITOR | PROC_MWAIT);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_rip(), CODE + 6);
	assert_int_equal(vx_cnt()->insns, 2);
}

static void monitor_on_exits(void **state)
{
	mon_start(PROC_MONITOR, PROC_MWAIT);
	assert_int_equal(vx_run(), R_MONITOR);
	assert_int_equal(vx_rip(), CODE);
	assert_int_equal(vx_len(), 3);
	assert_int_equal(vx_qual(), 0);
	assert_int_equal(vx_gpr(RAX), DATA);
	assert_int_equal(vx_gpr(RDX), EDX_SENTINEL);
	assert_int_equal(vx_cnt()->insns, 0);
}

/* MWAIT exiting with MONITOR exiting off: MONITOR armed the monitor,
 * so the MWAIT exit's qualification is 1. */
static void mwait_on_exits_armed(void **state)
{
	mon_start(PROC_MWAIT, PROC_MONITOR);
	assert_int_equal(vx_run(), R_MWAIT);
	assert_int_equal(vx_rip(), CODE + 3);
	assert_int_equal(vx_len(), 3);
	assert_int_equal(vx_qual(), 1);
	assert_int_equal(vx_cnt()->insns, 1);
}

/* No MONITOR before it: qualification 0. */
static void mwait_on_exits_unarmed(void **state)
{
	mon_start(PROC_MWAIT, PROC_MONITOR);
	hwg_set_rip(&g, CODE + 3);
	assert_int_equal(vx_run(), R_MWAIT);
	assert_int_equal(vx_rip(), CODE + 3);
	assert_int_equal(vx_len(), 3);
	assert_int_equal(vx_qual(), 0);
}

/*
 * VMLAUNCH/VMRESUME "clear address-range monitoring" (Vol. 3C 31.3,
 * "Operation"): a MONITOR before an exit does not arm an MWAIT after the
 * next entry. Guest: MONITOR; OUT (exit 30); MWAIT.
 */
static void monitor_disarmed_by_entry(void **state)
{
	static const uint8_t code[] = {
		0x0f, 0x01, 0xc8,	/* monitor */
		0xe6, 0x80,		/* out 0x80, al      (CODE + 3: I/O exit) */
		0x0f, 0x01, 0xc9,	/* mwait             (CODE + 5) */
		0xf4,			/* hlt */
	};
	start(code, sizeof(code), PROC_MWAIT, PROC_MONITOR);
	vx_set_gpr(RAX, DATA);
	vx_set_gpr(RCX, 0);
	assert_int_equal(vx_run(), R_IO);
	assert_int_equal(vx_rip(), CODE + 3);
	hwg_skip(&g);
	assert_int_equal(vx_run(), R_MWAIT);
	assert_int_equal(vx_rip(), CODE + 5);
	const uint64_t armed = vx_qual();
	assert_true(armed <= 1);
	assert_int_equal(armed, 0);
}

/* CPL 3: MONITOR and MWAIT are #UD (CPL 0 only, Vol. 2B), which has
 * priority over their exits (26.1.1). */
static void monitor_mwait_cpl3_ud(void **state)
{
	mon_start(PROC_MONITOR | PROC_MWAIT, 0);
	to_cpl3();
	assert_exc(UD, CODE);
	hwg_destroy(&g);

	mon_start(PROC_MONITOR | PROC_MWAIT, 0);
	to_cpl3();
	hwg_set_rip(&g, CODE + 3);
	assert_exc(UD, CODE + 3);
}

/*
 * Operand faults come after the exit (26.1.1): MONITOR with ECX = 1 (no
 * extension is defined: #GP(0), Vol. 2B MONITOR) and MWAIT with ECX = 2
 * (ECX[31:1] reserved: #GP(0)) exit when their control is 1. Off, the
 * same operands fault.
 */
static void exit_before_operand_gp(void **state)
{
	mon_start(0, PROC_MONITOR | PROC_MWAIT);
	vx_set_gpr(RCX, 1);
	assert_exc(GP, CODE);
	hwg_destroy(&g);

	mon_start(0, PROC_MONITOR | PROC_MWAIT);
	hwg_set_rip(&g, CODE + 3);
	vx_set_gpr(RCX, 2);
	assert_exc(GP, CODE + 3);
	hwg_destroy(&g);

	mon_start(PROC_MONITOR, 0);
	vx_set_gpr(RCX, 1);
	const uint64_t monitor = vx_run();
	assert_true(monitor == R_MONITOR || monitor == R_EXC_NMI);
	hwg_destroy(&g);

	mon_start(PROC_MWAIT, 0);
	hwg_set_rip(&g, CODE + 3);
	vx_set_gpr(RCX, 2);
	const uint64_t mwait = vx_run();
	assert_true(mwait == R_MWAIT || mwait == R_EXC_NMI);
	assert_int_equal(monitor, R_MONITOR);
	assert_int_equal(mwait, R_MWAIT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(rdpmc_off_gp, vx_teardown),
		cmocka_unit_test_teardown(rdpmc_on_exits, vx_teardown),
		cmocka_unit_test_teardown(rdpmc_exit_before_operand_gp, vx_teardown),
		cmocka_unit_test_teardown(rdpmc_cpl3, vx_teardown),
		cmocka_unit_test_teardown(monitor_mwait_off, vx_teardown),
		cmocka_unit_test_teardown(monitor_on_exits, vx_teardown),
		cmocka_unit_test_teardown(mwait_on_exits_armed, vx_teardown),
		cmocka_unit_test_teardown(mwait_on_exits_unarmed, vx_teardown),
		cmocka_unit_test_teardown(monitor_disarmed_by_entry, vx_teardown),
		cmocka_unit_test_teardown(monitor_mwait_cpl3_ud, vx_teardown),
		cmocka_unit_test_teardown(exit_before_operand_gp, vx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
