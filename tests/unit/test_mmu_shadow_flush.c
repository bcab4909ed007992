/*
 * test_mmu_shadow_flush.c — the shadow-flush MMU (mmu/shadow/flush.c)
 * through the public API, on every backend: IA-32e guests with page
 * tables of their own, run with cfg.mmu = "shadow-flush", so every
 * guest-virtual access goes through shadow tables the MMU builds from
 * the guest's on #PF exits.
 *
 * x86 truth (Intel SDM Vol. 3A):
 *  - 4.5, Tables 4-15..4-20: PML4E -> PDPTE -> PDE (PS = 1: 2 MiB page)
 *    -> PTE; P bit 0, R/W bit 1, U/S bit 2, A bit 5, D bit 6, PS bit 7.
 *  - 4.7: #PF error code P (bit 0: 0 = not present), W/R (bit 1), U/S
 *    (bit 2), I/D (bit 4, only with NXE or SMEP); CR2 = the linear
 *    address (4.7, "Interrupt 14").
 *  - 4.8: the processor sets A in every paging-structure entry it uses
 *    and D in the entry that maps the page of a write; a read leaves D
 *    clear.
 *  - 4.10.4.1: MOV to CR3 and INVLPG invalidate the TLB entries for the
 *    (page of the) address; after a PTE change and INVLPG the new
 *    translation is used.
 *
 * Guest-physical layout: ptguest.h's spaces A (PML4 0x20000 ... PT
 * 0x23000) and B (0x24000 ... 0x27000). Both map [0, 2 MiB) with one
 * 2 MiB supervisor page, clean here (A and D clear, unlike ptguest's
 * default) so a test sees the processor set A, and [2 MiB, 4 MiB) with
 * 4 KiB pages: A: 0x200000 -> 0x150000 (R/W), 0x201000 -> 0x151000
 * (read-only), 0x202000 not present; B: 0x200000 -> 0x160000.
 *
 * hw/ converts a #PF met while delivering an injected #PF into #DF
 * before checking the #PF intercept (see the report of issue 5), so the
 * fault tests first touch what delivery uses (IDT, GDT, handler, stack):
 * a guest may always touch its own memory, and the shadow entries this
 * makes are what a TLB may hold.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hvlab/hv.h"
#include "tests/unit/support/hvguest.h"
#include "tests/unit/support/ptguest.h"

#define FRAME_RO 0x151000ull

#define GVA_RO 0x201000u	/* PT index 1 */
#define GVA_NP 0x202000u	/* PT index 2 */

#define MMU "shadow-flush"

/* 2 MiB at 0, supervisor, A and D clear (Table 4-17). */
#define PDE_CLEAN_2M (0 | PTE_P | PTE_RW | PTE_PS)

static void setup(struct hvg *g, const char *backend, const struct ptg_code *c)
{
	ptg_create64(g, backend, MMU, HVG_RAM);
	hvg_put64(g, PTG_PD_A, PDE_CLEAN_2M);
	hvg_put64(g, PTG_PT_A + 0, PTG_FRAME_A | PTE_P | PTE_RW);
	hvg_put64(g, PTG_PT_A + 8, FRAME_RO | PTE_P);
	hvg_put64(g, PTG_PT_A + 16, 0);
	ptg_space64(g, PTG_PML4_B, PTG_PDPT_B, PTG_PD_B, PTG_PT_B);
	hvg_put64(g, PTG_PD_B, PDE_CLEAN_2M);
	hvg_put64(g, PTG_PT_B + 0, PTG_FRAME_B | PTE_P | PTE_RW);
	ptg_start64(g, c);
}

/* Reads and writes through the guest's tables reach the frames they map;
 * a read sets A along the path and leaves D clear, a write sets D
 * (4.8) — the shadow MMU maps the clean PTE read-only so the write
 * faults and the walk sets D before the data lands. */
