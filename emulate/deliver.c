/*
 * deliver.c — delivering an interrupt or exception through the IDT, in
 * every mode: SDM Vol. 3A 6.12 (protected mode), 6.14 (IA-32e mode),
 * 20.1.4 (real mode), 20.3.1 (from virtual-8086 mode), and the INT n
 * "Operation" in Vol. 2A, whose labels the functions below follow:
 * REAL-ADDRESS-MODE, PROTECTED-MODE / IA-32e-MODE (read_gate),
 * TRAP-OR-INTERRUPT-GATE (check_target, deliver_protected),
 * INTER-PRIVILEGE-LEVEL-INTERRUPT, INTERRUPT-FROM-VIRTUAL-8086-MODE and
 * INTRA-PRIVILEGE-LEVEL-INTERRUPT (enter_handler).
 *
 * Order of work, as in the pseudo-code: every descriptor check, then the
 * new stack's room for the whole frame (segment limits, canonical
 * addresses), then the handler's entry point, then the writes. Only the
 * writes and the accessed-bit updates can fault after the cpu has been
 * switched to the handler's stack and CPL (the pushes are accesses at
 * the new CPL, so paging sees them as the handler's); a fault there
 * restores the snapshot taken before the switch.
 *
 * Error codes. Selector error codes (#TS, #NP, #SS, #GP) raised while
 * delivering carry EXT = 1 unless the event is INT n, INT3 or INTO
 * (SDM Vol. 3A 6.13); IDT-referencing ones are vector * 8 + 2 + EXT.
 * emu_deliver() adds EXT in one place. Real mode has neither error
 * codes nor EXT: its faults are reported as the executor reports every
 * real-mode #GP and #SS (error code 0).
 *
 * Frames. Selectors pushed into 4- and 8-byte slots are zero-extended
 * (the SDM says "padded"); the flags image is cpu.rflags as the caller
 * left it, so the caller sets RF for faults (SDM Vol. 3B 18.3.1.1).
 *
 * Not modelled: task gates and CR4.VME interrupt redirection in vm86
 * (EMU_UNHANDLEABLE), CET shadow stacks. The IOPL check of INT n in
 * vm86 belongs to the instruction (exec_int.c), not to delivery: an
 * injected software interrupt skips it (SDM Vol. 3C, VM entries,
 * "Details of Vectored-Event Injection").
 */
#include "emulate/sys.h"

#define EXT 1u			/* bit 0 of a selector error code */
#define MAX_SLOTS 10		/* vm86: GS FS DS ES SS ESP EFLAGS CS EIP error */

/* An event on its way to a handler. */
struct delivery {
	const struct emu_event *ev;
	bool soft;		/* INT n, INT3, INTO: gate DPL checked, EXT = 0 */
	bool lm;		/* IA-32e mode: 16-byte gates, 64-bit frames */
	struct emu_desc gate;	/* the IDT entry */
	struct emu_desc cs;	/* the handler's code segment */
	uint16_t cs_sel;
	uint64_t ip;		/* the handler's entry point */
	unsigned slot;		/* bytes per pushed value: 2, 4 or 8 */
};

/* What the handler finds on its stack, lowest address last. */
struct frame {
	uint64_t val[MAX_SLOTS];
	uint64_t la[MAX_SLOTS];	/* filled by frame_check() */
	unsigned n, size;
};

static void frame_add(struct frame *f, uint64_t v)
{
	EMU_ASSERT(f->n < MAX_SLOTS);
	f->val[f->n++] = v & size_mask(f->size);
}

/* Is there room for @f below SS:rSP? Every slot passes segmentation
 * (limit and type, or canonical form in 64-bit mode) before anything is
 * written; a failure is #SS with the selector @ss_err (SDM Vol. 2A
 * INT n: "new stack does not have room"). */
static int frame_check(struct emu_ctx *ctx, struct frame *f, uint16_t ss_err)
{
	const uint64_t mask = size_mask(stack_size(ctx));
	const uint64_t sp = ctx->cpu.gpr[EMU_RSP];

	for (unsigned i = 0; i < f->n; i++) {
		uint64_t off = (sp - (uint64_t)(i + 1) * f->size) & mask;
		int r = emu_linear(ctx, EMU_SS, off, f->size, EMU_ACC_WRITE, &f->la[i]);
		if (r != EMU_CONTINUE) {
			if (r == EMU_EXCEPTION && ctx->exc.vector == EMU_EXC_SS)
				ctx->exc.error_code = EMU_SEL_ERR(ss_err);
			return r;
		}
	}
	return EMU_CONTINUE;
}

