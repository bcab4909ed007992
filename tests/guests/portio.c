/*
 * portio.c — the pc machine's port-I/O devices as QEMU's pc machine has
 * them: CMOS/RTC, fw_cfg, PCI configuration mechanism #1, the PIT's
 * read-back command and port 0x61, pc-testdev, an unclaimed port, and the
 * ACPI tables down to the PM timer.
 *
 * - CMOS (MC146818A datasheet; IBM PC/AT Technical Reference, CMOS map):
 *   index port 0x70 (bit 7 = NMI disable, so every index is written with
 *   it set and NMIs stay off), data 0x71. 0x15-0x16 base memory in KiB,
 *   0x17-0x18 and 0x30-0x31 memory above 1 MiB in KiB (at most 0xFC00 =
 *   63 MiB), 0x34-0x35 memory above 16 MiB in 64 KiB units (the SeaBIOS
 *   convention QEMU follows). Multiboot 0.6.96 3.3: mem_lower/mem_upper
 *   are KiB below 640 KiB and from 1 MiB to the first hole, so mem_upper
 *   lies at or below the CMOS figure (the loader may reserve the top).
 *   RTC register A: UIP (bit 7) is set for at most 244 + 1984 us per
 *   second, divider 010 (32.768 kHz) and rate 0110 (1024 Hz) as the BIOS
 *   leaves them: 0x26. Register B 0x02 (24-hour, BCD, no interrupts),
 *   register C bit 7 (IRQF) clear with no interrupt enabled, register D
 *   bit 7 (VRT, valid RAM and time) set. Time and date are BCD; index
 *   0x32 is the century the FADT names (ACPI 6.5 5.2.9, CENTURY), 0x20.
 * - fw_cfg (QEMU docs/specs/fw_cfg.txt): selector 0x510 (16-bit write),
 *   data 0x511 (byte reads, the offset restarts at 0 on every selector
 *   write, reads past the item's end give 0). Items, little-endian: 0x0000
 *   signature "QEMU", 0x0001 ID (bit 0: traditional interface), 0x0003
 *   RAM size (64-bit; the pc machine stores the -m size there), 0x0005
 *   number of CPUs (16-bit), 0x000f the maximum (on x86 the APIC ID
 *   limit, 1 here), 0x0014 command-line size: QEMU's pc machine fills the
 *   command-line items only for a Linux kernel; a multiboot kernel gets
 *   its command line through multiboot (info flag bit 2), and
 *   `qemu -kernel` puts the image's path first, as hvlab does.
 * - PCI Local Bus Specification 3.0, 3.2.2.3.2: CONFIG_ADDRESS 0xCF8
 *   (bit 31 enable, bus 23:16, device 15:11, function 10:8, register
 *   7:2) reads back as written; CONFIG_DATA 0xCFC-0xCFF returns the
 *   dword or any byte/word of it, all ones for a device that is not there
 *   (master abort, 3.2.2.3.4), and all ones while bit 31 is clear. 00:00.0
 *   is QEMU's i440FX host bridge: vendor 8086, device 1237 (the 82441FX
 *   datasheet), class 06 00 00 (host bridge), header type 0. QEMU also
 *   has the PIIX3 functions at 00:01.x; nothing sits at 00:02.0-00:1f.0
 *   with -nodefaults.
 * - 8254 datasheet: read-back command (port 0x43, bits 7:6 = 11, bit 5
 *   = 0 latches the count, bit 4 = 0 latches the status, bits 3:1 select
 *   counters); the status byte is OUTPUT (7), NULL COUNT (6) and the
 *   programmed RW/mode/BCD bits (5:0). Mode 0 drives OUT low when the
 *   control word is written and high at terminal count; channel 2's
 *   gate is port 0x61 bit 0 and its OUT is bit 5 (IBM PC/AT reference);
 *   bit 4 is the refresh-request toggle, which flips every 15.085 us.
 * - pc-testdev (QEMU hw/misc/pc-testdev.c): a 32-bit latch at 0xE0-0xE3
 *   addressed by byte lanes, and 64 KiB of memory at 0xFF000000 read and
 *   written at any width. QEMU adds it only with -device pc-testdev.
 * - A port no device decodes reads all ones (the ISA bus floats high).
 * - ACPI 6.5 5.2.5 (RSDP), 5.2.7/5.2.8 (RSDT/XSDT), 5.2.9 (FADT:
 *   PM_TMR_BLK at offset 76, PM_TMR_LEN 4 at 91, flags at 112 with
 *   TMR_VAL_EXT bit 8: 0 = 24-bit counter), 4.8.3.3: the PM timer counts
 *   up at 3.579545 MHz and wraps; in 24-bit mode bits 31:24 read 0.
 *
 * QEMU options: -device pc-testdev
 * Expected serial output: tests/guests/portio.expect.
 * Expected exit status: 1 (guest_exit(0)).
 */
