/*
 * test_hw_svm_exits_misc.c — the SVM instruction intercepts of RDPMC,
 * MONITOR, MWAIT (unconditional and conditional), PUSHF, POPF, IRET,
 * INT n and ICEBP (APM Vol. 2 15.9, Table 15-7), each with the intercept
 * off (the instruction's architectural effect) and on (EXITCODE, RIP at
 * the instruction, nRIP after it, nothing changed).
 *
 * Priorities, Table 15-7:
 *   RDPMC        "Checks all exceptions before the SVM intercept"
 *   MONITOR      "Checks all exceptions before the intercept"
 *   MWAIT        the same; "When both conditional and unconditional MWAIT
 *                intercepts are active, the conditional intercept is
 *                checked first": armed -> 0x8c, not armed -> 0x8b
 *   PUSHF, POPF  "Takes priority over any exceptions"
 *   IRET         "The intercept takes priority over any exceptions"
 *   INT n        "The intercept occurs before any exceptions are checked"
 *   ICEBP        its #DB "is not interceptable by means of the #DB
 *                exception intercept" (also 15.12.2)
 * and 15.13: exception intercepts do not apply to software interrupts.
 *
 * The model has no performance counters: RDPMC raises #GP(0) when not
 * intercepted (hw/insn_icpt.c), which for counters 0-3 departs from the
 * APM (rdpmc_off_counter0), so the tests fault with a counter number no
 * AMD64 processor has and exit with counter 0. The processor decodes no operand for the
 * hypervisor (CPUID 8000_000AH:EDX[7] DecodeAssists = 0), so EXITINFO1 of
 * these intercepts is undefined and not checked.
 *
 * Encodings checked with GNU as / objdump -M intel.
 */
#include "tests/unit/test_hw_svm_icpt.h"

#define RFL_CF	(1ull << 0)
#define RFL_ZF	(1ull << 6)
#define RFL_SF	(1ull << 7)
#define RFL_OF	(1ull << 11)

/* ------------------------------------------------------------ RDPMC */

static const uint8_t rdpmc_hlt[] = { 0x0f, 0x33, 0xf4 };	/* rdpmc; hlt */

/* ECX = 0x1000 names no counter on any AMD64 processor (APM Vol. 3
 * RDPMC: PerfCtr0-5, and the northbridge and L2 counters above them). */
#define NO_COUNTER 0x1000

static void rdpmc_start(uint32_t ecx)
{
	sv_start(rdpmc_hlt, sizeof(rdpmc_hlt));
	vmcb()->control.intercept_exceptions |= 1u << GP;
	sv_set_sentinels();
	sv_set_gpr(RCX, ecx);
}

/* Off: #GP(0) at the RDPMC, EDX:EAX untouched. */
static void rdpmc_off(void **state)
{
	rdpmc_start(NO_COUNTER);
	sv_assert_exc(GP, 0, CODE);
	assert_int_equal(sv_gpr(RAX), sv_sentinel(RAX));
	assert_int_equal(sv_gpr(RDX), sv_sentinel(RDX));
}

/*
 * APM Vol. 3 RDPMC: "The AMD64 architecture currently supports four
 * performance counters: PerfCtr0 through PerfCtr3" - counter 0 always
 * exists, so RDPMC ECX = 0 at CPL 0 does not fault.
 */
static void rdpmc_off_counter0(void **state)
{
	rdpmc_start(0);
	const uint64_t code = sv_run();
	assert_true(code == EXIT_HLT || code == EXIT_EXCP(GP));
	assert_int_equal(code, EXIT_HLT);
}

/* On, counter 0: exit 0x6f, nothing read. */
static void rdpmc_on(void **state)
{
	rdpmc_start(0);
	vmcb()->control.intercept_misc1 |= V3_RDPMC;
	sv_assert_icpt(EXIT_RDPMC, CODE, 2);
	assert_int_equal(sv_gpr(RAX), sv_sentinel(RAX));
	assert_int_equal(sv_gpr(RDX), sv_sentinel(RDX));
	assert_int_equal(sv_gpr(RCX), 0);
}

