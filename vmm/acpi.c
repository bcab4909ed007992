/*
 * acpi.c — the ACPI tables of the pc machine, written into guest RAM once
 * before the guest starts (ACPI Specification 6.0 Errata A, 5.2 "ACPI
 * System Description Tables"; the section numbers are unchanged in 6.x). They describe what vmm/ models: the PM
 * timer and PM1 block of vmm/pmtimer.c, the local APICs and I/O APIC of
 * hvlab's core/irq, and the PC's legacy ISA interrupt routing.
 *
 * Fixed addresses in the BIOS area, where an OS looks for the RSDP
 * (5.2.5.1: on IA-PC, a 16-byte boundary in 0xe0000-0xfffff), in its
 * last 64 KiB, which the multiboot memory map (vmm/multiboot.c) reports
 * reserved as QEMU's does, so no guest allocates over the tables:
 *
 *   0xf0000  RSDP  rev 2, 36 bytes           (5.2.5.3)
 *   0xf0040  FACS  64 bytes, 64-byte aligned (5.2.10)
 *   0xf0080  RSDT  FADT, MADT                (5.2.7)
 *   0xf00c0  XSDT  FADT, MADT                (5.2.8)
 *   0xf0100  FADT  rev 6.0, 276 bytes        (5.2.9)
 *   0xf0240  DSDT  header only: no AML       (5.2.11.1)
 *   0xf0280  MADT  rev 4, up to 0xf1000      (5.2.12)
 *
 * Checksums: the RSDP's first 20 bytes sum to 0 mod 256 (Checksum) and
 * all 36 do (Extended Checksum), 5.2.5.3; every other table but the FACS
 * (which has none) sums to 0 over its Length, 5.2.6.
 *
 * The FADT is a full-hardware (not HW_REDUCED) one without SMI_CMD, so
 * OSPM finds the machine already in ACPI mode; PM1a_EVT_BLK 0x600 (4
 * bytes), PM1a_CNT_BLK 0x604 (2), PM_TMR_BLK 0x608 (4, TMR_VAL_EXT clear:
 * 24 bits), SCI on IRQ 9, no GPE block, CENTURY at CMOS byte 0x32. Its
 * IA-PC boot flags say: legacy ISA devices present, no 8042 keyboard
 * controller and no VGA, so an OS skips probing for either.
 *
 * The MADT, as QEMU's pc machine writes it: the local APIC at 0xfee00000
 * with PCAT_COMPAT (8259s present); one Processor Local APIC per CPU
 * (UID and APIC ID i, enabled); the I/O APIC (ID 0) at 0xfec00000, GSI
 * base 0; the overrides ISA IRQ 0 -> GSI 2 (flags 0: bus-conforming) and
 * IRQ 9 -> GSI 9 level-triggered, active high (the SCI); a Local APIC NMI
 * on LINT1 of every processor.
 */
#include <errno.h>
#include <string.h>

#include "vmm/dev.h"

#define ACPI_RSDP 0xf0000u
#define ACPI_FACS 0xf0040u
#define ACPI_RSDT 0xf0080u
#define ACPI_XSDT 0xf00c0u
#define ACPI_FADT 0xf0100u
#define ACPI_DSDT 0xf0240u
#define ACPI_MADT 0xf0280u
#define ACPI_END 0xf1000u

#define HDR_LEN 36
#define RSDP_LEN 36
#define FACS_LEN 64
#define FADT_LEN 276
#define MADT_LAPIC_LEN 8
#define MADT_IOAPIC_LEN 12
#define MADT_ISO_LEN 10
#define MADT_NMI_LEN 6
#define MADT_FIXED (HDR_LEN + 8 + MADT_IOAPIC_LEN + 2 * MADT_ISO_LEN + MADT_NMI_LEN)
/* APIC IDs are 8 bits and 0xff is the broadcast ID. */
#define ACPI_MAX_CPUS 255

#define LAPIC_BASE 0xfee00000u
#define IOAPIC_BASE 0xfec00000u
#define PM1A_EVT 0x600
#define PM1A_CNT 0x604
#define PM_TMR 0x608
#define SCI_IRQ 9
#define CMOS_CENTURY 0x32

_Static_assert(ACPI_RSDP % 16 == 0, "RSDP on a 16-byte boundary (5.2.5.1)");
_Static_assert(ACPI_FACS % 64 == 0, "FACS 64-byte aligned (5.2.10)");
_Static_assert(ACPI_FADT + FADT_LEN <= ACPI_DSDT, "FADT fits below the DSDT");
_Static_assert(ACPI_MADT + MADT_FIXED + ACPI_MAX_CPUS * MADT_LAPIC_LEN <= ACPI_END,
	       "the MADT of the largest machine fits below 0xf1000");

static void put8(uint8_t *p, unsigned off, uint8_t v)
{
	p[off] = v;
}

