/*
 * test_hw_svm_insn.c — VMLOAD, VMSAVE, STGI, CLGI, INVLPGA (hw/svm_insn.c)
 * and the VMCB segment format (hw/svm_seg.c).
 *
 * Expected behaviour is the APM's: Vol. 2 15.5.1 (segment state in the
 * VMCB), 15.5.2 (what VMLOAD/VMSAVE transfer), 15.17 (GIF); Vol. 3 the
 * instruction pages' exception tables (#UD without EFER.SVME or outside
 * protected mode, #GP(0) at CPL > 0 or for a bad rAX). Offsets and bits
 * are written here as the manuals give them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hw/svm_internal.h"

/* APM Vol. 2 3.1.7, 3.1.1, 3.1.6. */
#define EFER_SVME_ (1ull << 12)
#define CR0_PE (1ull << 0)
#define RFLAGS_VM (1ull << 17)
/* VMCS-layout access rights (emulate/emulate.h, SDM Vol. 3C 24.4.1). */
#define AR_UNUSABLE (1u << 16)

#define VMCB_PA 0x10000ull
#define VMCB2_PA 0x20000ull

static struct hw_machine *m;
static struct hw_cpu *cpu;

static int setup(void **state)
{
	struct hw_machine_config cfg;
	hw_machine_config_default(&cfg, HW_VENDOR_AMD);
	cfg.arena_size = 16ull << 20;
	if (hw_machine_create(&cfg, &m) || hw_cpu_create(m, 0, &cpu))
		return -1;
	/* A host in protected mode at CPL 0 with SVM enabled. */
	cpu->host.efer |= EFER_SVME_;
	cpu->host.cr0 |= CR0_PE;
	cpu->host.cpl = 0;
	return 0;
}

static int teardown(void **state)
{
	hw_machine_destroy(m);
	m = NULL;
	cpu = NULL;
	return 0;
}

static struct vmcb *vmcb_at(hpa_t pa)
{
	struct vmcb *v = hw_hpa_ptr(m, pa, sizeof(*v));
	assert_non_null(v);
	return v;
}

/* ------------------------------------------------------------ faults */

/* Run each instruction once; all must give @want. */
static void all_give(int want)
{
	assert_int_equal(vmload(cpu, VMCB_PA), want);
	assert_int_equal(vmsave(cpu, VMCB_PA), want);
	assert_int_equal(stgi(cpu), want);
	assert_int_equal(clgi(cpu), want);
	assert_int_equal(invlpga(cpu, 0x1000, 1), want);
}

static void ud_without_svme(void **state)
{
	all_give(SVM_OK);
	cpu->host.efer &= ~EFER_SVME_;
	all_give(SVM_FAULT_UD);
	/* #UD is checked before the address: still #UD for a bad one. */
	assert_int_equal(vmload(cpu, VMCB_PA + 8), SVM_FAULT_UD);
	assert_int_equal(vmsave(cpu, 1ull << 63), SVM_FAULT_UD);
}

static void ud_outside_protected_mode(void **state)
{
	cpu->host.cr0 &= ~CR0_PE;		/* real mode */
	all_give(SVM_FAULT_UD);
	cpu->host.cr0 |= CR0_PE;
	cpu->host.rflags |= RFLAGS_VM;		/* virtual-8086 mode */
	all_give(SVM_FAULT_UD);
	cpu->host.rflags &= ~RFLAGS_VM;
	all_give(SVM_OK);
}

static void gp_above_cpl0(void **state)
{
	for (uint8_t cpl = 1; cpl <= 3; cpl++) {
		cpu->host.cpl = cpl;
		all_give(SVM_FAULT_GP);
	}
}

