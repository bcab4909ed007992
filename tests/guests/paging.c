/*
 * paging.c — the processor's side of page-table edits: accessed and
 * dirty flags, and INVLPG after a remap.
 *
 * SDM Vol. 3A:
 *  - 4.8: the processor sets the accessed flag (bit 5) in every
 *    paging-structure entry it uses for a translation, and the dirty flag
 *    (bit 6) in the entry that maps the page (here a 2 MiB PDE, PS=1) the
 *    first time a write goes through it. A read sets A, not D.
 *  - 4.10.4.1: INVLPG invalidates the TLB entries for the page, so after
 *    re-pointing a PDE and INVLPG the next access uses the new entry.
 *  - 4.10.2.3: the processor may cache a translation, so without INVLPG
 *    the old one may still be used; that case is not tested (either
 *    answer is allowed).
 *
 * The test uses the PDEs for 24, 26 and 28 MiB (free RAM under -m 64): it
 * clears A and D, flushes, reads and writes through them, and then points
 * the 24 MiB PDE at the frame of 28 MiB.
 *
 * Expected serial output: tests/guests/paging.expect.
 * Expected exit status: 1 (guest_exit(0)).
 */
#include "guests/guest.h"

#define PDE_A	(1ull << 5)
#define PDE_D	(1ull << 6)
#define MiB	(1ull << 20)
#define PDE_2M_FRAME	(((1ull << 52) - 1) & ~((1ull << 21) - 1))	/* bits 51:21, Table 4-18 */

static void set_pde(unsigned idx, uint64_t pde)
{
	guest_pd[0][idx] = pde;
	invlpg((void *)((uint64_t)idx << 21));
}

/* The CPU writes A and D behind the compiler's back: read PDEs through a
 * volatile pointer so the load stays after the access that sets the bit. */
static uint64_t pde(unsigned idx)
{
	return ((volatile uint64_t *)guest_pd[0])[idx];
}

static int expect(const char *what, bool got, bool want)
{
	guest_printf("%s: %s\n", what, got == want ? "ok" : "WRONG");
	return got == want ? 0 : 1;
}

int guest_main(void)
{
	volatile uint64_t *p24 = (volatile uint64_t *)(24 * MiB);
	volatile uint64_t *p26 = (volatile uint64_t *)(26 * MiB);
	volatile uint64_t *p28 = (volatile uint64_t *)(28 * MiB);
	int bad = 0;

	/* Clear A and D on the three PDEs and drop their TLB entries. */
	for (unsigned i = 12; i <= 14; i++)
		set_pde(i, guest_pd[0][i] & ~(PDE_A | PDE_D));

	(void)*p24;
	bad += expect("read sets A in the PDE", pde(12) & PDE_A, true);
	bad += expect("read leaves D clear", pde(12) & PDE_D, false);
	bad += expect("untouched PDE keeps A clear", pde(14) & PDE_A, false);

	*p26 = 0x2626;
	bad += expect("write sets A in the PDE", pde(13) & PDE_A, true);
	bad += expect("write sets D in the PDE", pde(13) & PDE_D, true);
	bad += expect("write sets A in the PDPTE", ((volatile uint64_t *)guest_pdpt)[0] & PDE_A, true);
	bad += expect("write sets A in the PML4E", ((volatile uint64_t *)guest_pml4)[0] & PDE_A, true);

	*p24 = 0x2424;
	*p28 = 0x2828;
	uint64_t old = guest_pd[0][12];
	set_pde(12, (old & ~PDE_2M_FRAME) | 28 * MiB);	/* 24 MiB -> frame of 28 MiB */
	bad += expect("after remap + INVLPG the new frame is read", *p24 == 0x2828, true);
	*p24 = 0x4242;
	bad += expect("a write through the alias lands in the new frame", *p28 == 0x4242, true);
	set_pde(12, old);
	bad += expect("after restore + INVLPG the old frame is read", *p24 == 0x2424, true);

	guest_printf("paging: %s\n", bad ? "MISMATCH" : "all match the SDM");
	return bad ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
