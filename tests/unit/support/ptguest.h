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
 *
 * The shadow-MMU tests share one layout (PTG_PML4_A ... below) and one
 * shape: PTG_TEST runs a test's body once per backend; a body assembles
 * its guest, builds space A (ptg_create64), adds the entries it is about,
 * starts (ptg_start64) and then takes steps: snapshot the counters and run
 * to the next HLT (ptg_snap_run), check what the guest read
 * (ptg_expect_read) and the counters' exact deltas (PTG_EXPECT).
 */
#ifndef TESTS_UNIT_SUPPORT_PTGUEST_H
#define TESTS_UNIT_SUPPORT_PTGUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/support/pt_builder.h"
#include "tests/unit/support/hvguest.h"

/* ---- layout (guest-physical; hvguest's area is below 0x10000) */

/* Space A and space B: PML4, PDPT, PD, PT each (ptg_space64). */
#define PTG_PML4_A 0x20000ull
#define PTG_PDPT_A 0x21000ull
#define PTG_PD_A 0x22000ull
#define PTG_PT_A 0x23000ull
#define PTG_PML4_B 0x24000ull
#define PTG_PDPT_B 0x25000ull
#define PTG_PD_B 0x26000ull
#define PTG_PT_B 0x27000ull
/* Data frames, and the marks ptg_put_marks writes at their start. */
#define PTG_FRAME_A 0x150000ull
#define PTG_FRAME_B 0x160000ull
#define PTG_FRAME_C 0x170000ull
#define PTG_MARK_A 0x1111aaaa1111aaaaull
#define PTG_MARK_B 0x2222bbbb2222bbbbull
#define PTG_MARK_C 0x3333cccc3333ccccull
/* The first page through PT (PD index 1, PT index 0). */
#define PTG_GVA 0x200000u

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
/* mov rax/eax, @value; mov [addr], rax/eax (rax/eax keeps @value). */
void ptg_store(struct ptg_code *c, uint32_t addr, uint64_t value);
/* mov rax/eax, @cr3; mov cr3, rax/eax (0F 22 /3): a CR3 load ... */
void ptg_load_cr3(struct ptg_code *c, uint64_t cr3);
/* ... or mov rax/eax, cr3 (0F 20 /3) first: a reload of the same CR3. */
void ptg_reload_cr3(struct ptg_code *c);
/* invlpg [addr] (0F 01 /7) */
void ptg_invlpg(struct ptg_code *c, uint32_t addr);
/* invlpg [addr], then ptg_load_ax/bx [addr]: after a paging-structure
 * change the read that must see it (SDM Vol. 3A 4.10.4.1). */
void ptg_invlpg_load_ax(struct ptg_code *c, uint32_t addr);
void ptg_invlpg_load_bx(struct ptg_code *c, uint32_t addr);
void ptg_hlt(struct ptg_code *c);
/* A read of [addr] into rax/eax, or a write of 0x77 to it. */
void ptg_access(struct ptg_code *c, uint32_t addr, bool write);
/* Read what delivering #PF uses (the IDT gate, the code descriptor,
 * the handler, the stack), so a fault later is delivered without a
 * fault of its own (see test_mmu_shadow_flush.c). */
void ptg_touch_delivery(struct ptg_code *c);
/* The #PF handler hvg_set_gate(g, 14, HVG_HANDLER) reaches: it stores the
 * error code at HVG_DATA and CR2 at HVG_DATA + 8 (4 bytes each in 32-bit
 * mode) and halts. */
void ptg_pf_handler(struct ptg_code *h);
/* Assemble ptg_pf_handler for the current mode at HVG_HANDLER, point
 * vector 14 at it and put 0xdead in its two result slots. Call after
 * entering the mode (the gate's format follows it). */
void ptg_install_pf_handler(struct hvg *g);
/* Fail unless the handler saw error code @ec and CR2 = @cr2 (@what names
 * the access). The reads are 8 bytes in either mode: a 32-bit handler's
 * 4-byte stores leave 0xdead's upper halves zero. */
void ptg_expect_pf(struct hvg *g, const char *what, uint64_t ec, uint64_t cr2);

/* ---- tables */

/* 4-level: PML4[0] -> pdpt, PDPT[0] -> pd, PD[0] = 2 MiB at 0 (supervisor),
 * PD[1] -> pt. Upper levels grant R/W and U/S. */
void ptg_space64(struct hvg *g, uint64_t pml4, uint64_t pdpt, uint64_t pd, uint64_t pt);
/* PAE: PDPTE[0] -> pd (P only: 4.4.1, Table 4-8), PD as above. */
void ptg_space_pae(struct hvg *g, uint64_t pdpt, uint64_t pd, uint64_t pt);
/* 32-bit: PD[0] = 4 MiB at 0 (needs CR4.PSE), PD[1] -> pt (4-byte entries). */
void ptg_space32(struct hvg *g, uint64_t pd, uint64_t pt);
/* PTG_MARK_A, _B, _C at PTG_FRAME_A, _B, _C. */
void ptg_put_marks(struct hvg *g);

/* ---- modes */

#define PTG_CR0_PAGING (HVG_CR0_PG | HVG_CR0_WP | HVG_CR0_NE | HVG_CR0_ET | HVG_CR0_PE)
#define PTG_CR4_PSE (1ull << 4)

/* IA-32e mode with @cr3, CR0.WP set. */
void ptg_enter_long(struct hvg *g, uint64_t rip, uint64_t cr3);
/* 32-bit protected mode with paging: CR0 = PTG_CR0_PAGING, CR4 = @cr4
 * (PTG_CR4_PSE for 32-bit paging with 4 MiB pages, HVG_CR4_PAE for PAE
 * paging), CR3 = @cr3, EFER = 0. */
void ptg_enter_paged32(struct hvg *g, uint64_t rip, uint64_t cr3, uint64_t cr4);

/* ---- VMs and tests */

/* A VM on @backend with MMU @mmu and slot 0 = [0, @ram), space A's tables
 * (ptg_space64; its PT empty) and the marks (ptg_put_marks). */
void ptg_create64(struct hvg *g, const char *backend, const char *mmu, uint64_t ram);
/* Load @c at HVG_CODE and enter IA-32e mode there with CR3 = PTG_PML4_A. */
void ptg_start64(struct hvg *g, const struct ptg_code *c);

/* Is MMU strategy @name built in (hv_mmus())? */
bool ptg_have_mmu(const char *name);
/* Skip the running cmocka test unless strategy @name is built in. */
#define PTG_SKIP_UNLESS_MMU(name) \
	do { \
		if (!ptg_have_mmu(name)) \
			skip(); \
	} while (0)

/*
 * A cmocka test run on every backend: in a test table, PTG_TEST(mmu, fn)
 * is test "fn", skipped unless MMU strategy @mmu is built in, which calls
 * fn(g, backend) for each backend (hvg_for_each_backend) and then destroys
 * the VM fn left in *g (hvg_destroy; hvg_teardown after a failure).
 */
typedef void ptg_body_fn(struct hvg *g, const char *backend);
struct ptg_test {
	const char *mmu;
	ptg_body_fn *body;
};
void ptg_run_test(void **state);
#define PTG_TEST(mmu_name, fn) \
	{ .name = #fn, .test_func = ptg_run_test, .teardown_func = hvg_teardown, \
	  .initial_state = &(struct ptg_test){ .mmu = (mmu_name), .body = (fn) } }

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
/* ptg_snap, then ptg_run_to_hlt: one step whose deltas PTG_EXPECT checks. */
void ptg_snap_run(struct hvg *g, struct ptg_snap *s);
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
