/*
 * test_dev_pit.c — the 8254 PIT (vmm/pit.c) against the Intel 82C54
 * datasheet, on a fake virtual clock: the counters run at 1193182 Hz, so
 * clock tick k falls at ceil(k * 10^9 / 1193182) ns (at()).
 *
 * Control word (port 0x43): bits 7:6 counter (11: read-back), 5:4 access
 * (00 latch, 01 LSB, 10 MSB, 11 LSB then MSB), 3:1 mode, 0 BCD.
 * Read-back: bit 5 low latches the count, bit 4 low the status, bits 3:1
 * select counters 2:0. Status byte: bit 7 OUT, bit 6 NULL COUNT, 5:0 the
 * control word's. Port 0x61: bit 0 gate 2, bit 4 refresh toggle, bit 5 OUT2.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_dev_fakes.h"

#define HZ 1193182ull
#define IRQ0 0

static struct vmm v;

static uint64_t at(uint64_t tick)
{
	return (tick * 1000000000ull + HZ - 1) / HZ;
}

static void clock_to(uint64_t tick)
{
	fake_now_ns = at(tick);
}

static void ctl(uint8_t w)
{
	vmm_pio_out(&v, 0x43, 1, w);
}

static void load(unsigned ch, uint16_t n)
{
	vmm_pio_out(&v, (uint16_t)(0x40 + ch), 1, n & 0xff);
	vmm_pio_out(&v, (uint16_t)(0x40 + ch), 1, n >> 8);
}

static uint8_t rd(unsigned ch)
{
	return (uint8_t)vmm_pio_in(&v, (uint16_t)(0x40 + ch), 1);
}

static uint16_t rd16(unsigned ch)
{
	uint16_t lo = rd(ch);
	return (uint16_t)(lo | rd(ch) << 8);
}

/* Counter latch command, then the two bytes. */
static uint16_t latched(unsigned ch)
{
	ctl((uint8_t)(ch << 6));
	return rd16(ch);
}

static uint8_t status(unsigned ch)
{
	ctl((uint8_t)(0xe0 | 2u << ch));
	return rd(ch);
}

static int setup(void **state)
{
	struct vdev *d;
	fake_reset(&v);
	assert_int_equal(pit_create(&v, &d), 0);
	assert_int_equal(vmm_add_dev(&v, d), 0);
	return 0;
}

static int teardown(void **state)
{
	vmm_destroy_devs(&v);
	return 0;
}

/* What a QEMU -kernel guest finds: SeaBIOS's counter 0 (mode 2, count
 * 2^16: 18.2 Hz), QEMU's reset state in counters 1 and 2 (mode 3, count
 * 2^16, no access mode); counter 2's gate low. */
static void initial_state_as_under_qemu(void **state)
{
	assert_int_equal(status(0), 0x80 | 0x34);	/* OUT high, LSB/MSB, mode 2 */
	assert_int_equal(status(1), 0x80 | 0x06);	/* OUT high, mode 3 */
	assert_int_equal(status(2), 0x80 | 0x06);
	clock_to(100);
	assert_int_equal(latched(0), 65536 - 100);
	assert_int_equal(latched(1), 65536 - 200);	/* mode 3 steps by 2 */
	assert_int_equal(latched(2), 0);		/* gate low: held at 2^16 */
	assert_true(vmm_tick(&v) == at(65536));		/* IRQ 0 at 18.2 Hz */
}

static void mode2_counts_down_and_reloads(void **state)
{
	ctl(0x34);			/* counter 0, LSB/MSB, mode 2, binary */
	load(0, 1000);
	clock_to(100);
	assert_int_equal(latched(0), 900);
	clock_to(999);
	assert_int_equal(latched(0), 1);
	assert_int_equal(status(0) & 0x80, 0);		/* OUT low while the count is 1 */
	clock_to(1000);
	assert_int_equal(latched(0), 1000);		/* reloaded */
	assert_int_equal(status(0) & 0x80, 0x80);
	clock_to(1010);
	assert_int_equal(latched(0), 990);
}

static void mode2_irq0_periodic(void **state)
{
	ctl(0x34);
	load(0, 1000);
	fake_clear_log();
	assert_true(vmm_tick(&v) == at(1000));		/* the first rising edge */
	clock_to(999);
	vmm_tick(&v);
	assert_int_equal(fake_rises(IRQ0), 0);
	clock_to(1000);
	assert_true(vmm_tick(&v) == at(2000));
	assert_int_equal(fake_rises(IRQ0), 1);
	assert_true(fake_line[IRQ0]);
	/* Five periods between two ticks of the run loop: one interrupt. */
	clock_to(6500);
	assert_true(vmm_tick(&v) == at(7000));
	assert_int_equal(fake_rises(IRQ0), 2);
	assert_true(fake_line[IRQ0]);
}

