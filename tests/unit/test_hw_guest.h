/*
 * test_hw_guest.h — what the test_hw_guest_*.c programs share: a guest on
 * the harness (tests/support/hwguest.h) with a GDT and IDT of its own,
 * switched to 32-bit, PAE or 4-level paging through the VMCS/VMCB before
 * entry, and the hand-assembled pieces every paging test runs (a #PF
 * handler that records CR2, the error code and the interrupted CS:RIP; a
 * "done" gate ring 3 can call; the trip to ring 3).
 *
 * Guest-physical layout (RAM is GM_RAM bytes; the identity map makes
 * guest-linear = guest-physical below GM_RAM in every mode):
 *
 *   0x01000-0x03fff  the harness's GDT, TSS and IDT (only its TSS is used)
 *   0x04000          GM_GDT: null, code64, data, TSS (2 slots), code32,
 *                    -, user code32, user data, user code64
 *   0x05000          GM_IDT
 *   0x10000          GM_CODE: the code the guest enters at
 *   0x11000          GM_PF: the #PF handler; GM_DONE: the "done" gate
 *   0x12000          GM_RES: results (RES_* offsets), 8-byte slots
 *   0x12100          GM_DESC, 0x12200 GM_OUT (test_hw_guest_code.h)
 *   0x80000          GM_STACK: top of the ring-0 stack (also RSP0/ESP0)
 *   0x100000         the harness's 4-level tables, then the tables the
 *                    tests add (same allocator, g->guest)
 *   0x400000         GM_TPAGE: the page the tests map at GM_VA_T
 *
 * Linear addresses outside RAM the tests map: GM_VA_UCODE and GM_VA_USTACK
 * (ring-3 code and stack, in the page table of 0x40000000) and GM_VA_T,
 * 4 MiB further, so its PDE is one no other mapping uses, in every mode.
 *
 * Every encoding below was checked with GNU as / objdump; the memory
 * forms use a SIB byte with no base and no index ("[disp32]"), which
 * means the same in 32-bit and 64-bit code, so one body serves all modes.
 */
#ifndef HVLAB_TESTS_UNIT_TEST_HW_GUEST_H
#define HVLAB_TESTS_UNIT_TEST_HW_GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "hw/hw.h"
#include "hw/svm.h"
#include "hw/vmcb.h"
#include "hw/vmx.h"
#include "tests/support/hwguest.h"
#include "tests/support/pt_builder.h"

#define GM_RAM		(8ull << 20)
#define GM_GDT		0x4000ull
#define GM_IDT		0x5000ull
#define GM_CODE		0x10000ull
#define GM_PF		0x11000ull
#define GM_DONE		0x11100ull
#define GM_RES		0x12000ull
#define GM_STACK	0x80000ull
#define GM_TPAGE	0x400000ull
#define GM_VA_UCODE	0x40001000ull
#define GM_VA_USTACK	0x40002000ull
#define GM_VA_T		0x40400000ull

/* Results the handlers store (offsets from GM_RES). */
#define RES_CR2		0x00
#define RES_ERR		0x08
#define RES_RIP		0x10
#define RES_DONE	0x18
#define RES_CS		0x20
#define RES_UNTOUCHED	0xdeadbeefull	/* what each slot holds before */
#define DONE_MARK	0x600du

/* Selectors of GM_GDT. */
#define SEL_KCODE64	0x08
#define SEL_KDATA	0x10
#define SEL_TSS		0x18
#define SEL_KCODE32	0x28
#define SEL_UCODE32	0x3b
#define SEL_UDATA	0x43
#define SEL_UCODE64	0x4b

/* Exit codes, from the manuals: SDM Vol. 3D Appendix C (HLT 12, triple
 * fault 2, I/O 30); APM Vol. 2 Appendix C (VMEXIT_HLT 0x78,
 * VMEXIT_SHUTDOWN 0x7f, VMEXIT_IOIO 0x7b). */
#define VMX_EXIT_HLT_NR		12
#define VMX_EXIT_TRIPLE_NR	2
#define VMX_EXIT_IO_NR		30
#define SVM_EXIT_HLT_NR		0x78
#define SVM_EXIT_SHUTDOWN_NR	0x7f
#define SVM_EXIT_IOIO_NR	0x7b

