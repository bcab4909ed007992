/*
 * emulate.c — see emulate.h. The ops below are emulate/'s window on the
 * vcpu (struct emu_ops); the engine itself applies segmentation and
 * privilege checks and hands over linear addresses.
 *
 * Guest page tables are walked by mmu->gva_to_gpa; a translation fault
 * becomes the guest's #PF with the walker's error code. Physical
 * accesses go, in this order, to a memslot (RAM; a write to a read-only
 * slot is MMIO), to the controllers of core/irq, and otherwise to the
 * VMM. Writes to RAM are told to the processor (its decoded code), to
 * the dirty log and to the MMU (track_write, for shadow strategies).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mmu_call.h"
#include "core/cpuid.h"
#include "core/cr.h"
#include "core/emulate.h"
#include "core/event.h"
#include "core/exit.h"
#include "core/irq/irq.h"
#include "core/msr.h"
#include "core/seg.h"
#include "core/vm.h"
#include "emulate/emulate.h"
#include "mmu/mmu.h"
#include "mmu/walk.h"

struct vcpu_emu {
	struct emu_ctx ctx;
	struct hv_vcpu *vcpu;
};

static struct hv_vcpu *ctx_vcpu(struct emu_ctx *ctx)
{
	return container_of(ctx, struct vcpu_emu, ctx)->vcpu;
}

static uint32_t acc_bits(struct emu_ctx *ctx, unsigned acc)
{
	uint32_t a = 0;
	if (acc & EMU_ACC_WRITE)
		a |= HV_ACC_WRITE;
	if (acc & EMU_ACC_FETCH)
		a |= HV_ACC_FETCH;
	if (ctx->cpu.cpl == 3 && !(acc & EMU_ACC_SYS))
		a |= HV_ACC_USER;
	if (acc & EMU_ACC_SYS)
		a |= MMU_ACC_IMPLICIT;	/* RFLAGS.AC does not lift SMAP (SDM 4.6.1) */
	return a;
}

/* Linear -> guest-physical, raising the guest's #PF on a fault. */
static int translate(struct emu_ctx *ctx, uint64_t la, unsigned acc, gpa_t *gpa)
{
	struct hv_vcpu *vcpu = ctx_vcpu(ctx);
	struct mmu_walk_fault f;
	if (mmu_gva_to_gpa(vcpu, la, acc_bits(ctx, acc), gpa, &f))
		return emu_raise_pf(ctx, la, f.error_code);
	return EMU_CONTINUE;
}

/*
 * MMIO and string port I/O the VMM handles (KVM's "MMIO fragments"). A
 * read needs the VMM's answer before the instruction can finish: it goes
 * out as an exit, and when the answer comes back the instruction runs
 * again from the start (core/run.c complete_io), taking the answered
 * reads in program order; a read past them goes out in turn. So an
 * instruction may read several MMIO places (a read across two MMIO
 * pages, CMPS between two devices): up to VCPU_MMIO_FRAGS. Writes need
 * no answer: they are kept until the instruction completes and then go
 * out one per exit (vcpu_mmio_send_write), so a rerun never repeats a
 * device's side effect. Reads therefore reach the VMM before any write
 * of the same instruction, as KVM orders them.
 */

/* The VMM's answer to this run's next read, if it has one: 1 taken, 0
 * none yet, -1 if the rerun asks for another access (its inputs cannot
 * change, so that would be hvlab's bug: the instruction is refused). */
static int take_answer(struct hv_vcpu *vcpu, uint64_t addr, void *buf, unsigned len)
{
	if (vcpu->mmio_rnext >= vcpu->mmio_nr)
		return 0;
	const struct vcpu_mmio_frag *f = &vcpu->mmio_r[vcpu->mmio_rnext];
	if (f->gpa != addr || f->len != len) {
		vcpu->emu->ctx.unhandleable = "an I/O read that changed when the instruction ran again";
		return -1;
	}
	memcpy(buf, f->data, len);	/* counted when it went out */
	vcpu->mmio_rnext++;
	return 1;
}

