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

#define MiB		0x100000u
#define F(n)		(24 * MiB + (n) * 0x1000u)	/* test frames */
#define BIG_PA		(28 * MiB)
#define TAG(pa)		(0x7a000000u | ((pa) >> 12))	/* what frame pa holds */

#define VA_SRW		0x00800000u
#define VA_SRO		0x00801000u
#define VA_URW		0x00802000u
#define VA_URO		0x00803000u
#define VA_NP		0x00804000u
#define VA_UX		0x00805000u	/* F(7), which holds a RET: user */
#define VA_SX		0x00806000u	/* F(7): supervisor */
#define VA_BIG		0x00c00000u
#define VA_SPDE		0x01000000u

/* Entry bits and error codes written from the SDM (Tables 4-4..4-6, 4.7). */
#define P	0x001u
#define RW	0x002u
#define US	0x004u
#define A	0x020u
#define D	0x040u
#define PF_P	0x1u
#define PF_W	0x2u
#define PF_U	0x4u
#define NO_PF	PROBE_NO_PF

static int bad;
static struct pt32 as1, as2;

static void expect(bool ok, const char *what)
{
	guest_printf("%s: %s\n", what, ok ? "ok" : "WRONG");
	bad += !ok;
}

static void access(const char *what, unsigned ring, enum probe_access acc, uint32_t va,
		   uint32_t want)
{
	bad += !probe_check(what, ring, acc, va, want);
}

static uint32_t rd(uint32_t va)
{
	return *(volatile uint32_t *)va;
}

static void wr(uint32_t va, uint32_t v)
{
	*(volatile uint32_t *)va = v;
}

static void build(void)
{
	for (unsigned n = 0; n < 7; n++)
		wr(F(n), TAG(F(n)));
	*(volatile uint8_t *)F(7) = 0xc3;	/* RET */
	wr(BIG_PA + 0x1000, TAG(BIG_PA + 0x1000));

	pt32_init(&as1);
	pt32_map_4m(&as1, 0, 0, P | RW | US);
	pt32_map(&as1, VA_SRW, F(0), P | RW);
	pt32_map(&as1, VA_SRO, F(1), P);
	pt32_map(&as1, VA_URW, F(2), P | RW | US);
	pt32_map(&as1, VA_URO, F(3), P | US);
	pt32_map(&as1, VA_NP, F(4), 0);
	pt32_map(&as1, VA_UX, F(7), P | RW | US);
	pt32_map(&as1, VA_SX, F(7), P | RW);
	pt32_map_4m(&as1, VA_BIG, BIG_PA, P | RW);
	pt32_map(&as1, VA_SPDE, F(4), P | RW | US);
	*pt32_pde(&as1, VA_SPDE) &= ~US;

	/* A second space: the same identity map, VA_SRW on another frame. */
	pt32_init(&as2);
	pt32_map_4m(&as2, 0, 0, P | RW | US);
	pt32_map(&as2, VA_SRW, F(6), P | RW);
}

