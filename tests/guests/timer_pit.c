/*
 * timer_pit.c — 8254 PIT channel 0 through the remapped 8259A: periodic
 * IRQ0 interrupts on vector 0x20.
 *
 * Intel 8254 datasheet (231164), "Mode 2 - Rate Generator": one
 * programming gives an interrupt every `divisor` input clocks, the
 * counter reloading itself and counting N..1; the PC input is 1.193182
 * MHz, so 1000 Hz is divisor 1193. Intel 8259A datasheet (231468): after
 * ICW1-4 the mask register (OCW1) reads back as written; IRQ0 at ICW2
 * base 0x20 arrives on vector 0x20, and the handler's non-specific EOI
 * lets the next one through. SDM Vol. 3A 6.8.1: with IF=0 the maskable
 * interrupt waits; STI; HLT wakes on it (Vol. 2 STI, HLT).
 *
 * Everything printed is a count the test controls: the IRQ0 handler masks
 * IRQ0 itself at the 10th tick, so exactly 10 arrive however fast TCG
 * runs, and none after (checked across 5 more PIT periods).
 *
 * Expected serial output: tests/guests/timer_pit.expect.
 * Expected exit status: 1 (guest_exit(0)).
 */
#include "guests/guest.h"

int guest_main(void)
{
	guest_check("pit_start rejects 10 Hz", pit_start(10, 0) == -GUEST_EINVAL);
	guest_check("pit_start 1000 Hz", pit_start(1000, 10) == 0);
	guest_printf("divisor %u\n", pit_divisor());
	guest_check("divisor is 1193", pit_divisor() == 1193);
	guest_printf("pic mask 0x%x\n", pic_get_mask());
	uint16_t c = pit_read_count();
	guest_check("latched count in 1..1193", c >= 1 && c <= 1193);

	while (pit_ticks() < 10)
		irq_wait();
	guest_printf("got %lu ticks\n", pit_ticks());
	guest_check("IRQ0 masked at the limit", (pic_get_mask() & 1) == 1);
	pit_wait_periods(5);
	guest_printf("after 5 more periods: %lu ticks\n", pit_ticks());

	/* unlimited: the rate generator keeps firing until masked */
	guest_check("pit_start again", pit_start(1000, 0) == 0);
	while (pit_ticks() < 25)
		irq_wait();
	pit_stop();
	guest_check("kept firing for 25 ticks", pit_ticks() >= 25);
	guest_printf("pic mask after stop 0x%x\n", pic_get_mask());

	return guest_check_status();
}
