/*
 * iso_paging.c — hostile 4-level page tables: reserved bits at every
 * level, a PML4 that maps itself, and a loop in the paging structures.
 * Each must give the architectural #PF or translation, change only the
 * guest's own entries, and end (a walk has fixed depth).
 *
 * SDM Vol. 3A:
 *  - 4.5.4 and Tables 4-15..4-20: reserved bits of 4-level entries: bits
 *    51:MAXPHYADDR of every entry; PS (bit 7) of a PML4E; bits 29:13 of a
 *    PDPTE mapping 1 GiB (PS=1; without 1-GByte page support PS itself is
 *    reserved) and 20:13 of a PDE mapping 2 MiB; bit 63 (XD) when
 *    EFER.NXE=0 (4.6.2). A walk that meets one ends in #PF with P=1,
 *    RSVD=1 (4.7): 0x9 for a read, 0xb for a write.
 *  - 4.5: the walk takes exactly four entries (PML4E, PDPTE, PDE, PTE),
 *    each locating the next table by its address bits only, so an entry
 *    that points back at the PML4 (a self-map) makes the PML4 act as a
 *    PDPT, PD or page table, and a PDPTE pointing at the PML4 makes a
 *    loop the walk goes round once, never forever.
 *  - 4.10.4.1: INVLPG after an entry changes; 4.10.4.3 MOV to CR3 flushes
 *    the non-global entries (the runtime uses none).
 *
 * Window (tests/hostile/iso.h): PML4E 1 -> iso_pdpt -> iso_pd -> iso_pt
 * -> the frame at 32 MiB. Self-map: PML4E 510 = the PML4. Loop: PDPTE 5
 * of the runtime's PDPT (VA 5 GiB) = the PML4.
 *
 * Expected serial output: tests/hostile/iso_paging.expect.
 * Expected exit status: 1 (guest_exit(0)).
 * QEMU 7.2 clears P in the error code of a reserved-bit #PF
 * (docs/qemu-deviations.md, row 1): iso_paging.qemu.expect.
 * Expected exit status on QEMU: 3
 */
#include "tests/hostile/iso.h"

#define FRAME		(32 * MiB)
#define VA		(ISO_VA_4K + 0x800)	/* iso_pt[0] -> FRAME, offset 0x800 */
#define MSR_EFER	0xC0000080u
#define EFER_NXE	(1ull << 11)
#define AD		(PTE_A | PTE_D)
#define SELF		510u
#define CANON(va)	((va) & (1ull << 47) ? (va) | 0xffff000000000000ull : (va))
/* The VA whose walk takes PML4E a, then entries b, c, d of the tables
 * each one locates. */
#define VA4(a, b, c, d)	CANON((uint64_t)(a) << 39 | (uint64_t)(b) << 30 | \
			      (uint64_t)(c) << 21 | (uint64_t)(d) << 12)

static volatile uint64_t *const level[4] = {
	&guest_pml4[1], &iso_pdpt[0], &iso_pd[511], &iso_pt[0],
};
static const char *const level_name[4] = { "PML4E", "PDPTE", "PDE", "PTE" };

/* Set @bits in the entry of @lvl, probe, restore. */
static void rsvd(const char *why, unsigned lvl, uint64_t bits, unsigned acc)
{
	char what[80];
	const uint64_t old = *level[lvl];
	*level[lvl] = old | bits;
	write_cr3(read_cr3());
	unsigned i = 0;	/* what = "LEVEL WHY" */
	for (const char *p = level_name[lvl]; *p && i < sizeof(what) - 2; p++)
		what[i++] = *p;
	what[i++] = ' ';
	for (const char *p = why; *p && i < sizeof(what) - 1; p++)
		what[i++] = *p;
	what[i] = 0;
	iso_expect_pf(what, acc, VA, PF_P | PF_RSVD | (acc == TOUCH_WRITE ? PF_W : 0));
	*level[lvl] = old;
	write_cr3(read_cr3());
}