int guest_main(void)
{
	build();
	write_cr0(read_cr0() & ~CR0_WP);
	pt32_enable(&as1);
	uint32_t cr0 = read_cr0(), cr4 = read_cr4();
	expect((cr0 & CR0_PG) && (cr4 & (CR4_PSE | CR4_PAE)) == CR4_PSE,
	       "32-bit paging on: CR0.PG=1 CR4.PSE=1 CR4.PAE=0");

	expect(rd(VA_SRW) == TAG(F(0)) && rd(VA_URO) == TAG(F(3)), "4 KiB pages read their frames");
	expect(rd(VA_BIG + 0x1000) == TAG(BIG_PA + 0x1000), "4 MiB page: offset 0x1000 reads 28 MiB + 0x1000");

	/* 4.7: not-present faults, P=0. */
	access("ring 0 read, not present", 0, PROBE_READ, VA_NP, 0);
	access("ring 0 write, not present", 0, PROBE_WRITE, VA_NP, PF_W);

	/* 4.6.1: CR0.WP. */
	access("ring 0 write, read-only page, WP=0", 0, PROBE_WRITE, VA_SRO, NO_PF);
	write_cr0(read_cr0() | CR0_WP);
	access("ring 0 write, read-only page, WP=1", 0, PROBE_WRITE, VA_SRO, PF_P | PF_W);
	access("ring 0 write, user read-only page, WP=1", 0, PROBE_WRITE, VA_URO, PF_P | PF_W);
	access("ring 0 read, user page", 0, PROBE_READ, VA_URO, NO_PF);

	/* 4.6.1: user accesses. */
	access("ring 3 read, supervisor page", 3, PROBE_READ, VA_SRW, PF_P | PF_U);
	access("ring 3 write, supervisor page", 3, PROBE_WRITE, VA_SRW, PF_P | PF_W | PF_U);
	access("ring 3 read, user read-only page", 3, PROBE_READ, VA_URO, NO_PF);
	access("ring 3 write, user read-only page", 3, PROBE_WRITE, VA_URO, PF_P | PF_W | PF_U);
	access("ring 3 write, user page", 3, PROBE_WRITE, VA_URW, NO_PF);
	expect(rd(VA_URW) == PROBE_WRITE_VALUE, "the ring-3 write reached the frame");
	access("ring 3 read, not present", 3, PROBE_READ, VA_NP, PF_U);
	access("ring 3 write, not present", 3, PROBE_WRITE, VA_NP, PF_W | PF_U);
	access("ring 3 read, user PTE under a supervisor PDE", 3, PROBE_READ, VA_SPDE, PF_P | PF_U);
	access("ring 3 read, 4 MiB supervisor page", 3, PROBE_READ, VA_BIG, PF_P | PF_U);

	/* 4.7: I/D is reported only with PAE (and NXE) or SMEP, so a fetch
	 * fault here looks like a read. */
	access("ring 0 fetch, user page", 0, PROBE_EXEC, VA_UX, NO_PF);
	access("ring 3 fetch, user page", 3, PROBE_EXEC, VA_UX, NO_PF);
	access("ring 3 fetch, supervisor page (no I/D bit)", 3, PROBE_EXEC, VA_SX, PF_P | PF_U);
	access("ring 0 fetch, not present (no I/D bit)", 0, PROBE_EXEC, VA_NP, 0);

	/* 4.8: A and D. Clear them, flush, then read and write. The CPU
	 * writes the entries behind the compiler's back: volatile. */
	volatile uint32_t *pde = pt32_pde(&as1, VA_URW), *pte = pt32_pte(&as1, VA_URW);
	volatile uint32_t *big = pt32_pde(&as1, VA_BIG);
	*pde &= ~(A | D);
	*pte &= ~(A | D);
	*big &= ~(A | D);
	invlpg(VA_URW);
	invlpg(VA_BIG);
	(void)rd(VA_URW);
	(void)rd(VA_BIG);
	expect((*pde & A) && (*pte & A) && !(*pte & D), "read: A set in PDE and PTE, D clear");
	expect((*big & A) && !(*big & D), "read: A set in the 4 MiB PDE, D clear");
	wr(VA_URW, 0x1234);
	wr(VA_BIG, 0x5678);
	expect((*pte & D) && !(*pde & D), "write: D set in the PTE, not in the PDE above it");
	expect(*big & D, "write: D set in the 4 MiB PDE");

	/* 4.10.4.1: INVLPG after a PTE change. */
	uint32_t *srw = pt32_pte(&as1, VA_SRW), old = *srw;
	(void)rd(VA_SRW);
	*srw = F(5) | P | RW;
	invlpg(VA_SRW);
	expect(rd(VA_SRW) == TAG(F(5)), "PTE re-pointed + INVLPG: the new frame is read");
	*srw = old;
	invlpg(VA_SRW);
	expect(rd(VA_SRW) == TAG(F(0)), "PTE restored + INVLPG: the old frame again");

	/* 4.10.4.1: CR3 switch. */
	write_cr3((uint32_t)as2.pd);
	expect(rd(VA_SRW) == TAG(F(6)), "CR3 -> second space: its frame for the same address");
	access("second space: 8 MiB + 4 KiB not mapped", 0, PROBE_READ, VA_SRO, 0);
	write_cr3((uint32_t)as1.pd);
	expect(rd(VA_SRW) == TAG(F(0)), "CR3 -> first space again");

	paging32_disable();
	guest_printf("paging32: %s\n", bad ? "MISMATCH" : "all match the SDM");
	return bad ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
