/*
 * test_dev_acpi.c — the ACPI tables (vmm/acpi.c) parsed back out of
 * guest RAM the way an OS finds them (ACPI 6.x 5.2.5.1: the RSDP on a
 * 16-byte boundary in 0xe0000-0xfffff), every checksum checked (5.2.5.3
 * for the RSDP's two, 5.2.6 for the tables), the RSDT/XSDT walked by
 * signature, and the FADT's and MADT's fields read at the spec's offsets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_dev_fakes.h"

static struct vmm v;

static uint32_t le16(const uint8_t *p) { return p[0] | p[1] << 8; }
static uint32_t le32(const uint8_t *p) { return le16(p) | (uint32_t)le16(p + 2) << 16; }
static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* The search an OS makes; NULL when there is no valid RSDP. */
static const uint8_t *find_rsdp(void)
{
	for (uint32_t a = 0xe0000; a < 0x100000; a += 16)
		if (!memcmp(fake_ram + a, "RSD PTR ", 8) && sum(fake_ram + a, 20) == 0)
			return fake_ram + a;
	return NULL;
}

/* A table at @gpa with signature @sig, its length and checksum checked. */
static const uint8_t *table(uint64_t gpa, const char *sig)
{
	const uint8_t *t;
	assert_true(gpa >= 0xe0000 && gpa < FAKE_RAM_SIZE - 36);
	t = fake_ram + gpa;
	assert_memory_equal(t, sig, 4);
	assert_true(le32(t + 4) >= 36 && gpa + le32(t + 4) <= FAKE_RAM_SIZE);
	assert_int_equal(sum(t, le32(t + 4)), 0);
	return t;
}

/* The XSDT entry with signature @sig. */
static const uint8_t *xsdt_find(const uint8_t *xsdt, const char *sig)
{
	unsigned n = (le32(xsdt + 4) - 36) / 8;
	for (unsigned i = 0; i < n; i++) {
		uint64_t a = le64(xsdt + 36 + 8 * i);
		if (a < FAKE_RAM_SIZE && !memcmp(fake_ram + a, sig, 4))
			return table(a, sig);
	}
	fail_msg("no %s in the XSDT", sig);
	return NULL;
}

static void build(unsigned ncpus)
{
	fake_reset(&v);
	v.ncpus = ncpus;
	assert_int_equal(acpi_build(&v), 0);
}

static void rsdp_found_with_both_checksums(void **state)
{
	const uint8_t *r;
	build(1);
	r = find_rsdp();
	assert_non_null(r);
	assert_int_equal((r - fake_ram) % 16, 0);
	assert_int_equal(r[15], 2);			/* revision: has the XSDT */
	assert_int_equal(le32(r + 20), 36);		/* length */
	assert_int_equal(sum(r, 36), 0);		/* extended checksum */
	table(le32(r + 16), "RSDT");
	table(le64(r + 24), "XSDT");
}

static void rsdt_and_xsdt_agree(void **state)
{
	const uint8_t *r, *rsdt, *xsdt;
	build(1);
	r = find_rsdp();
	rsdt = table(le32(r + 16), "RSDT");
	xsdt = table(le64(r + 24), "XSDT");
	assert_int_equal((le32(rsdt + 4) - 36) / 4, (le32(xsdt + 4) - 36) / 8);
	for (unsigned i = 0; i < (le32(rsdt + 4) - 36) / 4; i++)
		assert_true(le32(rsdt + 36 + 4 * i) == le64(xsdt + 36 + 8 * i));
}

static void fadt_pm_timer_and_blocks(void **state)
{
	const uint8_t *f, *x;
	build(1);
	x = table(le64(find_rsdp() + 24), "XSDT");
	f = xsdt_find(x, "FACP");
	assert_true(le32(f + 4) >= 244);		/* has the X_ fields */
	assert_int_equal(le32(f + 76), 0x608);		/* PM_TMR_BLK */
	assert_int_equal(f[91], 4);			/* PM_TMR_LEN */
	assert_int_equal(le32(f + 112) & (1u << 8), 0);	/* TMR_VAL_EXT: 24 bits */
	assert_int_equal(le32(f + 56), 0x600);		/* PM1a_EVT_BLK */
	assert_int_equal(f[88], 4);			/* PM1_EVT_LEN */
	assert_int_equal(le32(f + 64), 0x604);		/* PM1a_CNT_BLK */
	assert_int_equal(f[89], 2);			/* PM1_CNT_LEN */
	assert_int_equal(le16(f + 46), 9);		/* SCI_INT */
	/* X_PM_TMR_BLK: system I/O, 32 bits at 0x608. */
	assert_int_equal(f[208], 1);
	assert_int_equal(f[209], 32);
	assert_true(le64(f + 212) == 0x608);
	assert_int_equal(f[148], 1);			/* X_PM1a_EVT_BLK */
	assert_true(le64(f + 152) == 0x600);
	assert_true(le64(f + 176) == 0x604);		/* X_PM1a_CNT_BLK */
	assert_int_equal(f[108], 0x32);			/* CENTURY */
}

