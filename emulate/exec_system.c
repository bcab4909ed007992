/*
 * exec_system.c — privileged and system-state instructions: HLT, LGDT,
 * LIDT, SGDT, SIDT, INVLPG, INVPCID, INVD, WBINVD, CLFLUSH, RDMSR, WRMSR,
 * CPUID, RDTSC, RDTSCP, RDPID, the fences, PAUSE, VMCALL/VMMCALL (SDM
 * Vol. 2A-2C, each instruction's "Operation" and exception lists).
 *
 * State the executor does not model is reached through ops. TLB and
 * cache maintenance with no op is a no-op (a caller without a TLB has
 * nothing to flush); an instruction that must produce a value with no op
 * to produce it raises #UD, as on a CPU without the feature. LGDT, LIDT,
 * SGDT and SIDT ask ops->intercept after their privilege checks and
 * before touching memory (APM Vol. 2 15.7; SDM Vol. 3C 26.1.3,
 * descriptor-table exiting).
 */
#include "emulate/sys.h"

static int need_cpl0(struct emu_ctx *ctx)
{
	return ctx->cpu.cpl || in_vm86(ctx) ? raise_gp0(ctx) : EMU_CONTINUE;
}

/* HLT: rip moves past the instruction before the cpu halts. */
EMU_HANDLER(hlt)
{
	TRY(need_cpl0(ctx));
	if (ctx->ops->halt)
		TRY(ctx->ops->halt(ctx));
	ctx->cpu.rip = ctx->next_rip;
	return EMU_HALT;
}

/* ------------------------------------------------------------ descriptor tables */

/*
 * LGDT/LIDT m16&32 or m16&64: the limit, then the base: 8 bytes in 64-bit
 * mode, else 4 of which a 16-bit operand size keeps 24 bits.
 */
static int load_dtable(struct emu_ctx *ctx, const struct emu_insn *insn,
		       struct emu_dtable *t, enum emu_icpt icpt)
{
	const uint64_t ea = emu_ea(ctx, insn);
	const unsigned bsz = in_long_mode(ctx) ? 8 : 4;
	uint64_t limit, base;

	TRY(need_cpl0(ctx));
	TRY(emu_intercept(ctx, icpt));
	TRY(emu_read_mem(ctx, insn->seg, ea, &limit, 2));
	TRY(emu_read_mem(ctx, insn->seg, (ea + 2) & size_mask(insn->adsize), &base, bsz));
	if (!in_long_mode(ctx) && insn->opsize == 2)
		base &= 0xffffff;
	t->limit = (uint16_t)limit;
	t->base = base;
	return EMU_CONTINUE;
}

/*
 * SGDT/SIDT: the limit, then the base (8 bytes in 64-bit mode, else the
 * full 32 bits for both operand sizes, as the current SDM describes;
 * the 286-era 24-bit form is gone). CR4.UMIP: CPL 0 only.
 */
static int store_dtable(struct emu_ctx *ctx, const struct emu_insn *insn,
			const struct emu_dtable *t, enum emu_icpt icpt)
{
	const uint64_t ea = emu_ea(ctx, insn);
	const unsigned bsz = in_long_mode(ctx) ? 8 : 4;
	uint8_t buf[10];

	if ((ctx->cpu.cr4 & EMU_CR4_UMIP) && (ctx->cpu.cpl > 0 || in_vm86(ctx)))
		return raise_gp0(ctx);
	TRY(emu_intercept(ctx, icpt));
	memcpy(buf, &t->limit, 2);
	memcpy(buf + 2, &t->base, bsz);
	return emu_write_buf(ctx, insn->seg, ea, buf, 2 + bsz, 0);
}

EMU_HANDLER(lgdt) { return load_dtable(ctx, insn, &ctx->cpu.gdtr, EMU_ICPT_LGDT); }
EMU_HANDLER(lidt) { return load_dtable(ctx, insn, &ctx->cpu.idtr, EMU_ICPT_LIDT); }
EMU_HANDLER(sgdt) { return store_dtable(ctx, insn, &ctx->cpu.gdtr, EMU_ICPT_SGDT); }
EMU_HANDLER(sidt) { return store_dtable(ctx, insn, &ctx->cpu.idtr, EMU_ICPT_SIDT); }

