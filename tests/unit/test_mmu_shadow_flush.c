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
 * Guest-physical layout (hvguest's for code, IDT, GDT, stack; the rest
 * here): PML4 0x20000, PDPT 0x21000, PD 0x22000, PT 0x23000 (space A);
 * PML4 0x24000, PDPT 0x25000, PD 0x26000, PT 0x27000 (space B). Both map
 * [0, 2 MiB) with one 2 MiB supervisor page and [2 MiB, 4 MiB) with
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

#define PML4_A 0x20000ull
#define PDPT_A 0x21000ull
#define PD_A 0x22000ull
#define PT_A 0x23000ull
#define PML4_B 0x24000ull
#define PDPT_B 0x25000ull
#define PD_B 0x26000ull
#define PT_B 0x27000ull

#define FRAME_A 0x150000ull
#define FRAME_RO 0x151000ull
#define FRAME_B 0x160000ull
#define FRAME_C 0x170000ull

#define GVA 0x200000u		/* PT index 0 */
#define GVA_RO 0x201000u	/* PT index 1 */
#define GVA_NP 0x202000u	/* PT index 2 */

/* SDM Vol. 3A Table 4-19 / 4-20 bits. */
#define P 0x1ull
#define RW 0x2ull
#define US 0x4ull
#define A 0x20ull
#define D 0x40ull
#define PS 0x80ull

#define MARK_A 0x1111aaaa1111aaaaull
#define MARK_B 0x2222bbbb2222bbbbull
#define MARK_C 0x3333cccc3333ccccull

static const uint64_t cr0_paging = HVG_CR0_PG | HVG_CR0_NE | HVG_CR0_ET | HVG_CR0_PE |
				   HVG_CR0_WP;

static void build_space(struct hvg *g, uint64_t pml4, uint64_t pdpt, uint64_t pd,
			uint64_t pt)
{
	hvg_put64(g, pml4, pdpt | P | RW | US);
	hvg_put64(g, pdpt, pd | P | RW | US);
	hvg_put64(g, pd + 0, 0 | P | RW | PS);
	hvg_put64(g, pd + 8, pt | P | RW | US);
}

static void build_tables(struct hvg *g)
{
	build_space(g, PML4_A, PDPT_A, PD_A, PT_A);
	hvg_put64(g, PT_A + 0, FRAME_A | P | RW);
	hvg_put64(g, PT_A + 8, FRAME_RO | P);
	hvg_put64(g, PT_A + 16, 0);
	build_space(g, PML4_B, PDPT_B, PD_B, PT_B);
	hvg_put64(g, PT_B + 0, FRAME_B | P | RW);
	hvg_put64(g, FRAME_A, MARK_A);
	hvg_put64(g, FRAME_B, MARK_B);
	hvg_put64(g, FRAME_C, MARK_C);
}

/* A code buffer with the few instructions the tests use (64-bit mode). */
struct code {
	uint8_t b[256];
	size_t n;
};

static void emit(struct code *c, const void *bytes, size_t len)
{
	assert_true(c->n + len <= sizeof(c->b));
	memcpy(c->b + c->n, bytes, len);
	c->n += len;
}

static void emit32(struct code *c, uint32_t v)
{
	emit(c, &v, 4);
}

/* mov rax, [abs32]: REX.W 8B /0, ModRM 04 SIB 25 disp32 */
static void mov_rax_mem(struct code *c, uint32_t addr)
{
	emit(c, "\x48\x8b\x04\x25", 4);
	emit32(c, addr);
}

/* mov rbx, [abs32] */
static void mov_rbx_mem(struct code *c, uint32_t addr)
{
	emit(c, "\x48\x8b\x1c\x25", 4);
	emit32(c, addr);
}

/* mov [abs32], rax: REX.W 89 /0 */
static void mov_mem_rax(struct code *c, uint32_t addr)
{
	emit(c, "\x48\x89\x04\x25", 4);
	emit32(c, addr);
}

