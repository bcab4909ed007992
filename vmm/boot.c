/*
 * boot.c — see boot.h. The states are the ones docs/loaders.md tables:
 * multiboot's (spec 3.2: 32-bit protected mode, flat segments, paging
 * off, EAX magic, EBX info) and ELF64's (IA-32e mode on identity-mapped
 * 2 MiB pages over [0, 4 GiB), built in the boot area [0x1000, 0xa000)).
 */
#include <errno.h>
#include <string.h>

#include "vmm/boot.h"

#define BOOT_GDT 0x1000ull
#define BOOT_PML4 0x2000ull
#define BOOT_PDPT 0x3000ull
#define BOOT_PD 0x4000ull	/* four of them: 0x4000-0x7fff */

int boot_add_ram(struct hv_vm *vm, uint64_t ram_size)
{
	uint64_t below = ram_size, above = 0;
	if (ram_size >= LOADER_LOWMEM_LIMIT) {
		below = LOADER_LOWMEM_SPLIT;
		above = ram_size - LOADER_LOWMEM_SPLIT;
	}
	struct hv_memory_region mr = { .slot = 0, .gpa = 0, .size = below };
	int r = hv_set_memory_region(vm, &mr);
	if (r || !above)
		return r;
	mr = (struct hv_memory_region){ .slot = 1, .gpa = LOADER_4G, .size = above };
	return hv_set_memory_region(vm, &mr);
}

static struct hv_segment flat(uint16_t sel, uint8_t type, bool code64)
{
	return (struct hv_segment){ .base = 0, .limit = 0xffffffff, .selector = sel,
				    .type = type, .present = 1, .s = 1, .g = 1,
				    .db = !code64, .l = code64 };
}

/* What every entry needs besides the segments: an unusable LDTR and a
 * busy 32/64-bit TSS in TR (SDM Vol. 3C 27.3.1.2). */
static void system_segments(struct hv_sregs *s)
{
	s->ldt = (struct hv_segment){ .unusable = 1, .type = 2 };
	s->tr = (struct hv_segment){ .limit = 0x67, .type = 11, .present = 1 };
}

static int set_mb_state(struct hv_vcpu *vcpu, const struct load_plan *plan)
{
	struct hv_sregs s;
	int r = hv_get_sregs(vcpu, &s);
	if (r)
		return r;
	s.cs = flat(0x08, 0xb, false);
	s.ds = s.es = s.fs = s.gs = s.ss = flat(0x10, 0x3, false);
	system_segments(&s);
	s.gdt = (struct hv_dtable){ 0, 0 };
	s.idt = (struct hv_dtable){ 0, 0 };
	s.cr0 = 0x11;
	s.cr3 = 0;
	s.cr4 = 0;
	s.efer = 0;
	r = hv_set_sregs(vcpu, &s);
	if (r)
		return r;
	struct hv_regs g = { .rax = plan->rax, .rbx = plan->rbx, .rip = plan->rip,
			     .rflags = 2, .rsp = plan->rsp };
	return hv_set_regs(vcpu, &g);
}

static int write_boot_tables(struct hv_vm *vm)
{
	const uint64_t gdt[3] = { 0, 0x00af9a000000ffffull, 0x00cf92000000ffffull };
	uint64_t pml4[512] = { BOOT_PDPT | 3 }, pdpt[512] = { 0 }, pd[512];
	int r = hv_write_guest(vm, BOOT_GDT, gdt, sizeof(gdt));
	if (r)
		return r;
	for (unsigned i = 0; i < 4; i++)
		pdpt[i] = (BOOT_PD + i * 0x1000) | 3;
	if ((r = hv_write_guest(vm, BOOT_PML4, pml4, sizeof(pml4))) ||
	    (r = hv_write_guest(vm, BOOT_PDPT, pdpt, sizeof(pdpt))))
		return r;
	for (unsigned i = 0; i < 4; i++) {
		for (unsigned j = 0; j < 512; j++)
			pd[j] = ((uint64_t)i << 30) + ((uint64_t)j << 21) + 0x83;
		if ((r = hv_write_guest(vm, BOOT_PD + i * 0x1000, pd, sizeof(pd))))
			return r;
	}
	return 0;
}

static int set_elf64_state(struct hv_vm *vm, struct hv_vcpu *vcpu, const struct load_plan *plan)
{
	struct hv_sregs s;
	int r = write_boot_tables(vm);
	if (r)
		return r;
	if ((r = hv_get_sregs(vcpu, &s)))
		return r;
	s.cs = flat(0x08, 0xb, true);
	s.ds = s.es = s.fs = s.gs = s.ss = flat(0x10, 0x3, false);
	system_segments(&s);
	s.gdt = (struct hv_dtable){ BOOT_GDT, 0x17 };
	s.idt = (struct hv_dtable){ 0, 0 };
	s.cr0 = 0x80010031;
	s.cr3 = BOOT_PML4;
	s.cr4 = 0x20;
	s.efer = 0x500;
	if ((r = hv_set_sregs(vcpu, &s)))
		return r;
	struct hv_regs g = { .rip = plan->rip, .rsp = plan->rsp, .rflags = 2 };
	return hv_set_regs(vcpu, &g);
}

int boot_set_state(struct hv_vm *vm, struct hv_vcpu *vcpu, const struct load_plan *plan)
{
	switch (plan->mode) {
	case LOADER_MODE_PROT32:
		return set_mb_state(vcpu, plan);
	case LOADER_MODE_LONG64:
		return set_elf64_state(vm, vcpu, plan);
	default:
		return -EINVAL;
	}
}
