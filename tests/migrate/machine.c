/*
 * machine.c — see machine.h. The page tables follow layout.h: 4-level
 * paging (SDM Vol. 3A 4.5), PML4E and PDPTEs P|RW, 2 MiB PDEs P|RW|PS
 * (Table 4-17), 4 KiB PTEs P|RW (Table 4-19), A and D left for the
 * processor to set (4.8) except in the guard's PDE, whose D is preset so
 * that a shadow MMU may not take a clean dirty flag as its reason to map
 * the guard read-only: only dirty logging keeps it so. The local APIC's
 * page is mapped uncacheable (PCD|PWT), as its registers need
 * (11.4.1).
 *
 * Segments (3.4.5): the guest's GDT (guest.S, mg_gdt) holds 0x08 64-bit
 * code and 0x10 flat data; TR is a busy 64-bit TSS, which VM entry
 * requires of TR (Vol. 3C 27.3.1.2), though the guest never uses one.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tests/migrate/layout.h"
#include "tests/migrate/machine.h"

extern const uint8_t mg_guest[], mg_guest_end[], mg_bsp64[], mg_gdt[];

#define CR0_PE (1ull << 0)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

static uint64_t pt_base(unsigned v)
{
	return MG_PT_BASE + (uint64_t)v * MG_PT_STRIDE;
}

/* Write vcpu @v's tables (layout.h). */
static int write_tables(struct hv_vm *vm, unsigned v)
{
	const uint64_t b = pt_base(v);
	uint64_t t[512];
	int r;

	memset(t, 0, sizeof(t));
	t[0] = (b + MG_PT_PDPT) | MG_P | MG_RW;
	r = hv_write_guest(vm, b + MG_PT_PML4, t, sizeof(t));

	t[0] = (b + MG_PT_PD_LOW) | MG_P | MG_RW;
	t[1] = (b + MG_PT_PD_WIN) | MG_P | MG_RW;
	t[3] = (b + MG_PT_PD_APIC) | MG_P | MG_RW;
	r = r ? r : hv_write_guest(vm, b + MG_PT_PDPT, t, sizeof(t));

	memset(t, 0, sizeof(t));
	for (uint64_t i = 0; i < MG_SLOT_SIZE >> 21; i++)
		t[i] = (i << 21) | MG_P | MG_RW | MG_PS;
	t[MG_GUARD >> 21] |= MG_A | MG_D;
	r = r ? r : hv_write_guest(vm, b + MG_PT_PD_LOW, t, sizeof(t));

	memset(t, 0, sizeof(t));
	t[0] = (b + MG_PT_A) | MG_P | MG_RW;
	for (uint64_t i = 1; i < (uint64_t)MG_DATA_PAGES >> 9; i++)
		t[i] = (MG_DATA + (i << 21)) | MG_P | MG_RW | MG_PS;
	r = r ? r : hv_write_guest(vm, b + MG_PT_PD_WIN, t, sizeof(t));

	for (uint64_t i = 0; i < 512; i++)
		t[i] = (MG_DATA + (i << 12)) | MG_P | MG_RW;
	r = r ? r : hv_write_guest(vm, b + MG_PT_A, t, sizeof(t));
	for (uint64_t i = 0; i < 512; i++)
		t[i] = (MG_DATA_B + (i << 12)) | MG_P | MG_RW;
	r = r ? r : hv_write_guest(vm, b + MG_PT_B, t, sizeof(t));

	memset(t, 0, sizeof(t));
	t[(MG_APIC_ICR_LO >> 21) & 511] = (MG_APIC_ICR_LO & ~0x1fffffull) | MG_P | MG_RW |
					  MG_PWT | MG_PCD | MG_PS;
	r = r ? r : hv_write_guest(vm, b + MG_PT_PD_APIC, t, sizeof(t));
	return r;
}

static struct hv_segment flat(uint16_t sel, uint8_t type, bool code64)
{
	return (struct hv_segment){ .base = 0, .limit = 0xffffffff, .selector = sel,
				    .type = type, .present = 1, .s = 1, .g = 1,
				    .db = !code64, .l = code64 };
}