/* Send this run's next read to the VMM. */
static int read_out(struct hv_vcpu *vcpu, uint64_t addr, unsigned len)
{
	if (vcpu->mmio_nr == VCPU_MMIO_FRAGS || vcpu->mmio_write_out || len > 8) {
		vcpu->emu->ctx.unhandleable = "an instruction with more I/O reads than hvlab keeps";
		return EMU_UNHANDLEABLE;
	}
	struct vcpu_mmio_frag *f = &vcpu->mmio_r[vcpu->mmio_nr];
	f->gpa = addr;
	f->len = len;
	vcpu->pending_io = VCPU_IO_MMIO_READ;
	return EMU_IO_NEEDED;
}

static int mmio_read(struct hv_vcpu *vcpu, gpa_t gpa, void *buf, unsigned len)
{
	const int r = take_answer(vcpu, gpa, buf, len);
	if (r)
		return r > 0 ? EMU_CONTINUE : EMU_UNHANDLEABLE;
	vcpu->vm->stats.mmio_exits++;
	if (irq_mmio_read(vcpu, gpa, buf, len))
		return EMU_CONTINUE;
	const int out = read_out(vcpu, gpa, len);
	if (out == EMU_IO_NEEDED)
		vcpu_mmio_exit(vcpu, gpa, len, NULL);
	return out;
}

static int mmio_write(struct hv_vcpu *vcpu, gpa_t gpa, const void *buf, unsigned len)
{
	if (irq_mmio_write(vcpu, gpa, buf, len)) {
		vcpu->vm->stats.mmio_exits++;
		return EMU_CONTINUE;
	}
	if (vcpu->mmio_nw == VCPU_MMIO_FRAGS || len > 8) {
		vcpu->emu->ctx.unhandleable = "an instruction with more MMIO writes than hvlab keeps";
		return EMU_UNHANDLEABLE;
	}
	struct vcpu_mmio_frag *f = &vcpu->mmio_w[vcpu->mmio_nw++];
	f->gpa = gpa;
	f->len = len;
	memcpy(f->data, buf, len);
	return EMU_CONTINUE;
}

int vcpu_mmio_send_write(struct hv_vcpu *vcpu)
{
	const struct vcpu_mmio_frag *f = &vcpu->mmio_w[vcpu->mmio_wnext++];
	vcpu->vm->stats.mmio_exits++;
	vcpu_mmio_exit(vcpu, f->gpa, f->len, f->data);
	vcpu->pending_io = vcpu->mmio_wnext < vcpu->mmio_nw ? VCPU_IO_MMIO_WRITES : VCPU_IO_NONE;
	return 0;
}

/* One access within one page. */
static int phys_access(struct emu_ctx *ctx, uint64_t la, void *buf, unsigned size,
		       unsigned acc, bool write)
{
	struct hv_vcpu *vcpu = ctx_vcpu(ctx);
	struct hv_vm *vm = vcpu->vm;
	gpa_t gpa;
	int r = translate(ctx, la, acc | (write ? EMU_ACC_WRITE : 0), &gpa);
	if (r)
		return r;
	struct hv_memslot *s = vm_slot_of(vm, gpa_to_gfn(gpa));
	if (!s || (write && (s->flags & HV_MEM_READONLY))) {
		if (acc & EMU_ACC_FETCH) {
			ctx->unhandleable = "instruction fetch from MMIO";
			return EMU_UNHANDLEABLE;
		}
		return write ? mmio_write(vcpu, gpa, buf, size) : mmio_read(vcpu, gpa, buf, size);
	}
	const hpa_t hpa = slot_gfn_to_hpa(s, gpa_to_gfn(gpa)) + (gpa & (HV_PAGE_SIZE - 1));
	if (!write) {
		memcpy(buf, vm_hpa_ptr(vm, hpa), size);
		return EMU_CONTINUE;
	}
	memcpy(vm_hpa_ptr(vm, hpa), buf, size);
	vm->backend->hpa_written(vm, hpa, size);
	vm_mark_dirty(vm, s, gpa_to_gfn(gpa));
	mmu_track_write(vcpu, gpa, buf, size);
	return EMU_CONTINUE;
}

static int access(struct emu_ctx *ctx, uint64_t la, void *buf, unsigned size, unsigned acc,
		  bool write)
{
	uint8_t *p = buf;
	while (size) {
		unsigned n = HV_PAGE_SIZE - (la & (HV_PAGE_SIZE - 1));
		if (n > size)
			n = size;
		int r = phys_access(ctx, la, p, n, acc, write);
		if (r)
			return r;
		la += n;
		p += n;
		size -= n;
	}
	return EMU_CONTINUE;
}

