/*
 * ptstress64.h — the 4-level layout the 64-bit page-table stress guests
 * share (tests/guests/ptstress.c, smp_ptstress.c): the engine's
 * parameters for guests/ptstress_tmpl.h — table classes, the slots each
 * level links tables into, the regions operations work on (PML4E 1, the
 * runtime's identity map in PML4E 0 untouched) — with the 4-level entry
 * formats of SDM Vol. 3A 4.5. A guest includes it, then defines its
 * flush hooks (pts_invlpg, pts_load_cr3, ...), then the template.
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

#endif
