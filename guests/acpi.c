/*
 * acpi.c — finding the ACPI tables the firmware left in memory.
 *
 * ACPI 6.5 chapter 5:
 * - 5.2.5.1: on a PC BIOS system the Root System Description Pointer lies
 *   on a 16-byte boundary in 0xE0000-0xFFFFF (or in the EBDA's first KiB;
 *   QEMU's SeaBIOS and `hvlab run` both use the BIOS area, so only that is
 *   searched). It starts with "RSD PTR "; its first 20 bytes sum to 0
 *   (ACPI 1.0 checksum), and from revision 2 on all `length` bytes do too.
 * - 5.2.5.3, Table 5.3: RSDT address at offset 16 (32-bit), revision at
 *   15, length at 20 and XSDT address at 24 (64-bit) for revision >= 2.
 * - 5.2.6: every table starts with the 36-byte header; all its `length`
 *   bytes sum to 0. 5.2.7/5.2.8: the RSDT lists tables by 32-bit physical
 *   addresses after its header, the XSDT by 64-bit ones (unaligned).
 * - 5.2.12: the MADT (signature "APIC") has the local APIC address and
 *   flags after the header, then entries of type, length: type 1 is an
 *   I/O APIC (address at offset 4, GSI base at 8), type 2 an Interrupt
 *   Source Override (bus 0 = ISA, source IRQ at 3, GSI at 4, flags at 8;
 *   Tables 5.25, 5.26). An ISA IRQ without an override is GSI = IRQ.
 *   The processors (5.2.12.2, Table 5.21): type 0, Processor Local APIC,
 *   length 8: ACPI processor UID at 2, APIC ID at 3, flags at 4 (32-bit);
 *   (5.2.12.12, Table 5.37) type 9, Processor Local x2APIC, length 16:
 *   x2APIC ID at 4, flags at 8, UID at 12. Flags (Table 5.22) bit 0
 *   "Enabled": the processor can be used; a clear bit 0 means it cannot
 *   (bit 1, Online Capable, only says it could be hot-added), so only
 *   enabled entries are processors to start. 5.2.12.12: an x2APIC ID
 *   below 255 is listed with a type-0 entry, so the two types do not
 *   name the same processor twice.
 * Everything lies below 4 GiB, inside the runtime's identity map.
 */
#include "guests/guest.h"

#define BIOS_AREA_START	0xe0000u
#define BIOS_AREA_END	0x100000u
#define RSDP_V1_LEN	20

static bool sig_eq(const char *a, const char *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

bool acpi_checksum_ok(const void *p, uint32_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (uint32_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + b[i]);
	return sum == 0;
}

const uint8_t *acpi_rsdp(void)
{
	for (uintptr_t a = BIOS_AREA_START; a < BIOS_AREA_END; a += 16) {
		const uint8_t *p = (const uint8_t *)a;
		if (!sig_eq((const char *)p, "RSD PTR ", 8) || !acpi_checksum_ok(p, RSDP_V1_LEN))
			continue;
		if (p[15] >= 2 && (get32(p + 20) < 36 || !acpi_checksum_ok(p, get32(p + 20))))
			continue;
		return p;
	}
	return NULL;
}

static const struct acpi_header *table_at(uint64_t pa)
{
	if (!pa || pa >= (4ull << 30))
		return NULL;
	const struct acpi_header *h = (const struct acpi_header *)(uintptr_t)pa;
	if (h->length < sizeof(*h) || !acpi_checksum_ok(h, h->length))
		return NULL;
	return h;
}

const struct acpi_header *acpi_rsdt(void)
{
	const uint8_t *p = acpi_rsdp();
	const struct acpi_header *h = p ? table_at(get32(p + 16)) : NULL;

	return h && sig_eq(h->signature, "RSDT", 4) ? h : NULL;
}

const struct acpi_header *acpi_xsdt(void)
{
	const uint8_t *p = acpi_rsdp();
	const struct acpi_header *h = p && p[15] >= 2 ? table_at(get64(p + 24)) : NULL;

	return h && sig_eq(h->signature, "XSDT", 4) ? h : NULL;
}

const struct acpi_header *acpi_sdt_find(const struct acpi_header *sdt, const char *sig)
{
	if (!sdt)
		return NULL;
	unsigned esize = sig_eq(sdt->signature, "XSDT", 4) ? 8 : 4;
	const uint8_t *e = (const uint8_t *)sdt + sizeof(*sdt);
	const uint8_t *end = (const uint8_t *)sdt + sdt->length;

	for (; e + esize <= end; e += esize) {
		const struct acpi_header *h = table_at(esize == 8 ? get64(e) : get32(e));
		if (h && sig_eq(h->signature, sig, 4))
			return h;
	}
	return NULL;
}

const struct acpi_header *acpi_find(const char *sig)
{
	const struct acpi_header *x = acpi_xsdt();

	return acpi_sdt_find(x ? x : acpi_rsdt(), sig);
}

/* Calls @fn on each MADT entry of @type until it returns true; the entry or NULL. */
static const uint8_t *madt_entry(unsigned type, bool (*fn)(const uint8_t *e, unsigned arg),
				 unsigned arg)
{
	const struct acpi_header *m = acpi_find("APIC");

	if (!m)
		return NULL;
	const uint8_t *e = (const uint8_t *)m + sizeof(*m) + 8;	/* local APIC address, flags */
	const uint8_t *end = (const uint8_t *)m + m->length;
	for (; e + 2 <= end && e[1] >= 2 && e + e[1] <= end; e += e[1])
		if (e[0] == type && fn(e, arg))
			return e;
	return NULL;
}

static bool any_entry(const uint8_t *e, unsigned arg)
{
	(void)e;
	(void)arg;
	return true;
}

static bool isa_override_of(const uint8_t *e, unsigned irq)
{
	return e[1] >= 10 && e[2] == 0 && e[3] == irq;
}

uint32_t acpi_ioapic_address(void)
{
	const uint8_t *e = madt_entry(1, any_entry, 0);

	return e && e[1] >= 12 ? get32(e + 4) : 0;
}

uint32_t acpi_isa_irq_gsi(unsigned irq, uint16_t *flags)
{
	const uint8_t *e = madt_entry(2, isa_override_of, irq);

	if (flags)
		*flags = e ? (uint16_t)(e[8] | e[9] << 8) : 0;
	return e ? get32(e + 4) : irq;
}

unsigned acpi_cpus(struct acpi_cpu *cpus, unsigned max)
{
	const struct acpi_header *m = acpi_find("APIC");
	unsigned n = 0;

	if (!m)
		return 0;
	const uint8_t *e = (const uint8_t *)m + sizeof(*m) + 8;
	const uint8_t *end = (const uint8_t *)m + m->length;
	for (; e + 2 <= end && e[1] >= 2 && e + e[1] <= end; e += e[1]) {
		struct acpi_cpu c;

		if (e[0] == 0 && e[1] >= 8)
			c = (struct acpi_cpu){ .apic_id = e[3], .uid = e[2], .flags = get32(e + 4) };
		else if (e[0] == 9 && e[1] >= 16)
			c = (struct acpi_cpu){ .apic_id = get32(e + 4), .uid = get32(e + 12),
					       .flags = get32(e + 8), .x2apic = true };
		else
			continue;
		if (!(c.flags & ACPI_CPU_ENABLED))
			continue;
		if (n < max)
			cpus[n] = c;
		n++;
	}
	return n;
}