static void gp_for_a_bad_vmcb_address(void **state)
{
	const uint64_t end = hw_arena_size(m);
	const hpa_t bad[] = {
		VMCB_PA + 1, VMCB_PA + 8, VMCB_PA + 0x800,	/* not 4 KiB aligned */
		1ull << 46, 1ull << 52, 1ull << 63,		/* beyond the width */
		end, end + 0x1000,				/* no memory there */
		~0ull & ~0xfffull,
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(vmload(cpu, bad[i]), SVM_FAULT_GP);
		assert_int_equal(vmsave(cpu, bad[i]), SVM_FAULT_GP);
	}
	/* The first and the last page of the arena are fine. */
	assert_int_equal(vmsave(cpu, 0), SVM_OK);
	assert_int_equal(vmload(cpu, 0), SVM_OK);
	assert_int_equal(vmsave(cpu, end - 0x1000), SVM_OK);
	assert_int_equal(vmload(cpu, end - 0x1000), SVM_OK);
}

static void a_fault_changes_nothing(void **state)
{
	struct vmcb *v = vmcb_at(VMCB_PA);
	memset(v, 0x5a, sizeof(*v));
	cpu->host.seg[EMU_FS].base = 0x1234;
	cpu->msr.lstar = 0x5678;
	cpu->host.cpl = 3;
	assert_int_equal(vmload(cpu, VMCB_PA), SVM_FAULT_GP);
	assert_int_equal(cpu->host.seg[EMU_FS].base, 0x1234);
	assert_int_equal(cpu->msr.lstar, 0x5678);
	assert_int_equal(vmsave(cpu, VMCB_PA), SVM_FAULT_GP);
	for (size_t i = 0; i < sizeof(*v); i++)
		assert_int_equal(((uint8_t *)v)[i], 0x5a);
	cpu->host.cpl = 0;
	cpu->svm.gif = true;
	cpu->host.efer &= ~EFER_SVME_;
	assert_int_equal(clgi(cpu), SVM_FAULT_UD);
	assert_true(cpu->svm.gif);
}

/* ------------------------------------------------------------ VMLOAD / VMSAVE */

static void fill_vmcb_state(struct vmcb *v)
{
	/* Present segments: attrib bit 7 (P) set, bits 15:12 clear. */
	v->save.fs = (struct vmcb_seg){ 0x0033, 0x0cf3, 0xfffff000, 0x00007f0011112000ull };
	v->save.gs = (struct vmcb_seg){ 0x002b, 0x0493, 0x0000ffff, 0xffff888022223000ull };
	v->save.tr = (struct vmcb_seg){ 0x0040, 0x008b, 0x00000067, 0xfffffe0033334000ull };
	v->save.ldtr = (struct vmcb_seg){ 0x0050, 0x0082, 0x00000fff, 0xfffffe0044445000ull };
	v->save.kernel_gs_base = 0xffff888055556000ull;
	v->save.star = 0x0023001000000000ull;
	v->save.lstar = 0xffffffff81000000ull;
	v->save.cstar = 0xffffffff81000100ull;
	v->save.sfmask = 0x47700;
	v->save.sysenter_cs = 0x10;
	v->save.sysenter_esp = 0xfffffe0000001000ull;
	v->save.sysenter_eip = 0xffffffff81000200ull;
}

static void vmload_loads_every_field(void **state)
{
	struct vmcb *v = vmcb_at(VMCB_PA);
	memset(v, 0, sizeof(*v));
	fill_vmcb_state(v);
	assert_int_equal(vmload(cpu, VMCB_PA), SVM_OK);

	const struct emu_cpu *h = &cpu->host;
	assert_int_equal(h->seg[EMU_FS].sel, 0x0033);
	assert_int_equal(h->seg[EMU_FS].ar, 0xc0f3);	/* G, D/B moved to 15:12 */
	assert_int_equal(h->seg[EMU_FS].limit, 0xfffff000);
	assert_int_equal(h->seg[EMU_FS].base, 0x00007f0011112000ull);
	assert_int_equal(h->seg[EMU_GS].sel, 0x002b);
	assert_int_equal(h->seg[EMU_GS].ar, 0x4093);
	assert_int_equal(h->seg[EMU_GS].limit, 0xffff);
	assert_int_equal(h->seg[EMU_GS].base, 0xffff888022223000ull);
	assert_int_equal(h->tr.sel, 0x0040);
	assert_int_equal(h->tr.ar, 0x008b);
	assert_int_equal(h->tr.limit, 0x67);
	assert_int_equal(h->tr.base, 0xfffffe0033334000ull);
	assert_int_equal(h->ldtr.sel, 0x0050);
	assert_int_equal(h->ldtr.ar, 0x0082);
	assert_int_equal(h->ldtr.limit, 0xfff);
	assert_int_equal(h->ldtr.base, 0xfffffe0044445000ull);
	assert_int_equal(cpu->msr.kernel_gs_base, 0xffff888055556000ull);
	assert_int_equal(cpu->msr.star, 0x0023001000000000ull);
	assert_int_equal(cpu->msr.lstar, 0xffffffff81000000ull);
	assert_int_equal(cpu->msr.cstar, 0xffffffff81000100ull);
	assert_int_equal(cpu->msr.fmask, 0x47700);
	assert_int_equal(cpu->msr.sysenter_cs, 0x10);
	assert_int_equal(cpu->msr.sysenter_esp, 0xfffffe0000001000ull);
	assert_int_equal(cpu->msr.sysenter_eip, 0xffffffff81000200ull);
}

