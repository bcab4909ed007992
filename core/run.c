/*
 * run.c — hv_run(), the KVM_RUN loop (ARCHITECTURE §5, seed 004):
 *
 *   complete what the VMM answered (IN data, an MMIO read)
 *   loop:
 *     stop?   hv_run_interrupt                           -> VMM
 *     requests from other vcpus (core/request.h), INIT/STARTUP (core/mp.h)
 *     stop?   triple fault, max_insns, deadline_ns        -> VMM
 *     timers  core/irq fires what is due at the virtual time
 *     halted or waiting for SIPI? wake on an interrupt; else, under the
 *             scheduler, return idle to it (core/sched.c); run alone,
 *             let time jump to the next timer, with none ahead
 *             HV_EXIT_HLT
 *     invalid? a state VM entry would refuse (backend state_runnable):
 *             one event or instruction in the emulator instead of the
 *             steps below (core/invalid_state.c)
 *     inject  the most urgent event (core/event.c)
 *     enter   backend->run() with a host timer (set_deadline) at the
 *             instruction count by which the next timer must have fired
 *     decode  backend->decode_exit(), re-inject an interrupted event
 *     handle  core/exit.c's table: resume, or return to the VMM
 *
 * The host timer: cycles grow by at least cpi per instruction, so after
 * (T - now) / cpi more instructions the clock has reached T, whatever
 * exits happened on the way (they only add cycles). The timer may thus
 * fire late by the cycles exits added, never early; every exit
 * re-checks the timers, which bounds the lateness by the exit rate.
 */
#include <errno.h>
#include <string.h>

#include "core/debug.h"
#include "core/emulate.h"
#include "core/event.h"
#include "core/exit.h"
#include "core/invalid_state.h"
#include "core/irq/irq.h"
#include "core/mp.h"
#include "core/request.h"
#include "core/sched.h"
#include "core/trace.h"
#include "core/vm.h"
#include "emulate/emulate.h"	/* enum emu_gpr: vcpu->gpr[] */

/* The same exit at the same RIP this many times with no instruction
 * retired and RCX unchanged is a loop hvlab caused: stop with an internal
 * error. (A REP-prefixed string instruction that exits once per element,
 * INS/OUTS or MOVS/STOS to MMIO, retires only with its last element but
 * counts RCX down at each: SDM Vol. 2B REP, "the count register is
 * decremented after each iteration".) */
#define LOOP_LIMIT 1000

static uint64_t cpi_milli(const struct hv_vm *vm)
{
	return vm->cfg.prices.cpi_milli ? vm->cfg.prices.cpi_milli : CONFIG_HW_PRICE_CPI_MILLI;
}

void vcpu_complete_pio_in(struct hv_vcpu *vcpu, uint32_t val, unsigned size)
{
	uint64_t *rax = &vcpu->gpr[0];
	switch (size) {
	case 1:
		*rax = (*rax & ~0xffull) | (val & 0xff);
		break;
	case 2:
		*rax = (*rax & ~0xffffull) | (val & 0xffff);
		break;
	default:
		*rax = val;
		break;
	}
}

/*
 * What the VMM answered to the exit hv_run returned last time (@answered:
 * that exit's reason; run->exit_reason is already reset, so that an exit
 * the completed instruction itself takes, say an MMIO read of the next
 * emulated instruction, is reported as it sets it).
 */
static int complete_io(struct hv_vcpu *vcpu, struct hv_run *run, uint32_t answered)
{
	const enum vcpu_pending_io p = vcpu->pending_io;
	vcpu->pending_io = VCPU_IO_NONE;
	switch (p) {
	case VCPU_IO_PIO_IN: {
		uint32_t v = 0;
		memcpy(&v, run->io.data, vcpu->pio_in_gpr_size);
		vcpu_complete_pio_in(vcpu, v, vcpu->pio_in_gpr_size);
		vcpu->vm->backend->skip_instruction(vcpu);
		return EXIT_RESUME;
	}
	case VCPU_IO_MMIO_READ: {
		/* The same instruction again, one more read answered. */
		struct vcpu_mmio_frag *f = &vcpu->mmio_r[vcpu->mmio_nr++];
		memcpy(f->data, answered == HV_EXIT_IO ? run->io.data : run->mmio.data,
		       sizeof(f->data));
		return vcpu_emulate(vcpu);
	}
	case VCPU_IO_MMIO_WRITES:
		/* The instruction is done: its next write goes out. */
		return vcpu_mmio_send_write(vcpu);
	default:
		return EXIT_RESUME;
	}
}

