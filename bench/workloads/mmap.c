/*
 * mmap.c — the mmap benchmark guest: map, touch and unmap churn, one
 * INVLPG per page unmapped, as mmap(MAP_POPULATE) and munmap do it.
 *
 * One address space (guests/vm.c) holds a region of M pages at
 * VM_USER_BASE up. Each of R rounds:
 *  1. map: M frames from the guest's pool, each cleared (REP STOSQ,
 *     bench/workloads/mm.h) and its PTE written P|R/W at
 *     once (populated, no demand faults); no INVLPG, because the entries
 *     were not present and a not-present entry is never cached (SDM Vol.
 *     3A 4.10.4.3). The page tables are made in the first round and
 *     stay, as a kernel keeps them while a region is reused.
 *  2. touch: a tag written to one word of each page, then every tag read
 *     back.
 *  3. unmap: each PTE cleared and followed by INVLPG of its page, which
 *     drops the TLB entries and the paging-structure-cache entries for
 *     the address (4.10.4.1; required, 4.10.4.2: a cleared P bit), then
 *     the frame back to the pool.
 *  4. probe: a read of page r mod M must fault now (#PF, error code 0:
 *     a supervisor read of a not-present page, 4.7; CR2 the address).
 *     The handler maps a fresh cleared frame there, the read completes and
 *     must see 0, not the tag the old frame held; then that page is
 *     unmapped and freed the same way.
 * Under a shadow MMU each PTE write of a table it shadows and each
 * INVLPG is the hypervisor's business; under TDP neither is.
 *
 * Self-check: every tag reads back; exactly one fault per round, a read
 * of the probed page, each seeing a zero frame (a translation INVLPG
 * failed to drop would let the probe read the old frame without a
 * fault); every frame and table back to the allocator at the end. The
 * checksum folds every tag read.
 *
 * Parameters (--append): m=M pages (1..16384, default 256), r=R rounds
 * (1..10^6, default 100). Memory: M + 1 frames, M/512 + 3
 * tables (128M for any M).
 * Prints its parameters, the probe faults and "mmap: checksum 0x...:
 * ok"; exit status 1 (guest_exit(0)) when all holds, 3 otherwise.
 */
#include "bench/workloads/args.h"
#include "bench/workloads/mm.h"

#define NPAGES_MAX	16384

static struct vm_space as;
static struct mm_pool pool;
static uint64_t region_end;
static volatile uint64_t probe_faults;	/* the handler's: reread after each touch */

static void on_pf(struct guest_frame *f)
{
	const uint64_t cr2 = read_cr2(), va = cr2 & ~(uint64_t)(PAGE_SIZE - 1);
	uint64_t *pte = NULL, pa = 0;

	if (!f->error_code && cr2 >= VM_USER_BASE && cr2 < region_end)
		pte = mm_pte(&as, va, false);
	if (!pte || (*pte & PTE_P) || !(pa = mm_pool_get(&pool))) {
		guest_printf("mmap: unexpected #PF: error 0x%lx cr2 0x%lx pte 0x%lx\n",
			     f->error_code, cr2, pte ? *pte : 0);
		guest_exit(GUEST_EXIT_FAIL);
	}
	*pte = pa | PTE_P | PTE_RW;
	probe_faults++;
}

static uint64_t tag(uint64_t r, uint64_t i)
{
	return (r + 1) << 32 | (i + 1);
}

static void unmap_page(uint64_t i)
{
	uint64_t *pte = mm_pte(&as, (uint64_t)(uintptr_t)mm_page(i), false);
	const uint64_t pa = *pte & PTE_ADDR;

	*pte = 0;
	invlpg(mm_page(i));
	mm_pool_put(&pool, pa);
}

int guest_main(void)
{
	const uint64_t m = bench_arg("m", 256, 1, NPAGES_MAX);
	const uint64_t nr = bench_arg("r", 100, 1, 1000000);
	uint64_t free_before, checksum = 0, bad = 0;

	guest_printf("mmap: %lu pages, %lu rounds\n", m, nr);
	if (vm_init()) {
		guest_printf("mmap: no memory map\n");
		return GUEST_EXIT_FAIL;
	}
	free_before = page_free_count();
	if (mm_pool_fill(&pool, m) || vm_create(&as))
		goto nomem;
	region_end = VM_USER_BASE + m * PAGE_SIZE;
	idt_set_handler(14, on_pf);
	vm_switch(&as);

	for (uint64_t r = 0; r < nr; r++) {
		for (uint64_t i = 0; i < m; i++) {
			const uint64_t pa = mm_pool_get(&pool);
			uint64_t *pte;
			if (!pa || !(pte = mm_pte(&as, (uint64_t)(uintptr_t)mm_page(i), true)))
				goto nomem;
			*pte = pa | PTE_P | PTE_RW;
		}
		for (uint64_t i = 0; i < m; i++)
			mm_page(i)[i % MM_WORDS] = tag(r, i);
		for (uint64_t i = 0; i < m; i++) {
			const uint64_t v = mm_page(i)[i % MM_WORDS];
			if (v != tag(r, i) && bad++ < 8)
				guest_printf("mmap: round %lu page %lu: 0x%lx, expected 0x%lx\n",
					     r, i, v, tag(r, i));
			checksum = mm_fold(checksum, v);
		}
		for (uint64_t i = 0; i < m; i++)
			unmap_page(i);

		const uint64_t p = r % m, before = probe_faults;
		const uint64_t v = mm_page(p)[p % MM_WORDS];
		if ((v || probe_faults != before + 1) && bad++ < 8)
			guest_printf("mmap: round %lu: page %lu after the unmap: 0x%lx, %lu faults\n",
				     r, p, v, probe_faults - before);
		unmap_page(p);
	}

	write_cr3((uint64_t)(uintptr_t)guest_pml4);
	idt_set_handler(14, NULL);
	vm_destroy(&as);
	mm_pool_drain(&pool);
	guest_printf("mmap: %lu probe faults\n", probe_faults);
	if (probe_faults != nr) {
		guest_printf("mmap: expected %lu probe faults\n", nr);
		bad++;
	}
	return bench_finish("mmap", checksum, bad, free_before);

nomem:
	guest_printf("mmap: out of memory\n");
	return GUEST_EXIT_FAIL;
}