/* Control-register and EFER bits (SDM Vol. 3A 2.5, 2.2.1). */
#define CR0_PE		(1ull << 0)
#define CR0_ET		(1ull << 4)
#define CR0_NE		(1ull << 5)
#define CR0_WP		(1ull << 16)
#define CR0_PG		(1ull << 31)
#define CR4_PSE		(1ull << 4)
#define CR4_PAE		(1ull << 5)
#define CR4_PGE		(1ull << 7)
#define CR4_VMXE	(1ull << 13)
#define CR4_PCIDE	(1ull << 17)
#define CR4_SMEP	(1ull << 20)
#define CR4_SMAP	(1ull << 21)
#define EFER_LME_BIT	(1ull << 8)
#define EFER_LMA_BIT	(1ull << 10)
#define EFER_NXE_BIT	(1ull << 11)
#define EFER_SVME_BIT	(1ull << 12)

/* The four machines every scenario runs on. */
struct gm_cfg {
	enum hw_vendor vendor;
	bool tdp;
	const char *name;
};

static const struct gm_cfg gm_cfgs[] = {
	{ HW_VENDOR_INTEL, true, "vmx+ept" },
	{ HW_VENDOR_INTEL, false, "vmx" },
	{ HW_VENDOR_AMD, true, "svm+npt" },
	{ HW_VENDOR_AMD, false, "svm" },
};
#define GM_NR_CFGS (sizeof(gm_cfgs) / sizeof(gm_cfgs[0]))

enum gm_mode { GM_32, GM_PAE, GM_64 };

/* A guest and the paging it runs with. */
struct gm {
	struct hwg g;
	enum gm_mode mode;
	enum ptb_fmt fmt;
	uint64_t cr3;		/* its root, table-space address */
};

/* ------------------------------------------------------------ addresses */

/* What a guest paging-structure entry holds for guest-physical @ga: the
 * gpa with EPT/NPT, the hpa without (hwguest.h). */
static inline uint64_t gm_pa(const struct gm *m, uint64_t ga)
{
	return m->g.tdp ? ga : m->g.ram_hpa + ga;
}

/* The guest-linear address of table-space address @t (identity map). */
static inline uint64_t gm_table_va(const struct gm *m, uint64_t t)
{
	return m->g.tdp ? t : t - m->g.ram_hpa;
}

static inline void gm_put(struct gm *m, uint64_t ga, const void *p, size_t n)
{
	hwg_load(&m->g, ga, p, n);
}

static inline void gm_put32(struct gm *m, uint64_t ga, uint32_t v)
{
	gm_put(m, ga, &v, 4);
}

static inline void gm_put64(struct gm *m, uint64_t ga, uint64_t v)
{
	gm_put(m, ga, &v, 8);
}

static inline uint32_t gm_get32(struct gm *m, uint64_t ga)
{
	uint32_t v;
	memcpy(&v, hwg_ptr(&m->g, ga, 4), 4);
	return v;
}

static inline uint64_t gm_get64(struct gm *m, uint64_t ga)
{
	uint64_t v;
	memcpy(&v, hwg_ptr(&m->g, ga, 8), 8);
	return v;
}

static inline uint64_t gm_res(struct gm *m, unsigned off)
{
	return gm_get64(m, GM_RES + off);
}

/* Map 4 KiB (or @size) at @va to guest-physical @ga in the guest's tables. */
static inline void gm_map(struct gm *m, uint64_t va, uint64_t ga, uint64_t size, uint64_t flags)
{
	assert_int_equal(ptb_map(&m->g.guest, m->fmt, m->cr3, va, gm_pa(m, ga), size, flags), 0);
}

static inline uint64_t gm_entry(struct gm *m, uint64_t va, unsigned level)
{
	return ptb_get(&m->g.guest, m->fmt, m->cr3, va, level);
}

static inline void gm_update(struct gm *m, uint64_t va, unsigned level, uint64_t set,
			     uint64_t clear)
{
	assert_int_equal(ptb_update(&m->g.guest, m->fmt, m->cr3, va, level, set, clear), 0);
}