static void latch_holds_until_read(void **state)
{
	ctl(0x34);
	load(0, 50000);
	clock_to(10);
	ctl(0x00);			/* latch counter 0 */
	clock_to(2000);
	ctl(0x00);			/* ignored: already latched */
	assert_int_equal(rd16(0), 49990);
	assert_int_equal(rd16(0), 48000);	/* live again */
}

static void lsb_only_and_msb_only(void **state)
{
	ctl(0x14);			/* counter 0, LSB only, mode 2 */
	vmm_pio_out(&v, 0x40, 1, 0x50);
	clock_to(0x10);
	assert_int_equal(rd(0), 0x40);
	assert_int_equal(rd(0), 0x40);		/* every read is the LSB */
	ctl(0x24);			/* MSB only */
	vmm_pio_out(&v, 0x40, 1, 0x02);	/* count 0x200 */
	clock_to(0x10 + 0x100);
	assert_int_equal(rd(0), 0x01);		/* 0x100 left */
}

static void read_back_status_and_count(void **state)
{
	ctl(0x34);
	load(0, 1000);
	clock_to(250);
	ctl(0xc2);			/* latch count and status of counter 0 */
	assert_int_equal(rd(0), 0x80 | 0x34);	/* status first: OUT high, mode word */
	assert_int_equal(rd16(0), 750);
	ctl(0xda);			/* read-back, counters 0 and 2, count only */
	assert_int_equal(rd16(0), 750);
}

static void null_count_until_next_clock(void **state)
{
	ctl(0x34);
	assert_int_equal(status(0) & 0x40, 0x40);	/* no count yet */
	clock_to(5);
	assert_int_equal(status(0) & 0x40, 0x40);	/* still none */
	load(0, 100);
	assert_int_equal(status(0) & 0x40, 0x40);	/* not yet in the counter */
	clock_to(6);
	assert_int_equal(status(0) & 0x40, 0);
}

static void mode0_interrupt_on_terminal_count(void **state)
{
	ctl(0x30);			/* counter 0, LSB/MSB, mode 0 */
	assert_false(fake_line[IRQ0]);	/* OUT low after the control word */
	load(0, 100);
	fake_clear_log();
	assert_true(vmm_tick(&v) == at(100));
	clock_to(99);
	vmm_tick(&v);
	assert_false(fake_line[IRQ0]);
	assert_int_equal(latched(0), 1);
	clock_to(100);
	assert_true(vmm_tick(&v) == UINT64_MAX);	/* one shot */
	assert_true(fake_line[IRQ0]);
	assert_int_equal(fake_rises(IRQ0), 1);
	clock_to(105);
	assert_int_equal(latched(0), 0xfffb);	/* counting on past 0 */
	vmm_tick(&v);
	assert_true(fake_line[IRQ0]);		/* OUT stays high */
}

static void mode0_first_byte_stops_count(void **state)
{
	ctl(0x30);
	load(0, 10);
	clock_to(20);
	vmm_tick(&v);
	assert_true(fake_line[IRQ0]);
	vmm_pio_out(&v, 0x40, 1, 0x20);	/* first byte: OUT goes low */
	assert_false(fake_line[IRQ0]);
	vmm_pio_out(&v, 0x40, 1, 0x00);
	clock_to(20 + 0x20);
	vmm_tick(&v);
	assert_true(fake_line[IRQ0]);
}

static void bcd_counting(void **state)
{
	ctl(0x31);			/* mode 0, BCD */
	load(0, 0x1000);		/* 1000 decimal */
	clock_to(1);
	assert_int_equal(latched(0), 0x0999);
	clock_to(1001);
	assert_int_equal(latched(0), 0x9999);	/* wraps to 9999 */
}

static void mode3_square_wave(void **state)
{
	static const uint16_t even[4] = { 4, 2, 4, 2 };
	static const uint16_t odd[5] = { 5, 4, 2, 5, 2 };
	ctl(0x36);			/* counter 0, mode 3 */
	load(0, 4);
	for (unsigned k = 0; k < 8; k++) {
		clock_to(k);
		assert_int_equal(latched(0), even[k % 4]);
		assert_int_equal(status(0) >> 7, k % 4 < 2);	/* high N/2, low N/2 */
	}
	ctl(0x36);
	clock_to(100);
	load(0, 5);
	for (unsigned k = 0; k < 10; k++) {
		clock_to(100 + k);
		assert_int_equal(latched(0), odd[k % 5]);
		assert_int_equal(status(0) >> 7, k % 5 < 3);	/* high (N+1)/2 */
	}
}

