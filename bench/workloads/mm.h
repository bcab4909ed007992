/*
 * mm.h — what the memory-management workloads (pagefault, mmap, tlbmiss,
 * largepage) share: page-table entries without the runtime's INVLPG,
 * 2 MiB mappings, physically contiguous aligned frames, and the random
 * working-set walk that tlbmiss and largepage both time.
 *
 * guests/vm.c maps 4 KiB pages and follows every leaf it writes with
 * INVLPG. A kernel that fills a not-present entry need not (SDM Vol. 3A
 * 4.10.4.3: the processor caches no translation for a not-present
 * entry, and a #PF invalidates the faulting address's entries, 4.10.4.1),
 * and an INVLPG is a VM exit under a shadow MMU, so these workloads write
 * new leaves through mm_pte() and flush only where the manual asks for
 * it: after a leaf was cleared or changed.
 *
 * A 2 MiB page is a PDE with PS=1 (4.5, Table 4-17): bits 51:21 hold the
 * frame, which must be 2 MiB-aligned (bits 20:13 are reserved). vm.c
 * knows nothing of them: vm_destroy() would take such a PDE for a page
 * table, so a user of mm_pde() clears its large PDEs before destroying
 * the space.
 *
 * The working set (struct mm_ws): P pages at VM_USER_BASE up, S slots
 * per page (S a power of two, spread over the page). Slot j of page i
 * holds (i * S + j + 1) << 32 in its high half: the word's own number,
 * so a read through a wrong translation shows at once; its low half
 * counts the writes to it. mm_ws_run() makes A accesses at pages and
 * slots from xorshift64 (Marsaglia 2003, shifts 13, 7, 17) with a fixed
 * seed, so the sequence, and everything read, is a function of the
 * parameters only.
 *
 * Header-only because the Makefile links each .c file in
 * bench/workloads/ as a guest of its own, with only the runtime in guests/.
 */
#ifndef BENCH_WORKLOADS_MM_H
#define BENCH_WORKLOADS_MM_H

#include "guests/guest.h"

/* #PF error code bit W/R (4.7, Figure 4-12): the access was a write. */
#define MM_PF_W		(1ull << 1)

#define MM_LARGE_SIZE	(2ull << 20)
#define MM_LARGE_PAGES	(MM_LARGE_SIZE / PAGE_SIZE)
#define MM_WORDS	(PAGE_SIZE / 8)
#define MM_SEED		0x9e3779b97f4a7c15ull	/* odd: also mm_fold()'s multiplier */

static inline volatile uint64_t *mm_page(uint64_t i)
{
	return (volatile uint64_t *)(uintptr_t)(VM_USER_BASE + i * PAGE_SIZE);
}

/* The entry for @va at @level (1 = PTE, 2 = PDE) in @as, making the
 * missing tables above it when @create; NULL when there is none (or no
 * memory). Tables above are P|RW|US, so the entry alone decides the
 * rights (4.6.1). Stops at a large page above @level: NULL. */
static inline uint64_t *mm_entry(struct vm_space *as, uint64_t va, int level, bool create)
{
	uint64_t *table = (uint64_t *)(uintptr_t)as->pml4;

	for (int l = 4; l > level; l--) {
		uint64_t *e = &table[(va >> (12 + 9 * (l - 1))) & 511];
		if (!(*e & PTE_P)) {
			uint64_t pa;
			if (!create || !(pa = page_alloc()))
				return NULL;
			*e = pa | PTE_P | PTE_RW | PTE_US;
		} else if (*e & PTE_PS) {
			return NULL;
		}
		table = (uint64_t *)(uintptr_t)(*e & PTE_ADDR);
	}
	return &table[(va >> (12 + 9 * (level - 1))) & 511];
}

static inline uint64_t *mm_pte(struct vm_space *as, uint64_t va, bool create)
{
	return mm_entry(as, va, 1, create);
}

static inline uint64_t *mm_pde(struct vm_space *as, uint64_t va, bool create)
{
	return mm_entry(as, va, 2, create);
}

