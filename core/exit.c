/*
 * exit.c — what hvlab does for each exit, vendor-neutral (ARCHITECTURE
 * §5): the backend has decoded the hardware exit into vcpu->exit
 * (struct hv_exit); the table at the bottom maps each reason to one
 * handler. Instruction exits complete the instruction as the SDM defines
 * it and step past it (skip_instruction); a fault or #GP the instruction
 * raises is queued instead (core/event.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/mmu_call.h"
#include "core/cpuid.h"
#include "core/cr.h"
#include "core/debug.h"
#include "core/emulate.h"
#include "core/event.h"
#include "core/exit.h"
#include "core/irq/irq.h"
#include "core/msr.h"
#include "core/vm.h"
#include "mmu/mmu.h"

#define EXC_DB 1
#define EXC_BP 3
#define EXC_UD 6
#define EXC_GP 13

enum { RAX, RCX, RDX, RBX };

int vcpu_internal_error(struct hv_vcpu *vcpu, unsigned suberror, const char *fmt, ...)
{
	struct hv_run *run = vcpu->run;
	va_list ap;
	run->exit_reason = HV_EXIT_INTERNAL_ERROR;
	run->internal.suberror = suberror;
	va_start(ap, fmt);
	vsnprintf(run->internal.why, sizeof(run->internal.why), fmt, ap);
	va_end(ap);
	return EXIT_TO_VMM;
}

static const struct hv_backend_ops *be(struct hv_vcpu *vcpu)
{
	return vcpu->vm->backend;
}

static int skip(struct hv_vcpu *vcpu)
{
	be(vcpu)->skip_instruction(vcpu);
	return EXIT_RESUME;
}

static int inject_gp(struct hv_vcpu *vcpu)
{
	vcpu_queue_exception(vcpu, EXC_GP, true, 0);
	return EXIT_RESUME;
}

static int inject_ud(struct hv_vcpu *vcpu)
{
	vcpu_queue_exception(vcpu, EXC_UD, false, 0);
	return EXIT_RESUME;
}

static int handle_resume(struct hv_vcpu *vcpu)
{
	return EXIT_RESUME;
}

static int handle_extint(struct hv_vcpu *vcpu)
{
	vcpu->vm->stats.irq_exits++;
	return EXIT_RESUME;
}

/*
 * Host time of the MMU's fault handling, for pf_host_ns (the figure
 * bench/mmu divides by the faults handled; CONFIG_HV_FAULT_TIMING, on by
 * default, turns the clock reads off). It only feeds a statistic:
 * what the guest sees stays the model's virtual time (core/clock.c).
 *
 * An interval between two clock reads also holds about one read's own
 * cost, which is not small where clock_gettime() is a system call (a
 * paravirtualised clock the vDSO cannot read: 200-300 ns on the machine
 * docs/perf.md describes, against a fault's 500-1000). That cost, the
 * least difference between back-to-back reads, measured once per
 * process, is taken off each interval.
 */
static uint64_t host_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t host_clock_cost(void)
{
	static uint64_t cost = UINT64_MAX;	/* racing vcpus both measure: either will do */
	uint64_t c = __atomic_load_n(&cost, __ATOMIC_RELAXED);
	if (c == UINT64_MAX) {
		uint64_t prev = host_ns();
		for (int i = 0; i < 32; i++) {
			const uint64_t t = host_ns();
			if (t - prev < c)
				c = t - prev;
			prev = t;
		}
		__atomic_store_n(&cost, c, __ATOMIC_RELAXED);
	}
	return c;
}

static enum ret_pf timed_page_fault(struct hv_vcpu *vcpu, uint64_t addr, uint32_t access,
				    bool present)
{
#ifndef CONFIG_HV_FAULT_TIMING
	return mmu_page_fault(vcpu, addr, access, present);
#endif
	const uint64_t cost = host_clock_cost(), t0 = host_ns();
	const enum ret_pf r = mmu_page_fault(vcpu, addr, access, present);
	const uint64_t dt = host_ns() - t0;
	vcpu->vm->stats.pf_host_ns += dt > cost ? dt - cost : 0;
	return r;
}

