/*
 * test_hw_svm_exits.h — the guest the SVM intercept tests
 * (test_hw_svm_exits_*.c) share: a fresh AMD machine with a 4 MiB
 * long-mode guest from tests/support/hwguest, its VMCB, and one VMRUN to
 * the next #VMEXIT. A file that needs another machine defines its own
 * setup() and SVM_EXITS_OWN_SETUP before including this.
 */
#ifndef HVLAB_TESTS_UNIT_TEST_HW_SVM_EXITS_H
#define HVLAB_TESTS_UNIT_TEST_HW_SVM_EXITS_H

#include "hw/svm.h"
#include "tests/support/hwguest.h"

static struct hwg g;

#ifndef SVM_EXITS_OWN_SETUP
static inline int setup(void **state)
{
	const struct hwg_config cfg = { .vendor = HW_VENDOR_AMD, .ram_size = 4 << 20 };
	return hwg_create(&g, &cfg) ? -1 : 0;
}
#endif

static inline int teardown(void **state)
{
	hwg_destroy(&g);
	return 0;
}

static inline struct vmcb *vmcb(void)
{
	return hwg_vmcb(&g);
}

/* VMRUN to the next #VMEXIT; returns EXITCODE. */
static inline uint64_t run(void)
{
	int st = -1;
	const uint64_t code = hwg_run(&g, &st);
	assert_int_equal(st, SVM_OK);
	return code;
}

#endif
