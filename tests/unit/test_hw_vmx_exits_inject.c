/*
 * test_hw_vmx_exits_inject.c — event injection at VM entry (SDM Vol. 3C
 * 27.6: the VM-entry interruption-information field, error code and
 * instruction length) and the IDT-vectoring information a VM exit
 * records when it interrupts the delivery of an event (28.2.3), here an
 * EPT violation on the guest's IDT.
 *
 * An injected event is delivered as if it had occurred (27.6.1.1): the
 * handler runs (it halts, and HLT exiting reports where), the frame holds
 * the current guest RIP, plus the VM-entry instruction length for
 * software interrupts and exceptions, and the error code when bit 11
 * asks for one. Every VM exit clears the valid bit of the VM-entry
 * interruption-information field (25.8.3).
 */
#include "tests/unit/test_hw_vmx_exits.h"

#define VEC 0x41

static const uint8_t nop_hlt[] = { 0x90, 0xf4 };	/* nop; hlt */

static void start(bool ept, uint64_t rflags)
{
	vx_start(ept);
	vx_code(nop_hlt, sizeof(nop_hlt));
	vx_write(VMCS_GUEST_RFLAGS, rflags);
}

static void inject(uint32_t info, uint32_t error_code, uint32_t len)
{
	vx_write(VMCS_ENTRY_INTR_INFO, info);
	vx_write(VMCS_ENTRY_EXCEPTION_ERROR_CODE, error_code);
	vx_write(VMCS_ENTRY_INSTRUCTION_LEN, len);
}

/* After the exit: the injection is consumed, nothing was vectoring. */
static void check_consumed(void)
{
	assert_int_equal(vx_read(VMCS_ENTRY_INTR_INFO) & II_VALID, 0);
	assert_int_equal(vx_read(VMCS_IDT_VECTORING_INFO) & II_VALID, 0);
}

/* The handler's frame: RIP @ret, error code @ec when >= 0. */
static void check_frame(uint64_t ret, long ec, uint64_t rflags)
{
	uint64_t rsp = vx_gpr(RSP);
	assert_int_equal(rsp, ec >= 0 ? STACK - 48 : STACK - 40);
	if (ec >= 0) {
		assert_int_equal(vx_get64(rsp), (uint64_t)ec);
		rsp += 8;
	}
	assert_int_equal(vx_get64(rsp), ret);
	assert_int_equal(vx_get64(rsp + 8), 0x08);
	assert_int_equal(vx_get64(rsp + 16), rflags);
}

/* ------------------------------------------------------------ delivery */

/* An external interrupt (type 0): needs RFLAGS.IF = 1 (27.3.1.4). */
static void inject_extint(void **state)
{
	start(false, RFL_FIXED | RFL_IF);
	const uint64_t h = vx_hlt_handler(VEC);
	inject(II(T_EXT_INTR, VEC), 0, 0);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_rip(), h);
	check_frame(CODE, -1, RFL_FIXED | RFL_IF);
	assert_int_equal(vx_read(VMCS_GUEST_RFLAGS), RFL_FIXED);	/* gate cleared IF */
	check_consumed();
}

/* A hardware exception with an error code: #GP(0x1234). */
static void inject_gp_error_code(void **state)
{
	start(false, RFL_FIXED);
	const uint64_t h = vx_hlt_handler(13);
	inject(II(T_HW_EXC, 13) | II_EC, 0x1234, 0);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_rip(), h);
	check_frame(CODE, 0x1234, RFL_FIXED);
	check_consumed();
}

/* A software interrupt returns past the instruction: RIP + length. */
static void inject_soft_int(void **state)
{
	start(false, RFL_FIXED);
	const uint64_t h = vx_hlt_handler(0x80);
	inject(II(T_SOFT_INT, 0x80), 0, 2);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_rip(), h);
	check_frame(CODE + 2, -1, RFL_FIXED);
	check_consumed();
}

/* A software exception (#BP as INT3 would raise it), length 1. */
static void inject_soft_exc(void **state)
{
	start(false, RFL_FIXED);
	const uint64_t h = vx_hlt_handler(3);
	inject(II(T_SOFT_EXC, 3), 0, 1);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_rip(), h);
	check_frame(CODE + 1, -1, RFL_FIXED);
	check_consumed();
}

