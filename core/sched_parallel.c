/*
 * sched_parallel.c — hv_vm_run's parallel mode: one host thread per vcpu
 * (docs/scheduler.md). The interleaving is the host's, so runs differ;
 * what each vcpu does is still exact, and so are the counts.
 *
 * A vcpu's thread runs its run loop (vcpu_run) and hands the VMM's exits
 * to ops->exit from that thread. When the vcpu has nothing to execute it
 * sleeps on its condition variable (sched_idle_wait) until a kick wakes
 * it — every message its local APIC accepts is a request and a kick
 * (core/request.h) — or until host time has passed for the VM's clock to
 * have moved on: a sleeper looks again every IDLE_POLL_NS of host time,
 * catches its clock up with the VM's and lets its timers fire. Running
 * vcpus move the VM's clock; when every vcpu sleeps nobody does, and the
 * last one to fall asleep moves it on to the earliest timer that could
 * wake one of them (their wake_ns, each published by its own thread), or
 * ends the run with HV_EXIT_HLT when there is none, as deterministic
 * mode does.
 *
 * Kicks (sched_parallel_kick): a sleeping target is woken; a target in
 * the guest gets the backend's kick, a host IPI that makes its processor
 * leave the guest within a few instructions (hw_cpu_kick). A target
 * outside the guest sees the request before it enters again (the Dekker
 * pair in core/run.c). A flush that must be complete before the caller
 * goes on (vm_flush_remote_tlbs) waits until every other vcpu has either
 * taken the request or left the guest.
 *
 * The run ends (finish) on the first vcpu that stops it: that vcpu's
 * reason goes to the caller; every other vcpu is stopped (hv_run_interrupt
 * and a kick) and its thread joined.
 */
#include <errno.h>
#include <sched.h>
#include <time.h>

#include "core/irq/irq.h"
#include "core/mp.h"
#include "core/request.h"
#include "core/sched.h"
#include "core/sched_impl.h"
#include "core/vm.h"

/* How often a sleeping vcpu looks at the VM's clock (host time). */
#define IDLE_POLL_NS 1000000L

/* The vcpu this thread runs, for kicks to self. */
static _Thread_local struct hv_vcpu *this_vcpu;

/* Wake @sv if it sleeps. sched.lock held. */
static void wake_locked(struct sched *s, struct sched_vcpu *sv)
{
	if (!sv->sleeping)
		return;
	sv->sleeping = false;
	s->nsleeping--;
	pthread_cond_signal(&sv->wake);
}

static void wake_all_locked(struct sched *s)
{
	for (unsigned i = 0; i < s->vm->nvcpus; i++)
		wake_locked(s, &s->v[i]);
}

/* End the run because of @sv (the first call wins), stop every vcpu. */
static void finish(struct sched *s, struct sched_vcpu *sv, uint32_t reason, int vmm_status)
{
	struct hv_vm *vm = s->vm;

	pthread_mutex_lock(&s->lock);
	if (!atomic_load(&s->done)) {
		s->out->exit_reason = reason;
		s->out->vmm_status = vmm_status;
		s->out->vcpu_id = sv->vcpu->id;
		s->out->run = sv->run;
		atomic_store(&s->done, true);
	}
	wake_all_locked(s);
	pthread_mutex_unlock(&s->lock);
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		hv_run_interrupt(vm->vcpus[i]);
		if (vm->vcpus[i] != sv->vcpu)
			vm->backend->kick(vm->vcpus[i]);
	}
}

void sched_parallel_kick(struct sched *s, struct hv_vcpu *vcpu)
{
	struct sched_vcpu *sv = vcpu->sched;

	if (vcpu == this_vcpu || !sv)
		return;		/* its own loop takes the request */
	if (atomic_load(&vcpu->mode) == VCPU_IN_GUEST)
		vcpu->vm->backend->kick(vcpu);
	pthread_mutex_lock(&s->lock);
	wake_locked(s, sv);
	pthread_mutex_unlock(&s->lock);
}

void sched_parallel_wait_flush(struct sched *s)
{
	struct hv_vm *vm = s->vm;
	const uint32_t bit = 1u << VCPU_REQ_TLB_FLUSH;

	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct hv_vcpu *t = vm->vcpus[i];
		if (t == this_vcpu)
			continue;
		while (atomic_load(&t->mode) == VCPU_IN_GUEST && (atomic_load(&t->requests) & bit))
			sched_yield();
	}
}

/*
 * Every vcpu sleeps (sched.lock held): move the VM's clock on to the
 * earliest timer that could wake one, or end the run. Returns true when
 * the VMM's timers may be due (the caller ticks, without the lock).
 */