/* ------------------------------------------------------------ state */

static inline bool gm_vmx(const struct gm *m)
{
	return m->g.vendor == HW_VENDOR_INTEL;
}

static inline void gm_set_cr(struct gm *m, unsigned cr, uint64_t v)
{
	if (gm_vmx(m)) {
		hwg_vmwrite(&m->g, cr == 0 ? VMCS_GUEST_CR0 : cr == 3 ? VMCS_GUEST_CR3 :
			    VMCS_GUEST_CR4, cr == 4 ? v | CR4_VMXE : v);
		return;
	}
	struct vmcb *vmcb = hwg_vmcb(&m->g);
	if (cr == 0)
		vmcb->save.cr0 = v;
	else if (cr == 3)
		vmcb->save.cr3 = v;
	else
		vmcb->save.cr4 = v;
}

static inline uint64_t gm_get_cr(struct gm *m, unsigned cr)
{
	if (gm_vmx(m))
		return hwg_vmread(&m->g, cr == 0 ? VMCS_GUEST_CR0 : cr == 3 ? VMCS_GUEST_CR3 :
				  VMCS_GUEST_CR4);
	struct vmcb *vmcb = hwg_vmcb(&m->g);
	return cr == 0 ? vmcb->save.cr0 : cr == 3 ? vmcb->save.cr3 : vmcb->save.cr4;
}

/* EFER (LMA follows LME and PG: the caller passes both or neither). On
 * VMX the "IA-32e mode guest" entry control must equal LMA (SDM Vol. 3C
 * 27.3.1.1); on SVM EFER.SVME stays 1 (APM 15.5.1). */
static inline void gm_set_efer(struct gm *m, uint64_t efer)
{
	if (gm_vmx(m)) {
		hwg_vmwrite(&m->g, VMCS_GUEST_IA32_EFER, efer);
		uint64_t e = hwg_vmread(&m->g, VMCS_ENTRY_CTLS) & ~(uint64_t)VMX_ENTRY_CTL_IA32E_MODE_GUEST;
		if (efer & EFER_LMA_BIT)
			e |= VMX_ENTRY_CTL_IA32E_MODE_GUEST;
		hwg_vmwrite(&m->g, VMCS_ENTRY_CTLS, e);
	} else {
		hwg_vmcb(&m->g)->save.efer = efer | EFER_SVME_BIT;
	}
}

static inline void gm_set_rflags(struct gm *m, uint64_t rflags)
{
	if (gm_vmx(m))
		hwg_vmwrite(&m->g, VMCS_GUEST_RFLAGS, rflags);
	else
		hwg_vmcb(&m->g)->save.rflags = rflags;
}

/* CS: @l64 a 64-bit code segment (L = 1), else 32-bit (D = 1); both
 * flat, DPL 0 (SDM Vol. 3C 25.4.1 access rights = descriptor bits). */
static inline void gm_set_cs(struct gm *m, bool l64)
{
	const uint16_t sel = l64 ? SEL_KCODE64 : SEL_KCODE32;
	if (gm_vmx(m)) {
		hwg_vmwrite(&m->g, VMCS_GUEST_CS_SELECTOR, sel);
		hwg_vmwrite(&m->g, VMCS_GUEST_CS_ACCESS_RIGHTS, l64 ? 0xa09b : 0xc09b);
	} else {
		struct vmcb_seg *cs = &hwg_vmcb(&m->g)->save.cs;
		cs->selector = sel;
		cs->attrib = l64 ? 0xa9b : 0xc9b;	/* APM 15.5.1 attribute packing */
	}
}

static inline void gm_set_dtr(struct gm *m, bool idt, uint64_t base, uint16_t limit)
{
	if (gm_vmx(m)) {
		hwg_vmwrite(&m->g, idt ? VMCS_GUEST_IDTR_BASE : VMCS_GUEST_GDTR_BASE, base);
		hwg_vmwrite(&m->g, idt ? VMCS_GUEST_IDTR_LIMIT : VMCS_GUEST_GDTR_LIMIT, limit);
	} else {
		struct vmcb_seg *d = idt ? &hwg_vmcb(&m->g)->save.idtr : &hwg_vmcb(&m->g)->save.gdtr;
		d->base = base;
		d->limit = limit;
	}
}

