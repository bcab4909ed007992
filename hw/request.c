/*
 * request.c — serving what other threads ask of a processor (see
 * request.h): kicks and the code-coherence requests of hw/dcode.c.
 *
 * Each request is a bit in cpu->req.pending, set by any thread with an
 * atomic OR after whatever the request carries (a page in the queue) is
 * in place, and cleared by the owner with an atomic AND before it serves
 * it, so a request that arrives while the owner serves is seen the next
 * time. The owner looks at pending at the top of every pass of the run
 * loop (hw/run.c), whose batches are bounded for the purpose, at guest
 * entry and exit, and at serializing instructions.
 *
 * A kick is the model's host IPI: taken in the run loop it fires the host
 * timer (cpu->ev.timer, exactly what an expired hw_cpu_set_deadline()
 * does), so a hypervisor that intercepts external interrupts gets the
 * exit at the next instruction boundary where the run loop looks. Served
 * anywhere else it stays pending: the next VM entry takes it before the
 * guest's first instruction, as a host IPI that arrived while the host
 * ran with interrupts off before VMRESUME/VMRUN. Kicks do not count:
 * several before the owner looks are one.
 */
#include <string.h>

#include "hw/dcode.h"
#include "hw/request.h"

void hw_cpu_kick(struct hw_cpu *cpu)
{
	/* Release: what the kicker wrote before is visible to the owner
	 * once it has taken the kick (the AND in hw_req_serve acquires). */
	__atomic_fetch_or(&cpu->req.pending, HW_REQ_KICK, __ATOMIC_RELEASE);
}

void hw_req_post_drop(struct hw_cpu *cpu, uint64_t pfn)
{
	struct hw_requests *r = &cpu->req;

	hw_spin_lock(&r->q_lock);
	if (!r->q_all) {
		unsigned i;
		for (i = 0; i < r->q_n && r->q_pfn[i] != pfn; i++)
			;
		if (i == r->q_n) {
			if (r->q_n < HW_REQ_QUEUE)
				r->q_pfn[r->q_n++] = pfn;
			else
				r->q_all = true;
		}
	}
	hw_spin_unlock(&r->q_lock);
	__atomic_fetch_add(&r->smc_posted, 1, __ATOMIC_RELAXED);
	hw_req_post(cpu, HW_REQ_DCODE);
}

static void serve_drops(struct hw_cpu *cpu)
{
	struct hw_requests *r = &cpu->req;
	uint64_t pfn[HW_REQ_QUEUE];

	hw_spin_lock(&r->q_lock);
	const unsigned n = r->q_n;
	const bool all = r->q_all;
	memcpy(pfn, r->q_pfn, n * sizeof(pfn[0]));
	r->q_n = 0;
	r->q_all = false;
	hw_spin_unlock(&r->q_lock);
	if (all) {
		hw_code_drop_all_local(cpu);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		hw_code_drop_local(cpu, pfn[i]);
}

void hw_req_serve(struct hw_cpu *cpu, bool take_kick)
{
	struct hw_requests *r = &cpu->req;
	/* pending first, then front_loud: a poster adds to front_loud before
	 * it sets HW_REQ_FRONT (hw/dcode.c post_front), so whatever unit
	 * the exchange misses has its bit set after the AND below. */
	const uint32_t p = __atomic_fetch_and(&r->pending, take_kick ? 0 : HW_REQ_KICK,
					      __ATOMIC_SEQ_CST);
	const uint32_t loud = __atomic_exchange_n(&r->front_loud, 0, __ATOMIC_SEQ_CST);

	if (p & HW_REQ_DCODE)
		serve_drops(cpu);
	if ((p & HW_REQ_FRONT) || loud)
		hw_front_check(cpu, loud != 0);
	if (loud)
		__atomic_fetch_sub(&cpu->m->stale_writers, loud, __ATOMIC_SEQ_CST);
	if (take_kick && (p & HW_REQ_KICK))
		cpu->ev.timer = true;
}

void hw_cpu_serialize(struct hw_cpu *cpu)
{
	/* Read before serving: a stale writer that is gone by now posted
	 * its drops (hw_front_check) before it left the count. */
	const uint32_t stale = __atomic_load_n(&cpu->m->stale_writers, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&cpu->req.pending, __ATOMIC_RELAXED) & ~HW_REQ_KICK)
		hw_req_serve(cpu, false);
	if (stale)
		hw_code_drop_all_local(cpu);
}

void hw_req_enter(struct hw_cpu *cpu)
{
	/* Before the first look at pending: a marker that finds this
	 * processor outside guest mode relies on that look (dcode.c). */
	__atomic_store_n(&cpu->req.in_guest, 1, __ATOMIC_SEQ_CST);
	hw_cpu_serialize(cpu);
}

void hw_req_leave(struct hw_cpu *cpu)
{
	if (__atomic_load_n(&cpu->req.pending, __ATOMIC_RELAXED) & ~HW_REQ_KICK)
		hw_req_serve(cpu, false);
	__atomic_store_n(&cpu->req.in_guest, 0, __ATOMIC_SEQ_CST);
	/* A post that saw in_guest = 1 just before the store above: serve
	 * it now rather than at the next entry (dcode.c post_front). */
	if (__atomic_load_n(&cpu->req.pending, __ATOMIC_SEQ_CST) & ~HW_REQ_KICK)
		hw_req_serve(cpu, false);
}
