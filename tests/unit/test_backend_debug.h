/*
 * test_backend_debug.h — the debug-register scenario both backend
 * tests run (test_backend_vmx_debug.c, test_backend_svm_debug.c): the
 * vendors keep DR0-DR3 in different places (not in the VMCS or the
 * VMCB), but what a processor shows the guest and the VMM is the same.
 *
 * The guest writes DR0 and DR6 with MOV DR, exits on an OUT, and reads
 * DR0, DR6, DR1 and DR7 after the VMM has read DR0 and DR6 and written
 * DR1 and DR7 through the backend ops: what either side wrote survives
 * the exit, and MOV DR takes no exit of its own. DR6 reads back with its
 * fixed bits, FFFF0FF0H | the status bits written (SDM Vol. 3B 18.2.3);
 * DR7 = L0 with R/W0 = LEN0 = 00 arms nothing the guest reaches (DR0 is
 * not code) and reads back with bit 10, which is always 1 (18.2.4).
 */
#ifndef TESTS_UNIT_TEST_BACKEND_DEBUG_H
#define TESTS_UNIT_TEST_BACKEND_DEBUG_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "backends/backend.h"
#include "tests/unit/support/hvguest.h"

/* The guest is at @gpa, where RIP already points, in 32-bit mode. */
static inline void check_debug_registers_across_exit(struct hvg *g,
						     const struct hv_backend_ops *ops,
						     uint64_t gpa)
{
	static const uint8_t code[] = {
		0xb8, 0x78, 0x56, 0x34, 0x12,	/* mov eax,12345678h */
		0x0f, 0x23, 0xc0,		/* mov dr0,eax */
		0xb8, 0x01, 0x40, 0x00, 0x00,	/* mov eax,4001h (BS, B0) */
		0x0f, 0x23, 0xf0,		/* mov dr6,eax */
		0xe6, 0x80,			/* out 80h,al */
		0x0f, 0x21, 0xc3,		/* mov ebx,dr0 */
		0x0f, 0x21, 0xf1,		/* mov ecx,dr6 */
		0x0f, 0x21, 0xca,		/* mov edx,dr1 */
		0x0f, 0x21, 0xfe,		/* mov esi,dr7 */
		0xf4,
	};
	hvg_load(g, gpa, code, sizeof(code));
	const uint64_t dr_exits = hvg_stat(g, "exits_dr");
	hvg_expect_io(g, 0x80, HV_EXIT_IO_OUT, 1, 0x01);
	assert_int_equal(ops->get_dr(g->vcpu, 0), 0x12345678);
	assert_int_equal(ops->get_dr(g->vcpu, 6), 0xffff4ff1);
	ops->set_dr(g->vcpu, 1, 0xabcd0000);
	ops->set_dr(g->vcpu, 7, 0x1);
	hvg_expect_exit(g, HV_EXIT_HLT);
	const struct hv_regs r = hvg_regs(g);
	assert_int_equal(r.rbx, 0x12345678);
	assert_int_equal(r.rcx, 0xffff4ff1);
	assert_int_equal(r.rdx, 0xabcd0000);
	assert_int_equal(r.rsi, 0x401);
	assert_int_equal(hvg_stat(g, "exits_dr"), dr_exits);
}

#endif
