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

#define MiB		0x100000u
#define F(n)		(24 * MiB + (n) * 0x1000u)
#define BIG_PA		(28 * MiB)
#define TAG(pa)		(0x7a000000u | ((pa) >> 12))
#define RET		0xc3

#define VA_SRW		0x00800000u
#define VA_SRO		0x00801000u
#define VA_URW		0x00802000u
#define VA_URO		0x00803000u
#define VA_NP		0x00804000u
#define VA_SNX		0x00805000u	/* F(7): supervisor, XD */
#define VA_UNX		0x00806000u	/* F(7): user, XD */
#define VA_UX		0x00807000u	/* F(7): user, executable */
#define VA_SX		0x00808000u	/* F(7): supervisor, executable */
#define VA_BIG		0x00c00000u
#define VA_SPDE		0x01000000u
#define VA_XPDE		0x01200000u

#define P	0x001ull
#define RW	0x002ull
#define US	0x004ull
#define A	0x020ull
#define D	0x040ull
#define XD	(1ull << 63)
#define PF_P	0x01u
#define PF_W	0x02u
#define PF_U	0x04u
#define PF_I	0x10u
#define NO_PF	PROBE_NO_PF

static int bad;
static struct pae as1, as2;

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

static void build(bool nx)
{
	for (unsigned n = 0; n < 7; n++)
		wr(F(n), TAG(F(n)));
	*(volatile uint8_t *)F(7) = RET;
	wr(BIG_PA + 0x1000, TAG(BIG_PA + 0x1000));

	pae_init(&as1);
	pae_map_2m(&as1, 0, 0, P | RW | US);
	pae_map_2m(&as1, 2 * MiB, 2 * MiB, P | RW | US);
	pae_map(&as1, VA_SRW, F(0), P | RW);
	pae_map(&as1, VA_SRO, F(1), P);
	pae_map(&as1, VA_URW, F(2), P | RW | US);
	pae_map(&as1, VA_URO, F(3), P | US);
	pae_map(&as1, VA_NP, F(4), 0);
	pae_map(&as1, VA_SNX, F(7), P | RW | (nx ? XD : 0));
	pae_map(&as1, VA_UNX, F(7), P | RW | US | (nx ? XD : 0));
	pae_map(&as1, VA_UX, F(7), P | RW | US);
	pae_map(&as1, VA_SX, F(7), P | RW);
	pae_map_2m(&as1, VA_BIG, BIG_PA, P | RW);
	pae_map(&as1, VA_SPDE, F(4), P | RW | US);
	*pae_pde(&as1, VA_SPDE) &= ~US;
	pae_map(&as1, VA_XPDE, F(7), P | RW);
	if (nx)
		*pae_pde(&as1, VA_XPDE) |= XD;

	pae_init(&as2);
	pae_map_2m(&as2, 0, 0, P | RW | US);
	pae_map_2m(&as2, 2 * MiB, 2 * MiB, P | RW | US);
	pae_map(&as2, VA_SRW, F(6), P | RW);
}