/*
 * A #PF under a shadow MMU: the processor faulted on the shadow tables,
 * which may only lack what the guest's own tables allow (a hidden fault)
 * or agree with the guest that the access faults. The MMU decides; for a
 * guest fault it has queued the #PF with the walk's error code and CR2.
 */
static int handle_shadow_pf(struct hv_vcpu *vcpu)
{
	const struct hv_exit *x = &vcpu->exit;
	/*
	 * Met while delivering an event (the run loop queued it for
	 * re-injection). If the fault is the guest's, the event is not
	 * delivered: an exception combines with the #PF as SDM Vol. 3A
	 * Table 6-5 says (#PF then #PF: #DF; #DF then #PF: shutdown), which
	 * core/event.c does for a pending exception, so it is made one; a
	 * software INT n is dropped, RIP still at it (6.12: the fault points
	 * to the INT n). A hidden fault re-injects the event as it was.
	 */
	const bool reinject = vcpu->reinject_pending && !vcpu->exc_pending;
	const bool exc = reinject && vcpu->reinject.type == HV_EVENT_EXCEPTION;
	const bool soft = reinject && (vcpu->reinject.type == HV_EVENT_SOFTINT ||
				       vcpu->reinject.type == HV_EVENT_SOFTEXC ||
				       vcpu->reinject.type == HV_EVENT_PRIV_SOFTEXC);
	if (exc) {
		vcpu->exc_pending = true;
		vcpu->exc = vcpu->reinject;
		vcpu->exc_cr2 = be(vcpu)->get_cr(vcpu, 2);
		vcpu->reinject_pending = false;
	}
	const enum ret_pf r = timed_page_fault(vcpu, x->exc.cr2, x->exc.error_code,
					       x->exc.error_code & 1);
	if (exc && r != RET_PF_GUEST) {
		vcpu->exc_pending = false;
		vcpu->reinject_pending = true;
	}
	if (soft && r == RET_PF_GUEST)
		vcpu->reinject_pending = false;
	switch (r) {
	case RET_PF_RETRY:
	case RET_PF_GUEST:
		return EXIT_RESUME;
	case RET_PF_EMULATE:
		return vcpu_emulate(vcpu);
	case RET_PF_ERROR:
	default:
		return vcpu_internal_error(vcpu, HV_INTERNAL_MMU, "cannot map guest-virtual "
					   "%#llx: %s", (unsigned long long)x->exc.cr2,
					   hv_strerror());
	}
}

static int handle_exception(struct hv_vcpu *vcpu)
{
	const struct hv_exit *x = &vcpu->exit;
	if (x->exc.vector == 14 && vcpu->vm->mmu->style == HV_MMU_SHADOW)
		return handle_shadow_pf(vcpu);
	if ((x->exc.vector == EXC_DB || x->exc.vector == EXC_BP) && vcpu_debug_exit(vcpu))
		return EXIT_TO_VMM;
	/* Not ours: give the guest its exception back (a #BP as the soft
	 * exception it is, stepping over the INT3). */
	if (x->exc.vector == EXC_BP && x->insn_len)
		vcpu_queue_soft(vcpu, HV_EVENT_SOFTEXC, EXC_BP, x->insn_len);
	else if (x->exc.vector == 14)
		vcpu_queue_pf(vcpu, x->exc.cr2, x->exc.error_code);
	else
		vcpu_queue_exception(vcpu, x->exc.vector, x->exc.has_error_code,
				     x->exc.error_code);
	if (x->exc.vector == EXC_DB) {
		/* What delivering the #DB would have done to DR6 and DR7 (SDM
		 * Vol. 3B 18.2.3, 18.2.4: the status bits set, GD cleared);
		 * a VMX exit leaves both alone (Vol. 3C 27.1). */
		be(vcpu)->set_dr(vcpu, 6, be(vcpu)->get_dr(vcpu, 6) | x->exc.dr6);
		be(vcpu)->set_dr(vcpu, 7, be(vcpu)->get_dr(vcpu, 7) & ~(1ull << 13));
	}
	return EXIT_RESUME;
}

