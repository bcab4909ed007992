/*
 * ptstress.c — 20,000 random page-table operations under 4-level paging,
 * each followed by the flushes the SDM asks for, every access checked
 * against the guest's own model of its tables (guests/ptstress_tmpl.h has
 * the engine and the flush rules).
 *
 * SDM Vol. 3A:
 *  - 4.5: 4-level paging; a PDE with PS=1 maps 2 MiB (Table 4-18); bit 7
 *    of a PTE is PAT, so a PDE read as a PTE maps the 4 KiB frame at its
 *    address.
 *  - 4.6.1: CPL 0 with CR0.WP=1 writes only where every entry has R/W=1;
 *    4.7: #PF error code P and W/R, CR2; 4.8: A and D.
 *  - 4.10.2.3, 4.10.3.3, 4.10.4.1-4.10.4.3: what may stay cached until
 *    INVLPG or MOV to CR3, and which changes need neither.
 *
 * Layout. Four roots (PML4s) share the runtime's PML4E 0 (the identity
 * map: code, stack, the tables, the data blocks at 16 and 18 MiB); PML4E
 * 1 (512 GiB) is the arena, PML4E 2 the recursive entry (PML4E 2 -> the
 * PML4 itself), so 0x100_0000_0000 + ... shows the tables as data. Each
 * root's arena is PDPTEs 0-1 x PDEs 0-7: sixteen 2 MiB regions. Tables:
 * roots 0-3, PDPTs 4-7 (root r links PDPT 4+r), PDs 8-13 (PD 9 sits under
 * roots 0 and 1, PD 11 under roots 2 and 3), page tables 14-31 (PT 14
 * under two PDEs of root 0 and under root 1 at the start; ops relink
 * the rest at random). 20,000 operations keep a run on the shadow-paging
 * variants, which exit at every INVLPG, CR3 load and shadow fault, to a
 * few seconds.
 *
 * Expected serial output: tests/guests/ptstress.expect.
 * Expected exit status: 1 (guest_exit(0)).
 */
#include "guests/guest.h"

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
#define pts_invlpg(va)		invlpg((const volatile void *)(uintptr_t)(va))
#define pts_load_cr3(pa)	write_cr3(pa)

#include "guests/ptstress_tmpl.h"

#define NOPS		20000
#define P_RW_A		(PTS_P | PTS_RW | PTS_A)

static void on_pf(struct guest_frame *f)
{
	if (pts_on_pf(&f->rip, &f->rax, (uint32_t)f->error_code, read_cr2()))
		return;
	guest_printf("ptstress: #PF outside a probe: rip 0x%lx error 0x%lx cr2 0x%lx\n",
		     f->rip, f->error_code, read_cr2());
	guest_exit(GUEST_EXIT_FAIL);
}

int guest_main(void)
{
	static const uint8_t pdpt_pd[4][2] = { { 8, 9 }, { 10, 9 }, { 11, 12 }, { 13, 11 } };

	pts_init();

	for (unsigned r = 0; r < PTS_NROOTS; r++) {
		pts_put(r, 0, guest_pml4[0]);
		pts_put(r, 1, pts_table_pa(4 + r) | P_RW_A);
		pts_put(r, PTS_REC, pts_table_pa(r) | P_RW_A);
		for (unsigned j = 0; j < 2; j++)
			pts_put(4 + r, j, pts_table_pa(pdpt_pd[r][j]) | P_RW_A);
	}
	pts_prepare();
	/* The sharing the layout promises, whatever the random start. */
	pts_put(8, 0, pts_table_pa(14) | P_RW_A);
	pts_put(8, 3, pts_table_pa(14) | P_RW_A);
	pts_put(10, 0, pts_table_pa(14) | P_RW_A);

	idt_set_handler(14, on_pf);
	pts_load_cr3(pts_table_pa(0));
	int status = pts_run("ptstress", NOPS);
	write_cr3((uint64_t)(uintptr_t)guest_pml4);
	return status;
}