static int op_read(struct emu_ctx *ctx, uint64_t la, void *buf, unsigned size, unsigned acc)
{
	return access(ctx, la, buf, size, acc & ~EMU_ACC_WRITE, false);
}

static int op_write(struct emu_ctx *ctx, uint64_t la, const void *buf, unsigned size,
		    unsigned acc)
{
	return access(ctx, la, (void *)buf, size, acc, true);
}

static int op_fetch(struct emu_ctx *ctx, uint64_t la, void *buf, unsigned size)
{
	return access(ctx, la, buf, size, EMU_ACC_FETCH, false);
}

/* Port I/O from string instructions (plain IN/OUT exits never get
 * here: core/exit.c completes them without the engine). */
static int op_pio_in(struct emu_ctx *ctx, uint16_t port, void *val, unsigned size)
{
	struct hv_vcpu *vcpu = ctx_vcpu(ctx);
	if (irq_pio_in(vcpu, port, val, size))
		return EMU_CONTINUE;
	const int r = take_answer(vcpu, port, val, size);
	if (r)
		return r > 0 ? EMU_CONTINUE : EMU_UNHANDLEABLE;
	const int out = read_out(vcpu, port, size);
	if (out == EMU_IO_NEEDED)
		vcpu_io_exit(vcpu, true, port, size, NULL);
	return out;
}

static int op_pio_out(struct emu_ctx *ctx, uint16_t port, const void *val, unsigned size)
{
	struct hv_vcpu *vcpu = ctx_vcpu(ctx);
	if (irq_pio_out(vcpu, port, val, size))
		return EMU_CONTINUE;
	if (vcpu->mmio_write_out || vcpu->mmio_nw) {
		ctx->unhandleable = "an instruction with more than one I/O write";
		return EMU_UNHANDLEABLE;
	}
	vcpu_io_exit(vcpu, false, port, size, val);
	vcpu->mmio_write_out = true;
	return EMU_CONTINUE;
}

static void sync_modes(struct emu_ctx *ctx)
{
	struct hv_vcpu *vcpu = ctx_vcpu(ctx);
	ctx->cpu.cr0 = vcpu_get_cr(vcpu, 0);
	ctx->cpu.cr4 = vcpu_get_cr(vcpu, 4);
	ctx->cpu.efer = vcpu->vm->backend->get_efer(vcpu);
}

static int op_get_cr(struct emu_ctx *ctx, unsigned cr, uint64_t *val)
{
	*val = vcpu_get_cr(ctx_vcpu(ctx), cr);
	return EMU_CONTINUE;
}

static int op_set_cr(struct emu_ctx *ctx, unsigned cr, uint64_t val)
{
	if (vcpu_set_cr(ctx_vcpu(ctx), cr, val))
		return emu_raise(ctx, EMU_EXC_GP, true, 0);
	sync_modes(ctx);
	return EMU_CONTINUE;
}

static int op_get_dr(struct emu_ctx *ctx, unsigned dr, uint64_t *val)
{
	*val = ctx_vcpu(ctx)->vm->backend->get_dr(ctx_vcpu(ctx), dr);
	return EMU_CONTINUE;
}

static int op_set_dr(struct emu_ctx *ctx, unsigned dr, uint64_t val)
{
	ctx_vcpu(ctx)->vm->backend->set_dr(ctx_vcpu(ctx), dr, val);
	return EMU_CONTINUE;
}

static int op_rdmsr(struct emu_ctx *ctx, uint32_t msr, uint64_t *val)
{
	if (vcpu_rdmsr(ctx_vcpu(ctx), msr, val))
		return emu_raise(ctx, EMU_EXC_GP, true, 0);
	return EMU_CONTINUE;
}

static int op_wrmsr(struct emu_ctx *ctx, uint32_t msr, uint64_t val)
{
	if (vcpu_wrmsr(ctx_vcpu(ctx), msr, val))
		return emu_raise(ctx, EMU_EXC_GP, true, 0);
	sync_modes(ctx);
	return EMU_CONTINUE;
}

static int op_cpuid(struct emu_ctx *ctx, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	guest_cpuid(ctx_vcpu(ctx), leaf, subleaf, out);
	return EMU_CONTINUE;
}