/* Pushes @pa on a list threaded through the pages' first words. */
static inline void mm_list_push(uint64_t *list, uint64_t pa)
{
	*(uint64_t *)(uintptr_t)pa = *list;
	*list = pa;
}

static inline void mm_list_free(uint64_t *list)
{
	while (*list) {
		const uint64_t pa = *list;
		*list = *(uint64_t *)(uintptr_t)pa;
		page_free(pa);
	}
}

/*
 * @n pages of page_alloc() at consecutive physical addresses, the first
 * aligned to @align (a power of two, at least a page): the frames of
 * 2 MiB pages. Pages that come out of line (the free list, the gap below
 * the next aligned address) go back to the allocator afterwards. Returns
 * the first address, 0 when memory ran out.
 */
static inline uint64_t mm_alloc_contig(uint64_t n, uint64_t align)
{
	uint64_t start = 0, got = 0, spare = 0;

	while (got < n) {
		const uint64_t pa = page_alloc();
		if (!pa)
			break;
		if (got && pa == start + got * PAGE_SIZE) {
			got++;
			continue;
		}
		for (uint64_t k = 0; k < got; k++)
			mm_list_push(&spare, start + k * PAGE_SIZE);
		got = 0;
		if (pa & (align - 1)) {
			mm_list_push(&spare, pa);
		} else {
			start = pa;
			got = 1;
		}
	}
	if (got < n) {
		for (uint64_t k = 0; k < got; k++)
			mm_list_push(&spare, start + k * PAGE_SIZE);
		start = 0;
	}
	mm_list_free(&spare);
	return start;
}

/*
 * A kernel's own frame pool: frames taken from page_alloc() once, then
 * handed out and taken back by the fault and map paths. A frame is
 * cleared when handed out, with REP STOSQ (SDM Vol. 2B STOS: RCX
 * quadwords of RAX at RDI, upwards with DF=0), as Linux's clear_page
 * does, so the fault path costs what a kernel's does rather than what
 * page.c's word loop does.
 */
struct mm_pool {
	uint64_t list;		/* threaded through the free frames */
	uint64_t count;		/* frames in it now */
};

static inline void mm_pool_put(struct mm_pool *pool, uint64_t pa)
{
	mm_list_push(&pool->list, pa);
	pool->count++;
}

/* Takes @n frames from the allocator: 0, or -GUEST_ENOMEM. */
static inline int mm_pool_fill(struct mm_pool *pool, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		const uint64_t pa = page_alloc();
		if (!pa)
			return -GUEST_ENOMEM;
		mm_pool_put(pool, pa);
	}
	return 0;
}

/* A cleared frame, 0 when the pool is empty. */
static inline uint64_t mm_pool_get(struct mm_pool *pool)
{
	const uint64_t pa = pool->list;

	if (!pa)
		return 0;
	pool->list = *(uint64_t *)(uintptr_t)pa;
	pool->count--;
	void *d = (void *)(uintptr_t)pa;
	uint64_t n = MM_WORDS;
	__asm__ volatile("cld; rep stosq" : "+D"(d), "+c"(n) : "a"(0ull) : "memory");
	return pa;
}

/* Gives every frame back to the allocator. */
static inline void mm_pool_drain(struct mm_pool *pool)
{
	mm_list_free(&pool->list);
	pool->count = 0;
}

struct mm_ws {
	uint64_t pages;		/* P */
	uint64_t slots;		/* S, a power of two up to MM_WORDS */
	uint64_t stride;	/* words between slots: MM_WORDS / S */
	uint64_t bad;		/* reads that named another word */
	uint64_t writes;
};

static inline void mm_ws_init(struct mm_ws *ws, uint64_t pages, uint64_t slots)
{
	*ws = (struct mm_ws){ .pages = pages, .slots = slots, .stride = MM_WORDS / slots };
}

/* The pre-touch: every slot gets its number, every page its first access
 * (its TLB entry, and under a shadow MMU its spte). */
