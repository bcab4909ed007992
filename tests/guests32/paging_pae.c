/*
 * paging_pae.c — PAE paging in 32-bit protected mode.
 *
 * SDM Vol. 3A:
 *  - 4.4: CR4.PAE=1, CR0.PG=1 (EFER.LME=0); CR3 locates four PDPTEs,
 *    loaded when paging is turned on and on every MOV to CR3 (4.4.1);
 *    PDEs with PS=1 map 2 MiB (Table 4-9), others locate page tables of
 *    4 KiB PTEs (Table 4-11); entries are 64 bits.
 *  - 4.6.1, 4.7: the same rights and #PF error codes as 32-bit paging
 *    (P, W/R, U/S); with EFER.NXE=1 the error code's I/D bit (4) is set
 *    for every fault on an instruction fetch, present or not.
 *  - 4.6.2: with EFER.NXE=1, a fetch from a page with XD (bit 63) set in
 *    any entry of its walk (here the PTE, or the PDE above a page table)
 *    faults; reads are unaffected. No SMEP (CR4.SMEP=0): ring 0 may
 *    fetch from user pages.
 *  - 4.8: A in every PDE/PTE used, D in the entry that maps the page
 *    (PTE, or PDE with PS=1); PDPTEs have no A/D (Table 4-8).
 *  - 4.10.4.1: INVLPG after a PTE change; MOV to CR3 loads the other
 *    space's PDPTEs and drops the non-global TLB entries.
 *
 * Layout as in paging32.c, with 2 MiB pages: 0-4 MiB identity (two 2 MiB
 * pages, U/S=1 R/W=1); 8 MiB: 4 KiB pages (supervisor R/W, supervisor
 * read-only, user R/W, user read-only, not present, and four views of a
 * frame that holds a RET: supervisor XD, user XD, user, supervisor);
 * 12 MiB: a 2 MiB supervisor page at 28 MiB; 16 MiB: a user PTE under a
 * supervisor PDE; 18 MiB: an executable PTE under a PDE with XD=1.
 *
 * Expected serial output: tests/guests32/paging_pae.expect (on a CPU
 * with execute-disable, CPUID.80000001H:EDX[20], as QEMU's and hvlab's).
 * Expected exit status: 1 (guest_exit(0)).
 */
#include "guests32/guest32.h"

#define VA_SNX		0x00805000u	/* FRAME(7): supervisor, XD */
#define VA_UNX		0x00806000u	/* FRAME(7): user, XD */
#define VA_UX		0x00807000u	/* FRAME(7): user, executable */
#define VA_SX		0x00808000u	/* FRAME(7): supervisor, executable */
#define VA_XPDE		0x01200000u

#define P	0x001ull
#define RW	0x002ull
#define US	0x004ull
#define XD	(1ull << 63)
#define PF_P	0x01u
#define PF_W	0x02u
#define PF_U	0x04u
#define PF_I	0x10u
#define NO_PF	PROBE_NO_PF

static struct pae as1, as2;

/* The low doubleword of a 64-bit entry: all pgcheck.c touches of it
 * (A, D, P, R/W, address bits 31:12; pgcheck.c says why). */
static volatile uint32_t *low32(uint64_t *entry)
{
	return (volatile uint32_t *)entry;
}

static void build(bool nx)
{
	pg_tag_frames();

	pae_init(&as1);
	pae_map_2m(&as1, 0, 0, P | RW | US);
	pae_map_2m(&as1, 2 * PG_MiB, 2 * PG_MiB, P | RW | US);
	pae_map(&as1, PG_VA_SRW, PG_FRAME(0), P | RW);
	pae_map(&as1, PG_VA_SRO, PG_FRAME(1), P);
	pae_map(&as1, PG_VA_URW, PG_FRAME(2), P | RW | US);
	pae_map(&as1, PG_VA_URO, PG_FRAME(3), P | US);
	pae_map(&as1, PG_VA_NP, PG_FRAME(4), 0);
	pae_map(&as1, VA_SNX, PG_FRAME(7), P | RW | (nx ? XD : 0));
	pae_map(&as1, VA_UNX, PG_FRAME(7), P | RW | US | (nx ? XD : 0));
	pae_map(&as1, VA_UX, PG_FRAME(7), P | RW | US);
	pae_map(&as1, VA_SX, PG_FRAME(7), P | RW);
	pae_map_2m(&as1, PG_VA_BIG, PG_BIG_PA, P | RW);
	pae_map(&as1, PG_VA_SPDE, PG_FRAME(4), P | RW | US);
	*pae_pde(&as1, PG_VA_SPDE) &= ~US;
	pae_map(&as1, VA_XPDE, PG_FRAME(7), P | RW);
	if (nx)
		*pae_pde(&as1, VA_XPDE) |= XD;

	pae_init(&as2);
	pae_map_2m(&as2, 0, 0, P | RW | US);
	pae_map_2m(&as2, 2 * PG_MiB, 2 * PG_MiB, P | RW | US);
	pae_map(&as2, PG_VA_SRW, PG_FRAME(6), P | RW);
}

