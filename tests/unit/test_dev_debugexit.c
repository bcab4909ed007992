/*
 * test_dev_debugexit.c — isa-debug-exit (vmm/debugexit.c) as QEMU's
 * `-device isa-debug-exit,iobase=0xf4,iosize=4`: a write of V of any
 * width to any of 0xf4-0xf7 ends the run with status (V << 1) | 1; reads
 * return 0 (QEMU hw/misc/debugexit.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_dev_fakes.h"

static struct vmm v;

static int setup(void **state)
{
	struct vdev *d;
	fake_reset(&v);
	assert_int_equal(debugexit_create(&v, &d), 0);
	assert_int_equal(vmm_add_dev(&v, d), 0);
	return 0;
}

static int teardown(void **state)
{
	vmm_destroy_devs(&v);
	return 0;
}

static void write_zero_exits_one(void **state)
{
	assert_false(v.exit_requested);
	vmm_pio_out(&v, 0xf4, 1, 0);
	assert_true(v.exit_requested);
	assert_int_equal(v.exit_status, 1);
}

static void status_formula(void **state)
{
	vmm_pio_out(&v, 0xf4, 1, 0x10);
	assert_int_equal(v.exit_status, 0x21);
	vmm_pio_out(&v, 0xf4, 2, 0x1234);
	assert_int_equal(v.exit_status, 0x2469);
	vmm_pio_out(&v, 0xf4, 4, 0x31);
	assert_int_equal(v.exit_status, 0x63);
}

static void every_port_of_the_range(void **state)
{
	vmm_pio_out(&v, 0xf7, 1, 3);
	assert_true(v.exit_requested);
	assert_int_equal(v.exit_status, 7);
}

static void outside_the_range(void **state)
{
	vmm_pio_out(&v, 0xf8, 1, 3);
	vmm_pio_out(&v, 0xf3, 1, 3);
	assert_false(v.exit_requested);
	assert_int_equal(v.unknown_pio_writes, 2);
}

static void reads_return_zero(void **state)
{
	assert_int_equal(vmm_pio_in(&v, 0xf4, 1), 0);
	assert_int_equal(vmm_pio_in(&v, 0xf4, 4), 0);
	assert_false(v.exit_requested);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(write_zero_exits_one),
		T(status_formula),
		T(every_port_of_the_range),
		T(outside_the_range),
		T(reads_return_zero),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
