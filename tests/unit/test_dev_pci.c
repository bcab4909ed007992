/*
 * test_dev_pci.c — PCI configuration mechanism #1 (vmm/pci.c) per the
 * PCI Local Bus Specification 3.0, 3.2.2.3.2: CONFIG_ADDRESS at 0xcf8
 * (bit 31 enable, 23:16 bus, 15:11 device, 10:8 function, 7:2 register),
 * CONFIG_DATA at 0xcfc-0xcff; absent functions read all ones. The host
 * bridge at 00:00.0 is the i440FX: vendor 0x8086, device 0x1237, class
 * 0x060000, header type 0 (type 0 header, 6.1). Device 1 is the PIIX3/4
 * south bridge (82371SB datasheet: function 0 the ISA bridge, device ID
 * 7000h; function 1 IDE, 7010h; 82371AB datasheet: function 3 power
 * management, 7113h, PMBA at 40h, PMREGMISC at 80h). Class codes from the
 * PCI Code and ID Assignment Specification: 06 00 host bridge, 06 01 ISA
 * bridge, 01 01 IDE (programming interface bit 7: bus master), 06 80
 * other bridge. Writable registers per PCI 3.0 6.2: the command bits,
 * Cache Line Size and Interrupt Line; a BAR's hardwired low bits give its
 * size (6.2.5.1).
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
	static const unsigned absent[][2] = {
		{ 0, 1 }, { 0, 7 }, { 1, 2 }, { 1, 4 }, { 1, 5 }, { 1, 6 }, { 1, 7 },
		{ 2, 0 }, { 3, 0 }, { 31, 0 }, { 31, 7 },
	};
	for (unsigned i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
		assert_int_equal(cfg_read(cfg_addr(0, absent[i][0], absent[i][1], 0), 0, 4), 0xffffffffu);
	assert_int_equal(cfg_read(cfg_addr(0, 31, 0, 0), 0, 2), 0xffff);
	assert_int_equal(cfg_read(cfg_addr(1, 0, 0, 0), 0, 4), 0xffffffffu);
	assert_int_equal(cfg_read(cfg_addr(1, 1, 0, 0), 0, 4), 0xffffffffu);
	assert_int_equal(cfg_read(cfg_addr(255, 0, 0, 0), 0, 1), 0xff);
	/* Writes to an absent function go nowhere: 00:01.0 is unchanged. */
	cfg_write(cfg_addr(1, 1, 0, 4), 0, 2, 0);
	assert_int_equal(cfg_read(cfg_addr(0, 1, 0, 4), 0, 2), 0x0103);
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

static void piix3_isa_bridge(void **state)
{
	assert_int_equal(cfg_read(cfg_addr(0, 1, 0, 0x00), 0, 4), 0x70008086);
	assert_int_equal(cfg_read(cfg_addr(0, 1, 0, 0x08), 0, 4), 0x06010000);	/* class, rev 0 */
	/* Header type bit 7: a multifunction device (6.2.1), so software
	 * goes on to functions 1-7. */
	assert_int_equal(cfg_read(cfg_addr(0, 1, 0, 0x0c), 2, 1), 0x80);
	assert_int_equal(cfg_read(cfg_addr(0, 1, 0, 0x04), 0, 4), 0x02000103);	/* DEVSEL medium */
	assert_int_equal(cfg_read(cfg_addr(0, 1, 0, 0x2c), 0, 4), 0x11001af4);
	assert_int_equal(cfg_read(cfg_addr(0, 1, 0, 0x3c), 0, 4), 0);	/* no interrupt pin */
}

static void piix3_ide(void **state)
{
	uint32_t bar4 = cfg_addr(0, 1, 1, 0x20);
	assert_int_equal(cfg_read(cfg_addr(0, 1, 1, 0x00), 0, 4), 0x70108086);
	assert_int_equal(cfg_read(cfg_addr(0, 1, 1, 0x08), 0, 4), 0x01018000);	/* IDE, bus master */
	assert_int_equal(cfg_read(cfg_addr(0, 1, 1, 0x0c), 2, 1), 0x00);
	assert_int_equal(cfg_read(cfg_addr(0, 1, 1, 0x04), 0, 4), 0x02800103);
	/* BAR 4, bus-master IDE: I/O space (bit 0) at 0xc000. */
	assert_int_equal(cfg_read(bar4, 0, 4), 0x0000c001);
	/* Sizing (6.2.5.1): all ones in, the size's mask and bit 0 out:
	 * 16 ports. Then the address written back sticks. */
	cfg_write(bar4, 0, 4, 0xffffffffu);
	assert_int_equal(cfg_read(bar4, 0, 4), 0xfffffff1u);
	cfg_write(bar4, 0, 4, 0x0000d000);
	assert_int_equal(cfg_read(bar4, 0, 4), 0x0000d001);
	cfg_write(bar4, 0, 1, 0x0f);		/* the low four bits are hardwired */
	assert_int_equal(cfg_read(bar4, 0, 4), 0x0000d001);
	/* BARs 0-3 and 5 are not implemented: they read 0 and size to 0. */
	for (unsigned r = 0x10; r <= 0x24; r += 4) {
		if (r == 0x20)
			continue;
		cfg_write(cfg_addr(0, 1, 1, r), 0, 4, 0xffffffffu);
		assert_int_equal(cfg_read(cfg_addr(0, 1, 1, r), 0, 4), 0);
	}
}

