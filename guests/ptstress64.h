/*
 * ptstress64.h — the 4-level layout the 64-bit page-table stress guests
 * share (tests/guests/ptstress.c, smp_ptstress.c): the engine's
 * parameters for guests/ptstress_tmpl.h — table classes, the slots each
 * level links tables into, the regions operations work on (PML4E 1, the
 * runtime's identity map in PML4E 0 untouched) — with the 4-level entry
 * formats of SDM Vol. 3A 4.5. A guest defines its flush hooks
 * (pts_invlpg, pts_load_cr3, ...) and includes this file, which brings
 * in the engine and pts64_setup(), the tables both guests start from.
 */
#ifndef GUESTS_PTSTRESS64_H
#define GUESTS_PTSTRESS64_H

#define MiB		0x100000ull
#define PTS_LEVELS	4
#define PTS_BITS	9
typedef uint64_t pts_word_t;
typedef uint64_t pts_va_t;
#define PTS_ADDR	0x000FFFFFFFFFF000ull	/* bits 51:12 (Table 4-20) */
#define PTS_LARGE_ADDR	0x000FFFFFFFE00000ull	/* bits 51:21 (Table 4-18) */
#define PTS_LARGE_SIZE	(2 * MiB)
#define PTS_BLOCK_BASE	(16 * MiB)
#define PTS_NBLOCKS	2
#define PTS_TAG_MARK	0xDA7A000000000000ull
#define PTS_REC		2
#define PTS_NROOTS	4
#define PTS_NTABLES	32
#define PTS_NREGIONS	16
#define ARENA		(1ull << 39)		/* PML4E 1 */
_Static_assert(PTS_REC < 256, "the recursive view stays canonical without sign extension");

static const uint8_t pts_class[PTS_NTABLES] = {
	4, 4, 4, 4, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};
static const uint16_t pts_root_slots[] = { 1, PTS_REC };
static const uint16_t pts_pdpt_slots[] = { 0, 1 };
static const uint16_t pts_pd_slots[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
static const uint16_t *const pts_slots[PTS_LEVELS + 1] = {
	[2] = pts_pd_slots, [3] = pts_pdpt_slots, [4] = pts_root_slots,
};
static const unsigned pts_nslots[PTS_LEVELS + 1] = { [2] = 8, [3] = 2, [4] = 2 };
#define REGION(j, c)	(ARENA | (uint64_t)(j) << 30 | (uint64_t)(c) << 21)
static const pts_va_t pts_region[PTS_NREGIONS] = {
	REGION(0, 0), REGION(0, 1), REGION(0, 2), REGION(0, 3),
	REGION(0, 4), REGION(0, 5), REGION(0, 6), REGION(0, 7),
	REGION(1, 0), REGION(1, 1), REGION(1, 2), REGION(1, 3),
	REGION(1, 4), REGION(1, 5), REGION(1, 6), REGION(1, 7),
};

#include "guests/ptstress_tmpl.h"

#define P_RW_A		(PTS_P | PTS_RW | PTS_A)

/*
 * After pts_init(): four roots (tables 0-3), each with the runtime's
 * identity map in PML4E 0, its PDPT (4 + r) in PML4E 1 and itself in
 * PML4E PTS_REC (a recursive view), the PDPTs sharing PDs as pdpt_pd
 * says; then the engine's random start (pts_prepare), and the sharing
 * the layout promises whatever that start: table 14 under two PDEs of
 * table 8 and one of table 10.
 */
static void pts64_setup(void)
{
	static const uint8_t pdpt_pd[4][2] = { { 8, 9 }, { 10, 9 }, { 11, 12 }, { 13, 11 } };

	for (unsigned r = 0; r < PTS_NROOTS; r++) {
		pts_put(r, 0, guest_pml4[0]);
		pts_put(r, 1, pts_table_pa(4 + r) | P_RW_A);
		pts_put(r, PTS_REC, pts_table_pa(r) | P_RW_A);
		for (unsigned j = 0; j < 2; j++)
			pts_put(4 + r, j, pts_table_pa(pdpt_pd[r][j]) | P_RW_A);
	}
	pts_prepare();
	pts_put(8, 0, pts_table_pa(14) | P_RW_A);
	pts_put(8, 3, pts_table_pa(14) | P_RW_A);
	pts_put(10, 0, pts_table_pa(14) | P_RW_A);
}

#endif
