/*
 * ctxswitch.c — the context-switch benchmark guest: P address spaces, each
 * with a working set of W pages, run round-robin by MOV to CR3.
 *
 * Each "process" is a 4-level address space of its own (guests/vm.c: a
 * private PML4 whose entry 0, the kernel's identity map, is shared)
 * with W pages at the same virtual addresses, VM_USER_BASE up. In each
 * of R rounds the kernel loads every process's PML4 into CR3 in turn
 * (no PCID: CR4.PCIDE stays 0, so each load invalidates every non-global
 * TLB entry and paging-structure cache entry, SDM Vol. 3A 4.10.4.1) and
 * adds the process's key for the page to K words spread over each page:
 * the shape of a scheduler's timeslice, shrunk to its memory traffic.
 * This is what seed 000 of KVM says its first MMU does badly: "throws
 * away most of the shadow page table entries every context switch".
 *
 * Self-check: the same virtual address names a different frame in each
 * space (4.5: CR3 selects the PML4 that translates every address), so
 * after R rounds every touched word of page i in process p holds
 * R * key(p, i), and process p's words sum to R * K * sum_i key(p, i).
 * A translation that survived a CR3 load into the wrong space would add
 * a key to another process's frame and break both sums. Then every page
 * goes back to the allocator (vm_destroy).
 *
 * Parameters (--append): p=P (1..64, default 8), w=W (1..16384, default
 * 64), r=R (default 100), k=K words per page (1..512, default 8).
 * Prints its parameters and "ctxswitch: checksum 0x... : ok"; exit status 1
 * (guest_exit(0)) when every sum is right, 3 otherwise.
 */
#include "bench/workloads/args.h"

#define NPROC_MAX	64

static struct vm_space space[NPROC_MAX];

static uint64_t key(uint64_t p, uint64_t i)
{
	return (p + 1) << 32 | (i + 1);
}

static volatile uint64_t *page(uint64_t i)
{
	return (volatile uint64_t *)(uintptr_t)(VM_USER_BASE + i * PAGE_SIZE);
}

/* One timeslice of process @p: K read-modify-writes on each page. */
static void touch(uint64_t p, uint64_t nw, uint64_t nk)
{
	const uint64_t stride = PAGE_SIZE / 8 / nk;

	for (uint64_t i = 0; i < nw; i++) {
		volatile uint64_t *q = page(i);
		const uint64_t v = key(p, i);
		for (uint64_t j = 0; j < nk; j++)
			q[j * stride] += v;
	}
}

static uint64_t sum_words(uint64_t nw, uint64_t nk)
{
	const uint64_t stride = PAGE_SIZE / 8 / nk;
	uint64_t s = 0;

	for (uint64_t i = 0; i < nw; i++)
		for (uint64_t j = 0; j < nk; j++)
			s += page(i)[j * stride];
	return s;
}

int guest_main(void)
{
	const uint64_t np = bench_arg("p", 8, 1, NPROC_MAX);
	const uint64_t nw = bench_arg("w", 64, 1, 16384);
	const uint64_t nr = bench_arg("r", 100, 1, 100000000);
	const uint64_t nk = bench_arg("k", 8, 1, 512);
	uint64_t free_before, checksum = 0, bad = 0;

	guest_printf("ctxswitch: %lu processes x %lu pages, %lu words per page, %lu rounds\n",
		     np, nw, nk, nr);
	if (vm_init()) {
		guest_printf("ctxswitch: no memory map\n");
		return GUEST_EXIT_FAIL;
	}
	free_before = page_free_count();
	for (uint64_t p = 0; p < np; p++) {
		if (vm_create(&space[p])) {
			guest_printf("ctxswitch: out of memory\n");
			return GUEST_EXIT_FAIL;
		}
		for (uint64_t i = 0; i < nw; i++) {
			const uint64_t pa = page_alloc();
			if (!pa || vm_map(&space[p], (uint64_t)(uintptr_t)page(i), pa, PTE_RW)) {
				guest_printf("ctxswitch: out of memory at process %lu page %lu\n",
					     p, i);
				return GUEST_EXIT_FAIL;
			}
		}
	}

	for (uint64_t r = 0; r < nr; r++)
		for (uint64_t p = 0; p < np; p++) {
			vm_switch(&space[p]);
			touch(p, nw, nk);
		}

	/* sum_i key(p, i) = W (p + 1) 2^32 + W (W + 1) / 2, modulo 2^64 like the adds. */
	for (uint64_t p = 0; p < np; p++) {
		const uint64_t want = nr * nk * ((nw * (p + 1) << 32) + nw * (nw + 1) / 2);
		vm_switch(&space[p]);
		const uint64_t got = sum_words(nw, nk);
		if (got != want) {
			guest_printf("ctxswitch: process %lu: sum 0x%lx, expected 0x%lx\n",
				     p, got, want);
			bad++;
		}
		checksum = (checksum << 7 | checksum >> 57) ^ got;
	}
	write_cr3((uint64_t)(uintptr_t)guest_pml4);
	for (uint64_t p = 0; p < np; p++)
		vm_destroy(&space[p]);
	if (page_free_count() != free_before) {
		guest_printf("ctxswitch: %lu pages not returned\n", free_before - page_free_count());
		bad++;
	}
	guest_printf("ctxswitch: checksum 0x%lx: %s\n", checksum, bad ? "WRONG" : "ok");
	return bad ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
