/*
 * dcode.c — dropping decoded code when its page is written, with the
 * machine's processors on threads of their own (see dcode.h).
 *
 * A processor's decode cache, front TLB and key_epoch are its owner's
 * (cpu.h legend); other threads only post requests (hw/request.c). What
 * must hold is: a processor that decoded page P from memory as it was
 * drops that code before it executes past a serializing instruction that
 * follows, in its view, a write to P (SDM Vol. 3A 9.1.3; for the writer
 * itself, before its next instruction, 11.6). Three rules give it.
 *
 * 1. Mark before decoding, drop after writing. A decoder sets P's bit
 *    (seq_cst) before it reads P (hw_mem_code_key runs before the block
 *    is built); a writer stores, fences, then reads the bit
 *    (hw_code_page_written). Either the writer sees the bit and drops,
 *    or the decoder reads the new bytes.
 *
 * 2. Clear, then post. hw_code_page_drop clears the bit and then posts
 *    a drop to every other processor; a writer that finds the bit clear
 *    while drops_in_flight is not 0 waits for those posts, so once it
 *    has seen a clear bit every processor whose code it could have
 *    missed has the request queued. A decoder that marks P again between
 *    the clear and its own post gets that post too: one more drop.
 *
 * 3. Front-TLB write entries. Stores through them bypass rule 1, so no
 *    processor keeps one to a code page. Its owner drops it when it
 *    stores it and sees the bit set or a drop in flight (front_fill,
 *    hw_front_write_stays: the Dekker pair of rule 1). A marker looks
 *    at the other processors' front TLBs (atomic loads: the owners store
 *    those fields atomically) and asks each holder of such an entry to
 *    drop it (HW_REQ_FRONT). A holder in guest mode may have stored to P
 *    through it after the mark: when it serves the request it drops P's
 *    code everywhere ("loud", hw_front_check), and until then the post
 *    counts in stale_writers, and every serializing processor drops all
 *    its decoded code while that count is not 0 (hw_cpu_serialize).
 *    A holder outside guest mode stored nothing since it left (in_guest,
 *    stored before its first and after its last look at the requests),
 *    so the post is quiet and does not count.
 *
 * Counting: hw_counters.smc_invalidations counts, per processor, every
 * drop of a page it was asked for or did itself, as before.
 */
#include "hw/dcode.h"
#include "hw/request.h"

static struct hw_cpu *cpu_at(struct hw_machine *m, unsigned i)
{
	return __atomic_load_n(&m->cpus[i], __ATOMIC_ACQUIRE);
}

void hw_code_drop_local(struct hw_cpu *cpu, uint64_t pfn)
{
#ifdef CONFIG_EMU_DECODE_CACHE
	if (cpu->emu.dcache)
		emu_dcache_invalidate_page(cpu->emu.dcache, pfn << 12);
#endif
	cpu->emu.key_epoch++;	/* its key must be taken (and marked) again */
}

void hw_code_drop_all_local(struct hw_cpu *cpu)
{
#ifdef CONFIG_EMU_DECODE_CACHE
	if (cpu->emu.dcache)
		emu_dcache_flush(cpu->emu.dcache);
#endif
	cpu->emu.key_epoch++;
}

void hw_code_drops_settle(struct hw_machine *m)
{
	while (__atomic_load_n(&m->drops_in_flight, __ATOMIC_ACQUIRE))
		hw_cpu_relax();
}

void hw_code_page_drop(struct hw_machine *m, struct hw_cpu *self, uint64_t pfn)
{
	__atomic_fetch_add(&m->drops_in_flight, 1, __ATOMIC_SEQ_CST);
	__atomic_fetch_and(&m->code_pages[pfn / 64], ~(1ull << (pfn % 64)), __ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < HW_MAX_CPUS; i++) {
		struct hw_cpu *cpu = cpu_at(m, i);
		if (!cpu)
			continue;
		if (cpu == self) {
			hw_code_drop_local(cpu, pfn);
			cpu->cnt.smc_invalidations++;
		} else {
			hw_req_post_drop(cpu, pfn);
		}
	}
	__atomic_fetch_sub(&m->drops_in_flight, 1, __ATOMIC_SEQ_CST);
}

