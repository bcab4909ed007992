/*
 * machine.c — see machine.h.
 */
#include <errno.h>

#include "backends/machine.h"

int backend_machine_create(struct hv_vm *vm, enum hw_vendor vendor)
{
	struct backend_vm *bvm = to_backend_vm(vm);
	struct hw_machine_config mc;
	const char *why = NULL;

	hw_machine_config_default(&mc, vendor);
	mc.arena_size = vm->arena_size;
	const struct hv_prices *p = &vm->cfg.prices;
	if (p->cpi_milli)
		mc.prices.cpi_milli = p->cpi_milli;
	if (p->exit_entry) {
		mc.prices.vmx_exit_entry = p->exit_entry;
		mc.prices.svm_exit_entry = p->exit_entry;
	}
	if (p->walk_ref)
		mc.prices.walk_ref = p->walk_ref;
	if (p->walk_cache_hit)
		mc.prices.walk_cache_hit = p->walk_cache_hit;
	int r = hw_machine_config_check(&mc, &why);
	if (r)
		return vm_err(r, "machine configuration: %s", why ? why : "invalid");
	r = hw_machine_create(&mc, &bvm->m);
	if (r)
		return vm_err(r, "cannot create the machine (%llu MiB of host-physical memory)",
			      (unsigned long long)(vm->arena_size >> 20));
	vm->arena = hw_hpa_ptr(bvm->m, 0, vm->arena_size);
	return 0;
}

void backend_machine_destroy(struct hv_vm *vm)
{
	struct backend_vm *bvm = to_backend_vm(vm);
	hw_machine_destroy(bvm->m);
	bvm->m = NULL;
	vm->arena = NULL;
}

void backend_hpa_written(struct hv_vm *vm, hpa_t hpa, size_t len)
{
	hw_hpa_written(to_backend_vm(vm)->m, hpa, len);
}

void backend_read_counters(struct hw_cpu *cpu, struct hv_hw_counters *c)
{
	const struct hw_counters *h = hw_cpu_counters(cpu);
	*c = (struct hv_hw_counters){
		.insns = h->insns, .halted_insns = h->halted_insns,
		.exits = h->exits, .entries = h->entries, .failed_entries = h->failed_entries,
		.tlb_hits = h->tlb_hits, .tlb_misses = h->tlb_misses,
		.tlb_flushes = h->tlb_flushes,
		.walk_refs = h->walk_refs, .walk_refs_2d = h->walk_refs_2d,
		.walk_cache_hits = h->walk_cache_hits,
		.exceptions = h->exceptions, .interrupts = h->interrupts,
		.smc_invalidations = h->smc_invalidations,
		.cycles = hw_cpu_cycles(cpu),
	};
}
