/*
 * fork.c — the fork benchmark guest: copy-on-write done by the guest's
 * own page-fault handler, as a Unix kernel does it after fork().
 *
 * A parent address space (guests/vm.c) has N writable pages at
 * VM_USER_BASE up. Each of R rounds:
 *  1. fork: the parent's page-table tree under PML4 entries 1..255 is
 *     copied into fresh tables (the kernel's entry 0 stays shared); every
 *     writable leaf becomes read-only with the software bit COW (bit 9,
 *     ignored by the processor, SDM Vol. 3A Table 4-19) in both copies,
 *     and each frame's reference count goes up. The parent's TLB is
 *     flushed by reloading CR3 (4.10.4.1), as fork's flush_tlb_mm does:
 *     its leaves lost R/W.
 *  2. the child runs (CR3 = its PML4) and writes to a fraction F of the
 *     pages; then the parent does the same to another fraction. Each
 *     such write is a supervisor write to a read-only page with CR0.WP=1,
 *     so a #PF with error code 3 (P=1, W/R=1; 4.7). The handler copies
 *     the frame into a new one and maps that writable (then INVLPG: the
 *     old frame's translation goes, 4.10.4.2), or, when the faulting
 *     space holds the only reference left, makes the leaf writable in
 *     place (no INVLPG: the #PF already invalidated the address's TLB
 *     entries, 4.10.4.1, and R/W 0 -> 1 needs no flush, 4.10.4.3).
 *  3. the child exits: its references are dropped (frames it alone held
 *     are freed with its tables).
 *
 * Self-check, per round: the child sees the parent's data as of the fork
 * plus its own writes, the parent only its own; each page's last word
 * (never written after set-up) proves the copy took the whole frame. The
 * handler's counts must match what the write sets imply: one fault per
 * written page per round (every leaf is read-only after a fork); a copy
 * for each child write and for each parent write the child did not copy
 * first; a reuse for the rest. At the end every frame and table goes
 * back to the allocator.
 *
 * Parameters (--append): n=N pages (1..16384, default 256), f=F percent
 * written by each side per round (0..100, default 25), r=R rounds
 * (default 20). Prints its parameters, the fault counts and "fork:
 * checksum 0x... : ok"; exit status 1 (guest_exit(0)) when all holds.
 */
#include "bench/workloads/args.h"

#define NPAGES_MAX	16384
#define PTE_COW		(1ull << 9)
#define PF_P		(1ull << 0)
#define PF_W		(1ull << 1)
#define LAST		(PAGE_SIZE / 8 - 1)
#define REF_FRAMES	(1u << 18)	/* frames below 1 GiB */
#define CHILD		0
#define PARENT		1

static uint8_t ref[REF_FRAMES];		/* address spaces mapping each frame */
static uint64_t want_parent[NPAGES_MAX], want_child[NPAGES_MAX];
static uint64_t copies, reuses, faults, spurious;

static uint64_t *table(uint64_t pa)
{
	return (uint64_t *)(uintptr_t)pa;
}

static volatile uint64_t *page(uint64_t i)
{
	return (volatile uint64_t *)(uintptr_t)(VM_USER_BASE + i * PAGE_SIZE);
}

static uint8_t *ref_of(uint64_t pte)
{
	const uint64_t fn = (pte & PTE_ADDR) / PAGE_SIZE;

	if (fn >= REF_FRAMES) {
		guest_printf("fork: frame 0x%lx above the reference table\n",
			     (uint64_t)(pte & PTE_ADDR));
		guest_exit(GUEST_EXIT_FAIL);
	}
	return &ref[fn];
}

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ x >> 30) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ x >> 27) * 0x94d049bb133111ebull;
	return x ^ x >> 31;
}

/* Does @who write page @i in round @r? */
static bool writes(uint64_t who, uint64_t r, uint64_t i, uint64_t f)
{
	return mix(r << 32 | i << 1 | who) % 100 < f;
}

static void copy_frame(uint64_t dst, uint64_t src)
{
	void *d = table(dst);
	const void *s = table(src);
	uint64_t n = PAGE_SIZE / 8;

	__asm__ volatile("cld; rep movsq" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}

static void on_pf(struct guest_frame *f)
{
	const uint64_t va = read_cr2() & ~(uint64_t)(PAGE_SIZE - 1);
	struct vm_space cur = { read_cr3() & PTE_ADDR };
	uint64_t *pte = vm_pte(&cur, va);

	/* Already writable: a stale read-only TLB entry, which cannot be
	 * (4.10.4.1: the #PF that made it writable invalidated the address). */
	if (f->error_code == (PF_P | PF_W) && pte && (*pte & PTE_P) && (*pte & PTE_RW)) {
		spurious++;
		return;
	}
	if (f->error_code != (PF_P | PF_W) || !pte || !(*pte & PTE_P) || !(*pte & PTE_COW)) {
		guest_printf("fork: unexpected #PF: error 0x%lx cr2 0x%lx pte 0x%lx\n",
			     f->error_code, read_cr2(), pte ? *pte : 0);
		guest_exit(GUEST_EXIT_FAIL);
	}
	faults++;
	uint8_t *old = ref_of(*pte);
	if (*old == 1) {
		*pte = (*pte | PTE_RW) & ~PTE_COW;
		reuses++;
		return;
	}
	const uint64_t pa = page_alloc();
	if (!pa) {
		guest_printf("fork: out of memory in the fault handler\n");
		guest_exit(GUEST_EXIT_FAIL);
	}
	copy_frame(pa, *pte & PTE_ADDR);
	(*old)--;
	*pte = pa | ((*pte & ~PTE_ADDR & ~PTE_COW) | PTE_RW);
	*ref_of(pa) = 1;
	invlpg((const volatile void *)(uintptr_t)va);
	copies++;
}

/* fork's table copy: a new table for the one at @src of @level (4 =
 * PML4), every writable leaf made read-only and COW in both. */
static uint64_t fork_level(uint64_t src, int level)
{
	const uint64_t dst = page_alloc();
	uint64_t *s = table(src), *d;

	if (!dst)
		return 0;
	d = table(dst);
	if (level == 4)
		d[0] = s[0];
	for (unsigned i = level == 4 ? 1 : 0; i < (level == 4 ? 256u : 512u); i++) {
		if (!(s[i] & PTE_P))
			continue;
		if (level == 1) {
			if (s[i] & PTE_RW)
				s[i] = (s[i] & ~PTE_RW) | PTE_COW;
			d[i] = s[i];
			(*ref_of(s[i]))++;
			continue;
		}
		const uint64_t t = fork_level(s[i] & PTE_ADDR, level - 1);
		if (!t)
			return 0;
		d[i] = t | (s[i] & ~PTE_ADDR);
	}
	return dst;
}

/* Drops @as's references to the first @n pages: frames others still map
 * are unmapped (theirs now), the rest vm_destroy() frees with the tables. */
static void release(struct vm_space *as, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		uint64_t *pte = vm_pte(as, (uint64_t)(uintptr_t)page(i));
		if (pte && (*pte & PTE_P) && --(*ref_of(*pte)))
			*pte = 0;
	}
	vm_destroy(as);
}

