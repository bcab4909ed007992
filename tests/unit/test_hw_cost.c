/*
 * test_hw_cost.c — the cost model (hw/cost.c, docs/cost-model.md): the
 * guest's RDTSC reads modeled cycles, so a guest timing a loop gets the
 * same, computable answer every time; prices change it as the formula
 * says; the TSC offset of VMX and SVM is added.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hw/hw.h"
#include "hw/vmcb.h"
#include "hw/vmx.h"
#include "tests/support/hwguest.h"

/* rax = cycles the 100-iteration loop took, as two RDTSCs see it. */
static const uint8_t timed[] = {
	0x0f, 0x31,			/* rdtsc */
	0x49, 0x89, 0xc0,		/* mov r8, rax */
	0x48, 0xc1, 0xe2, 0x20,		/* shl rdx, 32 */
	0x49, 0x09, 0xd0,		/* or r8, rdx */
	0xb9, 0x64, 0x00, 0x00, 0x00,	/* mov ecx, 100 */
	0xff, 0xc9,			/* 1: dec ecx */
	0x75, 0xfc,			/* jnz 1b */
	0x0f, 0x31,			/* rdtsc */
	0x48, 0xc1, 0xe2, 0x20,		/* shl rdx, 32 */
	0x48, 0x09, 0xd0,		/* or rax, rdx */
	0x4c, 0x29, 0xc0,		/* sub rax, r8 */
	0xf4,				/* hlt */
};
/* Retired between the two reads: rdtsc, mov, shl, or, mov ecx, and
 * 100 x (dec, jnz). */
#define BETWEEN (1 + 3 + 1 + 200)

static uint64_t run_timed(enum hw_vendor v, uint32_t cpi_milli, uint64_t tsc_offset,
			  uint64_t *first)
{
	struct hw_machine_config mc;
	hw_machine_config_default(&mc, v);
	mc.prices.cpi_milli = cpi_milli;
	struct hwg g;
	const struct hwg_config cfg = { .vendor = v, .tdp = true, .ram_size = 4 << 20,
					.machine = &mc };
	assert_int_equal(hwg_create(&g, &cfg), 0);
	hwg_load(&g, 0x10000, timed, sizeof(timed));
	hwg_set_entry(&g, 0x10000, 0x80000);
	if (v == HW_VENDOR_INTEL) {
		hwg_vmwrite(&g, VMCS_PROC_BASED_CTLS,
			    hwg_vmread(&g, VMCS_PROC_BASED_CTLS) | (1u << 3));	/* TSC offsetting */
		hwg_vmwrite(&g, VMCS_TSC_OFFSET, tsc_offset);
	} else {
		hwg_vmcb(&g)->control.tsc_offset = tsc_offset;
	}
	int st;
	hwg_run(&g, &st);
	assert_int_equal(st, 0);
	const uint64_t delta = hwg_gpr(&g, 0);
	*first = hwg_gpr(&g, 8);
	/* Modeled cycles as hw_cpu_cycles() sums them (cost.h). */
	const struct hw_counters *c = hw_cpu_counters(g.cpu);
	const uint64_t exit_price = v == HW_VENDOR_INTEL ? mc.prices.vmx_exit_entry
							  : mc.prices.svm_exit_entry;
	assert_int_equal(hw_cpu_cycles(g.cpu),
			 (c->insns + c->halted_insns) * cpi_milli / 1000 + c->exits * exit_price +
			 c->walk_refs * mc.prices.walk_ref +
			 c->walk_cache_hits * mc.prices.walk_cache_hit);
	hwg_destroy(&g);
	return delta;
}

static void rdtsc_times_the_loop(enum hw_vendor v)
{
	uint64_t first, again, scaled, offset;
	/* 1.0 cycle per instruction: the loop took BETWEEN cycles, exactly,
	 * and the first read is the same on every run. */
	assert_int_equal(run_timed(v, 1000, 0, &first), BETWEEN);
	assert_int_equal(run_timed(v, 1000, 0, &again), BETWEEN);
	assert_int_equal(first, again);
	/* Before the first read no instruction has retired: it reads only
	 * the cold two-dimensional walk of the code page, 24 references at
	 * 5 cycles (cost-model.md). */
	assert_int_equal(first, 24 * 5);
	/* 2.5 cycles per instruction: each read is floor(count x 2.5) plus
	 * the other prices, so the difference is 512 or 513. */
	const uint64_t d = run_timed(v, 2500, 0, &scaled);
	assert_in_range(d, BETWEEN * 2500 / 1000, BETWEEN * 2500 / 1000 + 1);
	assert_int_equal(scaled, first);	/* no instruction before it */
	/* The TSC offset moves both reads, not the difference. */
	assert_int_equal(run_timed(v, 1000, 1000000, &offset), BETWEEN);
	assert_int_equal(offset, first + 1000000);
}

static void vmx(void **state) { rdtsc_times_the_loop(HW_VENDOR_INTEL); }
static void svm(void **state) { rdtsc_times_the_loop(HW_VENDOR_AMD); }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vmx),
		cmocka_unit_test(svm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
