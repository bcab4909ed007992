/*
 * iso_cr3.c — CR3 loaded with an address nothing decodes (3 GiB): every
 * walk starts from a PML4 read from there. It must end in the
 * architecture's way, a triple fault, and never read a table from
 * anywhere else.
 *
 * SDM Vol. 3A 4.5: the PML4 is read from the physical address in CR3;
 * an unassigned address reads as all ones on a PC (hvlab run's
 * vmm/bus.c), making every PML4E present with reserved bits set (#PF
 * RSVD, 4.7), or as 0 under QEMU (not present): either way the next
 * fetch faults, delivering #PF needs the IDT through the same paging
 * (6.12.1) and faults again: #DF (6.15, Interrupt 8, contributory and
 * page-fault classes), whose delivery faults too: shutdown (triple fault,
 * 6.15). hvlab run ends with status 6; QEMU with -no-reboot exits 0.
 *
 * Expected serial output: tests/hostile/iso_cr3.expect.
 * Expected exit status: 6
 * Expected exit status on QEMU: 0
 */
#include "guests/guest.h"

int guest_main(void)
{
	guest_printf("CR3 := 3 GiB\n");
	write_cr3(3ull << 30);
	guest_printf("still running: WRONG\n");
	return GUEST_EXIT_FAIL;
}