/* ------------------------------------------------------------ TLB and caches */

/*
 * INVLPG m: the linear address of the operand, without limit checks; a
 * non-canonical address in 64-bit mode makes it a no-op (SDM INVLPG).
 */
EMU_HANDLER(invlpg)
{
	const uint64_t ea = emu_ea(ctx, insn);
	uint64_t la;

	TRY(need_cpl0(ctx));
	if (in_long_mode(ctx)) {
		la = ea;
		if (insn->seg == EMU_FS || insn->seg == EMU_GS)
			la += ctx->cpu.seg[insn->seg].base;
		if (!emu_is_canonical(la))
			return EMU_CONTINUE;
	} else {
		la = (ctx->cpu.seg[insn->seg].base + ea) & 0xffffffffull;
	}
	return ctx->ops->invlpg ? ctx->ops->invlpg(ctx, la) : EMU_CONTINUE;
}

/*
 * INVPCID r, m128 (SDM Vol. 2A INVPCID): type in the register, a
 * descriptor of PCID (bits 11:0; 63:12 reserved) and a linear address.
 *
 *   type > 3                                        #GP(0)
 *   descriptor bits 63:12 set                       #GP(0)
 *   type 0, address not canonical                   #GP(0)
 *   type 0 or 1, CR4.PCIDE = 0 and PCID != 0        #GP(0)
 */
EMU_HANDLER(invpcid)
{
	uint64_t desc[2];
	const uint64_t type = gpr_get(ctx, insn->reg, insn->opsize);

	if (in_vm86(ctx))
		return raise_ud(ctx);
	if (!ctx->ops->invpcid)
		return raise_ud(ctx);
	TRY(need_cpl0(ctx));
	TRY(emu_intercept(ctx, EMU_ICPT_INVPCID));
	TRY(emu_read_buf(ctx, insn->seg, emu_ea(ctx, insn), desc, 16, 0));
	if (type > 3 || (desc[0] >> 12))
		return raise_gp0(ctx);
	if (type == 0 && !emu_is_canonical(desc[1]))
		return raise_gp0(ctx);
	if (type <= 1 && !(ctx->cpu.cr4 & EMU_CR4_PCIDE) && desc[0])
		return raise_gp0(ctx);
	return ctx->ops->invpcid(ctx, (unsigned)type, desc[0], desc[1]);
}

static int cache_op(struct emu_ctx *ctx, enum emu_cache_op op)
{
	return ctx->ops->cache_op ? ctx->ops->cache_op(ctx, op) : EMU_CONTINUE;
}

EMU_HANDLER(invd)
{
	TRY(need_cpl0(ctx));
	return cache_op(ctx, EMU_CACHE_INVD);
}

EMU_HANDLER(wbinvd)
{
	TRY(need_cpl0(ctx));
	return cache_op(ctx, EMU_CACHE_WBINVD);
}

/* CLFLUSH m8: not privileged; the operand is checked like a byte read. */
EMU_HANDLER(clflush)
{
	uint64_t la;
	TRY(emu_linear(ctx, insn->seg, emu_ea(ctx, insn), 1, 0, &la));
	return cache_op(ctx, EMU_CACHE_CLFLUSH);
}

/* ------------------------------------------------------------ MSRs */

/* RDMSR/WRMSR: ECX names the MSR, EDX:EAX the value; the op raises
 * #GP(0) for MSRs the model does not have. */
EMU_HANDLER(rdmsr)
{
	uint64_t v;
	TRY(need_cpl0(ctx));
	if (!ctx->ops->rdmsr)
		return raise_ud(ctx);
	TRY(ctx->ops->rdmsr(ctx, (uint32_t)ctx->cpu.gpr[EMU_RCX], &v));
	ctx->cpu.gpr[EMU_RAX] = (uint32_t)v;
	ctx->cpu.gpr[EMU_RDX] = v >> 32;
	return EMU_CONTINUE;
}

