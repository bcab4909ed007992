/*
 * test_hw_svm_perm.c — the I/O and MSR permission maps of an SVM guest
 * (hw/svm_perm.c): which port and MSR accesses the processor intercepts.
 *
 * Expected values are the APM's: Vol. 2 15.10.1 (IOPM: 12 KiB, one bit
 * per port, every port of a multi-byte access checked) and 15.11, Table
 * 15-5 (MSRPM: three 2 KiB vectors of two bits per MSR, everything else
 * intercepted). Bit positions are computed here from those rules, not
 * taken from the code under test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hw/svm_internal.h"

static struct hw_machine *m;

static int setup(void **state)
{
	struct hw_machine_config cfg;
	hw_machine_config_default(&cfg, HW_VENDOR_AMD);
	cfg.arena_size = 16ull << 20;
	return hw_machine_create(&cfg, &m) ? -1 : 0;
}

static int teardown(void **state)
{
	hw_machine_destroy(m);
	m = NULL;
	return 0;
}

/* ------------------------------------------------------------ IOPM */

#define MAP_PA 0x200000ull

static uint8_t *map_bytes(hpa_t pa, size_t len)
{
	uint8_t *p = hw_hpa_ptr(m, pa, len);
	assert_non_null(p);
	memset(p, 0, len);
	return p;
}

static bool io(uint16_t port, unsigned size)
{
	return svm_iopm_intercepted(m, MAP_PA, port, size);
}

static void iopm_single_port(void **state)
{
	uint8_t *iopm = map_bytes(MAP_PA, 12288);
	for (unsigned p = 0; p < 0x10000; p += 0x1111)
		assert_false(io((uint16_t)p, 4));
	iopm[0x80 / 8] |= 1u << (0x80 % 8);
	assert_true(io(0x80, 1));
	assert_false(io(0x7f, 1));
	assert_false(io(0x81, 1));
	assert_true(io(0x7f, 2));		/* 0x7f-0x80 */
	assert_false(io(0x81, 2));
	assert_true(io(0x7d, 4));		/* 0x7d-0x80 */
	assert_false(io(0x7c, 4));		/* 0x7c-0x7f */
	/* Bits 11:0 of IOPM_BASE_PA are ignored. */
	assert_true(svm_iopm_intercepted(m, MAP_PA | 0xabc, 0x80, 1));
	assert_false(svm_iopm_intercepted(m, MAP_PA | 0xabc, 0x81, 1));
}

static void iopm_access_straddles_bytes(void **state)
{
	uint8_t *iopm = map_bytes(MAP_PA, 12288);
	iopm[0x108 / 8] |= 1u << 0;		/* port 0x108: bit 0 of byte 0x21 */
	assert_false(io(0x107, 1));
	assert_true(io(0x107, 2));		/* bits 7 of 0x20 and 0 of 0x21 */
	assert_true(io(0x105, 4));
	assert_false(io(0x104, 4));
	assert_false(io(0x109, 4));
	iopm[0x108 / 8] = 0;
	iopm[0xfff / 8] |= 1u << 7;		/* port 0xfff: last bit of byte 0x1ff */
	assert_true(io(0xffe, 4));
	assert_false(io(0x1000, 4));
}

static void iopm_top_ports_use_the_third_page(void **state)
{
	uint8_t *iopm = map_bytes(MAP_PA, 12288);
	/* Ports 0 and 1 denied: a dword access at 0xffff does not wrap. */
	iopm[0] = 0x3;
	assert_false(io(0xffff, 4));
	assert_false(io(0xfffe, 2));
	/* Its bits 0x10000-0x10002 are in the third 4 KiB page. */
	iopm[0x2000] = 1u << 1;			/* bit 0x10001 */
	assert_true(io(0xffff, 4));
	assert_true(io(0xfffe, 4));
	assert_false(io(0xffff, 2));		/* 0xffff-0x10000 */
	assert_false(io(0xfffc, 4));
}

static void iopm_outside_the_arena_intercepts(void **state)
{
	const uint64_t end = hw_arena_size(m);
	assert_true(svm_iopm_intercepted(m, end, 0x10, 1));
	/* A map at the top of the address space does not wrap to hpa 0. */
	map_bytes(0, 0x1000);
	assert_true(svm_iopm_intercepted(m, ~0ull & HV_PAGE_MASK, 0x10, 1));
	assert_true(svm_iopm_intercepted(m, ~0ull & HV_PAGE_MASK, 0x8000, 1));
	/* A map whose last page hangs off the end: the part inside counts. */
	map_bytes(end - 0x1000, 0x1000);
	assert_false(svm_iopm_intercepted(m, end - 0x1000, 0x10, 1));
	assert_true(svm_iopm_intercepted(m, end - 0x1000, 0x8000, 1));
}

