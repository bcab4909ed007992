/*
 * dcache.h — the decode cache's layout, shared by dcache.c (management)
 * and exec.c (block building and the interpreter loop). See dcache.c.
 */
#ifndef HVLAB_EMULATE_DCACHE_H
#define HVLAB_EMULATE_DCACHE_H

#include "emulate/exec.h"

#define EMU_BLOCK_INSNS 16

/* A straight-line run of decoded instructions. */
struct emu_block {
	uint64_t addr;		/* linear address of the first instruction */
	uint32_t cs_limit;	/* CS limit it was decoded under */
	uint8_t mode;		/* enum emu_mode, or BLOCK_EMPTY */
	uint8_t n;		/* instructions, 1..EMU_BLOCK_INSNS */
	uint16_t bytes;		/* their total length */
	struct emu_insn insn[EMU_BLOCK_INSNS];
};

struct emu_dcache {
	uint64_t gen;		/* bumped by every invalidation */
	unsigned bits;
	struct emu_block *b;
};

#define BLOCK_EMPTY 0xff

static inline struct emu_block *dcache_slot(struct emu_dcache *dc, uint64_t addr)
{
	return &dc->b[(addr * 0x9e3779b97f4a7c15ull) >> (64 - dc->bits)];
}

#endif
