/*
 * test_dev_cmos.c — the MC146818 RTC and CMOS (vmm/cmos.c): the date is
 * 2000-01-01 00:00:00 (a Saturday: day-of-week 7, Sunday being 1) plus
 * the VM clock; registers per the MC146818A datasheet (A: UIP bit 7,
 * default 0x26; B: SET 7, DM 2 (1 binary), 24/12 1; C read-to-clear with
 * UF bit 4; D: VRT bit 7); memory-size bytes as QEMU's pc machine stores
 * them (base KiB at 0x15, extended KiB at 0x17/0x30 capped at 65535,
 * 64 KiB units above 16 MiB at 0x34, above 4 GiB at 0x5b-0x5d).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_dev_fakes.h"

#define S 1000000000ull
#define MiB (1ull << 20)
#define GiB (1ull << 30)

static struct vmm v;

static void make(uint64_t ram_size, unsigned ncpus)
{
	struct vdev *d;
	vmm_destroy_devs(&v);
	fake_reset(&v);
	v.ram_size = ram_size;
	v.ncpus = ncpus;
	assert_int_equal(cmos_create(&v, &d), 0);
	assert_int_equal(vmm_add_dev(&v, d), 0);
}

static uint8_t rd(uint8_t idx)
{
	vmm_pio_out(&v, 0x70, 1, idx);
	return (uint8_t)vmm_pio_in(&v, 0x71, 1);
}

static void wr(uint8_t idx, uint8_t val)
{
	vmm_pio_out(&v, 0x70, 1, idx);
	vmm_pio_out(&v, 0x71, 1, val);
}

static int setup(void **state)
{
	make(128 * MiB, 1);
	return 0;
}

static int teardown(void **state)
{
	vmm_destroy_devs(&v);
	return 0;
}

static void epoch_in_bcd(void **state)
{
	assert_int_equal(rd(0x00), 0x00);	/* seconds */
	assert_int_equal(rd(0x02), 0x00);	/* minutes */
	assert_int_equal(rd(0x04), 0x00);	/* hours */
	assert_int_equal(rd(0x06), 0x07);	/* Saturday */
	assert_int_equal(rd(0x07), 0x01);	/* day of month */
	assert_int_equal(rd(0x08), 0x01);	/* January */
	assert_int_equal(rd(0x09), 0x00);	/* year 00 */
	assert_int_equal(rd(0x32), 0x20);	/* century */
}

/* 2000 is a leap year: March 1st is day 31 + 29 = 60, a Wednesday. */
#define MAR1_123456 ((60 * 86400ull + 12 * 3600 + 34 * 60 + 56) * S)

static void date_advances_with_virtual_time(void **state)
{
	fake_now_ns = MAR1_123456 + 500000000ull;
	assert_int_equal(rd(0x00), 0x56);
	assert_int_equal(rd(0x02), 0x34);
	assert_int_equal(rd(0x04), 0x12);
	assert_int_equal(rd(0x06), 0x04);	/* Wednesday */
	assert_int_equal(rd(0x07), 0x01);
	assert_int_equal(rd(0x08), 0x03);
	assert_int_equal(rd(0x09), 0x00);
	fake_now_ns = 366 * 86400ull * S;	/* 2001-01-01, a Monday */
	assert_int_equal(rd(0x09), 0x01);
	assert_int_equal(rd(0x08), 0x01);
	assert_int_equal(rd(0x07), 0x01);
	assert_int_equal(rd(0x06), 0x02);
}

static void binary_and_12_hour(void **state)
{
	fake_now_ns = MAR1_123456;
	wr(0x0b, 0x06);				/* binary, 24-hour */
	assert_int_equal(rd(0x00), 56);
	assert_int_equal(rd(0x02), 34);
	assert_int_equal(rd(0x04), 12);
	assert_int_equal(rd(0x08), 3);
	wr(0x0b, 0x00);				/* BCD, 12-hour */
	assert_int_equal(rd(0x04), 0x92);	/* 12 PM: bit 7 is PM */
	fake_now_ns = 0;
	assert_int_equal(rd(0x04), 0x12);	/* midnight is 12 AM */
	fake_now_ns = 13 * 3600 * S;
	assert_int_equal(rd(0x04), 0x81);	/* 1 PM */
}

static void set_bit_holds_and_sets_the_time(void **state)
{
	fake_now_ns = 10 * S;
	wr(0x0b, 0x82);				/* SET */
	fake_now_ns = 20 * S;
	assert_int_equal(rd(0x00), 0x10);	/* held at the moment SET went 1 */
	wr(0x00, 0x30);
	wr(0x02, 0x59);
	wr(0x04, 0x23);
	wr(0x07, 0x31);
	wr(0x08, 0x12);
	wr(0x09, 0x99);
	wr(0x32, 0x20);
	wr(0x0b, 0x02);				/* run from 2099-12-31 23:59:30 */
	fake_now_ns = 50 * S;
	assert_int_equal(rd(0x00), 0x00);
	assert_int_equal(rd(0x02), 0x00);
	assert_int_equal(rd(0x04), 0x00);
	assert_int_equal(rd(0x07), 0x01);
	assert_int_equal(rd(0x08), 0x01);
	assert_int_equal(rd(0x09), 0x00);
	assert_int_equal(rd(0x32), 0x21);	/* 2100 */
	assert_int_equal(rd(0x06), 0x06);	/* 2100-01-01 is a Friday */
}