int guest_main(void)
{
	bool nx = pae_nx_supported();

	build(nx);
	write_cr0(read_cr0() | CR0_WP);
	pae_enable(&as1, nx);
	uint32_t cr0 = read_cr0(), cr4 = read_cr4();
	expect((cr0 & CR0_PG) && (cr4 & CR4_PAE), "PAE paging on: CR0.PG=1 CR4.PAE=1");
	if (nx)
		expect(msr_read(MSR_EFER) & EFER_NXE, "EFER.NXE=1 (CPUID.80000001H:EDX[20]=1)");
	else
		guest_printf("no execute-disable: the XD cases are skipped\n");

	expect(rd(VA_SRW) == TAG(F(0)) && rd(VA_URO) == TAG(F(3)), "4 KiB pages read their frames");
	expect(rd(VA_BIG + 0x1000) == TAG(BIG_PA + 0x1000), "2 MiB page: offset 0x1000 reads 28 MiB + 0x1000");

	access("ring 0 read, not present", 0, PROBE_READ, VA_NP, 0);
	access("ring 0 write, not present", 0, PROBE_WRITE, VA_NP, PF_W);
	access("ring 0 write, read-only page, WP=1", 0, PROBE_WRITE, VA_SRO, PF_P | PF_W);
	access("ring 3 read, supervisor page", 3, PROBE_READ, VA_SRW, PF_P | PF_U);
	access("ring 3 write, supervisor page", 3, PROBE_WRITE, VA_SRW, PF_P | PF_W | PF_U);
	access("ring 3 read, user read-only page", 3, PROBE_READ, VA_URO, NO_PF);
	access("ring 3 write, user read-only page", 3, PROBE_WRITE, VA_URO, PF_P | PF_W | PF_U);
	access("ring 3 write, user page", 3, PROBE_WRITE, VA_URW, NO_PF);
	access("ring 3 write, not present", 3, PROBE_WRITE, VA_NP, PF_W | PF_U);
	access("ring 3 read, user PTE under a supervisor PDE", 3, PROBE_READ, VA_SPDE, PF_P | PF_U);
	access("ring 3 read, 2 MiB supervisor page", 3, PROBE_READ, VA_BIG, PF_P | PF_U);

	if (nx) {
		access("ring 0 fetch, supervisor page", 0, PROBE_EXEC, VA_SX, NO_PF);
		access("ring 0 fetch, user page (no SMEP)", 0, PROBE_EXEC, VA_UX, NO_PF);
		access("ring 0 fetch, XD page", 0, PROBE_EXEC, VA_SNX, PF_P | PF_I);
		access("ring 0 read, XD page", 0, PROBE_READ, VA_SNX, NO_PF);
		access("ring 0 fetch, XD in the PDE only", 0, PROBE_EXEC, VA_XPDE, PF_P | PF_I);
		access("ring 0 fetch, not present", 0, PROBE_EXEC, VA_NP, PF_I);
		access("ring 3 fetch, user page", 3, PROBE_EXEC, VA_UX, NO_PF);
		access("ring 3 fetch, user XD page", 3, PROBE_EXEC, VA_UNX, PF_P | PF_U | PF_I);
		access("ring 3 fetch, supervisor page", 3, PROBE_EXEC, VA_SX, PF_P | PF_U | PF_I);
	}

	/* 4.8 */
	volatile uint64_t *pde = pae_pde(&as1, VA_URW), *pte = pae_pte(&as1, VA_URW);
	volatile uint64_t *big = pae_pde(&as1, VA_BIG);
	*pde &= ~(A | D);
	*pte &= ~(A | D);
	*big &= ~(A | D);
	invlpg(VA_URW);
	invlpg(VA_BIG);
	(void)rd(VA_URW);
	(void)rd(VA_BIG);
	expect((*pde & A) && (*pte & A) && !(*pte & D), "read: A set in PDE and PTE, D clear");
	expect((*big & A) && !(*big & D), "read: A set in the 2 MiB PDE, D clear");
	wr(VA_URW, 0x1234);
	wr(VA_BIG, 0x5678);
	expect((*pte & D) && !(*pde & D), "write: D set in the PTE, not in the PDE above it");
	expect(*big & D, "write: D set in the 2 MiB PDE");

	/* 4.10.4.1 */
	uint64_t *srw = pae_pte(&as1, VA_SRW), old = *srw;
	(void)rd(VA_SRW);
	*srw = F(5) | P | RW;
	invlpg(VA_SRW);
	expect(rd(VA_SRW) == TAG(F(5)), "PTE re-pointed + INVLPG: the new frame is read");
	*srw = old;
	invlpg(VA_SRW);
	expect(rd(VA_SRW) == TAG(F(0)), "PTE restored + INVLPG: the old frame again");

	write_cr3((uint32_t)as2.pdpt);
	expect(rd(VA_SRW) == TAG(F(6)), "CR3 -> second PDPT: its frame for the same address");
	access("second space: 8 MiB + 4 KiB not mapped", 0, PROBE_READ, VA_SRO, 0);
	write_cr3((uint32_t)as1.pdpt);
	expect(rd(VA_SRW) == TAG(F(0)), "CR3 -> first PDPT again");

	paging32_disable();
	guest_printf("paging_pae: %s\n", bad ? "MISMATCH" : "all match the SDM");
	return bad ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
