/*
 * test_core_smp.c — several vcpus of one VM: the wait-for-SIPI state,
 * INIT and STARTUP (core/mp.c), IPIs and the I/O APIC reaching other
 * vcpus (core/irq/lapic.c lapic_deliver), and the requests they make
 * (core/request.h). Driven through core's own calls, on every backend
 * built in; no guest code runs.
 *
 * x86 truth used (Intel SDM Vol. 3A; MP specification 1.4):
 *  - 8.4.3, MP spec B.4: after the BIOS's INIT an AP waits for a
 *    STARTUP IPI; STARTUP vector VV starts it in real mode at 000VV000H:
 *    CS selector VV00H, CS base VV000H, IP 0 (8.4.4.1; B.4.2).
 *  - 11.6.1, Figure 11-12: ICR low bits 7:0 vector, 10:8 delivery mode
 *    (000 fixed, 001 lowest priority, 100 NMI, 101 INIT, 110 STARTUP),
 *    bit 11 logical, bit 14 level assert, bit 15 trigger (1 level),
 *    19:18 shorthand; ICR high bits 31:24 the xAPIC destination; the
 *    message is sent when the low half is written. A STARTUP to a
 *    processor not waiting for one is ignored; INIT with level 0 and
 *    trigger level (de-assert) has no effect on Pentium 4 and later.
 *  - 11.4.1: the xAPIC page at FEE00000H: ID 020H, TPR 080H, LDR 0D0H,
 *    DFR 0E0H, SVR 0F0H (bit 8 software enable), ICR 300H/310H.
 *  - 11.6.2.2 flat logical model: a logical destination matches when it
 *    ANDs non-zero with LDR[31:24]. 11.6.2.4: lowest priority goes to the
 *    processor with the lowest priority among the destinations.
 *  - 82093AA I/O APIC: IOREGSEL at FEC00000H, IOWIN at FEC00010H;
 *    redirection entry n at registers 10H + 2n (low: vector 7:0,
 *    delivery mode 10:8, logical 11, trigger 15, mask 16) and 11H + 2n
 *    (destination 63:56).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/irq/irq.h"
#include "core/mp.h"
#include "core/request.h"
#include "core/vm.h"
#include "hvlab/hv.h"

#define APIC 0xfee00000ull
#define IOAPIC 0xfec00000ull

struct smp {
	struct hv_vm *vm;
	struct hv_vcpu *v[3];
};

static void make(struct smp *m, const char *backend)
{
	const struct hv_vm_config cfg = { .backend = backend, .mmu = NULL, .max_mem = 16 << 20 };
	assert_int_equal(hv_vm_create(&cfg, &m->vm), 0);
	const struct hv_memory_region mr = { .slot = 0, .gpa = 0, .size = 16 << 20 };
	assert_int_equal(hv_set_memory_region(m->vm, &mr), 0);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(hv_vcpu_create(m->vm, i, &m->v[i]), 0);
}

static void apic_write(struct hv_vcpu *v, uint32_t reg, uint32_t val)
{
	assert_true(irq_mmio_write(v, APIC + reg, &val, 4));
}

static void ioapic_write(struct hv_vcpu *v, uint32_t reg, uint32_t val)
{
	assert_true(irq_mmio_write(v, IOAPIC, &reg, 4));
	assert_true(irq_mmio_write(v, IOAPIC + 0x10, &val, 4));
}

/* Send from @from: destination @dest (xAPIC ID), ICR low @lo. */
static void ipi(struct hv_vcpu *from, uint8_t dest, uint32_t lo)
{
	apic_write(from, 0x310, (uint32_t)dest << 24);
	apic_write(from, 0x300, lo);
}

/* Run @fn on every backend built in. */
static void each_backend(void (*fn)(const char *))
{
	char list[64];
	snprintf(list, sizeof(list), "%s", hv_backends());
	for (char *b = strtok(list, " "); b; b = strtok(NULL, " "))
		fn(b);
}

static void ap_waits(const char *backend)
{
	struct smp m;
	make(&m, backend);
	assert_true(vcpu_mp_runnable(m.v[0]));
	assert_false(vcpu_mp_runnable(m.v[1]));
	/* Alone, nothing could ever send it a STARTUP: HV_EXIT_HLT. */
	struct hv_run run = { 0 };
	assert_int_equal(hv_run(m.v[1], &run), 0);
	assert_int_equal(run.exit_reason, HV_EXIT_HLT);
	assert_int_equal(run.insns, 0);
	hv_vm_destroy(m.vm);
}

static void test_ap_waits_for_sipi(void **state)
{
	(void)state;
	each_backend(ap_waits);
}

