/*
 * dcode.c — dropping decoded code when its page is written (see dcode.h).
 */
#include "hw/dcode.h"

void hw_code_page_drop(struct hw_machine *m, uint64_t pfn)
{
	m->code_pages[pfn / 64] &= ~(1ull << (pfn % 64));
	for (unsigned i = 0; i < HW_MAX_CPUS; i++) {
		struct hw_cpu *cpu = m->cpus[i];
		if (!cpu)
			continue;
#ifdef CONFIG_EMU_DECODE_CACHE
		if (cpu->emu.dcache)
			emu_dcache_invalidate_page(cpu->emu.dcache, pfn << 12);
#endif
		cpu->cnt.smc_invalidations++;
		cpu->emu.key_epoch++;	/* its key must be taken (and marked) again */
	}
}

/*
 * A page starts holding decoded code: front-TLB write entries that lead
 * to it go, so the next write to it takes the slow path that drops the
 * code (hw/mem.c).
 */
void hw_code_page_mark(struct hw_machine *m, uint64_t pfn)
{
	m->code_pages[pfn / 64] |= 1ull << (pfn % 64);
	const uintptr_t host = (uintptr_t)(m->arena + (pfn << 12));
	for (unsigned i = 0; i < HW_MAX_CPUS; i++) {
		struct hw_cpu *cpu = m->cpus[i];
		if (!cpu)
			continue;
		for (unsigned j = 0; j < EMU_TLB_SIZE; j++) {
			struct emu_tlb_entry *f = &cpu->tlb.front[j];
			if (f->write_tag != EMU_TLB_INVALID &&
			    f->addend + (f->write_tag & ~4095ull) == host)
				f->write_tag = EMU_TLB_INVALID;
		}
	}
}
