/*
 * sched.c — hv_vm_run: the vcpu scheduler (ARCHITECTURE §5; hv.h has the
 * contract, docs/scheduler.md the design): the common part and the
 * deterministic mode; parallel mode is sched_parallel.c, their shared
 * state sched_impl.h.
 *
 * Deterministic mode: every vcpu on the calling thread, in vcpu order,
 * round robin. A turn runs the vcpu's own loop (vcpu_run, core/run.c)
 * until it has retired `quantum` more instructions (the processor's
 * host timer ends it exactly there, hw_cpu_set_deadline) or has nothing
 * to execute (HV_EXIT_IDLE: halted, waiting for SIPI); exits the VMM
 * must see go to ops->exit and the turn goes on. Nothing depends on the
 * host, so the same inputs give the same interleaving, output and stats.
 *
 *   round:  for each vcpu: catch its clock up if it was idle; one turn
 *           if the VM's clock passed the VMM's deadline: ops->tick
 *   a round in which no vcpu executed anything: every vcpu is idle;
 *           move every clock on to the earliest event that could wake
 *           one (a local APIC timer of a vcpu halted with IF=1, the VMM's
 *           deadline); with none, the VM is halted for good (HV_EXIT_HLT)
 *
 * Time. Each vcpu has its own clock (core/clock.c); the VM's clock is
 * the latest one published. An idle vcpu's clock follows the VM's
 * (vcpu_idle_until at its turn), so its timers fire when the VM's time
 * passes them, at most a round late. Running vcpus drift apart by what
 * their turns cost, as the TSCs of real processors are never exactly in
 * step.
 *
 * Interrupts between vcpus are requests (core/request.h); in this mode
 * the target is never running when one is made, and sees it at its next
 * turn, so an IPI takes at most a round to arrive.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/irq/irq.h"
#include "core/mmu_call.h"
#include "core/mp.h"
#include "core/request.h"
#include "core/sched.h"
#include "core/sched_impl.h"
#include "core/vm.h"

/* What a turn ended with. */
enum turn { TURN_RAN, TURN_IDLE, TURN_STOP };

/*
 * Deterministic mode: the target is not running (see the top). If the
 * vcpu that is running runs alone (no quantum), its turn ends at its
 * loop's next look at max_insns, so the target gets its turn.
 */
void sched_kick(struct hv_vcpu *vcpu)
{
	struct sched *s = vcpu->vm->sched;
	if (!s)
		return;
	if (s->mode == HV_SCHED_PARALLEL) {
		sched_parallel_kick(s, vcpu);
	} else if (s->alone && s->cur && s->cur->vcpu != vcpu) {
		s->preempt = true;
		s->cur->run.max_insns = 1;
	}
}

void vcpu_wait_remote_flush(struct hv_vm *vm)
{
	struct sched *s = vm->sched;
	if (s && s->mode == HV_SCHED_PARALLEL)
		sched_parallel_wait_flush(s);
}

uint64_t sched_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

void sched_tick_if_due(struct sched *s)
{
	if (!s->ops->tick || hv_clock_ns(s->vm) < atomic_load(&s->vmm_deadline))
		return;
	pthread_mutex_lock(&s->tick_lock);
	if (hv_clock_ns(s->vm) >= atomic_load(&s->vmm_deadline))
		atomic_store(&s->vmm_deadline, s->ops->tick(s->ops->opaque));
	pthread_mutex_unlock(&s->tick_lock);
}

/* End the whole run with @reason because of @sv. */
static enum turn stop(struct sched *s, struct sched_vcpu *sv, uint32_t reason)
{
	s->out->exit_reason = reason;
	s->out->vcpu_id = sv->vcpu->id;
	s->out->run = sv->run;
	return TURN_STOP;
}

/*
 * Is every other vcpu idle, with nothing asked of it? Then @sv runs
 * alone: its turn needs no quantum (with one vcpu, hv_vm_run is hv_run:
 * no exit is added), only an end when an idle vcpu's timer is due or a
 * message wakes one (sched_kick).
 */
