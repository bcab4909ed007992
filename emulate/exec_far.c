/*
 * exec_far.c — far JMP, CALL, RET and IRET: every transfer that loads CS
 * (SDM Vol. 2A CALL, JMP, IRET; Vol. 2B RET "Operation"; Vol. 3A 5.8
 * privilege level checks when transferring program control, 5.8.5-5.8.6
 * call gates and stack switching, 7.3 task switching, 20.3 leaving
 * virtual-8086 mode).
 *
 * Each handler mirrors the SDM's Operation labels: REAL-ADDRESS-MODE,
 * CONFORMING-CODE-SEGMENT, NONCONFORMING-CODE-SEGMENT, CALL-GATE
 * (MORE-PRIVILEGE / SAME-PRIVILEGE), RETURN-TO-SAME/OUTER-PRIVILEGE-LEVEL,
 * RETURN-TO-VIRTUAL-8086-MODE. Every check runs before any state
 * changes; pushes onto a new stack run against a snapshot of the cpu
 * that is restored if one faults. Task gates and TSS targets, and IRET
 * with NT = 1 outside IA-32e mode, are task switches: EMU_UNHANDLEABLE
 * with reason "task switch" (hw/ implements them).
 */
#include "emulate/sys.h"

#define FLAGS_ALL 0x3f7fd5ull	/* every defined RFLAGS bit but bit 1 */

static bool ia32e(const struct emu_ctx *ctx)
{
	return ctx->cpu.efer & EMU_EFER_LMA;
}

static bool desc_l(const struct emu_desc *d) { return d->hi & (1u << 21); }
static bool desc_d(const struct emu_desc *d) { return d->hi & (1u << 22); }
static bool conforming(const struct emu_desc *d)
{
	return emu_desc_type(d) & EMU_TYPE_CE;
}

/* Does a transfer through code descriptor @d land in 64-bit mode? */
static bool to_64bit(const struct emu_ctx *ctx, const struct emu_desc *d)
{
	return ia32e(ctx) && desc_l(d);
}

/* The new instruction pointer must be canonical (64-bit target) or
 * within the new CS limit: #GP(0). */
static int check_ip(struct emu_ctx *ctx, const struct emu_desc *d, uint64_t ip)
{
	if (to_64bit(ctx, d) ? !emu_is_canonical(ip) : ip > emu_desc_limit(d))
		return raise_gp0(ctx);
	return EMU_CONTINUE;
}

static void commit_cs(struct emu_ctx *ctx, const struct emu_desc *d,
		      uint16_t sel, unsigned cpl, uint64_t ip)
{
	emu_desc_to_seg(d, (uint16_t)((sel & ~3u) | cpl), &ctx->cpu.seg[EMU_CS]);
	ctx->cpu.cpl = (uint8_t)cpl;
	ctx->next_rip = ip;
	emu_mode_changed(ctx);
}

/* A task switch: not performed, reported (emulate.h task_switch). */
static int task_switch(struct emu_ctx *ctx, unsigned source, uint16_t sel)
{
	ctx->unhandleable = "task switch";
	ctx->task_switch.valid = true;
	ctx->task_switch.source = (uint8_t)source;
	ctx->task_switch.sel = sel;
	return EMU_UNHANDLEABLE;
}

/* Push the return address CS:rIP (@size each) on the current stack;
 * rSP is restored if the second push faults. */
static int push_return(struct emu_ctx *ctx, unsigned size)
{
	const uint64_t sp = ctx->cpu.gpr[EMU_RSP];
	int r = emu_push(ctx, ctx->cpu.seg[EMU_CS].sel, size);
	if (r == EMU_CONTINUE)
		r = emu_push(ctx, ctx->next_rip, size);
	if (r != EMU_CONTINUE)
		ctx->cpu.gpr[EMU_RSP] = sp;
	return r;
}

/* ------------------------------------------------------------ real mode, vm86 */

