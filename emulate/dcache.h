/*
 * dcache.h — the decode cache's layout, shared by dcache.c and the
 * interpreter loop in exec.c, which inlines the lookup (it runs once per
 * instruction). See dcache.c for the design.
 */
#ifndef HVLAB_EMULATE_DCACHE_H
#define HVLAB_EMULATE_DCACHE_H

#include "emulate/exec.h"

struct dcache_entry {
	uint64_t addr;
	uint32_t mode;		/* enum emu_mode, or EMPTY */
	struct emu_insn insn;
};

struct emu_dcache {
	uint64_t mask;
	struct dcache_entry *e;
};

#define EMPTY 0xffffffffu

static inline const struct emu_insn *dcache_lookup(struct emu_dcache *dc,
						   uint64_t addr, enum emu_mode mode)
{
	struct dcache_entry *e = &dc->e[addr & dc->mask];
	return e->addr == addr && e->mode == (uint32_t)mode ? &e->insn : NULL;
}

#endif
