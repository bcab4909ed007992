/*
 * cpu.c — creating a processor and its power-on state (SDM Vol. 3A 9.1,
 * Table 9-1; APM Vol. 2 14.1.3).
 *
 * A new processor is in the state RESET leaves it in, outside VMX/SVM
 * operation. Its decode cache and TLB are its own; its arena and
 * configuration are the machine's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hw/cpu.h"
#include "hw/exec.h"
#include "hw/request.h"

/* IA32_PAT power-on value (SDM Vol. 3A 12.12.4): WB WT UC- UC, twice. */
#define PAT_RESET 0x0007040600070406ull
/* IA32_APIC_BASE (SDM Vol. 3A 11.4.4): base 0xfee00000, enabled (11),
 * BSP (8) on the bootstrap processor. */
#define APIC_BASE_RESET 0xfee00000ull
#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_BSP (1ull << 8)

/*
 * The host's registers: hvlab is a 64-bit program, so the processor's
 * root state is 64-bit mode at CPL 0 with paging on (CR0 PE MP ET NE WP
 * PG, CR4 PAE PGE, EFER SCE LME LMA NXE), flat segments. VMXON and VMRUN
 * check this state; the host sets CR4.VMXE / EFER.SVME itself.
 */
static void host_state(struct emu_cpu *h)
{
	emu_cpu_reset(h);
	h->cr0 = 0x80050033ull;
	h->cr4 = (1ull << 5) | (1ull << 7);
	h->efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
	h->rflags = EMU_FLAG_FIXED;
	for (unsigned i = 0; i < EMU_NR_SREGS; i++) {
		h->seg[i] = (struct emu_segment){ .sel = i == EMU_CS ? 0x10 : 0x18,
						  .base = 0, .limit = 0xffffffff,
						  .ar = 0x93u | EMU_AR_DB | EMU_AR_G };
	}
	h->seg[EMU_CS].ar = 0x9bu | EMU_AR_L | EMU_AR_G;
	h->tr = (struct emu_segment){ .sel = 0x40, .limit = 0x67, .ar = 0x8bu };
	h->cpl = 0;
}

/* Power-on state of the guest registers and everything outside emu_cpu. */
static void cpu_reset_state(struct hw_cpu *cpu)
{
	emu_cpu_reset(&cpu->emu.cpu);
	host_state(&cpu->host);
	cpu->cr2 = cpu->cr3 = cpu->cr8 = 0;
	memset(cpu->dr, 0, sizeof(cpu->dr));
	cpu->dr6 = 0xffff0ff0;		/* SDM Table 9-1 */
	cpu->dr7 = 0x400;
	memset(&cpu->msr, 0, sizeof(cpu->msr));
	cpu->msr.pat = PAT_RESET;
	cpu->msr.apic_base = APIC_BASE_RESET | APIC_BASE_ENABLE |
			     (cpu->id == 0 ? APIC_BASE_BSP : 0);
	cpu->msr.misc_enable = 1;	/* fast strings */
	cpu->guest = HW_HOST;
	memset(&cpu->ev, 0, sizeof(cpu->ev));
	cpu->deadline = UINT64_MAX;
	cpu->vmx.on = false;
	cpu->vmx.vmxon_region = INVALID_HPA;
	cpu->vmx.current_vmcs = INVALID_HPA;
	cpu->svm.gif = true;
	memset(&cpu->xlat, 0, sizeof(cpu->xlat));
	hw_tlb_flush_all(&cpu->tlb);
}

/* A free slot of m->cpus for a processor with APIC ID @id, or -errno.
 * Under m->cpus_lock. */
static int find_slot(struct hw_machine *m, unsigned id)
{
	int slot = -ENOSPC;
	for (unsigned i = 0; i < HW_MAX_CPUS; i++) {
		const struct hw_cpu *c = m->cpus[i];
		if (c && c->id == id)
			return -EEXIST;
		if (!c && slot < 0)
			slot = (int)i;
	}
	return slot;
}

/*
 * The processor is complete before it is published: other processors
 * find it in m->cpus (acquire) and read its front TLB and requests
 * (hw/dcode.c). The lock only orders creators and destroyers.
 */
int hw_cpu_create(struct hw_machine *m, unsigned id, struct hw_cpu **out)
{
	hw_spin_lock(&m->cpus_lock);
	int r = find_slot(m, id);
	hw_spin_unlock(&m->cpus_lock);
	if (r < 0)
		return r;
	struct hw_cpu *cpu = calloc(1, sizeof(*cpu));
	if (!cpu)
		return -ENOMEM;
	cpu->m = m;
	cpu->id = id;
	r = hw_tlb_init(&cpu->tlb, &m->cfg.tlb);
	if (r)
		goto err_free;
#ifdef CONFIG_EMU_DECODE_CACHE
	cpu->emu.dcache = emu_dcache_create(CONFIG_EMU_DECODE_CACHE_BITS);
	if (!cpu->emu.dcache) {
		r = -ENOMEM;
		goto err_tlb;
	}
#endif
	cpu->emu.ops = &hw_emu_ops;
	cpu->emu.tlb = cpu->tlb.front;
	cpu->tlb.epoch = &cpu->emu.key_epoch;
	cpu->emu.key_page_la = ~0ull;
	cpu_reset_state(cpu);
	hw_spin_lock(&m->cpus_lock);
	r = find_slot(m, id);	/* again: another creator may have come */
	if (r >= 0)
		__atomic_store_n(&m->cpus[r], cpu, __ATOMIC_RELEASE);
	hw_spin_unlock(&m->cpus_lock);
	if (r < 0)
		goto err_dcache;
	*out = cpu;
	return 0;

err_dcache:
#ifdef CONFIG_EMU_DECODE_CACHE
	emu_dcache_destroy(cpu->emu.dcache);
err_tlb:
#endif
	hw_tlb_free(&cpu->tlb);
err_free:
	free(cpu);
	return r;
}

void hw_cpu_destroy(struct hw_cpu *cpu)
{
	if (!cpu)
		return;
	struct hw_machine *m = cpu->m;
	hw_spin_lock(&m->cpus_lock);
	for (unsigned i = 0; i < HW_MAX_CPUS; i++)
		if (m->cpus[i] == cpu)
			__atomic_store_n(&m->cpus[i], NULL, __ATOMIC_RELEASE);
	hw_spin_unlock(&m->cpus_lock);
#ifdef CONFIG_EMU_DECODE_CACHE
	emu_dcache_destroy(cpu->emu.dcache);
#endif
	hw_tlb_free(&cpu->tlb);
	free(cpu);
}

const char *hw_cpu_unsupported(const struct hw_cpu *cpu)
{
	return cpu->unsupported;
}

uint64_t *hw_cpu_gprs(struct hw_cpu *cpu)
{
	return cpu->emu.cpu.gpr;
}

/* Front-TLB hits are TLB hits the engine counted on its own; code drops
 * other threads asked for count when they were asked (hw/request.c). */
void hw_cpu_sync_counters(struct hw_cpu *cpu)
{
	cpu->cnt.tlb_hits += cpu->emu.tlb_hits;
	cpu->emu.tlb_hits = 0;
	cpu->cnt.smc_invalidations += __atomic_exchange_n(&cpu->req.smc_posted, 0,
							  __ATOMIC_RELAXED);
}

const struct hw_counters *hw_cpu_counters(struct hw_cpu *cpu)
{
	hw_cpu_sync_counters(cpu);
	return &cpu->cnt;
}