static bool alone(struct sched *s, const struct sched_vcpu *sv, uint64_t *wake_ns)
{
	*wake_ns = UINT64_MAX;
	for (unsigned i = 0; i < s->vm->nvcpus; i++) {
		const struct sched_vcpu *o = &s->v[i];
		if (o == sv)
			continue;
		if (!o->idle || atomic_load(&o->vcpu->requests))
			return false;
		if (sched_timer_can_wake(o->vcpu))
			*wake_ns = sched_min(*wake_ns, irq_next_deadline_ns(o->vcpu));
	}
	return true;
}

/* One turn of @sv: up to s->quantum instructions, or while it runs alone
 * until another vcpu has something to do. */
static enum turn turn(struct sched *s, struct sched_vcpu *sv)
{
	struct hv_vcpu *vcpu = sv->vcpu;
	const uint64_t start = vcpu_insns(vcpu);
	uint64_t wake_ns;
	s->alone = alone(s, sv, &wake_ns);
	uint64_t end = s->alone ? UINT64_MAX : start + s->quantum;
	bool ran = false;

	if (s->out->max_insns)
		end = sched_min(end, s->out->max_insns);
	if (sv->idle)
		vcpu_idle_until(vcpu, hv_clock_ns(s->vm));
	s->cur = sv;
	s->preempt = false;
	for (;;) {
		sv->run.max_insns = end == UINT64_MAX ? 0 : end;
		const uint64_t dl = sched_min(atomic_load(&s->vmm_deadline), wake_ns);
		sv->run.deadline_ns = dl == UINT64_MAX ? 0 : dl;
		const int r = vcpu_run(vcpu, &sv->run);
		if (r < 0) {
			s->err = r;
			return stop(s, sv, HV_EXIT_INTERNAL_ERROR);
		}
		const uint32_t why = sv->run.exit_reason;
		if (why == HV_EXIT_IDLE) {
			sv->idle = true;
			return ran || vcpu_insns(vcpu) != start ? TURN_RAN : TURN_IDLE;
		}
		sv->idle = false;
		ran = true;
		switch (why) {
		case HV_EXIT_IO:
		case HV_EXIT_MMIO:
		case HV_EXIT_DEBUG: {
			const int st = s->ops->exit(s->ops->opaque, vcpu, &sv->run);
			if (st) {
				s->out->vmm_status = st;
				return stop(s, sv, HV_EXIT_VMM);
			}
			break;
		}
		case HV_EXIT_DEADLINE:
			sched_tick_if_due(s);
			if (s->out->max_insns && sv->run.insns >= s->out->max_insns)
				return stop(s, sv, HV_EXIT_DEADLINE);
			if (sv->run.insns >= end || s->preempt ||
			    (wake_ns != UINT64_MAX && hv_clock_ns(s->vm) >= wake_ns))
				return TURN_RAN;
			break;
		case HV_EXIT_INTR:
			if (atomic_load(&s->stop))
				return stop(s, sv, HV_EXIT_INTR);
			break;
		default:	/* SHUTDOWN, FAIL_ENTRY, INTERNAL_ERROR, ... */
			return stop(s, sv, why);
		}
		if (atomic_load(&s->stop))
			return stop(s, sv, HV_EXIT_INTR);
		if (s->preempt)
			return TURN_RAN;
	}
}

/* Could a timer interrupt wake this idle vcpu? Halted with IF=1: yes;
 * halted with IF=0 or waiting for SIPI, only an NMI, INIT or STARTUP. */
bool sched_timer_can_wake(struct hv_vcpu *vcpu)
{
	return vcpu_mp_runnable(vcpu) && (vcpu->vm->backend->get_rflags(vcpu) & (1u << 9));
}

/*
 * Every vcpu is idle: move time on to the next event that could wake
 * one. false when there is none (the VM is halted for good).
 */
