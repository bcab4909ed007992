/*
 * pt_builder.c — page tables for tests (see pt_builder.h): the index
 * and entry layout of each format, per SDM Vol. 3A 4.3 (32-bit: 10 index
 * bits per level, PSE-36 high address bits in 20:13 of a 4 MiB PDE), 4.4
 * (PAE: a 4-entry PDPT indexed by bits 31:30), 4.5 (4-level: 9 bits per
 * level) and Vol. 3C 29.3.2 (EPT: as 4-level, R/W/X in bits 2:0).
 */
#include <errno.h>
#include <string.h>

#include "tests/support/pt_builder.h"

static unsigned entry_size(enum ptb_fmt fmt)
{
	return fmt == PTB_32 ? 4 : 8;
}

static unsigned top_level(enum ptb_fmt fmt)
{
	return fmt == PTB_32 ? 2 : fmt == PTB_PAE ? 3 : 4;
}

static unsigned entry_index(enum ptb_fmt fmt, uint64_t va, unsigned level)
{
	if (fmt == PTB_32)
		return (unsigned)(va >> (12 + 10 * (level - 1))) & 0x3ff;
	if (fmt == PTB_PAE && level == 3)
		return (unsigned)(va >> 30) & 3;
	return (unsigned)(va >> (12 + 9 * (level - 1))) & 0x1ff;
}

static uint64_t table_addr(enum ptb_fmt fmt, uint64_t e)
{
	return fmt == PTB_32 ? e & 0xfffff000ull : e & 0x000ffffffffff000ull;
}

static int present(enum ptb_fmt fmt, uint64_t e)
{
	return fmt == PTB_EPT ? (e & 7) != 0 : (e & PTE_P) != 0;
}

/* Does @e at @level map a page (as opposed to referencing a table)? */
static int is_large(enum ptb_fmt fmt, uint64_t e, unsigned level)
{
	if (level == 1)
		return 1;
	if (level == 4 || (fmt == PTB_PAE && level == 3))
		return 0;
	return (e & PTE_PS) != 0;	/* PS and the EPT large bit are both bit 7 */
}

static uint64_t table_flags(enum ptb_fmt fmt, unsigned level)
{
	if (fmt == PTB_EPT)
		return EPT_R | EPT_W | EPT_X;
	if (fmt == PTB_PAE && level == 3)
		return PTE_P;
	return PTE_P | PTE_RW | PTE_US;
}

void ptb_init(struct ptb *b, void *mem, uint64_t mem_size, uint64_t hpa_offset,
	      uint64_t base, uint64_t end)
{
	b->mem = mem;
	b->mem_size = mem_size;
	b->hpa_offset = hpa_offset;
	b->next = (base + 0xfff) & ~0xfffull;
	b->end = end;
	b->pages = 0;
}

static void *ptr(struct ptb *b, uint64_t addr, uint64_t len)
{
	const uint64_t pa = addr + b->hpa_offset;
	if (pa < addr || pa >= b->mem_size || len > b->mem_size - pa)
		return NULL;
	return b->mem + pa;
}