/* An NMI: vector 2 through the IDT; with virtual NMIs 0 it leaves
 * blocking by NMI in force (27.6.1.2). */
static void inject_nmi(void **state)
{
	start(false, RFL_FIXED);
	const uint64_t h = vx_hlt_handler(2);
	inject(II(T_NMI, 2), 0, 0);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_rip(), h);
	check_frame(CODE, -1, RFL_FIXED);
	assert_int_equal(vx_read(VMCS_GUEST_INTERRUPTIBILITY), BLOCK_NMI);
	check_consumed();
}

/* Injection is not subject to the exception bitmap (27.6.1). */
static void inject_ignores_bitmap(void **state)
{
	start(false, RFL_FIXED);
	const uint64_t h = vx_hlt_handler(13);
	vx_write(VMCS_EXCEPTION_BITMAP, 1u << 13);
	inject(II(T_HW_EXC, 13) | II_EC, 0, 0);
	assert_int_equal(vx_run(), R_HLT);
	assert_int_equal(vx_rip(), h);
}

/* ------------------------------------------------------------ IDT-vectoring */

#define EPTQ_READ	(1u << 0)	/* EPT violation qualification (28.2.1) */
#define EPTQ_WRITE	(1u << 1)
#define EPTQ_FETCH	(1u << 2)
#define EPTQ_GLA_VALID	(1u << 7)

/* The guest IDT's page, not present in EPT: delivering any event reads
 * its gate and takes an EPT violation. Returns the gate's address. */
static uint64_t unmap_idt(unsigned vector)
{
	const uint64_t idt = vx_read(VMCS_GUEST_IDTR_BASE);
	vx_gate(vector, HANDLERS);
	assert_int_equal(ptb_update(&g.host, PTB_EPT, g.tdp_root, idt & ~0xfffull, 1, 0,
				    EPT_R | EPT_W | EPT_X), 0);
	return idt + 16 * vector;
}

/* Exit 48 while delivering: a read of the gate at @gate (28.2.1), the
 * injection consumed. */
static void check_gate_read(uint64_t gate)
{
	assert_int_equal(vx_read(VMCS_GUEST_PHYSICAL_ADDRESS), gate);
	const uint64_t q = vx_qual();
	assert_int_equal(q & (EPTQ_READ | EPTQ_WRITE | EPTQ_FETCH), EPTQ_READ);
	if (q & EPTQ_GLA_VALID)
		assert_int_equal(vx_read(VMCS_GUEST_LINEAR_ADDRESS), gate);
	assert_int_equal(vx_read(VMCS_ENTRY_INTR_INFO) & II_VALID, 0);
}

static void vectoring_injected_extint(void **state)
{
	start(true, RFL_FIXED | RFL_IF);
	const uint64_t gate = unmap_idt(VEC);
	inject(II(T_EXT_INTR, VEC), 0, 0);
	assert_int_equal(vx_run(), R_EPT_VIOLATION);
	check_gate_read(gate);
	assert_int_equal(vx_read(VMCS_IDT_VECTORING_INFO), II(T_EXT_INTR, VEC));
	assert_int_equal(vx_rip(), CODE);
	assert_int_equal(vx_read(VMCS_GUEST_RFLAGS), RFL_FIXED | RFL_IF);
	assert_int_equal(vx_gpr(RSP), STACK);
}

/* The error code goes to the IDT-vectoring error-code field. */
static void vectoring_injected_gp(void **state)
{
	start(true, RFL_FIXED);
	const uint64_t gate = unmap_idt(13);
	inject(II(T_HW_EXC, 13) | II_EC, 0x1234, 0);
	assert_int_equal(vx_run(), R_EPT_VIOLATION);
	check_gate_read(gate);
	assert_int_equal(vx_read(VMCS_IDT_VECTORING_INFO), II(T_HW_EXC, 13) | II_EC);
	assert_int_equal(vx_read(VMCS_IDT_VECTORING_ERROR_CODE), 0x1234);
	assert_int_equal(vx_rip(), CODE);
}

