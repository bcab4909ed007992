/*
 * test_hw_vmx_exits_intr.c — events between instructions in VMX
 * non-root operation: the pin-based controls (external-interrupt
 * exiting with and without "acknowledge interrupt on exit", NMI exiting,
 * the VMX-preemption timer; SDM Vol. 3C 25.6.1, 26.2, 26.5.1) and the
 * window controls (interrupt-window and NMI-window exiting, 26.7.5,
 * 26.7.6), each with the control off (the event reaches the guest through
 * its IDT) and on (the exit, with RIP at the instruction that had not
 * yet run, 28.3.3).
 *
 * A delivered event is observed through a handler that halts (HLT
 * exiting is on): the exit is at the handler, and the stack holds the
 * 64-bit interrupt frame (SDM Vol. 3A 6.14.2: RSP aligned to 16, then
 * SS, RSP, RFLAGS, CS, RIP).
 */
#include "tests/unit/test_hw_vmx_exits.h"

#define VEC 0x41

static const uint8_t nop_hlt[] = {
	0x90,			/* nop */
	0xf4,			/* hlt              (CODE + 1) */
};

static void start(const uint8_t *code, size_t len, uint64_t rflags)
{
	vx_start(false);
	vx_code(code, len);
	vx_write(VMCS_GUEST_RFLAGS, rflags);
}

/* The interrupt frame at the guest's RSP, for an event that interrupted
 * the guest at @rip with RFLAGS @rflags (no error code). */
static void check_frame(uint64_t rip, uint64_t rflags)
{
	const uint64_t rsp = vx_gpr(RSP);
	assert_int_equal(rsp, STACK - 40);
	assert_int_equal(vx_get64(rsp), rip);
	assert_int_equal(vx_get64(rsp + 8), 0x08);	/* CS */
	assert_int_equal(vx_get64(rsp + 16), rflags);
	assert_int_equal(vx_get64(rsp + 24), STACK);
	assert_int_equal(vx_get64(rsp + 32), 0x10);	/* SS */
}

/* ------------------------------------------------------------ external interrupts */

/* Exiting and acknowledge on: exit 1 before the first instruction,
 * whatever IF says, with the vector (type 0) in the exit interruption
 * information; the interrupt is no longer pending afterwards (28.1). */
static void extint_exit_ack(void **state)
{
	start(nop_hlt, sizeof(nop_hlt), RFL_FIXED);
	vx_ctl(VMCS_EXIT_CTLS, EXIT_ACK_INTR, 0);
	hw_cpu_set_intr(g.cpu, true, VEC);
	assert_int_equal(vx_run(), R_EXT_INTR);
	assert_int_equal(vx_read(VMCS_EXIT_INTR_INFO), II(T_EXT_INTR, VEC));
	assert_int_equal(vx_qual(), 0);
	assert_int_equal(vx_rip(), CODE);
	assert_int_equal(vx_cnt()->insns, 0);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_rip(), CODE + 1);
}

/* Acknowledge off: the exit interruption information is invalid and the
 * interrupt stays pending, so the next entry exits again. */
static void extint_exit_noack(void **state)
{
	start(nop_hlt, sizeof(nop_hlt), RFL_FIXED);
	vx_ctl(VMCS_EXIT_CTLS, 0, EXIT_ACK_INTR);
	hw_cpu_set_intr(g.cpu, true, VEC);
	assert_int_equal(vx_run(), R_EXT_INTR);
	assert_int_equal(vx_read(VMCS_EXIT_INTR_INFO) & II_VALID, 0);
	assert_int_equal(vx_rip(), CODE);
	assert_int_equal(vx_run(), R_EXT_INTR);
	assert_int_equal(vx_rip(), CODE);
}

/* Exiting off, IF = 1: delivered through the guest IDT before the first
 * instruction; the interrupt gate clears IF. */
