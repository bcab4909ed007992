/*
 * dos_triple.c — a guest that shuts its processor down (issue 8, denial).
 *
 * The guest loads an IDT whose limit is 0 and executes UD2. Delivering
 * the #UD needs gate 6, beyond the limit: #GP (SDM Vol. 3A 6.10, 6.14.1);
 * delivering that #GP needs gate 13, beyond the limit too: a contributory
 * exception during the delivery of another is a double fault (6.15,
 * Table 6-5); gate 8 is beyond the limit as well, and a fault while
 * delivering #DF shuts the processor down ("Interrupt 8", triple fault;
 * 6.15). Nothing after the UD2 runs.
 *
 * hvlab run ends with status 6 (docs/run.md: triple fault, as QEMU with
 * -no-reboot); QEMU with -no-reboot exits with status 0 after the reset
 * the shutdown causes (docs/guests.md).
 *
 * Expected serial output: tests/hostile/dos_triple.expect.
 * Expected exit status: 6
 * Expected exit status on QEMU: 0
 */
#include "guests/guest.h"

int guest_main(void)
{
	static const struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} empty_idt = { 0, 0 };

	guest_printf("dos_triple: IDT limit 0, then UD2: #UD -> #GP -> #DF -> shutdown\n");
	__asm__ volatile("lidt %0\n\tud2" : : "m"(empty_idt));
	guest_printf("dos_triple: still running after the shutdown\n");
	return GUEST_EXIT_FAIL;
}