static void put16(uint8_t *p, unsigned off, uint16_t v)
{
	p[off] = (uint8_t)v;
	p[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, unsigned off, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		p[off + i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, unsigned off, uint64_t v)
{
	for (unsigned i = 0; i < 8; i++)
		p[off + i] = (uint8_t)(v >> (8 * i));
}

/* The byte that makes p[0..len) sum to 0 mod 256, for a field now 0. */
static uint8_t acpi_checksum(const uint8_t *p, unsigned len)
{
	uint8_t sum = 0;
	for (unsigned i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)-sum;
}

/* The System Description Table Header (5.2.6); the checksum
 * at offset 9 is filled by table_finish(). */
static void table_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t, 4, len);
	put8(t, 8, rev);
	memcpy(t + 10, "HVLAB ", 6);		/* OEMID */
	memcpy(t + 16, "HVLABPC ", 8);		/* OEM Table ID */
	put32(t, 24, 1);			/* OEM Revision */
	memcpy(t + 28, "HVLB", 4);		/* Creator ID */
	put32(t, 32, 1);			/* Creator Revision */
}

static int table_finish(struct vmm *v, gpa_t gpa, uint8_t *t, uint32_t len)
{
	t[9] = acpi_checksum(t, len);
	return hv_write_guest(v->vm, gpa, t, len);
}

/* Generic Address Structure (5.2.3.2): system I/O space. */
static void put_gas_io(uint8_t *p, unsigned off, uint8_t bits, uint8_t access, uint64_t port)
{
	put8(p, off, 1);		/* Address Space ID: System I/O */
	put8(p, off + 1, bits);		/* Register Bit Width */
	put8(p, off + 2, 0);		/* Register Bit Offset */
	put8(p, off + 3, access);	/* Access Size: 2 word, 3 dword */
	put64(p, off + 4, port);
}

static int build_rsdp(struct vmm *v)
{
	uint8_t r[RSDP_LEN] = { 0 };
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "HVLAB ", 6);	/* OEMID */
	put8(r, 15, 2);			/* Revision: ACPI 2.0+, with the XSDT */
	put32(r, 16, ACPI_RSDT);
	put32(r, 20, RSDP_LEN);
	put64(r, 24, ACPI_XSDT);
	r[8] = acpi_checksum(r, 20);
	r[32] = acpi_checksum(r, RSDP_LEN);
	return hv_write_guest(v->vm, ACPI_RSDP, r, RSDP_LEN);
}

static int build_facs(struct vmm *v)
{
	uint8_t f[FACS_LEN] = { 0 };
	memcpy(f, "FACS", 4);
	put32(f, 4, FACS_LEN);
	put8(f, 32, 2);			/* Version */
	return hv_write_guest(v->vm, ACPI_FACS, f, FACS_LEN);
}

static int build_rsdt_xsdt(struct vmm *v)
{
	uint8_t r[HDR_LEN + 8] = { 0 }, x[HDR_LEN + 16] = { 0 };
	int ret;
	table_header(r, "RSDT", sizeof(r), 1);
	put32(r, HDR_LEN, ACPI_FADT);
	put32(r, HDR_LEN + 4, ACPI_MADT);
	ret = table_finish(v, ACPI_RSDT, r, sizeof(r));
	if (ret)
		return ret;
	table_header(x, "XSDT", sizeof(x), 1);
	put64(x, HDR_LEN, ACPI_FADT);
	put64(x, HDR_LEN + 8, ACPI_MADT);
	return table_finish(v, ACPI_XSDT, x, sizeof(x));
}