static void extint_delivered(void **state)
{
	start(nop_hlt, sizeof(nop_hlt), RFL_FIXED | RFL_IF);
	vx_ctl(VMCS_PIN_BASED_CTLS, 0, PIN_EXT_INTR);
	const uint64_t handler = vx_hlt_handler(VEC);
	hw_cpu_set_intr(g.cpu, true, VEC);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_rip(), handler);
	check_frame(CODE, RFL_FIXED | RFL_IF);
	assert_int_equal(vx_read(VMCS_GUEST_RFLAGS), RFL_FIXED);
	assert_int_equal(vx_cnt()->interrupts, 1);
}

/* Exiting off, IF = 0: the interrupt waits; the guest runs on. */
static void extint_blocked_by_if(void **state)
{
	start(nop_hlt, sizeof(nop_hlt), RFL_FIXED);
	vx_ctl(VMCS_PIN_BASED_CTLS, 0, PIN_EXT_INTR);
	vx_hlt_handler(VEC);
	hw_cpu_set_intr(g.cpu, true, VEC);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_rip(), CODE + 1);
	assert_int_equal(vx_cnt()->interrupts, 0);
}

/* ------------------------------------------------------------ NMIs */

/* NMI exiting: exit 0 with type 2 (NMI), vector 2. */
static void nmi_exit(void **state)
{
	start(nop_hlt, sizeof(nop_hlt), RFL_FIXED);
	hw_cpu_nmi(g.cpu);
	assert_int_equal(vx_run(), R_EXC_NMI);
	assert_int_equal(vx_read(VMCS_EXIT_INTR_INFO), II(T_NMI, 2));
	assert_int_equal(vx_qual(), 0);
	assert_int_equal(vx_rip(), CODE);
	assert_int_equal(vx_run(), R_HLT);	/* the NMI was taken */
}

/* NMI exiting off: delivered through IDT vector 2 even with IF = 0, and
 * NMIs are blocked afterwards (interruptibility bit 3, 25.4.2). */
static void nmi_delivered(void **state)
{
	start(nop_hlt, sizeof(nop_hlt), RFL_FIXED);
	vx_ctl(VMCS_PIN_BASED_CTLS, 0, PIN_NMI | PIN_VNMI);
	const uint64_t handler = vx_hlt_handler(2);
	hw_cpu_nmi(g.cpu);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_rip(), handler);
	check_frame(CODE, RFL_FIXED);
	assert_int_equal(vx_read(VMCS_GUEST_INTERRUPTIBILITY), BLOCK_NMI);
}

/* IRET ends NMI blocking (SDM Vol. 3A 6.7.1); with NMI exiting 0 it
 * does so in VMX non-root operation too (26.3 "IRET"). */
static void nmi_iret_unblocks(void **state)
{
	static const uint8_t iretq[] = { 0x48, 0xcf };
	start(nop_hlt, sizeof(nop_hlt), RFL_FIXED);
	vx_ctl(VMCS_PIN_BASED_CTLS, 0, PIN_NMI | PIN_VNMI);
	hwg_load(&g, HANDLERS, iretq, sizeof(iretq));
	vx_gate(2, HANDLERS);
	hw_cpu_nmi(g.cpu);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_rip(), CODE + 1);
	assert_int_equal(vx_gpr(RSP), STACK);
	assert_int_equal(vx_read(VMCS_GUEST_INTERRUPTIBILITY), 0);
}

/* Guest code that IRETs to the instruction after it: a 64-bit frame to
 * CODE + 0x10 built on its own stack. */
static const uint8_t iret_code[] = {
	0x48, 0x89, 0xe0,		/* mov rax, rsp */
	0x6a, 0x10,			/* push 0x10         SS */
	0x50,				/* push rax          RSP */
	0x9c,				/* pushfq */
	0x6a, 0x08,			/* push 0x08         CS */
	0x68, 0x10, 0x00, 0x01, 0x00,	/* push CODE + 0x10  RIP */
	0x48, 0xcf,			/* iretq */
	0x90,				/* nop               (CODE + 0x10) */
	0xf4,				/* hlt */
};