static void piix4_power_management(void **state)
{
	uint32_t pmba = cfg_addr(0, 1, 3, 0x40);
	assert_int_equal(cfg_read(cfg_addr(0, 1, 3, 0x00), 0, 4), 0x71138086);
	assert_int_equal(cfg_read(cfg_addr(0, 1, 3, 0x08), 0, 4), 0x06800003);	/* rev 3 */
	assert_int_equal(cfg_read(cfg_addr(0, 1, 3, 0x0c), 2, 1), 0x00);
	assert_int_equal(cfg_read(cfg_addr(0, 1, 3, 0x04), 0, 4), 0x02800103);
	/* Interrupt line 9 (the SCI), pin 1 = INTA# (6.2.4). */
	assert_int_equal(cfg_read(cfg_addr(0, 1, 3, 0x3c), 0, 2), 0x0109);
	/* PMBA: the PM I/O block at 0x600, bit 0 hardwired 1 (I/O);
	 * PMREGMISC bit 0 PMIOSE: the block is enabled. */
	assert_int_equal(cfg_read(pmba, 0, 4), 0x00000601);
	assert_int_equal(cfg_read(cfg_addr(0, 1, 3, 0x80), 0, 1), 0x01);
	/* Nothing would move the PM block: PMBA ignores writes here. */
	cfg_write(pmba, 0, 4, 0x0000b001);
	assert_int_equal(cfg_read(pmba, 0, 4), 0x00000601);
	/* No BARs on this function. */
	cfg_write(cfg_addr(0, 1, 3, 0x10), 0, 4, 0xffffffffu);
	assert_int_equal(cfg_read(cfg_addr(0, 1, 3, 0x10), 0, 4), 0);
}

static void interrupt_line_and_cache_line_writable(void **state)
{
	static const unsigned fn[][2] = { { 0, 0 }, { 1, 0 }, { 1, 1 }, { 1, 3 } };
	for (unsigned i = 0; i < 4; i++) {
		uint32_t a = cfg_addr(0, fn[i][0], fn[i][1], 0x3c), c = cfg_addr(0, fn[i][0], fn[i][1], 0x0c);
		uint32_t pin = cfg_read(a, 1, 1);
		/* Interrupt Line: a read/write scratch byte; the pin beside
		 * it is read-only. */
		cfg_write(a, 0, 2, 0xff5a);
		assert_int_equal(cfg_read(a, 0, 1), 0x5a);
		assert_int_equal(cfg_read(a, 1, 1), pin);
		/* Cache Line Size read/write; latency timer, header type and
		 * BIST beside it are read-only (0 here, header type kept). */
		uint32_t hdr = cfg_read(c, 2, 1);
		cfg_write(c, 0, 4, 0xffffff10u);
		assert_int_equal(cfg_read(c, 0, 4), 0x10u | hdr << 16);
	}
}

static void command_register_of_each_function(void **state)
{
	static const unsigned fn[][2] = { { 1, 0 }, { 1, 1 }, { 1, 3 } };
	for (unsigned i = 0; i < 3; i++) {
		uint32_t a = cfg_addr(0, fn[i][0], fn[i][1], 0x04);
		uint32_t status = cfg_read(a, 2, 2);
		cfg_write(a, 0, 4, 0xffffffffu);
		assert_int_equal(cfg_read(a, 0, 2), 0x0507);
		assert_int_equal(cfg_read(a, 2, 2), status);	/* nothing to clear */
	}
	/* The functions are separate: the host bridge kept its command. */
	assert_int_equal(cfg_read(cfg_addr(0, 0, 0, 4), 0, 2), 0x0103);
}

static void device_specific_registers_read_only_zero(void **state)
{
	/* The host bridge's PAM and SMRAM registers: no BIOS shadowing. */
	uint32_t pam = cfg_addr(0, 0, 0, 0x58), pirq = cfg_addr(0, 1, 0, 0x60);
	assert_int_equal(cfg_read(pam, 0, 4), 0);
	cfg_write(pam, 0, 4, 0x33333333u);
	assert_int_equal(cfg_read(pam, 0, 4), 0);
	/* PIIX3 PIRQ routing: no PCI interrupts to route. */
	cfg_write(pirq, 0, 4, 0x0b0b0a0au);
	assert_int_equal(cfg_read(pirq, 0, 4), 0);
	/* The last dword of every function reads 0. */
	assert_int_equal(cfg_read(cfg_addr(0, 1, 1, 0xfc), 0, 4), 0);
	assert_int_equal(cfg_read(cfg_addr(0, 1, 3, 0xfc), 3, 1), 0);
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
		T(piix3_isa_bridge),
		T(piix3_ide),
		T(piix4_power_management),
		T(interrupt_line_and_cache_line_writable),
		T(command_register_of_each_function),
		T(device_specific_registers_read_only_zero),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