static inline uint64_t gm_tss(struct gm *m)
{
	return gm_vmx(m) ? hwg_vmread(&m->g, VMCS_GUEST_TR_BASE) : hwg_vmcb(&m->g)->save.tr.base;
}

/* ------------------------------------------------------------ tables */

/* SDM Vol. 3A 3.4.5 descriptors: flat, limit 4 GiB. */
static inline void gm_build_gdt(struct gm *m)
{
	const uint64_t tss = gm_tss(m);
	gm_put64(m, GM_GDT + 0x00, 0);
	gm_put64(m, GM_GDT + 0x08, 0x00af9b000000ffffull);	/* code64, DPL 0 */
	gm_put64(m, GM_GDT + 0x10, 0x00cf93000000ffffull);	/* data, DPL 0 */
	gm_put64(m, GM_GDT + 0x18, 0x0000890000000067ull | ((tss & 0xffffff) << 16) |
				    ((tss >> 24) & 0xff) << 56);	/* TSS (7.2.3) */
	gm_put64(m, GM_GDT + 0x20, tss >> 32);
	gm_put64(m, GM_GDT + 0x28, 0x00cf9b000000ffffull);	/* code32, DPL 0 */
	gm_put64(m, GM_GDT + 0x30, 0);
	gm_put64(m, GM_GDT + 0x38, 0x00cffb000000ffffull);	/* code32, DPL 3 */
	gm_put64(m, GM_GDT + 0x40, 0x00cff3000000ffffull);	/* data, DPL 3 */
	gm_put64(m, GM_GDT + 0x48, 0x00affb000000ffffull);	/* code64, DPL 3 */
	gm_set_dtr(m, false, GM_GDT, 0x4f);
}

/* An interrupt gate (SDM Vol. 3A 6.11 / 6.14.1, type 0xe): 16 bytes in
 * 64-bit mode, 8 otherwise; @present 0 leaves it not present. */
static inline void gm_gate(struct gm *m, unsigned vec, uint64_t off, unsigned dpl, bool present)
{
	const bool lm = m->mode == GM_64;
	const uint64_t sel = lm ? SEL_KCODE64 : SEL_KCODE32;
	const uint64_t lo = (off & 0xffff) | (sel << 16) |
			    ((uint64_t)((present ? 0x80 : 0) | (dpl << 5) | 0xe) << 40) |
			    ((off >> 16) & 0xffff) << 48;
	if (lm) {
		gm_put64(m, GM_IDT + 16 * vec, lo);
		gm_put64(m, GM_IDT + 16 * vec + 8, off >> 32);
	} else {
		gm_put64(m, GM_IDT + 8 * vec, lo);
	}
}

/* ------------------------------------------------------------ code */

/* #PF handler: CR2, error code, RIP/EIP and CS to GM_RES, then HLT. The
 * stack frame is SDM Vol. 3A Figure 6-4 (32-bit) / 6-9 (64-bit); the
 * 64-bit one stores 8 bytes, the 32-bit one the low 4 of each slot. */
static const uint8_t gm_pf64[] = {
	0x0f, 0x20, 0xd0,				/* mov rax, cr2 */
	0x48, 0x89, 0x04, 0x25, 0x00, 0x20, 0x01, 0x00,	/* mov [0x12000], rax */
	0x48, 0x8b, 0x04, 0x24,				/* mov rax, [rsp] (error code) */
	0x48, 0x89, 0x04, 0x25, 0x08, 0x20, 0x01, 0x00,	/* mov [0x12008], rax */
	0x48, 0x8b, 0x44, 0x24, 0x08,			/* mov rax, [rsp + 8] (RIP) */
	0x48, 0x89, 0x04, 0x25, 0x10, 0x20, 0x01, 0x00,	/* mov [0x12010], rax */
	0x48, 0x8b, 0x44, 0x24, 0x10,			/* mov rax, [rsp + 16] (CS) */
	0x48, 0x89, 0x04, 0x25, 0x20, 0x20, 0x01, 0x00,	/* mov [0x12020], rax */
	0xf4,						/* hlt */
};