static bool idle_jump(struct sched *s)
{
	struct hv_vm *vm = s->vm;
	uint64_t next = UINT64_MAX;
	bool wakeable = false;

	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct hv_vcpu *vcpu = vm->vcpus[i];
		if (!sched_timer_can_wake(vcpu))
			continue;
		wakeable = true;
		next = sched_min(next, irq_next_deadline_ns(vcpu));
	}
	if (!wakeable)
		return false;
	next = sched_min(next, atomic_load(&s->vmm_deadline));
	if (next == UINT64_MAX)
		return false;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vcpu_idle_until(vm->vcpus[i], next);
	vm->stats.sched_idle_jumps++;
	sched_tick_if_due(s);
	return true;
}

static void run_deterministic(struct sched *s)
{
	struct hv_vm *vm = s->vm;

	for (;;) {
		bool ran = false;
		for (unsigned i = 0; i < vm->nvcpus; i++) {
			const enum turn t = turn(s, &s->v[i]);
			if (t == TURN_STOP)
				return;
			ran |= t == TURN_RAN;
			vm->stats.sched_turns++;
			sched_tick_if_due(s);
		}
		if (!ran && !idle_jump(s)) {
			s->out->exit_reason = HV_EXIT_HLT;
			s->out->vcpu_id = 0;
			s->out->run = s->v[0].run;
			return;
		}
	}
}

int hv_vm_run(struct hv_vm *vm, struct hv_vm_run *run, const struct hv_vm_run_ops *ops)
{
	if (!vm || !run || !ops || !ops->exit)
		return vm_err(-EINVAL, "hv_vm_run: NULL argument");
	if (!vm->nvcpus)
		return vm_err(-EINVAL, "hv_vm_run: the VM has no vcpus");
	if (run->mode != HV_SCHED_DETERMINISTIC && run->mode != HV_SCHED_PARALLEL)
		return vm_err(-EINVAL, "hv_vm_run: no scheduler mode %d", (int)run->mode);
	if (vm->sched)
		return vm_err(-EBUSY, "hv_vm_run: the VM is running already");
	struct sched *s = calloc(1, sizeof(*s));
	if (!s)
		return vm_err(-ENOMEM, "out of memory");
	s->vm = vm;
	s->out = run;
	s->ops = ops;
	s->mode = run->mode;
	s->quantum = run->quantum ? run->quantum : CONFIG_HV_SCHED_QUANTUM;
	atomic_init(&s->vmm_deadline, UINT64_MAX);
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->tick_lock, NULL);
	run->exit_reason = HV_EXIT_UNKNOWN;
	run->vmm_status = 0;
	/* Published and withdrawn under the MMU lock: a hv_get_dirty_log on
	 * another thread (hv.h, "Threads") kicks the vcpus and waits for
	 * their flushes through this scheduler (vm_flush_remote_tlbs), so it
	 * sees all of it or none, and the end of the run waits for it. */
	mmu_lock(vm);
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		s->v[i].vcpu = vm->vcpus[i];
		s->v[i].s = s;
		pthread_cond_init(&s->v[i].wake, NULL);
		vm->vcpus[i]->sched = &s->v[i];
	}
	vm->sched = s;
	mmu_unlock(vm);
	if (ops->tick)
		atomic_store(&s->vmm_deadline, ops->tick(ops->opaque));
	if (s->mode == HV_SCHED_PARALLEL)
		sched_run_parallel(s);
	else
		run_deterministic(s);
	mmu_lock(vm);
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		vm->vcpus[i]->sched = NULL;
		vm->vcpus[i]->stop = false;
	}
	vm->sched = NULL;
	mmu_unlock(vm);
	for (unsigned i = 0; i < vm->nvcpus; i++)
		pthread_cond_destroy(&s->v[i].wake);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->tick_lock);
	const int err = s->err;
	free(s);
	return err;
}

void hv_vm_run_interrupt(struct hv_vm *vm)
{
	struct sched *s = vm ? vm->sched : NULL;
	if (!s)
		return;
	atomic_store(&s->stop, true);
	/* Kick in both modes: a vcpu in the guest sees its stop flag only at
	 * its next exit, which a guest spinning with IF = 0 and no timer of
	 * its own may never take (the kick is one atomic OR, safe in a
	 * signal handler; hw/hw.h). */
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		hv_run_interrupt(vm->vcpus[i]);
		if (vm->backend->kick)
			vm->backend->kick(vm->vcpus[i]);
	}
}