/* mov rax, imm32 (sign-extended): REX.W C7 /0 */
static void mov_rax_imm(struct code *c, uint32_t imm)
{
	emit(c, "\x48\xc7\xc0", 3);
	emit32(c, imm);
}

/* mov cr3, rax: 0F 22 /r, ModRM 11 011 000 */
static void mov_cr3_rax(struct code *c)
{
	emit(c, "\x0f\x22\xd8", 3);
}

/* invlpg [abs32]: 0F 01 /7 */
static void invlpg(struct code *c, uint32_t addr)
{
	emit(c, "\x0f\x01\x3c\x25", 4);
	emit32(c, addr);
}

static void hlt(struct code *c)
{
	emit(c, "\xf4", 1);
}

/* Touch what delivering #PF uses (see the top): the IDT gate, the
 * 64-bit code descriptor, the handler's code, the stack. */
static void touch_delivery(struct code *c)
{
	mov_rax_mem(c, HVG_IDT + 14 * 16);
	mov_rax_mem(c, HVG_GDT + HVG_SEL_CODE64);
	mov_rax_mem(c, HVG_HANDLER);
	emit(c, "\x50\x58", 2);		/* push rax; pop rax */
}

static bool have_shadow_flush(void)
{
	const char *m = hv_mmus();
	const char *p = strstr(m, "shadow-flush");
	return p && (p[12] == '\0' || p[12] == ' ');
}

static void setup(struct hvg *g, const char *backend, const struct code *c)
{
	hvg_create_with(g, backend, "shadow-flush", HVG_RAM);
	build_tables(g);
	hvg_load(g, HVG_CODE, c->b, c->n);
	hvg_enter_long_cr3(g, HVG_CODE, PML4_A, cr0_paging);
}

static void run_to_hlt(struct hvg *g)
{
	hvg_expect_exit(g, HV_EXIT_HLT);
}

/* Reads and writes through the guest's tables reach the frames they map;
 * a read sets A along the path and leaves D clear, a write sets D
 * (4.8) — the shadow MMU maps the clean PTE read-only so the write
 * faults and the walk sets D before the data lands. */
static void test_shadow_flush_rw_and_ad(void **state)
{
	(void)state;
	if (!have_shadow_flush())
		skip();
	const char *name;
	hvg_for_each_backend(i, name) {
		struct code c = { .n = 0 };
		mov_rbx_mem(&c, GVA);		/* read: A */
		hlt(&c);
		mov_rax_imm(&c, 0x5a5a5a5a);
		mov_mem_rax(&c, GVA + 8);	/* write: D */
		hlt(&c);
		struct hvg g;
		setup(&g, name, &c);

		run_to_hlt(&g);
		struct hv_regs r = hvg_regs(&g);
		assert_int_equal(r.rbx, MARK_A);
		uint64_t pte = hvg_get64(&g, PT_A);
		if (!(pte & A) || (pte & D))
			fail_msg("%s: after a read the PTE is %#llx: want A set, D clear", name,
				 (unsigned long long)pte);
		assert_true(hvg_get64(&g, PD_A + 8) & A);
		assert_true(hvg_get64(&g, PDPT_A) & A);
		assert_true(hvg_get64(&g, PML4_A) & A);
		/* The code page sits in the 2 MiB page: fetched, so A. */
		assert_true(hvg_get64(&g, PD_A) & A);

		run_to_hlt(&g);
		pte = hvg_get64(&g, PT_A);
		if ((pte & (A | D)) != (A | D))
			fail_msg("%s: after a write the PTE is %#llx: want A and D", name,
				 (unsigned long long)pte);
		assert_int_equal(hvg_get64(&g, FRAME_A + 8), 0x5a5a5a5a);
		/* D only in the entry that maps the page, never in a PDE
		 * that points at a table (Table 4-19: bit 6 ignored there). */
		assert_false(hvg_get64(&g, PD_A + 8) & D);
		assert_true(hvg_stat(&g, "pf_fixed") >= 3);
		hvg_destroy(&g);
	}
}