static const uint8_t gm_pf32[] = {
	0x0f, 0x20, 0xd0,			/* mov eax, cr2 */
	0x89, 0x04, 0x25, 0x00, 0x20, 0x01, 0x00,	/* mov [0x12000], eax */
	0x8b, 0x04, 0x24,			/* mov eax, [esp] (error code) */
	0x89, 0x04, 0x25, 0x08, 0x20, 0x01, 0x00,	/* mov [0x12008], eax */
	0x8b, 0x44, 0x24, 0x04,			/* mov eax, [esp + 4] (EIP) */
	0x89, 0x04, 0x25, 0x10, 0x20, 0x01, 0x00,	/* mov [0x12010], eax */
	0x8b, 0x44, 0x24, 0x08,			/* mov eax, [esp + 8] (CS) */
	0x89, 0x04, 0x25, 0x20, 0x20, 0x01, 0x00,	/* mov [0x12020], eax */
	0xf4,					/* hlt */
};

/* Where the #PF handler halts. */
static inline uint64_t gm_pf_hlt(enum gm_mode mode)
{
	return GM_PF + (mode == GM_64 ? sizeof(gm_pf64) : sizeof(gm_pf32)) - 1;
}

/* The "done" gate (vector 0x80, DPL 3): marks RES_DONE and halts. */
static const uint8_t gm_done[] = {
	0xc7, 0x04, 0x25, 0x18, 0x20, 0x01, 0x00,
	0x0d, 0x60, 0x00, 0x00,			/* mov dword [0x12018], 0x600d */
	0xf4,					/* hlt */
};
#define GM_DONE_HLT (GM_DONE + sizeof(gm_done) - 1)

/*
 * Ring 0 to ring 3 at GM_VA_UCODE with the stack at the top of the
 * GM_VA_USTACK page. The ring-3 code's interrupts switch to RSP0/ESP0 of
 * the TSS the guest enters with (TR, from the VMCS or VMLOADed from the
 * VMCB: gm_tss). Load DS with the DPL-3 data segment first (IRET to
 * ring 3 would make a DPL-0 DS null, and legacy-mode code at either ring
 * addresses memory through DS), then an IRET frame (SDM Vol. 3A 6.14.3 /
 * IRET). The user CS and the IRET's REX.W depend on the mode (patched by
 * gm_put_to_ring3).
 */
static const uint8_t gm_to_ring3[] = {
	0x66, 0xb8, 0x43, 0x00,			/* mov ax, SEL_UDATA */
	0x8e, 0xd8,				/* mov ds, ax */
	0x6a, 0x43,				/* push SEL_UDATA */
	0x68, 0x00, 0x30, 0x00, 0x40,		/* push 0x40003000 */
	0x6a, 0x02,				/* push 2 (RFLAGS) */
	0x6a, 0x4b,				/* push SEL_UCODE64 (or 0x3b) */
	0x68, 0x00, 0x10, 0x00, 0x40,		/* push 0x40001000 */
	0x48, 0xcf,				/* iretq (32-bit: nop; iret) */
};

/* Put the ring-3 trip at @ga for the guest's mode. */
static inline void gm_put_to_ring3(struct gm *m, uint64_t ga)
{
	uint8_t b[sizeof(gm_to_ring3)];
	memcpy(b, gm_to_ring3, sizeof(b));
	assert_true(b[16] == SEL_UCODE64 && b[22] == 0x48);	/* the bytes patched */
	if (m->mode != GM_64) {
		b[16] = SEL_UCODE32;
		b[22] = 0x90;			/* nop */
	}
	gm_put(m, ga, b, sizeof(b));
}

/* An access a test makes: a read, a write, or a fetch (a jump). */
enum gm_acc { GM_RD, GM_WR, GM_EX };

/*
 * The code of access @acc to @va at @b: "mov eax, [va]", "mov [va], eax"
 * or "mov eax, va; jmp rax" for an address below 2 GiB (one encoding for
 * 32-bit and 64-bit code), else the same through "mov rax, va" (64-bit
 * code only). Returns its length; *at is the offset of the instruction
 * that makes the access.
 */
