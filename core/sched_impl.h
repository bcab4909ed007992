/*
 * sched_impl.h — the scheduler's state, shared by its two modes:
 * core/sched.c (hv_vm_run, deterministic mode) and core/sched_parallel.c.
 *
 * Locking legend: (c) set before the vcpus run, constant during the run;
 * (o) the vcpu's own thread; (s) sched.lock; (a) atomic.
 * Lock order: vm->mmu_lock and the irqchip's lock may be held when
 * sched.lock is taken (a kick), never the other way round: nothing is
 * called with sched.lock held but the condition variables.
 */
#ifndef HVLAB_CORE_SCHED_IMPL_H
#define HVLAB_CORE_SCHED_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/vm.h"

struct sched_vcpu {
	struct hv_vcpu *vcpu;		/* (c) */
	struct sched *s;		/* (c) */
	struct hv_run run;		/* (o) */
	bool idle;			/* (o) deterministic: the last turn ended idle */
	/* Parallel mode. */
	pthread_t thread;		/* (c) */
	pthread_cond_t wake;		/* signalled when sleeping goes false */
	bool sleeping;			/* (s) in sched_idle_wait */
	uint64_t wake_ns;		/* (s) while sleeping: when a timer could
					 * wake it (VM clock), UINT64_MAX: never */
	bool timer_can_wake;		/* (s) while sleeping: halted with IF=1 */
};

struct sched {
	struct hv_vm *vm;			/* (c) */
	struct hv_vm_run *out;			/* (s) filled once, by finish */
	const struct hv_vm_run_ops *ops;	/* (c) */
	enum hv_sched_mode mode;		/* (c) */
	uint64_t quantum;			/* (c) */
	_Atomic uint64_t vmm_deadline;		/* (a) ops->tick's, UINT64_MAX: none */
	atomic_bool stop;			/* (a) hv_vm_run_interrupt */
	atomic_bool done;			/* (a) the run is over (parallel) */
	int err;				/* (s) a vcpu's run failed: -errno */
	pthread_mutex_t lock;			/* sched.lock */
	pthread_mutex_t tick_lock;		/* ops->tick one at a time */
	unsigned nsleeping;			/* (s) */
	/* Deterministic mode (one thread: no lock). */
	struct sched_vcpu *cur;			/* the vcpu whose turn it is */
	bool alone;				/* ... and its siblings are idle */
	bool preempt;				/* a sibling woke: end the turn */
	struct sched_vcpu v[HV_MAX_VCPUS];	/* (c) */
};

/* sched.c */
uint64_t sched_min(uint64_t a, uint64_t b);
/* ops->tick if the VM's clock has reached the VMM's deadline. */
void sched_tick_if_due(struct sched *s);
/* Could a timer wake this idle vcpu (halted with IF = 1)? Its thread. */
bool sched_timer_can_wake(struct hv_vcpu *vcpu);

/* sched_parallel.c */
void sched_run_parallel(struct sched *s);
void sched_parallel_kick(struct sched *s, struct hv_vcpu *vcpu);
/* After a flush request to every vcpu: wait until none of the others
 * can still be using its TLB (KVM_REQUEST_WAIT). */
void sched_parallel_wait_flush(struct sched *s);

#endif