/*
 * 26.3 "IRET": with NMI exiting 1 and virtual NMIs 0, IRET does not
 * affect blocking by NMI; with virtual NMIs 1 it removes virtual-NMI
 * blocking (the same interruptibility bit 3).
 */
static void nmi_iret_under_nmi_exiting(void **state)
{
	start(iret_code, sizeof(iret_code), RFL_FIXED);
	vx_ctl(VMCS_PIN_BASED_CTLS, PIN_NMI, PIN_VNMI);
	vx_write(VMCS_GUEST_INTERRUPTIBILITY, BLOCK_NMI);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_rip(), CODE + 0x11);
	assert_int_equal(vx_gpr(RSP), STACK);
	assert_int_equal(vx_read(VMCS_GUEST_INTERRUPTIBILITY), BLOCK_NMI);
	hwg_destroy(&g);

	start(iret_code, sizeof(iret_code), RFL_FIXED);
	vx_ctl(VMCS_PIN_BASED_CTLS, PIN_NMI | PIN_VNMI, 0);
	vx_write(VMCS_GUEST_INTERRUPTIBILITY, BLOCK_NMI);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_read(VMCS_GUEST_INTERRUPTIBILITY), 0);
}

/* ------------------------------------------------------------ preemption timer */

static const uint8_t spin[] = { 0xeb, 0xfe };	/* 1: jmp 1b */

/*
 * 25.5.1: the timer counts down by one each time TSC bit X changes, X =
 * IA32_VMX_MISC[4:0], i.e. every 2^X cycles, so a value V expires after
 * V << X cycles; at @cpi_milli thousandths of a cycle per instruction
 * slot that is (V << X) * 1000 / cpi_milli retired instructions.
 */
static void preempt_after(uint32_t value, uint32_t cpi_milli)
{
	const struct hw_machine_config mc = vx_machine(cpi_milli);
	uint64_t misc = 0;

	vx_start_on(false, &mc);
	vx_code(spin, sizeof(spin));
	assert_int_equal(hw_rdmsr(g.cpu, 0x485, &misc), 0);	/* IA32_VMX_MISC */
	const uint64_t slots = ((uint64_t)value << (misc & 0x1f)) * 1000 / cpi_milli;
	vx_ctl(VMCS_PIN_BASED_CTLS, PIN_PREEMPT, 0);
	vx_write(VMCS_PREEMPTION_TIMER_VALUE, value);
	assert_int_equal(vx_run(), R_PREEMPT);
	assert_int_equal(vx_qual(), 0);
	assert_int_equal(vx_rip(), CODE);
	assert_int_equal(vx_cnt()->insns, slots);
	/* Each entry starts the timer from the VMCS value again. */
	assert_int_equal(vx_run(), R_PREEMPT);
	assert_int_equal(vx_cnt()->insns, 2 * slots);
	hwg_destroy(&g);
}

static void preempt_timer(void **state)
{
	preempt_after(10, 1000);
	preempt_after(10, 2000);
	preempt_after(3, 500);
}

/* Value 0: the exit comes before any instruction (27.7.4). */
static void preempt_timer_zero(void **state)
{
	vx_start(false);
	vx_code(spin, sizeof(spin));
	vx_ctl(VMCS_PIN_BASED_CTLS, PIN_PREEMPT, 0);
	vx_write(VMCS_PREEMPTION_TIMER_VALUE, 0);
	assert_int_equal(vx_run(), R_PREEMPT);
	assert_int_equal(vx_cnt()->insns, 0);
}

/* The control off: the value is ignored and a finite loop runs out. */
static void preempt_timer_off(void **state)
{
	static const uint8_t loop[] = {
		0xb9, 0x00, 0x10, 0x00, 0x00,	/* mov ecx, 4096 */
		0xff, 0xc9,			/* 1: dec ecx */
		0x75, 0xfc,			/* jnz 1b */
		0xf4,				/* hlt */
	};
	vx_start(false);
	vx_code(loop, sizeof(loop));
	vx_ctl(VMCS_PIN_BASED_CTLS, 0, PIN_PREEMPT);
	vx_write(VMCS_PREEMPTION_TIMER_VALUE, 1);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_cnt()->insns, 1 + 2 * 4096);
}

