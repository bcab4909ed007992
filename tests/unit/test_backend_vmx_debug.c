/*
 * test_backend_vmx_debug.c — the Intel VT-x backend (backends/vmx) and
 * the registers of debugging: DR0-DR7 as the guest and the VMM see them
 * (the RESET values of SDM Vol. 3A 9.1.1 Table 9-1, Vol. 3B 18.2), CR2
 * after a #PF (Vol. 3A 6.15 "Interrupt 14"), and single-step #DB exits
 * (Vol. 3B 18.3.1.4, Vol. 3C 27.1, 27.3.1.5). Through the public API and,
 * where the exit's decode is the point, the backend ops. Guest code is
 * hand-assembled; the source is beside each array.
 */
#include <string.h>

#include "tests/unit/test_backend_debug.h"
#include "tests/unit/test_backend_vmx.h"

/* Debug registers: DR6 = FFFF0FF0H and DR7 = 00000400H after RESET
 * (Table 9-1), and DR0 holds what MOV DR0 wrote. */
static void test_real_debug_registers(void **state)
{
	struct hvg *f = *state;
	/* mov eax,12345678h; mov dr0,eax; mov ebx,dr0; mov eax,dr6; mov ecx,dr7; hlt */
	static const uint8_t code[] = { 0x66, 0xb8, 0x78, 0x56, 0x34, 0x12, 0x0f, 0x23, 0xc0,
					0x0f, 0x21, 0xc3, 0x0f, 0x21, 0xf0, 0x0f, 0x21, 0xf9,
					0xf4 };
	hvg_load(f, 0x1000, code, sizeof(code));
	hvg_enter_real(f, 0x1000);
	hvg_expect_exit(f, HV_EXIT_HLT);
	struct hv_regs r;
	assert_int_equal(hv_get_regs(f->vcpu, &r), 0);
	assert_int_equal(r.rbx, 0x12345678);
	assert_int_equal(r.rax, 0xffff0ff0);
	assert_int_equal(r.rcx, 0x400);
}

/* 32-bit PAE paging over the first 8 MiB (2 MiB pages, Vol. 3A 4.4)
 * with the IDT and stack of enter_protected_idt. */
static void enter_pae_idt(struct hvg *f, uint64_t rip)
{
	hvg_put64(f, PML4, (PML4 + 0x1000) | 1);
	for (uint64_t i = 0; i < 4; i++)
		hvg_put64(f, PML4 + 0x1000 + 8 * i, (i << 21) | 0x83);
	enter_protected_idt(f, rip);
	struct hv_sregs s;
	assert_int_equal(hv_get_sregs(f->vcpu, &s), 0);
	s.cr0 = 0x80000011;
	s.cr4 = 0x20;
	s.cr3 = PML4;
	assert_int_equal(hv_set_sregs(f->vcpu, &s), 0);
}

/* CR2 is one register for the VMM's view and the guest's MOV: a value
 * set through hv_set_sregs is what the guest reads, and a #PF (Vol. 3A
 * 6.15 "Interrupt 14": CR2 = the faulting linear address) shows in
 * hv_get_sregs while its handler runs, before and after the handler
 * itself reads it. */
static void test_cr2(void **state)
{
	struct hvg *f = *state;
	/* mov eax,cr2; out 84h,eax; mov eax,[900000h]; hlt */
	static const uint8_t code[] = { 0x0f, 0x20, 0xd0, 0xe7, 0x84,
					0xa1, 0x00, 0x00, 0x90, 0x00, 0xf4 };
	/* mov al,0eh; out 80h,al; mov eax,cr2; out 84h,eax; hlt */
	static const uint8_t handler[] = { 0xb0, 0x0e, 0xe6, 0x80, 0x0f, 0x20, 0xd0,
					   0xe7, 0x84, 0xf4 };
	hvg_load(f, 0x1000, code, sizeof(code));
	hvg_load(f, 0x2000, handler, sizeof(handler));
	set_gate(f, 14, 0x2000);
	enter_pae_idt(f, 0x1000);
	struct hv_sregs s;
	assert_int_equal(hv_get_sregs(f->vcpu, &s), 0);
	s.cr2 = 0xfeedf00d;
	assert_int_equal(hv_set_sregs(f->vcpu, &s), 0);
	hvg_expect_io(f, 0x84, HV_EXIT_IO_OUT, 4, 0xfeedf00d);
	/* 900000H is past the four PDEs: not present, #PF. */
	hvg_expect_io(f, 0x80, HV_EXIT_IO_OUT, 1, 0x0e);
	assert_int_equal(hv_get_sregs(f->vcpu, &s), 0);
	assert_int_equal(s.cr2, 0x900000);
	hvg_expect_io(f, 0x84, HV_EXIT_IO_OUT, 4, 0x900000);
	assert_int_equal(hvg_get32(f, STACK_TOP - 16), 0);		/* error code: not present */
	assert_int_equal(hvg_get32(f, STACK_TOP - 12), 0x1005);	/* the faulting MOV */
}

