/*
 * fp_tables.c — as many page tables as guest RAM holds, CR3 churn and
 * page-table write flooding (issue 8, footprint).
 *
 * The guest takes every free page (page_alloc() until fewer than a space
 * and a small reserve are left) and builds address spaces from them, at
 * most MAX_SPACES (what 536 MiB hold): each a PML4 (entry 0
 * the runtime's identity map, so the code keeps running; SDM Vol. 3A
 * 4.5), entry 1 -> a PDPT -> a PD -> PTS page tables, each with 512
 * present 4 KiB PTEs (4.5.4, Table 4-19), 512 GiB up. Every PTE maps one
 * of DATA frames, frame (s * 7 + k * 3 + i) mod DATA for space s, table
 * k, entry i, and the frame at physical address pa holds the tag
 * TAG + pa / 4096 in its first word: a read through any mapping tells
 * whether the translation was right. With
 * 64 MiB that is about 220 spaces and 7 million PTEs, with 256 MiB about
 * 950 spaces and 31 million.
 *
 * Then, against the guest's own model of what each PTE holds:
 *
 *   1. churn: CHURN loads of CR3 with a pseudo-random space's PML4
 *      (4.10.4.1: the load invalidates the old translations), READS
 *      reads at pseudo-random mappings after each;
 *   2. round robin: one CR3 load and one read in every space, ROUNDS
 *      times over;
 *   3. one more space whose PDs point at every page table of every
 *      space (a table under many PDs is allowed, 4.5): one read through
 *      each of BIG_READS tables spread over all, more tables than a
 *      shadow budget of 4,096 pages holds at once;
 *   4. write flooding in one space: FLOOD times, rewrite a PTE to
 *      another frame through the identity map (the tables are ordinary
 *      memory), INVLPG its address (4.10.4.1), read through it; FLOOD/4
 *      times, swap two PDEs, reload CR3, read through both; then FLOOD
 *      PTE and FLOOD PDE rewrites with no access between, a CR3 reload
 *      and reads through every table.
 *
 * A hypervisor must keep every one of these reads right whatever its
 * shadow tables hold; hvlab's shadow MMUs must also stay within their
 * page budget and reclaim (mmu_pages_peak, mmu_recycled, mmu_flooded:
 * tests/run/hostile.sh checks them with --stats json, and the RSS).
 * With "figures" on the command line the guest prints the sizes it
 * reached, which depend on RAM.
 *
 * Expected serial output: tests/hostile/fp_tables.expect.
 * Expected exit status: 1
 */
#include "guests/guest.h"

#define PTS		64u		/* page tables per space */
#define PAGES_PER_SPACE	(PTS + 3)	/* + PML4, PDPT, PD */
#define MAX_SPACES	2048u
#define DATA		61u		/* data frames (prime: mappings spread) */
#define RESERVE		32u		/* pages left to the runtime */
#define TAG		0x7a60000000000000ull
#define BASE_VA		VM_USER_BASE	/* PML4 entry 1 */
#define CHURN		2000u
#define READS		8u
#define ROUNDS		2u
#define FLOOD		4000u
#define BIG_READS	8192u		/* tables read through the big space: twice the
					 * default shadow budget */

struct space {
	uint64_t pml4, pd;
	uint64_t pt[PTS];	/* physical addresses = pointers (identity map) */
};

static struct space spaces[MAX_SPACES];
static unsigned nspaces;
static uint64_t data[DATA];
static uint64_t template[DATA + 512];	/* PTE j: frame j mod DATA */
static unsigned wrong;

static uint64_t rng = 0x2545f4914f6cdd1dull;

static unsigned frame_of(unsigned s, unsigned k, unsigned i)
{
	return (s * 7 + k * 3 + i) % DATA;
}

static uint64_t va_of(unsigned k, unsigned i)
{
	return BASE_VA + (uint64_t)k * 0x200000 + (uint64_t)i * PAGE_SIZE;
}

static uint64_t *pte_of(unsigned s, unsigned k, unsigned i)
{
	return (uint64_t *)(uintptr_t)spaces[s].pt[k] + i;
}

