/*
 * exec_syscall.c — fast system calls: SYSCALL, SYSRET, SYSENTER, SYSEXIT
 * and SWAPGS (SDM Vol. 2B "Operation" of each; APM Vol. 3 SYSCALL/SYSRET
 * for the legacy and compatibility-mode forms only AMD has).
 *
 * None of them reads a descriptor: CS and SS are loaded with fixed flat
 * values derived from MSRs (STAR, SYSENTER_CS), exactly as the
 * "Operation" sections list them. The MSRs come through ops->rdmsr; with
 * no rdmsr op the instructions raise #UD.
 *
 * Vendor differences, decided by the CPUID vendor the model reports:
 *   SYSCALL/SYSRET outside 64-bit mode    Intel #UD, AMD legacy/CSTAR forms
 *   SYSENTER/SYSEXIT in IA-32e mode       Intel yes, AMD #UD
 */
#include "emulate/sys.h"

static bool is_amd(struct emu_ctx *ctx)
{
	uint32_t out[4];
	if (!ctx->ops->cpuid || ctx->ops->cpuid(ctx, 0, 0, out) != EMU_CONTINUE)
		return false;
	return out[1] == 0x68747541;	/* "Auth"enticAMD */
}

static bool ia32e(const struct emu_ctx *ctx)
{
	return ctx->cpu.efer & EMU_EFER_LMA;
}

static void flat(struct emu_segment *s, uint16_t sel, uint32_t ar)
{
	s->sel = sel;
	s->base = 0;
	s->limit = 0xffffffff;
	s->ar = ar;
}

static int rdmsr(struct emu_ctx *ctx, uint32_t msr, uint64_t *v)
{
	return ctx->ops->rdmsr(ctx, msr, v);
}

/* Load the flat CS/SS pair and the new CPL, then jump. */
static void enter(struct emu_ctx *ctx, uint16_t cs, bool cs64, unsigned cpl, uint64_t ip)
{
	flat(&ctx->cpu.seg[EMU_CS], cs, cs64 ? EMU_AR_CODE64(cpl) : EMU_AR_CODE32(cpl));
	flat(&ctx->cpu.seg[EMU_SS], (uint16_t)(cs + 8), EMU_AR_DATA32(cpl));
	ctx->cpu.cpl = (uint8_t)cpl;
	ctx->next_rip = ip;
	emu_mode_changed(ctx);
}

/* ------------------------------------------------------------ SYSCALL/SYSRET */

static int syscall_prologue(struct emu_ctx *ctx)
{
	if (!(ctx->cpu.efer & EMU_EFER_SCE) || !ctx->ops->rdmsr || !in_protected(ctx))
		return raise_ud(ctx);
	if (!in_long_mode(ctx) && !is_amd(ctx))
		return raise_ud(ctx);
	return EMU_CONTINUE;
}

/*
 * SYSCALL: RCX = return rip; in IA-32e mode R11 = RFLAGS, RFLAGS &=
 * ~FMASK and rip = LSTAR (64-bit mode) or CSTAR (compatibility mode);
 * AMD legacy mode: rip = STAR[31:0] and VM, IF, RF are cleared. CS =
 * STAR[47:32] & FFFC (flat, DPL 0), SS = CS + 8.
 */
EMU_HANDLER(syscall)
{
	uint64_t star, target, fmask = 0;

	TRY(syscall_prologue(ctx));
	TRY(rdmsr(ctx, EMU_MSR_STAR, &star));
	const uint16_t cs = (uint16_t)(star >> 32) & 0xfffc;
	if (ia32e(ctx)) {
		TRY(rdmsr(ctx, in_long_mode(ctx) ? EMU_MSR_LSTAR : EMU_MSR_CSTAR, &target));
		TRY(rdmsr(ctx, EMU_MSR_FMASK, &fmask));
		ctx->cpu.gpr[EMU_RCX] = ctx->next_rip;
		ctx->cpu.gpr[EMU_R11] = ctx->cpu.rflags & ~(uint64_t)EMU_FLAG_RF;
		ctx->cpu.rflags &= ~(fmask | EMU_FLAG_RF);
		ctx->cpu.rflags |= EMU_FLAG_FIXED;
		enter(ctx, cs, true, 0, target);
	} else {
		ctx->cpu.gpr[EMU_RCX] = (uint32_t)ctx->next_rip;
		ctx->cpu.rflags &= ~(uint64_t)(EMU_FLAG_VM | EMU_FLAG_IF | EMU_FLAG_RF);
		enter(ctx, cs, false, 0, (uint32_t)star);
	}
	return EMU_CONTINUE;
}

/*
 * SYSRET: CPL 0 only. REX.W returns to 64-bit mode (RCX must be
 * canonical, CS = STAR[63:48] + 16), else to compatibility mode
 * (CS = STAR[63:48]); RFLAGS = (R11 & 3C7FD7H) | 2. SS = STAR[63:48] + 8;
 * RPL 3 everywhere. AMD legacy mode: EIP = ECX, IF set.
 */
