/*
 * pt_builder.h — building page tables for tests: x86 32-bit, PAE and
 * 4-level paging (the last also being AMD nested paging's format) and
 * EPT, in the real formats (SDM Vol. 3A 4.3-4.5, Vol. 3C 29.3.2), with a
 * bump page allocator.
 *
 * The builder sees physical memory as one flat block given by a host
 * pointer (for hw/ tests: hw_hpa_ptr(m, 0, hw_arena_size(m))), so it has
 * no link-time tie to hw/. Tables live in an address space of their own:
 * entries hold table-space addresses, and table-space address a is at
 * physical address a + hpa_offset. Use hpa_offset 0 for tables read
 * directly from host-physical memory (EPT, NPT, guest tables without
 * nesting), and the gpa -> hpa offset of the guest's memory for guest
 * tables under EPT/NPT.
 *
 * Levels count up from the leaf: 1 = PTE, 2 = PDE, 3 = PDPTE, 4 = PML4E.
 * A PAE root is the 32-byte PDPT (level 3), a 32-bit root the PD (level 2).
 *
 * The entry bits below are written from the manuals, not taken from
 * hw/'s headers, so a wrong constant there shows up in tests.
 */
#ifndef HVLAB_TESTS_PT_BUILDER_H
#define HVLAB_TESTS_PT_BUILDER_H

#include <stdint.h>

enum ptb_fmt {
	PTB_32,		/* 32-bit paging: 4-byte entries; 4 KiB, 4 MiB pages */
	PTB_PAE,	/* PAE paging: 4 KiB, 2 MiB pages */
	PTB_64,		/* 4-level paging, AMD NPT: 4 KiB, 2 MiB, 1 GiB pages */
	PTB_EPT,	/* EPT: 4 KiB, 2 MiB, 1 GiB pages */
};

#define PTB_4K (1ull << 12)
#define PTB_2M (1ull << 21)
#define PTB_4M (1ull << 22)
#define PTB_1G (1ull << 30)

/* x86 paging-structure entry bits (SDM Vol. 3A Tables 4-4..4-20). */
#define PTE_P	(1ull << 0)
#define PTE_RW	(1ull << 1)
#define PTE_US	(1ull << 2)
#define PTE_PWT	(1ull << 3)
#define PTE_PCD	(1ull << 4)
#define PTE_A	(1ull << 5)
#define PTE_D	(1ull << 6)
#define PTE_PS	(1ull << 7)
#define PTE_G	(1ull << 8)
#define PTE_XD	(1ull << 63)

/* EPT entry bits (SDM Vol. 3C Tables 29-1..29-6). */
#define EPT_R	(1ull << 0)
#define EPT_W	(1ull << 1)
#define EPT_X	(1ull << 2)
#define EPT_MT(t) ((uint64_t)(t) << 3)	/* memory type of a leaf, bits 5:3 */
#define EPT_MT_WB EPT_MT(6)
#define EPT_IPAT (1ull << 6)
#define EPT_LARGE (1ull << 7)
#define EPT_A	(1ull << 8)
#define EPT_D	(1ull << 9)

/* ptb_entry_addr(): no such entry. */
#define PTB_NONE (~0ull)

struct ptb {
	uint8_t *mem;		/* host pointer of physical address 0 */
	uint64_t mem_size;	/* bytes of physical memory at mem */
	uint64_t hpa_offset;	/* physical address of table-space address 0 */
	uint64_t next, end;	/* free pages: [next, end), table space */
	unsigned pages;		/* pages handed out so far */
};

/* Tables go to the pages of [base, end) (table-space addresses). */
void ptb_init(struct ptb *b, void *mem, uint64_t mem_size, uint64_t hpa_offset,
	      uint64_t base, uint64_t end);

/* A zeroed page (table-space address), or PTB_NONE when none is left. */
uint64_t ptb_alloc(struct ptb *b);

/* An empty root table for @fmt, or PTB_NONE. */
uint64_t ptb_root(struct ptb *b, enum ptb_fmt fmt);

/*
 * Map the page of @page_size at @va to @pa with leaf bits @flags (x86:
 * PTE_*, EPT: EPT_* including the memory type; the large-page bit is
 * added for pages above 4 KiB). Missing tables are allocated and linked
 * with the most permissive entry (x86: P|RW|US; a PAE PDPTE: P only, its
 * other low bits being reserved; EPT: R|W|X). 0, -EINVAL (size not in
 * @fmt, or misaligned), -EEXIST (a large page is in the way), -ENOMEM.
 */
int ptb_map(struct ptb *b, enum ptb_fmt fmt, uint64_t root, uint64_t va, uint64_t pa,
	    uint64_t page_size, uint64_t flags);

/* ptb_map() for each page of [va, va + len). */
int ptb_map_range(struct ptb *b, enum ptb_fmt fmt, uint64_t root, uint64_t va,
		  uint64_t pa, uint64_t len, uint64_t page_size, uint64_t flags);

/* The table-space address of the level-@level entry on @va's path, or
 * PTB_NONE when the path ends above that level. */
uint64_t ptb_entry_addr(struct ptb *b, enum ptb_fmt fmt, uint64_t root, uint64_t va,
			unsigned level);

/* That entry's value (0 when there is none), and changing it: set @set,
 * clear @clear. ptb_update returns -ENOENT when there is no such entry. */
uint64_t ptb_get(struct ptb *b, enum ptb_fmt fmt, uint64_t root, uint64_t va,
		 unsigned level);
int ptb_update(struct ptb *b, enum ptb_fmt fmt, uint64_t root, uint64_t va,
	       unsigned level, uint64_t set, uint64_t clear);

/* Memory at table-space address @addr (@size 4 or 8); reads outside the
 * memory give 0, writes there are ignored. */
uint64_t ptb_read(struct ptb *b, uint64_t addr, unsigned size);
void ptb_write(struct ptb *b, uint64_t addr, unsigned size, uint64_t val);

/* The four PDPTEs of PAE root @root, as MOV CR3 loads them. */
void ptb_pae_pdptes(struct ptb *b, uint64_t root, uint64_t pdpte[4]);

#endif