static int real_far(struct emu_ctx *ctx, const struct emu_insn *insn,
		    uint16_t sel, uint64_t off, bool call)
{
	const unsigned os = insn->opsize;
	off &= size_mask(os);
	/* The limit of CS is not reloaded in real mode (vm86: 64 KiB). */
	if (off > (in_vm86(ctx) ? 0xffff : ctx->cpu.seg[EMU_CS].limit))
		return raise_gp0(ctx);
	if (call)
		TRY(push_return(ctx, os));
	emu_real_seg(ctx, &ctx->cpu.seg[EMU_CS], sel);
	ctx->next_rip = off;
	emu_mode_changed(ctx);
	return EMU_CONTINUE;
}

/* ------------------------------------------------------------ code segments */

/* CONFORMING-CODE-SEGMENT and NONCONFORMING-CODE-SEGMENT of JMP/CALL. */
static int far_code(struct emu_ctx *ctx, const struct emu_insn *insn, uint16_t sel,
		    struct emu_desc *d, uint64_t off, bool call)
{
	const unsigned cpl = ctx->cpu.cpl, dpl = emu_desc_dpl(d);

	if (ia32e(ctx) && desc_l(d) && desc_d(d))
		return emu_raise_sel(ctx, EMU_EXC_GP, sel);
	if (conforming(d) ? dpl > cpl : (EMU_SEL_RPL(sel) > cpl || dpl != cpl))
		return emu_raise_sel(ctx, EMU_EXC_GP, sel);
	if (!emu_desc_present(d))
		return emu_raise_sel(ctx, EMU_EXC_NP, sel);
	if (insn->opsize == 2)
		off &= 0xffff;
	else if (call && !to_64bit(ctx, d))
		off &= 0xffffffffull;
	TRY(check_ip(ctx, d, off));
	TRY(emu_desc_set_accessed(ctx, d));
	if (call)
		TRY(push_return(ctx, insn->opsize));
	commit_cs(ctx, d, sel, cpl, off);
	return EMU_CONTINUE;
}

/* ------------------------------------------------------------ call gates */

/*
 * The inner stack for CPL @dpl from the current TSS (MORE-PRIVILEGE):
 * 64-bit TSS RSPn at 4 + 8n (SS is a null selector with RPL n), 32-bit
 * ESPn/SSn at 4 + 8n, 16-bit SPn/SSn at 2 + 4n. Beyond the TSS limit:
 * #TS(TSS selector).
 */
static int tss_stack(struct emu_ctx *ctx, unsigned dpl, uint16_t *ss, uint64_t *sp)
{
	const struct emu_segment *tr = &ctx->cpu.tr;
	const unsigned type = EMU_AR_TYPE(tr->ar);
	uint64_t v = 0, s = 0;
	unsigned off, spsz;

	if (ia32e(ctx)) {
		off = dpl * 8 + 4;
		spsz = 8;
	} else if (type == EMU_DT_TSS_AVL || type == EMU_DT_TSS_BUSY) {
		off = dpl * 8 + 4;
		spsz = 4;
	} else {
		off = dpl * 4 + 2;
		spsz = 2;
	}
	if (off + spsz + (ia32e(ctx) ? 0 : 2) - 1 > tr->limit)
		return emu_raise_sel(ctx, EMU_EXC_TS, tr->sel);
	TRY(la_read(ctx, tr->base + off, &v, spsz, EMU_ACC_SYS));
	if (ia32e(ctx))
		s = dpl;
	else
		TRY(la_read(ctx, tr->base + off + spsz, &s, 2, EMU_ACC_SYS));
	*ss = (uint16_t)s;
	*sp = v;
	return EMU_CONTINUE;
}

/* CALL-GATE, MORE-PRIVILEGE: switch to the inner stack, copy the
 * parameters, push the caller's SS:rSP and CS:rIP. */
