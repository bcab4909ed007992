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
 * With pcid=1 the kernel tags each space's translations instead, as
 * Linux does with PCIDs: CR4.PCIDE = 1 (CPUID.01H:ECX[17] must say the
 * processor has PCIDs; PCIDE can only be set in IA-32e mode with
 * CR3[11:0] = 0, 4.10.1), process p runs with PCID p + 1 in CR3[11:0],
 * and every CR3 load after a space's first sets bit 63, so it
 * invalidates nothing (4.10.4.1): the TLB may keep every space's
 * translations across switches, tagged with their PCID, and use only
 * the current PCID's (4.10.2.4; no page is global). The first load of a
 * PCID leaves bit 63 clear and so drops whatever that PCID held before.
 * When the spaces die, INVPCID type 1 (single context, CPUID.07H:EBX
 * [10]) drops each PCID's entries before its frames go back to the
 * allocator, and clearing CR4.PCIDE at the end invalidates everything
 * (4.10.4.1); without INVPCID, clearing PCIDE first does it all. On a
 * processor without PCIDs (QEMU 7.2's TCG has none) pcid=1 runs as
 * pcid=0 and says so, so the run still checks and the checksum matches.
 *
 * Self-check: the same virtual address names a different frame in each
 * space (4.5: CR3 selects the PML4 that translates every address), so
 * after R rounds every touched word of page i in process p holds
 * R * key(p, i), and process p's words sum to R * K * sum_i key(p, i).
 * A translation that survived a CR3 load into the wrong space — with
 * PCIDs, one used under a PCID other than its own — would add a key to
 * another process's frame and break both sums. With pcid=1, CR3 must
 * also read back as the PML4 address with the PCID and without bit 63
 * (4.10.4.1: bit 63 is not stored). Then every page goes back to the
 * allocator (vm_destroy).
 *
 * Parameters (--append): p=P (1..4095, default 8), w=W (1..16384,
 * default 64), r=R (default 100), k=K words per page (1..512, default
 * 8), pcid=0|1 (default 0). Prints its parameters (with pcid=1, a second
 * line: the PCIDs, and whether INVPCID is there) and "ctxswitch: checksum
 * 0x... : ok"; exit status 1 (guest_exit(0)) when every sum is right, 3
 * otherwise. The checksum does not depend on pcid.
 */
#include "bench/workloads/args.h"

#define NPROC_MAX	4095	/* PCIDs 1..4095: 0 stays the kernel's (4.10.1) */
#define CR4_PCIDE	(1ull << 17)
#define CR3_NOFLUSH	(1ull << 63)
#define CPUID1_ECX_PCID	(1u << 17)
#define CPUID7_EBX_INVPCID (1u << 10)
#define INVPCID_SINGLE	1	/* one PCID's non-global entries (Vol. 2A INVPCID) */

static struct vm_space space[NPROC_MAX];
static bool visited[NPROC_MAX];
static bool use_pcid;

static void invpcid_single(uint64_t pcid)
{
	/* the descriptor: PCID in bits 11:0, the address (unused) in 127:64 */
	const struct { uint64_t pcid, la; } d = { pcid, 0 };
	__asm__ volatile("invpcid %0, %1" : : "m"(d), "r"((uint64_t)INVPCID_SINGLE) : "memory");
}

/* Process @p's space into CR3: with PCIDs, under its own PCID, flushing
 * that PCID's entries on the first visit only. */
static void switch_to(uint64_t p)
{
	if (!use_pcid) {
		vm_switch(&space[p]);
		return;
	}
	write_cr3(space[p].pml4 | (p + 1) | (visited[p] ? CR3_NOFLUSH : 0));
	visited[p] = true;
}

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
	const bool want_pcid = bench_arg("pcid", 0, 0, 1);
	uint64_t free_before, checksum = 0, bad = 0;
	uint32_t id1[4] = { 0, 0, 0, 0 }, id7[4] = { 0, 0, 0, 0 };

	guest_printf("ctxswitch: %lu processes x %lu pages, %lu words per page, %lu rounds\n",
		     np, nw, nk, nr);
	if (want_pcid) {	/* pcid=0 makes no CPUID exits it did not make before */
		cpuid(1, 0, id1);
		cpuid(0, 0, id7);
		if (id7[0] >= 7)
			cpuid(7, 0, id7);
		else
			id7[1] = 0;	/* no leaf 7: no INVPCID */
	}
	const bool has_invpcid = id7[1] & CPUID7_EBX_INVPCID;
	use_pcid = want_pcid && (id1[2] & CPUID1_ECX_PCID);
	if (want_pcid && !use_pcid)
		guest_printf("ctxswitch: no PCIDs (CPUID.01H:ECX[17] = 0): switching without\n");
	if (use_pcid) {
		guest_printf("ctxswitch: PCIDs 1..%lu%s\n", np, has_invpcid ? ", INVPCID" : "");
		write_cr4(read_cr4() | CR4_PCIDE);	/* CR3 = guest_pml4: PCID 0 */
		if (!(read_cr4() & CR4_PCIDE)) {
			guest_printf("ctxswitch: CR4.PCIDE = 1 did not take: CR4 reads 0x%lx\n",
				     read_cr4());
			return GUEST_EXIT_FAIL;
		}
	}
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

	/* Two loops, so that pcid=0 runs the code it always ran. */
	for (uint64_t r = 0; r < nr && !use_pcid; r++)
		for (uint64_t p = 0; p < np; p++) {
			vm_switch(&space[p]);
			touch(p, nw, nk);
		}
	for (uint64_t r = 0; r < nr && use_pcid; r++)
		for (uint64_t p = 0; p < np; p++) {
			switch_to(p);
			touch(p, nw, nk);
		}

	/* sum_i key(p, i) = W (p + 1) 2^32 + W (W + 1) / 2, modulo 2^64 like the adds. */
	for (uint64_t p = 0; p < np; p++) {
		const uint64_t want = nr * nk * ((nw * (p + 1) << 32) + nw * (nw + 1) / 2);
		switch_to(p);
		if (use_pcid && read_cr3() != (space[p].pml4 | (p + 1))) {
			guest_printf("ctxswitch: process %lu: CR3 reads 0x%lx, expected 0x%lx\n",
				     p, read_cr3(), space[p].pml4 | (p + 1));
			bad++;
		}
		const uint64_t got = sum_words(nw, nk);
		if (got != want) {
			guest_printf("ctxswitch: process %lu: sum 0x%lx, expected 0x%lx\n",
				     p, got, want);
			bad++;
		}
		checksum = (checksum << 7 | checksum >> 57) ^ got;
	}
	write_cr3((uint64_t)(uintptr_t)guest_pml4);
	if (use_pcid && !has_invpcid)
		write_cr4(read_cr4() & ~CR4_PCIDE);
	for (uint64_t p = 0; p < np; p++) {
		if (use_pcid && has_invpcid)
			invpcid_single(p + 1);
		vm_destroy(&space[p]);
	}
	if (use_pcid && has_invpcid)
		write_cr4(read_cr4() & ~CR4_PCIDE);
	return bench_finish("ctxswitch", checksum, bad, free_before);
}
