/*
 * pt32.c — 2-level page tables for 32-bit paging (SDM Vol. 3A 4.3).
 *
 * CR3 bits 31:12 locate the page directory (Table 4-3); bits 31:22 of a
 * linear address select a PDE. A PDE with PS=1 (honoured when CR4.PSE=1)
 * maps a 4 MiB page (Table 4-4; bits 31:22 the frame, PSE-36 bits 20:13
 * stay 0 here); otherwise bits 31:12 locate a page table whose PTEs
 * (bits 21:12 of the address) map 4 KiB pages (Tables 4-5, 4-6).
 * Frames come from frames.c, so every table is identity-mapped and a
 * table's address is a pointer. A page table created here gets a PDE
 * with P|RW|US: the rights of the combined walk are the most restrictive
 * of the two levels (4.6.1), so the PTE alone decides them unless a test
 * narrows the PDE. The functions change memory only: after changing an
 * entry the processor may still use, the caller flushes (INVLPG or a CR3
 * load, 4.10.4.1).
 */
#include "guests32/guest32.h"

#define PDE_FRAME_4K	0xFFFFF000u
#define PDE_FRAME_4M	0xFFC00000u

void pt32_init(struct pt32 *as)
{
	as->pd = (uint32_t *)frame_alloc();
}

uint32_t *pt32_pde(struct pt32 *as, uint32_t va)
{
	return &as->pd[va >> 22];
}

uint32_t *pt32_pte(struct pt32 *as, uint32_t va)
{
	uint32_t pde = *pt32_pde(as, va);

	if (!(pde & PTE32_P) || (pde & PTE32_PS))
		return NULL;
	return &((uint32_t *)(pde & PDE_FRAME_4K))[(va >> 12) & 0x3FF];
}

void pt32_map(struct pt32 *as, uint32_t va, uint32_t pa, uint32_t flags)
{
	uint32_t *pde = pt32_pde(as, va);

	if (!(*pde & PTE32_P) || (*pde & PTE32_PS))
		*pde = frame_alloc() | PTE32_P | PTE32_RW | PTE32_US;
	*pt32_pte(as, va) = (pa & PDE_FRAME_4K) | flags;
}

void pt32_map_4m(struct pt32 *as, uint32_t va, uint32_t pa, uint32_t flags)
{
	*pt32_pde(as, va) = (pa & PDE_FRAME_4M) | flags | PTE32_PS;
}

void pt32_enable(struct pt32 *as)
{
	/* 4.1.1: CR0.PG=1 with CR4.PAE=0 is 32-bit paging; PSE for PS=1. */
	write_cr4((read_cr4() | CR4_PSE) & ~CR4_PAE);
	write_cr3((uint32_t)as->pd);
	write_cr0(read_cr0() | CR0_PG);
}

void paging32_disable(void)
{
	write_cr0(read_cr0() & ~CR0_PG);
}