static inline size_t gm_access(uint8_t *b, enum gm_acc acc, uint64_t va, size_t *at)
{
	size_t n = 0;
	if (va < 0x80000000ull) {
		*at = 0;
		if (acc == GM_EX) {
			b[n++] = 0xb8;				/* mov eax, va */
			memcpy(b + n, &va, 4);
			n += 4;
			*at = n;
			b[n++] = 0xff;				/* jmp rax / eax */
			b[n++] = 0xe0;
			return n;
		}
		b[n++] = acc == GM_RD ? 0x8b : 0x89;	/* mov eax, [va] / mov [va], eax */
		b[n++] = 0x04;
		b[n++] = 0x25;
		memcpy(b + n, &va, 4);
		return n + 4;
	}
	b[n++] = 0x48;					/* mov rax, va */
	b[n++] = 0xb8;
	memcpy(b + n, &va, 8);
	n += 8;
	*at = n;
	b[n++] = acc == GM_RD ? 0x8b : acc == GM_WR ? 0x89 : 0xff;	/* mov eax, [rax] */
	b[n++] = acc == GM_EX ? 0xe0 : 0x00;	/* / mov [rax], eax / jmp rax */
	return n;
}

/* ------------------------------------------------------------ setup */

/*
 * Create a guest on @c in paging @mode with CR0 @cr0, CR4 @cr4 and EFER
 * @efer as the guest's own bits (the helper adds what the mode needs:
 * PG/PE, PAE, LME/LMA). The 32-bit and PAE tables identity-map RAM (4 MiB
 * pages when @cr4 has PSE in 32-bit mode, else 4 KiB); 4-level uses the
 * harness's tables. Installs GM_GDT, GM_IDT (#PF -> GM_PF, 0x80 ->
 * GM_DONE with DPL 3), the ring-0 stack in the TSS and an untouched
 * result area; the guest enters at GM_CODE.
 */
/* What a test may change about the machine (0/NULL: the defaults). */
struct gm_opts {
	const struct hw_machine_config *machine;
	uint64_t guest_page;		/* 4-level identity map page size */
	uint64_t tdp_page;		/* EPT/NPT page size */
};

static inline void gm_create_opts(struct gm *m, const struct gm_cfg *c, enum gm_mode mode,
				  uint64_t cr0, uint64_t cr4, uint64_t efer,
				  const struct gm_opts *o)
{
	const struct hwg_config hc = {
		.vendor = c->vendor, .tdp = c->tdp, .ram_size = GM_RAM,
		.machine = o ? o->machine : NULL,
		.guest_page_size = o ? o->guest_page : 0,
		.tdp_page_size = o ? o->tdp_page : 0,
	};
	memset(m, 0, sizeof(*m));
	assert_int_equal(hwg_create(&m->g, &hc), 0);
	m->mode = mode;
	cr0 |= CR0_PE | CR0_ET | CR0_NE | CR0_PG;
	if (mode == GM_64) {
		m->fmt = PTB_64;
		m->cr3 = m->g.cr3;
		cr4 |= CR4_PAE;
		efer |= EFER_LME_BIT | EFER_LMA_BIT;
	} else {
		m->fmt = mode == GM_PAE ? PTB_PAE : PTB_32;
		m->cr3 = ptb_root(&m->g.guest, m->fmt);
		assert_true(m->cr3 != PTB_NONE);
		const uint64_t page = mode == GM_32 && (cr4 & CR4_PSE) ? PTB_4M : PTB_4K;
		assert_int_equal(ptb_map_range(&m->g.guest, m->fmt, m->cr3, 0, gm_pa(m, 0), GM_RAM,
					       page, PTE_P | PTE_RW | PTE_A | PTE_D), 0);
		if (mode == GM_PAE)
			cr4 |= CR4_PAE;
		efer &= ~(EFER_LME_BIT | EFER_LMA_BIT);
	}
	gm_set_cr(m, 0, cr0);
	gm_set_cr(m, 4, cr4);
	gm_set_efer(m, efer);
	gm_set_cs(m, mode == GM_64);
	gm_build_gdt(m);
	gm_set_dtr(m, true, GM_IDT, mode == GM_64 ? 0xfff : 0x7ff);
	const uint64_t tss = gm_tss(m);
	if (mode == GM_64) {
		gm_put64(m, tss + 4, GM_STACK);		/* RSP0 (Figure 7-11) */
	} else {
		gm_put32(m, tss + 4, (uint32_t)GM_STACK);	/* ESP0 (Figure 7-2) */
		gm_put32(m, tss + 8, SEL_KDATA);	/* SS0 */
	}
	gm_gate(m, 14, GM_PF, 0, true);
	gm_gate(m, 0x80, GM_DONE, 3, true);
	if (mode == GM_64)
		gm_put(m, GM_PF, gm_pf64, sizeof(gm_pf64));
	else
		gm_put(m, GM_PF, gm_pf32, sizeof(gm_pf32));
	gm_put(m, GM_DONE, gm_done, sizeof(gm_done));
	for (unsigned off = 0; off < 0x40; off += 8)
		gm_put64(m, GM_RES + off, RES_UNTOUCHED);
	hwg_set_entry(&m->g, GM_CODE, GM_STACK);
	gm_set_cr(m, 3, m->cr3);
}

