/*
 * test_dev_pmtimer.c — the ACPI PM timer and PM1 block (vmm/pmtimer.c)
 * per ACPI 6.x 4.8.3: PM_TMR at 0x608 counts at 3.579545 MHz, 24 bits
 * (bits 31:24 read 0 with TMR_VAL_EXT clear); TMR_STS (PM1_STS bit 0,
 * 0x600) is set when bit 23 changes and cleared by writing 1; with
 * TMR_EN (PM1_EN bit 0, 0x602) it raises the SCI, IRQ 9; PM1_CNT
 * (0x604) reads SCI_EN (bit 0) set.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_dev_fakes.h"

#define S 1000000000ull
#define HZ 3579545ull
#define SCI 9

static struct vmm v;

static uint32_t tmr(void)
{
	return vmm_pio_in(&v, 0x608, 4);
}

static int setup(void **state)
{
	struct vdev *d;
	fake_reset(&v);
	assert_int_equal(pmtimer_create(&v, &d), 0);
	assert_int_equal(vmm_add_dev(&v, d), 0);
	return 0;
}

static int teardown(void **state)
{
	vmm_destroy_devs(&v);
	return 0;
}

static void counts_at_3579545_hz(void **state)
{
	assert_int_equal(tmr(), 0);
	fake_now_ns = S;
	assert_int_equal(tmr(), HZ);
	fake_now_ns = 10000000;			/* 10 ms */
	assert_int_equal(tmr(), HZ / 100);	/* 35795.45 */
	fake_now_ns = 10000280;			/* one tick is 279.4 ns */
	assert_int_equal(tmr(), HZ / 100 + 1);
}

static void wraps_at_24_bits(void **state)
{
	fake_now_ns = 5 * S;			/* 17897725 ticks */
	assert_int_equal(tmr(), 5 * HZ - (1u << 24));
	assert_int_equal(tmr() >> 24, 0);
}

static void byte_reads_of_the_counter(void **state)
{
	fake_now_ns = S;			/* 0x369e99 */
	assert_int_equal(vmm_pio_in(&v, 0x608, 1), 0x99);
	assert_int_equal(vmm_pio_in(&v, 0x609, 1), 0x9e);
	assert_int_equal(vmm_pio_in(&v, 0x60a, 2), 0x0036);
}

static void sci_en_set(void **state)
{
	assert_int_equal(vmm_pio_in(&v, 0x604, 2) & 1, 1);
	vmm_pio_out(&v, 0x604, 2, 0);
	assert_int_equal(vmm_pio_in(&v, 0x604, 2) & 1, 1);
}

/* Bit 23 changes every 2^23 ticks: 2.3435 s. */
static void tmr_sts_and_sci(void **state)
{
	uint64_t flip = ((1ull << 23) * S + HZ - 1) / HZ;
	vmm_pio_out(&v, 0x602, 2, 1);		/* TMR_EN */
	assert_int_equal(vmm_pio_in(&v, 0x602, 2), 1);
	assert_true(vmm_tick(&v) == flip);
	fake_now_ns = flip - 1;
	vmm_tick(&v);
	assert_int_equal(vmm_pio_in(&v, 0x600, 2) & 1, 0);
	assert_false(fake_line[SCI]);
	fake_now_ns = flip;
	assert_true(vmm_tick(&v) == UINT64_MAX);	/* pending until cleared */
	assert_true(fake_line[SCI]);
	assert_int_equal(vmm_pio_in(&v, 0x600, 2) & 1, 1);
	vmm_pio_out(&v, 0x600, 2, 0);		/* writing 0 leaves it */
	assert_int_equal(vmm_pio_in(&v, 0x600, 2) & 1, 1);
	vmm_pio_out(&v, 0x600, 2, 1);		/* writing 1 clears it */
	assert_int_equal(vmm_pio_in(&v, 0x600, 2) & 1, 0);
	assert_false(fake_line[SCI]);
	assert_true(vmm_tick(&v) == ((2ull << 23) * S + HZ - 1) / HZ);
}

static void no_sci_without_tmr_en(void **state)
{
	fake_now_ns = 3 * S;
	assert_true(vmm_tick(&v) == UINT64_MAX);
	assert_int_equal(vmm_pio_in(&v, 0x600, 2) & 1, 1);
	assert_false(fake_line[SCI]);
}

static void gap_not_decoded(void **state)
{
	assert_int_equal(vmm_pio_in(&v, 0x606, 2), 0xffff);
	assert_int_equal(v.unknown_pio_reads, 1);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(counts_at_3579545_hz),
		T(wraps_at_24_bits),
		T(byte_reads_of_the_counter),
		T(sci_en_set),
		T(tmr_sts_and_sci),
		T(no_sci_without_tmr_en),
		T(gap_not_decoded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