/* Does front entry @f allow stores to the page at host address @host?
 * Owners store addend and then write_tag with release; a torn pair read
 * here means the owner is storing a new entry and will check the bit
 * itself (rule 3). */
static bool front_writes_to(const struct emu_tlb_entry *f, uintptr_t host)
{
	const uint64_t tag = __atomic_load_n(&f->write_tag, __ATOMIC_ACQUIRE);
	if (tag == EMU_TLB_INVALID)
		return false;
	return __atomic_load_n(&f->addend, __ATOMIC_ACQUIRE) + (uintptr_t)(tag & ~4095ull) == host;
}

/* Ask @cpu to drop its front write entries to code pages (rule 3). */
static void post_front(struct hw_machine *m, struct hw_cpu *cpu)
{
	struct hw_requests *r = &cpu->req;
	__atomic_fetch_add(&m->stale_writers, 1, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&r->front_loud, 1, __ATOMIC_SEQ_CST);
	hw_req_post(cpu, HW_REQ_FRONT);
	if (__atomic_load_n(&r->in_guest, __ATOMIC_SEQ_CST))
		return;
	/* Not in guest mode: it serves the request before its next guest
	 * instruction (in_guest is stored before that look), and whatever
	 * it stored before it left happened before the load above. Take
	 * the unit back unless it was served already. */
	uint32_t n = __atomic_load_n(&r->front_loud, __ATOMIC_RELAXED);
	while (n && !__atomic_compare_exchange_n(&r->front_loud, &n, n - 1, false,
						 __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
		;
	if (n)
		__atomic_fetch_sub(&m->stale_writers, 1, __ATOMIC_SEQ_CST);
}

/*
 * Page @pfn starts holding decoded code: set its bit (rule 1), then make
 * front-TLB write entries to it go (rule 3): @self's own at once, the
 * other processors' by request.
 */
void hw_code_page_mark(struct hw_machine *m, struct hw_cpu *self, uint64_t pfn)
{
	__atomic_fetch_or(&m->code_pages[pfn / 64], 1ull << (pfn % 64), __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	const uintptr_t host = (uintptr_t)(m->arena + (pfn << 12));
	for (unsigned i = 0; i < HW_MAX_CPUS; i++) {
		struct hw_cpu *cpu = cpu_at(m, i);
		if (!cpu)
			continue;
		for (unsigned j = 0; j < EMU_TLB_SIZE; j++) {
			struct emu_tlb_entry *f = &cpu->tlb.front[j];
			if (!front_writes_to(f, host))
				continue;
			if (cpu != self) {
				post_front(m, cpu);
				break;
			}
			__atomic_store_n(&f->write_tag, EMU_TLB_INVALID, __ATOMIC_RELEASE);
		}
	}
}

void hw_front_check(struct hw_cpu *cpu, bool loud)
{
	struct hw_machine *m = cpu->m;
	for (unsigned j = 0; j < EMU_TLB_SIZE; j++) {
		struct emu_tlb_entry *f = &cpu->tlb.front[j];
		if (f->write_tag == EMU_TLB_INVALID)
			continue;
		const uintptr_t host = f->addend + (uintptr_t)(f->write_tag & ~4095ull);
		const uint64_t pfn = (uint64_t)(host - (uintptr_t)m->arena) >> 12;
		if (!hw_is_code_page(m, pfn))
			continue;
		__atomic_store_n(&f->write_tag, EMU_TLB_INVALID, __ATOMIC_RELEASE);
		if (loud && hw_is_code_page(m, pfn))
			hw_code_page_drop(m, cpu, pfn);
	}
}
