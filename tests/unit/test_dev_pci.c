/*
 * test_dev_pci.c — PCI configuration mechanism #1 (vmm/pci.c) per the
 * PCI Local Bus Specification 3.0, 3.2.2.3.2: CONFIG_ADDRESS at 0xcf8
 * (bit 31 enable, 23:16 bus, 15:11 device, 10:8 function, 7:2 register),
 * CONFIG_DATA at 0xcfc-0xcff; absent functions read all ones. The host
 * bridge at 00:00.0 is the i440FX: vendor 0x8086, device 0x1237, class
 * 0x060000, header type 0 (type 0 header, 6.1).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_dev_fakes.h"

static struct vmm v;

static uint32_t cfg_addr(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	return 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc);
}

static uint32_t cfg_read(uint32_t addr, unsigned off, unsigned size)
{
	vmm_pio_out(&v, 0xcf8, 4, addr);
	return vmm_pio_in(&v, (uint16_t)(0xcfc + off), size);
}

static void cfg_write(uint32_t addr, unsigned off, unsigned size, uint32_t val)
{
	vmm_pio_out(&v, 0xcf8, 4, addr);
	vmm_pio_out(&v, (uint16_t)(0xcfc + off), size, val);
}

static int setup(void **state)
{
	struct vdev *d;
	fake_reset(&v);
	assert_int_equal(pci_create(&v, &d), 0);
	assert_int_equal(vmm_add_dev(&v, d), 0);
	return 0;
}

static int teardown(void **state)
{
	vmm_destroy_devs(&v);
	return 0;
}

static void host_bridge_ids(void **state)
{
	uint32_t a = cfg_addr(0, 0, 0, 0);
	assert_int_equal(cfg_read(a, 0, 4), 0x12378086);
	assert_int_equal(cfg_read(a, 0, 2), 0x8086);
	assert_int_equal(cfg_read(a, 2, 2), 0x1237);
	assert_int_equal(cfg_read(a, 1, 1), 0x80);
	a = cfg_addr(0, 0, 0, 0x08);
	assert_int_equal(cfg_read(a, 0, 4) >> 8, 0x060000);	/* class code */
	assert_int_equal(cfg_read(cfg_addr(0, 0, 0, 0x0c), 2, 1), 0x00);	/* header type 0 */
}

static void absent_functions_read_all_ones(void **state)
{
	assert_int_equal(cfg_read(cfg_addr(0, 1, 0, 0), 0, 4), 0xffffffffu);
	assert_int_equal(cfg_read(cfg_addr(0, 31, 0, 0), 0, 2), 0xffff);
	assert_int_equal(cfg_read(cfg_addr(0, 0, 1, 0), 0, 4), 0xffffffffu);
	assert_int_equal(cfg_read(cfg_addr(1, 0, 0, 0), 0, 4), 0xffffffffu);
	assert_int_equal(cfg_read(cfg_addr(255, 0, 0, 0), 0, 1), 0xff);
}

static void enable_bit_clear_reads_all_ones(void **state)
{
	assert_int_equal(cfg_read(0x00000000, 0, 4), 0xffffffffu);
	cfg_write(0x00000004, 0, 2, 0x0000);	/* ignored */
	assert_int_equal(cfg_read(cfg_addr(0, 0, 0, 4), 0, 2), 0x0103);
}

static void address_register_reads_back(void **state)
{
	vmm_pio_out(&v, 0xcf8, 4, 0x80001234u | 0x7f000003u);
	/* Bits 30:24 and 1:0 are reserved: they read back 0. */
	assert_int_equal(vmm_pio_in(&v, 0xcf8, 4), 0x80001234u);
	vmm_pio_out(&v, 0xcf8, 1, 0);		/* not a CONFIG_ADDRESS access */
	vmm_pio_out(&v, 0xcf8, 2, 0);
	assert_int_equal(vmm_pio_in(&v, 0xcf8, 4), 0x80001234u);
	/* QEMU returns the low bytes to narrower reads. */
	assert_int_equal(vmm_pio_in(&v, 0xcf8, 2), 0x1234);
	assert_int_equal(vmm_pio_in(&v, 0xcf8, 1), 0x34);
}

static void id_registers_read_only(void **state)
{
	uint32_t a = cfg_addr(0, 0, 0, 0);
	cfg_write(a, 0, 4, 0);
	assert_int_equal(cfg_read(a, 0, 4), 0x12378086);
	a = cfg_addr(0, 0, 0, 8);
	cfg_write(a, 0, 4, 0);
	assert_int_equal(cfg_read(a, 0, 4) >> 8, 0x060000);
}

static void command_register_writable(void **state)
{
	uint32_t a = cfg_addr(0, 0, 0, 4);
	assert_int_equal(cfg_read(a, 0, 4), 0x00000103);	/* as QEMU+SeaBIOS: I/O, memory, SERR# */
	cfg_write(a, 0, 2, 0x0007);		/* I/O, memory, bus master */
	assert_int_equal(cfg_read(a, 0, 2), 0x0007);
	cfg_write(a, 0, 2, 0xffff);
	/* Bits 15:11 are reserved and bit 7 hardwired 0 (6.2.2); QEMU
	 * implements I/O, memory, master, SERR# and interrupt disable. */
	assert_int_equal(cfg_read(a, 0, 2), 0x0507);
	cfg_write(a, 0, 2, 0);
	assert_int_equal(cfg_read(a, 0, 2), 0);
	assert_int_equal(cfg_read(a, 2, 2), 0x0000);	/* status untouched */
}

static void subsystem_ids(void **state)
{
	assert_int_equal(cfg_read(cfg_addr(0, 0, 0, 0x2c), 0, 4), 0x11001af4);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(host_bridge_ids),
		T(absent_functions_read_all_ones),
		T(enable_bit_clear_reads_all_ones),
		T(address_register_reads_back),
		T(id_registers_read_only),
		T(command_register_writable),
		T(subsystem_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