static int gate_more_privilege(struct emu_ctx *ctx, const struct emu_desc *gate,
			       struct emu_desc *cd, uint16_t csel, uint64_t ip,
			       unsigned gsize)
{
	const unsigned dpl = emu_desc_dpl(cd);
	const bool lm = ia32e(ctx);
	struct emu_desc ssd;
	uint64_t sp = 0, params[31];
	uint16_t ss = 0;

	TRY(tss_stack(ctx, dpl, &ss, &sp));
	if (!lm) {
		if (!(ss & 0xfffc))
			return emu_raise_sel(ctx, EMU_EXC_TS, ss);
		TRY(emu_read_desc(ctx, ss, false, EMU_EXC_TS, &ssd));
		if (EMU_SEL_RPL(ss) != dpl || emu_desc_dpl(&ssd) != dpl ||
		    !emu_desc_is_data(&ssd) || !(emu_desc_type(&ssd) & EMU_TYPE_RW))
			return emu_raise_sel(ctx, EMU_EXC_TS, ss);
		if (!emu_desc_present(&ssd))
			return emu_raise_sel(ctx, EMU_EXC_SS, ss);
	}
	/* Parameters: a 5-bit count of gate-size words (none for 64-bit). */
	const unsigned nparams = lm ? 0 : gate->hi & 0x1f;
	for (unsigned i = 0; i < nparams; i++)
		TRY(emu_stack_peek(ctx, i * gsize, &params[i], gsize));

	const struct emu_cpu saved = ctx->cpu;
	const enum emu_mode saved_mode = ctx->mode;
	int r = EMU_CONTINUE;

	ctx->cpu.cpl = (uint8_t)dpl;
	if (lm) {
		emu_null_seg(&ctx->cpu.seg[EMU_SS], ss);
		ctx->cpu.seg[EMU_SS].ar |= dpl << 5;
		ctx->mode = EMU_MODE_64;
	} else {
		emu_desc_to_seg(&ssd, ss, &ctx->cpu.seg[EMU_SS]);
	}
	ctx->cpu.gpr[EMU_RSP] = sp;
	r = emu_push(ctx, saved.seg[EMU_SS].sel, gsize);
	if (r == EMU_CONTINUE)
		r = emu_push(ctx, saved.gpr[EMU_RSP], gsize);
	for (unsigned i = nparams; i-- > 0 && r == EMU_CONTINUE;)
		r = emu_push(ctx, params[i], gsize);
	if (r == EMU_CONTINUE)
		r = emu_push(ctx, saved.seg[EMU_CS].sel, gsize);
	if (r == EMU_CONTINUE)
		r = emu_push(ctx, ctx->next_rip, gsize);
	ctx->mode = saved_mode;
	if (r == EMU_EXCEPTION && ctx->exc.vector == EMU_EXC_SS)
		ctx->exc.error_code = EMU_SEL_ERR(ss);	/* #SS(NewSS) */
	if (r == EMU_CONTINUE)
		r = check_ip(ctx, cd, ip);
	if (r == EMU_CONTINUE && !lm)
		r = emu_desc_set_accessed(ctx, &ssd);
	if (r == EMU_CONTINUE)
		r = emu_desc_set_accessed(ctx, cd);
	if (r != EMU_CONTINUE) {
		ctx->cpu = saved;
		return r;
	}
	commit_cs(ctx, cd, csel, dpl, ip);
	return EMU_CONTINUE;
}