/* Write a checked frame and move rSP below it (page faults possible). */
static int frame_write(struct emu_ctx *ctx, const struct frame *f)
{
	const uint64_t mask = size_mask(stack_size(ctx));
	const uint64_t sp = ctx->cpu.gpr[EMU_RSP];

	for (unsigned i = 0; i < f->n; i++)
		TRY(la_write(ctx, f->la[i], f->val[i], f->size, EMU_ACC_WRITE));
	ctx->cpu.gpr[EMU_RSP] = (sp & ~mask) | ((sp - (uint64_t)f->n * f->size) & mask);
	return EMU_CONTINUE;
}

/* Linear address of a system structure: 32 bits outside IA-32e mode. */
static uint64_t sys_la(const struct emu_ctx *ctx, uint64_t base, uint64_t off)
{
	const uint64_t la = base + off;
	return (ctx->cpu.efer & EMU_EFER_LMA) ? la : la & 0xffffffffull;
}

static int raise_err(struct emu_ctx *ctx, unsigned vec, uint32_t err)
{
	return emu_raise(ctx, vec, true, err);
}

/* ------------------------------------------------------------ real mode */

/*
 * REAL-ADDRESS-MODE: a 4-byte IVT entry (offset, then segment) at IDTR
 * base + vector * 4; FLAGS, CS and IP pushed as words; IF, TF, AC and
 * RF cleared (SDM Vol. 3A 20.1.4). No error code is ever pushed.
 */
static int deliver_real(struct emu_ctx *ctx, const struct emu_event *ev)
{
	struct frame f = { .size = 2 };
	uint32_t entry = 0;

	if (ev->vector * 4u + 3 > ctx->cpu.idtr.limit)
		return raise_gp0(ctx);
	TRY(ctx->ops->read(ctx, sys_la(ctx, ctx->cpu.idtr.base, ev->vector * 4u),
			   &entry, 4, EMU_ACC_SYS));
	frame_add(&f, ctx->cpu.rflags);
	frame_add(&f, ctx->cpu.seg[EMU_CS].sel);
	frame_add(&f, ctx->cpu.rip);
	TRY(frame_check(ctx, &f, 0));
	TRY(frame_write(ctx, &f));
	ctx->cpu.rflags &= ~(uint64_t)(EMU_FLAG_IF | EMU_FLAG_TF | EMU_FLAG_AC |
				       EMU_FLAG_RF);
	emu_real_seg(ctx, &ctx->cpu.seg[EMU_CS], (uint16_t)(entry >> 16));
	ctx->cpu.rip = entry & 0xffff;
	return EMU_CONTINUE;
}

/* ------------------------------------------------------------ the gate */

/*
 * PROTECTED-MODE and IA-32e-MODE: the IDT entry for the vector.
 *
 *   condition                                             fault
 *   entry beyond the IDT limit                            #GP(idt)
 *   not a gate of this mode (legacy: task, 16- and
 *   32-bit interrupt and trap; IA-32e: 64-bit
 *   interrupt and trap, upper type field 0)               #GP(idt)
 *   INT n/INT3/INTO and gate DPL < CPL                    #GP(idt), EXT = 0
 *   gate not present                                      #NP(idt)
 *
 * idt = vector * 8 + 2 (IDT bit) in both modes.
 */