static void init_sipi(const char *backend)
{
	struct smp m;
	struct hv_segment cs;
	struct hv_regs r;
	make(&m, backend);
	/* STARTUP to a running processor: ignored. */
	ipi(m.v[1], 0, 0x00000600 | 0x12);
	vcpu_check_init_sipi(m.v[0]);
	hv_get_regs(m.v[0], &r);
	assert_int_equal(r.rip, 0xfff0);
	/* INIT (assert), INIT de-assert (nothing), STARTUP vector 0x9a. */
	ipi(m.v[0], 2, 0x00004500);
	ipi(m.v[0], 2, 0x00008500);
	ipi(m.v[0], 2, 0x00004600 | 0x9a);
	assert_true(atomic_load(&m.v[2]->requests) & (1u << VCPU_REQ_EVENT));
	assert_false(vcpu_mp_runnable(m.v[2]));
	vcpu_check_init_sipi(m.v[2]);
	assert_true(vcpu_mp_runnable(m.v[2]));
	struct hv_sregs s;
	assert_int_equal(hv_get_sregs(m.v[2], &s), 0);
	cs = s.cs;
	assert_int_equal(cs.selector, 0x9a00);
	assert_int_equal(cs.base, 0x9a000);
	assert_int_equal(s.cr0 & 1, 0);		/* real mode */
	hv_get_regs(m.v[2], &r);
	assert_int_equal(r.rip, 0);
	/* vcpu 1 was not addressed: still waiting. */
	vcpu_check_init_sipi(m.v[1]);
	assert_false(vcpu_mp_runnable(m.v[1]));
	/* A second STARTUP to the now running vcpu 2 changes nothing. */
	ipi(m.v[0], 2, 0x00004600 | 0x10);
	vcpu_check_init_sipi(m.v[2]);
	assert_int_equal(hv_get_sregs(m.v[2], &s), 0);
	assert_int_equal(s.cs.selector, 0x9a00);
	hv_vm_destroy(m.vm);
}

static void test_init_then_startup(void **state)
{
	(void)state;
	each_backend(init_sipi);
}

static void ioapic_routes(const char *backend)
{
	struct smp m;
	make(&m, backend);
	for (unsigned i = 0; i < 3; i++) {
		apic_write(m.v[i], 0xf0, 0x1ff);		/* SVR: enabled */
		apic_write(m.v[i], 0xd0, (1u << i) << 24);	/* LDR: flat bit i */
	}
	/* Pin 17: fixed, edge, physical destination APIC 2, vector 0x41. */
	ioapic_write(m.v[0], 0x10 + 2 * 17 + 1, 2u << 24);
	ioapic_write(m.v[0], 0x10 + 2 * 17, 0x41);
	assert_int_equal(hv_irq_line(m.vm, 17, true), 0);
	assert_int_equal(irq_pending(m.v[2]), 0x41);
	assert_int_equal(irq_pending(m.v[0]), -1);
	assert_int_equal(irq_pending(m.v[1]), -1);
	irq_ack(m.v[2], 0x41);
	apic_write(m.v[2], 0xb0, 0);			/* EOI: 0x41 leaves ISR */
	/* Pin 18: lowest priority to the logical set {1, 2}; vcpu 1 has the
	 * higher TPR, so vcpu 2, the later one, takes it. */
	apic_write(m.v[1], 0x80, 0x30);
	apic_write(m.v[2], 0x80, 0x10);
	ioapic_write(m.v[0], 0x10 + 2 * 18 + 1, 6u << 24);
	ioapic_write(m.v[0], 0x10 + 2 * 18, 0x50 | (1u << 8) | (1u << 11));
	assert_int_equal(hv_irq_line(m.vm, 18, true), 0);
	assert_int_equal(irq_pending(m.v[2]), 0x50);
	assert_int_equal(irq_pending(m.v[0]), -1);
	apic_write(m.v[1], 0x80, 0);
	assert_int_equal(irq_pending(m.v[1]), -1);	/* nothing went there */
	hv_vm_destroy(m.vm);
}

static void test_ioapic_reaches_other_cpus(void **state)
{
	(void)state;
	each_backend(ioapic_routes);
}

static void ipis(const char *backend)
{
	struct smp m;
	make(&m, backend);
	for (unsigned i = 0; i < 3; i++)
		apic_write(m.v[i], 0xf0, 0x1ff);
	atomic_store(&m.v[1]->requests, 0);
	/* Fixed to APIC 1; all excluding self (11) from vcpu 1; NMI to 2. */
	ipi(m.v[0], 1, 0x61);
	assert_int_equal(irq_pending(m.v[1]), 0x61);
	assert_true(atomic_load(&m.v[1]->requests) & (1u << VCPU_REQ_EVENT));
	ipi(m.v[1], 0, (3u << 18) | 0x62);
	assert_int_equal(irq_pending(m.v[0]), 0x62);
	assert_int_equal(irq_pending(m.v[2]), 0x62);
	assert_int_equal(irq_pending(m.v[1]), 0x61);	/* not to itself */
	ipi(m.v[0], 2, 0x00000400);
	assert_true(irq_take_nmi(m.v[2]));
	assert_false(irq_take_nmi(m.v[1]));
	hv_vm_destroy(m.vm);
}

static void test_ipis_reach_their_targets(void **state)
{
	(void)state;
	each_backend(ipis);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ap_waits_for_sipi),
		cmocka_unit_test(test_init_then_startup),
		cmocka_unit_test(test_ioapic_reaches_other_cpus),
		cmocka_unit_test(test_ipis_reach_their_targets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
