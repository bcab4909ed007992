/*
 * vm.c — 4-level address spaces that share the kernel's mappings.
 *
 * Every address space has its own PML4 (SDM 3A 4.5, Figure 4-9). Entry 0
 * (0..512 GiB) points at the boot PDPT, so the identity map of the
 * runtime is shared by all; entries 1..255 (VM_USER_BASE..VM_USER_END)
 * are private and filled by vm_map() with tables from page.c.
 *
 * Access rights combine over all levels (SDM 3A 4.6.1): a user-mode access
 * needs U/S=1 in every entry on the way, a write R/W=1 in every entry
 * (and, with CR0.WP=1, supervisor writes too). So intermediate entries
 * here are P|RW|US and the leaf alone decides; vm_init() sets U/S on the
 * boot PML4E 0 and PDPTE 0 and splits the first 2 MiB page into 4 KiB
 * pages in which only the image's .user pages (USER_TEXT/USER_DATA) are
 * user-accessible — every other leaf of the identity map stays
 * supervisor-only.
 *
 * TLB: changing or removing a leaf takes INVLPG of that address (SDM 3A
 * 4.10.4.1); that also drops paging-structure-cache entries for it. A
 * new leaf under a new table needs no flush (4.10.4.3: not-present
 * entries are not cached). vm_init() changes non-leaf entries of the live
 * tables, so it reloads CR3 (MOV to CR3 invalidates all non-global
 * entries, 4.10.4.1); nothing here sets G.
 */
#include "guests/guest.h"

extern char __user_start[], __user_end[];

static uint64_t low_pt[512] __attribute__((aligned(4096)));
static bool vm_ready;

static bool user_va(uint64_t va)
{
	return va >= VM_USER_BASE && va < VM_USER_END && !(va & (PAGE_SIZE - 1));
}

int vm_init(void)
{
	int err;

	if (vm_ready)
		return 0;
	err = page_init();
	if (err)
		return err;
	for (uint64_t i = 0; i < 512; i++) {
		uint64_t pa = i * PAGE_SIZE, f = PTE_P | PTE_RW;
		if (pa >= (uint64_t)(uintptr_t)__user_start &&
		    pa < (uint64_t)(uintptr_t)__user_end)
			f |= PTE_US;
		low_pt[i] = pa | f;
	}
	guest_pd[0][0] = (uint64_t)(uintptr_t)low_pt | PTE_P | PTE_RW | PTE_US;
	guest_pdpt[0] |= PTE_US;
	guest_pml4[0] |= PTE_US;
	write_cr3(read_cr3());
	vm_ready = true;
	return 0;
}

int vm_create(struct vm_space *as)
{
	uint64_t pml4 = page_alloc();

	if (!pml4)
		return -GUEST_ENOMEM;
	((uint64_t *)(uintptr_t)pml4)[0] = guest_pml4[0];
	as->pml4 = pml4;
	return 0;
}

/* The leaf for @va, creating the missing tables when @create. */
static uint64_t *walk(struct vm_space *as, uint64_t va, bool create)
{
	uint64_t *table = (uint64_t *)(uintptr_t)as->pml4;

	for (int shift = 39; shift > 12; shift -= 9) {
		uint64_t *e = &table[(va >> shift) & 511];
		if (!(*e & PTE_P)) {
			uint64_t pa;
			if (!create || !(pa = page_alloc()))
				return NULL;
			*e = pa | PTE_P | PTE_RW | PTE_US;
		}
		table = (uint64_t *)(uintptr_t)(*e & PTE_ADDR);
	}
	return &table[(va >> 12) & 511];
}

uint64_t *vm_pte(struct vm_space *as, uint64_t va)
{
	return user_va(va) ? walk(as, va, false) : NULL;
}

int vm_map(struct vm_space *as, uint64_t va, uint64_t pa, uint64_t flags)
{
	uint64_t *pte;

	if (!user_va(va) || (pa & ~PTE_ADDR))
		return -GUEST_EINVAL;
	pte = walk(as, va, true);
	if (!pte)
		return -GUEST_ENOMEM;
	*pte = pa | (flags & ~PTE_ADDR) | PTE_P;
	invlpg((void *)(uintptr_t)va);
	return 0;
}

int vm_unmap(struct vm_space *as, uint64_t va)
{
	uint64_t *pte = vm_pte(as, va);

	if (!pte || !(*pte & PTE_P))
		return -GUEST_ENOENT;
	*pte = 0;
	invlpg((void *)(uintptr_t)va);
	return 0;
}

int vm_protect(struct vm_space *as, uint64_t va, uint64_t flags)
{
	uint64_t *pte = vm_pte(as, va);

	if (!pte || !(*pte & PTE_P))
		return -GUEST_ENOENT;
	*pte = (*pte & PTE_ADDR) | (flags & ~PTE_ADDR) | PTE_P;
	invlpg((void *)(uintptr_t)va);
	return 0;
}

void vm_switch(struct vm_space *as)
{
	write_cr3(as->pml4);
}

/* Frees the tables under PML4 entries 1..255 and the pages they map. */
static void free_level(uint64_t table, int level)
{
	uint64_t *t = (uint64_t *)(uintptr_t)table;

	for (unsigned i = level == 4 ? 1 : 0; i < (level == 4 ? 256u : 512u); i++) {
		if (!(t[i] & PTE_P))
			continue;
		if (level > 1)
			free_level(t[i] & PTE_ADDR, level - 1);
		else
			page_free(t[i] & PTE_ADDR);
	}
	page_free(table);
}

void vm_destroy(struct vm_space *as)
{
	if (read_cr3() == as->pml4)
		write_cr3((uint64_t)(uintptr_t)guest_pml4);
	free_level(as->pml4, 4);
	as->pml4 = 0;
}