static int read_gate(struct emu_ctx *ctx, struct delivery *d)
{
	const unsigned vec = d->ev->vector, esize = d->lm ? 16 : 8;
	const uint32_t idt_err = vec * 8u + 2;
	uint32_t buf[4] = { 0 };
	bool ok;

	if (vec * esize + esize - 1 > ctx->cpu.idtr.limit)
		return raise_err(ctx, EMU_EXC_GP, idt_err);
	d->gate.la = sys_la(ctx, ctx->cpu.idtr.base, vec * esize);
	TRY(ctx->ops->read(ctx, d->gate.la, buf, esize, EMU_ACC_SYS));
	d->gate.lo = buf[0];
	d->gate.hi = buf[1];
	d->gate.base_hi = d->lm ? buf[2] : 0;

	const unsigned type = emu_desc_type(&d->gate);
	if (!emu_desc_is_system(&d->gate))
		ok = false;
	else if (d->lm)
		ok = (type == EMU_DT_INTGATE || type == EMU_DT_TRAPGATE) &&
		     !(buf[3] & 0x1f00);
	else
		ok = type == EMU_DT_TASKGATE || type == EMU_DT_INTGATE16 ||
		     type == EMU_DT_TRAPGATE16 || type == EMU_DT_INTGATE ||
		     type == EMU_DT_TRAPGATE;
	if (!ok)
		return raise_err(ctx, EMU_EXC_GP, idt_err);
	if (d->soft && emu_desc_dpl(&d->gate) < ctx->cpu.cpl)
		return raise_err(ctx, EMU_EXC_GP, idt_err);
	if (!emu_desc_present(&d->gate))
		return raise_err(ctx, EMU_EXC_NP, idt_err);
	return EMU_CONTINUE;
}

/*
 * TRAP-OR-INTERRUPT-GATE: the handler's code segment.
 *
 *   null selector                                         #GP(0)
 *   beyond the GDT/LDT limit                              #GP(sel)
 *   not code, or DPL > CPL                                #GP(sel)
 *   not present                                           #NP(sel)
 *   IA-32e mode and not 64-bit code (L = 1, D = 0)        #GP(sel)
 *
 * (SDM Vol. 2A INT n; Vol. 3A 6.14.1 and the INT n "64-Bit Mode
 * Exceptions" for the last row, which the SDM does not order against
 * the present check: it comes last here, as for far transfers.)
 */
static int check_target(struct emu_ctx *ctx, struct delivery *d)
{
	const uint16_t sel = (uint16_t)(d->gate.lo >> 16);
	struct emu_desc *cd = &d->cs;

	if (!(sel & 0xfffc))
		return raise_gp0(ctx);
	TRY(emu_read_desc(ctx, sel, false, EMU_EXC_GP, cd));
	if (!emu_desc_is_code(cd) || emu_desc_dpl(cd) > ctx->cpu.cpl)
		return emu_raise_sel(ctx, EMU_EXC_GP, sel);
	if (!emu_desc_present(cd))
		return emu_raise_sel(ctx, EMU_EXC_NP, sel);
	if (d->lm && (!(cd->hi & (1u << 21)) || (cd->hi & (1u << 22))))
		return emu_raise_sel(ctx, EMU_EXC_GP, sel);
	d->cs_sel = sel;

	const unsigned type = emu_desc_type(&d->gate);
	d->slot = d->lm ? 8 : (type == EMU_DT_INTGATE || type == EMU_DT_TRAPGATE) ? 4 : 2;
	d->ip = (d->gate.lo & 0xffff) | (d->gate.hi & 0xffff0000u) |
		((uint64_t)d->gate.base_hi << 32);
	if (d->slot == 2)
		d->ip &= 0xffff;
	return EMU_CONTINUE;
}

/* ------------------------------------------------------------ stacks */

/*
 * The stack the TSS holds for CPL @dpl, or for IST entry @ist (IA-32e
 * mode only; 0 = none), from the TSS formats of SDM Vol. 3A 7.2.1
 * (32-bit), 7.6 (16-bit) and 7.7 (64-bit): 64-bit RSPn at 4 + 8n, ISTn
 * at 28 + 8n; 32-bit ESPn at 4 + 8n with SSn after it; 16-bit SPn at
 * 2 + 4n with SSn after it. An entry beyond the TSS limit: #TS(TSS).
 */
static int tss_stack(struct emu_ctx *ctx, bool lm, unsigned dpl, unsigned ist,
		     uint16_t *ss, uint64_t *sp)
{
	const struct emu_segment *tr = &ctx->cpu.tr;
	const unsigned type = EMU_AR_TYPE(tr->ar);
	uint64_t v = 0, s = 0;
	unsigned off, spsz, len;

	if (lm) {
		off = ist ? ist * 8 + 28 : dpl * 8 + 4;
		spsz = len = 8;
	} else if (type == EMU_DT_TSS_AVL || type == EMU_DT_TSS_BUSY) {
		off = dpl * 8 + 4;
		spsz = 4;
		len = 6;
	} else {
		off = dpl * 4 + 2;
		spsz = 2;
		len = 4;
	}
	if (off + len - 1 > tr->limit)
		return emu_raise_sel(ctx, EMU_EXC_TS, tr->sel);
	TRY(la_read(ctx, sys_la(ctx, tr->base, off), &v, spsz, EMU_ACC_SYS));
	if (!lm)
		TRY(la_read(ctx, sys_la(ctx, tr->base, off + spsz), &s, 2, EMU_ACC_SYS));
	*ss = (uint16_t)s;
	*sp = v;
	return EMU_CONTINUE;
}

