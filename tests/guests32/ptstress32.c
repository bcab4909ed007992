/*
 * ptstress32.c — 20,000 random page-table operations under 32-bit paging
 * with 4 MiB pages, each followed by the flushes the SDM asks for, every
 * access checked against the guest's own model of its tables (the engine
 * and its flush rules: guests/ptstress_tmpl.h, shared with ptstress.c).
 *
 * SDM Vol. 3A:
 *  - 4.3: CR4.PSE=1, PAE=0; a PDE with PS=1 maps 4 MiB (Table 4-4),
 *    otherwise it links a page table of 1024 PTEs (Tables 4-5, 4-6); bit 7
 *    of a PTE is PAT (CPUID.1:EDX[16]), so a PDE read as a PTE maps the
 *    4 KiB frame at its address.
 *  - 4.6.1: CPL 0 with CR0.WP=1 writes only where PDE and PTE have
 *    R/W=1; 4.7: #PF error code P and W/R, CR2; 4.8: A and D.
 *  - 4.10.2.3, 4.10.3.3, 4.10.4.1-4.10.4.3: what may stay cached until
 *    INVLPG or MOV to CR3, and which changes need neither.
 *
 * What a shadow MMU finds hard here: a 32-bit table has 1024 entries, a
 * shadow table (PAE or 4-level format) 512, so one guest page table is
 * shadowed by two shadow tables and the page directory by four (KVM's
 * "quadrants"). The arena therefore spreads over all four quarters of
 * the directory (PDEs 1-3, 257, 258, 513, 769, 1000) and picks pages near
 * the start of each half of a page table; 4 MiB pages are split into a
 * 1024-entry table and merged back, a page directory is linked as a page
 * table (PDE -> a directory), and PDE 1023 of each root links a root (the
 * classic self-map: 0xFFC00000 + 4 KiB * i shows page table i as data).
 *
 * Layout. Four roots (page directories, tables 0-3) and sixteen page
 * tables (4-19) in .bss below 4 MiB; PDE 0 of each root maps 0-4 MiB
 * identity with one 4 MiB page (the image, stack, tables), PDEs 4 and 5
 * the data blocks at 16 and 20 MiB (4 MiB pages, also identity). Page
 * table 4 sits under two PDEs of root 0 and under root 1 at the start.
 * 20,000 operations keep a run on the shadow-paging variants, which exit
 * at every INVLPG, CR3 load and shadow fault, to a few seconds.
 *
 * Expected serial output: tests/guests32/ptstress32.expect.
 * Expected exit status: 1 (guest_exit(0)).
 */
#include "guests32/guest32.h"

#define MiB		0x100000u
#define PTS_LEVELS	2
#define PTS_BITS	10
typedef uint32_t pts_word_t;
typedef uint32_t pts_va_t;
#define PTS_ADDR	0xFFFFF000u	/* bits 31:12 (Tables 4-5, 4-6) */
#define PTS_LARGE_ADDR	0xFFC00000u	/* bits 31:22 (Table 4-4) */
#define PTS_LARGE_SIZE	(4 * MiB)
#define PTS_BLOCK_BASE	(16 * MiB)
#define PTS_NBLOCKS	2
#define PTS_TAG_MARK	0xD0000000u	/* the data blocks lie below 256 MiB */
#define PTS_REC		1023
#define PTS_NROOTS	4
#define PTS_NTABLES	20
#define PTS_NREGIONS	8

static const uint8_t pts_class[PTS_NTABLES] = {
	2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};
static const uint16_t pts_root_slots[] = { 1, 2, 3, 257, 258, 513, 769, 1000, PTS_REC };
static const uint16_t *const pts_slots[PTS_LEVELS + 1] = { [2] = pts_root_slots };
static const unsigned pts_nslots[PTS_LEVELS + 1] = { [2] = 9 };
static const pts_va_t pts_region[PTS_NREGIONS] = {
	1u << 22, 2u << 22, 3u << 22, 257u << 22, 258u << 22, 513u << 22, 769u << 22, 1000u << 22,
};
#define pts_invlpg(va)		invlpg(va)
#define pts_load_cr3(pa)	write_cr3(pa)

#include "guests/ptstress_tmpl.h"

#define NOPS		20000
#define P_RW_A		(PTS_P | PTS_RW | PTS_A)
#define CPUID1_PAT	(1u << 16)	/* EDX: PTE bit 7 is PAT, not reserved */

static void on_pf(struct guest32_frame *f)
{
	if (pts_on_pf(&f->eip, &f->eax, f->error_code, read_cr2()))
		return;
	guest_printf("ptstress32: #PF outside a probe: eip 0x%x error 0x%x cr2 0x%x\n", f->eip,
		     f->error_code, read_cr2());
	guest_exit(GUEST_EXIT_FAIL);
}

int guest_main(void)
{
	uint32_t r[4];

	cpuid(1, 0, r);
	if (!(r[3] & CPUID1_PAT)) {
		guest_printf("ptstress32: no PAT (CPUID.1:EDX[16])\n");
		return GUEST_EXIT_FAIL;
	}
	pts_init();
	for (unsigned t = 0; t < PTS_NROOTS; t++) {
		pts_put(t, 0, 0 | PTS_P | PTS_RW | PTS_PS | PTS_A);
		pts_put(t, 4, PTS_BLOCK_BASE | PTS_P | PTS_RW | PTS_PS | PTS_A);
		pts_put(t, 5, (PTS_BLOCK_BASE + PTS_LARGE_SIZE) | PTS_P | PTS_RW | PTS_PS | PTS_A);
		pts_put(t, PTS_REC, pts_table_pa(t) | P_RW_A);
	}
	pts_prepare();
	/* The sharing the layout promises, whatever the random start. */
	pts_put(0, 1, pts_table_pa(4) | P_RW_A);
	pts_put(0, 2, pts_table_pa(4) | P_RW_A);
	pts_put(1, 1, pts_table_pa(4) | P_RW_A);

	idt32_set_handler(14, on_pf);
	/* 4.1.1: CR4.PAE=0 and CR0.PG=1 is 32-bit paging; CR0.WP=1 makes
	 * read-only pages read-only for CPL 0 too (4.6.1). */
	write_cr4((read_cr4() | CR4_PSE) & ~CR4_PAE);
	pts_load_cr3(pts_table_pa(0));
	write_cr0(read_cr0() | CR0_PG | CR0_WP);
	int status = pts_run("ptstress32", NOPS);
	paging32_disable();
	return status;
}