EMU_HANDLER(wrmsr)
{
	const uint32_t msr = (uint32_t)ctx->cpu.gpr[EMU_RCX];
	const uint64_t v = (ctx->cpu.gpr[EMU_RDX] << 32) | (uint32_t)ctx->cpu.gpr[EMU_RAX];
	TRY(need_cpl0(ctx));
	if (!ctx->ops->wrmsr)
		return raise_ud(ctx);
	TRY(ctx->ops->wrmsr(ctx, msr, v));
	if (msr == EMU_MSR_EFER)
		emu_mode_changed(ctx);
	return EMU_CONTINUE;
}

/* ------------------------------------------------------------ CPUID, time */

EMU_HANDLER(cpuid)
{
	uint32_t out[4];
	if (!ctx->ops->cpuid)
		return raise_ud(ctx);
	TRY(ctx->ops->cpuid(ctx, (uint32_t)ctx->cpu.gpr[EMU_RAX],
			    (uint32_t)ctx->cpu.gpr[EMU_RCX], out));
	ctx->cpu.gpr[EMU_RAX] = out[0];
	ctx->cpu.gpr[EMU_RBX] = out[1];
	ctx->cpu.gpr[EMU_RCX] = out[2];
	ctx->cpu.gpr[EMU_RDX] = out[3];
	return EMU_CONTINUE;
}

/* CR4.TSD makes the time stamp counter CPL 0 only (vm86 runs at 3). */
static int read_tsc(struct emu_ctx *ctx, uint64_t *tsc)
{
	if ((ctx->cpu.cr4 & EMU_CR4_TSD) && (ctx->cpu.cpl > 0 || in_vm86(ctx)))
		return raise_gp0(ctx);
	if (!ctx->ops->rdtsc)
		return raise_ud(ctx);
	return ctx->ops->rdtsc(ctx, tsc);
}

EMU_HANDLER(rdtsc)
{
	uint64_t tsc;
	TRY(read_tsc(ctx, &tsc));
	ctx->cpu.gpr[EMU_RAX] = (uint32_t)tsc;
	ctx->cpu.gpr[EMU_RDX] = tsc >> 32;
	return EMU_CONTINUE;
}

/* RDTSCP: the TSC and IA32_TSC_AUX[31:0] in ECX. */
EMU_HANDLER(rdtscp)
{
	uint64_t tsc, aux;
	TRY(read_tsc(ctx, &tsc));
	if (!ctx->ops->rdmsr)
		return raise_ud(ctx);
	TRY(ctx->ops->rdmsr(ctx, EMU_MSR_TSC_AUX, &aux));
	ctx->cpu.gpr[EMU_RAX] = (uint32_t)tsc;
	ctx->cpu.gpr[EMU_RDX] = tsc >> 32;
	ctx->cpu.gpr[EMU_RCX] = (uint32_t)aux;
	return EMU_CONTINUE;
}

/* RDPID r32/r64: IA32_TSC_AUX, at any privilege. */
EMU_HANDLER(rdpid)
{
	uint64_t aux;
	if (!ctx->ops->rdmsr)
		return raise_ud(ctx);
	TRY(ctx->ops->rdmsr(ctx, EMU_MSR_TSC_AUX, &aux));
	gpr_set(ctx, insn->rm, insn->opsize, in_long_mode(ctx) ? aux : (uint32_t)aux);
	return EMU_CONTINUE;
}

/* ------------------------------------------------------------ hints, hypercalls */

/* LFENCE/MFENCE/SFENCE: the executor performs accesses in order. */
EMU_HANDLER(fence) { return EMU_CONTINUE; }

EMU_HANDLER(pause)
{
	return ctx->ops->pause ? ctx->ops->pause(ctx) : EMU_CONTINUE;
}

/* VMCALL (Intel) / VMMCALL (AMD): outside a VMM these are #UD. */
static int hypercall(struct emu_ctx *ctx)
{
	if (!ctx->ops->hypercall)
		return raise_ud(ctx);
	return ctx->ops->hypercall(ctx);
}

EMU_HANDLER(vmcall) { return hypercall(ctx); }
EMU_HANDLER(vmmcall) { return hypercall(ctx); }
