/*
 * page.c — a physical page allocator over the multiboot memory map.
 *
 * The loader describes RAM in the multiboot information (Multiboot
 * 0.6.96 §3.3): when flags bit 6 is set, mmap_addr/mmap_length (offsets
 * 48/44) point at entries { u32 size; u64 base_addr; u64 length; u32 type },
 * each followed by the next at +size+4; type 1 is available RAM. Pages
 * are handed out from type-1 ranges above everything the runtime must
 * keep: the image (up to __bss_end) and the multiboot structures the
 * loader placed after it (QEMU puts them right behind the image). Only
 * memory below 4 GiB is used, because that is what boot.S identity-maps,
 * so a physical address is also a usable pointer (SDM 3A 4.5).
 *
 * Allocation takes a freed page first (a list threaded through the free
 * pages themselves), otherwise the next page of the current range. Every
 * page handed out is zeroed, so a fresh paging structure has no present
 * entries.
 */
#include "guests/guest.h"

#define MB_INFO_MMAP	(1u << 6)	/* flags: mmap_* valid */
#define MB_INFO_CMDLINE	(1u << 2)
#define MB_MMAP_RAM	1
#define MAX_RANGES	16
#define LIMIT_4G	0x100000000ull

extern char __bss_end[];

struct range {
	uint64_t next, end;	/* next unused page, end of the range */
};

static struct range ranges[MAX_RANGES];
static unsigned nranges, cur;
static uint64_t free_list, nfree;

static uint64_t round_up(uint64_t v)
{
	return (v + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

int page_init(void)
{
	const volatile uint32_t *mbi = (const uint32_t *)(uintptr_t)guest_mb_info;
	uint64_t floor, mmap, mmap_len;

	nranges = cur = 0;
	free_list = nfree = 0;
	if (guest_mb_magic != 0x2BADB002 || !(mbi[0] & MB_INFO_MMAP))
		return -GUEST_ENOMEM;
	mmap_len = mbi[11];
	mmap = mbi[12];
	/* The info structure is 88 bytes (§3.3, up to the VBE fields). */
	floor = max_u64((uint64_t)(uintptr_t)__bss_end, guest_mb_info + 88);
	floor = max_u64(floor, mmap + mmap_len);
	if (mbi[0] & MB_INFO_CMDLINE) {
		const char *s = (const char *)(uintptr_t)mbi[4];
		uint64_t n = 0;
		while (s[n])
			n++;
		floor = max_u64(floor, (uint64_t)(uintptr_t)s + n + 1);
	}
	floor = round_up(floor);

	for (uint64_t off = 0; off + 24 <= mmap_len && nranges < MAX_RANGES;) {
		const uint8_t *e = (const uint8_t *)(uintptr_t)(mmap + off);
		uint32_t size = *(const uint32_t *)e;
		uint64_t base = *(const uint64_t *)(e + 4);
		uint64_t len = *(const uint64_t *)(e + 12);
		uint32_t type = *(const uint32_t *)(e + 20);
		off += (uint64_t)size + 4;
		if (type != MB_MMAP_RAM)
			continue;
		uint64_t lo = round_up(max_u64(base, floor));
		uint64_t hi = (base + len) & ~(uint64_t)(PAGE_SIZE - 1);
		if (hi > LIMIT_4G)
			hi = LIMIT_4G;
		if (lo < hi)
			ranges[nranges++] = (struct range){ lo, hi };
	}
	return nranges ? 0 : -GUEST_ENOMEM;
}

uint64_t page_alloc(void)
{
	uint64_t pa = 0;

	if (free_list) {
		pa = free_list;
		free_list = *(uint64_t *)(uintptr_t)pa;
		nfree--;
	} else {
		while (cur < nranges && ranges[cur].next >= ranges[cur].end)
			cur++;
		if (cur == nranges)
			return 0;
		pa = ranges[cur].next;
		ranges[cur].next += PAGE_SIZE;
	}
	volatile uint64_t *p = (uint64_t *)(uintptr_t)pa;
	for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
		p[i] = 0;
	return pa;
}

void page_free(uint64_t pa)
{
	if (!pa || (pa & (PAGE_SIZE - 1)))
		return;
	*(uint64_t *)(uintptr_t)pa = free_list;
	free_list = pa;
	nfree++;
}

uint64_t page_free_count(void)
{
	uint64_t n = nfree;

	for (unsigned i = cur; i < nranges; i++)
		n += (ranges[i].end - ranges[i].next) / PAGE_SIZE;
	return n;
}
