/*
 * largepage.c — the large-page benchmark guest: tlbmiss's random reads
 * and writes over the same working set, mapped with 2 MiB pages.
 *
 * One address space (guests/vm.c) maps W pages' worth of memory at
 * VM_USER_BASE up as W/512 pages of 2 MiB: PDEs with PS=1 (SDM Vol. 3A
 * 4.5, Table 4-17) pointing at 2 MiB-aligned frames, which come from
 * the page allocator as one physically contiguous run
 * (bench/workloads/mm.h, mm_alloc_contig). The pre-touch and the A
 * accesses are tlbmiss's, word for word (mm.h, struct mm_ws). A 2 MiB
 * translation goes into the TLB's 2 MiB array (4.10.2.3: one entry may
 * cover the page; the model has 32 of them: 64 MiB), and a walk is
 * three references instead of four, so the guest alone would see
 * almost no misses. What the hypervisor makes of it is the point:
 * under TDP the translation is as large as the smaller of the guest
 * page and the EPT/NPT page that backs it (SDM Vol. 3C 29.3.2; APM
 * Vol. 2 15.25.5), 2 MiB where the MMU maps the memslot with 2 MiB
 * leaves; a shadow MMU that splits the guest's large page into 4 KiB
 * sptes gives the TLB 4 KiB entries, and the working set thrashes as
 * in tlbmiss, with one-dimensional walks.
 *
 * Self-check: tlbmiss's (every read names its own word, the write counts
 * add up), every frame back to the allocator; the checksum equals
 * tlbmiss's for the same w, a, k and wp. The large PDEs are cleared
 * before vm_destroy(), which knows only 4 KiB leaves.
 *
 * Parameters (--append): w=W pages of 4 KiB (512..131072, default 8192;
 * rounded up to a multiple of 512, saying so), a=A accesses (1..10^9,
 * default 500000), k=K slots per page (a power of two 1..512, default
 * 8), wp=N writes per 64 accesses (0..64, default 8). Memory: the
 * working set plus up to 2 MiB of alignment, so --mem must exceed
 * 4 KiB * W by 4 MiB or so (128M for W up to 24576). Prints its
 * parameters, the write count and "largepage: checksum 0x...: ok"; exit
 * status 1 (guest_exit(0)) when all holds, 3 otherwise.
 */
#include "bench/workloads/args.h"
#include "bench/workloads/mm.h"

int guest_main(void)
{
	uint64_t nw = bench_arg("w", 8192, MM_LARGE_PAGES, 131072);
	const uint64_t na = bench_arg("a", 500000, 1, 1000000000);
	const uint64_t k = bench_arg("k", 8, 1, MM_WORDS);
	const uint64_t wp = bench_arg("wp", 8, 0, 64);
	const uint64_t nk = mm_pow2_floor(k);
	uint64_t free_before, frames, nl, checksum, bad = 0;
	struct vm_space as;
	struct mm_ws ws;

	if (nk != k)
		guest_printf("k: want a power of two; using %lu\n", nk);
	if (nw % MM_LARGE_PAGES) {
		nw += MM_LARGE_PAGES - nw % MM_LARGE_PAGES;
		guest_printf("w: want a multiple of %lu; using %lu\n", (uint64_t)MM_LARGE_PAGES, nw);
	}
	nl = nw / MM_LARGE_PAGES;
	guest_printf("largepage: %lu pages (%lu KiB) of 2 MiB, %lu slots per 4 KiB, "
		     "%lu accesses, %lu/64 writes\n", nl, nw * 4, nk, na, wp);
	if (vm_init()) {
		guest_printf("largepage: no memory map\n");
		return GUEST_EXIT_FAIL;
	}
	free_before = page_free_count();
	frames = mm_alloc_contig(nw, MM_LARGE_SIZE);
	if (!frames || vm_create(&as))
		goto nomem;
	for (uint64_t l = 0; l < nl; l++) {
		uint64_t *pde = mm_pde(&as, VM_USER_BASE + l * MM_LARGE_SIZE, true);
		if (!pde)
			goto nomem;
		*pde = (frames + l * MM_LARGE_SIZE) | PTE_P | PTE_RW | PTE_PS;
	}
	vm_switch(&as);

	mm_ws_init(&ws, nw, nk);
	bad += mm_ws_measure("largepage", &ws, na, wp, &checksum);
	/* MOV to CR3 first: it drops the space's translations (4.10.4.1), so
	 * the PDEs can go without INVLPG. */
	write_cr3((uint64_t)(uintptr_t)guest_pml4);
	for (uint64_t l = 0; l < nl; l++)
		*mm_pde(&as, VM_USER_BASE + l * MM_LARGE_SIZE, false) = 0;
	for (uint64_t i = 0; i < nw; i++)
		page_free(frames + i * PAGE_SIZE);
	vm_destroy(&as);
	return bench_finish("largepage", checksum, bad, free_before);

nomem:
	guest_printf("largepage: out of memory\n");
	return GUEST_EXIT_FAIL;
}
