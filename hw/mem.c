/*
 * mem.c — the engine's memory ops on the model: linear addresses through
 * hw_translate(), then host-physical memory in the arena.
 *
 * An access that crosses a page boundary is translated page by page, and
 * both translations must succeed before a byte is written (a fault on
 * the second page leaves memory untouched). Physical addresses outside
 * the arena read as all ones and ignore writes (nothing decodes them).
 * Every write to a page holding decoded code drops that code (dcode.h),
 * after the bytes are stored.
 *
 * Guest memory is shared with the other processors and the host, which
 * may access it at any moment: that is the machine's design, not a race
 * to avoid. What x86 promises about such accesses is kept with host
 * atomics: an aligned access of 1, 2, 4 or 8 bytes is one atomic load or
 * store (SDM Vol. 3A 9.1.1), ordered as x86 orders them (loads acquire,
 * stores release: 9.2.2, no reordering but store-load), and a longer or
 * unaligned one is made of atomic pieces, as the SDM allows. LOCKed
 * read-modify-writes are hw/locked.c's.
 */
#include <string.h>

#include "hw/dcode.h"
#include "hw/exec.h"
#include "hw/locked.h"

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

/* Copy @len bytes from host memory @p as aligned atomic pieces. */
static void atomic_copy_from(void *buf, const uint8_t *p, unsigned len)
{
	uint8_t *d = buf;
	while (len && ((uintptr_t)p & 7)) {
		*d++ = __atomic_load_n(p++, __ATOMIC_RELAXED);
		len--;
	}
	for (; len >= 8; len -= 8, p += 8, d += 8) {
		const uint64_t q = __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
		memcpy(d, &q, 8);
	}
	while (len--)
		*d++ = __atomic_load_n(p++, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
}

static void atomic_copy_to(uint8_t *p, const void *buf, unsigned len)
{
	const uint8_t *s = buf;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	while (len && ((uintptr_t)p & 7)) {
		__atomic_store_n(p++, *s++, __ATOMIC_RELAXED);
		len--;
	}
	for (; len >= 8; len -= 8, p += 8, s += 8) {
		uint64_t q;
		memcpy(&q, s, 8);
		__atomic_store_n((uint64_t *)p, q, __ATOMIC_RELAXED);
	}
	while (len--)
		__atomic_store_n(p++, *s++, __ATOMIC_RELAXED);
}

void hw_phys_load(const void *p, void *buf, unsigned len)
{
	if (!((uintptr_t)p & (len - 1))) {
		switch (len) {
		case 1: { uint8_t v = __atomic_load_n((const uint8_t *)p, __ATOMIC_ACQUIRE); memcpy(buf, &v, 1); return; }
		case 2: { uint16_t v = __atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE); memcpy(buf, &v, 2); return; }
		case 4: { uint32_t v = __atomic_load_n((const uint32_t *)p, __ATOMIC_ACQUIRE); memcpy(buf, &v, 4); return; }
		case 8: { uint64_t v = __atomic_load_n((const uint64_t *)p, __ATOMIC_ACQUIRE); memcpy(buf, &v, 8); return; }
		}
	}
	atomic_copy_from(buf, p, len);
}

void hw_phys_store(void *p, const void *buf, unsigned len)
{
	if (!((uintptr_t)p & (len - 1))) {
		switch (len) {
		case 1: { uint8_t v; memcpy(&v, buf, 1); __atomic_store_n((uint8_t *)p, v, __ATOMIC_RELEASE); return; }
		case 2: { uint16_t v; memcpy(&v, buf, 2); __atomic_store_n((uint16_t *)p, v, __ATOMIC_RELEASE); return; }
		case 4: { uint32_t v; memcpy(&v, buf, 4); __atomic_store_n((uint32_t *)p, v, __ATOMIC_RELEASE); return; }
		case 8: { uint64_t v; memcpy(&v, buf, 8); __atomic_store_n((uint64_t *)p, v, __ATOMIC_RELEASE); return; }
		}
	}
	atomic_copy_to(p, buf, len);
}

static void phys_read(struct hw_cpu *cpu, hpa_t hpa, void *buf, unsigned len)
{
	const void *p = hw_hpa_ptr(cpu->m, hpa, len);
	if (p)
		hw_phys_load(p, buf, len);
	else
		memset(buf, 0xff, len);
}

static void phys_write(struct hw_cpu *cpu, hpa_t hpa, const void *buf, unsigned len)
{
	void *p = hw_hpa_ptr(cpu->m, hpa, len);
	if (!p)
		return;
	hw_phys_store(p, buf, len);
	hw_code_page_written(cpu->m, cpu, hpa >> 12);
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
 * LOCKed read-modify-write (SDM Vol. 3A 9.1.2): an operand in one page is
 * hw/locked.c's atomic compare-exchange on the arena; one that crosses a
 * page boundary is a split lock, done under the machine's bus lock.
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
	if (p) {
		hw_locked_cmpxchg(cpu->m, p, old, new, size);
		hw_code_page_written(cpu->m, cpu, sp.hpa[0] >> 12);
		return EMU_CONTINUE;
	}
	uint8_t cur[16];
	hw_bus_lock(cpu->m);
	phys_read(cpu, sp.hpa[0], cur, sp.len[0]);
	if (sp.n == 2)
		phys_read(cpu, sp.hpa[1], cur + sp.len[0], sp.len[1]);
	if (!memcmp(cur, old, size)) {
		phys_write(cpu, sp.hpa[0], new, sp.len[0]);
		if (sp.n == 2)
			phys_write(cpu, sp.hpa[1], (const uint8_t *)new + sp.len[0], sp.len[1]);
	}
	hw_bus_unlock(cpu->m);
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
	hw_cpu_mark_code_page(cpu, hpa >> 12);
	*key = hpa;
	return true;
}