/* A true guest fault is delivered to the guest with the architecture's
 * error code and CR2: a read of a not-present page (error code 0) and a
 * write to a read-only page with CR0.WP = 1 (P | W = 3). */
static void check_guest_pf(const char *name, uint32_t gva, bool write, uint64_t want_ec)
{
	struct code c = { .n = 0 };
	touch_delivery(&c);
	if (write) {
		mov_rax_imm(&c, 0x77);
		mov_mem_rax(&c, gva);
	} else {
		mov_rax_mem(&c, gva);
	}
	hlt(&c);
	/* The handler: pop the error code to 0x9000, CR2 to 0x9008. */
	struct code h = { .n = 0 };
	emit(&h, "\x58", 1);			/* pop rax */
	mov_mem_rax(&h, HVG_DATA);
	emit(&h, "\x0f\x20\xd0", 3);		/* mov rax, cr2 */
	mov_mem_rax(&h, HVG_DATA + 8);
	hlt(&h);

	struct hvg g;
	setup(&g, name, &c);
	hvg_load(&g, HVG_HANDLER, h.b, h.n);
	hvg_set_gate(&g, 14, HVG_HANDLER);
	hvg_put64(&g, HVG_DATA, 0xdead);
	run_to_hlt(&g);
	const uint64_t ec = hvg_get64(&g, HVG_DATA), cr2 = hvg_get64(&g, HVG_DATA + 8);
	if (ec != want_ec || cr2 != gva)
		fail_msg("%s: %s %#x: #PF error code %#llx CR2 %#llx; want %#llx, %#x", name,
			 write ? "write" : "read", gva, (unsigned long long)ec,
			 (unsigned long long)cr2, (unsigned long long)want_ec, gva);
	assert_true(hvg_stat(&g, "pf_guest") >= 1);
	/* The faulting write changed nothing. */
	assert_int_equal(hvg_get64(&g, FRAME_RO), 0);
	hvg_destroy(&g);
}

static void test_shadow_flush_guest_pf(void **state)
{
	(void)state;
	if (!have_shadow_flush())
		skip();
	const char *name;
	hvg_for_each_backend(i, name) {
		check_guest_pf(name, GVA_NP, false, 0x0);
		check_guest_pf(name, GVA_RO, true, 0x3);
		check_guest_pf(name, GVA_NP, true, 0x2);
	}
}

/* MOV CR3 to another space: the same gva now reads the other space's
 * frame, and back again; each load zaps the shadow pages. */
static void test_shadow_flush_cr3_switch(void **state)
{
	(void)state;
	if (!have_shadow_flush())
		skip();
	const char *name;
	hvg_for_each_backend(i, name) {
		struct code c = { .n = 0 };
		mov_rbx_mem(&c, GVA);
		hlt(&c);
		mov_rax_imm(&c, PML4_B);
		mov_cr3_rax(&c);
		mov_rbx_mem(&c, GVA);
		hlt(&c);
		mov_rax_imm(&c, PML4_A);
		mov_cr3_rax(&c);
		mov_rbx_mem(&c, GVA);
		hlt(&c);
		struct hvg g;
		setup(&g, name, &c);

		run_to_hlt(&g);
		assert_int_equal(hvg_regs(&g).rbx, MARK_A);
		const uint64_t z0 = hvg_stat(&g, "mmu_shadow_zapped");
		const uint64_t s0 = hvg_stat(&g, "cr3_switches");
		run_to_hlt(&g);
		assert_int_equal(hvg_regs(&g).rbx, MARK_B);
		const uint64_t z1 = hvg_stat(&g, "mmu_shadow_zapped");
		/* Space A's path to 0x200000 had PDPT, PD, PT shadow pages
		 * below the root, at least. */
		if (z1 < z0 + 3)
			fail_msg("%s: CR3 load zapped %llu shadow pages; want >= 3", name,
				 (unsigned long long)(z1 - z0));
		assert_int_equal(hvg_stat(&g, "cr3_switches"), s0 + 1);
		run_to_hlt(&g);
		assert_int_equal(hvg_regs(&g).rbx, MARK_A);
		assert_true(hvg_stat(&g, "mmu_shadow_zapped") >= z1 + 3);
		assert_int_equal(hvg_stat(&g, "cr3_switches"), s0 + 2);
		hvg_destroy(&g);
	}
}

