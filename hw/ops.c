/*
 * ops.c — the engine's non-memory ops on the model: control and debug
 * registers, MSRs, CPUID, time, TLB maintenance, port I/O, and the
 * events the engine reports (HLT, PAUSE, interrupt shadows, IRET).
 *
 * In guest mode every op first asks the virtualization layer whether
 * the operation is intercepted (hw/intercept.h): if so the exit is
 * recorded and the op returns EMU_STOP, leaving the instruction
 * unexecuted, which is where VM exits and #VMEXITs for instructions
 * happen (SDM Vol. 3C 26.1; APM Vol. 2 15.7). Otherwise the op does what
 * the processor does.
 */
#include <string.h>

#include "hw/cr.h"
#include "hw/intercept.h"
#include "hw/msr_access.h"
#include "hw/request.h"

static int op_get_cr(struct emu_ctx *ctx, unsigned cr, uint64_t *val)
{
	struct hw_cpu *cpu = to_hw_cpu(ctx);
	/* Only an instruction that reads the register (MOV from CR, SMSW)
	 * is a guest read the CR-read intercepts see (SDM Vol. 3C 26.1.3,
	 * APM Vol. 2 15.9). The executor's own look at CR3[11:0] before
	 * CR4.PCIDE 0 -> 1 (Vol. 3A 4.10.1) is the processor's and must not
	 * exit: under VMX shadow paging that "MOV from CR3" exit wrote CR3
	 * into the MOV to CR4's source and skipped the instruction. */
	if (ctx->insn->op == EMU_OP_MOV_FROM_CR || ctx->insn->op == EMU_OP_SMSW)
		TRY_ICPT(hw_icpt_cr_read(cpu, cr));
	switch (cr) {
	case 0: *val = hw_icpt_cr_shadowed(cpu, 0, ctx->cpu.cr0); return EMU_CONTINUE;
	case 2: *val = cpu->cr2; return EMU_CONTINUE;
	case 3: *val = cpu->cr3; return EMU_CONTINUE;
	case 4: *val = hw_icpt_cr_shadowed(cpu, 4, ctx->cpu.cr4); return EMU_CONTINUE;
	case 8: *val = cpu->cr8; return EMU_CONTINUE;
	}
	return emu_raise(ctx, EMU_EXC_UD, false, 0);
}


/* Reserved bits of CR3 and CR4 values the model refuses (#GP(0)). */
static bool cr_value_bad(const struct hw_cpu *cpu, unsigned cr, uint64_t val)
{
	if (cr == 4)
		return val & ~(hw_cr4_valid(cpu->m) | (cpu->guest == HW_GUEST_VMX ? HW_CR4_VMXE : 0));
	if (cr == 3)
		return (val & ~(1ull << 63)) >> HW_MAXPHYADDR;
	return false;
}

static int op_set_cr(struct emu_ctx *ctx, unsigned cr, uint64_t val)
{
	struct hw_cpu *cpu = to_hw_cpu(ctx);
	/* SVM checks a CR3/CR4 value before the intercept, VMX after its
	 * guest/host mask decided (APM Table 15-7; SDM 26.1.1). */
	if (cpu->guest == HW_GUEST_SVM && cr_value_bad(cpu, cr, val))
		return emu_raise(ctx, EMU_EXC_GP, true, 0);
	TRY_ICPT(hw_icpt_cr_write(cpu, cr, &val));
	if (cr != 8)
		hw_cpu_serialize(cpu);	/* MOV to CR8 is not serializing (SDM 9.3) */
	switch (cr) {
	case 0:
		return hw_set_cr0(cpu, val);
	case 2:
		cpu->cr2 = val;
		return EMU_CONTINUE;
	case 3:
		return hw_set_cr3(cpu, val);
	case 4:
		if (cr_value_bad(cpu, 4, val))
			return emu_raise(ctx, EMU_EXC_GP, true, 0);
		return hw_set_cr4(cpu, val);
	case 8:
		cpu->cr8 = val;
		return EMU_CONTINUE;
	}
	return emu_raise(ctx, EMU_EXC_UD, false, 0);
}

