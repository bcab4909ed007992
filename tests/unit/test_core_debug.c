/*
 * test_core_debug.c — hv_debug_guest (KVM_DEBUG_GUEST) on every backend:
 * single-step, hardware instruction breakpoints and INT3 for the VMM.
 * What the guest must see is x86 truth: a single-step #DB is a trap
 * with DR6.BS (SDM Vol. 3B 18.3.1.4), an instruction breakpoint a fault
 * at the instruction with DR6.Bn (18.3.1.1) that RF lets run once, and
 * the debugger's TF and debug registers never show in the guest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/support/hvguest.h"

#define DR6_BS (1ull << 14)
#define RFLAGS_TF (1ull << 8)

static void debug(struct hvg *g, uint32_t control, unsigned nbp, const gva_t *bp)
{
	struct hv_guest_debug d = { .control = control, .nbp = nbp };
	for (unsigned i = 0; i < nbp; i++)
		d.bp[i] = bp[i];
	assert_int_equal(hv_debug_guest(g->vcpu, &d), 0);
}

/* mov eax,1 (5 bytes); mov ebx,2 (5); add eax,ebx (2); hlt */
static void single_step(void **state)
{
	static const uint8_t code[] = { 0xb8, 1, 0, 0, 0, 0xbb, 2, 0, 0, 0, 0x01, 0xd8, 0xf4 };
	const char *be;
	hvg_for_each_backend(i, be) {
		struct hvg g;
		hvg_create(&g, be);
		hvg_load(&g, HVG_CODE, code, sizeof(code));
		hvg_enter_long(&g, HVG_CODE);
		debug(&g, HV_GUESTDBG_ENABLE | HV_GUESTDBG_SINGLESTEP, 0, NULL);
		const uint64_t after[] = { HVG_CODE + 5, HVG_CODE + 10, HVG_CODE + 12 };
		for (unsigned s = 0; s < 3; s++) {
			assert_int_equal(hvg_run(&g), HV_EXIT_DEBUG);
			assert_int_equal(g.run.debug.exception, 1);
			assert_true(g.run.debug.dr6 & DR6_BS);
			assert_int_equal(g.run.debug.pc, after[s]);
			struct hv_regs r = hvg_regs(&g);
			assert_int_equal(r.rip, after[s]);
			assert_false(r.rflags & RFLAGS_TF);	/* the debugger's TF is hidden */
		}
		assert_int_equal(hvg_regs(&g).rax, 3);
		debug(&g, 0, 0, NULL);
		assert_int_equal(hvg_run(&g), HV_EXIT_HLT);
		hvg_destroy(&g);
	}
}

/* L: nop; mov al,5; out 0x80,al; jmp L — a breakpoint on the MOV. */
static void hw_breakpoint(void **state)
{
	static const uint8_t code[] = { 0x90, 0xb0, 0x05, 0xe6, 0x80, 0xeb, 0xf9 };
	const gva_t bp = HVG_CODE + 1;
	const char *be;
	hvg_for_each_backend(i, be) {
		struct hvg g;
		hvg_create(&g, be);
		hvg_load(&g, HVG_CODE, code, sizeof(code));
		hvg_enter_long(&g, HVG_CODE);
		debug(&g, HV_GUESTDBG_ENABLE | HV_GUESTDBG_USE_HW_BP, 1, &bp);
		for (unsigned round = 0; round < 2; round++) {
			assert_int_equal(hvg_run(&g), HV_EXIT_DEBUG);
			assert_int_equal(g.run.debug.exception, 1);
			assert_int_equal(g.run.debug.dr6 & 0xf, 1);	/* B0 */
			assert_int_equal(g.run.debug.pc, bp);		/* a fault */
			/* The next run executes the instruction (RF). */
			hvg_expect_io(&g, 0x80, HV_EXIT_IO_OUT, 1, 5);
		}
		hvg_destroy(&g);
	}
}

/* The guest's own DR7 comes back when debugging ends: mov rax,dr7;
 * out 0x80,eax; hlt. */
static void guest_debug_registers_restored(void **state)
{
	static const uint8_t code[] = { 0x0f, 0x21, 0xf8, 0xe7, 0x80, 0xf4 };
	const gva_t bp = 0x123000;
	const char *be;
	hvg_for_each_backend(i, be) {
		struct hvg g;
		hvg_create(&g, be);
		hvg_load(&g, HVG_CODE, code, sizeof(code));
		hvg_enter_long(&g, HVG_CODE);
		debug(&g, HV_GUESTDBG_ENABLE | HV_GUESTDBG_USE_HW_BP, 1, &bp);
		debug(&g, 0, 0, NULL);
		hvg_expect_io(&g, 0x80, HV_EXIT_IO_OUT, 4, 0x400);	/* DR7 at RESET */
		hvg_destroy(&g);
	}
}

/* INT3 goes to the VMM with USE_SW_BP (RIP at the INT3), and to the
 * guest's #BP handler without it. Code: int3; hlt. Handler: mov al,3;
 * out 0x80,al; hlt. */
static void sw_breakpoint(void **state)
{
	static const uint8_t code[] = { 0xcc, 0xf4 };
	static const uint8_t handler[] = { 0xb0, 0x03, 0xe6, 0x80, 0xf4 };
	const char *be;
	hvg_for_each_backend(i, be) {
		struct hvg g;
		hvg_create(&g, be);
		hvg_load(&g, HVG_CODE, code, sizeof(code));
		hvg_load(&g, HVG_HANDLER, handler, sizeof(handler));
		hvg_enter_long(&g, HVG_CODE);
		hvg_set_gate(&g, 3, HVG_HANDLER);
		debug(&g, HV_GUESTDBG_ENABLE | HV_GUESTDBG_USE_SW_BP, 0, NULL);
		assert_int_equal(hvg_run(&g), HV_EXIT_DEBUG);
		assert_int_equal(g.run.debug.exception, 3);
		assert_int_equal(g.run.debug.pc, HVG_CODE);
		debug(&g, 0, 0, NULL);
		hvg_expect_io(&g, 0x80, HV_EXIT_IO_OUT, 1, 3);
		/* The #BP frame's RIP is after the INT3 (a trap). */
		assert_int_equal(hvg_get64(&g, HVG_STACK - 40), HVG_CODE + 1);
		hvg_destroy(&g);
	}
}

static void bad_arguments(void **state)
{
	const char *be;
	hvg_for_each_backend(i, be) {
		struct hvg g;
		hvg_create(&g, be);
		struct hv_guest_debug d = { .control = 1u << 30 };
		assert_int_equal(hv_debug_guest(g.vcpu, &d), -22);
		hvg_assert_one_line();
		d = (struct hv_guest_debug){ .control = HV_GUESTDBG_ENABLE | HV_GUESTDBG_USE_HW_BP,
					     .nbp = 5 };
		assert_int_equal(hv_debug_guest(g.vcpu, &d), -22);
		d.nbp = 1;
		d.bp[0] = 0x0000800000000000ull;	/* not canonical */
		assert_int_equal(hv_debug_guest(g.vcpu, &d), -22);
		assert_int_equal(hv_debug_guest(NULL, &d), -22);
		assert_int_equal(hv_debug_guest(g.vcpu, NULL), -22);
		hvg_destroy(&g);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(single_step, hvg_teardown),
		cmocka_unit_test_teardown(hw_breakpoint, hvg_teardown),
		cmocka_unit_test_teardown(guest_debug_registers_restored, hvg_teardown),
		cmocka_unit_test_teardown(sw_breakpoint, hvg_teardown),
		cmocka_unit_test_teardown(bad_arguments, hvg_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