/* DR0-3 and DR6 are not in the VMCS (Vol. 3C 25.4.1 lists only DR7) and
 * VM exits do not touch them (28.5.1 changes only DR7); the scenario is
 * test_backend_debug.h's. */
static void test_debug_registers_across_exit(void **state)
{
	struct hvg *f = *state;
	hvg_enter_protected(f, 0x1000);
	check_debug_registers_across_exit(f, &vmx_backend_ops, 0x1000);
}

/* A single-step #DB (RFLAGS.TF, Vol. 3B 18.3.1.4: a trap after the
 * instruction) intercepted through the exception bitmap, as core's
 * guest debugging does: the exit is an exception exit with vector 1 and
 * BS (bit 14) in the exit qualification (Vol. 3C Table 28-1), RIP past
 * the stepped instruction, and the guest's DR6 untouched (27.1: a #DB
 * that exits does not modify DR6). Driven through the backend ops, so
 * the exit is the backend's decode, not core's reaction to it. */
static void test_single_step_exit(void **state)
{
	struct hvg *f = *state;
	static const uint8_t code[] = { 0xe6, 0x80, 0x90, 0x90, 0xf4 };	/* out 80h,al; nop; nop; hlt */
	hvg_load(f, 0x1000, code, sizeof(code));
	hvg_enter_protected(f, 0x1000);
	hvg_expect_io(f, 0x80, HV_EXIT_IO_OUT, 1, 0);
	struct hv_regs r;
	assert_int_equal(hv_get_regs(f->vcpu, &r), 0);
	r.rip = 0x1002;
	r.rflags |= 0x100;				/* TF */
	assert_int_equal(hv_set_regs(f->vcpu, &r), 0);
	vmx_backend_ops.set_exception_intercepts(f->vcpu, 1u << 1);
	struct hv_exit x;
	do {
		assert_int_equal(vmx_backend_ops.run(f->vcpu), 0);
		memset(&x, 0, sizeof(x));
		vmx_backend_ops.decode_exit(f->vcpu, &x);
	} while (x.reason == HVX_EXTINT);
	assert_int_equal(x.reason, HVX_EXCEPTION);
	assert_int_equal(x.exc.vector, 1);
	assert_false(x.exc.has_error_code);
	assert_int_equal(x.exc.dr6 & 0x600f, 0x4000);	/* BS; no B0-B3, BD */
	assert_int_equal(vmx_backend_ops.get_rip(f->vcpu), 0x1003);
	assert_int_equal(vmx_backend_ops.get_dr(f->vcpu, 6), 0xffff0ff0);
}

/* hv_debug_guest single-step across STI (Vol. 3B 18.3.1.4: a trap after
 * each instruction; STI blocks only maskable interrupts, Vol. 3A 6.8.3):
 * the first step exits right after the STI, inside its shadow. Entering
 * again with TF set under blocking by STI needs BS pending (Vol. 3C
 * 27.3.1.5), or the processor refuses the guest state; stepping must
 * carry on to the OUT. */
static void test_single_step_after_sti(void **state)
{
	struct hvg *f = *state;
	/* sti; nop; nop; out 80h,al; hlt */
	static const uint8_t code[] = { 0xfb, 0x90, 0x90, 0xe6, 0x80, 0xf4 };
	hvg_load(f, 0x1000, code, sizeof(code));
	hvg_enter_protected(f, 0x1000);
	const struct hv_guest_debug d = { .control = HV_GUESTDBG_ENABLE | HV_GUESTDBG_SINGLESTEP };
	assert_int_equal(hv_debug_guest(f->vcpu, &d), 0);
	hvg_expect_exit(f, HV_EXIT_DEBUG);
	assert_int_equal(f->run.debug.exception, 1);
	assert_int_equal(f->run.debug.pc, 0x1001);
	assert_true(f->run.debug.dr6 & 0x4000);			/* BS */
	unsigned steps = 0;
	for (;;) {
		hvg_run(f);
		if (f->run.exit_reason != HV_EXIT_DEBUG)
			break;
		assert_true(f->run.debug.dr6 & 0x4000);
		assert_true(f->run.debug.pc > 0x1000 && f->run.debug.pc <= 0x1003);
		assert_true(++steps <= 4);
	}
	assert_int_equal(f->run.exit_reason, HV_EXIT_IO);
	assert_int_equal(f->run.io.port, 0x80);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_real_debug_registers),
		T(test_cr2),
		T(test_debug_registers_across_exit),
		T(test_single_step_exit),
		T(test_single_step_after_sti),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