/* ------------------------------------------------------------ MSRPM */

static bool rd(uint32_t msr) { return svm_msrpm_intercepted(m, MAP_PA, msr, false); }
static bool wr(uint32_t msr) { return svm_msrpm_intercepted(m, MAP_PA, msr, true); }

/*
 * APM Table 15-5: each vector holds 2 bits per MSR, the read bit at the
 * even position. Set exactly one bit, then only that MSR and direction
 * intercepts among its neighbours.
 */
static void msrpm_range_edges(void **state)
{
	static const struct { uint32_t msr; unsigned byte, bit; } t[] = {
		{ 0x00000000, 0x000, 0 },
		{ 0x00001fff, 0x7ff, 6 },
		{ 0xc0000000, 0x800, 0 },
		{ 0xc0001fff, 0xfff, 6 },
		{ 0xc0010000, 0x1000, 0 },
		{ 0xc0011fff, 0x17ff, 6 },
		{ 0x00000174, 0x05d, 0 },	/* SYSENTER_CS: 0x174 * 2 = bit 0x2e8 */
		{ 0xc0000080, 0x820, 0 },	/* EFER */
		{ 0xc0010117, 0x1045, 6 },	/* VM_HSAVE_PA */
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t *pm = map_bytes(MAP_PA, 8192);
		const uint32_t msr = t[i].msr;
		assert_false(rd(msr));
		assert_false(wr(msr));
		pm[t[i].byte] = (uint8_t)(1u << t[i].bit);		/* read */
		assert_true(rd(msr));
		assert_false(wr(msr));
		pm[t[i].byte] = (uint8_t)(1u << (t[i].bit + 1));	/* write */
		assert_false(rd(msr));
		assert_true(wr(msr));
		if ((msr & 0x1fff) != 0x1fff) {
			assert_false(rd(msr + 1));
			assert_false(wr(msr + 1));
		}
		if (msr & 0x1fff) {
			assert_false(rd(msr - 1));
			assert_false(wr(msr - 1));
		}
	}
}

static void msrpm_outside_the_ranges_always_intercepts(void **state)
{
	uint8_t *pm = map_bytes(MAP_PA, 8192);
	static const uint32_t outside[] = {
		0x00002000, 0x40000000, 0xbfffffff, 0xc0002000, 0xc000ffff,
		0xc0012000, 0xc0020000, 0xffffffff,
	};
	for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		assert_true(rd(outside[i]));
		assert_true(wr(outside[i]));
	}
	/* The reserved quarter (0x1800-0x1fff) belongs to no MSR. */
	memset(pm + 0x1800, 0xff, 0x800);
	assert_false(rd(0xc0011fff));
	assert_false(wr(0xc0011fff));
	assert_false(rd(0x1fff));
	/* Bits 11:0 of MSRPM_BASE_PA are ignored. */
	pm[0x820] = 1;
	assert_true(svm_msrpm_intercepted(m, MAP_PA | 0x7ff, 0xc0000080, false));
}

static void msrpm_outside_the_arena_intercepts(void **state)
{
	const uint64_t end = hw_arena_size(m);
	assert_true(svm_msrpm_intercepted(m, end, 0, false));
	assert_true(svm_msrpm_intercepted(m, end + 0x100000, 0xc0000080, true));
	map_bytes(0, 0x1000);
	assert_true(svm_msrpm_intercepted(m, ~0ull & HV_PAGE_MASK, 0xc0010000, false));
	/* Half inside: the first 4 KiB are readable (zero), the rest are not. */
	map_bytes(end - 0x1000, 0x1000);
	assert_false(svm_msrpm_intercepted(m, end - 0x1000, 0xc0000080, true));
	assert_true(svm_msrpm_intercepted(m, end - 0x1000, 0xc0010000, false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(iopm_single_port),
		T(iopm_access_straddles_bytes),
		T(iopm_top_ports_use_the_third_page),
		T(iopm_outside_the_arena_intercepts),
		T(msrpm_range_edges),
		T(msrpm_outside_the_ranges_always_intercepts),
		T(msrpm_outside_the_arena_intercepts),
	};
	return cmocka_run_group_tests_name("hw_svm_perm", tests, NULL, NULL);
}
