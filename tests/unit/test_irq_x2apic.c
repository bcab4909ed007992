/*
 * test_irq_x2apic.c — IA32_APIC_BASE and the x2APIC interface of
 * core/irq's local APIC: the state transitions of SDM Vol. 3A 11.12.5
 * (illegal ones raise #GP: irq_wrmsr returns -EINVAL), register
 * availability (11.12.2: the MSRs only in x2APIC mode, the page only in
 * xAPIC mode), the MSR map and its access rules (11.12.1.2, Table 11-6),
 * reserved-bit checking (11.12.1.3), the 32-bit ID and the logical ID
 * derived from it (11.12.10.2), the 64-bit ICR (11.12.9) and SELF IPI
 * (11.12.11).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/irq/irq.h"
#include "core/vm.h"
#include "tests/unit/irq_fakes.h"

#define APIC_BASE_MSR 0x1b
#define BASE 0xfee00000ull
#define EN (1ull << 11)
#define EXTD (1ull << 10)
#define BSP (1ull << 8)
/* The vcpu's initial APIC ID: x2APIC ID 0x12 has logical ID cluster 1,
 * bit 2 (11.12.10.2: LDR = (ID[19:4] << 16) | 1 << ID[3:0]). */
#define VCPU_ID 0x12
#define VCPU_LDR 0x00010004u

static int setup(void **state)
{
	return irqf_setup(VCPU_ID, 0);
}

static int wrmsr(uint32_t msr, uint64_t v)
{
	return irq_wrmsr(&vcpu, msr, v);
}

static uint64_t rdmsr_ok(uint32_t msr)
{
	uint64_t v = 0xdead;
	assert_int_equal(irq_rdmsr(&vcpu, msr, &v), 0);
	return v;
}

static int rdmsr_rc(uint32_t msr)
{
	uint64_t v;
	return irq_rdmsr(&vcpu, msr, &v);
}

static void to_x2apic(void)
{
	assert_int_equal(wrmsr(APIC_BASE_MSR, BASE | EN | EXTD), 0);
}

static bool in_irr(unsigned v)
{
	return rdmsr_ok(0x820 + v / 32) >> (v % 32) & 1;
}

/*
 * Figure 11-27: disabled (EN=0, EXTD=0), xAPIC (1,0), x2APIC (1,1),
 * invalid (0,1). Legal: disabled <-> xAPIC, xAPIC -> x2APIC,
 * x2APIC -> disabled. Illegal (#GP): anything -> invalid,
 * x2APIC -> xAPIC, disabled -> x2APIC.
 */
static void apic_base_transitions(void **state)
{
	assert_int_equal(wrmsr(APIC_BASE_MSR, BASE | EXTD), -EINVAL);	/* invalid */
	assert_int_equal(wrmsr(APIC_BASE_MSR, BASE), 0);		/* -> disabled */
	assert_int_equal(wrmsr(APIC_BASE_MSR, BASE | EN | EXTD), -EINVAL);
	assert_int_equal(wrmsr(APIC_BASE_MSR, BASE | EXTD), -EINVAL);
	assert_int_equal(wrmsr(APIC_BASE_MSR, BASE | EN), 0);		/* -> xAPIC */
	assert_int_equal(wrmsr(APIC_BASE_MSR, BASE | EN | EXTD), 0);	/* -> x2APIC */
	assert_int_equal(rdmsr_ok(APIC_BASE_MSR), BASE | EN | EXTD);
	assert_int_equal(wrmsr(APIC_BASE_MSR, BASE | EN), -EINVAL);
	assert_int_equal(wrmsr(APIC_BASE_MSR, BASE | EXTD), -EINVAL);
	assert_int_equal(wrmsr(APIC_BASE_MSR, BASE | EN | EXTD), 0);	/* stays */
	assert_int_equal(wrmsr(APIC_BASE_MSR, BASE), 0);		/* -> disabled */
	assert_int_equal(rdmsr_ok(APIC_BASE_MSR), BASE);
}

/* Figure 11-5: bits 7:0 and 9 are reserved, and the base above
 * MAXPHYADDR (at most 52: bits 63:52 are reserved on any processor). */
