/*
 * pgcheck.c — what the 32-bit paging tests (tests/guests32/paging32.c,
 * paging_pae.c) share: the tagged frames they map, their one-line
 * verdicts, and the checks that read the same in both formats.
 *
 * Frames PG_FRAME(0..6) and one page of the large mapping hold
 * PG_TAG(their address), so a read shows which frame a translation
 * reached; PG_FRAME(7) holds a RET for the fetch probes.
 *
 * One routine serves both formats because every bit it touches is in
 * the low doubleword of an entry: A (bit 5), D (bit 6), P, R/W and the
 * address bits 31:12 stand at the same places in a 32-bit entry (SDM
 * Vol. 3A Tables 4-4..4-6) and in a 64-bit PAE entry (Tables 4-9..4-11,
 * little-endian, so the low doubleword is at the entry's address). The
 * high doubleword (XD, address bits above 4 GiB) of the PAE entries
 * checked here is 0 and stays so.
 *
 *  - 4.8: the processor sets A in every entry a walk uses and D in the
 *    entry that maps the page (PTE, or PDE with PS=1) on the first
 *    write; D of a PDE that references a page table is not set.
 *  - 4.10.4.1: INVLPG drops the TLB entries of one page; MOV to CR3
 *    drops all non-global ones, so a CR3 switch shows the new tables.
 */
#include "guests32/guest32.h"

#define PG_RET	0xc3
#define PG_A	0x020u
#define PG_D	0x040u
#define PG_P	0x001u
#define PG_RW	0x002u

static int bad;

void pg_expect(bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	guest_vprintf(fmt, ap);
	va_end(ap);
	guest_printf(": %s\n", ok ? "ok" : "WRONG");
	bad += !ok;
}

void pg_access(const char *what, unsigned ring, enum probe_access acc, uint32_t va,
	       uint32_t want)
{
	bad += !probe_check(what, ring, acc, va, want);
}

void pg_tag_frames(void)
{
	for (unsigned n = 0; n < 7; n++)
		pg_wr(PG_FRAME(n), PG_TAG(PG_FRAME(n)));
	*(volatile uint8_t *)PG_FRAME(7) = PG_RET;
	pg_wr(PG_BIG_PA + 0x1000, PG_TAG(PG_BIG_PA + 0x1000));
}

void pg_read_frames(const char *big_name)
{
	pg_expect(pg_rd(PG_VA_SRW) == PG_TAG(PG_FRAME(0)) && pg_rd(PG_VA_URO) == PG_TAG(PG_FRAME(3)),
		  "4 KiB pages read their frames");
	pg_expect(pg_rd(PG_VA_BIG + 0x1000) == PG_TAG(PG_BIG_PA + 0x1000),
		  "%s page: offset 0x1000 reads 28 MiB + 0x1000", big_name);
}

void pg_accessed_dirty(volatile uint32_t *pde, volatile uint32_t *pte, volatile uint32_t *big,
		       const char *big_name)
{
	/* Clear them, flush, then read and write. The CPU writes the
	 * entries behind the compiler's back: volatile. */
	*pde &= ~(PG_A | PG_D);
	*pte &= ~(PG_A | PG_D);
	*big &= ~(PG_A | PG_D);
	invlpg(PG_VA_URW);
	invlpg(PG_VA_BIG);
	(void)pg_rd(PG_VA_URW);
	(void)pg_rd(PG_VA_BIG);
	pg_expect((*pde & PG_A) && (*pte & PG_A) && !(*pte & PG_D),
		  "read: A set in PDE and PTE, D clear");
	pg_expect((*big & PG_A) && !(*big & PG_D),
		  "read: A set in the %s PDE, D clear", big_name);
	pg_wr(PG_VA_URW, 0x1234);
	pg_wr(PG_VA_BIG, 0x5678);
	pg_expect((*pte & PG_D) && !(*pde & PG_D),
		  "write: D set in the PTE, not in the PDE above it");
	pg_expect(*big & PG_D, "write: D set in the %s PDE", big_name);
}

void pg_invlpg(volatile uint32_t *srw)
{
	const uint32_t old = *srw;

	(void)pg_rd(PG_VA_SRW);
	*srw = PG_FRAME(5) | PG_P | PG_RW;
	invlpg(PG_VA_SRW);
	pg_expect(pg_rd(PG_VA_SRW) == PG_TAG(PG_FRAME(5)),
		  "PTE re-pointed + INVLPG: the new frame is read");
	*srw = old;
	invlpg(PG_VA_SRW);
	pg_expect(pg_rd(PG_VA_SRW) == PG_TAG(PG_FRAME(0)),
		  "PTE restored + INVLPG: the old frame again");
}

void pg_cr3_switch(uint32_t cr3, uint32_t cr3_other, const char *what)
{
	write_cr3(cr3_other);
	pg_expect(pg_rd(PG_VA_SRW) == PG_TAG(PG_FRAME(6)),
		  "CR3 -> second %s: its frame for the same address", what);
	pg_access("second space: 8 MiB + 4 KiB not mapped", 0, PROBE_READ, PG_VA_SRO, 0);
	write_cr3(cr3);
	pg_expect(pg_rd(PG_VA_SRW) == PG_TAG(PG_FRAME(0)),
		  "CR3 -> first %s again", what);
}

int pg_status(const char *name)
{
	guest_printf("%s: %s\n", name, bad ? "MISMATCH" : "all match the SDM");
	return bad ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
