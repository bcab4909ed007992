/*
 * paging32.c — 32-bit (2-level) paging in 32-bit protected mode.
 *
 * SDM Vol. 3A:
 *  - 4.3: CR4.PSE=1 PAE=0, CR0.PG=1; a PDE with PS=1 maps 4 MiB (Table
 *    4-4), otherwise it locates a page table of 4 KiB PTEs (Table 4-6).
 *  - 4.6.1: supervisor reads anything mapped; supervisor writes need
 *    R/W=1 in every entry only when CR0.WP=1; user accesses need U/S=1 in
 *    every entry (PDE and PTE), user writes also R/W=1 in every entry.
 *  - 4.7: #PF error code bit 0 P (0 = not present, 1 = protection), bit 1
 *    W/R (write), bit 2 U/S (CPL 3); CR2 = the linear address. Bit 4
 *    (I/D) stays 0 for a fetch: it is reported only with CR4.SMEP=1 or
 *    with PAE and EFER.NXE=1, neither of which 32-bit paging has here.
 *  - 4.8: the processor sets A in every entry it uses and D in the entry
 *    that maps the page (PTE, or PDE with PS=1) on the first write; D of a
 *    PDE that references a page table is ignored (Table 4-5), not set.
 *  - 4.10.4.1: INVLPG drops the TLB entries of one page; MOV to CR3
 *    drops all non-global ones, so a CR3 switch shows the new tables.
 *
 * Layout (physical frames from 24 MiB, free under -m 64; each holds its
 * own tag): 0-4 MiB identity with one 4 MiB page, U/S=1 R/W=1 (the image,
 * so ring 3 can run the probes); 8 MiB: 4 KiB pages, supervisor R/W,
 * supervisor read-only, user R/W, user read-only, not present, and a
 * frame holding a RET as a user and as a supervisor page; 12 MiB:
 * a 4 MiB supervisor page at 28 MiB; 16 MiB: a user PTE under a
 * supervisor-only PDE.
 *
 * Expected serial output: tests/guests32/paging32.expect.
 * Expected exit status: 1 (guest_exit(0)).
 */
#include "guests32/guest32.h"

#define VA_UX		0x00805000u	/* FRAME(7), which holds a RET: user */
#define VA_SX		0x00806000u	/* FRAME(7): supervisor */

/* Entry bits and error codes written from the SDM (Tables 4-4..4-6, 4.7). */
#define P	0x001u
#define RW	0x002u
#define US	0x004u
#define PF_P	0x1u
#define PF_W	0x2u
#define PF_U	0x4u
#define NO_PF	PROBE_NO_PF

static struct pt32 as1, as2;

static void build(void)
{
	pg_tag_frames();

	pt32_init(&as1);
	pt32_map_4m(&as1, 0, 0, P | RW | US);
	pt32_map(&as1, PG_VA_SRW, PG_FRAME(0), P | RW);
	pt32_map(&as1, PG_VA_SRO, PG_FRAME(1), P);
	pt32_map(&as1, PG_VA_URW, PG_FRAME(2), P | RW | US);
	pt32_map(&as1, PG_VA_URO, PG_FRAME(3), P | US);
	pt32_map(&as1, PG_VA_NP, PG_FRAME(4), 0);
	pt32_map(&as1, VA_UX, PG_FRAME(7), P | RW | US);
	pt32_map(&as1, VA_SX, PG_FRAME(7), P | RW);
	pt32_map_4m(&as1, PG_VA_BIG, PG_BIG_PA, P | RW);
	pt32_map(&as1, PG_VA_SPDE, PG_FRAME(4), P | RW | US);
	*pt32_pde(&as1, PG_VA_SPDE) &= ~US;

	/* A second space: the same identity map, VA_SRW on another frame. */
	pt32_init(&as2);
	pt32_map_4m(&as2, 0, 0, P | RW | US);
	pt32_map(&as2, PG_VA_SRW, PG_FRAME(6), P | RW);
}

