/*
 * access32.c — every permutation of paging bits and controls under 32-bit
 * paging (CR4.PSE=1: 4 MiB pages), checked against the SDM's rules
 * (access_model.h has the rules, what is asserted and which permutations
 * run).
 *
 * SDM Vol. 3A 4.3 (32-bit paging; Tables 4-4..4-6), 4.6.1 (access rights
 * with CR0.WP, CR4.SMEP, CR4.SMAP and EFLAGS.AC; EFER.NXE does not apply to
 * 32-bit paging, whose entries have no XD bit), 4.7 (#PF error code: I/D
 * only with SMEP here, since CR4.PAE=0), 4.8 (A and D), 4.10.4.1 (INVLPG).
 * EFER.NXE is still switched (where CPUID.80000001H:EDX[20] says it
 * exists): it must change nothing.
 *
 * Layout: 0-4 MiB identity-mapped with 4 KiB pages, supervisor except the
 * image's .user pages (touch32.S's ring-3 stubs and stack), so ring 0
 * neither fetches from nor touches a user page whatever SMEP and SMAP
 * say; 32 MiB identity-mapped by a supervisor 4 MiB page (the frame's
 * ring-0 view). The page under test is VA 1 GiB: its PDE (a 4 MiB page
 * at 32 MiB, or a page table) and the PTE 0 of that table (the first
 * 4 KiB of the same frame) carry the bits under test. The frame holds a
 * RET at offset 0 and the word reads and writes use at 0x800. CR4.PGE=1
 * so G is live.
 *
 * QEMU options: -cpu max
 * (QEMU's default CPU model has neither SMEP nor SMAP.)
 *
 * Expected serial output: tests/guests32/access32.expect (a CPU with XD,
 * SMEP and SMAP: QEMU's "max" and hvlab's).
 * Expected exit status: 1 (guest_exit(0)).
 */
#include "guests32/guest32.h"
#include "guests/touch.h"
#include "access_model.h"

#define VA		0x40000000u
#define FRAME		0x02000000u	/* 32 MiB: 4 MiB aligned */
#define MiB		0x100000u
#define CR4_PGE		0x00000080u
#define CR4_SMEP	0x00100000u
#define CR4_SMAP	0x00200000u

static struct pt32 as;
static uint32_t *pt;		/* the page table under the PDE of VA */
static bool has_nx;

static uint32_t with(uint32_t v, uint32_t bit, bool on)
{
	return on ? v | bit : v & ~bit;
}

static void set_controls(const struct am_case *c)
{
	write_cr0(with(read_cr0(), CR0_WP, c->wp));
	write_cr4(with(with(read_cr4(), CR4_SMEP, c->smep), CR4_SMAP, c->smap));
	if (has_nx) {
		uint64_t efer = msr_read(MSR_EFER);
		msr_write(MSR_EFER, c->nxe ? efer | EFER_NXE : efer & ~(uint64_t)EFER_NXE);
	}
}

/* Only entries that differ are written: under a shadow MMU that write-
 * protects guest tables every write is an exit. */
static void write_entries(const struct am_case *c)
{
	volatile uint32_t *e[] = { pt32_pde(&as, VA), &pt[0] };

	for (unsigned i = 0; i < 2; i++)
		if (*e[i] != (uint32_t)c->e[i])
			*e[i] = (uint32_t)c->e[i];
	invlpg(VA);
}

static void read_entries(uint64_t *e)
{
	e[0] = *(volatile uint32_t *)pt32_pde(&as, VA);
	e[1] = *(volatile uint32_t *)&pt[0];
}

int guest_main(void)
{
	const uint32_t ustart = (uint32_t)__user32_start, uend = (uint32_t)__user32_end;
	unsigned bad;

	has_nx = am_cpu_has(0x80000001u, 3, 20);
	pt32_init(&as);
	for (uint32_t pa = 0; pa < 4 * MiB; pa += PAGE32_SIZE)
		pt32_map(&as, pa, pa, PTE32_P | PTE32_RW |
			 (pa >= ustart && pa < uend ? PTE32_US : 0));
	pt32_map_4m(&as, FRAME, FRAME, PTE32_P | PTE32_RW);
	pt = (uint32_t *)frame_alloc();
	*(volatile uint8_t *)FRAME = 0xC3;	/* RET */
	touch_init();
	pt32_enable(&as);
	write_cr4(read_cr4() | CR4_PGE);

	const struct am_ops ops = {
		.mode = AM_MODE_32,
		.name = "32-bit",
		.n = 2,
		.va = VA,
		.pde_table = (uint32_t)pt,
		.frame = FRAME,
		.set_controls = set_controls,
		.write_entries = write_entries,
		.read_entries = read_entries,
		.word = (volatile uint32_t *)(FRAME + AM_DATA_OFF),
	};
	bad = am_run(&ops);

	const struct am_case off = { .wp = false };
	set_controls(&off);
	paging32_disable();
	guest_printf("access32: %s\n", bad ? "MISMATCH" : "all match the SDM");
	return bad ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
