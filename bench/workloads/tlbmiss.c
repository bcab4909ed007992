/*
 * tlbmiss.c — the TLB-miss benchmark guest: random reads and writes over
 * a working set of 4 KiB pages far larger than the TLB's reach, with no
 * page fault after the warm-up: the cost of a page walk, and nothing else.
 *
 * One address space (guests/vm.c) maps W pages of 4 KiB at VM_USER_BASE
 * up (4-level paging, SDM Vol. 3A 4.5: PML4E, PDPTE, PDE, then a PTE per
 * page, Table 4-19). The leaves are written before the space is loaded
 * into CR3, so no INVLPG is needed (4.10.4.3). A pre-touch writes every
 * slot of every page (bench/workloads/mm.h, struct mm_ws); then A accesses
 * go to pages and slots drawn by xorshift64, a fraction of them writes.
 * With the model's default TLB (1536 4 KiB entries: 6 MiB) and W = 8192
 * (32 MiB), about four accesses in five miss the TLB and walk the tables
 * (4.10.2, 4.10.3: the paging-structure caches may shorten the walk).
 * Under TDP each guest walk reference is itself translated through EPT
 * or NPT (SDM Vol. 3C 29.3.2; APM Vol. 2 15.25.5): up to 24 references
 * per miss instead of 4. bench/workloads/largepage.c makes the same
 * accesses through 2 MiB pages.
 *
 * Self-check: every slot holds its own number in its high half, so a
 * read through a wrong translation names the wrong word at once; the low
 * halves count the writes, and their sum at the end must equal the
 * writes made (a write lost or sent to another frame breaks it). Then
 * every page and table goes back to the allocator. The checksum folds
 * every value read, the sum and the write count; largepage prints the
 * same one for the same parameters.
 *
 * Parameters (--append): w=W pages (1..131072, default 8192), a=A
 * accesses (1..10^9, default 500000), k=K slots per page (a power of
 * two 1..512, default 8; other values are rounded down and say so),
 * wp=N writes per 64 accesses (0..64, default 8). Memory: W pages plus
 * W/512 + 3 tables, so --mem must exceed 4 KiB * W by a few MiB (128M
 * for W up to 28672). Prints its parameters, the write count and
 * "tlbmiss: checksum 0x...: ok"; exit status 1 (guest_exit(0)) when all
 * holds, 3 otherwise.
 */
#include "bench/workloads/args.h"
#include "bench/workloads/mm.h"

int guest_main(void)
{
	const uint64_t nw = bench_arg("w", 8192, 1, 131072);
	const uint64_t na = bench_arg("a", 500000, 1, 1000000000);
	const uint64_t k = bench_arg("k", 8, 1, MM_WORDS);
	const uint64_t wp = bench_arg("wp", 8, 0, 64);
	const uint64_t nk = mm_pow2_floor(k);
	uint64_t free_before, checksum, bad = 0;
	struct vm_space as;
	struct mm_ws ws;

	if (nk != k)
		guest_printf("k: want a power of two; using %lu\n", nk);
	guest_printf("tlbmiss: %lu pages (%lu KiB) of 4 KiB, %lu slots per page, "
		     "%lu accesses, %lu/64 writes\n", nw, nw * 4, nk, na, wp);
	if (vm_init()) {
		guest_printf("tlbmiss: no memory map\n");
		return GUEST_EXIT_FAIL;
	}
	free_before = page_free_count();
	if (vm_create(&as))
		goto nomem;
	for (uint64_t i = 0; i < nw; i++) {
		const uint64_t pa = page_alloc();
		uint64_t *pte;
		if (!pa || !(pte = mm_pte(&as, (uint64_t)(uintptr_t)mm_page(i), true)))
			goto nomem;
		*pte = pa | PTE_P | PTE_RW;
	}
	vm_switch(&as);

	mm_ws_init(&ws, nw, nk);
	bad += mm_ws_measure("tlbmiss", &ws, na, wp, &checksum);
	write_cr3((uint64_t)(uintptr_t)guest_pml4);
	vm_destroy(&as);
	return bench_finish("tlbmiss", checksum, bad, free_before);

nomem:
	guest_printf("tlbmiss: out of memory\n");
	return GUEST_EXIT_FAIL;
}