uint64_t ptb_read(struct ptb *b, uint64_t addr, unsigned size)
{
	const void *p = ptr(b, addr, size);
	if (!p)
		return 0;
	if (size == 4) {
		uint32_t v;
		memcpy(&v, p, 4);
		return v;
	}
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

void ptb_write(struct ptb *b, uint64_t addr, unsigned size, uint64_t val)
{
	void *p = ptr(b, addr, size);
	if (!p)
		return;
	if (size == 4) {
		const uint32_t v = (uint32_t)val;
		memcpy(p, &v, 4);
	} else {
		memcpy(p, &val, 8);
	}
}

uint64_t ptb_alloc(struct ptb *b)
{
	if (b->next >= b->end || b->end - b->next < 4096)
		return PTB_NONE;
	void *p = ptr(b, b->next, 4096);
	if (!p)
		return PTB_NONE;
	memset(p, 0, 4096);
	b->pages++;
	const uint64_t page = b->next;
	b->next += 4096;
	return page;
}

uint64_t ptb_root(struct ptb *b, enum ptb_fmt fmt)
{
	(void)fmt;	/* every root fits in a page (a PDPT uses its first 32 bytes) */
	return ptb_alloc(b);
}

static int leaf_level(enum ptb_fmt fmt, uint64_t page_size)
{
	switch (page_size) {
	case PTB_4K:
		return 1;
	case PTB_2M:
		return fmt == PTB_32 ? -1 : 2;
	case PTB_4M:
		return fmt == PTB_32 ? 2 : -1;
	case PTB_1G:
		return fmt == PTB_64 || fmt == PTB_EPT ? 3 : -1;
	}
	return -1;
}

int ptb_map(struct ptb *b, enum ptb_fmt fmt, uint64_t root, uint64_t va, uint64_t pa,
	    uint64_t page_size, uint64_t flags)
{
	const int leaf = leaf_level(fmt, page_size);
	const unsigned size = entry_size(fmt);
	if (leaf < 0 || (va | pa) & (page_size - 1))
		return -EINVAL;
	uint64_t table = root;
	for (unsigned level = top_level(fmt); level > (unsigned)leaf; level--) {
		const uint64_t ea = table + entry_index(fmt, va, level) * size;
		uint64_t e = ptb_read(b, ea, size);
		if (!present(fmt, e)) {
			const uint64_t t = ptb_alloc(b);
			if (t == PTB_NONE)
				return -ENOMEM;
			e = t | table_flags(fmt, level);
			ptb_write(b, ea, size, e);
		} else if (is_large(fmt, e, level)) {
			return -EEXIST;
		}
		table = table_addr(fmt, e);
	}
	uint64_t e = pa | flags;
	if (leaf > 1) {
		e |= PTE_PS;
		if (fmt == PTB_32)	/* PSE-36: address bits 39:32 in 20:13 */
			e = (pa & 0xffc00000ull) | (((pa >> 32) & 0xff) << 13) |
			    (flags & 0xfffff) | PTE_PS;
	}
	ptb_write(b, table + entry_index(fmt, va, (unsigned)leaf) * size, size, e);
	return 0;
}

int ptb_map_range(struct ptb *b, enum ptb_fmt fmt, uint64_t root, uint64_t va,
		  uint64_t pa, uint64_t len, uint64_t page_size, uint64_t flags)
{
	for (uint64_t off = 0; off < len; off += page_size) {
		const int r = ptb_map(b, fmt, root, va + off, pa + off, page_size, flags);
		if (r)
			return r;
	}
	return 0;
}

uint64_t ptb_entry_addr(struct ptb *b, enum ptb_fmt fmt, uint64_t root, uint64_t va,
			unsigned level)
{
	const unsigned size = entry_size(fmt);
	uint64_t table = root;
	if (level < 1 || level > top_level(fmt))
		return PTB_NONE;
	for (unsigned l = top_level(fmt);; l--) {
		const uint64_t ea = table + entry_index(fmt, va, l) * size;
		if (l == level)
			return ea;
		const uint64_t e = ptb_read(b, ea, size);
		if (!present(fmt, e) || is_large(fmt, e, l))
			return PTB_NONE;
		table = table_addr(fmt, e);
	}
}

uint64_t ptb_get(struct ptb *b, enum ptb_fmt fmt, uint64_t root, uint64_t va,
		 unsigned level)
{
	const uint64_t ea = ptb_entry_addr(b, fmt, root, va, level);
	return ea == PTB_NONE ? 0 : ptb_read(b, ea, entry_size(fmt));
}

int ptb_update(struct ptb *b, enum ptb_fmt fmt, uint64_t root, uint64_t va,
	       unsigned level, uint64_t set, uint64_t clear)
{
	const uint64_t ea = ptb_entry_addr(b, fmt, root, va, level);
	if (ea == PTB_NONE)
		return -ENOENT;
	const unsigned size = entry_size(fmt);
	ptb_write(b, ea, size, (ptb_read(b, ea, size) & ~clear) | set);
	return 0;
}

void ptb_pae_pdptes(struct ptb *b, uint64_t root, uint64_t pdpte[4])
{
	for (unsigned i = 0; i < 4; i++)
		pdpte[i] = ptb_read(b, root + 8 * i, 8);
}