/* One space from @pages (PAGES_PER_SPACE of them, zeroed). */
static void build_space(unsigned s, const uint64_t *pages)
{
	struct space *sp = &spaces[s];
	uint64_t *pml4 = (uint64_t *)(uintptr_t)pages[0];
	uint64_t *pdpt = (uint64_t *)(uintptr_t)pages[1];
	uint64_t *pd = (uint64_t *)(uintptr_t)pages[2];
	sp->pml4 = pages[0];
	sp->pd = pages[2];
	pml4[0] = guest_pml4[0];
	pml4[1] = pages[1] | PTE_P | PTE_RW;
	pdpt[0] = pages[2] | PTE_P | PTE_RW;
	for (unsigned k = 0; k < PTS; k++) {
		sp->pt[k] = pages[3 + k];
		pd[k] = pages[3 + k] | PTE_P | PTE_RW;
		/* entries i = 0..511 map frames frame_of(s, k, 0) + i mod DATA:
		 * 512 consecutive entries of the template */
		const void *src = &template[frame_of(s, k, 0)];
		void *dst = (void *)(uintptr_t)pages[3 + k];
		uint64_t n = 512;
		__asm__ volatile("cld; rep movsq" : "+S"(src), "+D"(dst), "+c"(n) : : "memory");
	}
}

static void check_at(uint64_t va, const uint64_t *pte)
{
	const uint64_t want = TAG + (PTE_ADDR & *pte) / PAGE_SIZE;
	wrong += *(volatile uint64_t *)(uintptr_t)va != want;
}

static void check_read(unsigned s, unsigned k, unsigned i)
{
	check_at(va_of(k, i), pte_of(s, k, i));
}

/* The tag of frame @pa. */
static uint64_t tag_of(uint64_t pa)
{
	return TAG + pa / PAGE_SIZE;
}

/* The big space: one PML4, one PDPT and a PD entry for every page table
 * of every space (shared: a page table under many PDs, 4.5), 2 MiB of
 * address each from BASE_VA; returns its CR3 or 0. */
static uint64_t build_big(unsigned ntables)
{
	const uint64_t pml4 = page_alloc(), pdpt = page_alloc();
	if (!pml4 || !pdpt)
		return 0;
	((uint64_t *)(uintptr_t)pml4)[0] = guest_pml4[0];
	((uint64_t *)(uintptr_t)pml4)[1] = pdpt | PTE_P | PTE_RW;
	for (unsigned d = 0; d * 512 < ntables; d++) {
		const uint64_t pd = page_alloc();
		if (!pd)
			return 0;
		((uint64_t *)(uintptr_t)pdpt)[d] = pd | PTE_P | PTE_RW;
		for (unsigned j = 0; j < 512 && d * 512 + j < ntables; j++) {
			const unsigned g = d * 512 + j;
			((uint64_t *)(uintptr_t)pd)[j] = spaces[g / PTS].pt[g % PTS] | PTE_P | PTE_RW;
		}
	}
	return pml4;
}

