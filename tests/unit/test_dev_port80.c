/*
 * test_dev_port80.c — port 0x80 (vmm/port80.c) as QEMU's pc machine
 * decodes it: writes vanish, reads return all ones, and neither counts
 * as an access nobody decoded.
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
	assert_int_equal(port80_create(&v, &d), 0);
	assert_int_equal(vmm_add_dev(&v, d), 0);
	return 0;
}

static int teardown(void **state)
{
	vmm_destroy_devs(&v);
	return 0;
}

static void writes_ignored_reads_all_ones(void **state)
{
	vmm_pio_out(&v, 0x80, 1, 0x42);
	assert_int_equal(vmm_pio_in(&v, 0x80, 1), 0xff);
	assert_int_equal(vmm_pio_in(&v, 0x80, 2), 0xffff);
	assert_int_equal(v.unknown_pio_reads + v.unknown_pio_writes, 0);
}

static void only_port_0x80(void **state)
{
	vmm_pio_out(&v, 0x81, 1, 0x42);
	assert_int_equal(v.unknown_pio_writes, 1);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(writes_ignored_reads_all_ones),
		T(only_port_0x80),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
