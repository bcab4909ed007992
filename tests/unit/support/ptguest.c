/*
 * ptguest.c — see ptguest.h. Instruction encodings: SDM Vol. 2A/2B
 * (MOV 8B /r, 89 /r, B8+r; MOV CR 0F 20/22; INVLPG 0F 01 /7; HLT F4);
 * paging entries: SDM Vol. 3A 4.3 (Tables 4-4..4-6), 4.4 (4-8..4-11),
 * 4.5 (4-15..4-20).
 *
 * Link note: every unit-test program links this file, as it does
 * hvguest.c, so the API calls here are weak references (hvguest.c says
 * why); the tests that use these helpers include hvguest.h, whose strong
 * references bring the calls in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#define HVG_WEAK_API
#include "tests/unit/support/ptguest.h"

#pragma weak hv_mmus
#pragma weak hv_get_sregs
#pragma weak hv_set_sregs
#pragma weak hv_get_stats
#pragma weak hv_strerror

/* ---------------------------------------------------------------- code */

void ptg_code_init(struct ptg_code *c, bool long_mode)
{
	memset(c, 0, sizeof(*c));
	c->w64 = long_mode;
}

void ptg_emit(struct ptg_code *c, const void *bytes, size_t len)
{
	if (c->n + len > sizeof(c->b))
		fail_msg("ptguest: more than %zu bytes of guest code", sizeof(c->b));
	memcpy(c->b + c->n, bytes, len);
	c->n += len;
}

void ptg_emit32(struct ptg_code *c, uint32_t v)
{
	ptg_emit(c, &v, 4);
}

static void rex_w(struct ptg_code *c)
{
	if (c->w64)
		ptg_emit(c, "\x48", 1);
}

/* opcode /reg with ModRM 00 reg 100 and SIB 0x25: [disp32] in both modes */
static void abs_operand(struct ptg_code *c, uint8_t opcode, unsigned reg, uint32_t addr)
{
	const uint8_t b[3] = { opcode, (uint8_t)(reg << 3 | 4), 0x25 };
	rex_w(c);
	ptg_emit(c, b, 3);
	ptg_emit32(c, addr);
}

void ptg_load_ax(struct ptg_code *c, uint32_t addr)
{
	abs_operand(c, 0x8b, 0, addr);
}

void ptg_load_bx(struct ptg_code *c, uint32_t addr)
{
	abs_operand(c, 0x8b, 3, addr);
}

void ptg_store_ax(struct ptg_code *c, uint32_t addr)
{
	abs_operand(c, 0x89, 0, addr);
}

static void mov_imm(struct ptg_code *c, unsigned reg, uint64_t imm)
{
	const uint8_t op = (uint8_t)(0xb8 + reg);
	rex_w(c);
	ptg_emit(c, &op, 1);
	if (c->w64) {
		ptg_emit(c, &imm, 8);
	} else {
		assert_true(imm >> 32 == 0);
		ptg_emit32(c, (uint32_t)imm);
	}
}

void ptg_mov_ax(struct ptg_code *c, uint64_t imm)
{
	mov_imm(c, 0, imm);
}

void ptg_mov_bx(struct ptg_code *c, uint64_t imm)
{
	mov_imm(c, 3, imm);
}

void ptg_mov_cx(struct ptg_code *c, uint64_t imm)
{
	mov_imm(c, 1, imm);
}

void ptg_store(struct ptg_code *c, uint32_t addr, uint64_t value)
{
	ptg_mov_ax(c, value);
	ptg_store_ax(c, addr);
}

void ptg_load_cr3(struct ptg_code *c, uint64_t cr3)
{
	ptg_mov_ax(c, cr3);
	ptg_emit(c, "\x0f\x22\xd8", 3);
}

void ptg_reload_cr3(struct ptg_code *c)
{
	ptg_emit(c, "\x0f\x20\xd8", 3);
	ptg_emit(c, "\x0f\x22\xd8", 3);
}

void ptg_invlpg(struct ptg_code *c, uint32_t addr)
{
	ptg_emit(c, "\x0f\x01\x3c\x25", 4);
	ptg_emit32(c, addr);
}

void ptg_invlpg_load_ax(struct ptg_code *c, uint32_t addr)
{
	ptg_invlpg(c, addr);
	ptg_load_ax(c, addr);
}

void ptg_invlpg_load_bx(struct ptg_code *c, uint32_t addr)
{
	ptg_invlpg(c, addr);
	ptg_load_bx(c, addr);
}

void ptg_hlt(struct ptg_code *c)
{
	ptg_emit(c, "\xf4", 1);
}

