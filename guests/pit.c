/*
 * pit.c — the 8254 programmable interval timer, channel 0, as a tick.
 *
 * Intel 8254 datasheet (order no. 231164): the counters run from a
 * 1.193182 MHz input on the PC; channel 0's output is wired to IRQ0 of the
 * master 8259A. Control word (port 0x43): bits 7:6 select the counter
 * (00 = 0), bits 5:4 the access (11 = LSB then MSB), bits 3:1 the mode
 * (010 = mode 2, rate generator), bit 0 BCD (0 = binary): 0x34. Mode 2
 * reloads the count itself, so one programming gives a periodic interrupt
 * at input / divisor Hz; a divisor of 0 means 65536 ("Mode 2"), so the
 * slowest rate is about 18.2 Hz. The counter latch command (counter bits,
 * access 00) freezes the count for the next two reads of port 0x40.
 *
 * The IRQ0 handler counts and sends the EOI (pic.c). With a limit it
 * masks IRQ0 at the limit, so a test sees an exact count however fast the
 * ticks come compared with the code that waits for them.
 */
#include "guests/guest.h"

#define PIT_CH0		0x40
#define PIT_CMD		0x43
#define PIT_CW_CH0_LOHI_MODE2	0x34
#define PIT_CW_CH0_LATCH	0x00

static volatile uint64_t ticks;
static uint64_t tick_limit;
static uint16_t divisor;
static bool pic_ready;

static void pit_irq0(struct guest_frame *f)
{
	(void)f;
	ticks++;
	if (tick_limit && ticks >= tick_limit)
		pic_mask(0);
	pic_eoi(0);
}

int pit_start(uint32_t hz, uint64_t limit)
{
	/* mode 2 needs a count of at least 2 (8254 datasheet, "Mode 2") */
	if (hz < 19 || hz > PIT_INPUT_HZ / 2)
		return -GUEST_EINVAL;
	if (!pic_ready) {
		pic_init();
		pic_ready = true;
	}
	uint32_t d = (PIT_INPUT_HZ + hz / 2) / hz;
	divisor = (uint16_t)(d > 0xffff ? 0xffff : d);
	ticks = 0;
	tick_limit = limit;
	idt_set_irq(PIC_VECTOR_BASE + 0, pit_irq0);
	outb(PIT_CMD, PIT_CW_CH0_LOHI_MODE2);
	outb(PIT_CH0, (uint8_t)divisor);
	outb(PIT_CH0, (uint8_t)(divisor >> 8));
	pic_unmask(0);
	return 0;
}

void pit_stop(void)
{
	pic_mask(0);
}

uint64_t pit_ticks(void)
{
	return ticks;
}

uint16_t pit_divisor(void)
{
	return divisor;
}

uint16_t pit_read_count(void)
{
	outb(PIT_CMD, PIT_CW_CH0_LATCH);
	uint8_t lo = inb(PIT_CH0);
	uint8_t hi = inb(PIT_CH0);
	return (uint16_t)(hi << 8 | lo);
}

/* Channel 0 counts down and reloads, so its count going up between two
 * latched reads is one period gone by. IF=1 meanwhile, so the other
 * interrupts a test waits for are taken. */
void pit_wait_periods(unsigned n)
{
	uint16_t prev = pit_read_count();

	irq_enable();
	while (n) {
		uint16_t cur = pit_read_count();
		if (cur > prev)
			n--;
		prev = cur;
	}
	irq_disable();
}
