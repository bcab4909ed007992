/*
 * hello.c — the smallest guest: the boot path reached long mode, the
 * serial port prints, and the exit code gets through isa-debug-exit.
 *
 * Also checks what the boot path promises (guests/boot.S, docs/guests.md):
 * the multiboot magic in EAX at entry was 0x2BADB002 (Multiboot 0.6.96
 * §3.2) and EFER.LMA (IA32_EFER bit 10, SDM Vol. 3A 2.2.1) is 1.
 *
 * Expected serial output: tests/guests/hello.expect.
 * Expected exit status: 1 (guest_exit(0)).
 */
#include "guests/guest.h"

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

int guest_main(void)
{
	guest_printf("hello from a guest\n");
	if (guest_mb_magic != 0x2BADB002) {
		guest_printf("multiboot magic 0x%x, expected 0x2badb002\n", guest_mb_magic);
		return GUEST_EXIT_FAIL;
	}
	if (!(rdmsr(0xC0000080) & (1u << 10))) {
		guest_printf("EFER.LMA is 0: not in long mode\n");
		return GUEST_EXIT_FAIL;
	}
	guest_printf("printf: %d %u %x %lx %s %c %p %05d|%3s|\n", -42, 42u, 0xbeefu,
		     0x123456789abcdefUL, "str", 'c', (void *)0x1000, 7, "x");
	return GUEST_EXIT_PASS;
}
