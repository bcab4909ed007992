/*
 * timer_lapic.c — the local APIC timer, periodic and one-shot, on vector
 * 0x30 (SDM Vol. 3A chapter 11).
 *
 * Checks: IA32_APIC_BASE (MSR 1BH) holds the reset default base
 * 0xFEE00000 with the BSP flag (bit 8) set on the boot processor (11.4.4,
 * Figure 11-5); after the software enable, SVR bit 8 reads back 1 (11.4.3,
 * 11.9); the version register (30H) bits 7:0 are 1xH for an integrated
 * APIC and bits 23:16 give the LVT count minus 1, at least 3 (11.4.8).
 * Periodic mode reloads the initial count and interrupts again until
 * masked (11.5.4): the handler masks the LVT at its 10th interrupt, so
 * exactly 10 arrive. The EOI write clears the vector's ISR bit (11.8.4,
 * 11.8.5; ISR bit 48 is bit 16 of the register at 110H). One-shot mode
 * interrupts once and the current count stays 0 (11.5.4): after the
 * interrupt the test waits 20 PIT periods (channel 0 counting with IRQ0
 * masked, as a clock) with IF=1 and still sees exactly one.
 *
 * Expected serial output: tests/guests/timer_lapic.expect.
 * Expected exit status: 1 (guest_exit(0)).
 */
#include "guests/guest.h"

int guest_main(void)
{
	uint64_t msr = msr_read(0x1b);

	/* Firmware may leave the PIT ticking on IRQ0 at the 8259's BIOS
	 * vector 8 (SeaBIOS does, under QEMU): remap and mask the PICs
	 * before interrupts are enabled, or a tick arrives as "#DF". */
	pic_init();
	guest_check("lapic_init", lapic_init() == 0);
	guest_printf("base 0x%lx\n", lapic_base());
	guest_check("IA32_APIC_BASE: BSP and global enable",
	            (msr_read(0x1b) & 0x900) == 0x900 && (msr & 0x100));
	guest_check("SVR bit 8 set", (lapic_read(0xf0) & 0x100) != 0);
	uint32_t ver = lapic_read(0x30);
	guest_check("integrated APIC version 1xH", (ver & 0xf0) == 0x10);
	guest_check("at least 4 LVT entries", ((ver >> 16) & 0xff) >= 3);

	/* periodic */
	guest_check("bad divide rejected",
	            lapic_timer_start(LAPIC_PERIODIC, 3, 100000, 10) == -GUEST_EINVAL);
	guest_check("periodic start", lapic_timer_start(LAPIC_PERIODIC, 16, 100000, 10) == 0);
	guest_check("divide config 16 = 0011b", (lapic_read(0x3e0) & 0xb) == 0x3);
	guest_check("LVT timer: vector 0x30, periodic",
	            (lapic_read(0x320) & 0x700ff) == (0x20000 | 0x30));
	while (lapic_timer_ticks() < 10)
		irq_wait();
	guest_printf("got %lu ticks\n", lapic_timer_ticks());
	guest_check("LVT masked at the limit", (lapic_read(0x320) & 0x10000) != 0);
	guest_check("ISR bit 0x30 clear after EOI", (lapic_read(0x110) & 0x10000) == 0);
	lapic_timer_stop();
	guest_check("stopped: current count 0", lapic_read(0x390) == 0);

	/* one-shot, with the PIT as the clock that measures the wait */
	guest_check("pit as clock", pit_start(1000, 0) == 0);
	pit_stop();
	guest_check("one-shot start", lapic_timer_start(LAPIC_ONESHOT, 16, 50000, 0) == 0);
	guest_check("LVT timer: one-shot", (lapic_read(0x320) & 0x60000) == 0);
	while (lapic_timer_ticks() < 1)
		irq_wait();
	guest_check("one-shot current count 0", lapic_read(0x390) == 0);
	pit_wait_periods(20);
	guest_printf("one-shot: %lu interrupt(s) after 20 PIT periods\n", lapic_timer_ticks());
	lapic_timer_stop();

	return guest_check_status();
}