static bool all_asleep_locked(struct sched *s, struct sched_vcpu *last)
{
	struct hv_vm *vm = s->vm;
	uint64_t next = UINT64_MAX;
	bool wakeable = false;

	for (unsigned i = 0; i < vm->nvcpus; i++) {
		if (!s->v[i].timer_can_wake)
			continue;
		wakeable = true;
		next = sched_min(next, s->v[i].wake_ns);
	}
	if (wakeable)
		next = sched_min(next, atomic_load(&s->vmm_deadline));
	if (next == UINT64_MAX) {
		if (!atomic_load(&s->done)) {
			s->out->exit_reason = HV_EXIT_HLT;
			s->out->vcpu_id = last->vcpu->id;
			s->out->run = last->run;
			atomic_store(&s->done, true);
		}
		wake_all_locked(s);
		return false;
	}
	uint64_t seen = atomic_load(&vm->clock_ns);
	while (next > seen && !atomic_compare_exchange_weak(&vm->clock_ns, &seen, next))
		;
	vm->stats.sched_idle_jumps++;
	wake_all_locked(s);
	return true;
}

/* @sv has nothing to execute: sleep until woken or a poll interval. */
static void idle_wait(struct sched *s, struct sched_vcpu *sv)
{
	struct hv_vcpu *vcpu = sv->vcpu;
	/* Asked before taking sched.lock: irq calls may kick (lock order). */
	const bool can_wake = sched_timer_can_wake(vcpu);
	const uint64_t wake_ns = can_wake ? irq_next_deadline_ns(vcpu) : UINT64_MAX;
	bool tick = false;

	pthread_mutex_lock(&s->lock);
	if (atomic_load(&vcpu->requests) || atomic_load(&s->done) || vcpu->stop) {
		pthread_mutex_unlock(&s->lock);
		return;
	}
	sv->sleeping = true;
	sv->timer_can_wake = can_wake;
	sv->wake_ns = wake_ns;
	s->nsleeping++;
	if (s->nsleeping == s->vm->nvcpus) {
		tick = all_asleep_locked(s, sv);
	} else {
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += IDLE_POLL_NS;
		if (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		while (sv->sleeping &&
		       pthread_cond_timedwait(&sv->wake, &s->lock, &t) != ETIMEDOUT)
			;
		wake_locked(s, sv);
	}
	pthread_mutex_unlock(&s->lock);
	if (tick)
		sched_tick_if_due(s);
	vcpu_idle_until(vcpu, hv_clock_ns(s->vm));
}

static void *vcpu_thread(void *arg)
{
	struct sched_vcpu *sv = arg;
	struct sched *s = sv->s;
	struct hv_vcpu *vcpu = sv->vcpu;

	this_vcpu = vcpu;
	while (!atomic_load(&s->done)) {
		const uint64_t dl = atomic_load(&s->vmm_deadline);
		sv->run.max_insns = s->out->max_insns;
		sv->run.deadline_ns = dl == UINT64_MAX ? 0 : dl;
		const int r = vcpu_run(vcpu, &sv->run);
		if (r < 0) {
			pthread_mutex_lock(&s->lock);
			if (!s->err)
				s->err = r;
			pthread_mutex_unlock(&s->lock);
			finish(s, sv, HV_EXIT_INTERNAL_ERROR, 0);
			break;
		}
		switch (sv->run.exit_reason) {
		case HV_EXIT_IDLE:
			idle_wait(s, sv);
			break;
		case HV_EXIT_IO:
		case HV_EXIT_MMIO:
		case HV_EXIT_DEBUG: {
			const int st = s->ops->exit(s->ops->opaque, vcpu, &sv->run);
			if (st)
				finish(s, sv, HV_EXIT_VMM, st);
			break;
		}
		case HV_EXIT_DEADLINE:
			sched_tick_if_due(s);
			if (s->out->max_insns && sv->run.insns >= s->out->max_insns)
				finish(s, sv, HV_EXIT_DEADLINE, 0);
			break;
		case HV_EXIT_INTR:
			if (atomic_load(&s->stop))
				finish(s, sv, HV_EXIT_INTR, 0);
			break;
		default:	/* SHUTDOWN, FAIL_ENTRY, INTERNAL_ERROR, ... */
			finish(s, sv, sv->run.exit_reason, 0);
			break;
		}
	}
	this_vcpu = NULL;
	return NULL;
}

void sched_run_parallel(struct sched *s)
{
	struct hv_vm *vm = s->vm;
	unsigned started = 0;

	for (; started < vm->nvcpus; started++)
		if (pthread_create(&s->v[started].thread, NULL, vcpu_thread, &s->v[started]))
			break;
	if (started < vm->nvcpus) {
		s->err = vm_err(-EAGAIN, "hv_vm_run: cannot start a host thread for vcpu %u",
				started);
		if (started)
			finish(s, &s->v[0], HV_EXIT_INTERNAL_ERROR, 0);
		else
			s->out->exit_reason = HV_EXIT_INTERNAL_ERROR;
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(s->v[i].thread, NULL);
}
