/*
 * test_hw_features.c — machine features left out (struct hw_features):
 * CPUID stops advertising them and the processor behaves as one without
 * them. Bit positions are the SDM's (CPUID leaf 1 ECX[17] PCID, EDX[13]
 * PGE; leaf 7 EBX[7] SMEP, [10] INVPCID, [20] SMAP; 8000_0001 EDX[20] NX,
 * [26] 1 GiB pages).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hw/hw.h"
#include "hw/msr.h"
#include "tests/support/hwguest.h"

static const uint8_t hlt[] = { 0xf4 };

static int run_with(struct hw_features f, uint64_t guest_page, uint64_t *reason)
{
	struct hw_machine_config mc;
	hw_machine_config_default(&mc, HW_VENDOR_INTEL);
	mc.features = f;
	struct hwg g;
	const struct hwg_config cfg = { .vendor = HW_VENDOR_INTEL, .tdp = true,
					.ram_size = 2ull << 30, .guest_page_size = guest_page,
					.tdp_page_size = 2ull << 20, .machine = &mc };
	int r = hwg_create(&g, &cfg);
	if (r)
		return r;
	hwg_load(&g, 0x10000, hlt, sizeof(hlt));
	hwg_set_entry(&g, 0x10000, 0x80000);
	int st;
	*reason = hwg_run(&g, &st);
	hwg_destroy(&g);
	return st;
}

static const struct hw_features all = { .nx = true, .page1gb = true, .pge = true,
					.pcid = true, .smep = true, .smap = true };

static void cpuid_follows_features(void **state)
{
	struct hw_machine_config mc;
	struct hw_machine *m;
	struct hw_cpu *cpu;
	uint32_t l1[4], l7[4], x1[4];

	hw_machine_config_default(&mc, HW_VENDOR_INTEL);
	mc.features = all;
	assert_int_equal(hw_machine_create(&mc, &m), 0);
	assert_int_equal(hw_cpu_create(m, 0, &cpu), 0);
	hw_cpuid(cpu, 1, 0, l1);
	hw_cpuid(cpu, 7, 0, l7);
	hw_cpuid(cpu, 0x80000001, 0, x1);
	assert_true(l1[2] & (1u << 17) && l1[3] & (1u << 13));
	assert_true(l7[1] & (1u << 7) && l7[1] & (1u << 10) && l7[1] & (1u << 20));
	assert_true(x1[3] & (1u << 20) && x1[3] & (1u << 26));
	hw_machine_destroy(m);

	mc.features = (struct hw_features){ 0 };
	assert_int_equal(hw_machine_create(&mc, &m), 0);
	assert_int_equal(hw_cpu_create(m, 0, &cpu), 0);
	hw_cpuid(cpu, 1, 0, l1);
	hw_cpuid(cpu, 7, 0, l7);
	hw_cpuid(cpu, 0x80000001, 0, x1);
	assert_false(l1[2] & (1u << 17));
	assert_false(l1[3] & (1u << 13));
	assert_false(l7[1] & ((1u << 7) | (1u << 10) | (1u << 20)));
	assert_false(x1[3] & ((1u << 20) | (1u << 26)));
	/* Their control bits become reserved. */
	uint64_t efer;
	assert_int_equal(hw_rdmsr(cpu, MSR_IA32_EFER, &efer), 0);
	assert_int_not_equal(hw_wrmsr(cpu, MSR_IA32_EFER, efer | (1ull << 11)), 0);
	assert_int_not_equal(hw_write_cr(cpu, 4, hw_read_cr(cpu, 4) | (1ull << 17)), 0);
	assert_int_not_equal(hw_write_cr(cpu, 4, hw_read_cr(cpu, 4) | (1ull << 20)), 0);
	hw_machine_destroy(m);
}

/* A guest mapped with 1 GiB pages: with them the HLT is reached (exit
 * 12); without them the PDPTE's PS bit is reserved, the fetch faults
 * with nothing to deliver it to, and the guest triple-faults (exit 2). */
static void one_gib_pages(void **state)
{
	uint64_t reason;
	assert_int_equal(run_with(all, 1ull << 30, &reason), 0);
	assert_int_equal(reason, 12);
	struct hw_features f = all;
	f.page1gb = false;
	assert_int_equal(run_with(f, 1ull << 30, &reason), 0);
	assert_int_equal(reason, 2);
	/* 2 MiB pages do not need the feature. */
	assert_int_equal(run_with(f, 2ull << 20, &reason), 0);
	assert_int_equal(reason, 12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cpuid_follows_features),
		cmocka_unit_test(one_gib_pages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