/* An invalid counter faults before the intercept is checked. */
static void rdpmc_gp_before_intercept(void **state)
{
	rdpmc_start(NO_COUNTER);
	vmcb()->control.intercept_misc1 |= V3_RDPMC;
	const uint64_t code = sv_run();
	assert_true(code == EXIT_EXCP(GP) || code == EXIT_RDPMC);
	assert_int_equal(code, EXIT_EXCP(GP));
	assert_int_equal(vmcb()->control.exitinfo1, 0);
}

/* CPL 3 with CR4.PCE = 0: #GP(0) (Vol. 3 RDPMC), intercept or not. */
static void rdpmc_cpl3_gp(void **state)
{
	rdpmc_start(0);
	vmcb()->control.intercept_misc1 |= V3_RDPMC;
	vmcb()->save.cr4 &= ~CR4_PCE;
	sv_cpl3();
	sv_assert_exc(GP, 0, CODE);
}

/* ------------------------------------------------------------ MONITOR, MWAIT */

static const uint8_t monitor_mwait[] = {
	0x0f, 0x01, 0xc8,	/* monitor           (CODE) */
	0x0f, 0x01, 0xc9,	/* mwait             (CODE + 3) */
	0xf4,			/* hlt               (CODE + 6) */
};

static void mon_start(uint32_t misc2)
{
	sv_start(monitor_mwait, sizeof(monitor_mwait));
	vmcb()->control.intercept_misc2 |= misc2;
	vmcb()->control.intercept_exceptions |= 1u << GP | 1u << UD;
	sv_set_gpr(RAX, DATA);		/* the monitored address, DS:rAX */
	sv_set_gpr(RCX, 0);		/* no extensions */
	sv_set_gpr(RDX, 0);		/* no hints */
}

/* Off: MONITOR arms, MWAIT returns at once, the guest reaches HLT. */
static void monitor_mwait_off(void **state)
{
	mon_start(0);
	assert_int_equal(sv_run(), EXIT_HLT);
	assert_int_equal(hwg_rip(&g), CODE + 6);
}

static void monitor_on(void **state)
{
	mon_start(V4_MONITOR);
	sv_assert_icpt(EXIT_MONITOR, CODE, 3);
	assert_int_equal(sv_gpr(RAX), DATA);
}

/* Unconditional MWAIT intercept: armed or not, 0x8b. */
static void mwait_on(void **state)
{
	mon_start(V4_MWAIT);
	sv_assert_icpt(EXIT_MWAIT, CODE + 3, 3);	/* after MONITOR: armed */
	hwg_destroy(&g);

	mon_start(V4_MWAIT);
	hwg_set_rip(&g, CODE + 3);			/* no MONITOR: not armed */
	sv_assert_icpt(EXIT_MWAIT, CODE + 3, 3);
}

/* Conditional only: exits (0x8c) when the monitor is armed; otherwise
 * MWAIT would not wait and runs on to the HLT. */
static void mwait_cond(void **state)
{
	mon_start(V4_MWAIT_COND);
	sv_assert_icpt(EXIT_MWAIT_COND, CODE + 3, 3);
	hwg_destroy(&g);

	mon_start(V4_MWAIT_COND);
	hwg_set_rip(&g, CODE + 3);
	assert_int_equal(sv_run(), EXIT_HLT);
	assert_int_equal(hwg_rip(&g), CODE + 6);
}

/* Both: the conditional intercept is checked first. */
static void mwait_both(void **state)
{
	mon_start(V4_MWAIT | V4_MWAIT_COND);
	hwg_set_rip(&g, CODE + 3);
	sv_assert_icpt(EXIT_MWAIT, CODE + 3, 3);	/* not armed */
	hwg_destroy(&g);

	mon_start(V4_MWAIT | V4_MWAIT_COND);
	const uint64_t code = sv_run();			/* armed */
	assert_true(code == EXIT_MWAIT_COND || code == EXIT_MWAIT);
	assert_int_equal(hwg_rip(&g), CODE + 3);
	assert_int_equal(code, EXIT_MWAIT_COND);
}