static void assert_seg_equal(const struct emu_segment *a, const struct emu_segment *b)
{
	assert_int_equal(a->sel, b->sel);
	assert_int_equal(a->ar, b->ar);
	assert_int_equal(a->limit, b->limit);
	assert_int_equal(a->base, b->base);
}

/* Everything outside the 15.5.2 list stays: in the VMCB a whole page of
 * other state, in the processor the other registers and MSRs. */
static void vmload_touches_nothing_else(void **state)
{
	struct vmcb *v = vmcb_at(VMCB_PA);
	memset(v, 0xa5, sizeof(*v));
	fill_vmcb_state(v);
	const struct emu_cpu before = cpu->host;
	struct hw_msrs msr_before = cpu->msr;
	assert_int_equal(vmload(cpu, VMCB_PA), SVM_OK);

	const struct emu_cpu *h = &cpu->host;
	for (unsigned s = EMU_ES; s <= EMU_DS; s++)
		assert_seg_equal(&h->seg[s], &before.seg[s]);
	assert_memory_equal(h->gpr, before.gpr, sizeof(h->gpr));
	assert_int_equal(h->rip, before.rip);
	assert_int_equal(h->rflags, before.rflags);
	assert_int_equal(h->gdtr.base, before.gdtr.base);
	assert_int_equal(h->gdtr.limit, before.gdtr.limit);
	assert_int_equal(h->idtr.base, before.idtr.base);
	assert_int_equal(h->idtr.limit, before.idtr.limit);
	assert_int_equal(h->cr0, before.cr0);
	assert_int_equal(h->cr4, before.cr4);
	assert_int_equal(h->efer, before.efer);
	assert_int_equal(h->cpl, before.cpl);
	/* The MSRs VMLOAD loads, and nothing else among them. */
	msr_before.kernel_gs_base = v->save.kernel_gs_base;
	msr_before.star = v->save.star;
	msr_before.lstar = v->save.lstar;
	msr_before.cstar = v->save.cstar;
	msr_before.fmask = v->save.sfmask;
	msr_before.sysenter_cs = v->save.sysenter_cs;
	msr_before.sysenter_esp = v->save.sysenter_esp;
	msr_before.sysenter_eip = v->save.sysenter_eip;
	assert_memory_equal(&cpu->msr, &msr_before, sizeof(msr_before));
}

static void set_host_state(void)
{
	struct emu_cpu *h = &cpu->host;
	h->seg[EMU_FS] = (struct emu_segment){ .sel = 0x0063, .ar = 0xc0f3,
					       .limit = 0xffffffff, .base = 0x7f00aaaa0000ull };
	h->seg[EMU_GS] = (struct emu_segment){ .sel = 0x0018, .ar = 0x2093 | (1u << 12),
					       .limit = 0x12345, .base = 0xffff8880bbbb0000ull };
	h->tr = (struct emu_segment){ .sel = 0x0040, .ar = 0x008b, .limit = 0x2067,
				      .base = 0xfffffe00cccc0000ull };
	h->ldtr = (struct emu_segment){ .sel = 0x0000, .ar = AR_UNUSABLE, .limit = 0,
					.base = 0 };
	cpu->msr.kernel_gs_base = 0x1111;
	cpu->msr.star = 0x2222;
	cpu->msr.lstar = 0x3333;
	cpu->msr.cstar = 0x4444;
	cpu->msr.fmask = 0x5555;
	cpu->msr.sysenter_cs = 0x6666;
	cpu->msr.sysenter_esp = 0x7777;
	cpu->msr.sysenter_eip = 0x8888;
}

