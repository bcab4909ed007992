/*
 * gdt32.c — the 32-bit runtime's GDT and TSS.
 *
 * Segments (SDM 3A 3.4.5, Figure 3-8; all flat: base 0, limit 0xFFFFF
 * with G=1, D/B=1): 0x08 ring-0 code (type 0xB), 0x10 ring-0 data (type
 * 0x3), 0x18 ring-3 code, 0x20 ring-3 data (DPL 3), 0x28 a 32-bit TSS
 * (type 9 = available 32-bit TSS, Figure 7-3). boot32.S loaded the same
 * 0x08/0x10, so the cached descriptors stay valid across the LGDT.
 *
 * The TSS (Figure 7-2) matters only for events from ring 3: SS0:ESP0 is
 * the stack they switch to (6.12.1); user32.S sets ESP0 before each
 * ring-3 run. The I/O map base lies beyond the limit: no I/O bitmap.
 */
#include "guests32/guest32.h"

struct tss32 {
	uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2;
	uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint32_t es, cs, ss, ds, fs, gs, ldt;
	uint16_t trap, iomap_base;
};
_Static_assert(sizeof(struct tss32) == 104, "SDM 3A Figure 7-2: 104-byte 32-bit TSS");

/* user32.S writes esp0 (offset 4). */
extern struct tss32 gdt32_tss;
struct tss32 gdt32_tss __attribute__((aligned(16)));

/* The accessed bits (type bit 0) start clear: the processor sets them
 * on the first load (SDM 3A 3.4.5.1), also when an interrupt from ring 3
 * loads SS from the TSS. That case once left the bit clear in hvlab's
 * SS cache, which VMX entry then refused (3C 27.3.1.2: SS type 3 or 7);
 * these tests are its regression test. */
static uint64_t gdt[6] __attribute__((aligned(16))) = {
	0,
	0x00CF9A000000FFFFull,	/* 0x08 */
	0x00CF92000000FFFFull,	/* 0x10 */
	0x00CFFA000000FFFFull,	/* 0x18: DPL 3 */
	0x00CFF2000000FFFFull,	/* 0x20: DPL 3 */
	0,			/* 0x28: the TSS, below */
};

void gdt32_init(void)
{
	uint32_t base = (uint32_t)&gdt32_tss, limit = sizeof(gdt32_tss) - 1;

	gdt32_tss.ss0 = GDT32_KERNEL_DS;
	gdt32_tss.iomap_base = sizeof(gdt32_tss);
	/* Figure 7-3: limit 15:0, base 23:0, type 9 with P, limit 19:16,
	 * base 31:24. */
	gdt[GDT32_TSS / 8] = (limit & 0xFFFF) | (uint64_t)(base & 0xFFFFFF) << 16 |
			     (uint64_t)0x89 << 40 | (uint64_t)((limit >> 16) & 0xF) << 48 |
			     (uint64_t)(base >> 24) << 56;
	struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) gdtr = { sizeof(gdt) - 1, (uint32_t)gdt };
	__asm__ volatile("lgdt %0" : : "m"(gdtr));
	__asm__ volatile("ltr %w0" : : "r"((uint16_t)GDT32_TSS));
}