static void apic_base_reserved_bits(void **state)
{
	assert_int_equal(wrmsr(APIC_BASE_MSR, BASE | EN | 1), -EINVAL);
	assert_int_equal(wrmsr(APIC_BASE_MSR, BASE | EN | (1u << 9)), -EINVAL);
	assert_int_equal(wrmsr(APIC_BASE_MSR, BASE | EN | (1ull << 52)), -EINVAL);
	assert_int_equal(wrmsr(APIC_BASE_MSR, BASE | EN | (1ull << 63)), -EINVAL);
	assert_int_equal(rdmsr_ok(APIC_BASE_MSR), BASE | EN);
}

/* 11.12.2: x2APIC MSRs raise #GP unless the APIC is in x2APIC mode; in
 * x2APIC mode the page is not decoded. */
static void register_availability(void **state)
{
	uint32_t v;

	assert_int_equal(rdmsr_rc(0x802), -EINVAL);
	assert_int_equal(wrmsr(0x808, 0), -EINVAL);
	assert_true(irq_mmio_read(&vcpu, BASE + 0x30, &v, 4));
	to_x2apic();
	assert_false(irq_mmio_read(&vcpu, BASE + 0x30, &v, 4));
	assert_int_equal(rdmsr_ok(0x803), 0x00050014);
	assert_int_equal(wrmsr(APIC_BASE_MSR, BASE), 0);
	assert_int_equal(rdmsr_rc(0x803), -EINVAL);
	assert_false(irq_mmio_read(&vcpu, BASE + 0x30, &v, 4));	/* disabled */
	assert_int_equal(irq_rdmsr(&vcpu, 0x10, &(uint64_t){ 0 }), 1);	/* not ours */
}

/* 11.12.5.1: the x2APIC ID is the initial APIC ID, 32 bits, read-only;
 * LDR is derived from it (11.12.10.2). */
static void id_and_ldr(void **state)
{
	to_x2apic();
	assert_int_equal(rdmsr_ok(0x802), VCPU_ID);
	assert_int_equal(rdmsr_ok(0x80d), VCPU_LDR);
}

/* Table 11-6: write-only registers #GP on read, read-only ones on
 * write, registers x2APIC mode does not have on both. */
static void access_rules(void **state)
{
	static const uint32_t read_only[] = { 0x802, 0x803, 0x80a, 0x80d, 0x810, 0x817,
					      0x818, 0x820, 0x827, 0x839 };
	static const uint32_t write_only[] = { 0x80b, 0x83f };
	static const uint32_t absent[] = { 0x800, 0x801, 0x804, 0x809, 0x80c, 0x80e,
					   0x82f, 0x831, 0x83a, 0x840, 0x8ff };
	to_x2apic();
	for (unsigned i = 0; i < sizeof(read_only) / sizeof(read_only[0]); i++) {
		assert_int_equal(rdmsr_rc(read_only[i]), 0);
		assert_int_equal(wrmsr(read_only[i], 0), -EINVAL);
	}
	for (unsigned i = 0; i < sizeof(write_only) / sizeof(write_only[0]); i++)
		assert_int_equal(rdmsr_rc(write_only[i]), -EINVAL);
	for (unsigned i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
		assert_int_equal(rdmsr_rc(absent[i]), -EINVAL);
		assert_int_equal(wrmsr(absent[i], 0), -EINVAL);
	}
}

/* 11.12.1.3: non-zero writes to reserved bits raise #GP; EOI and ESR
 * accept only 0; bits 63:32 are reserved except in the ICR. */
static void reserved_bits(void **state)
{
	to_x2apic();
	assert_int_equal(wrmsr(0x808, 0x100), -EINVAL);		/* TPR */
	assert_int_equal(wrmsr(0x808, 1ull << 32), -EINVAL);
	assert_int_equal(wrmsr(0x808, 0xff), 0);
	assert_int_equal(wrmsr(0x80b, 1), -EINVAL);		/* EOI */
	assert_int_equal(wrmsr(0x80b, 0), 0);
	assert_int_equal(wrmsr(0x828, 1), -EINVAL);		/* ESR */
	assert_int_equal(wrmsr(0x828, 0), 0);
	assert_int_equal(wrmsr(0x80f, 1u << 12), -EINVAL);	/* SVR: no EOI suppression */
	assert_int_equal(wrmsr(0x80f, 0x1ff), 0);
	assert_int_equal(wrmsr(0x832, 1u << 19), -EINVAL);	/* LVT timer */
	assert_int_equal(wrmsr(0x835, 1u << 17), -EINVAL);	/* LVT LINT0 */
	assert_int_equal(wrmsr(0x837, 1u << 8), -EINVAL);	/* LVT error: no mode */
	assert_int_equal(wrmsr(0x83e, 1u << 2), -EINVAL);	/* divide config */
	assert_int_equal(wrmsr(0x83f, 0x100), -EINVAL);		/* SELF IPI */
	assert_int_equal(wrmsr(0x830, 1u << 13), -EINVAL);	/* ICR bit 13 */
	assert_int_equal(wrmsr(0x830, 1u << 12), -EINVAL);	/* no delivery status */
	assert_int_equal(rdmsr_ok(0x808), 0xff);
	assert_int_equal(rdmsr_ok(0x80f), 0x1ff);
}