int guest_main(void)
{
	build();
	write_cr0(read_cr0() & ~CR0_WP);
	pt32_enable(&as1);
	uint32_t cr0 = read_cr0(), cr4 = read_cr4();
	pg_expect((cr0 & CR0_PG) && (cr4 & (CR4_PSE | CR4_PAE)) == CR4_PSE,
	          "32-bit paging on: CR0.PG=1 CR4.PSE=1 CR4.PAE=0");

	pg_read_frames("4 MiB");

	/* 4.7: not-present faults, P=0. */
	pg_access("ring 0 read, not present", 0, PROBE_READ, PG_VA_NP, 0);
	pg_access("ring 0 write, not present", 0, PROBE_WRITE, PG_VA_NP, PF_W);

	/* 4.6.1: CR0.WP. */
	pg_access("ring 0 write, read-only page, WP=0", 0, PROBE_WRITE, PG_VA_SRO, NO_PF);
	write_cr0(read_cr0() | CR0_WP);
	pg_access("ring 0 write, read-only page, WP=1", 0, PROBE_WRITE, PG_VA_SRO, PF_P | PF_W);
	pg_access("ring 0 write, user read-only page, WP=1", 0, PROBE_WRITE, PG_VA_URO, PF_P | PF_W);
	pg_access("ring 0 read, user page", 0, PROBE_READ, PG_VA_URO, NO_PF);

	/* 4.6.1: user accesses. */
	pg_access("ring 3 read, supervisor page", 3, PROBE_READ, PG_VA_SRW, PF_P | PF_U);
	pg_access("ring 3 write, supervisor page", 3, PROBE_WRITE, PG_VA_SRW, PF_P | PF_W | PF_U);
	pg_access("ring 3 read, user read-only page", 3, PROBE_READ, PG_VA_URO, NO_PF);
	pg_access("ring 3 write, user read-only page", 3, PROBE_WRITE, PG_VA_URO, PF_P | PF_W | PF_U);
	pg_access("ring 3 write, user page", 3, PROBE_WRITE, PG_VA_URW, NO_PF);
	pg_expect(pg_rd(PG_VA_URW) == PROBE_WRITE_VALUE, "the ring-3 write reached the frame");
	pg_access("ring 3 read, not present", 3, PROBE_READ, PG_VA_NP, PF_U);
	pg_access("ring 3 write, not present", 3, PROBE_WRITE, PG_VA_NP, PF_W | PF_U);
	pg_access("ring 3 read, user PTE under a supervisor PDE", 3, PROBE_READ, PG_VA_SPDE, PF_P | PF_U);
	pg_access("ring 3 read, 4 MiB supervisor page", 3, PROBE_READ, PG_VA_BIG, PF_P | PF_U);

	/* 4.7: I/D is reported only with PAE (and NXE) or SMEP, so a fetch
	 * fault here looks like a read. */
	pg_access("ring 0 fetch, user page", 0, PROBE_EXEC, VA_UX, NO_PF);
	pg_access("ring 3 fetch, user page", 3, PROBE_EXEC, VA_UX, NO_PF);
	pg_access("ring 3 fetch, supervisor page (no I/D bit)", 3, PROBE_EXEC, VA_SX, PF_P | PF_U);
	pg_access("ring 0 fetch, not present (no I/D bit)", 0, PROBE_EXEC, PG_VA_NP, 0);

	pg_accessed_dirty(pt32_pde(&as1, PG_VA_URW), pt32_pte(&as1, PG_VA_URW),
			  pt32_pde(&as1, PG_VA_BIG), "4 MiB");
	pg_invlpg(pt32_pte(&as1, PG_VA_SRW));
	pg_cr3_switch((uint32_t)as1.pd, (uint32_t)as2.pd, "space");

	paging32_disable();
	return pg_status("paging32");
}