static inline void mm_ws_fill(struct mm_ws *ws)
{
	for (uint64_t i = 0; i < ws->pages; i++) {
		volatile uint64_t *q = mm_page(i);
		for (uint64_t j = 0; j < ws->slots; j++)
			q[j * ws->stride] = (i * ws->slots + j + 1) << 32;
	}
}

/*
 * @n accesses: page (r >> 32) * P >> 32 (uniform, no division), slot from
 * bits 9 up, a write (the read's value plus one) when bits 5:0 are below
 * @wp. Returns the fold of every value read.
 */
static inline uint64_t mm_ws_run(struct mm_ws *ws, uint64_t n, uint64_t wp)
{
	const uint64_t p = ws->pages, smask = ws->slots - 1, stride = ws->stride;
	uint64_t s = MM_SEED, fold = 0, bad = 0, writes = 0;

	for (uint64_t a = 0; a < n; a++) {
		const uint64_t r = guest_xorshift64(&s);
		const uint64_t i = (r >> 32) * p >> 32, j = (r >> 9) & smask;
		volatile uint64_t *q = mm_page(i) + j * stride;
		const uint64_t v = *q;
		bad += (v >> 32) != i * (smask + 1) + j + 1;
		fold = (fold << 1 | fold >> 63) ^ v;
		if ((r & 63) < wp) {
			*q = v + 1;
			writes++;
		}
	}
	ws->bad += bad;
	ws->writes += writes;
	return fold;
}

/* The sum of every slot's write count; slots whose high half is not
 * their number count as bad. */
static inline uint64_t mm_ws_sum(struct mm_ws *ws)
{
	uint64_t sum = 0;

	for (uint64_t i = 0; i < ws->pages; i++) {
		const volatile uint64_t *q = mm_page(i);
		for (uint64_t j = 0; j < ws->slots; j++) {
			const uint64_t v = q[j * ws->stride];
			ws->bad += (v >> 32) != i * ws->slots + j + 1;
			sum += v & 0xffffffffull;
		}
	}
	return sum;
}

/* One more value @v into checksum @c: multiply by an odd constant, then
 * fold the high bits down, so every bit of @v reaches the low ones. */
static inline uint64_t mm_fold(uint64_t c, uint64_t v)
{
	c = (c ^ v) * MM_SEED;
	return c ^ c >> 29;
}

/* What tlbmiss and largepage print: the same for the same parameters,
 * whatever the page size. */
static inline uint64_t mm_ws_checksum(const struct mm_ws *ws, uint64_t fold, uint64_t sum)
{
	return fold ^ (sum << 17 | sum >> 47) ^ ws->writes << 40;
}

/*
 * The measured phase tlbmiss and largepage share, once their pages are
 * mapped and CR3 points at them: fill the slots, make @n accesses, sum
 * the slots, and print and check what must hold (no read named another
 * word; the slots counted every write). Returns the number of failed
 * checks; *@checksum gets the value to print.
 */
static inline unsigned mm_ws_measure(const char *name, struct mm_ws *ws, uint64_t n, uint64_t wp,
				     uint64_t *checksum)
{
	unsigned bad = 0;

	mm_ws_fill(ws);
	const uint64_t fold = mm_ws_run(ws, n, wp);
	const uint64_t sum = mm_ws_sum(ws);
	guest_printf("%s: %lu writes, slot sum %lu\n", name, ws->writes, sum);
	if (ws->bad) {
		guest_printf("%s: %lu reads named another word\n", name, ws->bad);
		bad++;
	}
	if (sum != ws->writes) {
		guest_printf("%s: the slots count %lu writes, expected %lu\n", name, sum, ws->writes);
		bad++;
	}
	*checksum = mm_ws_checksum(ws, fold, sum);
	return bad;
}

/* @s rounded down to a power of two (1 for 0). */
static inline uint64_t mm_pow2_floor(uint64_t s)
{
	uint64_t p = 1;

	while (p <= s / 2)
		p <<= 1;
	return p;
}

#endif