#include "guests/guest.h"

#define CMOS_INDEX	0x70
#define CMOS_DATA	0x71
#define CMOS_NMI_OFF	0x80

#define FWCFG_SEL	0x510
#define FWCFG_DATA	0x511

#define PCI_ADDR	0xcf8
#define PCI_DATA	0xcfc

#define PIT_CH2		0x42
#define PIT_CMD		0x43
#define PORT_61		0x61

#define TESTDEV_PORT	0xe0
#define TESTDEV_MMIO	0xff000000u

/* Bounds for polling loops: far above what any run needs, so only a
 * device that never changes runs into them. */
#define POLL_MAX	2000000u

static uint8_t cmos_read(uint8_t index)
{
	outb(CMOS_INDEX, CMOS_NMI_OFF | index);
	return inb(CMOS_DATA);
}

static uint16_t cmos_read16(uint8_t index)
{
	return (uint16_t)(cmos_read(index) | cmos_read(index + 1) << 8);
}

static bool is_bcd(uint8_t v, uint8_t lo, uint8_t hi)
{
	return (v & 0xf) <= 9 && (v >> 4) <= 9 && v >= lo && v <= hi;
}

static void fwcfg_select(uint16_t item)
{
	outw(FWCFG_SEL, item);
}

static uint64_t fwcfg_read_le(uint16_t item, unsigned n)
{
	uint64_t v = 0;

	fwcfg_select(item);
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)inb(FWCFG_DATA) << (8 * i);
	return v;
}

static uint32_t pci_addr(unsigned dev, unsigned fn, unsigned reg)
{
	return 0x80000000u | dev << 11 | fn << 8 | reg;
}

static uint32_t pci_read(unsigned dev, unsigned fn, unsigned reg)
{
	outl(PCI_ADDR, pci_addr(dev, fn, reg));
	return inl(PCI_DATA);
}

static void test_cmos(void)
{
	uint32_t *mb = (uint32_t *)(uintptr_t)guest_mb_info;
	uint16_t base = cmos_read16(0x15), ext = cmos_read16(0x17);
	uint16_t ext2 = cmos_read16(0x30), high = cmos_read16(0x34);

	guest_printf("CMOS base memory %u KiB\n", base);
	guest_printf("CMOS extended memory %u KiB\n", ext);
	guest_check("CMOS 0x30-0x31 equals 0x17-0x18", ext2 == ext);
	guest_printf("CMOS memory above 16 MiB %u x 64 KiB\n", high);
	guest_check("multiboot mem_lower at most the CMOS base memory",
	            (mb[0] & 1) && mb[1] <= base);
	guest_check("multiboot mem_upper within 1 MiB below the CMOS figure",
	            (mb[0] & 1) && mb[2] <= ext && mb[2] + 1024 >= ext);

	unsigned n = 0;
	while ((cmos_read(0x0a) & 0x80) && n < POLL_MAX)
		n++;
	guest_check("RTC register A: UIP clears", n < POLL_MAX);
	guest_printf("RTC register A 0x%02x\n", cmos_read(0x0a) & 0x7f);
	guest_printf("RTC register B 0x%02x\n", cmos_read(0x0b));
	guest_check("RTC register C: IRQF clear", !(cmos_read(0x0c) & 0x80));
	guest_check("RTC register D: VRT set", (cmos_read(0x0d) & 0x80) != 0);
	guest_check("RTC time and date are BCD in range",
	            is_bcd(cmos_read(0x00), 0, 0x59) && is_bcd(cmos_read(0x02), 0, 0x59) &&
	            is_bcd(cmos_read(0x04), 0, 0x23) && is_bcd(cmos_read(0x06), 1, 7) &&
	            is_bcd(cmos_read(0x07), 1, 0x31) && is_bcd(cmos_read(0x08), 1, 0x12) &&
	            is_bcd(cmos_read(0x09), 0, 0x99));
	guest_printf("CMOS century (0x32) 0x%02x\n", cmos_read(0x32));
	/* the NMI-disable bit is not part of the index */
	outb(CMOS_INDEX, 0x15);
	uint8_t lo = inb(CMOS_DATA);
	guest_check("index without bit 7 selects the same byte", lo == (base & 0xff));
	outb(CMOS_INDEX, CMOS_NMI_OFF | 0x0d);
}