static void fadt_points_at_dsdt_and_facs(void **state)
{
	const uint8_t *f, *d, *facs;
	build(1);
	f = xsdt_find(table(le64(find_rsdp() + 24), "XSDT"), "FACP");
	d = table(le64(f + 140), "DSDT");		/* X_DSDT */
	assert_int_equal(le32(d + 4), 36);		/* an empty definition block */
	assert_int_equal(le32(f + 40), le64(f + 140));	/* DSDT agrees */
	assert_int_equal(le32(f + 36) % 64, 0);	/* FACS 64-byte aligned */
	facs = fake_ram + le32(f + 36);
	assert_memory_equal(facs, "FACS", 4);
	assert_int_equal(le32(facs + 4), 64);
}

static void madt(void **state)
{
	const uint8_t *m, *e, *end;
	unsigned lapics = 0, ioapics = 0, isos = 0;
	bool irq0_to_gsi2 = false, sci_level_high = false;
	build(3);
	m = xsdt_find(table(le64(find_rsdp() + 24), "XSDT"), "APIC");
	assert_int_equal(le32(m + 36), 0xfee00000);	/* local APIC address */
	assert_int_equal(le32(m + 40) & 1, 1);		/* PCAT_COMPAT */
	end = m + le32(m + 4);
	for (e = m + 44; e < end; e += e[1]) {
		assert_true(e[1] >= 2 && e + e[1] <= end);
		switch (e[0]) {
		case 0:		/* Processor Local APIC */
			assert_int_equal(e[1], 8);
			assert_int_equal(e[3], lapics);		/* APIC ID */
			assert_int_equal(le32(e + 4) & 1, 1);	/* enabled */
			lapics++;
			break;
		case 1:		/* I/O APIC */
			assert_int_equal(e[1], 12);
			assert_int_equal(le32(e + 4), 0xfec00000);
			assert_int_equal(le32(e + 8), 0);	/* GSI base */
			ioapics++;
			break;
		case 2:		/* Interrupt Source Override */
			assert_int_equal(e[1], 10);
			assert_int_equal(e[2], 0);		/* ISA */
			if (e[3] == 0 && le32(e + 4) == 2)
				irq0_to_gsi2 = true;
			/* polarity 01 active high, trigger 11 level */
			if (e[3] == 9 && le32(e + 4) == 9 && le16(e + 8) == 0x000d)
				sci_level_high = true;
			isos++;
			break;
		default:
			break;
		}
	}
	assert_true(e == end);
	assert_int_equal(lapics, 3);
	assert_int_equal(ioapics, 1);
	assert_int_equal(isos, 2);
	assert_true(irq0_to_gsi2);
	assert_true(sci_level_high);
}

static void zero_cpus_is_one(void **state)
{
	const uint8_t *m, *e;
	unsigned lapics = 0;
	build(0);
	m = xsdt_find(table(le64(find_rsdp() + 24), "XSDT"), "APIC");
	for (e = m + 44; e < m + le32(m + 4); e += e[1])
		lapics += e[0] == 0;
	assert_int_equal(lapics, 1);
}

static void too_many_cpus(void **state)
{
	fake_reset(&v);
	v.ncpus = 256;				/* APIC IDs are 8 bits, 0xff broadcast */
	assert_int_equal(acpi_build(&v), -EINVAL);
	v.ncpus = 255;
	assert_int_equal(acpi_build(&v), 0);
}

static void write_failure_reported(void **state)
{
	fake_reset(&v);
	fake_ram_fails = true;
	assert_int_equal(acpi_build(&v), -EFAULT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rsdp_found_with_both_checksums),
		cmocka_unit_test(rsdt_and_xsdt_agree),
		cmocka_unit_test(fadt_pm_timer_and_blocks),
		cmocka_unit_test(fadt_points_at_dsdt_and_facs),
		cmocka_unit_test(madt),
		cmocka_unit_test(zero_cpus_is_one),
		cmocka_unit_test(too_many_cpus),
		cmocka_unit_test(write_failure_reported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