static int op_rdtsc(struct emu_ctx *ctx, uint64_t *tsc)
{
	*tsc = vcpu_guest_tsc(ctx_vcpu(ctx));
	return EMU_CONTINUE;
}

static int op_invlpg(struct emu_ctx *ctx, uint64_t la)
{
	struct hv_vcpu *vcpu = ctx_vcpu(ctx);
	mmu_invlpg(vcpu, la);
	vcpu->vm->backend->flush_tlb(vcpu, HV_FLUSH_GUEST);
	return EMU_CONTINUE;
}

/* INVPCID (SDM Vol. 2A; 4.10.4.1): type 0 drops one address's
 * translations (the MMU's INVLPG; for another PCID it drops more than
 * asked, which is allowed), the others whole contexts (a full flush). */
static int op_invpcid(struct emu_ctx *ctx, unsigned type, uint64_t pcid, uint64_t la)
{
	struct hv_vcpu *vcpu = ctx_vcpu(ctx);
	(void)pcid;
	if (type == 0)
		mmu_invlpg(vcpu, la);
	else
		mmu_flush_tlb(vcpu);
	vcpu->vm->backend->flush_tlb(vcpu, HV_FLUSH_GUEST);
	return EMU_CONTINUE;
}

static int op_halt(struct emu_ctx *ctx)
{
	ctx_vcpu(ctx)->halted = true;
	return EMU_CONTINUE;
}

static int op_nop(struct emu_ctx *ctx)
{
	return EMU_CONTINUE;
}

static void op_set_shadow(struct emu_ctx *ctx, bool mov_ss)
{
	ctx_vcpu(ctx)->vm->backend->set_interrupt_shadow(ctx_vcpu(ctx), true);
}

static const struct emu_ops vcpu_emu_ops = {
	.read = op_read,
	.write = op_write,
	.fetch = op_fetch,
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
	.halt = op_halt,
	.pause = op_nop,
	.set_shadow = op_set_shadow,
};

/* ------------------------------------------------------------ state */

static void load_state(struct hv_vcpu *vcpu, struct emu_cpu *c)
{
	const struct hv_backend_ops *be = vcpu->vm->backend;
	struct hv_segment s;
	struct hv_dtable dt;

	memcpy(c->gpr, vcpu->gpr, sizeof(c->gpr));
	c->rip = be->get_rip(vcpu);
	c->rflags = be->get_rflags(vcpu);
	for (unsigned i = 0; i < EMU_NR_SREGS; i++) {
		be->get_segment(vcpu, i, &s);
		c->seg[i] = (struct emu_segment){ .base = s.base, .limit = s.limit,
						  .ar = seg_to_ar(&s), .sel = s.selector };
	}
	be->get_segment(vcpu, HV_SEG_LDTR, &s);
	c->ldtr = (struct emu_segment){ s.base, s.limit, seg_to_ar(&s), s.selector };
	be->get_segment(vcpu, HV_SEG_TR, &s);
	c->tr = (struct emu_segment){ s.base, s.limit, seg_to_ar(&s), s.selector };
	be->get_dtable(vcpu, false, &dt);
	c->gdtr = (struct emu_dtable){ dt.base, dt.limit };
	be->get_dtable(vcpu, true, &dt);
	c->idtr = (struct emu_dtable){ dt.base, dt.limit };
	c->cr0 = vcpu_get_cr(vcpu, 0);
	c->cr4 = vcpu_get_cr(vcpu, 4);
	c->efer = be->get_efer(vcpu);
	if (!(c->cr0 & EMU_CR0_PE))
		c->cpl = 0;
	else if (c->rflags & EMU_FLAG_VM)
		c->cpl = 3;
	else
		c->cpl = EMU_AR_DPL(c->seg[EMU_SS].ar);
}

static void store_seg(struct hv_vcpu *vcpu, enum hv_seg i, const struct emu_segment *n,
		      const struct emu_segment *o)
{
	if (!memcmp(n, o, sizeof(*n)))
		return;
	struct hv_segment s = { .base = n->base, .limit = n->limit, .selector = n->sel };
	ar_to_seg(n->ar, &s);
	vcpu->vm->backend->set_segment(vcpu, i, &s);
}