/* 11.12.9: one 64-bit ICR, destination in 63:32; physical destination
 * = the 32-bit x2APIC ID. */
static void icr_64bit(void **state)
{
	to_x2apic();
	assert_int_equal(wrmsr(0x80f, 0x1ff), 0);
	uint64_t icr = (uint64_t)VCPU_ID << 32 | 0x61;
	assert_int_equal(wrmsr(0x830, icr), 0);
	assert_int_equal(rdmsr_ok(0x830), icr);
	assert_true(in_irr(0x61));
	assert_int_equal(wrmsr(0x830, (uint64_t)(VCPU_ID + 1) << 32 | 0x62), 0);
	assert_false(in_irr(0x62));
	/* 0x12 << 24 would be this APIC in xAPIC format: not here */
	assert_int_equal(wrmsr(0x830, (uint64_t)VCPU_ID << 56 | 0x63), 0);
	assert_false(in_irr(0x63));
	assert_int_equal(wrmsr(0x830, 0xffffffffull << 32 | 0x64), 0);
	assert_true(in_irr(0x64));
}

/* 11.12.10.1: logical destination = cluster (31:16) + bitmap (15:0). */
static void icr_logical_cluster(void **state)
{
	to_x2apic();
	assert_int_equal(wrmsr(0x80f, 0x1ff), 0);
	assert_int_equal(wrmsr(0x830, 0x00010004ull << 32 | (1u << 11) | 0x71), 0);
	assert_true(in_irr(0x71));
	assert_int_equal(wrmsr(0x830, 0x00020004ull << 32 | (1u << 11) | 0x72), 0);
	assert_false(in_irr(0x72));
	assert_int_equal(wrmsr(0x830, 0x00010003ull << 32 | (1u << 11) | 0x73), 0);
	assert_false(in_irr(0x73));
}

/* 11.12.11: SELF IPI takes a vector and sends it fixed, edge. */
static void self_ipi(void **state)
{
	to_x2apic();
	assert_int_equal(wrmsr(0x80f, 0x1ff), 0);
	assert_int_equal(wrmsr(0x83f, 0x55), 0);
	assert_int_equal(irqf_take(), 0x55);
	assert_true(rdmsr_ok(0x810 + 0x55 / 32) >> (0x55 % 32) & 1);	/* ISR */
	assert_int_equal(wrmsr(0x80b, 0), 0);
	assert_false(rdmsr_ok(0x810 + 0x55 / 32) >> (0x55 % 32) & 1);
	assert_int_equal(wrmsr(0x83f, 0x05), 0);			/* illegal */
	assert_int_equal(wrmsr(0x828, 0), 0);
	assert_int_equal(rdmsr_ok(0x828), 1u << 5);
}

/* A globally disabled APIC accepts nothing. What its registers hold
 * when enabled again 11.12.5.1 leaves undefined ("system software
 * should explicitly initialize"); hvlab gives the RESET values, and at
 * least SVR must not come back software-enabled. */
static void disable_and_reenable(void **state)
{
	uint32_t svr = 0x1ff, v;

	assert_true(irq_mmio_write(&vcpu, BASE + 0xf0, &svr, 4));
	assert_int_equal(wrmsr(APIC_BASE_MSR, BASE), 0);
	assert_int_equal(irq_pending(&vcpu), -1);
	assert_int_equal(wrmsr(APIC_BASE_MSR, BASE | EN), 0);
	assert_true(irq_mmio_read(&vcpu, BASE + 0xf0, &v, 4));
	assert_int_equal(v, 0xff);
	assert_true(irq_mmio_read(&vcpu, BASE + 0x350, &v, 4));
	assert_int_equal(v, 0x00010000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(apic_base_transitions, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(apic_base_reserved_bits, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(register_availability, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(id_and_ldr, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(access_rules, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(reserved_bits, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(icr_64bit, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(icr_logical_cluster, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(self_ipi, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(disable_and_reenable, setup, irqf_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