static uint64_t at64(const void *base, size_t off)
{
	uint64_t x;
	memcpy(&x, (const uint8_t *)base + off, 8);
	return x;
}

static uint16_t at16(const void *base, size_t off)
{
	uint16_t x;
	memcpy(&x, (const uint8_t *)base + off, 2);
	return x;
}

static uint32_t at32(const void *base, size_t off)
{
	uint32_t x;
	memcpy(&x, (const uint8_t *)base + off, 4);
	return x;
}

/* VMSAVE writes exactly the 15.5.2 fields, at Table B-2's offsets. */
static void vmsave_stores_every_field_and_nothing_else(void **state)
{
	uint8_t *p = (uint8_t *)vmcb_at(VMCB_PA);
	memset(p, 0xcc, 4096);
	set_host_state();
	assert_int_equal(vmsave(cpu, VMCB_PA), SVM_OK);

	/* FS at 0x440: selector, attrib, limit, base. */
	assert_int_equal(at16(p, 0x440), 0x0063);
	assert_int_equal(at16(p, 0x442), 0x0cf3);
	assert_int_equal(at32(p, 0x444), 0xffffffff);
	assert_int_equal(at64(p, 0x448), 0x7f00aaaa0000ull);
	/* GS at 0x450: L and AVL go to attrib bits 9 and 8. */
	assert_int_equal(at16(p, 0x450), 0x0018);
	assert_int_equal(at16(p, 0x452), 0x0393);
	assert_int_equal(at32(p, 0x454), 0x12345);
	assert_int_equal(at64(p, 0x458), 0xffff8880bbbb0000ull);
	/* LDTR at 0x470: null, so P = 0. */
	assert_int_equal(at16(p, 0x470), 0);
	assert_int_equal(at16(p, 0x472) & 0x80, 0);
	assert_int_equal(at32(p, 0x474), 0);
	assert_int_equal(at64(p, 0x478), 0);
	/* TR at 0x490. */
	assert_int_equal(at16(p, 0x490), 0x0040);
	assert_int_equal(at16(p, 0x492), 0x008b);
	assert_int_equal(at32(p, 0x494), 0x2067);
	assert_int_equal(at64(p, 0x498), 0xfffffe00cccc0000ull);
	assert_int_equal(at64(p, 0x600), 0x2222);	/* STAR */
	assert_int_equal(at64(p, 0x608), 0x3333);	/* LSTAR */
	assert_int_equal(at64(p, 0x610), 0x4444);	/* CSTAR */
	assert_int_equal(at64(p, 0x618), 0x5555);	/* SFMASK */
	assert_int_equal(at64(p, 0x620), 0x1111);	/* KernelGsBase */
	assert_int_equal(at64(p, 0x628), 0x6666);	/* SYSENTER_CS */
	assert_int_equal(at64(p, 0x630), 0x7777);	/* SYSENTER_ESP */
	assert_int_equal(at64(p, 0x638), 0x8888);	/* SYSENTER_EIP */

	static const struct { size_t lo, hi; } saved[] = {
		{ 0x440, 0x460 }, { 0x470, 0x480 }, { 0x490, 0x4a0 }, { 0x600, 0x640 },
	};
	for (size_t i = 0; i < 4096; i++) {
		bool in = false;
		for (size_t r = 0; r < 4; r++)
			in |= i >= saved[r].lo && i < saved[r].hi;
		if (!in && p[i] != 0xcc)
			fail_msg("VMSAVE wrote byte 0x%zx", i);
	}
}