static void store_state(struct hv_vcpu *vcpu, const struct emu_cpu *c, const struct emu_cpu *o)
{
	const struct hv_backend_ops *be = vcpu->vm->backend;
	memcpy(vcpu->gpr, c->gpr, sizeof(vcpu->gpr));
	be->set_rip(vcpu, c->rip);
	be->set_rflags(vcpu, c->rflags);
	for (unsigned i = 0; i < EMU_NR_SREGS; i++)
		store_seg(vcpu, i, &c->seg[i], &o->seg[i]);
	store_seg(vcpu, HV_SEG_LDTR, &c->ldtr, &o->ldtr);
	store_seg(vcpu, HV_SEG_TR, &c->tr, &o->tr);
	if (memcmp(&c->gdtr, &o->gdtr, sizeof(c->gdtr)))
		be->set_dtable(vcpu, false, &(struct hv_dtable){ c->gdtr.base, c->gdtr.limit });
	if (memcmp(&c->idtr, &o->idtr, sizeof(c->idtr)))
		be->set_dtable(vcpu, true, &(struct hv_dtable){ c->idtr.base, c->idtr.limit });
}

static struct vcpu_emu *get_emu(struct hv_vcpu *vcpu)
{
	if (!vcpu->emu) {
		vcpu->emu = calloc(1, sizeof(*vcpu->emu));
		if (!vcpu->emu)
			return NULL;
		vcpu->emu->vcpu = vcpu;
		vcpu->emu->ctx.ops = &vcpu_emu_ops;
		vcpu->emu->ctx.rep_limit = 1;
	}
	return vcpu->emu;
}

void vcpu_emulate_free(struct hv_vcpu *vcpu)
{
	free(vcpu->emu);
	vcpu->emu = NULL;
}

static int unhandleable(struct hv_vcpu *vcpu, const char *why)
{
	struct hv_run *run = vcpu->run;
	vcpu->vm->stats.insn_emulation_fail++;
	run->exit_reason = HV_EXIT_INTERNAL_ERROR;
	run->internal.suberror = HV_INTERNAL_EMULATION;
	snprintf(run->internal.why, sizeof(run->internal.why), "emulating the instruction at "
		 "rip %#llx: %s", (unsigned long long)vcpu->vm->backend->get_rip(vcpu),
		 why ? why : "unsupported");
	return 0;
}

int vcpu_emulate(struct hv_vcpu *vcpu)
{
	struct vcpu_emu *e = get_emu(vcpu);
	if (!e)
		return vm_err(-ENOMEM, "out of memory");
	struct emu_ctx *ctx = &e->ctx;
	struct emu_cpu before;

	vcpu->vm->stats.insn_emulation++;
	vcpu->mmio_write_out = false;
	vcpu->mmio_rnext = 0;
	vcpu->mmio_nw = vcpu->mmio_wnext = 0;
	load_state(vcpu, &ctx->cpu);
	before = ctx->cpu;
	int r = emu_step(ctx);
	if (r != EMU_IO_NEEDED)
		vcpu->mmio_nr = 0;	/* the instruction is over: answers used */
	else
		vcpu->mmio_nw = 0;	/* the rerun makes its writes again */
	switch (r) {
	case EMU_CONTINUE:
	case EMU_HALT:
		store_state(vcpu, &ctx->cpu, &before);
		if (r == EMU_HALT)
			vcpu->halted = true;
		if (vcpu->mmio_nw)
			return vcpu_mmio_send_write(vcpu);
		if (vcpu->mmio_write_out) {
			vcpu->mmio_write_out = false;
			return 0;
		}
		return 1;
	case EMU_IO_NEEDED:
		return 0;
	case EMU_EXCEPTION: {
		const struct emu_exception *x = &ctx->exc;
		if (x->kind == EMU_EVENT_SOFTINT || (x->kind == EMU_EVENT_TRAP && x->vector != EMU_EXC_DB)) {
			/* INT n, INT3, INTO: injected as software events at the
			 * instruction, which the processor then steps over. */
			vcpu_queue_soft(vcpu, x->kind == EMU_EVENT_SOFTINT ? HV_EVENT_SOFTINT
									   : HV_EVENT_SOFTEXC,
					x->vector, x->insn_len);
			return 1;
		}
		if (x->kind == EMU_EVENT_TRAP)		/* #DB trap: after the instruction */
			store_state(vcpu, &ctx->cpu, &before);
		if (x->vector == EMU_EXC_PF)
			vcpu_queue_pf(vcpu, x->cr2, x->error_code);
		else
			vcpu_queue_exception(vcpu, x->vector, x->has_error_code, x->error_code);
		return 1;
	}
	case EMU_STOP:
	case EMU_UNHANDLEABLE:
	default:
		vcpu->pending_io = VCPU_IO_NONE;
		vcpu->mmio_nw = 0;
		return unhandleable(vcpu, ctx->unhandleable);
	}
}