EMU_HANDLER(sysret)
{
	uint64_t star;

	TRY(syscall_prologue(ctx));
	if (ctx->cpu.cpl)
		return raise_gp0(ctx);
	TRY(rdmsr(ctx, EMU_MSR_STAR, &star));
	const uint16_t base = (uint16_t)(star >> 48);
	const bool to64 = ia32e(ctx) && insn->opsize == 8;
	const uint64_t rcx = ctx->cpu.gpr[EMU_RCX];
	if (to64 && !emu_is_canonical(rcx))
		return raise_gp0(ctx);
	if (ia32e(ctx))
		ctx->cpu.rflags = (ctx->cpu.gpr[EMU_R11] & 0x3c7fd7) | EMU_FLAG_FIXED;
	else
		ctx->cpu.rflags |= EMU_FLAG_IF;
	enter(ctx, (uint16_t)((to64 ? base + 16 : base) | 3), to64, 3,
	      to64 ? rcx : (uint32_t)rcx);
	ctx->cpu.seg[EMU_SS].sel = (uint16_t)((base + 8) | 3);
	return EMU_CONTINUE;
}

/* ------------------------------------------------------------ SYSENTER/SYSEXIT */

static int sysenter_cs(struct emu_ctx *ctx, uint64_t *cs)
{
	if (ia32e(ctx) && is_amd(ctx))
		return raise_ud(ctx);
	if (!ctx->ops->rdmsr)
		return raise_ud(ctx);
	if (!(ctx->cpu.cr0 & EMU_CR0_PE))
		return raise_gp0(ctx);
	TRY(rdmsr(ctx, EMU_MSR_SYSENTER_CS, cs));
	if (!(*cs & 0xfffc))
		return raise_gp0(ctx);
	return EMU_CONTINUE;
}

/*
 * SYSENTER: #GP(0) in real mode or with SYSENTER_CS[15:2] = 0; clears
 * VM, IF, RF; rSP/rIP from SYSENTER_ESP/EIP (32 bits outside IA-32e
 * mode); CS = SYSENTER_CS & FFFC (64-bit in IA-32e mode), SS = CS + 8.
 */
EMU_HANDLER(sysenter)
{
	uint64_t cs, sp, ip;

	TRY(sysenter_cs(ctx, &cs));
	TRY(rdmsr(ctx, EMU_MSR_SYSENTER_ESP, &sp));
	TRY(rdmsr(ctx, EMU_MSR_SYSENTER_EIP, &ip));
	if (!ia32e(ctx)) {
		sp = (uint32_t)sp;
		ip = (uint32_t)ip;
	}
	ctx->cpu.rflags &= ~(uint64_t)(EMU_FLAG_VM | EMU_FLAG_IF | EMU_FLAG_RF);
	ctx->cpu.gpr[EMU_RSP] = sp;
	enter(ctx, (uint16_t)cs & 0xfffc, ia32e(ctx), 0, ip);
	return EMU_CONTINUE;
}

/*
 * SYSEXIT: CPL 0 only. REX.W returns to 64-bit mode (RSP = RCX, RIP =
 * RDX, both canonical, CS = SYSENTER_CS + 32), else RSP = ECX, RIP = EDX,
 * CS = SYSENTER_CS + 16; RPL 3, SS = CS + 8.
 */
EMU_HANDLER(sysexit)
{
	uint64_t cs;
	const bool to64 = insn->opsize == 8;
	uint64_t sp = ctx->cpu.gpr[EMU_RCX], ip = ctx->cpu.gpr[EMU_RDX];

	TRY(sysenter_cs(ctx, &cs));
	if (ctx->cpu.cpl || in_vm86(ctx))
		return raise_gp0(ctx);
	if (to64 && (!emu_is_canonical(sp) || !emu_is_canonical(ip)))
		return raise_gp0(ctx);
	if (!to64) {
		sp = (uint32_t)sp;
		ip = (uint32_t)ip;
	}
	ctx->cpu.gpr[EMU_RSP] = sp;
	enter(ctx, (uint16_t)((cs + (to64 ? 32 : 16)) | 3), to64, 3, ip);
	return EMU_CONTINUE;
}

/* SWAPGS (64-bit mode only, decode.c): exchange GS.base and
 * IA32_KERNEL_GS_BASE. */
EMU_HANDLER(swapgs)
{
	uint64_t kgs;
	if (ctx->cpu.cpl)
		return raise_gp0(ctx);
	if (!ctx->ops->rdmsr || !ctx->ops->wrmsr)
		return raise_ud(ctx);
	TRY(ctx->ops->rdmsr(ctx, EMU_MSR_KERNEL_GS_BASE, &kgs));
	TRY(ctx->ops->wrmsr(ctx, EMU_MSR_KERNEL_GS_BASE, ctx->cpu.seg[EMU_GS].base));
	ctx->cpu.seg[EMU_GS].base = kgs;
	return EMU_CONTINUE;
}