/* Vcpu 0 in 64-bit mode at mg_bsp64 with vcpu 0's tables. */
static int enter_long(struct hv_vcpu *vcpu)
{
	struct hv_sregs s;
	struct hv_regs regs;
	int r = hv_get_sregs(vcpu, &s);
	if (r)
		return r;
	s.cs = flat(0x08, 0xb, true);
	s.ds = s.es = s.fs = s.gs = s.ss = flat(0x10, 0x3, false);
	s.tr = (struct hv_segment){ .limit = 0x67, .type = 0xb, .present = 1 };
	s.ldt = (struct hv_segment){ .unusable = 1 };
	s.gdt = (struct hv_dtable){ .base = MG_CODE + (uint64_t)(mg_gdt - mg_guest), .limit = 31 };
	s.idt = (struct hv_dtable){ .base = 0, .limit = 0 };
	s.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	s.cr4 = CR4_PAE;
	s.cr3 = pt_base(0);
	s.efer = EFER_LME | EFER_LMA;
	r = hv_set_sregs(vcpu, &s);
	if (r)
		return r;
	r = hv_get_regs(vcpu, &regs);
	if (r)
		return r;
	regs.rip = MG_CODE + (uint64_t)(mg_bsp64 - mg_guest);
	regs.rflags = 0x2;
	return hv_set_regs(vcpu, &regs);
}

int mg_machine_create(struct mg_machine *m, const char *backend, const char *mmu,
		      unsigned nvcpus, uint64_t seed, char *why, size_t whylen)
{
	const struct hv_vm_config cfg = { .backend = backend, .mmu = mmu,
					  .max_mem = 2 * MG_SLOT_SIZE };
	const struct hv_memory_region mr = { .slot = MG_SLOT, .flags = HV_MEM_LOG_DIRTY_PAGES,
					     .gpa = 0, .size = MG_SLOT_SIZE };
	const uint64_t params[2] = { seed, nvcpus };
	const char *step = "hv_vm_create";
	int r;

	memset(m, 0, sizeof(*m));
	if (nvcpus < 1 || nvcpus > MG_MAX_VCPUS) {
		snprintf(why, whylen, "vcpus must be 1..%d, not %u", MG_MAX_VCPUS, nvcpus);
		return -EINVAL;
	}
	r = hv_vm_create(&cfg, &m->vm);
	if (r)
		goto fail;
	step = "hv_set_memory_region";
	r = hv_set_memory_region(m->vm, &mr);
	if (r)
		goto fail;
	step = "hv_write_guest";
	r = hv_write_guest(m->vm, MG_PARAMS, params, sizeof(params));
	if (!r)
		r = hv_write_guest(m->vm, MG_CODE, mg_guest, (size_t)(mg_guest_end - mg_guest));
	for (unsigned v = 0; v < nvcpus && !r; v++)
		r = write_tables(m->vm, v);
	if (r)
		goto fail;
	step = "hv_vcpu_create";
	for (; m->nvcpus < nvcpus; m->nvcpus++) {
		r = hv_vcpu_create(m->vm, m->nvcpus, &m->vcpus[m->nvcpus]);
		if (r)
			goto fail;
	}
	step = "entering 64-bit mode";
	r = enter_long(m->vcpus[0]);
	if (r)
		goto fail;
	return 0;
fail:
	snprintf(why, whylen, "%s: %s", step, hv_strerror());
	mg_machine_destroy(m);
	return r;
}

void mg_machine_destroy(struct mg_machine *m)
{
	hv_vm_destroy(m->vm);
	memset(m, 0, sizeof(*m));
}

bool mg_guest_may_write(const struct mg_machine *m, uint64_t gfn)
{
	const uint64_t gpa = gfn << 12;
	if (gpa >= MG_DATA && gpa < MG_DATA + ((uint64_t)MG_DATA_PAGES << 12))
		return true;
	for (unsigned v = 0; v < m->nvcpus; v++)
		if (gpa >= pt_base(v) && gpa < pt_base(v) + MG_PT_PAGES * 0x1000ull)
			return true;
	return false;
}
