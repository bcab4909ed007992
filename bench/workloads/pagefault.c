/*
 * pagefault.c — the page-fault benchmark guest: demand paging, one fault
 * per first touch of a page, in the manner of lmbench's lat_pagefault.
 *
 * One address space (guests/vm.c) has a region of N pages at
 * VM_USER_BASE up, not present. Each of R rounds touches every page
 * once, in order: a read first on even pages, a write first on odd ones.
 * Each first touch finds a not-present PTE and raises #PF (SDM Vol. 3A
 * 4.7): error code 0 for the read, 2 (W/R) for the write, CR2 the
 * address. The handler, like a kernel's anonymous-memory fault path,
 * takes a frame from its pool, clears it (REP STOSQ, see
 * bench/workloads/mm.h) and writes the PTE, P|R/W (making the page
 * table on the region's first fault in each 2 MiB), with no INVLPG: a
 * not-present entry is never cached (4.10.4.3), and the
 * #PF itself invalidated the address (4.10.4.1). IRET restarts the
 * access, which now completes; the read must see the fresh frame's zero,
 * then the page gets its tag. A last pass reads every tag back (no fault:
 * the TLB or a walk finds the new leaves). Then the region is unmapped,
 * as munmap does it: every PTE cleared, then one MOV to CR3 (u=1: it
 * invalidates every non-global translation, 4.10.4.1) or an INVLPG per
 * page (u=0), and only then the frames freed, so no stale translation
 * can reach a frame handed out again. The frames go back to the pool;
 * the page tables stay.
 * Under a shadow MMU each first touch is the guest's #PF (injected)
 * plus the hypervisor's own faults to shadow the new PTE; under TDP
 * only the guest's #PF.
 *
 * Self-check: exactly N faults per round, N/2 rounded up of them with
 * error code 0 and the rest 2, each on a page whose PTE is not present
 * (a translation that survived the unmap would let a touch go through
 * without a fault, to a frame already freed); every first read sees 0,
 * every tag reads back; after the last round one more read of page
 * R mod N must fault again and see a fresh zero frame. Every frame and
 * table goes back to the allocator. The checksum folds the tags read.
 *
 * Parameters (--append): n=N pages (1..16384, default 1024), r=R rounds
 * (1..10^6, default 20), u=U the unmap flush (0: INVLPG per page, 1: one
 * CR3 load; default 1). Memory: N frames, N/512 + 3 tables (128M for
 * any N).
 * Prints its parameters, the fault counts and "pagefault: checksum
 * 0x...: ok"; exit status 1 (guest_exit(0)) when all holds, 3 otherwise.
 */
#include "bench/workloads/args.h"
#include "bench/workloads/mm.h"

#define NPAGES_MAX	16384

static struct vm_space as;
static struct mm_pool pool;
static uint64_t region_end;
static uint64_t frames[NPAGES_MAX];
static volatile uint64_t read_faults, write_faults;	/* the handler's */

static void on_pf(struct guest_frame *f)
{
	const uint64_t cr2 = read_cr2(), va = cr2 & ~(uint64_t)(PAGE_SIZE - 1);
	uint64_t *pte = NULL, pa = 0;

	if (!(f->error_code & ~MM_PF_W) && cr2 >= VM_USER_BASE && cr2 < region_end)
		pte = mm_pte(&as, va, true);
	if (!pte || (*pte & PTE_P) || !(pa = mm_pool_get(&pool))) {
		guest_printf("pagefault: unexpected #PF: error 0x%lx cr2 0x%lx pte 0x%lx\n",
			     f->error_code, cr2, pte ? *pte : 0);
		guest_exit(GUEST_EXIT_FAIL);
	}
	*pte = pa | PTE_P | PTE_RW;
	if (f->error_code & MM_PF_W)
		write_faults++;
	else
		read_faults++;
}

static uint64_t tag(uint64_t r, uint64_t i)
{
	return (r + 1) << 32 | (i + 1);
}

/* Clears the leaves of pages @first..@end-1, flushes as @u says, frees
 * their frames. */
static void unmap(uint64_t first, uint64_t end, uint64_t u)
{
	for (uint64_t i = first; i < end; i++) {
		uint64_t *pte = mm_pte(&as, (uint64_t)(uintptr_t)mm_page(i), false);
		frames[i] = *pte & PTE_ADDR;
		*pte = 0;
		if (!u)
			invlpg(mm_page(i));
	}
	if (u)
		write_cr3(as.pml4);
	for (uint64_t i = first; i < end; i++)
		mm_pool_put(&pool, frames[i]);
}

int guest_main(void)
{
	const uint64_t n = bench_arg("n", 1024, 1, NPAGES_MAX);
	const uint64_t nr = bench_arg("r", 20, 1, 1000000);
	const uint64_t u = bench_arg("u", 1, 0, 1);
	uint64_t free_before, checksum = 0, bad = 0;

	guest_printf("pagefault: %lu pages, %lu rounds, unmap by %s\n", n, nr,
		     u ? "CR3 load" : "INVLPG");
	if (vm_init()) {
		guest_printf("pagefault: no memory map\n");
		return GUEST_EXIT_FAIL;
	}
	free_before = page_free_count();
	if (mm_pool_fill(&pool, n) || vm_create(&as)) {
		guest_printf("pagefault: out of memory\n");
		return GUEST_EXIT_FAIL;
	}
	region_end = VM_USER_BASE + n * PAGE_SIZE;
	idt_set_handler(14, on_pf);
	vm_switch(&as);

	for (uint64_t r = 0; r < nr; r++) {
		const uint64_t faults_before = read_faults + write_faults;
		for (uint64_t i = 0; i < n; i++) {
			volatile uint64_t *q = mm_page(i) + i % MM_WORDS;
			if (!(i & 1)) {
				const uint64_t first = *q;
				if (first && bad++ < 8)
					guest_printf("pagefault: round %lu page %lu: first read 0x%lx\n",
						     r, i, first);
			}
			*q = tag(r, i);
		}
		for (uint64_t i = 0; i < n; i++) {
			const uint64_t v = mm_page(i)[i % MM_WORDS];
			if (v != tag(r, i) && bad++ < 8)
				guest_printf("pagefault: round %lu page %lu: 0x%lx, expected 0x%lx\n",
					     r, i, v, tag(r, i));
			checksum = mm_fold(checksum, v);
		}
		if (read_faults + write_faults - faults_before != n) {
			guest_printf("pagefault: round %lu: %lu faults, expected %lu\n", r,
				     read_faults + write_faults - faults_before, n);
			bad++;
		}
		unmap(0, n, u);
	}

	/* The last unmap: its flush must have taken the translations too. */
	const uint64_t probe = nr % n, before = read_faults;
	const uint64_t v = mm_page(probe)[0];
	if (v || read_faults != before + 1) {
		guest_printf("pagefault: page %lu after the unmap: 0x%lx, %lu faults\n", probe, v,
			     read_faults - before);
		bad++;
	}
	unmap(probe, probe + 1, u);

	write_cr3((uint64_t)(uintptr_t)guest_pml4);
	idt_set_handler(14, NULL);
	vm_destroy(&as);
	mm_pool_drain(&pool);
	guest_printf("pagefault: %lu read faults, %lu write faults\n", read_faults, write_faults);
	if (read_faults != nr * ((n + 1) / 2) + 1 || write_faults != nr * (n / 2)) {
		guest_printf("pagefault: expected %lu read faults, %lu write faults\n",
			     nr * ((n + 1) / 2) + 1, nr * (n / 2));
		bad++;
	}
	return bench_finish("pagefault", checksum, bad, free_before);
}
