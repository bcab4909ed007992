/*
 * mem.c — the engine's memory ops on the model: linear addresses through
 * hw_translate(), then host-physical memory in the arena.
 *
 * An access that crosses a page boundary is translated page by page, and
 * both translations must succeed before a byte is written (a fault on
 * the second page leaves memory untouched). Physical addresses outside
 * the arena read as all ones and ignore writes (nothing decodes them).
 * Every write to a page holding decoded code drops that code (dcode.h).
 */
#include <string.h>

#include "hw/dcode.h"
#include "hw/exec.h"

/* Split [la, la+size) at the page boundary and translate both parts. */
struct span {
	hpa_t hpa[2];
	unsigned len[2];
	unsigned n;
};

static int translate_span(struct hw_cpu *cpu, uint64_t la, unsigned size,
			  unsigned acc, struct span *sp)
{
	const unsigned first = 4096 - (unsigned)(la & 4095);
	sp->n = size > first ? 2 : 1;
	sp->len[0] = size > first ? first : size;
	sp->len[1] = size - sp->len[0];
	int r = hw_translate(cpu, la, acc, &sp->hpa[0]);
	if (r == EMU_CONTINUE && sp->n == 2)
		r = hw_translate(cpu, la + first, acc, &sp->hpa[1]);
	return r;
}

static void phys_read(struct hw_cpu *cpu, hpa_t hpa, void *buf, unsigned len)
{
	const void *p = hw_hpa_ptr(cpu->m, hpa, len);
	if (p)
		memcpy(buf, p, len);
	else
		memset(buf, 0xff, len);
}

static void phys_write(struct hw_cpu *cpu, hpa_t hpa, const void *buf, unsigned len)
{
	void *p = hw_hpa_ptr(cpu->m, hpa, len);
	if (!p)
		return;
	hw_code_page_written(cpu->m, hpa >> 12);
	memcpy(p, buf, len);
}

int hw_mem_read(struct emu_ctx *ctx, uint64_t la, void *buf, unsigned size,
		    unsigned acc)
{
	struct hw_cpu *cpu = to_hw_cpu(ctx);
	struct span sp;
	/* A read for a read-modify-write checks write rights up front. */
	int r = translate_span(cpu, la, size, acc, &sp);
	if (r != EMU_CONTINUE)
		return r;
	phys_read(cpu, sp.hpa[0], buf, sp.len[0]);
	if (sp.n == 2)
		phys_read(cpu, sp.hpa[1], (uint8_t *)buf + sp.len[0], sp.len[1]);
	return EMU_CONTINUE;
}

int hw_mem_write(struct emu_ctx *ctx, uint64_t la, const void *buf,
		     unsigned size, unsigned acc)
{
	struct hw_cpu *cpu = to_hw_cpu(ctx);
	struct span sp;
	int r = translate_span(cpu, la, size, acc | EMU_ACC_WRITE, &sp);
	if (r != EMU_CONTINUE)
		return r;
	phys_write(cpu, sp.hpa[0], buf, sp.len[0]);
	if (sp.n == 2)
		phys_write(cpu, sp.hpa[1], (const uint8_t *)buf + sp.len[0], sp.len[1]);
	return EMU_CONTINUE;
}

/*
 * LOCKed read-modify-write: atomic on the arena when the operand lies in
 * one page and is naturally sized; a split lock (across pages) is done
 * as read-compare-write, which is atomic for one processor and, like a
 * bus lock, rare.
 */
int hw_mem_cmpxchg(struct emu_ctx *ctx, uint64_t la, void *old, const void *new,
		       unsigned size)
{
	struct hw_cpu *cpu = to_hw_cpu(ctx);
	struct span sp;
	int r = translate_span(cpu, la, size, EMU_ACC_WRITE, &sp);
	if (r != EMU_CONTINUE)
		return r;
	void *p = sp.n == 1 ? hw_hpa_ptr(cpu->m, sp.hpa[0], size) : NULL;
	if (p && (size == 1 || size == 2 || size == 4 || size == 8)) {
		hw_code_page_written(cpu->m, sp.hpa[0] >> 12);
		uint64_t o = 0, n = 0;
		memcpy(&o, old, size);
		memcpy(&n, new, size);
		switch (size) {
		case 1: { uint8_t e = (uint8_t)o; __atomic_compare_exchange_n((uint8_t *)p, &e, (uint8_t)n, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); memcpy(old, &e, 1); break; }
		case 2: { uint16_t e = (uint16_t)o; __atomic_compare_exchange_n((uint16_t *)p, &e, (uint16_t)n, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); memcpy(old, &e, 2); break; }
		case 4: { uint32_t e = (uint32_t)o; __atomic_compare_exchange_n((uint32_t *)p, &e, (uint32_t)n, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); memcpy(old, &e, 4); break; }
		default: { uint64_t e = o; __atomic_compare_exchange_n((uint64_t *)p, &e, n, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); memcpy(old, &e, 8); break; }
		}
		return EMU_CONTINUE;
	}
	uint8_t cur[16];
	phys_read(cpu, sp.hpa[0], cur, sp.len[0]);
	if (sp.n == 2)
		phys_read(cpu, sp.hpa[1], cur + sp.len[0], sp.len[1]);
	if (!memcmp(cur, old, size)) {
		phys_write(cpu, sp.hpa[0], new, sp.len[0]);
		if (sp.n == 2)
			phys_write(cpu, sp.hpa[1], (const uint8_t *)new + sp.len[0], sp.len[1]);
	}
	memcpy(old, cur, size);
	return EMU_CONTINUE;
}

int hw_mem_fetch(struct emu_ctx *ctx, uint64_t la, void *buf, unsigned size)
{
	return hw_mem_read(ctx, la, buf, size, EMU_ACC_FETCH);
}

/*
 * The decode cache key: the host-physical address of the code, when the
 * TLB already holds a translation that allows the fetch. Otherwise the
 * engine fetches normally (which walks, fills the TLB or faults) and the
 * next lookup hits. The page is marked as holding code.
 */
bool hw_mem_code_key(struct emu_ctx *ctx, uint64_t la, uint64_t *key)
{
	struct hw_cpu *cpu = to_hw_cpu(ctx);
	const struct hw_tlb_entry *e = hw_tlb_lookup(&cpu->tlb, la, cpu->xlat.tag);
	if (!e || (e->rights & HW_R_NX))
		return false;
	unsigned a = HW_ACC_FETCH | (cpu->emu.cpu.cpl == 3 ? HW_ACC_USER : 0);
	if (hw_access_fault(&cpu->xlat.pg, e->rights, a))
		return false;
	const hpa_t hpa = e->hpa + (la & ((1ull << e->shift) - 1));
	if (hpa >= cpu->m->arena_size)
		return false;
	cpu->cnt.tlb_hits++;
	hw_mark_code_page(cpu->m, hpa >> 12);
	*key = hpa;
	return true;
}