static void vmload_vmsave_round_trip(void **state)
{
	struct vmcb *a = vmcb_at(VMCB_PA), *b = vmcb_at(VMCB2_PA);
	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));
	fill_vmcb_state(a);
	assert_int_equal(vmload(cpu, VMCB_PA), SVM_OK);
	assert_int_equal(vmsave(cpu, VMCB2_PA), SVM_OK);
	assert_memory_equal(&a->save.fs, &b->save.fs, 0x20);		/* FS, GS */
	assert_memory_equal(&a->save.ldtr, &b->save.ldtr, 0x10);
	assert_memory_equal(&a->save.tr, &b->save.tr, 0x10);
	assert_memory_equal(&a->save.star, &b->save.star, 0x40);	/* STAR..SYSENTER_EIP */

	/* And the other way: host state through a VMCB and back. */
	set_host_state();
	const struct emu_cpu h = cpu->host;
	const struct hw_msrs msr = cpu->msr;
	assert_int_equal(vmsave(cpu, VMCB_PA), SVM_OK);
	memset(&cpu->host.seg[EMU_FS], 0, sizeof(cpu->host.seg[EMU_FS]));
	memset(&cpu->host.seg[EMU_GS], 0, sizeof(cpu->host.seg[EMU_GS]));
	memset(&cpu->host.tr, 0, sizeof(cpu->host.tr));
	memset(&cpu->msr, 0, sizeof(cpu->msr));
	assert_int_equal(vmload(cpu, VMCB_PA), SVM_OK);
	assert_seg_equal(&cpu->host.seg[EMU_FS], &h.seg[EMU_FS]);
	assert_seg_equal(&cpu->host.seg[EMU_GS], &h.seg[EMU_GS]);
	assert_seg_equal(&cpu->host.tr, &h.tr);
	assert_true(cpu->host.ldtr.ar & AR_UNUSABLE);
	assert_int_equal(cpu->msr.kernel_gs_base, msr.kernel_gs_base);
	assert_int_equal(cpu->msr.star, msr.star);
	assert_int_equal(cpu->msr.lstar, msr.lstar);
	assert_int_equal(cpu->msr.cstar, msr.cstar);
	assert_int_equal(cpu->msr.fmask, msr.fmask);
	assert_int_equal(cpu->msr.sysenter_cs, msr.sysenter_cs);
	assert_int_equal(cpu->msr.sysenter_esp, msr.sysenter_esp);
	assert_int_equal(cpu->msr.sysenter_eip, msr.sysenter_eip);
}

static void vmload_null_segment_is_unusable(void **state)
{
	struct vmcb *v = vmcb_at(VMCB_PA);
	memset(v, 0, sizeof(*v));
	fill_vmcb_state(v);
	v->save.gs.attrib &= ~0x80;	/* P = 0: a null selector */
	assert_int_equal(vmload(cpu, VMCB_PA), SVM_OK);
	assert_true(cpu->host.seg[EMU_GS].ar & AR_UNUSABLE);
	assert_false(cpu->host.seg[EMU_FS].ar & AR_UNUSABLE);
	assert_false(cpu->host.tr.ar & AR_UNUSABLE);
}

/* ------------------------------------------------------------ segment format */

/*
 * APM 15.5.1: VMCB attrib bit i holds descriptor bit 40 + i (i < 8) or
 * 52 + (i - 8). SDM 24.4.1: access-rights bit j holds descriptor bit
 * 40 + j (j < 8) or 52 + (j - 12) (12 <= j < 16). Each attribute bit, with
 * P set, lands on the access-rights bit of the same descriptor bit.
 */
static void seg_attr_bit_by_bit(void **state)
{
	for (unsigned i = 0; i < 12; i++) {
		const unsigned desc_bit = i < 8 ? 40 + i : 52 + (i - 8);
		const unsigned j = desc_bit < 48 ? desc_bit - 40 : desc_bit - 52 + 12;
		const uint16_t attrib = (uint16_t)((1u << i) | 0x80);
		const uint32_t ar = (1u << j) | 0x80;
		assert_int_equal(svm_attrib_to_ar(attrib), ar);
		assert_int_equal(svm_ar_to_attrib(ar), attrib);
	}
}