/*
 * An injected software interrupt whose delivery exits: the saved RIP is
 * the current guest RIP (27.6.1.1, "If the encountered exception does
 * cause a VM exit that saves RIP, the saved RIP is current guest RIP";
 * an EPT violation is treated the same way) and the VM-exit
 * instruction length is the VM-entry instruction length (28.2.4), so
 * the hypervisor can re-inject it unchanged.
 */
static void vectoring_injected_soft_int(void **state)
{
	start(true, RFL_FIXED);
	const uint64_t gate = unmap_idt(0x80);
	inject(II(T_SOFT_INT, 0x80), 0, 2);
	assert_int_equal(vx_run(), R_EPT_VIOLATION);
	check_gate_read(gate);
	assert_int_equal(vx_read(VMCS_IDT_VECTORING_INFO), II(T_SOFT_INT, 0x80));
	assert_int_equal(vx_rip(), CODE);
	assert_int_equal(vx_len(), 2);
}

/* INT n executed by the guest: RIP at the INT, its length reported. */
static void vectoring_guest_int(void **state)
{
	static const uint8_t code[] = { 0xcd, 0x40, 0xf4 };	/* int 0x40; hlt */
	vx_start(true);
	vx_code(code, sizeof(code));
	const uint64_t gate = unmap_idt(0x40);
	assert_int_equal(vx_run(), R_EPT_VIOLATION);
	check_gate_read(gate);
	assert_int_equal(vx_read(VMCS_IDT_VECTORING_INFO), II(T_SOFT_INT, 0x40));
	/* The saved RIP references the INT (28.3.3), its length is 2 (28.2.4). */
	assert_int_equal(vx_rip(), CODE);
	assert_int_equal(vx_len(), 2);
}

/* A fault (#UD from UD2) whose delivery exits: RIP at the instruction. */
static void vectoring_guest_fault(void **state)
{
	static const uint8_t code[] = { 0x0f, 0x0b, 0xf4 };	/* ud2; hlt */
	vx_start(true);
	vx_code(code, sizeof(code));
	const uint64_t gate = unmap_idt(6);
	assert_int_equal(vx_run(), R_EPT_VIOLATION);
	check_gate_read(gate);
	assert_int_equal(vx_read(VMCS_IDT_VECTORING_INFO), II(T_HW_EXC, 6));
	assert_int_equal(vx_rip(), CODE);
}

/* An external interrupt from the INTR pin, not exiting by itself. */
static void vectoring_pin_extint(void **state)
{
	start(true, RFL_FIXED | RFL_IF);
	vx_ctl(VMCS_PIN_BASED_CTLS, 0, PIN_EXT_INTR);
	const uint64_t gate = unmap_idt(VEC);
	hw_cpu_set_intr(g.cpu, true, VEC);
	assert_int_equal(vx_run(), R_EPT_VIOLATION);
	check_gate_read(gate);
	assert_int_equal(vx_read(VMCS_IDT_VECTORING_INFO), II(T_EXT_INTR, VEC));
	assert_int_equal(vx_rip(), CODE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(inject_extint, vx_teardown),
		cmocka_unit_test_teardown(inject_gp_error_code, vx_teardown),
		cmocka_unit_test_teardown(inject_soft_int, vx_teardown),
		cmocka_unit_test_teardown(inject_soft_exc, vx_teardown),
		cmocka_unit_test_teardown(inject_nmi, vx_teardown),
		cmocka_unit_test_teardown(inject_ignores_bitmap, vx_teardown),
		cmocka_unit_test_teardown(vectoring_injected_extint, vx_teardown),
		cmocka_unit_test_teardown(vectoring_injected_gp, vx_teardown),
		cmocka_unit_test_teardown(vectoring_injected_soft_int, vx_teardown),
		cmocka_unit_test_teardown(vectoring_guest_int, vx_teardown),
		cmocka_unit_test_teardown(vectoring_guest_fault, vx_teardown),
		cmocka_unit_test_teardown(vectoring_pin_extint, vx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
