/*
 * start32.c — the C entry of a 32-bit guest, and ending the machine.
 *
 * Same conventions as the 64-bit runtime (guests/exit.c): isa-debug-exit
 * at port 0xf4 ends the run with status (code << 1) | 1; without the
 * device the CPU halts with interrupts off and the run times out.
 */
#include "guests32/guest32.h"

#define DEBUG_EXIT_PORT	0xf4

void guest_exit(unsigned code)
{
	outl(DEBUG_EXIT_PORT, code);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void guest32_start(void);	/* called from boot32.S only */

void guest32_start(void)
{
	serial_init();
	gdt32_init();
	idt32_init();
	guest_exit((unsigned)guest_main());
}