static void write_while_running(void **state)
{
	fake_now_ns = 5 * S;
	wr(0x02, 0x45);				/* minutes */
	fake_now_ns = 7 * S;
	assert_int_equal(rd(0x02), 0x45);
	assert_int_equal(rd(0x00), 0x07);	/* the seconds went on */
}

static void registers_a_to_d(void **state)
{
	assert_int_equal(rd(0x0a), 0x26);
	assert_int_equal(rd(0x0b), 0x02);
	assert_int_equal(rd(0x0d), 0x80);
	fake_now_ns = S - 100000;		/* 100 us before the update */
	assert_int_equal(rd(0x0a), 0xa6);	/* UIP */
	fake_now_ns = S - 300000;		/* 300 us before: not yet */
	assert_int_equal(rd(0x0a), 0x26);
	wr(0x0a, 0xff);
	assert_int_equal(rd(0x0a), 0x7f);	/* UIP is read-only */
	wr(0x0d, 0x00);
	assert_int_equal(rd(0x0d), 0x80);
}

static void register_c_update_flag(void **state)
{
	fake_now_ns = S / 2;
	wr(0x0a, 0x20);				/* no periodic rate */
	assert_int_equal(rd(0x0c), 0x00);
	fake_now_ns = S + S / 2;
	assert_int_equal(rd(0x0c), 0x10);	/* UF: an update ended */
	assert_int_equal(rd(0x0c), 0x00);	/* cleared by the read */
	wr(0x0b, 0x12);				/* UIE */
	fake_now_ns = 2 * S + S / 2;
	assert_int_equal(rd(0x0c), 0x90);	/* IRQF | UF */
}

static void register_c_periodic_flag(void **state)
{
	/* RS = 6: 1024 Hz, a period of 976.5625 us. */
	fake_now_ns = 100000;
	assert_int_equal(rd(0x0c) & 0x40, 0x00);
	fake_now_ns = 900000;
	assert_int_equal(rd(0x0c) & 0x40, 0x00);
	fake_now_ns = 1000000;
	assert_int_equal(rd(0x0c) & 0x40, 0x40);
}

static void index_port(void **state)
{
	wr(0x0e, 0x5a);
	wr(0x8e, 0xa5);				/* bit 7 masks NMI; index 0x0e */
	assert_int_equal(rd(0x0e), 0xa5);
	assert_int_equal(vmm_pio_in(&v, 0x70, 1), 0xff);
	wr(0x7f, 0x11);				/* the last byte of RAM */
	assert_int_equal(rd(0x7f), 0x11);
}

static void memory_128m(void **state)
{
	assert_int_equal(rd(0x15) | rd(0x16) << 8, 640);
	assert_int_equal(rd(0x17) | rd(0x18) << 8, 65535);	/* 127 MiB capped */
	assert_int_equal(rd(0x30) | rd(0x31) << 8, 65535);
	assert_int_equal(rd(0x34) | rd(0x35) << 8, (128 - 16) * 16);	/* 1792 */
	assert_int_equal(rd(0x5b) | rd(0x5c) << 8 | rd(0x5d) << 16, 0);
	assert_int_equal(rd(0x5f), 0);		/* 1 CPU */
	assert_int_equal(rd(0x14), 0x06);	/* equipment: FPU, PS/2 mouse */
}

static void memory_32m(void **state)
{
	make(32 * MiB, 2);
	assert_int_equal(rd(0x17) | rd(0x18) << 8, 31 * 1024);
	assert_int_equal(rd(0x30) | rd(0x31) << 8, 31 * 1024);
	assert_int_equal(rd(0x34) | rd(0x35) << 8, 16 * 16);
	assert_int_equal(rd(0x5f), 1);
}

/* 6 GiB: 3 GiB below 4 GiB, 3 GiB above (QEMU's split at 3.5 GiB). */
static void memory_6g(void **state)
{
	make(6 * GiB, 1);
	assert_int_equal(rd(0x15) | rd(0x16) << 8, 640);
	assert_int_equal(rd(0x17) | rd(0x18) << 8, 65535);
	assert_int_equal(rd(0x34) | rd(0x35) << 8, (3 * 1024 - 16) * 16);	/* 0xbf00 */
	assert_int_equal(rd(0x5b) | rd(0x5c) << 8 | rd(0x5d) << 16, 3 * 1024 * 16);	/* 0xc000 */
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(epoch_in_bcd),
		T(date_advances_with_virtual_time),
		T(binary_and_12_hour),
		T(set_bit_holds_and_sets_the_time),
		T(write_while_running),
		T(registers_a_to_d),
		T(register_c_update_flag),
		T(register_c_periodic_flag),
		T(index_port),
		T(memory_128m),
		T(memory_32m),
		T(memory_6g),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