static void seg_attr_descriptors(void **state)
{
	static const struct { uint16_t attrib; uint32_t ar; } t[] = {
		{ 0x0a9b, 0xa09b },	/* 64-bit code, DPL 0: G, L */
		{ 0x0cfb, 0xc0fb },	/* 32-bit code, DPL 3: G, D */
		{ 0x0cf3, 0xc0f3 },	/* 32-bit data, DPL 3: G, B */
		{ 0x0093, 0x0093 },	/* 16-bit data, byte granular */
		{ 0x008b, 0x008b },	/* busy 64-bit TSS */
		{ 0x0082, 0x0082 },	/* LDT */
		{ 0x0f9b, 0xf09b },	/* every flag: G D L AVL */
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(svm_attrib_to_ar(t[i].attrib), t[i].ar);
		assert_int_equal(svm_ar_to_attrib(t[i].ar), t[i].attrib);
	}
}

static void seg_null_and_ignored_bits(void **state)
{
	/* P = 0 is a null segment: unusable. */
	assert_true(svm_attrib_to_ar(0x0000) & AR_UNUSABLE);
	assert_true(svm_attrib_to_ar(0x0c13) & AR_UNUSABLE);
	assert_false(svm_attrib_to_ar(0x0c93) & AR_UNUSABLE);
	/* An unusable register saves with P = 0, whatever its other bits. */
	assert_int_equal(svm_ar_to_attrib(AR_UNUSABLE), 0);
	assert_int_equal(svm_ar_to_attrib(AR_UNUSABLE | 0xc093), 0x0c13);
	/* Attrib bits 15:12 and access-rights bits 11:8 belong to no field. */
	assert_int_equal(svm_attrib_to_ar(0xf093), 0x0093);
	assert_int_equal(svm_ar_to_attrib(0x0f93), 0x0093);
}

static void seg_fields_copied_whole(void **state)
{
	const struct vmcb_seg in = { .selector = 0xfffb, .attrib = 0x0c93,
				     .limit = 0xffffffff, .base = 0xfedcba9876543210ull };
	struct emu_segment s;
	memset(&s, 0xff, sizeof(s));
	svm_seg_from_vmcb(&in, &s);
	assert_int_equal(s.sel, 0xfffb);
	assert_int_equal(s.ar, 0xc093);
	assert_int_equal(s.limit, 0xffffffff);	/* already expanded: kept */
	assert_int_equal(s.base, 0xfedcba9876543210ull);
	struct vmcb_seg out;
	memset(&out, 0, sizeof(out));
	svm_seg_to_vmcb(&s, &out);
	assert_memory_equal(&in, &out, sizeof(in));
}

/* ------------------------------------------------------------ STGI / CLGI */

static void stgi_clgi_set_and_clear_gif(void **state)
{
	assert_int_equal(clgi(cpu), SVM_OK);
	assert_false(cpu->svm.gif);
	assert_int_equal(clgi(cpu), SVM_OK);
	assert_false(cpu->svm.gif);
	assert_int_equal(stgi(cpu), SVM_OK);
	assert_true(cpu->svm.gif);
	assert_int_equal(stgi(cpu), SVM_OK);
	assert_true(cpu->svm.gif);
	assert_int_equal(clgi(cpu), SVM_OK);
	cpu->host.cpl = 3;
	assert_int_equal(stgi(cpu), SVM_FAULT_GP);
	assert_false(cpu->svm.gif);
}

/* ------------------------------------------------------------ INVLPGA */

#define VA 0x7f0000123000ull
#define VA_2M 0x40000000ull
#define TAG(asid, pcid) HW_TLB_TAG(0, (asid), (pcid))

static bool cached(uint64_t la, uint64_t tag)
{
	return hw_tlb_lookup(&cpu->tlb, la, tag) != NULL;
}

