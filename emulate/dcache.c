/*
 * dcache.c — the decoded-instruction cache (CONFIG_EMU_DECODE_CACHE).
 *
 * Direct-mapped: entry i holds the instruction decoded at an address whose
 * low bits are i. A hot loop is decoded once; a conflict simply decodes
 * again. Entries are tagged with the full address and the decode mode
 * (the same bytes mean different instructions in 16/32/64-bit code).
 *
 * Coherence is the caller's job: whoever writes a page that may hold
 * code calls emu_dcache_invalidate_page() (hw/ does this for every guest
 * write to a page it has fetched from: self- and cross-modifying code).
 * Because the index is the low address bits, one page's entries are the
 * 4096 consecutive slots starting at its index (when the cache has at
 * least 2^12 entries), so invalidation touches only those slots.
 */
#include <stdlib.h>

#include "emulate/dcache.h"

struct emu_dcache *emu_dcache_create(unsigned bits)
{
	if (bits < 12 || bits > 24)
		return NULL;
	struct emu_dcache *dc = malloc(sizeof(*dc));
	if (!dc)
		return NULL;
	dc->mask = (1ull << bits) - 1;
	dc->e = malloc(sizeof(*dc->e) << bits);
	if (!dc->e) {
		free(dc);
		return NULL;
	}
	emu_dcache_flush(dc);
	return dc;
}

void emu_dcache_destroy(struct emu_dcache *dc)
{
	if (!dc)
		return;
	free(dc->e);
	free(dc);
}

const struct emu_insn *emu_dcache_lookup(struct emu_dcache *dc, uint64_t addr,
					 enum emu_mode mode)
{
	return dcache_lookup(dc, addr, mode);
}

void emu_dcache_fill(struct emu_dcache *dc, uint64_t addr, enum emu_mode mode,
		     const struct emu_insn *insn)
{
	struct dcache_entry *e = &dc->e[addr & dc->mask];
	e->addr = addr;
	e->mode = mode;
	e->insn = *insn;
}

/* Drop every entry whose instruction starts in, or runs into, the page.
 * An instruction that starts up to 14 bytes before the page may extend
 * into it, so those slots are checked too. */
void emu_dcache_invalidate_page(struct emu_dcache *dc, uint64_t page_addr)
{
	uint64_t page = page_addr & ~4095ull;
	for (uint64_t a = page - (EMU_MAX_INSN_LEN - 1); a != page + 4096; a++) {
		struct dcache_entry *e = &dc->e[a & dc->mask];
		if (e->addr == a)
			e->mode = EMPTY;
	}
}

void emu_dcache_flush(struct emu_dcache *dc)
{
	for (uint64_t i = 0; i <= dc->mask; i++)
		dc->e[i].mode = EMPTY;
}