/* The runtime's tables without A and D (the processor sets those). */
static uint64_t snap[1 + 1 + 4][512];
static void snapshot(uint64_t (*s)[512])
{
	const volatile uint64_t *t[6] = { guest_pml4, guest_pdpt, guest_pd[0], guest_pd[1],
					   guest_pd[2], guest_pd[3] };
	for (unsigned i = 0; i < 6; i++)
		for (unsigned j = 0; j < 512; j++)
			s[i][j] = t[i][j] & ~AD;
}
/* How many entries differ from the snapshot. */
static unsigned changed(void)
{
	static uint64_t now[6][512];
	unsigned n = 0;
	snapshot(now);
	for (unsigned i = 0; i < 6; i++)
		for (unsigned j = 0; j < 512; j++)
			n += now[i][j] != snap[i][j];
	return n;
}

static void reserved_bits(void)
{
	const unsigned maxphy = iso_maxphyaddr();
	guest_printf("-- reserved bits\n");
	*(volatile uint32_t *)(uintptr_t)(FRAME + 0x800) = 0x32323232;
	iso_map_4k(0, FRAME, PTE_P | PTE_RW);
	iso_expect_read("clean walk", VA, 0x32323232);
	for (unsigned l = 0; l < 4; l++) {
		if (maxphy < 52)
			rsvd("bit MAXPHYADDR", l, 1ull << maxphy, TOUCH_READ);
		rsvd("bit 51", l, 1ull << 51, TOUCH_READ);
		rsvd("bit 51, write", l, 1ull << 51, TOUCH_WRITE);
	}
	rsvd("PS", 0, PTE_PS, TOUCH_READ);
	/* A 1 GiB PDPTE with bit 13 (29:13 reserved; or PS itself is). */
	const uint64_t pdpte = iso_pdpt[0];
	iso_pdpt[0] = PTE_P | PTE_RW | PTE_PS | (1ull << 13);
	write_cr3(read_cr3());
	iso_expect_pf("PDPTE PS=1 bit 13", TOUCH_READ, VA, PF_P | PF_RSVD);
	iso_pdpt[0] = pdpte;
	/* A 2 MiB PDE with bit 13 (20:13 reserved). */
	iso_pd[511] = FRAME | PTE_P | PTE_RW | PTE_PS | (1ull << 13);
	write_cr3(read_cr3());
	iso_expect_pf("PDE PS=1 bit 13", TOUCH_READ, VA, PF_P | PF_RSVD);
	iso_pd[511] = FRAME | PTE_P | PTE_RW | PTE_PS | (1ull << 20);
	write_cr3(read_cr3());
	iso_expect_pf("PDE PS=1 bit 20", TOUCH_READ, VA, PF_P | PF_RSVD);
	iso_pd[511] = (uint64_t)(uintptr_t)iso_pt | PTE_P | PTE_RW;
	write_cr3(read_cr3());
	/* XD with EFER.NXE=0: reserved at every level. */
	const uint64_t efer = msr_read(MSR_EFER);
	msr_write(MSR_EFER, efer & ~EFER_NXE);
	for (unsigned l = 0; l < 4; l++)
		rsvd("XD, EFER.NXE=0", l, PTE_NX, TOUCH_READ);
	msr_write(MSR_EFER, efer);
	iso_expect_read("clean walk again", VA, 0x32323232);
}