/*
 * The new stack segment of a legacy privilege change (also from vm86):
 *
 *   null selector                                         #TS(0)
 *   RPL != new CPL, beyond the GDT/LDT limit              #TS(ss)
 *   DPL != new CPL, or not a writable data segment        #TS(ss)
 *   not present                                           #SS(ss)
 */
static int check_new_ss(struct emu_ctx *ctx, uint16_t ss, unsigned dpl,
			struct emu_desc *sd)
{
	if (!(ss & 0xfffc))
		return raise_err(ctx, EMU_EXC_TS, 0);
	if (EMU_SEL_RPL(ss) != dpl)
		return emu_raise_sel(ctx, EMU_EXC_TS, ss);
	TRY(emu_read_desc(ctx, ss, false, EMU_EXC_TS, sd));
	if (emu_desc_dpl(sd) != dpl || !emu_desc_is_data(sd) ||
	    !(emu_desc_type(sd) & EMU_TYPE_RW))
		return emu_raise_sel(ctx, EMU_EXC_TS, ss);
	if (!emu_desc_present(sd))
		return emu_raise_sel(ctx, EMU_EXC_SS, ss);
	return EMU_CONTINUE;
}

/* ------------------------------------------------------------ entering */

/* Where the handler's stack is: a new SS:rSP (privilege change, IST,
 * and always in IA-32e mode) or the current one. */
struct new_stack {
	bool switched;		/* SS:rSP pushed (and loaded from ss/sp) */
	struct emu_segment ss;
	uint64_t sp;
	struct emu_desc *ssd;	/* its descriptor, for the accessed bit */
	uint16_t err_sel;	/* selector of #SS when the frame has no room */
};

/*
 * The common tail of INTER-PRIVILEGE-LEVEL-INTERRUPT,
 * INTERRUPT-FROM-VIRTUAL-8086-MODE and INTRA-PRIVILEGE-LEVEL-INTERRUPT:
 * build the frame from the interrupted state, switch to the handler's
 * CPL, flags and stack, check the room and the entry point, push, and
 * load CS:rIP. A fault restores the interrupted state.
 *
 * Flags: TF, NT, RF and VM are cleared, and IF for an interrupt gate
 * (types 6 and 14), before the pushes (the vm86 pushes are protected-
 * mode accesses).
 */
