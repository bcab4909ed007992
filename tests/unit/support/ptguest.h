/*
 * ptguest.h — guests with page tables of their own, for the shadow-MMU
 * tests (tests/unit/test_mmu_shadow_*.c): tiny hand-assembled code in
 * 64-bit or 32-bit mode, the usual tables (a 2 MiB or 4 MiB page over the
 * hvguest area plus one page table), paged 32-bit/PAE entry, and exact
 * statistic deltas. Built on hvguest.h; like hvguest.c, this file reaches
 * the API only through weak references (see there).
 *
 * Encodings (SDM Vol. 2): every memory operand is [disp32] through a SIB
 * byte with no base and no index (ModRM mod 00 r/m 100, SIB 0x25), which
 * means the same absolute address in 32-bit and 64-bit mode (ModRM r/m
 * 101 alone is RIP-relative in 64-bit mode, Vol. 2A 2.2.1.6). In 64-bit
 * mode loads and stores take REX.W (8 bytes); in 32-bit mode 4 bytes.
 *
 * The standard tables (ptg_space64 / _pae / _32) map [0, 2 MiB) (32-bit:
 * [0, 4 MiB)) with one large supervisor page (PS, SDM Vol. 3A 4.3-4.5),
 * so code, GDT, IDT, stack, data and the tables themselves are reachable
 * at gva = gpa, and entry 1 of the PD points at a page table for
 * [2 MiB, 4 MiB) (32-bit: [4 MiB, 8 MiB)). The large page is accessed
 * and dirty from the start (as a kernel's own mapping soon is), so a
 * shadow MMU's handling of its first write (4.8) does not show in the
 * counts of tests about something else. The entry bits come from
 * tests/support/pt_builder.h, written from the manuals.
 */
#ifndef TESTS_UNIT_SUPPORT_PTGUEST_H
#define TESTS_UNIT_SUPPORT_PTGUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/support/pt_builder.h"
#include "tests/unit/support/hvguest.h"

/* ---- code */

struct ptg_code {
	uint8_t b[1024];
	size_t n;
	bool w64;		/* 64-bit mode: REX.W loads, stores, immediates */
};

void ptg_code_init(struct ptg_code *c, bool long_mode);
void ptg_emit(struct ptg_code *c, const void *bytes, size_t len);
void ptg_emit32(struct ptg_code *c, uint32_t v);
/* mov rax/eax, [addr]; mov rbx/ebx, [addr]; mov [addr], rax/eax */
void ptg_load_ax(struct ptg_code *c, uint32_t addr);
void ptg_load_bx(struct ptg_code *c, uint32_t addr);
void ptg_store_ax(struct ptg_code *c, uint32_t addr);
/* mov rax, imm64 (REX.W B8) / mov eax, imm32 (B8): any value the mode
 * holds. */
void ptg_mov_ax(struct ptg_code *c, uint64_t imm);
void ptg_mov_bx(struct ptg_code *c, uint64_t imm);
void ptg_mov_cx(struct ptg_code *c, uint64_t imm);
/* mov cr3, rax (0F 22 /3); mov rax, cr3 (0F 20 /3) */
void ptg_mov_cr3_ax(struct ptg_code *c);
void ptg_mov_ax_cr3(struct ptg_code *c);
/* invlpg [addr] (0F 01 /7) */
void ptg_invlpg(struct ptg_code *c, uint32_t addr);
void ptg_hlt(struct ptg_code *c);
/* Read what delivering #PF uses (the IDT gate, the code descriptor,
 * the handler, the stack), so a fault later is delivered without a
 * fault of its own (see test_mmu_shadow_flush.c). */
void ptg_touch_delivery(struct ptg_code *c);
/* The #PF handler hvg_set_gate(g, 14, HVG_HANDLER) reaches: it stores the
 * error code at HVG_DATA and CR2 at HVG_DATA + 8 (4 bytes each in 32-bit
 * mode) and halts. */
void ptg_pf_handler(struct ptg_code *h);

/* ---- tables */

/* 4-level: PML4[0] -> pdpt, PDPT[0] -> pd, PD[0] = 2 MiB at 0 (supervisor),
 * PD[1] -> pt. Upper levels grant R/W and U/S. */
void ptg_space64(struct hvg *g, uint64_t pml4, uint64_t pdpt, uint64_t pd, uint64_t pt);
/* PAE: PDPTE[0] -> pd (P only: 4.4.1, Table 4-8), PD as above. */
void ptg_space_pae(struct hvg *g, uint64_t pdpt, uint64_t pd, uint64_t pt);
/* 32-bit: PD[0] = 4 MiB at 0 (needs CR4.PSE), PD[1] -> pt (4-byte entries). */
void ptg_space32(struct hvg *g, uint64_t pd, uint64_t pt);

/* ---- modes */

#define PTG_CR0_PAGING (HVG_CR0_PG | HVG_CR0_WP | HVG_CR0_NE | HVG_CR0_ET | HVG_CR0_PE)
#define PTG_CR4_PSE (1ull << 4)

/* IA-32e mode with @cr3, CR0.WP set. */
void ptg_enter_long(struct hvg *g, uint64_t rip, uint64_t cr3);
/* 32-bit protected mode with paging: CR0 = PTG_CR0_PAGING, CR4 = @cr4
 * (PTG_CR4_PSE for 32-bit paging with 4 MiB pages, HVG_CR4_PAE for PAE
 * paging), CR3 = @cr3, EFER = 0. */
void ptg_enter_paged32(struct hvg *g, uint64_t rip, uint64_t cr3, uint64_t cr4);

/* Is MMU strategy @name built in (hv_mmus())? */
bool ptg_have_mmu(const char *name);
/* Skip the running cmocka test unless strategy @name is built in. */
#define PTG_SKIP_UNLESS_MMU(name) \
	do { \
		if (!ptg_have_mmu(name)) \
			skip(); \
	} while (0)

/* hvg_run, which must exit for HLT. */
void ptg_run_to_hlt(struct hvg *g);
/* Fail unless the guest read @want (@what names the read). */
void ptg_expect_read(struct hvg *g, const char *what, uint64_t got, uint64_t want);

/* ---- statistics */

#define PTG_MAX_STATS 512

struct ptg_snap {
	int n;
	struct {
		const char *name;
		uint64_t value;
	} s[PTG_MAX_STATS];
};

struct ptg_delta {
	const char *name;
	int64_t delta;
};

void ptg_snap(struct hvg *g, struct ptg_snap *s);
/* Statistic @name in @s (fails the test when there is none). */
uint64_t ptg_snap_get(const struct ptg_snap *s, const char *name);
/*
 * Every counter in @want (NULL-terminated) moved by exactly its delta
 * since @before; on a mismatch, fail with every mismatch and the MMU
 * counters' deltas, naming @what.
 */
void ptg_expect_deltas(struct hvg *g, const struct ptg_snap *before, const char *what,
		       const struct ptg_delta *want);
#define PTG_EXPECT(g, before, what, ...) \
	ptg_expect_deltas((g), (before), (what), \
			  (const struct ptg_delta[]){ __VA_ARGS__, { NULL, 0 } })

/* The calls ptguest.c makes beyond hvguest.h's (see there). */
#ifndef HVG_WEAK_API
static __typeof__(&hv_mmus) const ptg_ref_hv_mmus __attribute__((used)) = hv_mmus;
#endif

#endif