static void self_map(void)
{
	guest_printf("-- PML4 entry 510 maps the PML4\n");
	snapshot(snap);
	guest_pml4[SELF] = (uint64_t)(uintptr_t)guest_pml4 | PTE_P | PTE_RW;
	write_cr3(read_cr3());
	/* As a table of each level: the PML4 itself, the PDPT, PD 0. */
	iso_read_as("PML4 through 510/510/510/510, entry 0",
			VA4(SELF, SELF, SELF, SELF), (uint32_t)guest_pml4[0], false);
	iso_read_as("PML4 through 510/510/510/510, entry 510",
			VA4(SELF, SELF, SELF, SELF) + 8 * SELF, (uint32_t)guest_pml4[SELF], false);
	iso_read_as("PDPT through 510/510/510/0, entry 0",
			VA4(SELF, SELF, SELF, 0), (uint32_t)guest_pdpt[0], false);
	iso_read_as("PD 0 through 510/510/0/0, entry 13",
			VA4(SELF, SELF, 0, 0) + 8 * 13, (uint32_t)guest_pd[0][13], false);
	/* Write PDE 13 (26 MiB) through the self-map: 26 MiB -> frame of 28 MiB. */
	*(volatile uint32_t *)(uintptr_t)(28 * MiB) = 0x28282828;
	*(volatile uint32_t *)(uintptr_t)(26 * MiB) = 0x26262626;
	volatile uint64_t *pde13 = (volatile uint64_t *)(uintptr_t)(VA4(SELF, SELF, 0, 0) + 8 * 13);
	const uint64_t old = *pde13;
	*pde13 = (old & ~PTE_ADDR) | 28 * MiB;
	invlpg((void *)(uintptr_t)(26 * MiB));
	guest_expect("the write changed the guest's PDE 13", guest_pd[0][13] & PTE_ADDR, 28 * MiB);
	guest_expect("26 MiB now reads the frame of 28 MiB",
		     *(volatile uint32_t *)(uintptr_t)(26 * MiB), 0x28282828);
	guest_expect("entries changed besides PML4E 510 and PDE 13", changed(), 2);
	*pde13 = old;
	invlpg((void *)(uintptr_t)(26 * MiB));
	guest_expect("26 MiB reads its own frame again",
		     *(volatile uint32_t *)(uintptr_t)(26 * MiB), 0x26262626);
	guest_pml4[SELF] = 0;
	write_cr3(read_cr3());
	guest_expect("entries changed after undoing both", changed(), 0);
	iso_expect_pf("510/510/510/510 not present again", TOUCH_READ,
		      VA4(SELF, SELF, SELF, SELF), 0);
}

static void loop(void)
{
	guest_printf("-- PDPTE 5 points back at the PML4\n");
	iso_window_fini();	/* PML4E 1 not present */
	snapshot(snap);
	guest_pdpt[5] = (uint64_t)(uintptr_t)guest_pml4 | PTE_P | PTE_RW;
	write_cr3(read_cr3());
	/* PML4E 0 -> PDPT; PDPTE 5 -> PML4 as a PD; its entry 0 -> PDPT as
	 * a page table; the PDPT's entry 0 / 5 -> PD 0 / the PML4 as pages. */
	iso_read_as("0/5/0/0 reads PD 0, entry 0", VA4(0, 5, 0, 0), (uint32_t)guest_pd[0][0], false);
	iso_read_as("0/5/0/5 reads the PML4, entry 0", VA4(0, 5, 0, 5),
			(uint32_t)guest_pml4[0], false);
	iso_expect_pf("0/5/1/0 meets PML4E 1, not present", TOUCH_READ, VA4(0, 5, 1, 0), 0);
	/* A write through the loop lands in the PML4, entry 3. */
	iso_expect_write("0/5/0/5 write to the PML4's entry 3", VA4(0, 5, 0, 5) + 8 * 3);
	guest_expect("PML4E 3 holds the value written", guest_pml4[3], TOUCH_WRITE_VALUE);
	guest_expect("entries changed besides PDPTE 5 and PML4E 3", changed(), 2);
	guest_pml4[3] = 0;
	guest_pdpt[5] = 0;
	write_cr3(read_cr3());
	guest_expect("entries changed after undoing both", changed(), 0);
}

int guest_main(void)
{
	iso_window_init();
	reserved_bits();
	self_map();
	loop();
	guest_printf("iso_paging: %s\n", guest_check_status() ? "MISMATCH" : "all match the SDM");
	return guest_check_status();
}