static int enter_handler(struct emu_ctx *ctx, struct delivery *d,
			 unsigned ncpl, struct new_stack *st)
{
	const struct emu_cpu old = ctx->cpu;
	const bool from_vm86 = in_vm86(ctx);
	struct frame f = { .size = d->slot };
	uint64_t clear = EMU_FLAG_TF | EMU_FLAG_NT | EMU_FLAG_RF | EMU_FLAG_VM;
	int r;

	if (from_vm86) {
		frame_add(&f, old.seg[EMU_GS].sel);
		frame_add(&f, old.seg[EMU_FS].sel);
		frame_add(&f, old.seg[EMU_DS].sel);
		frame_add(&f, old.seg[EMU_ES].sel);
	}
	if (st->switched) {
		frame_add(&f, old.seg[EMU_SS].sel);
		frame_add(&f, old.gpr[EMU_RSP]);
	}
	frame_add(&f, old.rflags);
	frame_add(&f, old.seg[EMU_CS].sel);
	frame_add(&f, old.rip);
	if (d->ev->has_error_code)
		frame_add(&f, d->ev->error_code);

	const unsigned type = emu_desc_type(&d->gate);
	if (type == EMU_DT_INTGATE || type == EMU_DT_INTGATE16)
		clear |= EMU_FLAG_IF;
	ctx->cpu.rflags &= ~clear;
	ctx->cpu.cpl = (uint8_t)ncpl;
	if (st->switched) {
		ctx->cpu.seg[EMU_SS] = st->ss;
		ctx->cpu.gpr[EMU_RSP] = st->sp;
	}
	/* Pushes in IA-32e mode are 64-bit mode accesses: the handler runs
	 * in 64-bit code whatever was interrupted. */
	ctx->mode = d->lm ? EMU_MODE_64 : EMU_MODE_32;

	r = frame_check(ctx, &f, st->err_sel);
	if (r == EMU_CONTINUE &&
	    (d->lm ? !emu_is_canonical(d->ip) : d->ip > emu_desc_limit(&d->cs)))
		r = raise_gp0(ctx);
	if (r == EMU_CONTINUE)
		r = frame_write(ctx, &f);
	if (r == EMU_CONTINUE && st->ssd) {
		r = emu_desc_set_accessed(ctx, st->ssd);
		/* The cached SS was made from the descriptor before A was set:
		 * loading a segment register sets it (SDM Vol. 3A 3.4.5.1). */
		if (r == EMU_CONTINUE)
			ctx->cpu.seg[EMU_SS].ar |= EMU_TYPE_A;
	}
	if (r == EMU_CONTINUE)
		r = emu_desc_set_accessed(ctx, &d->cs);
	if (r != EMU_CONTINUE) {
		ctx->cpu = old;
		return r;
	}

	emu_desc_to_seg(&d->cs, (uint16_t)((d->cs_sel & ~3u) | ncpl),
			&ctx->cpu.seg[EMU_CS]);
	ctx->cpu.rip = d->ip;
	if (from_vm86) {
		/* Protected-mode code must not inherit vm86 segments. */
		emu_null_seg(&ctx->cpu.seg[EMU_ES], 0);
		emu_null_seg(&ctx->cpu.seg[EMU_DS], 0);
		emu_null_seg(&ctx->cpu.seg[EMU_FS], 0);
		emu_null_seg(&ctx->cpu.seg[EMU_GS], 0);
	}
	return EMU_CONTINUE;
}

/* IA-32e mode: RSPn or ISTn, aligned down to 16 bytes; SS becomes a null
 * selector with RPL = new CPL on a privilege change (SDM Vol. 3A
 * 6.14.2-6.14.5). A non-canonical new RSP: #SS(0). */
static int stack_ia32e(struct emu_ctx *ctx, const struct delivery *d,
		       unsigned ncpl, struct new_stack *st)
{
	const unsigned ist = d->gate.hi & 7;
	uint16_t unused;
	uint64_t sp = ctx->cpu.gpr[EMU_RSP];

	st->switched = true;
	st->ss = ctx->cpu.seg[EMU_SS];
	if (ncpl != ctx->cpu.cpl || ist)
		TRY(tss_stack(ctx, true, ncpl, ist, &unused, &sp));
	if (ncpl != ctx->cpu.cpl) {
		emu_null_seg(&st->ss, (uint16_t)ncpl);
		st->ss.ar |= ncpl << 5;		/* SS.DPL tracks CPL */
	}
	if (!emu_is_canonical(sp))
		return raise_err(ctx, EMU_EXC_SS, 0);
	st->sp = sp & ~0xfull;
	return EMU_CONTINUE;
}

/* Legacy privilege change (and vm86 -> ring 0): SSn:ESPn from the TSS. */
static int stack_legacy_inner(struct emu_ctx *ctx, unsigned ncpl,
			      struct emu_desc *ssd, struct new_stack *st)
{
	uint16_t ss;
	uint64_t sp;

	TRY(tss_stack(ctx, false, ncpl, 0, &ss, &sp));
	TRY(check_new_ss(ctx, ss, ncpl, ssd));
	st->switched = true;
	emu_desc_to_seg(ssd, ss, &st->ss);
	st->sp = sp;
	st->ssd = ssd;
	st->err_sel = ss;
	return EMU_CONTINUE;
}

/* ------------------------------------------------------------ protected mode */