static int handle_triple_fault(struct hv_vcpu *vcpu)
{
	vcpu->run->exit_reason = HV_EXIT_SHUTDOWN;
	return EXIT_TO_VMM;
}

static int handle_irq_window(struct hv_vcpu *vcpu)
{
	vcpu->vm->stats.irq_window_exits++;
	be(vcpu)->set_irq_window(vcpu, false);
	return EXIT_RESUME;
}

static int handle_nmi_window(struct hv_vcpu *vcpu)
{
	vcpu->vm->stats.nmi_window_exits++;
	be(vcpu)->set_nmi_window(vcpu, false);
	return EXIT_RESUME;
}

static int handle_cpuid(struct hv_vcpu *vcpu)
{
	uint32_t out[4];
	vcpu->vm->stats.cpuid_exits++;
	guest_cpuid(vcpu, (uint32_t)vcpu->gpr[RAX], (uint32_t)vcpu->gpr[RCX], out);
	vcpu->gpr[RAX] = out[0];
	vcpu->gpr[RBX] = out[1];
	vcpu->gpr[RCX] = out[2];
	vcpu->gpr[RDX] = out[3];
	return skip(vcpu);
}

/*
 * HLT: the vcpu waits for an interrupt (core/run.c lets virtual time
 * jump to the next timer). With RFLAGS.IF = 0 only an NMI, INIT or
 * STARTUP could wake it: run alone by hv_run, nothing can send one, and
 * the VMM hears about it, as a guest that ends with CLI; HLT expects;
 * under the scheduler another vcpu may (core/sched.c ends the VM when
 * every vcpu waits like this).
 */
static int handle_hlt(struct hv_vcpu *vcpu)
{
	vcpu->vm->stats.halt_exits++;
	skip(vcpu);
	if (!vcpu->sched && !(be(vcpu)->get_rflags(vcpu) & (1u << 9)) && !vcpu->nmi_pending) {
		vcpu->run->exit_reason = HV_EXIT_HLT;
		return EXIT_TO_VMM;
	}
	vcpu->halted = true;
	return EXIT_RESUME;
}

static int handle_invlpg(struct hv_vcpu *vcpu)
{
	vcpu->vm->stats.invlpg++;
	if (!vcpu->exit.invlpg.gva_valid)
		return vcpu_emulate(vcpu);
	mmu_invlpg(vcpu, vcpu->exit.invlpg.gva);
	return skip(vcpu);
}

static int handle_cr(struct hv_vcpu *vcpu)
{
	const struct hv_exit *x = &vcpu->exit;
	vcpu->vm->stats.cr_exits++;
	if ((x->cr.type == HV_CR_MOV_TO || x->cr.type == HV_CR_MOV_FROM) && x->cr.gpr >= 16)
		return vcpu_emulate(vcpu);
	switch (x->cr.type) {
	case HV_CR_MOV_TO:
		if (vcpu_set_cr(vcpu, x->cr.cr, vcpu->gpr[x->cr.gpr]))
			return inject_gp(vcpu);
		return skip(vcpu);
	case HV_CR_MOV_FROM:
		vcpu->gpr[x->cr.gpr] = vcpu_get_cr(vcpu, x->cr.cr);
		return skip(vcpu);
	case HV_CR_CLTS:
		vcpu_set_cr(vcpu, 0, vcpu_get_cr(vcpu, 0) & ~CR0_TS);
		return skip(vcpu);
	case HV_CR_LMSW: {
		/* LMSW loads CR0[3:0] but cannot clear PE (SDM Vol. 2A LMSW). */
		const uint64_t cr0 = vcpu_get_cr(vcpu, 0);
		const uint64_t v = (cr0 & ~0xeull) | (x->cr.lmsw_src & 0xf) | (cr0 & CR0_PE);
		if (vcpu_set_cr(vcpu, 0, v))
			return inject_gp(vcpu);
		return skip(vcpu);
	}
	default:
		return vcpu_internal_error(vcpu, HV_INTERNAL_UNEXPECTED_EXIT,
					   "CR access of unknown type %u", x->cr.type);
	}
}