static inline void gm_create(struct gm *m, const struct gm_cfg *c, enum gm_mode mode,
			     uint64_t cr0, uint64_t cr4, uint64_t efer)
{
	gm_create_opts(m, c, mode, cr0, cr4, efer, NULL);
}

/*
 * Before entry, once the tables are final: with PAE paging under EPT the
 * VMCS's PDPTE fields are what VM entry loads (SDM Vol. 3C 27.3.2.4).
 * Without EPT entry loads them from the guest's CR3 itself and the
 * fields are not used, so they stay unwritten (zero: not present) and a
 * model that read them would fault on the first fetch.
 */
static inline void gm_load_pdptes(struct gm *m)
{
	if (m->mode != GM_PAE || !gm_vmx(m) || !m->g.tdp)
		return;
	uint64_t p[4];
	ptb_pae_pdptes(&m->g.guest, m->cr3, p);
	hwg_vmwrite(&m->g, VMCS_GUEST_PDPTE0, p[0]);
	hwg_vmwrite(&m->g, VMCS_GUEST_PDPTE1, p[1]);
	hwg_vmwrite(&m->g, VMCS_GUEST_PDPTE2, p[2]);
	hwg_vmwrite(&m->g, VMCS_GUEST_PDPTE3, p[3]);
}

static inline uint64_t gm_hlt_code(const struct gm *m)
{
	return gm_vmx(m) ? VMX_EXIT_HLT_NR : SVM_EXIT_HLT_NR;
}

/* Enter and run to the next exit; the entry itself must succeed. */
static inline uint64_t gm_run(struct gm *m)
{
	int st = -1;
	gm_load_pdptes(m);
	const uint64_t r = hwg_run(&m->g, &st);
	if (st != 0)
		print_error("entry status %d (%s)\n", st,
			    hw_cpu_unsupported(m->g.cpu) ? hw_cpu_unsupported(m->g.cpu) : "-");
	assert_int_equal(st, 0);
	return r;
}

/* Run to a HLT exit and return the guest RIP there (at the HLT), or
 * ~0 (after saying why) when the guest exits for another reason. */
static inline uint64_t gm_run_to_hlt(struct gm *m)
{
	const uint64_t r = gm_run(m);
	if (r != gm_hlt_code(m)) {
		print_error("  exit %#llx at rip %#llx, expected HLT\n", (unsigned long long)r,
			    (unsigned long long)hwg_rip(&m->g));
		return ~0ull;
	}
	return hwg_rip(&m->g);
}

static inline void gm_destroy(struct gm *m)
{
	hwg_destroy(&m->g);
}

/* The counters now (a copy, for deltas). */
static inline struct hw_counters gm_counters(struct gm *m)
{
	return *hw_cpu_counters(m->g.cpu);
}

#endif