/* ------------------------------------------------------------ interrupt window */

/* IF = 1 and no blocking at entry: exit 7 before any instruction. */
static void intr_window_open(void **state)
{
	start(nop_hlt, sizeof(nop_hlt), RFL_FIXED | RFL_IF);
	vx_ctl(VMCS_PROC_BASED_CTLS, PROC_INTR_WIN, 0);
	assert_int_equal(vx_run(), R_INTR_WINDOW);
	assert_int_equal(vx_qual(), 0);
	assert_int_equal(vx_rip(), CODE);
	assert_int_equal(vx_cnt()->insns, 0);
}

/* IF = 0: no window, the guest runs to HLT; without the control, IF = 1
 * gives no exit either. */
static void intr_window_closed_or_off(void **state)
{
	start(nop_hlt, sizeof(nop_hlt), RFL_FIXED);
	vx_ctl(VMCS_PROC_BASED_CTLS, PROC_INTR_WIN, 0);
	assert_int_equal(vx_run(), R_HLT);
	hwg_destroy(&g);
	start(nop_hlt, sizeof(nop_hlt), RFL_FIXED | RFL_IF);
	vx_ctl(VMCS_PROC_BASED_CTLS, 0, PROC_INTR_WIN);
	assert_int_equal(vx_run(), R_HLT);
}

/* STI opens the window one instruction late (blocking by STI, SDM Vol.
 * 2B STI): the exit comes after the NOP that follows it. */
static void intr_window_sti(void **state)
{
	static const uint8_t code[] = {
		0xfb,		/* sti */
		0x90,		/* nop */
		0xf4,		/* hlt              (CODE + 2) */
	};
	start(code, sizeof(code), RFL_FIXED);
	vx_ctl(VMCS_PROC_BASED_CTLS, PROC_INTR_WIN, 0);
	assert_int_equal(vx_run(), R_INTR_WINDOW);
	assert_int_equal(vx_rip(), CODE + 2);
	assert_int_equal(vx_cnt()->insns, 2);
	assert_int_equal(vx_read(VMCS_GUEST_INTERRUPTIBILITY), 0);
	assert_int_equal(vx_read(VMCS_GUEST_RFLAGS), RFL_FIXED | RFL_IF);
}

/* Blocking by STI given at entry (interruptibility bit 0) covers the
 * first instruction (27.7.1). */
static void intr_window_entry_sti_blocking(void **state)
{
	start(nop_hlt, sizeof(nop_hlt), RFL_FIXED | RFL_IF);
	vx_ctl(VMCS_PROC_BASED_CTLS, PROC_INTR_WIN, 0);
	vx_write(VMCS_GUEST_INTERRUPTIBILITY, BLOCK_STI);
	assert_int_equal(vx_run(), R_INTR_WINDOW);
	assert_int_equal(vx_rip(), CODE + 1);
	assert_int_equal(vx_cnt()->insns, 1);
}

/* 26.7.5: interrupt-window exits take priority over external
 * interrupts, including one that external-interrupt exiting would turn
 * into exit 1. */
static void intr_window_before_extint(void **state)
{
	start(nop_hlt, sizeof(nop_hlt), RFL_FIXED | RFL_IF);
	vx_ctl(VMCS_PROC_BASED_CTLS, PROC_INTR_WIN, 0);
	hw_cpu_set_intr(g.cpu, true, VEC);
	assert_int_equal(vx_run(), R_INTR_WINDOW);
}

/* ------------------------------------------------------------ NMI window */

static void nmi_window_start(const uint8_t *code, size_t len, uint32_t interruptibility)
{
	start(code, len, RFL_FIXED);
	vx_ctl(VMCS_PIN_BASED_CTLS, PIN_NMI | PIN_VNMI, 0);
	vx_ctl(VMCS_PROC_BASED_CTLS, PROC_NMI_WIN, 0);
	vx_write(VMCS_GUEST_INTERRUPTIBILITY, interruptibility);
}

