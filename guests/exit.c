/*
 * exit.c — ending the machine, and the C entry the boot path calls.
 *
 * QEMU's isa-debug-exit device (-device isa-debug-exit,iobase=0xf4,
 * iosize=4) ends QEMU with exit status (v << 1) | 1 when the guest writes
 * v to its port; `hvlab run` implements the same convention. Without the
 * device the write is ignored and the CPU halts with interrupts off, so a
 * misconfigured run hangs into its timeout instead of running on.
 */
#include "guests/guest.h"

#define DEBUG_EXIT_PORT	0xf4

void guest_exit(unsigned code)
{
	outl(DEBUG_EXIT_PORT, code);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void guest_start(void);	/* called from boot.S only */

void guest_start(void)
{
	serial_init();
	gdt_init();
	idt_init();
	guest_exit((unsigned)guest_main());
}