void ptg_access(struct ptg_code *c, uint32_t addr, bool write)
{
	if (write)
		ptg_store(c, addr, 0x77);
	else
		ptg_load_ax(c, addr);
}

void ptg_touch_delivery(struct ptg_code *c)
{
	ptg_load_ax(c, (uint32_t)(HVG_IDT + 14 * (c->w64 ? 16 : 8)));
	ptg_load_ax(c, (uint32_t)(HVG_GDT + (c->w64 ? HVG_SEL_CODE64 : HVG_SEL_CODE32)));
	ptg_load_ax(c, (uint32_t)HVG_HANDLER);
	ptg_emit(c, "\x50\x58", 2);		/* push; pop: the stack page */
}

void ptg_pf_handler(struct ptg_code *h)
{
	ptg_emit(h, "\x58", 1);			/* pop the error code */
	ptg_store_ax(h, (uint32_t)HVG_DATA);
	ptg_emit(h, "\x0f\x20\xd0", 3);		/* mov rax, cr2 */
	ptg_store_ax(h, (uint32_t)(HVG_DATA + 8));
	ptg_hlt(h);
}

void ptg_install_pf_handler(struct hvg *g)
{
	struct ptg_code h;
	ptg_code_init(&h, g->long_mode);
	ptg_pf_handler(&h);
	hvg_load(g, HVG_HANDLER, h.b, h.n);
	hvg_set_gate(g, 14, HVG_HANDLER);
	hvg_put64(g, HVG_DATA, 0xdead);
	hvg_put64(g, HVG_DATA + 8, 0xdead);
}

void ptg_expect_pf(struct hvg *g, const char *what, uint64_t ec, uint64_t cr2)
{
	const uint64_t got_ec = hvg_get64(g, HVG_DATA), got_cr2 = hvg_get64(g, HVG_DATA + 8);
	if (got_ec != ec || got_cr2 != cr2)
		fail_msg("%s: %s: #PF error code %#llx CR2 %#llx; want %#llx, %#llx", g->backend,
			 what, (unsigned long long)got_ec, (unsigned long long)got_cr2,
			 (unsigned long long)ec, (unsigned long long)cr2);
}

/* ---------------------------------------------------------------- tables */

void ptg_space64(struct hvg *g, uint64_t pml4, uint64_t pdpt, uint64_t pd, uint64_t pt)
{
	hvg_put64(g, pml4, pdpt | PTE_P | PTE_RW | PTE_US);
	hvg_put64(g, pdpt, pd | PTE_P | PTE_RW | PTE_US);
	hvg_put64(g, pd + 0, 0 | PTE_P | PTE_RW | PTE_PS | PTE_A | PTE_D);
	hvg_put64(g, pd + 8, pt | PTE_P | PTE_RW | PTE_US);
}

void ptg_space_pae(struct hvg *g, uint64_t pdpt, uint64_t pd, uint64_t pt)
{
	hvg_put64(g, pdpt, pd | PTE_P);
	hvg_put64(g, pd + 0, 0 | PTE_P | PTE_RW | PTE_PS | PTE_A | PTE_D);
	hvg_put64(g, pd + 8, pt | PTE_P | PTE_RW | PTE_US);
}

void ptg_space32(struct hvg *g, uint64_t pd, uint64_t pt)
{
	hvg_put32(g, pd + 0, (uint32_t)(0 | PTE_P | PTE_RW | PTE_PS | PTE_A | PTE_D));
	hvg_put32(g, pd + 4, (uint32_t)(pt | PTE_P | PTE_RW | PTE_US));
}

void ptg_put_marks(struct hvg *g)
{
	hvg_put64(g, PTG_FRAME_A, PTG_MARK_A);
	hvg_put64(g, PTG_FRAME_B, PTG_MARK_B);
	hvg_put64(g, PTG_FRAME_C, PTG_MARK_C);
}

/* ---------------------------------------------------------------- modes */

void ptg_enter_long(struct hvg *g, uint64_t rip, uint64_t cr3)
{
	hvg_enter_long_cr3(g, rip, cr3, PTG_CR0_PAGING);
}

void ptg_enter_paged32(struct hvg *g, uint64_t rip, uint64_t cr3, uint64_t cr4)
{
	struct hv_sregs s;
	hvg_enter_protected(g, rip);
	assert_int_equal(hv_get_sregs(g->vcpu, &s), 0);
	s.cr0 = PTG_CR0_PAGING;
	s.cr3 = cr3;
	s.cr4 = cr4;
	s.efer = 0;
	const int r = hv_set_sregs(g->vcpu, &s);
	if (r)
		fail_msg("%s: hv_set_sregs (paged, CR4 %#llx): %d (%s)", g->backend,
			 (unsigned long long)cr4, r, hv_strerror());
}