static int handle_msr_read(struct hv_vcpu *vcpu)
{
	uint64_t v;
	vcpu->vm->stats.msr_exits++;
	if (vcpu_rdmsr(vcpu, (uint32_t)vcpu->gpr[RCX], &v))
		return inject_gp(vcpu);
	vcpu->gpr[RAX] = (uint32_t)v;
	vcpu->gpr[RDX] = v >> 32;
	return skip(vcpu);
}

static int handle_msr_write(struct hv_vcpu *vcpu)
{
	vcpu->vm->stats.msr_exits++;
	const uint64_t v = (uint32_t)vcpu->gpr[RAX] | (vcpu->gpr[RDX] << 32);
	if (vcpu_wrmsr(vcpu, (uint32_t)vcpu->gpr[RCX], v))
		return inject_gp(vcpu);
	return skip(vcpu);
}

/*
 * Plain IN/OUT: the PICs' ports stay in hvlab; the rest go to the VMM.
 * OUT completes before hv_run returns; IN completes on the next hv_run
 * with run->io.data (core/run.c). String forms go through the emulator.
 */
static int handle_io(struct hv_vcpu *vcpu)
{
	const struct hv_exit *x = &vcpu->exit;
	const unsigned size = x->io.size;
	uint32_t val = 0;

	if (x->io.string)
		return vcpu_emulate(vcpu);
	if (x->io.in) {
		if (irq_pio_in(vcpu, x->io.port, &val, size)) {
			vcpu_complete_pio_in(vcpu, val, size);
			return skip(vcpu);
		}
	} else {
		val = (uint32_t)vcpu->gpr[RAX];
		if (irq_pio_out(vcpu, x->io.port, &val, size))
			return skip(vcpu);
	}
	vcpu_io_exit(vcpu, x->io.in, x->io.port, size, x->io.in ? NULL : &val);
	if (x->io.in) {
		vcpu->pending_io = VCPU_IO_PIO_IN;
		vcpu->pio_in_gpr_size = (uint8_t)size;
	} else {
		skip(vcpu);
	}
	return EXIT_TO_VMM;
}

void vcpu_io_exit(struct hv_vcpu *vcpu, bool in, uint16_t port, unsigned size, const void *data)
{
	struct hv_run *run = vcpu->run;
	vcpu->vm->stats.io_exits++;
	run->exit_reason = HV_EXIT_IO;
	run->io.direction = in ? HV_EXIT_IO_IN : HV_EXIT_IO_OUT;
	run->io.size = (uint8_t)size;
	run->io.port = port;
	run->io.count = 1;
	memset(run->io.data, 0, sizeof(run->io.data));
	if (data)
		memcpy(run->io.data, data, size);
}

void vcpu_mmio_exit(struct hv_vcpu *vcpu, gpa_t gpa, unsigned len, const void *data)
{
	struct hv_run *run = vcpu->run;
	run->exit_reason = HV_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = len;
	run->mmio.is_write = data != NULL;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	if (data)
		memcpy(run->mmio.data, data, len);
}

/* MONITOR/MWAIT: CPUID does not offer them; a guest that uses them
 * anyway gets the NOP that MWAIT is allowed to be (SDM Vol. 2B MWAIT:
 * it may wake at any time). */
static int handle_nop(struct hv_vcpu *vcpu)
{
	return skip(vcpu);
}

/* VMCALL/VMMCALL: no hypercalls are defined; RAX gets KVM's -ENOSYS
 * (-1000), as a guest probing for KVM's interface expects. */
static int handle_hypercall(struct hv_vcpu *vcpu)
{
	vcpu->vm->stats.hypercalls++;
	vcpu->gpr[RAX] = (uint64_t)-1000;
	return skip(vcpu);
}

static int handle_tdp_fault(struct hv_vcpu *vcpu)
{
	const struct hv_exit *x = &vcpu->exit;
	switch (timed_page_fault(vcpu, x->tdp.gpa, x->tdp.access, x->tdp.present)) {
	case RET_PF_RETRY:
		return EXIT_RESUME;
	case RET_PF_EMULATE:
		return vcpu_emulate(vcpu);
	case RET_PF_GUEST:
		return EXIT_RESUME;
	case RET_PF_ERROR:
	default:
		return vcpu_internal_error(vcpu, HV_INTERNAL_MMU, "cannot map guest-physical "
					   "%#llx: %s", (unsigned long long)x->tdp.gpa,
					   hv_strerror());
	}
}