/* What the vcpu retired: the processor's count and the emulator's. */
uint64_t vcpu_insns(struct hv_vcpu *vcpu)
{
	struct hv_hw_counters c;
	vcpu->vm->backend->read_counters(vcpu, &c);
	return c.insns + vcpu_emulated_insns(vcpu);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* The next virtual time something must happen: a controller's timer or
 * the caller's deadline. */
static uint64_t next_event_ns(struct hv_vcpu *vcpu, const struct hv_run *run)
{
	const uint64_t t = irq_next_deadline_ns(vcpu);
	return run->deadline_ns ? min_u64(t, run->deadline_ns) : t;
}

/*
 * A vcpu that executes nothing — halted in HLT, or waiting for a STARTUP
 * (core/mp.h): wake it if an interrupt it can take is there. Otherwise,
 * under the scheduler, tell it the vcpu is idle (it moves time on for
 * all vcpus together, core/sched.c); run alone by hv_run, let its time
 * jump to the next event. Returns EXIT_RESUME to go round the loop
 * again, EXIT_TO_VMM with run filled.
 */
static int not_running(struct hv_vcpu *vcpu, struct hv_run *run)
{
	if (vcpu_mp_runnable(vcpu) && vcpu_has_interrupt(vcpu)) {
		vcpu->halted = false;
		vcpu->vm->stats.halt_wakeup++;
		return EXIT_RESUME;
	}
	if (vcpu->sched) {
		run->exit_reason = HV_EXIT_IDLE;
		return EXIT_TO_VMM;
	}
	const uint64_t next = next_event_ns(vcpu, run);
	if (!vcpu_mp_runnable(vcpu) || next == UINT64_MAX) {
		run->exit_reason = HV_EXIT_HLT;
		return EXIT_TO_VMM;
	}
	vcpu_idle_until(vcpu, next);
	return EXIT_RESUME;
}

/* Arm the host timer for the earliest of max_insns and the next event. */
static void arm_deadline(struct hv_vcpu *vcpu, const struct hv_run *run, uint64_t done)
{
	uint64_t at = run->max_insns ? run->max_insns : UINT64_MAX;
	const uint64_t next = next_event_ns(vcpu, run);
	if (next != UINT64_MAX) {
		const uint64_t now = vcpu_clock_ns(vcpu);
		const uint64_t dt = next > now ? ns_to_tsc(next - now) : 0;
		const uint64_t n = dt * 1000 / cpi_milli(vcpu->vm) + 1;
		at = min_u64(at, done + n);
	}
	/* The processor's timer counts only what the processor retires. */
	if (at != UINT64_MAX)
		at -= vcpu_emulated_insns(vcpu);
	vcpu->vm->backend->set_deadline(vcpu, at);
}

static int enter_and_handle(struct hv_vcpu *vcpu, struct hv_run *run)
{
	struct hv_vm *vm = vcpu->vm;
	const uint64_t before = vcpu_insns(vcpu);

	/* From here a request reaches the vcpu through a kick: either the
	 * requester sees IN_GUEST and kicks, or this load sees its request
	 * (both sides store, then load, sequentially consistent). */
	atomic_store(&vcpu->mode, VCPU_IN_GUEST);
	if (atomic_load(&vcpu->requests)) {
		atomic_store(&vcpu->mode, VCPU_OUTSIDE_GUEST);
		return EXIT_RESUME;	/* the loop's top takes them */
	}
	vcpu_inject_events(vcpu);
	vcpu_debug_before_entry(vcpu);
	arm_deadline(vcpu, run, before);
	HV_TRACE_VM_ENTRY(vcpu->id);
	int r = vm->backend->run(vcpu);
	atomic_store_explicit(&vcpu->mode, VCPU_OUTSIDE_GUEST, memory_order_release);
	vcpu_debug_after_exit(vcpu);
	if (r)
		return r;
	memset(&vcpu->exit, 0, sizeof(vcpu->exit));
	vm->backend->decode_exit(vcpu, &vcpu->exit);
	vm->stats.exits++;
	if (vcpu->exit.reason < HVX_NR_REASONS)
		vm->exits_by_reason[vcpu->exit.reason]++;
	if (vcpu->exit.idt_valid)
		vcpu_queue_reinject(vcpu, &vcpu->exit);

	/* Loop detection: the same exit at the same RIP with no progress. */
	const uint64_t rip = vm->backend->get_rip(vcpu);
	HV_TRACE_VM_EXIT(vcpu->id, vcpu->exit.reason, rip, vcpu->exit.raw);
	if (vcpu_insns(vcpu) == before && rip == vcpu->last_rip &&
	    vcpu->gpr[EMU_RCX] == vcpu->last_rcx &&
	    vcpu->exit.reason != HVX_EXTINT && vcpu->exit.reason != HVX_IRQ_WINDOW) {
		if (++vcpu->same_rip_exits >= LOOP_LIMIT)
			return vcpu_internal_error(vcpu, HV_INTERNAL_LOOP, "exit %s at rip %#llx "
						   "%u times without progress",
						   vm->backend->exit_name(vcpu->exit.raw),
						   (unsigned long long)rip, LOOP_LIMIT);
	} else {
		vcpu->same_rip_exits = 0;
	}
	vcpu->last_rip = rip;
	vcpu->last_rcx = vcpu->gpr[EMU_RCX];
	return vcpu_handle_exit(vcpu);
}

int vcpu_run(struct hv_vcpu *vcpu, struct hv_run *run)
{
	const uint32_t answered = run->exit_reason;
	vcpu->run = run;
	run->exit_reason = HV_EXIT_UNKNOWN;
	int r = complete_io(vcpu, run, answered);
	while (r == EXIT_RESUME) {
		if (vcpu->stop) {
			vcpu->stop = false;
			vcpu->vm->stats.signal_exits++;
			run->exit_reason = HV_EXIT_INTR;
			r = EXIT_TO_VMM;
			break;
		}
		vcpu_process_requests(vcpu);
		vcpu_check_init_sipi(vcpu);
		if (vcpu_triple_fault(vcpu)) {
			vcpu->exc_pending = false;
			run->exit_reason = HV_EXIT_SHUTDOWN;
			r = EXIT_TO_VMM;
			break;
		}
		const uint64_t done = vcpu_insns(vcpu);
		if ((run->max_insns && done >= run->max_insns) ||
		    (run->deadline_ns && vcpu_clock_ns(vcpu) >= run->deadline_ns)) {
			run->exit_reason = HV_EXIT_DEADLINE;
			r = EXIT_TO_VMM;
			break;
		}
		irq_update(vcpu);
		if (vcpu->halted || !vcpu_mp_runnable(vcpu)) {
			r = not_running(vcpu, run);
			continue;
		}
		/* A state VM entry would refuse runs in the emulator. */
		r = vcpu_state_runnable(vcpu) ? enter_and_handle(vcpu, run)
					       : vcpu_run_invalid_state(vcpu);
		vcpu_publish_clock(vcpu);
	}
	const struct hv_backend_ops *be = vcpu->vm->backend;
	run->if_flag = be->get_rflags(vcpu) & (1u << 9);
	run->ready_for_interrupt_injection = be->interrupt_allowed(vcpu);
	run->insns = vcpu_insns(vcpu);
	vcpu_publish_clock(vcpu);
	vcpu->run = NULL;
	if (r < 0) {
		run->exit_reason = HV_EXIT_INTERNAL_ERROR;
		return r == -EIO ? r : -EIO;
	}
	return 0;
}

int hv_run(struct hv_vcpu *vcpu, struct hv_run *run)
{
	if (!vcpu || !run)
		return vm_err(-EINVAL, "hv_run: NULL argument");
	if (vcpu->vm->sched)
		return vm_err(-EBUSY, "hv_run: the VM's vcpus are running under hv_vm_run");
	return vcpu_run(vcpu, run);
}

void hv_run_interrupt(struct hv_vcpu *vcpu)
{
	if (vcpu)
		vcpu->stop = true;
}
