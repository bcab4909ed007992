/*
 * cost.c — modeled cycles: the counters priced (cost.h). The formula is
 * deliberately a plain sum so every term can be read off the counters:
 *
 *   cycles = (insns + halted_insns) * cpi_milli / 1000
 *          + exits * exit_entry (VMX or SVM price by the machine's vendor)
 *          + walk_refs * walk_ref
 *          + walk_cache_hits * walk_cache_hit
 */
#include "hw/cpu.h"

void hw_machine_set_prices(struct hw_machine *m, const struct hw_prices *prices)
{
	m->cfg.prices = *prices;
}

uint64_t hw_cpu_cycles(const struct hw_cpu *cpu)
{
	const struct hw_prices *p = &cpu->m->cfg.prices;
	const struct hw_counters *c = &cpu->cnt;
	const uint64_t exit_price = cpu->m->cfg.vendor == HW_VENDOR_AMD ?
				    p->svm_exit_entry : p->vmx_exit_entry;

	/* Instructions of a batch still running count too (run.c). */
	const uint64_t insns = c->insns + (cpu->emu.icount - cpu->batch_icount);

	return (insns + c->halted_insns) * p->cpi_milli / 1000 +
	       c->exits * exit_price +
	       c->walk_refs * p->walk_ref +
	       c->walk_cache_hits * p->walk_cache_hit;
}
