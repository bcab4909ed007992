/*
 * test_dev_fwcfg.c — QEMU's fw_cfg on I/O ports (vmm/fwcfg.c) as QEMU's
 * docs/specs/fw_cfg.txt specifies it: a 16-bit selector write to 0x510
 * rewinds the data offset; byte reads of 0x511 return the item, then 0
 * past its end. Keys: 0x0000 signature, 0x0001 ID, 0x0003 RAM size,
 * 0x0005 CPUs, 0x000f maximum CPUs (the APIC ID limit on x86), 0x0014 /
 * 0x0015 command line size / data, 0x0019 file directory (big-endian
 * count). Without a command line the items are absent and read 0.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_dev_fakes.h"

#define MiB (1ull << 20)

static struct vmm v;

static void make(uint64_t ram, unsigned ncpus, const char *cmdline)
{
	struct vdev *d;
	vmm_destroy_devs(&v);
	fake_reset(&v);
	v.ram_size = ram;
	v.ncpus = ncpus;
	v.cmdline = cmdline;
	assert_int_equal(fwcfg_create(&v, &d), 0);
	assert_int_equal(vmm_add_dev(&v, d), 0);
}

static void sel(uint16_t key)
{
	vmm_pio_out(&v, 0x510, 2, key);
}

static void rdn(uint8_t *buf, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		buf[i] = (uint8_t)vmm_pio_in(&v, 0x511, 1);
}

static uint64_t rd_le(unsigned n)
{
	uint8_t b[8];
	uint64_t val = 0;
	rdn(b, n);
	for (unsigned i = 0; i < n; i++)
		val |= (uint64_t)b[i] << (8 * i);
	return val;
}

static int setup(void **state)
{
	make(128 * MiB, 1, "console=ttyS0 quiet");
	return 0;
}

static int teardown(void **state)
{
	vmm_destroy_devs(&v);
	return 0;
}

static void signature(void **state)
{
	uint8_t b[6];
	sel(0x0000);
	rdn(b, 6);
	assert_memory_equal(b, "QEMU\0\0", 6);	/* then 0 past the end */
	sel(0x0000);				/* selecting rewinds */
	rdn(b, 4);
	assert_memory_equal(b, "QEMU", 4);
}

static void id_traditional_no_dma(void **state)
{
	sel(0x0001);
	assert_int_equal(rd_le(4), 1);
}

static void ram_size(void **state)
{
	sel(0x0003);
	assert_true(rd_le(8) == 128 * MiB);
	make(6ull << 30, 1, NULL);
	sel(0x0003);
	assert_true(rd_le(8) == 6ull << 30);
}

static void cpus(void **state)
{
	sel(0x0005);
	assert_int_equal(rd_le(2), 1);
	make(128 * MiB, 0, NULL);
	sel(0x0005);
	assert_int_equal(rd_le(2), 1);		/* never 0 */
	make(128 * MiB, 4, NULL);
	sel(0x0005);
	assert_int_equal(rd_le(2), 4);
	sel(0x000f);
	assert_int_equal(rd_le(2), 4);		/* APIC IDs 0-3 */
}

static void cmdline(void **state)
{
	uint8_t b[22];
	sel(0x0014);
	assert_int_equal(rd_le(4), 20);		/* 19 characters and the NUL */
	sel(0x0015);
	rdn(b, sizeof(b));
	assert_memory_equal(b, "console=ttyS0 quiet\0\0\0", 22);
}

static void no_cmdline_no_items(void **state)
{
	make(128 * MiB, 1, NULL);
	sel(0x0014);
	assert_int_equal(rd_le(4), 0);
	sel(0x0015);
	assert_int_equal(rd_le(1), 0);
}

static void empty_cmdline(void **state)
{
	make(128 * MiB, 1, "");
	sel(0x0014);
	assert_int_equal(rd_le(4), 1);		/* just the NUL */
}

static void file_dir_empty(void **state)
{
	sel(0x0019);
	assert_int_equal(rd_le(4), 0);
}

static void unknown_and_special_keys_read_zero(void **state)
{
	sel(0x1234);
	assert_int_equal(rd_le(4), 0);
	sel(0x4000);				/* write access to the signature */
	assert_int_equal(rd_le(4), 0);
	sel(0x8000);				/* architecture-specific 0 */
	assert_int_equal(rd_le(4), 0);
}

static void byte_write_does_not_select(void **state)
{
	sel(0x0000);
	vmm_pio_out(&v, 0x510, 1, 0x01);
	assert_int_equal(vmm_pio_in(&v, 0x511, 1), 'Q');
	vmm_pio_out(&v, 0x511, 1, 0x55);	/* data writes ignored */
	assert_int_equal(vmm_pio_in(&v, 0x511, 1), 'E');
}

/* QEMU's I/O fw_cfg is one 2-byte region taking byte reads anywhere. */
static void byte_read_of_selector_port_reads_data(void **state)
{
	sel(0x0000);
	assert_int_equal(vmm_pio_in(&v, 0x510, 1), 'Q');
	assert_int_equal(vmm_pio_in(&v, 0x511, 1), 'E');
}

static void wide_reads_return_zero_and_do_not_advance(void **state)
{
	sel(0x0000);
	assert_int_equal(vmm_pio_in(&v, 0x511, 2), 0);
	assert_int_equal(vmm_pio_in(&v, 0x511, 4), 0);
	assert_int_equal(vmm_pio_in(&v, 0x511, 1), 'Q');
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(signature),
		T(id_traditional_no_dma),
		T(ram_size),
		T(cpus),
		T(cmdline),
		T(no_cmdline_no_items),
		T(empty_cmdline),
		T(file_dir_empty),
		T(unknown_and_special_keys_read_zero),
		T(byte_write_does_not_select),
		T(byte_read_of_selector_port_reads_data),
		T(wide_reads_return_zero_and_do_not_advance),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