int guest_main(void)
{
	bool nx = pae_nx_supported();

	build(nx);
	write_cr0(read_cr0() | CR0_WP);
	pae_enable(&as1, nx);
	uint32_t cr0 = read_cr0(), cr4 = read_cr4();
	pg_expect((cr0 & CR0_PG) && (cr4 & CR4_PAE), "PAE paging on: CR0.PG=1 CR4.PAE=1");
	if (nx)
		pg_expect(msr_read(MSR_EFER) & EFER_NXE, "EFER.NXE=1 (CPUID.80000001H:EDX[20]=1)");
	else
		guest_printf("no execute-disable: the XD cases are skipped\n");

	pg_read_frames("2 MiB");

	pg_access("ring 0 read, not present", 0, PROBE_READ, PG_VA_NP, 0);
	pg_access("ring 0 write, not present", 0, PROBE_WRITE, PG_VA_NP, PF_W);
	pg_access("ring 0 write, read-only page, WP=1", 0, PROBE_WRITE, PG_VA_SRO, PF_P | PF_W);
	pg_access("ring 3 read, supervisor page", 3, PROBE_READ, PG_VA_SRW, PF_P | PF_U);
	pg_access("ring 3 write, supervisor page", 3, PROBE_WRITE, PG_VA_SRW, PF_P | PF_W | PF_U);
	pg_access("ring 3 read, user read-only page", 3, PROBE_READ, PG_VA_URO, NO_PF);
	pg_access("ring 3 write, user read-only page", 3, PROBE_WRITE, PG_VA_URO, PF_P | PF_W | PF_U);
	pg_access("ring 3 write, user page", 3, PROBE_WRITE, PG_VA_URW, NO_PF);
	pg_access("ring 3 write, not present", 3, PROBE_WRITE, PG_VA_NP, PF_W | PF_U);
	pg_access("ring 3 read, user PTE under a supervisor PDE", 3, PROBE_READ, PG_VA_SPDE, PF_P | PF_U);
	pg_access("ring 3 read, 2 MiB supervisor page", 3, PROBE_READ, PG_VA_BIG, PF_P | PF_U);

	if (nx) {
		pg_access("ring 0 fetch, supervisor page", 0, PROBE_EXEC, VA_SX, NO_PF);
		pg_access("ring 0 fetch, user page (no SMEP)", 0, PROBE_EXEC, VA_UX, NO_PF);
		pg_access("ring 0 fetch, XD page", 0, PROBE_EXEC, VA_SNX, PF_P | PF_I);
		pg_access("ring 0 read, XD page", 0, PROBE_READ, VA_SNX, NO_PF);
		pg_access("ring 0 fetch, XD in the PDE only", 0, PROBE_EXEC, VA_XPDE, PF_P | PF_I);
		pg_access("ring 0 fetch, not present", 0, PROBE_EXEC, PG_VA_NP, PF_I);
		pg_access("ring 3 fetch, user page", 3, PROBE_EXEC, VA_UX, NO_PF);
		pg_access("ring 3 fetch, user XD page", 3, PROBE_EXEC, VA_UNX, PF_P | PF_U | PF_I);
		pg_access("ring 3 fetch, supervisor page", 3, PROBE_EXEC, VA_SX, PF_P | PF_U | PF_I);
	}

	/* 4.8, 4.10.4.1: the low doublewords of the 64-bit entries. */
	pg_accessed_dirty(low32(pae_pde(&as1, PG_VA_URW)), low32(pae_pte(&as1, PG_VA_URW)),
			  low32(pae_pde(&as1, PG_VA_BIG)), "2 MiB");
	pg_invlpg(low32(pae_pte(&as1, PG_VA_SRW)));
	pg_cr3_switch((uint32_t)as1.pdpt, (uint32_t)as2.pdpt, "PDPT");

	paging32_disable();
	return pg_status("paging_pae");
}