int guest_main(void)
{
	if (page_init()) {
		guest_printf("fp_tables: no memory map\n");
		return GUEST_EXIT_FAIL;
	}
	for (unsigned j = 0; j < DATA; j++) {
		data[j] = page_alloc();
		if (!data[j]) {
			guest_printf("fp_tables: too little memory\n");
			return GUEST_EXIT_FAIL;
		}
		*(uint64_t *)(uintptr_t)data[j] = tag_of(data[j]);
	}
	for (unsigned j = 0; j < DATA + 512; j++)
		template[j] = data[j % DATA] | PTE_P | PTE_RW;
	/* Spaces while a space, the big space's PDs (one per 8 spaces) and
	 * the reserve still fit. */
	while (nspaces < MAX_SPACES &&
	       page_free_count() >= PAGES_PER_SPACE + RESERVE + 3 + (nspaces + 1 + 7) / 8) {
		uint64_t pages[PAGES_PER_SPACE];
		for (unsigned p = 0; p < PAGES_PER_SPACE; p++)
			pages[p] = page_alloc();
		build_space(nspaces++, pages);
	}
	const unsigned ntables = nspaces * PTS;
	const uint64_t big = build_big(ntables);
	guest_printf("fp_tables: address spaces of %u page tables each, as many as RAM holds\n",
		     PTS);
	guest_check("at least 128 spaces (8,192 page tables, 4.2 million PTEs)",
		    nspaces * PTS >= BIG_READS && big);
	if (!big)
		return guest_check_status();

	/* 1. churn */
	for (unsigned r = 0; r < CHURN; r++) {
		const unsigned sp = (unsigned)(guest_xorshift64(&rng) % nspaces);
		write_cr3(spaces[sp].pml4);
		for (unsigned n = 0; n < READS; n++) {
			const uint64_t x = guest_xorshift64(&rng);
			check_read(sp, (unsigned)(x % PTS), (unsigned)((x >> 16) % 512));
		}
	}
	guest_printf("churn: %u CR3 loads, %u reads, wrong: %u\n", CHURN, CHURN * READS, wrong);
	unsigned before = wrong;

	/* 2. round robin */
	for (unsigned r = 0; r < ROUNDS; r++)
		for (unsigned sp = 0; sp < nspaces; sp++) {
			write_cr3(spaces[sp].pml4);
			check_read(sp, (sp + r) % PTS, (sp * 5 + r) % 512);
		}
	guest_printf("round robin: %u rounds over every space, wrong: %u\n", ROUNDS,
		     wrong - before);
	before = wrong;

	/* 3. every page table at once, through the big space */
	write_cr3(big);
	const unsigned nbig = ntables < BIG_READS ? ntables : BIG_READS;
	for (unsigned j = 0; j < nbig; j++) {
		const unsigned g = (unsigned)((uint64_t)j * ntables / nbig), i = (g * 13) % 512;
		check_at(BASE_VA + (uint64_t)g * 0x200000 + (uint64_t)i * PAGE_SIZE,
			 (const uint64_t *)(uintptr_t)spaces[g / PTS].pt[g % PTS] + i);
	}
	guest_printf("one space holding every page table: reads through %u of them, wrong: %u\n",
		     BIG_READS, wrong - before);
	before = wrong;

	/* 4. write flooding in the last space: PTEs, read through ... */
	const unsigned s = nspaces - 1;
	struct space *sp = &spaces[s];
	write_cr3(sp->pml4);
	for (unsigned n = 0; n < FLOOD; n++) {
		const uint64_t x = guest_xorshift64(&rng);
		const unsigned k = (unsigned)(x % PTS), i = (unsigned)((x >> 16) % 512);
		const unsigned f = (unsigned)((x >> 32) % DATA);
		*pte_of(s, k, i) = data[f] | PTE_P | PTE_RW;
		invlpg((const void *)(uintptr_t)va_of(k, i));
		check_read(s, k, i);
	}
	/* ... PDEs swapped, CR3 reloaded (4.10.4.1), read through ... */
	volatile uint64_t *pd = (volatile uint64_t *)(uintptr_t)sp->pd;
	for (unsigned n = 0; n < FLOOD / 4; n++) {
		const uint64_t x = guest_xorshift64(&rng);
		const unsigned a = (unsigned)(x % PTS), b = (unsigned)((x >> 16) % PTS);
		const uint64_t t = sp->pt[a];
		sp->pt[a] = sp->pt[b];
		sp->pt[b] = t;
		pd[a] = sp->pt[a] | PTE_P | PTE_RW;
		pd[b] = sp->pt[b] | PTE_P | PTE_RW;
		write_cr3(sp->pml4);
		check_read(s, a, (unsigned)((x >> 32) % 512));
		check_read(s, b, (unsigned)((x >> 40) % 512));
	}
	/* ... and blind: PTEs and PDEs rewritten with no access between */
	volatile uint64_t *pt0 = (volatile uint64_t *)(uintptr_t)sp->pt[0];
	for (unsigned n = 0; n < FLOOD; n++) {
		pt0[n % 512] = data[(n * 11) % DATA] | PTE_P | PTE_RW;
		pd[n % PTS] = sp->pt[n % PTS] | PTE_P | PTE_RW;
	}
	write_cr3(sp->pml4);
	for (unsigned k = 0; k < PTS; k++)
		for (unsigned i = 0; i < 512; i += 7)
			check_read(s, k, i);
	guest_printf("write flooding: %u PTE rewrites and %u PDE swaps read through, "
		     "%u PTE and PDE rewrites blind, wrong: %u\n", FLOOD, FLOOD / 4, FLOOD,
		     wrong - before);

	write_cr3((uint64_t)(uintptr_t)guest_pml4);
	guest_check("every read through every mapping gave its frame's tag", wrong == 0);
	if (guest_cmdline_has("figures"))
		guest_printf("figures: spaces %u, page tables %u, PTEs %u, table pages %u\n", nspaces,
			     ntables, ntables * 512, nspaces * PAGES_PER_SPACE + 2 + (ntables + 511) / 512);
	return guest_check_status();
}
