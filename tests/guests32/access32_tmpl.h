/*
 * access32_tmpl.h — the body of the 32-bit access-permutation tests,
 * written once for both table formats of 32-bit protected mode (as
 * mmu/gwalk_tmpl.h and guests/ptstress_tmpl.h are): access32.c (32-bit
 * paging, 4 MiB pages) and access_pae.c (PAE paging, 2 MiB pages) each
 * define, then include this file:
 *
 *   AT_ENTRY          the entry type (uint32_t, uint64_t)
 *   AT_SPACE          the address-space type of guests32/ (pt32, pae)
 *   AT_PDE(as, va)    a pointer to the PDE of @va
 *   AT_INIT, AT_MAP, AT_MAP_LARGE, AT_ENABLE(as, nx)   guests32/ calls
 *   AT_HAS_NX()       does the CPU have XD (CPUID.80000001H:EDX[20])
 *   AT_MODE, AT_NAME, AT_TEST    access_model.h's mode, its name, the
 *                     test's name for the last line
 *
 * The layout, the rules and what is asserted: the including file's
 * header and access_model.h.
 */
#define VA		0x40000000u
#define FRAME		0x02000000u	/* 32 MiB: 4 MiB (and 2 MiB) aligned */
#define MiB		0x100000u
#define CR4_PGE		0x00000080u
#define CR4_SMEP	0x00100000u
#define CR4_SMAP	0x00200000u

static struct AT_SPACE as;
static AT_ENTRY *pt;		/* the page table under the PDE of VA */
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
	volatile AT_ENTRY *e[] = { AT_PDE(&as, VA), &pt[0] };

	for (unsigned i = 0; i < 2; i++)
		if (*e[i] != (AT_ENTRY)c->e[i])
			*e[i] = (AT_ENTRY)c->e[i];
	invlpg(VA);
}

static void read_entries(uint64_t *e)
{
	e[0] = *(volatile AT_ENTRY *)AT_PDE(&as, VA);
	e[1] = *(volatile AT_ENTRY *)&pt[0];
}

int guest_main(void)
{
	const uint32_t ustart = (uint32_t)__user32_start, uend = (uint32_t)__user32_end;
	unsigned bad;

	has_nx = AT_HAS_NX();
	AT_INIT(&as);
	for (uint32_t pa = 0; pa < 4 * MiB; pa += PAGE32_SIZE)
		AT_MAP(&as, pa, pa, PTE32_P | PTE32_RW |
		       (pa >= ustart && pa < uend ? PTE32_US : 0));
	AT_MAP_LARGE(&as, FRAME, FRAME, PTE32_P | PTE32_RW);
	pt = (AT_ENTRY *)frame_alloc();
	*(volatile uint8_t *)FRAME = 0xC3;	/* RET */
	touch_init();
	AT_ENABLE(&as, has_nx);
	write_cr4(read_cr4() | CR4_PGE);

	const struct am_ops ops = {
		.mode = AT_MODE,
		.name = AT_NAME,
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
	guest_printf(AT_TEST ": %s\n", bad ? "MISMATCH" : "all match the SDM");
	return bad ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
