/*
 * request.h — what other threads ask of a processor (hw/request.c): a
 * kick (hw_cpu_kick) and the code-coherence work of hw/dcode.c. A
 * request is a bit in hw_requests.pending; the owner looks at that word
 * with one relaxed load at each instruction boundary the run loop stops
 * at (hw/run.c) and serves what it finds, as a processor takes an IPI
 * between instructions. Also the spinlock hw/ uses for its few short
 * critical sections (queues, split locked operations).
 */
#ifndef HVLAB_HW_REQUEST_H
#define HVLAB_HW_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/cpu.h"

static inline void hw_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static inline void hw_spin_lock(uint32_t *lock)
{
	while (__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(lock, __ATOMIC_RELAXED))
			hw_cpu_relax();
}

static inline void hw_spin_unlock(uint32_t *lock)
{
	__atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

/* Ask @cpu to drop the decoded code of page @pfn (any thread). */
void hw_req_post_drop(struct hw_cpu *cpu, uint64_t pfn);

/* Set request bits @bits on @cpu (any thread). */
static inline void hw_req_post(struct hw_cpu *cpu, uint32_t bits)
{
	__atomic_fetch_or(&cpu->req.pending, bits, __ATOMIC_SEQ_CST);
}

/* Serve what is pending (owner). A kick becomes the host timer's
 * interrupt only when @take_kick, that is in the run loop; otherwise it
 * stays pending for the next entry. */
void hw_req_serve(struct hw_cpu *cpu, bool take_kick);

/* The run loop's look at the requests: one relaxed load (owner). */
static inline void hw_req_check(struct hw_cpu *cpu)
{
	if (__builtin_expect(__atomic_load_n(&cpu->req.pending, __ATOMIC_RELAXED) != 0, 0))
		hw_req_serve(cpu, true);
}

/* Guest entry and exit (run.c): mark the processor as executing guest
 * code and serve what came meanwhile; after exit's serve only a kick
 * may stay pending (owner). */
void hw_req_enter(struct hw_cpu *cpu);
void hw_req_leave(struct hw_cpu *cpu);

/*
 * A serializing instruction (SDM Vol. 3A 9.3; CPUID, IRET, WRMSR, MOV to
 * CR...), or a VM entry: serve the requests and make the code the
 * processor runs next what memory holds now, as cross-modifying code
 * needs (SDM Vol. 3A 9.1.3; hw/dcode.c). Owner.
 */
void hw_cpu_serialize(struct hw_cpu *cpu);

#endif