/* Operand #GP(0) before the intercepts: MONITOR with ECX = 1 (no
 * extension defined), MWAIT with ECX = 2 (ECX[31:1] reserved). */
static void monitor_mwait_gp_before_intercept(void **state)
{
	mon_start(V4_MONITOR | V4_MWAIT);
	sv_set_gpr(RCX, 1);
	sv_assert_exc(GP, 0, CODE);
	hwg_destroy(&g);

	mon_start(V4_MONITOR | V4_MWAIT);
	hwg_set_rip(&g, CODE + 3);
	sv_set_gpr(RCX, 2);
	sv_assert_exc(GP, 0, CODE + 3);
}

/* CPL 3: #UD (MONITOR and MWAIT are CPL 0 instructions unless
 * HWCR.MonMwaitUserEn, which the model does not have). */
static void monitor_mwait_cpl3_ud(void **state)
{
	mon_start(V4_MONITOR | V4_MWAIT);
	sv_cpl3();
	sv_assert_exc(UD, 0, CODE);
	hwg_destroy(&g);

	mon_start(V4_MONITOR | V4_MWAIT);
	sv_cpl3();
	hwg_set_rip(&g, CODE + 3);
	sv_assert_exc(UD, 0, CODE + 3);
}

/* ------------------------------------------------------------ PUSHF, POPF */

static const uint8_t pushf_hlt[] = { 0x9c, 0xf4 };	/* pushfq; hlt */
static const uint8_t popf_hlt[] = { 0x9d, 0xf4 };	/* popfq; hlt */

#define FLAGS_IN (0x2ull | RFL_CF | RFL_ZF)

static void pushf_intercept(void **state)
{
	sv_start(pushf_hlt, sizeof(pushf_hlt));
	vmcb()->save.rflags = FLAGS_IN;
	sv_put64(STACK - 8, 0x5a5a);
	assert_int_equal(sv_run(), EXIT_HLT);
	assert_int_equal(sv_gpr(RSP), STACK - 8);
	assert_int_equal(sv_get64(STACK - 8), FLAGS_IN);
	hwg_destroy(&g);

	sv_start(pushf_hlt, sizeof(pushf_hlt));
	vmcb()->save.rflags = FLAGS_IN;
	vmcb()->control.intercept_misc1 |= V3_PUSHF;
	sv_put64(STACK - 8, 0x5a5a);
	sv_assert_icpt(EXIT_PUSHF, CODE, 1);
	assert_int_equal(sv_gpr(RSP), STACK);
	assert_int_equal(sv_get64(STACK - 8), 0x5a5a);
}

#define FLAGS_POPPED (0x2ull | RFL_CF | RFL_SF | RFL_OF)

static void popf_intercept(void **state)
{
	sv_start(popf_hlt, sizeof(popf_hlt));
	sv_put64(STACK, FLAGS_POPPED);
	assert_int_equal(sv_run(), EXIT_HLT);
	assert_int_equal(sv_gpr(RSP), STACK + 8);
	assert_int_equal(vmcb()->save.rflags, FLAGS_POPPED);
	hwg_destroy(&g);

	sv_start(popf_hlt, sizeof(popf_hlt));
	sv_put64(STACK, FLAGS_POPPED);
	vmcb()->control.intercept_misc1 |= V3_POPF;
	sv_assert_icpt(EXIT_POPF, CODE, 1);
	assert_int_equal(sv_gpr(RSP), STACK);
	assert_int_equal(vmcb()->save.rflags, 0x2);
}

/* With the stack on an unmapped page PUSHF and POPF fault (#PF, the
 * address in EXITINFO2) - unless intercepted, which comes first. */