/* CALL-GATE of JMP and CALL (16-, 32- and 64-bit gates). */
static int far_gate(struct emu_ctx *ctx, uint16_t sel, const struct emu_desc *gate,
		    bool call)
{
	const unsigned cpl = ctx->cpu.cpl, gdpl = emu_desc_dpl(gate);
	const bool lm = ia32e(ctx);
	const unsigned gsize = lm ? 8 : emu_desc_type(gate) == EMU_DT_CALLGATE16 ? 2 : 4;
	const uint16_t csel = (uint16_t)(gate->lo >> 16);
	struct emu_desc cd;
	uint64_t ip;

	if (gdpl < cpl || gdpl < EMU_SEL_RPL(sel))
		return emu_raise_sel(ctx, EMU_EXC_GP, sel);
	if (!emu_desc_present(gate))
		return emu_raise_sel(ctx, EMU_EXC_NP, sel);
	if (!(csel & 0xfffc))
		return raise_gp0(ctx);
	TRY(emu_read_desc(ctx, csel, false, EMU_EXC_GP, &cd));
	const unsigned dpl = emu_desc_dpl(&cd);
	if (!emu_desc_is_code(&cd) ||
	    (call ? dpl > cpl : conforming(&cd) ? dpl > cpl : dpl != cpl))
		return emu_raise_sel(ctx, EMU_EXC_GP, csel);
	if (lm && (!desc_l(&cd) || desc_d(&cd)))
		return emu_raise_sel(ctx, EMU_EXC_GP, csel);
	if (!emu_desc_present(&cd))
		return emu_raise_sel(ctx, EMU_EXC_NP, csel);

	ip = (gate->lo & 0xffff) | (gate->hi & 0xffff0000u) |
	     ((uint64_t)gate->base_hi << 32);
	if (gsize == 2)
		ip &= 0xffff;
	if (call && !conforming(&cd) && dpl < cpl)
		return gate_more_privilege(ctx, gate, &cd, csel, ip, gsize);

	/* SAME-PRIVILEGE */
	TRY(check_ip(ctx, &cd, ip));
	TRY(emu_desc_set_accessed(ctx, &cd));
	if (call)
		TRY(push_return(ctx, gsize));
	commit_cs(ctx, &cd, csel, cpl, ip);
	return EMU_CONTINUE;
}

/* Protected mode (and IA-32e mode) far JMP/CALL: dispatch on the
 * descriptor type. */
static int prot_far(struct emu_ctx *ctx, const struct emu_insn *insn,
		    uint16_t sel, uint64_t off, bool call)
{
	const bool lm = ia32e(ctx);
	struct emu_desc d;

	if (!(sel & 0xfffc))
		return raise_gp0(ctx);
	TRY(emu_read_desc(ctx, sel, lm, EMU_EXC_GP, &d));
	if (emu_desc_is_code(&d))
		return far_code(ctx, insn, sel, &d, off, call);
	if (emu_desc_is_data(&d))
		return emu_raise_sel(ctx, EMU_EXC_GP, sel);
	switch (emu_desc_type(&d)) {
	case EMU_DT_CALLGATE:
		return far_gate(ctx, sel, &d, call);
	case EMU_DT_CALLGATE16:
		if (!lm)
			return far_gate(ctx, sel, &d, call);
		break;
	case EMU_DT_TASKGATE:
	case EMU_DT_TSS16_AVL:
	case EMU_DT_TSS_AVL:
		if (lm)
			break;
		if (emu_desc_dpl(&d) < ctx->cpu.cpl || emu_desc_dpl(&d) < EMU_SEL_RPL(sel))
			return emu_raise_sel(ctx, EMU_EXC_GP, sel);
		if (!emu_desc_present(&d))
			return emu_raise_sel(ctx, EMU_EXC_NP, sel);
		/* A task gate names its TSS in bits 31:16. */
		return task_switch(ctx, call ? EMU_TS_CALL : EMU_TS_JMP,
				   emu_desc_type(&d) == EMU_DT_TASKGATE ? (uint16_t)(d.lo >> 16) : sel);
	}
	return emu_raise_sel(ctx, EMU_EXC_GP, sel);
}

static int far_transfer(struct emu_ctx *ctx, const struct emu_insn *insn,
			uint16_t sel, uint64_t off, bool call)
{
	if (in_protected(ctx))
		return prot_far(ctx, insn, sel, off, call);
	return real_far(ctx, insn, sel, off, call);
}

/* m16:16, m16:32 or m16:64: the offset, then the selector. */
static int read_far_ptr(struct emu_ctx *ctx, const struct emu_insn *insn,
			uint16_t *sel, uint64_t *off)
{
	const uint64_t ea = emu_ea(ctx, insn);
	uint64_t s;
	TRY(emu_read_mem(ctx, insn->seg, ea, off, insn->opsize));
	TRY(emu_read_mem(ctx, insn->seg, (ea + insn->opsize) & size_mask(insn->adsize),
			 &s, 2));
	*sel = (uint16_t)s;
	return EMU_CONTINUE;
}