/* The processor refused the guest state. States VMX refuses only for
 * want of unrestricted guest (real mode, real-mode segment leftovers)
 * never get here: core/invalid_state.c emulates them. */
static int handle_fail_entry(struct hv_vcpu *vcpu)
{
	vcpu->run->exit_reason = HV_EXIT_FAIL_ENTRY;
	vcpu->run->fail_entry.hardware_exit_reason = vcpu->exit.fail.code;
	return EXIT_TO_VMM;
}

static int handle_unsupported(struct hv_vcpu *vcpu)
{
	const struct hv_exit *x = &vcpu->exit;
	return vcpu_internal_error(vcpu, HV_INTERNAL_UNSUPPORTED, "%s",
				   x->why ? x->why : "the model does not implement this");
}

static int handle_task_switch(struct hv_vcpu *vcpu)
{
	return vcpu_internal_error(vcpu, HV_INTERNAL_UNSUPPORTED,
				   "task switch to TSS selector %#x: not implemented",
				   vcpu->exit.task.sel);
}

static int handle_unexpected(struct hv_vcpu *vcpu)
{
	const struct hv_exit *x = &vcpu->exit;
	return vcpu_internal_error(vcpu, HV_INTERNAL_UNEXPECTED_EXIT, "unexpected exit %s (%#llx)%s%s",
				   be(vcpu)->exit_name(x->raw), (unsigned long long)x->raw,
				   x->why ? ": " : "", x->why ? x->why : "");
}

static int (*const handlers[HVX_NR_REASONS])(struct hv_vcpu *vcpu) = {
	[HVX_UNKNOWN]		= handle_unexpected,
	[HVX_EXTINT]		= handle_extint,
	[HVX_NMI]		= handle_resume,
	[HVX_EXCEPTION]		= handle_exception,
	[HVX_TRIPLE_FAULT]	= handle_triple_fault,
	[HVX_INIT]		= handle_unsupported,
	[HVX_IRQ_WINDOW]	= handle_irq_window,
	[HVX_NMI_WINDOW]	= handle_nmi_window,
	[HVX_TASK_SWITCH]	= handle_task_switch,
	[HVX_CPUID]		= handle_cpuid,
	[HVX_HLT]		= handle_hlt,
	[HVX_INVD]		= handle_nop,
	[HVX_WBINVD]		= handle_nop,
	[HVX_INVLPG]		= handle_invlpg,
	[HVX_INVPCID]		= vcpu_emulate,
	[HVX_RDPMC]		= vcpu_emulate,
	[HVX_RDTSC]		= vcpu_emulate,
	[HVX_RDTSCP]		= vcpu_emulate,
	[HVX_CR_ACCESS]		= handle_cr,
	[HVX_DR_ACCESS]		= vcpu_emulate,
	[HVX_IO]		= handle_io,
	[HVX_MSR_READ]		= handle_msr_read,
	[HVX_MSR_WRITE]		= handle_msr_write,
	[HVX_MONITOR]		= handle_nop,
	[HVX_MWAIT]		= handle_nop,
	[HVX_PAUSE]		= handle_nop,
	[HVX_XSETBV]		= inject_ud,
	[HVX_HYPERCALL]		= handle_hypercall,
	[HVX_VIRT_INSN]		= inject_ud,
	[HVX_TDP_FAULT]		= handle_tdp_fault,
	[HVX_TDP_MISCONFIG]	= handle_unexpected,
	[HVX_FAIL_ENTRY]	= handle_fail_entry,
	[HVX_UNSUPPORTED]	= handle_unsupported,
};

int vcpu_handle_exit(struct hv_vcpu *vcpu)
{
	const struct hv_exit *x = &vcpu->exit;
	if (x->reason >= HVX_NR_REASONS || !handlers[x->reason])
		return handle_unexpected(vcpu);
	return handlers[x->reason](vcpu);
}
