/*
 * gdt.c — the runtime GDT and the 64-bit TSS (RSP0 and IST stacks).
 *
 * boot.S enters 64-bit mode with a three-entry GDT in .rodata. gdt_init()
 * replaces it with the table ring-3 tasks need (guest.h GDT_*):
 *   0x08 ring-0 64-bit code, 0x10 ring-0 data   (same as boot.S)
 *   0x18 ring-3 data, 0x20 ring-3 64-bit code   (this order because SYSRET
 *        takes SS = STAR[63:48] + 8 and CS = STAR[63:48] + 16, SDM Vol. 3A
 *        5.8.8, so STAR[63:48] = 0x10 names the pair)
 *   0x28 a 16-byte 64-bit TSS descriptor (SDM 3A 7.2.3, Figure 7-4;
 *        type 9 = available 64-bit TSS, Table 3-2)
 * and loads TR with LTR (SDM 3A 7.2.4).
 *
 * The TSS (SDM 3A 7.7, Figure 7-11) supplies RSP0, the stack a fault or
 * interrupt from ring 3 switches to (6.14.4), and IST1 / IST2, the stacks
 * #DF and NMI always switch to through the IST field of their gates
 * (6.14.5). With #DF on its own stack, a double fault caused by a bad
 * kernel stack is reported instead of escalating to a triple fault.
 * The I/O-permission-map base is set beyond the limit: no I/O bitmap, so
 * IN/OUT from ring 3 (CPL > IOPL) raise #GP (SDM Vol. 1 19.5.2).
 */
#include "guests/guest.h"

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];	/* ist[0] is IST1 */
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss64) == 104, "SDM 3A Figure 7-11: 104-byte 64-bit TSS");

#define TSS_STACK_SIZE	8192

static struct tss64 tss __attribute__((aligned(16)));
static uint8_t rsp0_stack[TSS_STACK_SIZE] __attribute__((aligned(16)));
static uint8_t df_stack[TSS_STACK_SIZE] __attribute__((aligned(16)));
static uint8_t nmi_stack[TSS_STACK_SIZE] __attribute__((aligned(16)));

/* Descriptor words (SDM 3A 3.4.5, Figure 3-8): code L=1 D=0 P=1 S=1 type
 * 0xA; data P=1 S=1 type 0x2, G=1 D/B=1 limit 0xFFFFF; DPL in bits 46:45. */
static uint64_t gdt[7] __attribute__((aligned(16))) = {
	0,
	0x00209A0000000000,	/* 0x08 */
	0x00CF92000000FFFF,	/* 0x10 */
	0x00CFF2000000FFFF,	/* 0x18: DPL 3 */
	0x0020FA0000000000,	/* 0x20: DPL 3 */
	0, 0,			/* 0x28: TSS, filled in by gdt_init() */
};


uint64_t gdt_ist_top(unsigned ist)
{
	return ist == 1 ? tss.ist[0] : ist == 2 ? tss.ist[1] : 0;
}

uint64_t gdt_rsp0(void)
{
	return tss.rsp[0];
}

void gdt_init(void)
{
	uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;

	tss.rsp[0] = (uint64_t)(rsp0_stack + TSS_STACK_SIZE);
	tss.ist[GDT_IST_DF - 1] = (uint64_t)(df_stack + TSS_STACK_SIZE);
	tss.ist[GDT_IST_NMI - 1] = (uint64_t)(nmi_stack + TSS_STACK_SIZE);
	tss.iomap_base = sizeof(tss);

	/* Figure 7-4: limit 15:0, base 23:0, type 9, P, limit 19:16,
	 * base 31:24; the second quadword holds base 63:32. */
	gdt[GDT_TSS / 8] = (limit & 0xFFFF) | (base & 0xFFFFFF) << 16 |
			   (uint64_t)0x89 << 40 | ((limit >> 16) & 0xF) << 48 |
			   ((base >> 24) & 0xFF) << 56;
	gdt[GDT_TSS / 8 + 1] = base >> 32;

	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) gdtr = { sizeof(gdt) - 1, (uint64_t)gdt };
	/* The selectors in CS/DS/ES/SS keep their cached descriptors, which
	 * equal the new table's entries, so no reload is needed. */
	__asm__ volatile("lgdt %0" : : "m"(gdtr));
	__asm__ volatile("ltr %w0" : : "r"((uint16_t)GDT_TSS));
}