EMU_HANDLER(jmpf)
{
	return far_transfer(ctx, insn, (uint16_t)insn->imm2, insn->imm, false);
}

EMU_HANDLER(callf)
{
	return far_transfer(ctx, insn, (uint16_t)insn->imm2, insn->imm, true);
}

EMU_HANDLER(jmpf_ind)
{
	uint16_t sel;
	uint64_t off;
	TRY(read_far_ptr(ctx, insn, &sel, &off));
	return far_transfer(ctx, insn, sel, off, false);
}

EMU_HANDLER(callf_ind)
{
	uint16_t sel;
	uint64_t off;
	TRY(read_far_ptr(ctx, insn, &sel, &off));
	return far_transfer(ctx, insn, sel, off, true);
}

/* ------------------------------------------------------------ returns */

/* Checks on the return CS shared by RET and IRET (PROTECTED-MODE-RETURN). */
static int check_return_cs(struct emu_ctx *ctx, uint16_t sel, struct emu_desc *d)
{
	const unsigned rpl = EMU_SEL_RPL(sel);
	if (!(sel & 0xfffc))
		return raise_gp0(ctx);
	TRY(emu_read_desc(ctx, sel, false, EMU_EXC_GP, d));
	if (!emu_desc_is_code(d) || (ia32e(ctx) && desc_l(d) && desc_d(d)) ||
	    rpl < ctx->cpu.cpl ||
	    (conforming(d) ? emu_desc_dpl(d) > rpl : emu_desc_dpl(d) != rpl))
		return emu_raise_sel(ctx, EMU_EXC_GP, sel);
	if (!emu_desc_present(d))
		return emu_raise_sel(ctx, EMU_EXC_NP, sel);
	return EMU_CONTINUE;
}

/*
 * The stack segment of a return to an outer level (or of IRET in 64-bit
 * mode). IA-32e mode accepts a null SS when returning to 64-bit code at
 * RPL < 3; it becomes a null SS with DPL = RPL.
 */
static int check_return_ss(struct emu_ctx *ctx, uint16_t ss, const struct emu_desc *cd,
			   uint16_t cs, struct emu_segment *out)
{
	const unsigned rpl = EMU_SEL_RPL(cs);
	struct emu_desc d;

	if (!(ss & 0xfffc)) {
		if (!to_64bit(ctx, cd) || EMU_SEL_RPL(ss) == 3 || EMU_SEL_RPL(ss) != rpl)
			return raise_gp0(ctx);
		emu_null_seg(out, ss);
		out->ar |= rpl << 5;
		return EMU_CONTINUE;
	}
	TRY(emu_read_desc(ctx, ss, false, EMU_EXC_GP, &d));
	if (EMU_SEL_RPL(ss) != rpl || !emu_desc_is_data(&d) ||
	    !(emu_desc_type(&d) & EMU_TYPE_RW) || emu_desc_dpl(&d) != rpl)
		return emu_raise_sel(ctx, EMU_EXC_GP, ss);
	if (!emu_desc_present(&d))
		return emu_raise_sel(ctx, EMU_EXC_SS, ss);
	TRY(emu_desc_set_accessed(ctx, &d));
	emu_desc_to_seg(&d, ss, out);
	return EMU_CONTINUE;
}

/* After a return to an outer level, data segments the new CPL may not
 * use become null (RET/IRET "FOR each of segment register"). */
static void invalidate_data_segs(struct emu_ctx *ctx)
{
	static const uint8_t regs[] = { EMU_ES, EMU_DS, EMU_FS, EMU_GS };
	for (unsigned i = 0; i < sizeof(regs); i++) {
		struct emu_segment *s = &ctx->cpu.seg[regs[i]];
		const uint32_t type = EMU_AR_TYPE(s->ar);
		if (s->ar & EMU_AR_UNUSABLE)
			continue;
		if ((!(type & EMU_TYPE_CODE) || !(type & EMU_TYPE_CE)) &&
		    EMU_AR_DPL(s->ar) < ctx->cpu.cpl)
			emu_null_seg(s, 0);
	}
}