static bool cmdline_names_image(void)
{
	uint32_t *mb = (uint32_t *)(uintptr_t)guest_mb_info;
	static const char name[] = "portio.elf";

	if (!(mb[0] & 4))
		return false;
	for (const char *s = (const char *)(uintptr_t)mb[4]; *s; s++) {
		unsigned i = 0;
		while (name[i] && s[i] == name[i])
			i++;
		if (!name[i])
			return true;
	}
	return false;
}

static void test_fwcfg(void)
{
	char sig[5] = { 0 };

	fwcfg_select(0x0000);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)inb(FWCFG_DATA);
	guest_printf("fw_cfg signature \"%s\"\n", sig);
	guest_check("fw_cfg read past the item's end gives 0", inb(FWCFG_DATA) == 0);
	guest_check("fw_cfg selector write restarts the offset", fwcfg_read_le(0x0000, 1) == 'Q');
	guest_check("fw_cfg ID bit 0 (traditional interface)", (fwcfg_read_le(0x0001, 4) & 1) != 0);
	guest_printf("fw_cfg RAM size 0x%lx\n", fwcfg_read_le(0x0003, 8));
	guest_printf("fw_cfg CPUs %lu, maximum %lu\n", fwcfg_read_le(0x0005, 2),
		     fwcfg_read_le(0x000f, 2));
	guest_printf("fw_cfg command-line size %lu\n", fwcfg_read_le(0x0014, 4));
	guest_check("multiboot command line names the image", cmdline_names_image());
}

static void test_pci(void)
{
	guest_printf("PCI 00:00.0 vendor/device 0x%08x\n", pci_read(0, 0, 0x00));
	guest_printf("PCI 00:00.0 class 0x%06x\n", pci_read(0, 0, 0x08) >> 8);
	guest_check("PCI 00:00.0 header type 0", ((pci_read(0, 0, 0x0c) >> 16) & 0x7f) == 0);
	outl(PCI_ADDR, pci_addr(0, 0, 0x00));
	guest_check("CONFIG_DATA word at 0xcfe is the device ID", inw(PCI_DATA + 2) == 0x1237);
	guest_check("CONFIG_DATA byte at 0xcfc is the vendor ID's low byte", inb(PCI_DATA) == 0x86);
	outl(PCI_ADDR, pci_addr(0x1f, 0, 0x00));
	guest_check("CONFIG_ADDRESS reads back", inl(PCI_ADDR) == pci_addr(0x1f, 0, 0x00));
	bool none = true;
	for (unsigned d = 2; d < 32; d++)
		for (unsigned f = 0; f < 8; f++)
			none = none && pci_read(d, f, 0x00) == 0xffffffffu;
	guest_check("no device at 00:02.0-00:1f.7: all ones", none);
	outl(PCI_ADDR, pci_addr(0, 0, 0x00) & ~0x80000000u);
	guest_check("CONFIG_DATA with the enable bit clear: all ones", inl(PCI_DATA) == 0xffffffffu);
}

static uint8_t pit_status(unsigned counter)
{
	/* read-back: latch status only (bit 4 = 0, bit 5 = 1) */
	outb(PIT_CMD, 0xc0 | 0x20 | (uint8_t)(2u << counter));
	return inb(0x40 + counter);
}

static uint16_t pit_latched_count(unsigned counter)
{
	/* read-back: latch count only (bit 5 = 0, bit 4 = 1) */
	outb(PIT_CMD, 0xc0 | 0x10 | (uint8_t)(2u << counter));
	uint8_t lo = inb(0x40 + counter);
	return (uint16_t)(inb(0x40 + counter) << 8 | lo);
}

static void test_pit(void)
{
	unsigned n;

	/* channel 0, mode 2, LSB/MSB, binary (as the runtime's tick) */
	outb(PIT_CMD, 0x34);
	outb(0x40, 0x00);
	outb(0x40, 0x10);
	guest_check("read-back status of counter 0: RW 11, mode 2, binary",
	            (pit_status(0) & 0x3f) == 0x34);

	/* channel 2 gated on, speaker off, mode 0 with the longest count */
	outb(PORT_61, (uint8_t)((inb(PORT_61) & 0x0c) | 0x01));
	outb(PIT_CMD, 0xb0);
	outb(PIT_CH2, 0xff);
	outb(PIT_CH2, 0xff);
	uint8_t st = pit_status(2);
	guest_check("read-back status of counter 2: RW 11, mode 0, binary", (st & 0x3f) == 0x30);
	guest_check("mode 0: OUT low before terminal count", !(st & 0x80) && !(inb(PORT_61) & 0x20));
	uint16_t c1 = pit_latched_count(2), c2 = c1;
	for (n = 0; c2 == c1 && n < POLL_MAX; n++)
		c2 = pit_latched_count(2);
	guest_check("read-back count of counter 2 goes down", c2 < c1);

	/* a short count: OUT2 (port 0x61 bit 5) rises at terminal count */
	outb(PIT_CMD, 0xb0);
	outb(PIT_CH2, 0x10);
	outb(PIT_CH2, 0x00);
	for (n = 0; !(inb(PORT_61) & 0x20) && n < POLL_MAX; n++)
		;
	guest_check("port 0x61 bit 5: OUT2 high at terminal count", n < POLL_MAX);
	guest_check("read-back status: OUTPUT high", (pit_status(2) & 0x80) != 0);
	outb(PORT_61, (uint8_t)(inb(PORT_61) & 0x0c));

	uint8_t r = inb(PORT_61) & 0x10;
	for (n = 0; (inb(PORT_61) & 0x10) == r && n < POLL_MAX; n++)
		;
	guest_check("port 0x61 bit 4: refresh toggles", n < POLL_MAX);
}