static void pushf_popf_intercept_before_pf(void **state)
{
	const struct { const uint8_t *code; uint32_t bit; uint64_t exit, addr, ec; } c[] = {
		{ pushf_hlt, V3_PUSHF, EXIT_PUSHF, UNMAPPED - 8, PFE_W },
		{ popf_hlt, V3_POPF, EXIT_POPF, UNMAPPED, 0 },
	};
	for (unsigned i = 0; i < 2; i++) {
		sv_start(c[i].code, 2);
		hwg_set_entry(&g, CODE, UNMAPPED);
		vmcb()->control.intercept_exceptions |= 1u << PF;
		sv_assert_exc(PF, c[i].ec, CODE);
		assert_int_equal(vmcb()->control.exitinfo2, c[i].addr);
		hwg_destroy(&g);

		sv_start(c[i].code, 2);
		hwg_set_entry(&g, CODE, UNMAPPED);
		vmcb()->control.intercept_exceptions |= 1u << PF;
		vmcb()->control.intercept_misc1 |= c[i].bit;
		sv_assert_icpt(c[i].exit, CODE, 1);
		hwg_destroy(&g);
	}
}

/* ------------------------------------------------------------ IRET */

/* A same-privilege IRETQ to CODE + 0x10 through a frame it builds. */
static const uint8_t iret_code[] = {
	0x48, 0x89, 0xe0,		/* mov rax, rsp */
	0x6a, 0x10,			/* push 0x10         SS */
	0x50,				/* push rax          RSP */
	0x9c,				/* pushfq */
	0x6a, 0x08,			/* push 0x08         CS */
	0x68, 0x10, 0x00, 0x01, 0x00,	/* push CODE + 0x10  RIP */
	0x48, 0xcf,			/* iretq             (CODE + 0xe) */
	0x90,				/* nop               (CODE + 0x10) */
	0xf4,				/* hlt */
};

static void iret_intercept(void **state)
{
	sv_start(iret_code, sizeof(iret_code));
	assert_int_equal(sv_run(), EXIT_HLT);
	assert_int_equal(hwg_rip(&g), CODE + 0x11);
	assert_int_equal(sv_gpr(RSP), STACK);
	hwg_destroy(&g);

	sv_start(iret_code, sizeof(iret_code));
	vmcb()->control.intercept_misc1 |= V3_IRET;
	sv_assert_icpt(EXIT_IRET, CODE + 0xe, 2);
	assert_int_equal(sv_gpr(RSP), STACK - 40);	/* the frame still there */
}

/* A frame with a null CS: IRET raises #GP(0) (APM Vol. 3 IRET) - after
 * the intercept, which takes priority over any exception. */
static void iret_intercept_before_gp(void **state)
{
	static const uint8_t code[] = { 0x48, 0xcf, 0xf4 };	/* iretq; hlt */
	for (int on = 0; on <= 1; on++) {
		sv_start(code, sizeof(code));
		sv_put64(STACK, CODE + 2);		/* RIP */
		sv_put64(STACK + 8, 0);			/* CS: null */
		sv_put64(STACK + 16, 2);		/* RFLAGS */
		sv_put64(STACK + 24, STACK + 40);	/* RSP */
		sv_put64(STACK + 32, 0x10);		/* SS */
		vmcb()->control.intercept_exceptions |= 1u << GP;
		if (on) {
			vmcb()->control.intercept_misc1 |= V3_IRET;
			sv_assert_icpt(EXIT_IRET, CODE, 2);
		} else {
			sv_assert_exc(GP, 0, CODE);
		}
		assert_int_equal(sv_gpr(RSP), STACK);
		hwg_destroy(&g);
	}
}

/* ------------------------------------------------------------ INT n */

static const uint8_t int41_hlt[] = { 0xcd, 0x41, 0xf4 };	/* int 0x41; hlt */

/* Off: delivered through gate 0x41 (a 64-bit frame of five quadwords,
 * the return RIP after the INT); on: exit 0x75 at the INT. */
static void intn_intercept(void **state)
{
	sv_start(int41_hlt, sizeof(int41_hlt));
	const uint64_t handler = sv_hlt_handler(0x41);
	assert_int_equal(sv_run(), EXIT_HLT);
	assert_int_equal(hwg_rip(&g), handler);
	assert_int_equal(sv_gpr(RSP), STACK - 40);
	assert_int_equal(sv_get64(STACK - 40), CODE + 2);
	assert_int_equal(sv_get64(STACK - 32), 0x08);
	hwg_destroy(&g);

	sv_start(int41_hlt, sizeof(int41_hlt));
	sv_hlt_handler(0x41);
	vmcb()->control.intercept_misc1 |= V3_INTN;
	sv_set_sentinels();
	sv_assert_icpt(EXIT_SWINT, CODE, 2);
	sv_assert_sentinels();
}

