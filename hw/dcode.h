/*
 * dcode.h — keeping decoded instructions coherent with memory (hw/dcode.c).
 *
 * Each processor runs guest code through emulate/'s decode cache, keyed
 * by the host-physical address of the code (emu_ops.code_key). A bit per
 * arena page records that some processor may hold decoded code from it;
 * any write to such a page — by a guest on any processor, by a page
 * walk's A/D update, or by the host (hw_hpa_written) — drops that page's
 * code from every processor's cache: at once on the writing processor,
 * by a request the others serve before they next pass an instruction
 * boundary the run loop looks at or a serializing instruction. So
 * self-modifying code takes effect at the next instruction and
 * cross-modifying code after the executing processor serializes (SDM
 * Vol. 3A 9.1.3, 11.6), whatever thread each processor runs on.
 *
 * The functions with a @self take the processor the calling thread runs
 * (its own caches are updated directly), or NULL for a thread that runs
 * none (the host; a walk made for no processor).
 */
#ifndef HVLAB_HW_DCODE_H
#define HVLAB_HW_DCODE_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/cpu.h"

static inline bool hw_is_code_page(const struct hw_machine *m, uint64_t pfn)
{
	return (__atomic_load_n(&m->code_pages[pfn / 64], __ATOMIC_ACQUIRE) >> (pfn % 64)) & 1;
}

/* Page @pfn is about to hold decoded code of @self (or of nobody in
 * particular: NULL); see dcode.c. */
void hw_code_page_mark(struct hw_machine *m, struct hw_cpu *self, uint64_t pfn);

/* Decoded code is about to be cached from page @pfn. */
static inline void hw_mark_code_page(struct hw_machine *m, uint64_t pfn)
{
	if (!hw_is_code_page(m, pfn))
		hw_code_page_mark(m, NULL, pfn);
}

/* The same on behalf of processor @cpu, before it decodes from @pfn. */
static inline void hw_cpu_mark_code_page(struct hw_cpu *cpu, uint64_t pfn)
{
	if (!hw_is_code_page(cpu->m, pfn))
		hw_code_page_mark(cpu->m, cpu, pfn);
}

void hw_code_page_drop(struct hw_machine *m, struct hw_cpu *self, uint64_t pfn);

/* Wait until no hw_code_page_drop() is between clearing its bit and
 * posting its requests (dcode.c). */
void hw_code_drops_settle(struct hw_machine *m);

/*
 * Page @pfn (inside the arena) was written, by @self or the host: drop
 * its decoded code. Call it after the write: whoever marks the page
 * after this looks at the bit decodes the new bytes (dcode.c).
 */
static inline void hw_code_page_written(struct hw_machine *m, struct hw_cpu *self, uint64_t pfn)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (hw_is_code_page(m, pfn))
		hw_code_page_drop(m, self, pfn);
	else if (__atomic_load_n(&m->drops_in_flight, __ATOMIC_ACQUIRE))
		hw_code_drops_settle(m);
}

/*
 * The owner has just stored a front-TLB write entry to page @pfn: may it
 * keep it? No if the page holds code now, or a drop is on its way (the
 * stores through it would bypass both; dcode.c).
 */
static inline bool hw_front_write_stays(const struct hw_machine *m, uint64_t pfn)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !hw_is_code_page(m, pfn) && !__atomic_load_n(&m->drops_in_flight, __ATOMIC_ACQUIRE);
}

/* The owner's side of the requests (hw/request.c): drop page @pfn's (or
 * every page's) decoded code from its own cache; drop its front-TLB write
 * entries to code pages, and with @loud drop those pages' code everywhere. */
void hw_code_drop_local(struct hw_cpu *cpu, uint64_t pfn);
void hw_code_drop_all_local(struct hw_cpu *cpu);
void hw_front_check(struct hw_cpu *cpu, bool loud);

#endif