/* ------------------------------------------------------------ events */

/* HV_EVENT_* to emulate/'s event types (both number the VMX
 * interruption types, SDM Vol. 3C 25.8.3, in their own order). */
static const uint8_t emu_type[] = {
	[HV_EVENT_EXTINT] = EMU_EVENT_TYPE_EXT_INT,
	[HV_EVENT_NMI] = EMU_EVENT_TYPE_NMI,
	[HV_EVENT_EXCEPTION] = EMU_EVENT_TYPE_HW_EXC,
	[HV_EVENT_SOFTINT] = EMU_EVENT_TYPE_SOFT_INT,
	[HV_EVENT_SOFTEXC] = EMU_EVENT_TYPE_SOFT_EXC,
	[HV_EVENT_PRIV_SOFTEXC] = EMU_EVENT_TYPE_PRIV_SOFT_EXC,
};

int vcpu_emulate_event(struct hv_vcpu *vcpu, const struct hv_event *ev, uint64_t cr2)
{
	struct vcpu_emu *e = get_emu(vcpu);
	if (!e)
		return vm_err(-ENOMEM, "out of memory");
	if (ev->type >= sizeof(emu_type))
		return unhandleable(vcpu, "an event of unknown type");
	struct emu_ctx *ctx = &e->ctx;
	const struct emu_event ee = { .vector = ev->vector, .type = emu_type[ev->type],
				      .has_error_code = ev->has_error_code,
				      .error_code = ev->error_code };
	struct emu_cpu before;

	load_state(vcpu, &ctx->cpu);
	before = ctx->cpu;
	if (ee.type == EMU_EVENT_TYPE_SOFT_INT || ee.type == EMU_EVENT_TYPE_SOFT_EXC ||
	    ee.type == EMU_EVENT_TYPE_PRIV_SOFT_EXC) {
		/* The frame returns past INT n / INT3 / INTO / INT1, with IP
		 * or EIP wrapping as the instruction's own advance would. */
		const enum emu_mode m = emu_cpu_mode(&ctx->cpu);
		const uint64_t next = ctx->cpu.rip + ev->insn_len;
		ctx->cpu.rip = m == EMU_MODE_16 ? next & 0xffff :
			       m == EMU_MODE_32 ? next & 0xffffffffull : next;
	} else if (ee.type == EMU_EVENT_TYPE_HW_EXC) {
		/* A #PF loads CR2 as it is delivered; a fault's RFLAGS image
		 * carries RF = 1 (SDM Vol. 3B 18.3.1.1; a #DB may be a trap). */
		if (ee.vector == EMU_EXC_PF)
			vcpu->vm->backend->set_cr(vcpu, 2, cr2);
		if (ee.vector != EMU_EXC_DB)
			ctx->cpu.rflags |= EMU_FLAG_RF;
	}
	switch (emu_deliver(ctx, &ee)) {
	case EMU_CONTINUE:
		store_state(vcpu, &ctx->cpu, &before);
		return 1;
	case EMU_EXCEPTION: {
		/* Registers are as before (RIP at a software event's
		 * instruction, SDM Vol. 3A 6.12); the fault is queued with
		 * the event it interrupted pending, so two exceptions
		 * combine as Table 6-5 says. */
		const struct emu_exception *x = &ctx->exc;
		vcpu->exc_pending = ev->type == HV_EVENT_EXCEPTION;
		vcpu->exc = *ev;
		if (x->vector == EMU_EXC_PF)
			vcpu_queue_pf(vcpu, x->cr2, x->error_code);
		else
			vcpu_queue_exception(vcpu, x->vector, x->has_error_code, x->error_code);
		return 1;
	}
	default:
		return unhandleable(vcpu, ctx->unhandleable);
	}
}

uint64_t vcpu_emulated_insns(struct hv_vcpu *vcpu)
{
	return vcpu->emu ? vcpu->emu->ctx.icount : 0;
}