/* No virtual-NMI blocking: exit 8 before any instruction. */
static void nmi_window_open(void **state)
{
	nmi_window_start(nop_hlt, sizeof(nop_hlt), 0);
	assert_int_equal(vx_run(), R_NMI_WINDOW);
	assert_int_equal(vx_qual(), 0);
	assert_int_equal(vx_rip(), CODE);
	assert_int_equal(vx_cnt()->insns, 0);
}

/* Virtual-NMI blocking (bit 3 with virtual NMIs): no window. */
static void nmi_window_blocked(void **state)
{
	nmi_window_start(nop_hlt, sizeof(nop_hlt), BLOCK_NMI);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_read(VMCS_GUEST_INTERRUPTIBILITY), BLOCK_NMI);
}

/* Blocking by MOV SS holds the exit back for one instruction. */
static void nmi_window_movss(void **state)
{
	nmi_window_start(nop_hlt, sizeof(nop_hlt), BLOCK_MOVSS);
	assert_int_equal(vx_run(), R_NMI_WINDOW);
	assert_int_equal(vx_rip(), CODE + 1);
	assert_int_equal(vx_cnt()->insns, 1);	/* the NOP under the blocking ran */
}

/* 26.3 "IRET": with virtual NMIs, IRET removes virtual-NMI blocking, so
 * the window opens right after it. */
static void nmi_window_after_iret(void **state)
{
	nmi_window_start(iret_code, sizeof(iret_code), BLOCK_NMI);
	assert_int_equal(vx_run(), R_NMI_WINDOW);
	assert_int_equal(vx_gpr(RSP), STACK);
	assert_int_equal(vx_rip(), CODE + 0x10);
	assert_int_equal(vx_cnt()->insns, 7);
}

/* 26.7.6: NMI-window exits take priority over NMIs, also over one NMI
 * exiting would turn into exit 0. */
static void nmi_window_before_nmi(void **state)
{
	nmi_window_start(nop_hlt, sizeof(nop_hlt), 0);
	hw_cpu_nmi(g.cpu);
	assert_int_equal(vx_run(), R_NMI_WINDOW);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(extint_exit_ack, vx_teardown),
		cmocka_unit_test_teardown(extint_exit_noack, vx_teardown),
		cmocka_unit_test_teardown(extint_delivered, vx_teardown),
		cmocka_unit_test_teardown(extint_blocked_by_if, vx_teardown),
		cmocka_unit_test_teardown(nmi_exit, vx_teardown),
		cmocka_unit_test_teardown(nmi_delivered, vx_teardown),
		cmocka_unit_test_teardown(nmi_iret_unblocks, vx_teardown),
		cmocka_unit_test_teardown(nmi_iret_under_nmi_exiting, vx_teardown),
		cmocka_unit_test_teardown(preempt_timer, vx_teardown),
		cmocka_unit_test_teardown(preempt_timer_zero, vx_teardown),
		cmocka_unit_test_teardown(preempt_timer_off, vx_teardown),
		cmocka_unit_test_teardown(intr_window_open, vx_teardown),
		cmocka_unit_test_teardown(intr_window_closed_or_off, vx_teardown),
		cmocka_unit_test_teardown(intr_window_sti, vx_teardown),
		cmocka_unit_test_teardown(intr_window_entry_sti_blocking, vx_teardown),
		cmocka_unit_test_teardown(intr_window_before_extint, vx_teardown),
		cmocka_unit_test_teardown(nmi_window_open, vx_teardown),
		cmocka_unit_test_teardown(nmi_window_blocked, vx_teardown),
		cmocka_unit_test_teardown(nmi_window_movss, vx_teardown),
		cmocka_unit_test_teardown(nmi_window_after_iret, vx_teardown),
		cmocka_unit_test_teardown(nmi_window_before_nmi, vx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
