/*
 * pcienum.c — enumerate PCI bus 0 the way an OS does and print what it
 * finds, so that QEMU's pc machine (-nodefaults) and `hvlab run` must show
 * the same functions with the same headers.
 *
 * PCI Local Bus Specification 3.0:
 * - 3.2.2.3.2: configuration mechanism #1, CONFIG_ADDRESS 0xCF8 (bit 31
 *   enable, bus 23:16, device 15:11, function 10:8, register 7:2) and
 *   CONFIG_DATA 0xCFC; a read of a function that is not there ends in a
 *   master abort and returns all ones, so vendor ID 0xFFFF = absent.
 * - 6.1, 6.2.1: the type 0 header: vendor/device IDs, command, status,
 *   revision, class code (class, subclass, programming interface), header
 *   type (bit 7: multifunction device; software probes functions 1-7 only
 *   when function 0 sets it, so a function > 0 behind a single-function
 *   device 0 is reported as an error), subsystem IDs at 0x2C.
 * - 6.2.4: Interrupt Line (read/write scratch for software: the test
 *   writes and restores it) and Interrupt Pin (read-only, 1 = INTA#).
 * - 6.2.5.1: BAR sizing: write all ones, read back (the hardwired low
 *   bits give the size; bit 0 = 1 for I/O space), restore. An
 *   unimplemented BAR reads 0 and sizes to 0.
 * Function 00:01.3 is the PIIX4 power-management function (82371AB
 * datasheet 7.1): PMBA (0x40) holds the PM I/O base and PMREGMISC (0x80)
 * bit 0 enables it; the ACPI PM timer sits at PMBA + 8 (ACPI 6.5 4.8.3.3)
 * and counts up at 3.579545 MHz: the test reads it until it moves.
 *
 * Expected serial output: tests/guests/pcienum.expect.
 * Expected exit status: 1 (guest_exit(0)).
 */
#include "guests/guest.h"

static uint32_t cfg_sel(unsigned dev, unsigned fn, unsigned reg)
{
	return 0x80000000u | dev << 11 | fn << 8 | (reg & 0xfc);
}

static uint32_t cfg_read32(unsigned dev, unsigned fn, unsigned reg)
{
	outl(0xcf8, cfg_sel(dev, fn, reg));
	return inl(0xcfc);
}

static uint8_t cfg_read8(unsigned dev, unsigned fn, unsigned reg)
{
	outl(0xcf8, cfg_sel(dev, fn, reg));
	return inb((uint16_t)(0xcfc + (reg & 3)));
}

static void cfg_write32(unsigned dev, unsigned fn, unsigned reg, uint32_t v)
{
	outl(0xcf8, cfg_sel(dev, fn, reg));
	outl(0xcfc, v);
}

static void cfg_write8(unsigned dev, unsigned fn, unsigned reg, uint8_t v)
{
	outl(0xcf8, cfg_sel(dev, fn, reg));
	outb((uint16_t)(0xcfc + (reg & 3)), v);
}

static void print_function(unsigned dev, unsigned fn)
{
	uint32_t id = cfg_read32(dev, fn, 0x00), cmdsts = cfg_read32(dev, fn, 0x04);
	uint32_t class = cfg_read32(dev, fn, 0x08), sub = cfg_read32(dev, fn, 0x2c);
	uint8_t hdr = cfg_read8(dev, fn, 0x0e), line = cfg_read8(dev, fn, 0x3c);
	uint8_t pin = cfg_read8(dev, fn, 0x3d), inv = (uint8_t)(line ^ 0xff), scratch;

	guest_printf("00:%02x.%u %04x:%04x class %02x %02x %02x rev %02x header %02x\n", dev, fn,
		     id & 0xffff, id >> 16, class >> 24, (class >> 16) & 0xff, (class >> 8) & 0xff,
		     class & 0xff, hdr);
	guest_printf("  command %04x status %04x subsystem %04x:%04x\n", cmdsts & 0xffff,
		     cmdsts >> 16, sub & 0xffff, sub >> 16);
	cfg_write8(dev, fn, 0x3c, inv);
	scratch = cfg_read8(dev, fn, 0x3c);
	cfg_write8(dev, fn, 0x3c, line);
	guest_printf("  interrupt line %02x (%s) pin %02x\n", line,
		     scratch == inv && cfg_read8(dev, fn, 0x3c) == line ? "writable" : "not writable",
		     pin);
	if ((hdr & 0x7f) != 0)
		return;		/* BARs 0-5 are a type 0 header's */
	for (unsigned bar = 0; bar < 6; bar++) {
		unsigned reg = 0x10 + 4 * bar;
		uint32_t old = cfg_read32(dev, fn, reg), mask;
		cfg_write32(dev, fn, reg, 0xffffffffu);
		mask = cfg_read32(dev, fn, reg);
		cfg_write32(dev, fn, reg, old);
		if (old || mask)
			guest_printf("  bar%u %08x sizes to %08x%s\n", bar, old, mask,
				     cfg_read32(dev, fn, reg) == old ? "" : " (not restored)");
	}
}

/* The PIIX4 PM function's PMBA and the PM timer behind it. */
static bool pm_timer_check(void)
{
	uint32_t pmba = cfg_read32(1, 3, 0x40);
	uint8_t misc = cfg_read8(1, 3, 0x80);
	uint16_t port = (uint16_t)((pmba & 0xffc0) + 8);
	uint32_t t0, t;

	guest_printf("00:01.3 PMBA %08x PMREGMISC %02x\n", pmba, misc);
	if (!(misc & 1) || !(pmba & 1))
		return false;
	t0 = inl(port) & 0xffffff;
	for (unsigned i = 0; i < 100000; i++) {
		t = inl(port) & 0xffffff;
		if (t != t0) {
			guest_printf("PM timer at PMBA + 8 (port %x) counts\n", port);
			return true;
		}
	}
	guest_printf("PM timer at port %x does not count\n", port);
	return false;
}

int guest_main(void)
{
	unsigned found = 0;
	bool ok = true;

	for (unsigned dev = 0; dev < 32; dev++) {
		bool multi = false;
		for (unsigned fn = 0; fn < 8; fn++) {
			if ((cfg_read32(dev, fn, 0) & 0xffff) == 0xffff)
				continue;
			if (fn == 0)
				multi = cfg_read8(dev, 0, 0x0e) & 0x80;
			else if (!multi) {
				guest_printf("00:%02x.%u present, but function 0 is not multifunction\n", dev, fn);
				ok = false;
			}
			print_function(dev, fn);
			found++;
		}
	}
	guest_printf("functions on bus 0: %u\n", found);
	/* Bus 1 does not exist: nothing behind a PCI-to-PCI bridge. */
	outl(0xcf8, 0x80010000u);
	guest_printf("bus 1 device 0 reads %08x\n", inl(0xcfc));
	outl(0xcf8, 0);
	guest_printf("enable bit clear reads %08x\n", inl(0xcfc));
	if (!pm_timer_check())
		ok = false;
	return ok ? GUEST_EXIT_PASS : GUEST_EXIT_FAIL;
}
