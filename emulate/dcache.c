/*
 * dcache.c — the decode cache (CONFIG_EMU_DECODE_CACHE): blocks of
 * decoded instructions.
 *
 * A block is a straight-line run of up to EMU_BLOCK_INSNS instructions,
 * decoded once, keyed by the linear address of its first instruction and
 * the decode mode; the interpreter loop (exec.c) runs a block's
 * instructions one after the other, as a chain of slot handlers
 * (dcache.h), and leaves it when rip goes elsewhere. The table is
 * direct-mapped by a hash of the address: a conflict just means decoding
 * again.
 *
 * Blocks end at an unconditional branch, at an instruction that may
 * change the CPU mode, at a decode fault, and at the page end: only a
 * block's single instruction may run into the next page. So a block lies
 * in at most two pages, and invalidating a page drops every block that
 * overlaps it.
 *
 * Coherence is the caller's job: whoever writes a page that may hold code
 * calls emu_dcache_invalidate_page() (hw/ does this for every guest write
 * to a page it has fetched from: self- and cross-modifying code). The
 * interpreter checks the generation counter after each instruction that
 * called an op (the general path), so a store into the block being
 * executed takes effect at the next instruction, as x86 requires (SDM
 * Vol. 3A 11.6). Stores the engine makes without an op, front-TLB write
 * hits, cannot drop code: the caller keeps pages that hold decoded code
 * out of the front TLB's write entries, or it could not see those stores
 * to invalidate anything (hw/xlat.c front_fill()).
 */
#include <stdlib.h>

#include "emulate/dcache.h"

struct emu_dcache *emu_dcache_create(unsigned bits)
{
	if (bits < 6 || bits > 16)
		return NULL;
	struct emu_dcache *dc = malloc(sizeof(*dc));
	if (!dc)
		return NULL;
	dc->bits = bits;
	dc->gen = 0;
	dc->b = malloc(sizeof(*dc->b) << bits);
	if (!dc->b) {
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
	free(dc->b);
	free(dc);
}

void emu_dcache_invalidate_page(struct emu_dcache *dc, uint64_t page_addr)
{
	const uint64_t page = page_addr & ~4095ull;
	for (size_t i = 0; i < (size_t)1 << dc->bits; i++) {
		struct emu_block *b = &dc->b[i];
		if (b->mode != BLOCK_EMPTY && b->addr < page + 4096 &&
		    b->addr + b->bytes > page)
			b->mode = BLOCK_EMPTY;
	}
	dc->gen++;
}

void emu_dcache_flush(struct emu_dcache *dc)
{
	for (size_t i = 0; i < (size_t)1 << dc->bits; i++)
		dc->b[i].mode = BLOCK_EMPTY;
	dc->gen++;
}
