/*
 * test_irq_lapic_timer.c — the local APIC timer of core/irq on a fake
 * virtual clock: the divide configuration (SDM Vol. 3A Figure 11-10),
 * one-shot and periodic counting (11.5.4), TSC-deadline mode through
 * IA32_TSC_DEADLINE (11.5.4.1), the LVT mask, and the deadline the run
 * loop is given (irq_next_deadline_ns).
 *
 * The timer's input clock is CONFIG_HV_APIC_TIMER_KHZ; tick() converts
 * timer ticks to nanoseconds of virtual time with it. The fake TSC runs
 * at 2 GHz (2 ticks per ns).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/irq/irq.h"
#include "core/vm.h"
#include "tests/unit/irq_fakes.h"

#define VEC 0x30
#define LVT_MASKED (1u << 16)
#define PERIODIC (1u << 17)
#define TSC_DEADLINE (2u << 17)
#define MSR_TSC_DEADLINE 0x6e0

/* The clock starts at 1 ms, not 0: start times must not be assumed 0. */
static int setup(void **state)
{
	if (irqf_setup(0, 1000000))
		return -1;
	apic_wr(0xf0, 0x1ff);
	return 0;
}

/* Nanoseconds of @n timer ticks at divide-by-@div. */
static uint64_t ticks(uint64_t n, unsigned div)
{
	return n * div * 1000000ull / CONFIG_HV_APIC_TIMER_KHZ;
}

static void advance(uint64_t ns)
{
	now_ns += ns;
	now_tsc += 2 * ns;
	irq_update(&vcpu);
}

/* The timer's interrupt: taken and EOI'd; false when none. */
static bool fired(void)
{
	int v = irq_pending(&vcpu);
	if (v < 0)
		return false;
	assert_int_equal(v, VEC);
	irq_ack(&vcpu, v);
	apic_wr(0xb0, 0);
	return true;
}

/* Figure 11-10: bits 3,1:0 = 000 /2, 001 /4, 010 /8, 011 /16, 100 /32,
 * 101 /64, 110 /128, 111 /1. */
static void divide_configuration(void **state)
{
	static const struct { uint32_t cfg; unsigned div; } t[] = {
		{ 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 }, { 0x3, 16 },
		{ 0x8, 32 }, { 0x9, 64 }, { 0xa, 128 }, { 0xb, 1 },
	};
	apic_wr(0x320, VEC | LVT_MASKED);
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		apic_wr(0x3e0, t[i].cfg);
		apic_wr(0x380, 1000);
		advance(ticks(400, t[i].div));
		assert_int_equal(apic_rd(0x390), 600);
	}
}

/* One-shot: counts down once, interrupts at 0, stays 0. */
static void one_shot(void **state)
{
	apic_wr(0x3e0, 0xb);
	apic_wr(0x320, VEC);
	apic_wr(0x380, 1000);
	assert_int_equal(apic_rd(0x380), 1000);
	assert_int_equal(apic_rd(0x390), 1000);
	assert_int_equal(irq_next_deadline_ns(&vcpu), now_ns + ticks(1000, 1));
	advance(ticks(999, 1));
	assert_int_equal(apic_rd(0x390), 1);
	assert_false(fired());
	advance(ticks(1, 1));
	assert_true(fired());
	assert_int_equal(apic_rd(0x390), 0);
	assert_int_equal(irq_next_deadline_ns(&vcpu), UINT64_MAX);
	advance(ticks(5000, 1));
	assert_false(fired());
	assert_int_equal(apic_rd(0x380), 1000);	/* the initial count stays */
}

/* Periodic: at 0 it interrupts and reloads; missed periods give one
 * interrupt (one IRR bit) and the count keeps its phase. */
static void periodic(void **state)
{
	apic_wr(0x3e0, 0x0);					/* divide by 2 */
	apic_wr(0x320, VEC | PERIODIC);
	apic_wr(0x380, 100);
	advance(ticks(100, 2));
	assert_true(fired());
	assert_int_equal(apic_rd(0x390), 100);
	advance(ticks(50, 2));
	assert_int_equal(apic_rd(0x390), 50);
	assert_false(fired());
	advance(ticks(50, 2));
	assert_true(fired());
	advance(ticks(1030, 2));			/* 10 periods and 30 ticks */
	assert_true(fired());
	assert_false(fired());
	assert_int_equal(apic_rd(0x390), 70);
	assert_int_equal(irq_next_deadline_ns(&vcpu), now_ns + ticks(70, 2));
}

/* Writing the initial count restarts the count; 0 stops the timer. */
static void initial_count_restarts_and_stops(void **state)
{
	apic_wr(0x3e0, 0xb);
	apic_wr(0x320, VEC);
	apic_wr(0x380, 1000);
	advance(ticks(600, 1));
	apic_wr(0x380, 1000);
	advance(ticks(600, 1));
	assert_false(fired());
	assert_int_equal(apic_rd(0x390), 400);
	apic_wr(0x380, 0);
	assert_int_equal(apic_rd(0x390), 0);
	advance(ticks(1000, 1));
	assert_false(fired());
	assert_int_equal(irq_next_deadline_ns(&vcpu), UINT64_MAX);
}