/* Load SS:rSP for a return to an outer level; a 16-bit pop replaces SP. */
static void set_stack(struct emu_ctx *ctx, const struct emu_segment *ss,
		      uint64_t sp, unsigned os)
{
	ctx->cpu.seg[EMU_SS] = *ss;
	if (os == 2)
		ctx->cpu.gpr[EMU_RSP] = (ctx->cpu.gpr[EMU_RSP] & ~0xffffull) | (sp & 0xffff);
	else
		ctx->cpu.gpr[EMU_RSP] = sp;
}

/* RET far [imm16] (SDM Vol. 2B RET "Operation", far return parts). */
EMU_HANDLER(retf)
{
	const unsigned os = insn->opsize;
	const unsigned imm = insn->dst == EMU_LOC_IMM ? (unsigned)(insn->imm & 0xffff) : 0;
	uint64_t ip, cs, sp, ss;
	struct emu_desc cd;
	struct emu_segment nss;

	TRY(emu_stack_peek(ctx, 0, &ip, os));
	TRY(emu_stack_peek(ctx, os, &cs, os));
	if (!in_protected(ctx)) {
		if (ip > (in_vm86(ctx) ? 0xffff : ctx->cpu.seg[EMU_CS].limit))
			return raise_gp0(ctx);
		emu_real_seg(ctx, &ctx->cpu.seg[EMU_CS], (uint16_t)cs);
		emu_sp_add(ctx, 2 * os + imm);
		ctx->next_rip = ip;
		emu_mode_changed(ctx);
		return EMU_CONTINUE;
	}
	TRY(check_return_cs(ctx, (uint16_t)cs, &cd));
	const unsigned rpl = EMU_SEL_RPL(cs);
	if (rpl == ctx->cpu.cpl) {
		/* RETURN-TO-SAME-PRIVILEGE-LEVEL */
		TRY(check_ip(ctx, &cd, ip));
		TRY(emu_desc_set_accessed(ctx, &cd));
		emu_sp_add(ctx, 2 * os + imm);
		commit_cs(ctx, &cd, (uint16_t)cs, rpl, ip);
		return EMU_CONTINUE;
	}
	/* RETURN-TO-OUTER-PRIVILEGE-LEVEL */
	TRY(emu_stack_peek(ctx, 2 * os + imm, &sp, os));
	TRY(emu_stack_peek(ctx, 3 * os + imm, &ss, os));
	TRY(check_return_ss(ctx, (uint16_t)ss, &cd, (uint16_t)cs, &nss));
	TRY(check_ip(ctx, &cd, ip));
	TRY(emu_desc_set_accessed(ctx, &cd));
	commit_cs(ctx, &cd, (uint16_t)cs, rpl, ip);
	set_stack(ctx, &nss, sp, os);
	emu_sp_add(ctx, imm);
	invalidate_data_segs(ctx);
	return EMU_CONTINUE;
}

/* ------------------------------------------------------------ IRET */

/* REAL-ADDRESS-MODE */
static int iret_real(struct emu_ctx *ctx, unsigned os)
{
	uint64_t ip, cs, fl;
	TRY(emu_stack_peek(ctx, 0, &ip, os));
	TRY(emu_stack_peek(ctx, os, &cs, os));
	TRY(emu_stack_peek(ctx, 2 * os, &fl, os));
	if (ip > ctx->cpu.seg[EMU_CS].limit)
		return raise_gp0(ctx);
	if (os == 4)
		ctx->cpu.rflags = (fl & 0x257fd5) | (ctx->cpu.rflags & 0x1a0000);
	else
		ctx->cpu.rflags = (ctx->cpu.rflags & ~0xffffull) | (fl & 0xffff);
	ctx->cpu.rflags |= EMU_FLAG_FIXED;
	emu_real_seg(ctx, &ctx->cpu.seg[EMU_CS], (uint16_t)cs);
	emu_sp_add(ctx, 3 * os);
	ctx->next_rip = ip;
	emu_mode_changed(ctx);
	return EMU_CONTINUE;
}