/* Gate 0x41 an interrupt gate with P = 0: #NP with error code
 * 0x41 * 8 + 2 (IDT bit, APM Vol. 2 8.4.1) when delivered; the intercept
 * comes before it. */
static void intn_intercept_before_np(void **state)
{
	for (int on = 0; on <= 1; on++) {
		sv_start(int41_hlt, sizeof(int41_hlt));
		sv_hlt_handler(0x41);
		const uint64_t gate = vmcb()->save.idtr.base + 16 * 0x41;
		sv_put64(gate, sv_get64(gate) & ~(1ull << 47));	/* P = 0 */
		vmcb()->control.intercept_exceptions |= 1u << NP;
		if (on) {
			vmcb()->control.intercept_misc1 |= V3_INTN;
			sv_assert_icpt(EXIT_SWINT, CODE, 2);
		} else {
			sv_assert_exc(NP, 0x41 * 8 + 2, CODE);
		}
		assert_int_equal(sv_gpr(RSP), STACK);
		hwg_destroy(&g);
	}
}

/* 15.13: INT 6 is a software interrupt, not a #UD: the #UD exception
 * intercept does not see it, gate 6 does. */
static void intn_not_an_exception(void **state)
{
	static const uint8_t code[] = { 0xcd, 0x06, 0xf4 };	/* int 6; hlt */
	sv_start(code, sizeof(code));
	vmcb()->control.intercept_exceptions |= 1u << UD;
	const uint64_t handler = sv_hlt_handler(6);
	assert_int_equal(sv_run(), EXIT_HLT);
	assert_int_equal(hwg_rip(&g), handler);
	assert_int_equal(sv_get64(STACK - 40), CODE + 2);
}

/* ------------------------------------------------------------ ICEBP */

/* Off: INT1 delivers vector 1 through the IDT as a trap (return RIP
 * after it) and the #DB exception intercept does not apply (15.12.2:
 * "A vector 1 exception generated by the single byte INT1 instruction
 * ... does not trigger the #DB intercept"). On: exit 0x88 at the F1. */
static void icebp_intercept(void **state)
{
	static const uint8_t code[] = { 0xf1, 0xf4 };		/* int1; hlt */
	sv_start(code, sizeof(code));
	vmcb()->control.intercept_exceptions |= 1u << DB;
	const uint64_t handler = sv_hlt_handler(DB);
	const uint64_t exit = sv_run();
	assert_true(exit == EXIT_HLT || exit == EXIT_EXCP(DB));
	assert_int_equal(exit, EXIT_HLT);
	assert_int_equal(hwg_rip(&g), handler);
	assert_int_equal(sv_get64(STACK - 40), CODE + 1);
	hwg_destroy(&g);

	sv_start(code, sizeof(code));
	vmcb()->control.intercept_misc2 |= V4_ICEBP;
	vmcb()->control.intercept_exceptions |= 1u << DB;
	sv_set_sentinels();
	sv_assert_icpt(EXIT_ICEBP, CODE, 1);
	sv_assert_sentinels();
	assert_int_equal(sv_gpr(RSP), STACK);
}

#define T(f) cmocka_unit_test_teardown(f, sv_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(rdpmc_off),
		T(rdpmc_off_counter0),
		T(rdpmc_on),
		T(rdpmc_gp_before_intercept),
		T(rdpmc_cpl3_gp),
		T(monitor_mwait_off),
		T(monitor_on),
		T(mwait_on),
		T(mwait_cond),
		T(mwait_both),
		T(monitor_mwait_gp_before_intercept),
		T(monitor_mwait_cpl3_ud),
		T(pushf_intercept),
		T(popf_intercept),
		T(pushf_popf_intercept_before_pf),
		T(iret_intercept),
		T(iret_intercept_before_gp),
		T(intn_intercept),
		T(intn_intercept_before_np),
		T(intn_not_an_exception),
		T(icebp_intercept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
