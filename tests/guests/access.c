/*
 * access.c — every permutation of paging bits and controls under 4-level
 * paging, checked against the SDM's rules (tests/guests32/access_model.h
 * has the rules, what is asserted and which permutations run).
 *
 * SDM Vol. 3A 4.5 (4-level paging), 4.6.1 (access rights with CR0.WP,
 * EFER.NXE, CR4.SMEP, CR4.SMAP and RFLAGS.AC), 4.7 (#PF error code and
 * CR2), 4.8 (A and D), 4.10.4.1 (INVLPG).
 *
 * Layout: the page under test is VA 512 GiB (PML4 entry 1, unused by the
 * runtime), translated by this file's PDPT, page directory and page table
 * (PDPT entry 0, PDE 0, PTE 0). The PML4E and PDPTE are P|R/W|U/S with A
 * clear; the PDE and PTE carry the bits under test. The PTE and a 2 MiB
 * PDE both map the frame at 32 MiB, whose first byte is a RET and whose
 * word at 0x800 is what reads and writes use; the runtime reaches it
 * through its own supervisor identity map. vm_init() makes the image's
 * .user pages (touch.S's ring-3 stubs and stack) the only user pages of
 * the identity map, so ring 0 neither fetches from nor touches a user
 * page whatever SMEP and SMAP say. CR4.PGE=1 so G is live.
 *
 * QEMU options: -cpu max
 * (QEMU's default CPU model has neither SMEP nor SMAP.)
 *
 * Expected serial output: tests/guests/access.expect (a CPU with XD, SMEP
 * and SMAP: QEMU's "max" and hvlab's).
 * Expected exit status: 1 (guest_exit(0)).
 * QEMU 7.2 clears P in the error code of a reserved-bit #PF
 * (docs/qemu-deviations.md, row 1): access.qemu.expect.
 * Expected exit status on QEMU: 3
 */
#include "guests/guest.h"
#include "guests/touch.h"
#include "../guests32/access_model.h"

#define VA		0x0000008000000000ull	/* PML4 entry 1 */
#define FRAME		0x02000000ull		/* 32 MiB: 2 MiB aligned */
#define CR0_WP		(1ull << 16)
#define CR4_PGE		(1ull << 7)
#define CR4_SMEP	(1ull << 20)
#define CR4_SMAP	(1ull << 21)
#define MSR_EFER	0xC0000080u
#define EFER_NXE	(1ull << 11)

static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[512] __attribute__((aligned(4096)));
static uint64_t pt[512] __attribute__((aligned(4096)));

static void set_bit(uint64_t *v, uint64_t bit, bool on)
{
	*v = on ? *v | bit : *v & ~bit;
}

static void set_controls(const struct am_case *c)
{
	uint64_t cr0 = read_cr0(), cr4 = read_cr4(), efer = msr_read(MSR_EFER);

	set_bit(&cr0, CR0_WP, c->wp);
	set_bit(&cr4, CR4_SMEP, c->smep);
	set_bit(&cr4, CR4_SMAP, c->smap);
	set_bit(&efer, EFER_NXE, c->nxe);
	write_cr0(cr0);
	write_cr4(cr4);
	msr_write(MSR_EFER, efer);
}

/* Only entries that differ are written: under a shadow MMU that write-
 * protects guest tables every write is an exit. */
static void write_entries(const struct am_case *c)
{
	volatile uint64_t *e[] = { &guest_pml4[1], &pdpt[0], &pd[0], &pt[0] };

	for (unsigned i = 0; i < 4; i++)
		if (*e[i] != c->e[i])
			*e[i] = c->e[i];
	invlpg((void *)(uintptr_t)VA);
}

static void read_entries(uint64_t *e)
{
	volatile uint64_t *src[] = { &guest_pml4[1], &pdpt[0], &pd[0], &pt[0] };

	for (unsigned i = 0; i < 4; i++)
		e[i] = *src[i];
}

int guest_main(void)
{
	int err = vm_init();
	unsigned bad;

	if (err) {
		guest_printf("vm_init: %d\n", err);
		return GUEST_EXIT_FAIL;
	}
	touch_init();
	*(volatile uint8_t *)(uintptr_t)FRAME = 0xC3;	/* RET */
	write_cr4(read_cr4() | CR4_PGE);

	const struct am_ops ops = {
		.mode = AM_MODE_4L,
		.name = "4-level",
		.n = 4,
		.va = VA,
		.upper = {
			(uint64_t)(uintptr_t)pdpt | AM_P | AM_RW | AM_US,
			(uint64_t)(uintptr_t)pd | AM_P | AM_RW | AM_US,
		},
		.pde_table = (uint64_t)(uintptr_t)pt,
		.frame = FRAME,
		.set_controls = set_controls,
		.write_entries = write_entries,
		.read_entries = read_entries,
		.word = (volatile uint32_t *)(uintptr_t)(FRAME + AM_DATA_OFF),
	};
	bad = am_run(&ops);

	/* Back to the runtime's state (guests.md): WP=1, NXE as boot.S
	 * left it, no SMEP/SMAP, PML4 entry 1 not present. */
	struct am_case c = { .wp = true, .nxe = am_cpu_has(0x80000001u, 3, 20) };
	set_controls(&c);
	guest_pml4[1] = 0;
	write_cr3(read_cr3());
	guest_printf("access: %s\n", bad ? "MISMATCH" : "all match the SDM");
	return bad ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
