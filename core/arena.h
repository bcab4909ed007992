/*
 * arena.h — core's allocator of host-physical memory: the pages of the
 * machine's arena (ARCHITECTURE §3), handed out as contiguous runs for
 * guest RAM and as single pages for control structures and MMU tables.
 *
 * A first-fit list of free extents, sorted by address and coalesced on
 * free. Pages come back zeroed: a freed run is returned to the host
 * (madvise DONTNEED on the lazily backed arena), so the next owner
 * never sees the last one's data and the process's footprint shrinks.
 */
#ifndef HVLAB_CORE_ARENA_H
#define HVLAB_CORE_ARENA_H

#include <stdint.h>

#include "hvlab/types.h"

struct arena_extent {
	uint64_t start, npages;
};

struct arena {
	uint8_t *base;			/* host pointer of hpa 0 */
	uint64_t npages;		/* pages in the arena */
	struct arena_extent *free;	/* free extents by address */
	unsigned nfree, capfree;
	uint64_t used;			/* pages handed out now */
	uint64_t peak;			/* most pages handed out at once */
};

/* Manage [first_page, npages) of the arena at @base. 0 or -ENOMEM. */
int arena_init(struct arena *a, uint8_t *base, uint64_t first_page, uint64_t npages);
void arena_fini(struct arena *a);
/* @npages contiguous zeroed pages aligned to @align pages (a power of
 * two); INVALID_HPA when there is no room. */
hpa_t arena_alloc(struct arena *a, uint64_t npages, uint64_t align);
void arena_free(struct arena *a, hpa_t hpa, uint64_t npages);

#endif
