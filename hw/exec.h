/*
 * exec.h — the guest execution machinery inside hw/: the engine's ops
 * (hw/mem.c for memory, hw/ops.c for the rest), translation (hw/xlat.c),
 * the run loop and event delivery (hw/run.c, hw/event.c).
 */
#ifndef HVLAB_HW_EXEC_H
#define HVLAB_HW_EXEC_H

#include "hw/cpu.h"

extern const struct emu_ops hw_emu_ops;

/* The memory ops (hw/mem.c), as struct emu_ops describes them. */
int hw_mem_read(struct emu_ctx *ctx, uint64_t la, void *buf, unsigned size, unsigned acc);
int hw_mem_write(struct emu_ctx *ctx, uint64_t la, const void *buf, unsigned size,
		 unsigned acc);
int hw_mem_cmpxchg(struct emu_ctx *ctx, uint64_t la, void *old, const void *new,
		   unsigned size);
int hw_mem_fetch(struct emu_ctx *ctx, uint64_t la, void *buf, unsigned size);
bool hw_mem_code_key(struct emu_ctx *ctx, uint64_t la, uint64_t *key);

/* The ops of instructions that exist mostly to be intercepted
 * (hw/insn_icpt.c). */
int hw_op_rdpmc(struct emu_ctx *ctx, uint32_t ecx, uint64_t *val);
int hw_op_monitor(struct emu_ctx *ctx, uint64_t la, uint32_t ecx, uint32_t edx);
int hw_op_mwait(struct emu_ctx *ctx, uint32_t eax, uint32_t ecx);
int hw_op_virt_insn(struct emu_ctx *ctx, const struct emu_insn *insn);
int hw_op_intercept(struct emu_ctx *ctx, unsigned what);
void hw_op_iret(struct emu_ctx *ctx);
bool hw_op_dr7_gd(struct emu_ctx *ctx);

/* ---------------------------------------------------------- translation */

/*
 * Recompute the guest paging configuration (cpu->xlat.pg) and the TLB
 * tag from CR0, CR3, CR4 and EFER, after any of them changed. The
 * nested part and the VPID/ASID are set at VM entry.
 */
void hw_xlat_update(struct hw_cpu *cpu);

/*
 * Load the four PAE PDPTEs from @cr3 (SDM Vol. 3A 4.4.1) into
 * cpu->xlat.pg.pdpte, through the nested tables if any. Returns
 * EMU_CONTINUE, EMU_EXCEPTION (#GP(0): a reserved bit is set in a present
 * PDPTE) or EMU_STOP (a nested fault became a VM exit).
 */
int hw_load_pdptes(struct hw_cpu *cpu, uint64_t cr3);

/*
 * Translate linear @la for an access of the engine's kind @acc
 * (EMU_ACC_*), through the TLB, walking on a miss. On success *hpa is
 * the host-physical address and the result EMU_CONTINUE; otherwise the
 * #PF has been raised (EMU_EXCEPTION) or the nested fault recorded as a
 * VM exit (EMU_STOP).
 */
int hw_translate(struct hw_cpu *cpu, uint64_t la, unsigned acc, hpa_t *hpa);

/* ---------------------------------------------------------- running */

/*
 * Run the loaded guest until an exit is recorded (cpu->exit.pending) or
 * the model meets something it does not implement (cpu->unsupported).
 * VMLAUNCH/VMRESUME and VMRUN call it between loading and saving state.
 */
void hw_guest_run(struct hw_cpu *cpu);

/* The instruction clock: retired plus skipped-while-halted slots. */
static inline uint64_t hw_clock(const struct hw_cpu *cpu)
{
	return cpu->cnt.insns + cpu->cnt.halted_insns;
}

/* Fold the engine's own counts (front-TLB hits) into cpu->cnt. */
void hw_cpu_sync_counters(struct hw_cpu *cpu);

/* Acknowledge the pending external interrupt (host timer first). */
void hw_intr_ack(struct hw_cpu *cpu);

/* Stop the guest: the model does not implement what it asked for. */
int hw_unsupported(struct hw_cpu *cpu, const char *why);

/* Record a VM exit with @reason and @qual; returns EMU_STOP. */
int hw_exit(struct hw_cpu *cpu, uint64_t reason, uint64_t qual);

/* Record the VM exit a failed walk or nested fault @w on @la asks for. */
int hw_exit_nested(struct hw_cpu *cpu, const struct hw_walk *w, uint64_t la);

#endif
