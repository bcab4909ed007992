/*
 * dos_ioflood.c — a flood of port I/O exits (issue 8, denial).
 *
 * Every IN and OUT a guest executes exits to hvlab (unconditional I/O
 * exiting, SDM Vol. 3C 26.1.3 / 25.6.2; the I/O permission map, APM
 * Vol. 2 15.10.1), so a guest that does nothing else makes the host do
 * all the work. The guest issues, each in a tight loop:
 *
 *   - 25,000 OUTs and 25,000 INs of a byte to port 0x0f00, which no
 *     device decodes: writes vanish, reads give all ones (the ISA bus
 *     floats high; docs/run.md "Devices");
 *   - 25,000 writes and 25,000 reads of the 16550's scratch register
 *     (0x3ff, SCR: any byte written reads back, PC16550D datasheet
 *     "Scratchpad Register");
 *   - 8 REP OUTSB and 8 REP INSB of 4,096 bytes each to port 0x0f00
 *     (string I/O: one element per iteration, Vol. 2B INS/OUTS); every
 *     byte INSB stores is all ones;
 *   - 8 REP STOSB of 4,096 bytes to physical 0xfeb00000, where the pc
 *     machine has no device (writes to it are dropped): under hvlab one
 *     MMIO exit per element.
 *
 * A REP string instruction that exits once per element retires only with
 * its last element: hvlab must see the count register move as progress
 * (core/run.c, loop detection), not a loop.
 *
 * Each check prints one line; the counts do not depend on the runner, so
 * QEMU TCG prints the same. tests/run/hostile.sh checks hvlab's io_exits.
 *
 * Expected serial output: tests/hostile/dos_ioflood.expect.
 * Expected exit status: 1
 */
#include "guests/guest.h"

#define UNCLAIMED	0x0f00
#define COM1_SCR	0x3ff
#define N		25000u
#define STR_LEN		4096u
#define STR_REPS	8u
#define NO_DEVICE	0xfeb00000ull	/* identity-mapped by boot.S */

static uint8_t buf[STR_LEN];

static void flood_unclaimed(void)
{
	unsigned not_ones = 0;
	for (unsigned i = 0; i < N; i++)
		outb(UNCLAIMED, (uint8_t)i);
	for (unsigned i = 0; i < N; i++)
		not_ones += inb(UNCLAIMED) != 0xff;
	guest_printf("port 0x0f00: %u OUTs, %u INs, reads not all ones: %u\n", N, N, not_ones);
	guest_check("unclaimed port reads all ones every time", not_ones == 0);
}

static void flood_scratch(void)
{
	unsigned wrong = 0;
	for (unsigned i = 0; i < N; i++) {
		outb(COM1_SCR, (uint8_t)(i * 7 + 1));
		wrong += inb(COM1_SCR) != (uint8_t)(i * 7 + 1);
	}
	guest_printf("COM1 scratch: %u writes, %u reads, wrong read-backs: %u\n", N, N, wrong);
	guest_check("scratch register reads back every byte", wrong == 0);
}

static void flood_string(void)
{
	unsigned not_ones = 0;
	for (unsigned r = 0; r < STR_REPS; r++) {
		for (unsigned i = 0; i < STR_LEN; i++)
			buf[i] = (uint8_t)(i + r);
		const void *s = buf;
		uint64_t n = STR_LEN;
		__asm__ volatile("cld; rep outsb" : "+S"(s), "+c"(n) : "d"(UNCLAIMED) : "memory");
		void *d = buf;
		n = STR_LEN;
		__asm__ volatile("cld; rep insb" : "+D"(d), "+c"(n) : "d"(UNCLAIMED) : "memory");
		for (unsigned i = 0; i < STR_LEN; i++)
			not_ones += buf[i] != 0xff;
	}
	guest_printf("port 0x0f00: %u REP OUTSB and %u REP INSB of %u bytes, bytes not all ones: %u\n",
		     STR_REPS, STR_REPS, STR_LEN, not_ones);
	guest_check("REP INSB from the unclaimed port stores all ones", not_ones == 0);
}

static void flood_mmio(void)
{
	for (unsigned r = 0; r < STR_REPS; r++) {
		void *d = (void *)(uintptr_t)NO_DEVICE;
		uint64_t n = STR_LEN;
		__asm__ volatile("cld; rep stosb" : "+D"(d), "+c"(n) : "a"(r) : "memory");
	}
	guest_printf("0xfeb00000: %u REP STOSB of %u bytes\n", STR_REPS, STR_LEN);
}

int guest_main(void)
{
	flood_unclaimed();
	flood_scratch();
	flood_string();
	flood_mmio();
	return guest_check_status();
}