/* A masked timer counts but interrupts nobody, also not when it is
 * unmasked after the count ran out. */
static void masked_timer(void **state)
{
	apic_wr(0x3e0, 0xb);
	apic_wr(0x320, VEC | LVT_MASKED);
	apic_wr(0x380, 100);
	advance(ticks(50, 1));
	assert_int_equal(apic_rd(0x390), 50);
	advance(ticks(60, 1));
	apic_wr(0x320, VEC);
	irq_update(&vcpu);
	assert_false(fired());
	assert_int_equal(apic_rd(0x390), 0);
}

/* 11.5.4: changing one-shot <-> periodic does not start the timer. */
static void mode_change_does_not_start(void **state)
{
	apic_wr(0x3e0, 0xb);
	apic_wr(0x320, VEC);
	apic_wr(0x380, 100);
	advance(ticks(100, 1));
	assert_true(fired());
	apic_wr(0x320, VEC | PERIODIC);
	advance(ticks(500, 1));
	assert_false(fired());
	assert_int_equal(apic_rd(0x390), 0);
}

/*
 * 11.5.4.1: in TSC-deadline mode the initial count is ignored and the
 * current count reads 0; the timer interrupts when the TSC reaches
 * IA32_TSC_DEADLINE, which then reads 0. A deadline already past
 * interrupts at once; 0 disarms.
 */
static void tsc_deadline(void **state)
{
	uint64_t v;

	apic_wr(0x320, VEC | TSC_DEADLINE);
	apic_wr(0x380, 1000);
	assert_int_equal(apic_rd(0x380), 0);
	assert_int_equal(apic_rd(0x390), 0);
	assert_int_equal(irq_wrmsr(&vcpu, MSR_TSC_DEADLINE, now_tsc + 1000), 0);
	assert_int_equal(irq_rdmsr(&vcpu, MSR_TSC_DEADLINE, &v), 0);
	assert_int_equal(v, now_tsc + 1000);
	assert_int_equal(irq_next_deadline_ns(&vcpu), now_ns + 500);
	advance(499);				/* TSC + 998 */
	assert_false(fired());
	advance(1);
	assert_true(fired());
	assert_int_equal(irq_rdmsr(&vcpu, MSR_TSC_DEADLINE, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(irq_next_deadline_ns(&vcpu), UINT64_MAX);

	assert_int_equal(irq_wrmsr(&vcpu, MSR_TSC_DEADLINE, now_tsc - 1), 0);
	assert_true(fired());
	assert_int_equal(irq_wrmsr(&vcpu, MSR_TSC_DEADLINE, now_tsc + 10), 0);
	assert_int_equal(irq_wrmsr(&vcpu, MSR_TSC_DEADLINE, 0), 0);
	advance(100);
	assert_false(fired());
}

/* Outside TSC-deadline mode IA32_TSC_DEADLINE reads 0 and writes are
 * ignored; leaving TSC-deadline mode disarms the timer. */
static void tsc_deadline_other_modes(void **state)
{
	uint64_t v;

	apic_wr(0x320, VEC);
	assert_int_equal(irq_wrmsr(&vcpu, MSR_TSC_DEADLINE, now_tsc + 10), 0);
	assert_int_equal(irq_rdmsr(&vcpu, MSR_TSC_DEADLINE, &v), 0);
	assert_int_equal(v, 0);
	apic_wr(0x320, VEC | TSC_DEADLINE);
	advance(100);
	assert_false(fired());
	assert_int_equal(irq_wrmsr(&vcpu, MSR_TSC_DEADLINE, now_tsc + 10), 0);
	apic_wr(0x320, VEC);
	advance(100);
	assert_false(fired());
	apic_wr(0x320, VEC | TSC_DEADLINE);
	assert_int_equal(irq_rdmsr(&vcpu, MSR_TSC_DEADLINE, &v), 0);
	assert_int_equal(v, 0);
}

/* The timer's vector waits behind PPR like any other. */
static void timer_respects_tpr(void **state)
{
	apic_wr(0x3e0, 0xb);
	apic_wr(0x320, VEC);
	apic_wr(0x80, 0x30);
	apic_wr(0x380, 10);
	advance(ticks(10, 1));
	assert_int_equal(irq_pending(&vcpu), -1);
	apic_wr(0x80, 0x20);
	assert_true(fired());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(divide_configuration, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(one_shot, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(periodic, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(initial_count_restarts_and_stops, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(masked_timer, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(mode_change_does_not_start, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(tsc_deadline, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(tsc_deadline_other_modes, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(timer_respects_tpr, setup, irqf_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