static void test_shadow_flush_rw_and_ad(struct hvg *g, const char *name)
{
	struct ptg_code c;
	ptg_code_init(&c, true);
	ptg_load_bx(&c, PTG_GVA);		/* read: A */
	ptg_hlt(&c);
	ptg_store(&c, PTG_GVA + 8, 0x5a5a5a5a);		/* write: D */
	ptg_hlt(&c);
	setup(g, name, &c);

	ptg_run_to_hlt(g);
	struct hv_regs r = hvg_regs(g);
	assert_int_equal(r.rbx, PTG_MARK_A);
	uint64_t pte = hvg_get64(g, PTG_PT_A);
	if (!(pte & PTE_A) || (pte & PTE_D))
		fail_msg("%s: after a read the PTE is %#llx: want A set, D clear", name,
			 (unsigned long long)pte);
	assert_true(hvg_get64(g, PTG_PD_A + 8) & PTE_A);
	assert_true(hvg_get64(g, PTG_PDPT_A) & PTE_A);
	assert_true(hvg_get64(g, PTG_PML4_A) & PTE_A);
	/* The code page sits in the 2 MiB page: fetched, so A. */
	assert_true(hvg_get64(g, PTG_PD_A) & PTE_A);

	ptg_run_to_hlt(g);
	pte = hvg_get64(g, PTG_PT_A);
	if ((pte & (PTE_A | PTE_D)) != (PTE_A | PTE_D))
		fail_msg("%s: after a write the PTE is %#llx: want A and D", name,
			 (unsigned long long)pte);
	assert_int_equal(hvg_get64(g, PTG_FRAME_A + 8), 0x5a5a5a5a);
	/* D only in the entry that maps the page, never in a PDE
	 * that points at a table (Table 4-19: bit 6 ignored there). */
	assert_false(hvg_get64(g, PTG_PD_A + 8) & PTE_D);
	assert_true(hvg_stat(g, "pf_fixed") >= 3);
}

/* A true guest fault is delivered to the guest with the architecture's
 * error code and CR2: a read of a not-present page (error code 0) and a
 * write to a read-only page with CR0.WP = 1 (P | W = 3). */
static void check_guest_pf(struct hvg *g, const char *name, uint32_t gva, bool write,
			   uint64_t want_ec)
{
	struct ptg_code c;
	ptg_code_init(&c, true);
	ptg_touch_delivery(&c);
	ptg_access(&c, gva, write);
	ptg_hlt(&c);
	setup(g, name, &c);
	ptg_install_pf_handler(g);
	ptg_run_to_hlt(g);
	ptg_expect_pf(g, write ? "write" : "read", want_ec, gva);
	assert_true(hvg_stat(g, "pf_guest") >= 1);
	/* The faulting write changed nothing. */
	assert_int_equal(hvg_get64(g, FRAME_RO), 0);
	hvg_destroy(g);
}

static void test_shadow_flush_guest_pf(struct hvg *g, const char *name)
{
	check_guest_pf(g, name, GVA_NP, false, 0x0);
	check_guest_pf(g, name, GVA_RO, true, 0x3);
	check_guest_pf(g, name, GVA_NP, true, 0x2);
}

/* MOV CR3 to another space: the same gva now reads the other space's
 * frame, and back again; each load zaps the shadow pages. */
