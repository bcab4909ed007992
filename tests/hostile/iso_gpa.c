/*
 * iso_gpa.c — a guest that reaches for guest-physical addresses outside
 * its RAM: every access gets what a PC bus with nobody behind the address
 * gives (reads float to all ones, writes vanish), or the architectural
 * #PF; nothing ever reaches memory that is not the guest's.
 *
 * SDM Vol. 3A:
 *  - 4.1.4: MAXPHYADDR is CPUID.80000008H:EAX[7:0]; a gpa below it that
 *    no memory or device decodes is still a valid physical address.
 *  - 4.5, Tables 4-15..4-19: paging-structure entries are read from
 *    physical memory; an entry read from an address nobody decodes is
 *    all ones, so it is present with reserved bits (51:MAXPHYADDR) set:
 *    #PF with P=1 and RSVD=1 (4.7), error code 0x9 for a read, 0xb for a
 *    write.
 * The all-ones / lost-write answer for unassigned addresses is the
 * platform's (the PC's bus, QEMU's pc machine; hvlab run's vmm/bus.c).
 *
 * Probed, each through this guest's own window (tests/hostile/iso.h):
 * the first 2 MiB past RAM (64 MiB under -m 64), 3 GiB (the PCI hole:
 * no BAR there), 4 GiB (no RAM above 4 GiB), the last 2 MiB below
 * 2^MAXPHYADDR; and page tables placed at unassigned addresses (a PDE
 * and a PML4E whose next table is at 3 GiB).
 *
 * Expected serial output: tests/hostile/iso_gpa.expect.
 * Expected exit status: 1 (guest_exit(0)).
 * QEMU 7.2's pc machine reads unassigned addresses as 0, not all ones
 * (a platform choice, not the SDM's; so its page-table probes see
 * not-present entries, #PF 0x0/0x2): iso_gpa.qemu.expect.
 * Expected exit status on QEMU: 3
 */
#include "tests/hostile/iso.h"

/* End of the RAM the multiboot information reports above 1 MiB
 * (Multiboot 0.6.96 3.3, mem_upper in KiB), rounded up to 2 MiB. */
static uint64_t ram_end(void)
{
	const volatile uint32_t *mbi = (const uint32_t *)(uintptr_t)guest_mb_info;
	const uint64_t end = MiB + (uint64_t)mbi[2] * 1024;
	return (end + 2 * MiB - 1) & ~(2 * MiB - 1);
}

/* Read, write, read again: all ones both times, the write without a fault. */
static void unassigned(const char *what, unsigned k, uint64_t gpa)
{
	const uint64_t va = iso_map_2m(k, gpa, PTE_P | PTE_RW | PTE_PS) + 0x800;
	guest_printf("-- %s\n", what);
	iso_expect_read("  read", va, ONES32);
	iso_expect_write("  write", va);
	iso_expect_read("  read after the write", va, ONES32);
}

int guest_main(void)
{
	const unsigned maxphy = iso_maxphyaddr();
	iso_window_init();

	unassigned("first 2 MiB past RAM", 0, ram_end());
	unassigned("3 GiB (PCI hole)", 1, 3 * GiB);
	unassigned("4 GiB (no RAM above 4 GiB)", 2, 4 * GiB);
	unassigned("last 2 MiB below 2^MAXPHYADDR", 3, (1ull << maxphy) - 2 * MiB);

	/* A PDE whose page table is at 3 GiB: the PTE reads as all ones. */
	guest_printf("-- page table at an unassigned gpa\n");
	iso_pd[4] = 3 * GiB | PTE_P | PTE_RW;
	invlpg((void *)(uintptr_t)(ISO_VA + 4 * 2 * MiB));
	iso_expect_pf("  read", TOUCH_READ, ISO_VA + 4 * 2 * MiB + 0x10, PF_P | PF_RSVD);
	iso_expect_pf("  write", TOUCH_WRITE, ISO_VA + 4 * 2 * MiB + 0x10, PF_P | PF_W | PF_RSVD);
	iso_pd[4] = 0;
	invlpg((void *)(uintptr_t)(ISO_VA + 4 * 2 * MiB));

	/* A PML4E whose PDPT is at 3 GiB: the PDPTE reads as all ones. */
	guest_printf("-- PDPT at an unassigned gpa\n");
	guest_pml4[2] = 3 * GiB | PTE_P | PTE_RW;
	write_cr3(read_cr3());
	iso_expect_pf("  read", TOUCH_READ, 2 * 512 * GiB + 0x20, PF_P | PF_RSVD);
	guest_pml4[2] = 0;
	write_cr3(read_cr3());

	/* RAM is still RAM: the window maps 32 MiB, a word written through
	 * the identity map reads back through it. */
	guest_printf("-- RAM through the window\n");
	*(volatile uint32_t *)(uintptr_t)(32 * MiB + 0x800) = 0x1234abcd;
	iso_expect_read("  read", iso_map_2m(5, 32 * MiB, PTE_P | PTE_RW | PTE_PS) + 0x800,
			0x1234abcd);

	iso_window_fini();
	guest_printf("iso_gpa: %s\n", guest_check_status() ? "MISMATCH" : "all match");
	return guest_check_status();
}