/* FADT field offsets: 5.2.9, "FADT Format". */
static int build_fadt(struct vmm *v)
{
	uint8_t f[FADT_LEN] = { 0 };
	table_header(f, "FACP", FADT_LEN, 6);
	put32(f, 36, ACPI_FACS);	/* FIRMWARE_CTRL */
	put32(f, 40, ACPI_DSDT);	/* DSDT */
	put8(f, 45, 0);			/* Preferred_PM_Profile: unspecified */
	put16(f, 46, SCI_IRQ);		/* SCI_INT */
	put32(f, 48, 0);		/* SMI_CMD: none, always in ACPI mode */
	put32(f, 56, PM1A_EVT);		/* PM1a_EVT_BLK */
	put32(f, 64, PM1A_CNT);		/* PM1a_CNT_BLK */
	put32(f, 76, PM_TMR);		/* PM_TMR_BLK */
	put8(f, 88, 4);			/* PM1_EVT_LEN */
	put8(f, 89, 2);			/* PM1_CNT_LEN */
	put8(f, 91, 4);			/* PM_TMR_LEN */
	put16(f, 96, 101);		/* P_LVL2_LAT > 100: no C2 */
	put16(f, 98, 1001);		/* P_LVL3_LAT > 1000: no C3 */
	put8(f, 108, CMOS_CENTURY);	/* CENTURY */
	/* IAPC_BOOT_ARCH: LEGACY_DEVICES (bit 0), no 8042 (bit 1 clear),
	 * VGA Not Present (bit 2). */
	put16(f, 109, 0x0005);
	/* Flags: WBINVD (0), PROC_C1 (2), PWR_BUTTON (4) and SLP_BUTTON (5):
	 * no fixed-feature buttons; TMR_VAL_EXT (8) clear. */
	put32(f, 112, (1u << 0) | (1u << 2) | (1u << 4) | (1u << 5));
	put8(f, 131, 0);		/* FADT Minor Version: 6.0 */
	/* X_FIRMWARE_CTRL stays 0: it must be when FIRMWARE_CTRL is set. */
	put64(f, 140, ACPI_DSDT);	/* X_DSDT */
	put_gas_io(f, 148, 32, 2, PM1A_EVT);	/* X_PM1a_EVT_BLK */
	put_gas_io(f, 172, 16, 2, PM1A_CNT);	/* X_PM1a_CNT_BLK */
	put_gas_io(f, 208, 32, 3, PM_TMR);	/* X_PM_TMR_BLK */
	memcpy(f + 268, "HVLAB\0\0\0", 8);	/* Hypervisor Vendor Identity */
	return table_finish(v, ACPI_FADT, f, FADT_LEN);
}

static int build_dsdt(struct vmm *v)
{
	uint8_t d[HDR_LEN] = { 0 };
	/* Revision 2: AML integers are 64 bits (5.2.11.1). */
	table_header(d, "DSDT", HDR_LEN, 2);
	return table_finish(v, ACPI_DSDT, d, HDR_LEN);
}

static unsigned madt_iso(uint8_t *m, unsigned off, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	put8(m, off, 2);		/* Interrupt Source Override */
	put8(m, off + 1, MADT_ISO_LEN);
	put8(m, off + 2, 0);		/* Bus: ISA */
	put8(m, off + 3, irq);		/* Source */
	put32(m, off + 4, gsi);
	put16(m, off + 8, flags);	/* MPS INTI flags (5.2.12.5) */
	return off + MADT_ISO_LEN;
}

static int build_madt(struct vmm *v, unsigned ncpus)
{
	uint8_t m[MADT_FIXED + ACPI_MAX_CPUS * MADT_LAPIC_LEN] = { 0 };
	unsigned off = HDR_LEN + 8, len = MADT_FIXED + ncpus * MADT_LAPIC_LEN;
	table_header(m, "APIC", len, 4);
	put32(m, HDR_LEN, LAPIC_BASE);	/* Local Interrupt Controller Address */
	put32(m, HDR_LEN + 4, 1);	/* Flags: PCAT_COMPAT */
	for (unsigned i = 0; i < ncpus; i++) {
		put8(m, off, 0);	/* Processor Local APIC */
		put8(m, off + 1, MADT_LAPIC_LEN);
		put8(m, off + 2, (uint8_t)i);	/* ACPI Processor UID */
		put8(m, off + 3, (uint8_t)i);	/* APIC ID */
		put32(m, off + 4, 1);	/* Flags: Enabled */
		off += MADT_LAPIC_LEN;
	}
	put8(m, off, 1);		/* I/O APIC */
	put8(m, off + 1, MADT_IOAPIC_LEN);
	put8(m, off + 2, 0);		/* I/O APIC ID */
	put32(m, off + 4, IOAPIC_BASE);
	put32(m, off + 8, 0);		/* Global System Interrupt Base */
	off += MADT_IOAPIC_LEN;
	off = madt_iso(m, off, 0, 2, 0);
	/* Polarity 01 active high (bits 1:0), trigger mode 11 level (3:2). */
	off = madt_iso(m, off, SCI_IRQ, SCI_IRQ, 0x000d);
	put8(m, off, 4);		/* Local APIC NMI */
	put8(m, off + 1, MADT_NMI_LEN);
	put8(m, off + 2, 0xff);		/* ACPI Processor UID: all */
	put16(m, off + 3, 0);		/* Flags: bus-conforming */
	put8(m, off + 5, 1);		/* LINT1 */
	return table_finish(v, ACPI_MADT, m, len);
}

int acpi_build(struct vmm *v)
{
	unsigned ncpus;
	int ret;
	if (!v)
		return -EINVAL;
	ncpus = v->ncpus ? v->ncpus : 1;
	if (ncpus > ACPI_MAX_CPUS)
		return -EINVAL;
	ret = build_rsdp(v);
	if (!ret)
		ret = build_facs(v);
	if (!ret)
		ret = build_rsdt_xsdt(v);
	if (!ret)
		ret = build_fadt(v);
	if (!ret)
		ret = build_dsdt(v);
	if (!ret)
		ret = build_madt(v, ncpus);
	return ret;
}