static void test_shadow_flush_cr3_switch(struct hvg *g, const char *name)
{
	struct ptg_code c;
	ptg_code_init(&c, true);
	ptg_load_bx(&c, PTG_GVA);
	ptg_hlt(&c);
	ptg_load_cr3(&c, PTG_PML4_B);
	ptg_load_bx(&c, PTG_GVA);
	ptg_hlt(&c);
	ptg_load_cr3(&c, PTG_PML4_A);
	ptg_load_bx(&c, PTG_GVA);
	ptg_hlt(&c);
	setup(g, name, &c);

	ptg_run_to_hlt(g);
	assert_int_equal(hvg_regs(g).rbx, PTG_MARK_A);
	const uint64_t z0 = hvg_stat(g, "mmu_shadow_zapped");
	const uint64_t s0 = hvg_stat(g, "cr3_switches");
	ptg_run_to_hlt(g);
	assert_int_equal(hvg_regs(g).rbx, PTG_MARK_B);
	const uint64_t z1 = hvg_stat(g, "mmu_shadow_zapped");
	/* Space A's path to 0x200000 had PDPT, PD, PT shadow pages
	 * below the root, at least. */
	if (z1 < z0 + 3)
		fail_msg("%s: CR3 load zapped %llu shadow pages; want >= 3", name,
			 (unsigned long long)(z1 - z0));
	assert_int_equal(hvg_stat(g, "cr3_switches"), s0 + 1);
	ptg_run_to_hlt(g);
	assert_int_equal(hvg_regs(g).rbx, PTG_MARK_A);
	assert_true(hvg_stat(g, "mmu_shadow_zapped") >= z1 + 3);
	assert_int_equal(hvg_stat(g, "cr3_switches"), s0 + 2);
}

/* The guest re-points its PTE and INVLPGs the address: the next read
 * uses the new frame (4.10.4.1). */
static void test_shadow_flush_invlpg(struct hvg *g, const char *name)
{
	struct ptg_code c;
	ptg_code_init(&c, true);
	ptg_load_bx(&c, PTG_GVA);			/* cached: FRAME_A */
	ptg_store(&c, PTG_PT_A, PTG_FRAME_C | PTE_P | PTE_RW);	/* PTE 0 -> FRAME_C */
	ptg_invlpg_load_ax(&c, PTG_GVA);
	ptg_hlt(&c);
	setup(g, name, &c);
	const uint64_t inv0 = hvg_stat(g, "invlpg");
	ptg_run_to_hlt(g);
	const struct hv_regs r = hvg_regs(g);
	assert_int_equal(r.rbx, PTG_MARK_A);
	if (r.rax != PTG_MARK_C)
		fail_msg("%s: after PTE change + INVLPG read %#llx; want %#llx", name,
			 (unsigned long long)r.rax, (unsigned long long)PTG_MARK_C);
	assert_int_equal(hvg_stat(g, "invlpg"), inv0 + 1);
}

/* hv_translate under shadow-flush is the guest walker's answer. */
static void test_shadow_flush_translate(struct hvg *g, const char *name)
{
	struct ptg_code c;
	ptg_code_init(&c, true);
	ptg_hlt(&c);
	setup(g, name, &c);
	struct hv_translation tr;
	assert_int_equal(hv_translate(g->vcpu, GVA_RO + 0x10, &tr), 0);
	assert_true(tr.valid);
	assert_int_equal(tr.gpa, FRAME_RO + 0x10);
	assert_false(tr.writeable);
	assert_int_equal(hv_translate(g->vcpu, GVA_NP, &tr), 0);
	assert_false(tr.valid);
}

/* Real mode (CR0.PE = 0, the RESET state): SVM runs it in paged real
 * mode (APM Vol. 2 15.19); VMX without EPT has no unrestricted guest
 * (SDM Vol. 3C 26.3.1.1), so core emulates it (core/invalid_state.c).
 * Either way the guest sees real mode. */
static void test_shadow_flush_real_mode(struct hvg *g, const char *name)
{
	hvg_create_with(g, name, MMU, HVG_RAM);
	/* mov ax, 0x1234; mov [0x9000], ax; hlt (16-bit code) */
	hvg_load(g, HVG_CODE, "\xb8\x34\x12\xa3\x00\x90\xf4", 7);
	hvg_enter_real(g, HVG_CODE);
	const uint32_t reason = hvg_run(g);
	assert_int_equal(reason, HV_EXIT_HLT);
	assert_int_equal(hvg_get32(g, HVG_DATA) & 0xffff, 0x1234);
}

#define T(fn) PTG_TEST(MMU, fn)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_shadow_flush_rw_and_ad),
		T(test_shadow_flush_guest_pf),
		T(test_shadow_flush_cr3_switch),
		T(test_shadow_flush_invlpg),
		T(test_shadow_flush_translate),
		T(test_shadow_flush_real_mode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
