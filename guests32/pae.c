/*
 * pae.c — page tables for PAE paging (SDM Vol. 3A 4.4).
 *
 * CR3 bits 31:5 locate a 32-byte page-directory-pointer table of four
 * PDPTEs (Table 4-7); the processor loads them into internal registers
 * when CR3 is written with PAE paging active or when paging is turned on
 * (4.4.1), and uses those copies until the next load. A PDPTE has only
 * P, PWT, PCD and the address: bits 2:1 and 8:5 are reserved (a set one
 * makes the MOV to CR3/CR0/CR4 #GP), so a PDPTE carries no rights. PDEs
 * map 2 MiB pages (PS=1, Table 4-9) or locate page tables of 4 KiB PTEs
 * (Table 4-11); entries are 64 bits, bit 63 = XD when EFER.NXE=1
 * (reserved otherwise). Same conventions as pt32.c: identity-mapped
 * frames, new page tables under P|RW|US PDEs, no flushes.
 */
#include "guests32/guest32.h"

#define ADDR_4K		0x000FFFFFFFFFF000ull
#define ADDR_2M		0x000FFFFFFFE00000ull

void pae_init(struct pae *as)
{
	as->pdpt = (uint64_t *)frame_alloc();
	for (unsigned i = 0; i < 4; i++) {
		as->pd[i] = (uint64_t *)frame_alloc();
		as->pdpt[i] = (uint32_t)as->pd[i] | PTE32_P;
	}
}

uint64_t *pae_pde(struct pae *as, uint32_t va)
{
	return &as->pd[va >> 30][(va >> 21) & 0x1FF];
}

uint64_t *pae_pte(struct pae *as, uint32_t va)
{
	uint64_t pde = *pae_pde(as, va);

	if (!(pde & PTE32_P) || (pde & PTE32_PS))
		return NULL;
	return &((uint64_t *)(uint32_t)(pde & ADDR_4K))[(va >> 12) & 0x1FF];
}

void pae_map(struct pae *as, uint32_t va, uint64_t pa, uint64_t flags)
{
	uint64_t *pde = pae_pde(as, va);

	if (!(*pde & PTE32_P) || (*pde & PTE32_PS))
		*pde = frame_alloc() | PTE32_P | PTE32_RW | PTE32_US;
	*pae_pte(as, va) = (pa & ADDR_4K) | flags;
}

void pae_map_2m(struct pae *as, uint32_t va, uint64_t pa, uint64_t flags)
{
	*pae_pde(as, va) = (pa & ADDR_2M) | flags | PTE32_PS;
}

bool pae_nx_supported(void)
{
	uint32_t r[4];

	cpuid(0x80000000, 0, r);
	if (r[0] < 0x80000001)
		return false;
	cpuid(0x80000001, 0, r);
	return (r[3] >> 20) & 1;
}

void pae_enable(struct pae *as, bool nxe)
{
	/* EFER.NXE exists where CPUID.80000001H:EDX[20] says so (2.2.1);
	 * without it XD stays a reserved bit and @nxe cannot be honoured. */
	if (pae_nx_supported()) {
		uint64_t efer = msr_read(MSR_EFER);
		msr_write(MSR_EFER, nxe ? efer | EFER_NXE : efer & ~(uint64_t)EFER_NXE);
	}
	write_cr4(read_cr4() | CR4_PAE);
	write_cr3((uint32_t)as->pdpt);
	write_cr0(read_cr0() | CR0_PG);
}