/* The words of the first @n pages against @want and their tags; their sum. */
static uint64_t check_view(const char *who, uint64_t r, uint64_t n, const uint64_t *want,
			   uint64_t *bad)
{
	uint64_t s = 0;

	for (uint64_t i = 0; i < n; i++) {
		const uint64_t v = page(i)[0], tag = page(i)[LAST];
		if (v != want[i] || tag != mix(~i)) {
			if (*bad < 8)
				guest_printf("fork: round %lu, %s page %lu: 0x%lx tag 0x%lx, "
					     "expected 0x%lx tag 0x%lx\n",
					     r, who, i, v, tag, want[i], mix(~i));
			(*bad)++;
		}
		s = (s << 5 | s >> 59) ^ v;
	}
	return s;
}

int guest_main(void)
{
	const uint64_t n = bench_arg("n", 256, 1, NPAGES_MAX);
	const uint64_t f = bench_arg("f", 25, 0, 100);
	const uint64_t nr = bench_arg("r", 20, 1, 100000000);
	uint64_t free_before, checksum = 0, bad = 0;
	uint64_t want_faults = 0, want_copies = 0, want_reuses = 0;
	struct vm_space parent, child;

	guest_printf("fork: %lu pages, %lu%% written by each side, %lu rounds\n", n, f, nr);
	if (vm_init()) {
		guest_printf("fork: no memory map\n");
		return GUEST_EXIT_FAIL;
	}
	free_before = page_free_count();
	if (vm_create(&parent))
		goto nomem;
	for (uint64_t i = 0; i < n; i++) {
		const uint64_t pa = page_alloc();
		if (!pa || vm_map(&parent, (uint64_t)(uintptr_t)page(i), pa, PTE_RW))
			goto nomem;
		*ref_of(pa) = 1;
	}
	vm_switch(&parent);
	for (uint64_t i = 0; i < n; i++) {
		want_parent[i] = mix(i);
		page(i)[0] = want_parent[i];
		page(i)[LAST] = mix(~i);
	}
	idt_set_handler(14, on_pf);

	for (uint64_t r = 0; r < nr; r++) {
		child.pml4 = fork_level(parent.pml4, 4);
		if (!child.pml4)
			goto nomem;
		write_cr3(parent.pml4);
		for (uint64_t i = 0; i < n; i++)
			want_child[i] = want_parent[i];

		vm_switch(&child);
		for (uint64_t i = 0; i < n; i++)
			if (writes(CHILD, r, i, f)) {
				want_child[i] += mix(r << 20 | i) | 1;
				page(i)[0] += mix(r << 20 | i) | 1;
				want_faults++, want_copies++;
			}
		checksum ^= check_view("child", r, n, want_child, &bad);

		vm_switch(&parent);
		for (uint64_t i = 0; i < n; i++)
			if (writes(PARENT, r, i, f)) {
				want_parent[i] ^= mix(r << 40 | i);
				page(i)[0] ^= mix(r << 40 | i);
				want_faults++;
				if (writes(CHILD, r, i, f))
					want_reuses++;
				else
					want_copies++;
			}
		checksum = (checksum << 11 | checksum >> 53) ^
			   check_view("parent", r, n, want_parent, &bad);

		release(&child, n);
	}

	write_cr3((uint64_t)(uintptr_t)guest_pml4);
	idt_set_handler(14, NULL);
	release(&parent, n);
	guest_printf("fork: %lu write faults, %lu copies, %lu reuses\n", faults, copies, reuses);
	if (faults != want_faults || copies != want_copies || reuses != want_reuses) {
		guest_printf("fork: expected %lu write faults, %lu copies, %lu reuses\n",
			     want_faults, want_copies, want_reuses);
		bad++;
	}
	if (spurious) {
		guest_printf("fork: %lu write faults on writable pages\n", spurious);
		bad++;
	}
	return bench_finish("fork", checksum, bad, free_before);

nomem:
	guest_printf("fork: out of memory\n");
	return GUEST_EXIT_FAIL;
}