static void invlpga_drops_that_page_in_that_asid(void **state)
{
	struct hw_tlb *tlb = &cpu->tlb;
	hw_tlb_fill(tlb, VA, TAG(5, 0), 12, 0x100000, 0);
	hw_tlb_fill(tlb, VA, TAG(5, 7), 12, 0x101000, 0);		/* other PCID */
	hw_tlb_fill(tlb, VA, HW_TLB_TAG(0x123000ull, 5, 0), 12, 0x102000, 0); /* other nCR3 */
	hw_tlb_fill(tlb, VA, TAG(6, 0), 12, 0x103000, 0);		/* other ASID */
	hw_tlb_fill(tlb, VA + 0x1000, TAG(5, 0), 12, 0x104000, 0);	/* next page */
	hw_tlb_fill(tlb, VA_2M, TAG(5, 0), 21, 0x200000, 0);		/* a 2 MiB page */
	hw_tlb_fill(tlb, VA_2M + 0x400000, TAG(5, 3), 12, 0x105000, HW_R_GLOBAL);
	const uint64_t flushes = cpu->cnt.tlb_flushes;

	assert_int_equal(invlpga(cpu, VA, 5), SVM_OK);
	assert_false(cached(VA, TAG(5, 0)));
	assert_false(cached(VA, TAG(5, 7)));
	assert_false(cached(VA, HW_TLB_TAG(0x123000ull, 5, 0)));
	assert_true(cached(VA, TAG(6, 0)));
	assert_true(cached(VA + 0x1000, TAG(5, 0)));
	assert_int_equal(cpu->cnt.tlb_flushes, flushes + 1);

	/* Any address inside the large page drops it. */
	assert_true(cached(VA_2M + 0x1000, TAG(5, 0)));
	assert_int_equal(invlpga(cpu, VA_2M + 0x1f5000, 5), SVM_OK);
	assert_false(cached(VA_2M, TAG(5, 0)));

	/* Global entries go too (INVLPGA is no INVLPG of the current PCID). */
	assert_true(cached(VA_2M + 0x400000, TAG(5, 0)));
	assert_int_equal(invlpga(cpu, VA_2M + 0x400000, 5), SVM_OK);
	assert_false(cached(VA_2M + 0x400000, TAG(5, 3)));
}

static void invlpga_asid_beyond_the_tag_drops_nothing(void **state)
{
	hw_tlb_fill(&cpu->tlb, VA, TAG(5, 0), 12, 0x100000, 0);
	assert_int_equal(invlpga(cpu, VA, 0x10005), SVM_OK);
	assert_true(cached(VA, TAG(5, 0)));
	assert_int_equal(invlpga(cpu, VA, 4), SVM_OK);
	assert_true(cached(VA, TAG(5, 0)));
}

static void invlpga_fault_drops_nothing(void **state)
{
	hw_tlb_fill(&cpu->tlb, VA, TAG(5, 0), 12, 0x100000, 0);
	cpu->host.efer &= ~EFER_SVME_;
	assert_int_equal(invlpga(cpu, VA, 5), SVM_FAULT_UD);
	assert_true(cached(VA, TAG(5, 0)));
	cpu->host.efer |= EFER_SVME_;
	cpu->host.cpl = 3;
	assert_int_equal(invlpga(cpu, VA, 5), SVM_FAULT_GP);
	assert_true(cached(VA, TAG(5, 0)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(ud_without_svme),
		T(ud_outside_protected_mode),
		T(gp_above_cpl0),
		T(gp_for_a_bad_vmcb_address),
		T(a_fault_changes_nothing),
		T(vmload_loads_every_field),
		T(vmload_touches_nothing_else),
		T(vmsave_stores_every_field_and_nothing_else),
		T(vmload_vmsave_round_trip),
		T(vmload_null_segment_is_unusable),
		T(seg_attr_bit_by_bit),
		T(seg_attr_descriptors),
		T(seg_null_and_ignored_bits),
		T(seg_fields_copied_whole),
		T(stgi_clgi_set_and_clear_gif),
		T(invlpga_drops_that_page_in_that_asid),
		T(invlpga_asid_beyond_the_tag_drops_nothing),
		T(invlpga_fault_drops_nothing),
	};
	return cmocka_run_group_tests_name("hw_svm_insn", tests, NULL, NULL);
}
