/*
 * dcode.h — keeping decoded instructions coherent with memory (hw/dcode.c).
 *
 * Each processor runs guest code through emulate/'s decode cache, keyed
 * by the host-physical address of the code (emu_ops.code_key). A bit per
 * arena page records that some processor holds decoded code from it; any
 * write to such a page — by a guest on any processor, by a page walk's
 * A/D update, or by the host (hw_hpa_written) — drops that page's code
 * from every processor's cache. So self-modifying and cross-modifying
 * code take effect as SDM Vol. 3A 11.6 requires.
 */
#ifndef HVLAB_HW_DCODE_H
#define HVLAB_HW_DCODE_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/cpu.h"

static inline bool hw_is_code_page(const struct hw_machine *m, uint64_t pfn)
{
	return (m->code_pages[pfn / 64] >> (pfn % 64)) & 1;
}

void hw_code_page_mark(struct hw_machine *m, uint64_t pfn);

/* Decoded code is about to be cached from page @pfn. */
static inline void hw_mark_code_page(struct hw_machine *m, uint64_t pfn)
{
	if (!hw_is_code_page(m, pfn))
		hw_code_page_mark(m, pfn);
}

void hw_code_page_drop(struct hw_machine *m, uint64_t pfn);

/* Page @pfn (inside the arena) was written: drop its decoded code. */
static inline void hw_code_page_written(struct hw_machine *m, uint64_t pfn)
{
	if (hw_is_code_page(m, pfn))
		hw_code_page_drop(m, pfn);
}

#endif