static void mode4_strobe(void **state)
{
	ctl(0x38);			/* counter 0, mode 4 */
	load(0, 10);
	fake_clear_log();
	assert_int_equal(status(0) >> 7, 1);
	clock_to(10);
	assert_int_equal(status(0) >> 7, 0);	/* low for one clock at count 0 */
	clock_to(11);
	assert_int_equal(status(0) >> 7, 1);
	clock_to(5000);
	assert_true(vmm_tick(&v) == UINT64_MAX);	/* one strobe per count */
	assert_int_equal(fake_rises(IRQ0), 1);
}

/* The calibration Linux's pit_hpet_ptimer_calibrate_cpu does: counter 2
 * in mode 0, gated by port 0x61 bit 0, polled on bit 5. */
static void counter2_gate_and_out2(void **state)
{
	uint8_t p61 = (uint8_t)vmm_pio_in(&v, 0x61, 1);
	vmm_pio_out(&v, 0x61, 1, (p61 & ~0x02) & ~0x01);	/* gate low */
	ctl(0xb0);			/* counter 2, LSB/MSB, mode 0 */
	load(2, 100);
	clock_to(50);
	assert_int_equal(latched(2), 100);	/* gate low: not counting */
	vmm_pio_out(&v, 0x61, 1, 0x01);	/* gate high */
	clock_to(149);
	assert_int_equal(vmm_pio_in(&v, 0x61, 1) & 0x21, 0x01);	/* OUT2 low */
	clock_to(150);
	assert_int_equal(vmm_pio_in(&v, 0x61, 1) & 0x21, 0x21);	/* OUT2 high */
	fake_clear_log();
	vmm_tick(&v);
	assert_int_equal(fake_nirq, 0);		/* OUT2 drives no IRQ line */
}

static void counter2_mode1_gate_trigger(void **state)
{
	ctl(0xb2);			/* counter 2, mode 1 */
	load(2, 20);
	clock_to(30);
	assert_int_equal(vmm_pio_in(&v, 0x61, 1) & 0x20, 0x20);	/* OUT high until triggered */
	vmm_pio_out(&v, 0x61, 1, 0x01);	/* rising gate: trigger */
	assert_int_equal(vmm_pio_in(&v, 0x61, 1) & 0x20, 0);
	clock_to(49);
	assert_int_equal(latched(2), 1);
	clock_to(50);
	assert_int_equal(vmm_pio_in(&v, 0x61, 1) & 0x20, 0x20);
}

static void port61_refresh_toggles(void **state)
{
	uint8_t a, b, c;
	vmm_pio_out(&v, 0x61, 1, 0x03);
	a = (uint8_t)vmm_pio_in(&v, 0x61, 1);
	fake_now_ns = 15085;		/* one 15.085 us refresh period later */
	b = (uint8_t)vmm_pio_in(&v, 0x61, 1);
	fake_now_ns = 2 * 15085;
	c = (uint8_t)vmm_pio_in(&v, 0x61, 1);
	assert_int_not_equal(a & 0x10, b & 0x10);
	assert_int_equal(a & 0x10, c & 0x10);
	assert_int_equal(a & 0x0f, 0x03);	/* bits 3:0 read back */
	assert_int_equal(a & 0xc0, 0);
}

static void gap_ports_not_decoded(void **state)
{
	assert_int_equal(vmm_pio_in(&v, 0x60, 1), 0xff);
	vmm_pio_out(&v, 0x50, 1, 0);
	assert_int_equal(v.unknown_pio_reads, 1);
	assert_int_equal(v.unknown_pio_writes, 1);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(initial_state_as_under_qemu),
		T(mode2_counts_down_and_reloads),
		T(mode2_irq0_periodic),
		T(latch_holds_until_read),
		T(lsb_only_and_msb_only),
		T(read_back_status_and_count),
		T(null_count_until_next_clock),
		T(mode0_interrupt_on_terminal_count),
		T(mode0_first_byte_stops_count),
		T(bcd_counting),
		T(mode3_square_wave),
		T(mode4_strobe),
		T(counter2_gate_and_out2),
		T(counter2_mode1_gate_trigger),
		T(port61_refresh_toggles),
		T(gap_ports_not_decoded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
