/*
 * arena.c — see arena.h. The free list is an array of extents sorted by
 * start page; allocation is first fit with alignment, freeing inserts
 * and coalesces with both neighbours. The arena is small in extents
 * (memslots and page-table pages come and go, but fragmentation stays
 * bounded by the number of live allocations), so linear scans suffice.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/arena.h"

static int ensure_cap(struct arena *a)
{
	if (a->nfree < a->capfree)
		return 0;
	unsigned cap = a->capfree ? a->capfree * 2 : 64;
	struct arena_extent *n = realloc(a->free, cap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	a->free = n;
	a->capfree = cap;
	return 0;
}

int arena_init(struct arena *a, uint8_t *base, uint64_t first_page, uint64_t npages)
{
	memset(a, 0, sizeof(*a));
	a->base = base;
	a->npages = first_page + npages;
	if (ensure_cap(a))
		return -ENOMEM;
	a->free[0] = (struct arena_extent){ first_page, npages };
	a->nfree = npages ? 1 : 0;
	return 0;
}

void arena_fini(struct arena *a)
{
	free(a->free);
	memset(a, 0, sizeof(*a));
}

hpa_t arena_alloc(struct arena *a, uint64_t npages, uint64_t align)
{
	if (!npages || !align || (align & (align - 1)))
		return INVALID_HPA;
	for (unsigned i = 0; i < a->nfree; i++) {
		struct arena_extent *e = &a->free[i];
		const uint64_t start = (e->start + align - 1) & ~(align - 1);
		const uint64_t end = e->start + e->npages;
		if (start >= end || end - start < npages)
			continue;
		/* Split off the alignment gap before and the rest after. */
		const uint64_t head = start - e->start;
		const uint64_t tail = end - (start + npages);
		if (head && tail) {
			if (ensure_cap(a))
				return INVALID_HPA;
			e = &a->free[i];
			memmove(&a->free[i + 1], &a->free[i], (a->nfree - i) * sizeof(*e));
			a->nfree++;
			a->free[i] = (struct arena_extent){ e->start, head };
			a->free[i + 1] = (struct arena_extent){ start + npages, tail };
		} else if (head) {
			e->npages = head;
		} else if (tail) {
			e->start = start + npages;
			e->npages = tail;
		} else {
			memmove(&a->free[i], &a->free[i + 1], (a->nfree - i - 1) * sizeof(*e));
			a->nfree--;
		}
		a->used += npages;
		if (a->used > a->peak)
			a->peak = a->used;
		return start << 12;
	}
	return INVALID_HPA;
}

/* Give the pages back to the host: the arena is private anonymous
 * memory, so DONTNEED makes them read as zero again. */
static void zap(struct arena *a, uint64_t page, uint64_t npages)
{
	uint8_t *p = a->base + (page << 12);
	if (madvise(p, npages << 12, MADV_DONTNEED))
		memset(p, 0, npages << 12);
}

void arena_free(struct arena *a, hpa_t hpa, uint64_t npages)
{
	const uint64_t page = hpa >> 12;
	if (!npages || hpa == INVALID_HPA)
		return;
	zap(a, page, npages);
	a->used -= npages;
	unsigned i = 0;
	while (i < a->nfree && a->free[i].start < page)
		i++;
	const bool join_prev = i > 0 && a->free[i - 1].start + a->free[i - 1].npages == page;
	const bool join_next = i < a->nfree && page + npages == a->free[i].start;
	if (join_prev && join_next) {
		a->free[i - 1].npages += npages + a->free[i].npages;
		memmove(&a->free[i], &a->free[i + 1], (a->nfree - i - 1) * sizeof(a->free[0]));
		a->nfree--;
	} else if (join_prev) {
		a->free[i - 1].npages += npages;
	} else if (join_next) {
		a->free[i].start = page;
		a->free[i].npages += npages;
	} else {
		if (ensure_cap(a))
			return;	/* the pages leak rather than corrupt the list */
		memmove(&a->free[i + 1], &a->free[i], (a->nfree - i) * sizeof(a->free[0]));
		a->free[i] = (struct arena_extent){ page, npages };
		a->nfree++;
	}
}