/*
 * RETURN-FROM-VIRTUAL-8086-MODE: with IOPL 3 an ordinary 8086 IRET that
 * leaves VM, IOPL, VIP and VIF alone; with IOPL < 3 and CR4.VME a 16-bit
 * IRET moves the popped IF into VIF (SDM Vol. 3A 20.3.2, IRET
 * "Operation"); otherwise #GP(0) to the vm86 monitor.
 */
static int iret_vm86(struct emu_ctx *ctx, unsigned os)
{
	uint64_t ip, cs, fl, mask;
	const bool vme = ctx->cpu.cr4 & EMU_CR4_VME;

	if (emu_iopl(ctx) < 3 && !(vme && os == 2))
		return raise_gp0(ctx);
	TRY(emu_intercept(ctx, EMU_ICPT_IRET));
	TRY(emu_stack_peek(ctx, 0, &ip, os));
	TRY(emu_stack_peek(ctx, os, &cs, os));
	TRY(emu_stack_peek(ctx, 2 * os, &fl, os));
	if (ip > 0xffff)
		return raise_gp0(ctx);
	if (emu_iopl(ctx) == 3) {
		mask = FLAGS_ALL & ~(uint64_t)(EMU_FLAG_VM | EMU_FLAG_IOPL |
					       EMU_FLAG_VIP | EMU_FLAG_VIF);
		if (os == 2)
			mask &= 0xffff;
		ctx->cpu.rflags = (ctx->cpu.rflags & ~mask) | (fl & mask);
	} else {
		if (((fl & EMU_FLAG_IF) && (ctx->cpu.rflags & EMU_FLAG_VIP)) ||
		    (fl & EMU_FLAG_TF))
			return raise_gp0(ctx);
		mask = FLAGS_ALL & 0xffff & ~(uint64_t)(EMU_FLAG_IF | EMU_FLAG_IOPL);
		ctx->cpu.rflags = (ctx->cpu.rflags & ~mask) | (fl & mask);
		if (fl & EMU_FLAG_IF)
			ctx->cpu.rflags |= EMU_FLAG_VIF;
		else
			ctx->cpu.rflags &= ~(uint64_t)EMU_FLAG_VIF;
	}
	ctx->cpu.rflags |= EMU_FLAG_FIXED;
	emu_real_seg(ctx, &ctx->cpu.seg[EMU_CS], (uint16_t)cs);
	emu_sp_add(ctx, 3 * os);
	ctx->next_rip = ip;
	return EMU_CONTINUE;
}

/* RETURN-TO-VIRTUAL-8086-MODE: IRETD at CPL 0 with VM = 1 in the image
 * pops EIP CS EFLAGS ESP SS ES DS FS GS. */
static int iret_to_vm86(struct emu_ctx *ctx, uint64_t ip, uint64_t cs, uint64_t fl)
{
	static const uint8_t order[] = { EMU_ES, EMU_DS, EMU_FS, EMU_GS };
	uint64_t sp, ss, sel[4];

	TRY(emu_stack_peek(ctx, 12, &sp, 4));
	TRY(emu_stack_peek(ctx, 16, &ss, 4));
	for (unsigned i = 0; i < 4; i++)
		TRY(emu_stack_peek(ctx, 20 + 4 * i, &sel[i], 4));
	if (ip > 0xffff)
		return raise_gp0(ctx);
	ctx->cpu.rflags = (fl & FLAGS_ALL) | EMU_FLAG_FIXED;
	ctx->cpu.cpl = 3;
	emu_real_seg(ctx, &ctx->cpu.seg[EMU_CS], (uint16_t)cs);
	emu_real_seg(ctx, &ctx->cpu.seg[EMU_SS], (uint16_t)ss);
	for (unsigned i = 0; i < 4; i++)
		emu_real_seg(ctx, &ctx->cpu.seg[order[i]], (uint16_t)sel[i]);
	ctx->cpu.gpr[EMU_RSP] = (uint32_t)sp;
	ctx->next_rip = ip;
	emu_mode_changed(ctx);
	return EMU_CONTINUE;
}