static void test_testdev(void)
{
	volatile uint8_t *m8 = (volatile uint8_t *)(uintptr_t)TESTDEV_MMIO;
	volatile uint32_t *m32 = (volatile uint32_t *)(uintptr_t)TESTDEV_MMIO;
	volatile uint64_t *m64 = (volatile uint64_t *)(uintptr_t)TESTDEV_MMIO;

	outl(TESTDEV_PORT, 0x12345678);
	guest_check("pc-testdev latch reads back", inl(TESTDEV_PORT) == 0x12345678);
	guest_check("pc-testdev byte lane 2", inb(TESTDEV_PORT + 2) == 0x34);
	outb(TESTDEV_PORT + 1, 0xab);
	outw(TESTDEV_PORT + 2, 0xcdef);
	guest_check("pc-testdev byte and word writes merge", inl(TESTDEV_PORT) == 0xcdefab78);

	/* device memory: map it uncacheable like any MMIO (SDM 3A 12.3) */
	guest_pd[3][(TESTDEV_MMIO >> 21) & 511] |= 0x18;
	invlpg(m8);
	m64[1] = 0x0123456789abcdefull;
	guest_check("pc-testdev memory: 64-bit write, 32-bit reads",
	            m32[2] == 0x89abcdef && m32[3] == 0x01234567);
	m8[9] = 0x5a;
	guest_check("pc-testdev memory: byte write merges", m64[1] == 0x0123456789ab5aefull);
}

static void test_unknown_port(void)
{
	guest_check("port 0x0f00 reads all ones (byte, word, dword)",
	            inb(0x0f00) == 0xff && inw(0x0f00) == 0xffff && inl(0x0f00) == 0xffffffffu);
}

static void test_acpi(void)
{
	const uint8_t *rsdp = acpi_rsdp();
	const struct acpi_header *rsdt = acpi_rsdt(), *xsdt = acpi_xsdt();

	guest_check("RSDP found by signature and checksum", rsdp != NULL);
	guest_check("RSDT signature and checksum", rsdt != NULL);
	if (!rsdp || !rsdt)
		return;
	guest_check("XSDT present exactly when the RSDP revision is 2 or more",
	            (rsdp[15] >= 2) == (xsdt != NULL));
	const struct acpi_header *fadt = acpi_sdt_find(rsdt, "FACP");
	guest_check("FADT through the RSDT", fadt != NULL);
	guest_check("the XSDT lists the same FADT",
	            !xsdt || acpi_sdt_find(xsdt, "FACP") == fadt);
	if (!fadt)
		return;
	const uint8_t *f = (const uint8_t *)fadt;
	uint16_t pm = (uint16_t)(f[76] | f[77] << 8);
	bool ext = f[113] & 1;	/* flags bit 8 */

	guest_printf("FADT PM_TMR_BLK 0x%x, PM_TMR_LEN %u, TMR_VAL_EXT %u\n", pm, f[91],
		     (unsigned)ext);
	uint32_t mask = ext ? 0xffffffffu : 0x00ffffffu;
	uint32_t t1 = inl(pm), t2 = t1;
	unsigned n;
	for (n = 0; t2 == t1 && n < POLL_MAX; n++)
		t2 = inl(pm);
	guest_check("PM timer: unused high bits read 0", !(t1 & ~mask) && !(t2 & ~mask));
	/* up means a small forward step modulo the counter width */
	guest_check("PM timer counts up", n < POLL_MAX && ((t2 - t1) & mask) < mask / 2);
}

int guest_main(void)
{
	test_cmos();
	test_fwcfg();
	test_pci();
	test_pit();
	test_testdev();
	test_unknown_port();
	test_acpi();
	return guest_check_status();
}