/* ---------------------------------------------------------------- VMs and tests */

void ptg_create64(struct hvg *g, const char *backend, const char *mmu, uint64_t ram)
{
	hvg_create_with(g, backend, mmu, ram);
	ptg_space64(g, PTG_PML4_A, PTG_PDPT_A, PTG_PD_A, PTG_PT_A);
	ptg_put_marks(g);
}

void ptg_start64(struct hvg *g, const struct ptg_code *c)
{
	hvg_load(g, HVG_CODE, c->b, c->n);
	ptg_enter_long(g, HVG_CODE, PTG_PML4_A);
}

bool ptg_have_mmu(const char *name)
{
	const size_t n = strlen(name);
	for (const char *p = hv_mmus(); (p = strstr(p, name)) != NULL; p += n)
		if ((p == hv_mmus() || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
			return true;
	return false;
}

void ptg_run_test(void **state)
{
	const struct ptg_test *t = *state;
	const char *name;

	PTG_SKIP_UNLESS_MMU(t->mmu);
	hvg_for_each_backend(i, name) {
		struct hvg g;
		memset(&g, 0, sizeof(g));
		t->body(&g, name);
		hvg_destroy(&g);
	}
}

void ptg_run_to_hlt(struct hvg *g)
{
	hvg_expect_exit(g, HV_EXIT_HLT);
}

void ptg_expect_read(struct hvg *g, const char *what, uint64_t got, uint64_t want)
{
	if (got != want)
		fail_msg("%s: %s: read %#llx; want %#llx", g->backend, what,
			 (unsigned long long)got, (unsigned long long)want);
}

/* ---------------------------------------------------------------- stats */

void ptg_snap(struct hvg *g, struct ptg_snap *s)
{
	struct hv_stat st[PTG_MAX_STATS];
	const int n = hv_get_stats(g->vm, st, PTG_MAX_STATS);
	assert_true(n > 0 && n <= PTG_MAX_STATS);
	s->n = n;
	for (int i = 0; i < n; i++) {
		s->s[i].name = st[i].name;
		s->s[i].value = st[i].value;
	}
}

void ptg_snap_run(struct hvg *g, struct ptg_snap *s)
{
	ptg_snap(g, s);
	ptg_run_to_hlt(g);
}

static bool lookup(const struct ptg_snap *s, const char *name, uint64_t *v)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->s[i].name, name)) {
			*v = s->s[i].value;
			return true;
		}
	return false;
}

uint64_t ptg_snap_get(const struct ptg_snap *s, const char *name)
{
	uint64_t v = 0;
	if (!lookup(s, name, &v))
		fail_msg("no statistic '%s'", name);
	return v;
}

/* snprintf onto @msg at *@len, never past its end. */
static void append(char *msg, size_t size, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void append(char *msg, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	if (*len >= size - 1)
		return;
	va_start(ap, fmt);
	const int r = vsnprintf(msg + *len, size - *len, fmt, ap);
	va_end(ap);
	if (r > 0)
		*len = *len + (size_t)r < size - 1 ? *len + (size_t)r : size - 1;
}

void ptg_expect_deltas(struct hvg *g, const struct ptg_snap *before, const char *what,
		       const struct ptg_delta *want)
{
	static const char *const shown[] = {
		"pf_fixed", "pf_guest", "pf_emulate", "pf_spurious", "mmu_cache_miss",
		"mmu_shadow_zapped", "mmu_recycled", "mmu_pte_write", "mmu_pde_zapped",
		"mmu_flooded", "mmu_unsync", "mmu_sync", "mmu_pages", "tlb_flush",
		"cr3_switches", "invlpg",
	};
	struct ptg_snap now;
	char msg[1024] = "";
	size_t len = 0;
	bool bad = false;

	ptg_snap(g, &now);
	for (const struct ptg_delta *w = want; w->name; w++) {
		const int64_t d = (int64_t)(ptg_snap_get(&now, w->name) -
					    ptg_snap_get(before, w->name));
		if (d != w->delta) {
			bad = true;
			append(msg, sizeof(msg), &len, " %s %+lld (want %+lld);", w->name,
			       (long long)d, (long long)w->delta);
		}
	}
	if (!bad)
		return;
	append(msg, sizeof(msg), &len, " [all:");
	for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
		uint64_t a = 0, b = 0;
		if (lookup(&now, shown[i], &a) && lookup(before, shown[i], &b))
			append(msg, sizeof(msg), &len, " %s %+lld", shown[i], (long long)(a - b));
	}
	fail_msg("%s: %s:%s]", g->backend, what, msg);
}
