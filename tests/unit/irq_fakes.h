/*
 * irq_fakes.h — what the test_irq_*.c programs share: fakes of the few
 * core/ calls core/irq makes (the virtual clock of core/clock.c, vm_err
 * of core/vm.c and vcpu_make_request of core/request.c, none linked into
 * these tests: the fake only records the request), one VM with one
 * vcpu on the irqchip, and the processor's and the guest's side of the
 * local APIC.
 *
 * The fake clock is the test's own: now_ns is virtual time, now_tsc the
 * guest's TSC, which runs at 2 GHz (2 ticks per ns; tsc_to_ns and
 * ns_to_tsc say the same). A test that moves time sets both.
 *
 * Each test_irq_*.c includes this once, so the fakes live in the test's
 * own object and libhvlab.a's real clock is never pulled in. The fakes
 * must not go to tests/unit/support/: that is linked into every unit
 * test, and the test_core_* programs need the real ones.
 */
#ifndef TESTS_UNIT_IRQ_FAKES_H
#define TESTS_UNIT_IRQ_FAKES_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/irq/irq.h"
#include "core/request.h"
#include "core/vm.h"

/* The xAPIC register page at its RESET base (SDM Vol. 3A 11.4.1). */
#define IRQF_APIC_BASE 0xfee00000ull

static struct hv_vm vm;
static struct hv_vcpu vcpu;
static uint64_t now_ns, now_tsc;

uint64_t vcpu_clock_ns(struct hv_vcpu *v) { return now_ns; }
uint64_t vcpu_guest_tsc(struct hv_vcpu *v) { return now_tsc; }
uint64_t tsc_to_ns(uint64_t tsc) { return tsc / 2; }
uint64_t ns_to_tsc(uint64_t ns) { return ns * 2; }
int vm_err(int ret, const char *fmt, ...) { return ret; }
void vcpu_make_request(struct hv_vcpu *v, enum vcpu_request req)
{
	atomic_fetch_or(&v->requests, 1u << req);
}

/* A fresh VM whose only vcpu, 0, has initial APIC ID @apic_id, with the
 * clock at @ns (TSC 2 * @ns); 0, or -1 when the irqchip refuses. */
static inline int irqf_setup(uint32_t apic_id, uint64_t ns)
{
	memset(&vm, 0, sizeof(vm));
	memset(&vcpu, 0, sizeof(vcpu));
	now_ns = ns;
	now_tsc = 2 * ns;
	vcpu.vm = &vm;
	vcpu.id = apic_id;
	if (irq_vm_init(&vm) || irq_vcpu_init(&vcpu))
		return -1;
	vm.vcpus[0] = &vcpu;
	vm.nvcpus = 1;
	return 0;
}

static inline int irqf_teardown(void **state)
{
	irq_vcpu_destroy(&vcpu);
	irq_vm_destroy(&vm);
	return 0;
}

/* A 32-bit access to the xAPIC register at offset @reg (Table 11-1),
 * which the irqchip must claim. */
static inline void apic_wr(uint32_t reg, uint32_t v)
{
	assert_true(irq_mmio_write(&vcpu, IRQF_APIC_BASE + reg, &v, 4));
}

static inline uint32_t apic_rd(uint32_t reg)
{
	uint32_t v = 0xdeadbeef;
	assert_true(irq_mmio_read(&vcpu, IRQF_APIC_BASE + reg, &v, 4));
	return v;
}

/* The processor takes the highest pending interrupt (INTA): its vector,
 * or -1 when there is none. */
static inline int irqf_take(void)
{
	int v = irq_pending(&vcpu);
	if (v >= 0)
		irq_ack(&vcpu, v);
	return v;
}

#endif