/*
 * IRET/IRETD/IRETQ by operand size. PROTECTED-MODE-RETURN and the IA-32e
 * mode return share one path: IA-32e mode differs in refusing NT (#GP(0)
 * instead of a task return), ignoring VM in the image, and in 64-bit mode
 * always popping SS:RSP.
 */
static int iret_operation(struct emu_ctx *ctx, const struct emu_insn *insn)
{
	const unsigned os = insn->opsize, cpl = ctx->cpu.cpl;
	const bool lm = ia32e(ctx);
	uint64_t ip, cs, fl, sp = 0, ss = 0;
	struct emu_desc cd;
	struct emu_segment nss;

	/* The intercept check (APM Vol. 2 15.7) follows the #GP(0)s that
	 * need no memory: vm86 with IOPL < 3 (in iret_vm86) and NT = 1 in
	 * IA-32e mode; it precedes the stack reads and a task return. */
	if (in_vm86(ctx))
		return iret_vm86(ctx, os);
	if (lm && (ctx->cpu.rflags & EMU_FLAG_NT))
		return raise_gp0(ctx);
	TRY(emu_intercept(ctx, EMU_ICPT_IRET));
	if (in_real_mode(ctx))
		return iret_real(ctx, os);
	if (ctx->cpu.rflags & EMU_FLAG_NT) {
		/* Back to the previous task: its selector is the link field
		 * at offset 0 of the current TSS (SDM Vol. 3A 7.2.1). */
		uint64_t link;
		TRY(la_read(ctx, ctx->cpu.tr.base, &link, 2, EMU_ACC_SYS));
		return task_switch(ctx, EMU_TS_IRET, (uint16_t)link);
	}
	TRY(emu_stack_peek(ctx, 0, &ip, os));
	TRY(emu_stack_peek(ctx, os, &cs, os));
	TRY(emu_stack_peek(ctx, 2 * os, &fl, os));
	if (!lm && os == 4 && (fl & EMU_FLAG_VM) && cpl == 0)
		return iret_to_vm86(ctx, ip, cs, fl);

	TRY(check_return_cs(ctx, (uint16_t)cs, &cd));
	const unsigned rpl = EMU_SEL_RPL(cs);
	const bool outer = rpl > cpl || in_long_mode(ctx);
	if (outer) {
		TRY(emu_stack_peek(ctx, 3 * os, &sp, os));
		TRY(emu_stack_peek(ctx, 4 * os, &ss, os));
		TRY(check_return_ss(ctx, (uint16_t)ss, &cd, (uint16_t)cs, &nss));
	}
	TRY(check_ip(ctx, &cd, ip));
	TRY(emu_desc_set_accessed(ctx, &cd));

	/* Which flags the image may change (old CPL and IOPL). */
	uint64_t mask = EMU_FLAGS_ARITH | EMU_FLAG_TF | EMU_FLAG_DF | EMU_FLAG_NT;
	if (os >= 4)
		mask |= EMU_FLAG_RF | EMU_FLAG_AC | EMU_FLAG_ID;
	if (cpl <= emu_iopl(ctx))
		mask |= EMU_FLAG_IF;
	if (cpl == 0) {
		mask |= EMU_FLAG_IOPL;
		if (os >= 4)
			mask |= EMU_FLAG_VIF | EMU_FLAG_VIP;
	}
	if (os == 2)
		mask &= 0xffff;
	ctx->cpu.rflags = (ctx->cpu.rflags & ~mask) | (fl & mask) | EMU_FLAG_FIXED;

	if (outer)
		set_stack(ctx, &nss, sp, os);
	else
		emu_sp_add(ctx, 3 * os);
	commit_cs(ctx, &cd, (uint16_t)cs, rpl, ip);
	if (rpl > cpl)
		invalidate_data_segs(ctx);
	return EMU_CONTINUE;
}

/* Every IRET that passes its checks ends NMI blocking (SDM Vol. 3A
 * 6.7.1): tell the caller, once, and only then. */
EMU_HANDLER(iret)
{
	const int r = iret_operation(ctx, insn);
	if (r == EMU_CONTINUE && ctx->ops->iret)
		ctx->ops->iret(ctx);
	return r;
}