static int op_get_dr(struct emu_ctx *ctx, unsigned dr, uint64_t *val)
{
	struct hw_cpu *cpu = to_hw_cpu(ctx);
	TRY_ICPT(hw_icpt_dr(cpu, dr, false));
	*val = dr < 4 ? cpu->dr[dr] : dr == 6 ? cpu->dr6 : cpu->dr7;
	return EMU_CONTINUE;
}

/* DR6/DR7 fixed bits (SDM Vol. 3B 18.2.3, 18.2.4). */
static int op_set_dr(struct emu_ctx *ctx, unsigned dr, uint64_t val)
{
	struct hw_cpu *cpu = to_hw_cpu(ctx);
	TRY_ICPT(hw_icpt_dr(cpu, dr, true));
	if (dr < 4)
		cpu->dr[dr] = val;
	else if (dr == 6)
		cpu->dr6 = (val & 0x1e00f) | 0xffff0ff0;
	else
		cpu->dr7 = (val & 0xffff2bff) | 0x400;
	return EMU_CONTINUE;
}

static int op_rdmsr(struct emu_ctx *ctx, uint32_t msr, uint64_t *val)
{
	struct hw_cpu *cpu = to_hw_cpu(ctx);
	if (ctx->insn->op == EMU_OP_RDMSR)
		TRY_ICPT(hw_icpt_msr(cpu, msr, false));
	if (hw_msr_get(cpu, &ctx->cpu, msr, val))
		return emu_raise(ctx, EMU_EXC_GP, true, 0);
	if (msr == MSR_IA32_TSC)
		*val += hw_icpt_tsc_offset(cpu);
	return EMU_CONTINUE;
}

static int op_wrmsr(struct emu_ctx *ctx, uint32_t msr, uint64_t val)
{
	struct hw_cpu *cpu = to_hw_cpu(ctx);
	TRY_ICPT(hw_icpt_msr(cpu, msr, true));
	hw_cpu_serialize(cpu);
	if (msr == MSR_IA32_TSC)
		val -= hw_icpt_tsc_offset(cpu);
	if (hw_msr_set(cpu, &ctx->cpu, msr, val))
		return emu_raise(ctx, EMU_EXC_GP, true, 0);
	if (msr == MSR_IA32_EFER)
		hw_efer_changed(cpu);
	return EMU_CONTINUE;
}

static int op_cpuid(struct emu_ctx *ctx, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	struct hw_cpu *cpu = to_hw_cpu(ctx);
	TRY_ICPT(hw_icpt_insn(cpu, HW_ICPT_CPUID));
	hw_cpu_serialize(cpu);
	hw_cpuid(cpu, leaf, subleaf, out);
	return EMU_CONTINUE;
}

/* RDTSC and RDTSCP: modeled cycles, the TSC MSR's offset and the
 * guest's TSC offset (VMX TSC offsetting, SVM TSC_OFFSET). */
static int op_rdtsc(struct emu_ctx *ctx, uint64_t *tsc)
{
	struct hw_cpu *cpu = to_hw_cpu(ctx);
	TRY_ICPT(hw_icpt_insn(cpu, ctx->insn->op == EMU_OP_RDTSCP ? HW_ICPT_RDTSCP
							       : HW_ICPT_RDTSC));
	*tsc = hw_cpu_cycles(cpu) + cpu->msr.tsc_offset + hw_icpt_tsc_offset(cpu);
	return EMU_CONTINUE;
}

static int op_invlpg(struct emu_ctx *ctx, uint64_t la)
{
	struct hw_cpu *cpu = to_hw_cpu(ctx);
	TRY_ICPT(hw_icpt_invlpg(cpu, la));
	hw_cpu_serialize(cpu);
	hw_invlpg(cpu, la);
	return EMU_CONTINUE;
}

static int op_invpcid(struct emu_ctx *ctx, unsigned type, uint64_t pcid, uint64_t la)
{
	struct hw_cpu *cpu = to_hw_cpu(ctx);
	/* Intercepted before its descriptor is read (hw_op_intercept). */
	hw_cpu_serialize(cpu);
	hw_invpcid(cpu, type, pcid, la);
	return EMU_CONTINUE;
}

