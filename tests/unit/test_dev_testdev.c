/*
 * test_dev_testdev.c — QEMU's pc-testdev (vmm/testdev.c), as QEMU 7.2's
 * hw/misc/pc-testdev.c behaves: the byte-lane latch at 0xe0-0xe3 (and
 * its byte-split alias at 0xe8-0xeb), the flush-page port reading 0, and
 * 64 KiB of zero-initialised memory at 0xff000000.
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
	assert_int_equal(testdev_create(&v, &d), 0);
	assert_int_equal(vmm_add_dev(&v, d), 0);
	return 0;
}

static int teardown(void **state)
{
	vmm_destroy_devs(&v);
	return 0;
}

static void latch_reads_back(void **state)
{
	assert_int_equal(vmm_pio_in(&v, 0xe0, 4), 0);
	vmm_pio_out(&v, 0xe0, 4, 0x12345678);
	assert_int_equal(vmm_pio_in(&v, 0xe0, 4), 0x12345678);
	assert_int_equal(vmm_pio_in(&v, 0xe0, 2), 0x5678);
	assert_int_equal(vmm_pio_in(&v, 0xe0, 1), 0x78);
}

static void latch_byte_lanes(void **state)
{
	vmm_pio_out(&v, 0xe0, 4, 0x12345678);
	assert_int_equal(vmm_pio_in(&v, 0xe1, 1), 0x56);
	assert_int_equal(vmm_pio_in(&v, 0xe2, 2), 0x1234);
	vmm_pio_out(&v, 0xe3, 1, 0xab);
	assert_int_equal(vmm_pio_in(&v, 0xe0, 4), 0xab345678);
	vmm_pio_out(&v, 0xe1, 2, 0xcdef);
	assert_int_equal(vmm_pio_in(&v, 0xe0, 4), 0xabcdef78);
}

static void byte_alias_shares_the_latch(void **state)
{
	vmm_pio_out(&v, 0xe0, 4, 0x12345678);
	assert_int_equal(vmm_pio_in(&v, 0xe9, 1), 0x56);
	assert_int_equal(vmm_pio_in(&v, 0xe8, 4), 0x12345678);
	vmm_pio_out(&v, 0xe8, 2, 0xbeef);
	assert_int_equal(vmm_pio_in(&v, 0xe0, 4), 0x1234beef);
}

static void flush_port(void **state)
{
	vmm_pio_out(&v, 0xe0, 4, 0x12345678);
	vmm_pio_out(&v, 0xe4, 4, 0x100000);
	assert_int_equal(vmm_pio_in(&v, 0xe4, 4), 0);
	assert_int_equal(vmm_pio_in(&v, 0xe0, 4), 0x12345678);	/* untouched */
}

static void iomem_zero_then_read_write(void **state)
{
	assert_true(vmm_mmio_read(&v, 0xff000000, 8) == 0);
	assert_true(vmm_mmio_read(&v, 0xff00fff8, 8) == 0);
	vmm_mmio_write(&v, 0xff000010, 8, 0x0807060504030201ull);
	assert_true(vmm_mmio_read(&v, 0xff000010, 8) == 0x0807060504030201ull);
	assert_int_equal(vmm_mmio_read(&v, 0xff000011, 1), 0x02);
	assert_int_equal(vmm_mmio_read(&v, 0xff000012, 4), 0x06050403);
	vmm_mmio_write(&v, 0xff000013, 2, 0xaaaa);
	assert_true(vmm_mmio_read(&v, 0xff000010, 8) == 0x080706aaaa030201ull);
}

static void iomem_bounds(void **state)
{
	vmm_mmio_write(&v, 0xff00ffff, 1, 0x5a);
	assert_int_equal(vmm_mmio_read(&v, 0xff00ffff, 1), 0x5a);
	assert_int_equal(v.unknown_mmio_reads, 0);
	assert_int_equal(vmm_mmio_read(&v, 0xff010000, 4), 0xffffffffu);
	assert_int_equal(v.unknown_mmio_reads, 1);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(latch_reads_back),
		T(latch_byte_lanes),
		T(byte_alias_shares_the_latch),
		T(flush_port),
		T(iomem_zero_then_read_write),
		T(iomem_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