/* The guest re-points its PTE and INVLPGs the address: the next read
 * uses the new frame (4.10.4.1). */
static void test_shadow_flush_invlpg(void **state)
{
	(void)state;
	if (!have_shadow_flush())
		skip();
	const char *name;
	hvg_for_each_backend(i, name) {
		struct code c = { .n = 0 };
		mov_rbx_mem(&c, GVA);			/* cached: FRAME_A */
		mov_rax_imm(&c, (uint32_t)(FRAME_C | P | RW));
		mov_mem_rax(&c, PT_A);			/* PTE 0 -> FRAME_C */
		invlpg(&c, GVA);
		mov_rax_mem(&c, GVA);
		hlt(&c);
		struct hvg g;
		setup(&g, name, &c);
		const uint64_t inv0 = hvg_stat(&g, "invlpg");
		run_to_hlt(&g);
		const struct hv_regs r = hvg_regs(&g);
		assert_int_equal(r.rbx, MARK_A);
		if (r.rax != MARK_C)
			fail_msg("%s: after PTE change + INVLPG read %#llx; want %#llx", name,
				 (unsigned long long)r.rax, (unsigned long long)MARK_C);
		assert_int_equal(hvg_stat(&g, "invlpg"), inv0 + 1);
		hvg_destroy(&g);
	}
}

/* hv_translate under shadow-flush is the guest walker's answer. */
static void test_shadow_flush_translate(void **state)
{
	(void)state;
	if (!have_shadow_flush())
		skip();
	const char *name;
	hvg_for_each_backend(i, name) {
		struct code c = { .n = 0 };
		hlt(&c);
		struct hvg g;
		setup(&g, name, &c);
		struct hv_translation tr;
		assert_int_equal(hv_translate(g.vcpu, GVA_RO + 0x10, &tr), 0);
		assert_true(tr.valid);
		assert_int_equal(tr.gpa, FRAME_RO + 0x10);
		assert_false(tr.writeable);
		assert_int_equal(hv_translate(g.vcpu, GVA_NP, &tr), 0);
		assert_false(tr.valid);
		hvg_destroy(&g);
	}
}

/* Real mode (CR0.PE = 0, the RESET state): SVM runs it in paged real
 * mode (APM Vol. 2 15.19); VMX without EPT has no unrestricted guest
 * (SDM Vol. 3C 26.3.1.1), so core emulates it (core/invalid_state.c).
 * Either way the guest sees real mode. */
static void test_shadow_flush_real_mode(void **state)
{
	(void)state;
	if (!have_shadow_flush())
		skip();
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		hvg_create_with(&g, name, "shadow-flush", HVG_RAM);
		/* mov ax, 0x1234; mov [0x9000], ax; hlt (16-bit code) */
		hvg_load(&g, HVG_CODE, "\xb8\x34\x12\xa3\x00\x90\xf4", 7);
		hvg_enter_real(&g, HVG_CODE);
		const uint32_t reason = hvg_run(&g);
		assert_int_equal(reason, HV_EXIT_HLT);
		assert_int_equal(hvg_get32(&g, HVG_DATA) & 0xffff, 0x1234);
		hvg_destroy(&g);
	}
}

#define T(fn) cmocka_unit_test_teardown(fn, hvg_teardown)

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