static int op_cache_op(struct emu_ctx *ctx, unsigned op)
{
	struct hw_cpu *cpu = to_hw_cpu(ctx);
	if (op == EMU_CACHE_INVD)
		TRY_ICPT(hw_icpt_insn(cpu, HW_ICPT_INVD));
	else if (op == EMU_CACHE_WBINVD)
		TRY_ICPT(hw_icpt_insn(cpu, HW_ICPT_WBINVD));
	/* The model has no caches to write back or drop; INVD and WBINVD
	 * serialize (CLFLUSH does not). */
	if (op != EMU_CACHE_CLFLUSH)
		hw_cpu_serialize(cpu);
	return EMU_CONTINUE;
}

/*
 * Port I/O that no intercept claims reaches the platform's ports, and
 * the model's platform has no devices on any port: reads float high
 * (all ones), writes go nowhere, as on a bus with nothing decoding.
 */
static int op_pio_in(struct emu_ctx *ctx, uint16_t port, void *val, unsigned size)
{
	struct hw_cpu *cpu = to_hw_cpu(ctx);
	TRY_ICPT(hw_icpt_io(cpu, port, size, true));
	memset(val, 0xff, size);
	return EMU_CONTINUE;
}

static int op_pio_out(struct emu_ctx *ctx, uint16_t port, const void *val, unsigned size)
{
	struct hw_cpu *cpu = to_hw_cpu(ctx);
	TRY_ICPT(hw_icpt_io(cpu, port, size, false));
	return EMU_CONTINUE;
}

static int op_halt(struct emu_ctx *ctx)
{
	struct hw_cpu *cpu = to_hw_cpu(ctx);
	TRY_ICPT(hw_icpt_insn(cpu, HW_ICPT_HLT));
	return EMU_CONTINUE;
}

static int op_hypercall(struct emu_ctx *ctx)
{
	struct hw_cpu *cpu = to_hw_cpu(ctx);
	TRY_ICPT(hw_icpt_insn(cpu, HW_ICPT_HYPERCALL));
	/* Not intercepted: VMCALL outside VMX non-root and VMMCALL outside
	 * an intercepting SVM guest raise #UD (SDM VMCALL; APM VMMCALL). */
	return emu_raise(ctx, EMU_EXC_UD, false, 0);
}

static int op_pause(struct emu_ctx *ctx)
{
	struct hw_cpu *cpu = to_hw_cpu(ctx);
	TRY_ICPT(hw_icpt_insn(cpu, HW_ICPT_PAUSE));
	return EMU_CONTINUE;
}

static void op_set_shadow(struct emu_ctx *ctx, bool mov_ss)
{
	struct hw_cpu *cpu = to_hw_cpu(ctx);
	cpu->ev.shadow = mov_ss ? HW_SHADOW_MOVSS : HW_SHADOW_STI;
	cpu->ev.shadow_at = ctx->icount + 1;
}

static void op_mode_changed(struct emu_ctx *ctx)
{
	hw_xlat_update(to_hw_cpu(ctx));
	ctx->key_epoch++;	/* CPL may have changed: fetch rights too */
}

const struct emu_ops hw_emu_ops = {
	.read = hw_mem_read,
	.write = hw_mem_write,
	.cmpxchg = hw_mem_cmpxchg,
	.fetch = hw_mem_fetch,
	.code_key = hw_mem_code_key,
	.pio_in = op_pio_in,
	.pio_out = op_pio_out,
	.get_cr = op_get_cr,
	.set_cr = op_set_cr,
	.get_dr = op_get_dr,
	.set_dr = op_set_dr,
	.rdmsr = op_rdmsr,
	.wrmsr = op_wrmsr,
	.cpuid = op_cpuid,
	.rdtsc = op_rdtsc,
	.invlpg = op_invlpg,
	.invpcid = op_invpcid,
	.cache_op = op_cache_op,
	.halt = op_halt,
	.hypercall = op_hypercall,
	.pause = op_pause,
	.set_shadow = op_set_shadow,
	.mode_changed = op_mode_changed,
	.iret = hw_op_iret,
	.rdpmc = hw_op_rdpmc,
	.monitor = hw_op_monitor,
	.mwait = hw_op_mwait,
	.virt_insn = hw_op_virt_insn,
	.intercept = hw_op_intercept,
	.dr7_gd = hw_op_dr7_gd,
};