static int deliver_protected(struct emu_ctx *ctx, struct delivery *d)
{
	struct new_stack st = { .switched = false };
	struct emu_desc ssd;

	TRY(read_gate(ctx, d));
	if (!d->lm && emu_desc_type(&d->gate) == EMU_DT_TASKGATE) {
		/* Not performed, reported: the gate names the TSS. */
		ctx->unhandleable = "task switch";
		ctx->task_switch.valid = true;
		ctx->task_switch.source = EMU_TS_GATE;
		ctx->task_switch.sel = (uint16_t)(d->gate.lo >> 16);
		return EMU_UNHANDLEABLE;
	}
	TRY(check_target(ctx, d));

	/*
	 *   handler code segment          interrupted    result
	 *   non-conforming, DPL < CPL     protected      inner stack, CPL = DPL
	 *   non-conforming, DPL = 0       vm86           ring 0 stack, CPL = 0
	 *   non-conforming, DPL 1 or 2    vm86           #GP(sel)
	 *   conforming, or DPL = CPL      protected      same stack, same CPL
	 *   conforming, or DPL = CPL      vm86           #GP(sel)
	 */
	const unsigned cpl = ctx->cpu.cpl, dpl = emu_desc_dpl(&d->cs);
	const bool conforming = emu_desc_type(&d->cs) & EMU_TYPE_CE;
	const bool vm86 = in_vm86(ctx);
	const unsigned ncpl = !conforming && dpl < cpl ? dpl : cpl;

	if (vm86 && ncpl != 0)
		return emu_raise_sel(ctx, EMU_EXC_GP, d->cs_sel);
	if (d->lm)
		TRY(stack_ia32e(ctx, d, ncpl, &st));
	else if (ncpl != cpl)
		TRY(stack_legacy_inner(ctx, ncpl, &ssd, &st));
	return enter_handler(ctx, d, ncpl, &st);
}

/* ------------------------------------------------------------ entry */

int emu_deliver(struct emu_ctx *ctx, const struct emu_event *ev)
{
	struct delivery d = {
		.ev = ev,
		.soft = ev->type == EMU_EVENT_TYPE_SOFT_INT ||
			ev->type == EMU_EVENT_TYPE_SOFT_EXC,
		.lm = ctx->cpu.efer & EMU_EFER_LMA,
	};
	int r;

	switch (ev->type) {
	case EMU_EVENT_TYPE_EXT_INT:
	case EMU_EVENT_TYPE_NMI:
	case EMU_EVENT_TYPE_HW_EXC:
	case EMU_EVENT_TYPE_SOFT_INT:
	case EMU_EVENT_TYPE_PRIV_SOFT_EXC:
	case EMU_EVENT_TYPE_SOFT_EXC:
		break;
	default:
		ctx->unhandleable = "event type is not a vectored event";
		return EMU_UNHANDLEABLE;
	}
	/* The flags image must hold the arithmetic flags, and the stack
	 * helpers read ctx->mode. */
	emu_flags_sync(ctx);
	ctx->mode = emu_cpu_mode(&ctx->cpu);

	if (in_real_mode(ctx)) {
		r = deliver_real(ctx, ev);
	} else if (in_vm86(ctx) && (ctx->cpu.cr4 & EMU_CR4_VME) &&
		   ev->type == EMU_EVENT_TYPE_SOFT_INT) {
		ctx->unhandleable = "INT n in vm86 with CR4.VME (redirection bitmap)";
		r = EMU_UNHANDLEABLE;
	} else {
		r = deliver_protected(ctx, &d);
		if (r == EMU_EXCEPTION && !d.soft &&
		    (ctx->exc.vector == EMU_EXC_TS || ctx->exc.vector == EMU_EXC_NP ||
		     ctx->exc.vector == EMU_EXC_SS || ctx->exc.vector == EMU_EXC_GP))
			ctx->exc.error_code |= EXT;
	}
	if (r == EMU_EXCEPTION)
		ctx->exc.dr6 = 0;
	ctx->mode = emu_cpu_mode(&ctx->cpu);
	if (r == EMU_CONTINUE)
		emu_mode_changed(ctx);
	return r;
}

void emu_exc_to_event(const struct emu_exception *exc, struct emu_event *ev)
{
	ev->vector = exc->vector;
	ev->has_error_code = exc->has_error_code;
	ev->error_code = exc->error_code;
	switch (exc->kind) {
	case EMU_EVENT_SOFTINT:
		ev->type = EMU_EVENT_TYPE_SOFT_INT;
		break;
	case EMU_EVENT_TRAP:
		/* The executor's traps are INT1, INT3 and INTO. */
		ev->type = exc->vector == EMU_EXC_DB ? EMU_EVENT_TYPE_PRIV_SOFT_EXC
						     : EMU_EVENT_TYPE_SOFT_EXC;
		break;
	default:
		ev->type = EMU_EVENT_TYPE_HW_EXC;
		break;
	}
}
