/*
 * iso_edge.c — accesses at the edge of a guest's RAM and through
 * unassigned guest-physical addresses that a hypervisor must emulate
 * piece by piece: an 8-byte load and store straddling the end of RAM,
 * a string copy from and to unassigned addresses, and a locked
 * read-modify-write there. (Not here: an instruction fetch from an
 * unassigned address; hvlab, as KVM, refuses to emulate one and ends the
 * run with an internal error, status 10, while QEMU runs the zeros it
 * reads there: neither is the SDM's to say.)
 *
 * SDM Vol. 3A 8.1.1 (accesses that cross a page or an aligned quadword
 * boundary are split; each part goes to its own physical address), Vol. 2
 * MOVS/REP (one element at a time, RSI/RDI advance), Vol. 2 XADD with
 * LOCK. What an unassigned address returns is the platform's: on a PC,
 * and in hvlab run (vmm/bus.c), reads float to all ones and writes
 * vanish.
 *
 * RAM's end: the end of the multiboot map's RAM above 1 MiB rounded up
 * to 1 MiB (RAM comes in whole MiB; the pc machine's reserved ACPI range
 * just below the end is RAM too): 64 MiB under -m 64. Any whole-MiB size
 * below 3 GiB gives the same output (hvlab run --mem 63M: a 2 MiB page
 * of the identity map straddles the end).
 *
 * Expected serial output: tests/hostile/iso_edge.expect.
 * Expected exit status: 1 (guest_exit(0)).
 * QEMU 7.2's pc machine reads unassigned addresses as 0:
 * iso_edge.qemu.expect.
 * Expected exit status on QEMU: 3
 */
#include "tests/hostile/iso.h"

static uint64_t ram_top(void)
{
	const volatile uint32_t *mbi = (const uint32_t *)(uintptr_t)guest_mb_info;
	return (MiB + (uint64_t)mbi[2] * 1024 + MiB - 1) & ~(MiB - 1);
}

int guest_main(void)
{
	const uint64_t top = ram_top();
	volatile uint64_t *edge = (volatile uint64_t *)(uintptr_t)(top - 4);
	volatile uint32_t *last = (volatile uint32_t *)(uintptr_t)(top - 4);
	static uint8_t buf[256];

	iso_window_init();
	guest_printf("-- 8 bytes across RAM's end\n");
	*last = 0x11223344;
	guest_expect("load: low half from RAM, high half all ones", *edge, 0xffffffff11223344ull);
	*edge = 0xaabbccdd55667788ull;
	guest_expect("store: the RAM half landed", *last, 0x55667788);
	guest_expect("store: the other half vanished", *edge >> 32, 0xffffffff);

	guest_printf("-- REP MOVSB from and to 3 GiB\n");
	const uint64_t va = iso_map_2m(0, 3 * GiB, PTE_P | PTE_RW | PTE_PS);
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	uint64_t n = sizeof(buf), s = va + 0x100, d = (uint64_t)(uintptr_t)buf;
	__asm__ volatile("rep movsb" : "+S"(s), "+D"(d), "+c"(n) : : "memory");
	unsigned ones = 0;
	for (unsigned i = 0; i < sizeof(buf); i++)
		ones += buf[i] == 0xff;
	guest_expect("bytes read as all ones", ones, sizeof(buf));
	guest_expect("RSI advanced by the count", s - va, 0x100 + sizeof(buf));
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	n = sizeof(buf), s = (uint64_t)(uintptr_t)buf, d = va + 0x200;
	__asm__ volatile("rep movsb" : "+S"(s), "+D"(d), "+c"(n) : : "memory");
	guest_expect("RDI advanced by the count", d - va, 0x200 + sizeof(buf));
	guest_expect("the copy vanished", *(volatile uint32_t *)(uintptr_t)(va + 0x200), ONES32);

	guest_printf("-- LOCK XADD at 3 GiB\n");
	uint32_t v = 5;
	__asm__ volatile("lock xaddl %0, (%1)" : "+r"(v) : "r"(va + 0x300) : "memory");
	guest_expect("old value all ones", v, ONES32);
	guest_expect("memory still all ones", *(volatile uint32_t *)(uintptr_t)(va + 0x300), ONES32);

	iso_window_fini();
	guest_printf("iso_edge: %s\n", guest_check_status() ? "MISMATCH" : "all match");
	return guest_check_status();
}
