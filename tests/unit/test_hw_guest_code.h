/*
 * test_hw_guest_code.h — straight-line 64-bit guest code built from
 * pieces, for the TLB tests (test_hw_guest_tlb.c, _pcid.c, _vpid.c): read
 * a word into a result slot, store a PTE, load CR3, INVLPG, INVPCID,
 * toggle CR4.PGE, HLT. Each piece lists its bytes and instruction where
 * it is emitted (checked with GNU as / objdump). Results go to 8-byte
 * slots at GM_OUT (32-bit values), pre-filled with RES_UNTOUCHED;
 * addresses are below 2 GiB ("[disp32]" forms).
 */
#ifndef HVLAB_TESTS_UNIT_TEST_HW_GUEST_CODE_H
#define HVLAB_TESTS_UNIT_TEST_HW_GUEST_CODE_H

#include "test_hw_guest.h"

#define GM_OUT		0x12200ull
#define GM_NR_OUT	16
#define GM_DESC		0x12100ull	/* a 16-byte descriptor (INVPCID) */

struct gm_code {
	uint8_t b[1024];
	size_t n;
};

static inline void gm_emit(struct gm_code *c, const void *p, size_t n)
{
	assert_true(c->n + n <= sizeof(c->b));
	memcpy(c->b + c->n, p, n);
	c->n += n;
}

static inline void gm_emit32(struct gm_code *c, uint32_t v)
{
	gm_emit(c, &v, 4);
}

/* mov eax, [va]; mov [GM_OUT + 8 * slot], eax (va below 2 GiB). */
static inline void gm_read_to(struct gm_code *c, uint64_t va, unsigned slot)
{
	static const uint8_t ld[] = { 0x8b, 0x04, 0x25 }, st[] = { 0x89, 0x04, 0x25 };
	gm_emit(c, ld, 3);
	gm_emit32(c, (uint32_t)va);
	gm_emit(c, st, 3);
	gm_emit32(c, (uint32_t)(GM_OUT + 8 * slot));
}

/* mov rax, v (48 b8 imm64). */
static inline void gm_mov_rax(struct gm_code *c, uint64_t v)
{
	static const uint8_t op[] = { 0x48, 0xb8 };
	gm_emit(c, op, 2);
	gm_emit(c, &v, 8);
}

/* mov rax, v; mov [ga], rax: the guest writes a 64-bit word (a PTE). */
static inline void gm_store64(struct gm_code *c, uint64_t ga, uint64_t v)
{
	static const uint8_t st[] = { 0x48, 0x89, 0x04, 0x25 };
	gm_mov_rax(c, v);
	gm_emit(c, st, 4);
	gm_emit32(c, (uint32_t)ga);
}

/* mov rax, v; mov cr3, rax (0f 22 d8). */
static inline void gm_load_cr3(struct gm_code *c, uint64_t v)
{
	static const uint8_t op[] = { 0x0f, 0x22, 0xd8 };
	gm_mov_rax(c, v);
	gm_emit(c, op, 3);
}

/* mov rax, cr3 (0f 20 d8); mov cr3, rax (0f 22 d8). */
static inline void gm_reload_cr3(struct gm_code *c)
{
	static const uint8_t op[] = { 0x0f, 0x20, 0xd8, 0x0f, 0x22, 0xd8 };
	gm_emit(c, op, sizeof(op));
}

/* invlpg [va] (0f 01 3c 25 disp32). */
static inline void gm_invlpg(struct gm_code *c, uint64_t va)
{
	static const uint8_t op[] = { 0x0f, 0x01, 0x3c, 0x25 };
	gm_emit(c, op, 4);
	gm_emit32(c, (uint32_t)va);
}

/* mov eax, type (b8 imm32); invpcid rax, [GM_DESC] (66 0f 38 82 04 25 disp32). */
static inline void gm_invpcid(struct gm_code *c, uint32_t type)
{
	static const uint8_t mov[] = { 0xb8 }, op[] = { 0x66, 0x0f, 0x38, 0x82, 0x04, 0x25 };
	gm_emit(c, mov, 1);
	gm_emit32(c, type);
	gm_emit(c, op, sizeof(op));
	gm_emit32(c, (uint32_t)GM_DESC);
}

/* CR4.PGE off and on again: mov rax, cr4 (0f 20 e0); and rax, ~0x80
 * (48 25 7f ff ff ff); mov cr4, rax (0f 22 e0); or rax, 0x80
 * (48 0d 80 00 00 00); mov cr4, rax. */
static inline void gm_toggle_pge(struct gm_code *c)
{
	static const uint8_t op[] = {
		0x0f, 0x20, 0xe0, 0x48, 0x25, 0x7f, 0xff, 0xff, 0xff, 0x0f, 0x22, 0xe0,
		0x48, 0x0d, 0x80, 0x00, 0x00, 0x00, 0x0f, 0x22, 0xe0,
	};
	gm_emit(c, op, sizeof(op));
}

static inline void gm_hlt(struct gm_code *c)
{
	static const uint8_t op[] = { 0xf4 };	/* hlt */
	gm_emit(c, op, 1);
}

/* Load @c at GM_CODE, enter there, run to its HLT (which must be the
 * last byte), and clear the result slots first. */
static inline void gm_run_code(struct gm *m, const struct gm_code *c)
{
	for (unsigned i = 0; i < GM_NR_OUT; i++)
		gm_put64(m, GM_OUT + 8 * i, RES_UNTOUCHED);
	gm_put(m, GM_CODE, c->b, c->n);
	hwg_set_entry(&m->g, GM_CODE, GM_STACK);
	assert_int_equal(gm_run_to_hlt(m), GM_CODE + c->n - 1);
}

static inline uint32_t gm_out(struct gm *m, unsigned slot)
{
	return gm_get32(m, GM_OUT + 8 * slot);
}

#endif
