/*
 * test_hw_run.c — running a guest end to end on the model: VM entry,
 * guest instructions in VMX non-root operation / SVM guest mode, and the
 * HLT exit, with and without two-dimensional paging. Exit reasons and
 * codes are written from the SDM (Appendix C: HLT = 12) and the APM
 * (Appendix C: VMEXIT_HLT = 0x78).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hw/hw.h"
#include "hw/svm.h"
#include "hw/vmcb.h"
#include "tests/support/hwguest.h"

#define VMX_HLT 12
#define SVM_HLT 0x78

static const uint8_t sum_loop[] = {
	0xb9, 0xe8, 0x03, 0x00, 0x00,	/* mov ecx, 1000 */
	0x48, 0x01, 0xc8,		/* 1: add rax, rcx */
	0xff, 0xc9,			/* dec ecx */
	0x75, 0xf9,			/* jnz 1b */
	0xf4,				/* hlt */
};

/*
 * @ram_size 32 MiB puts guest RAM's host-physical addresses (16 MiB up)
 * inside the guest's own linear mappings: a model that confused the two
 * (decoded blocks are keyed by host-physical address) would run other
 * bytes instead of failing loudly.
 */
static void run_sum(enum hw_vendor v, bool tdp)
{
	struct hwg g;
	const struct hwg_config cfg = { .vendor = v, .tdp = tdp, .ram_size = 32 << 20 };
	assert_int_equal(hwg_create(&g, &cfg), 0);
	hwg_load(&g, 0x10000, sum_loop, sizeof(sum_loop));
	hwg_set_entry(&g, 0x10000, 0x80000);
	hwg_set_gpr(&g, 0, 0);
	int st = -1;
	const uint64_t reason = hwg_run(&g, &st);
	assert_int_equal(st, 0);
	assert_int_equal(reason, v == HW_VENDOR_INTEL ? VMX_HLT : SVM_HLT);
	assert_int_equal(hwg_gpr(&g, 0), 500500);
	assert_int_equal(hwg_gpr(&g, 1), 0);
	assert_int_equal(hwg_rip(&g), 0x10000 + 12);	/* at the HLT: it exited */
	const struct hw_counters *c = hw_cpu_counters(g.cpu);
	assert_int_equal(c->insns, 1 + 3 * 1000);
	assert_int_equal(c->exits, 1);
	assert_int_equal(c->entries, 1);
	hwg_destroy(&g);
}

static void vmx_ept(void **state) { run_sum(HW_VENDOR_INTEL, true); }
static void vmx_no_ept(void **state) { run_sum(HW_VENDOR_INTEL, false); }
static void svm_npt(void **state) { run_sum(HW_VENDOR_AMD, true); }
static void svm_no_npt(void **state) { run_sum(HW_VENDOR_AMD, false); }

/* INIT (SDM Vol. 3C 26.2: a VM exit, reason 3, in VMX non-root operation;
 * APM Vol. 2 15.13.4: #VMEXIT 0x63 with the INIT intercept, bit 3 of the
 * vector at 0x00c). */
static void init_signal(void **state)
{
	struct hwg g;
	const struct hwg_config vcfg = { .vendor = HW_VENDOR_INTEL, .tdp = true,
					 .ram_size = 4 << 20 };
	assert_int_equal(hwg_create(&g, &vcfg), 0);
	hwg_load(&g, 0x10000, sum_loop, sizeof(sum_loop));
	hwg_set_entry(&g, 0x10000, 0x80000);
	hw_cpu_init(g.cpu);
	int st;
	assert_int_equal(hwg_run(&g, &st), 3);
	assert_int_equal(hwg_rip(&g), 0x10000);		/* before any instruction */
	hwg_destroy(&g);

	const struct hwg_config scfg = { .vendor = HW_VENDOR_AMD, .tdp = true,
					 .ram_size = 4 << 20 };
	assert_int_equal(hwg_create(&g, &scfg), 0);
	hwg_load(&g, 0x10000, sum_loop, sizeof(sum_loop));
	hwg_set_entry(&g, 0x10000, 0x80000);
	hw_cpu_init(g.cpu);
	hwg_run(&g, &st);
	assert_int_equal(st, SVM_MODEL_UNSUPPORTED);	/* it would reset the host */
	assert_non_null(hw_cpu_unsupported(g.cpu));
	hwg_vmcb(&g)->control.intercept_misc1 |= 1u << 3;
	hw_cpu_init(g.cpu);
	assert_int_equal(hwg_run(&g, &st), 0x63);
	assert_int_equal(st, SVM_OK);
	hwg_destroy(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vmx_ept),
		cmocka_unit_test(vmx_no_ept),
		cmocka_unit_test(svm_npt),
		cmocka_unit_test(svm_no_npt),
		cmocka_unit_test(init_signal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
