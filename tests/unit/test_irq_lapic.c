/*
 * test_irq_lapic.c — the local APIC of core/irq in xAPIC mode: RESET
 * values (SDM Vol. 3A 11.4.7.1), the register page (Table 11-1, Figure
 * 11-8 for the LVT bits), priorities (11.8.3.1), IRR/ISR/EOI (11.8.4,
 * 11.8.5), software disable (11.4.7.2), IPIs through the ICR (11.6.1)
 * and the ESR (11.5.3). Values are the manual's, written out here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/irq/irq.h"
#include "core/vm.h"
#include "tests/unit/irq_fakes.h"

#define APIC 0xfee00000ull

static int setup(void **state)
{
	return irqf_setup(0, 0);
}

/* Bit @v of the 256-bit register at @reg (ISR 0x100, TMR 0x180, IRR 0x200). */
static bool bit256(uint32_t reg, unsigned v)
{
	return apic_rd(reg + 0x10 * (v / 32)) >> (v % 32) & 1;
}

static void sw_enable(void)
{
	apic_wr(0xf0, 0x1ff);
}

/* A fixed, edge-triggered self IPI (ICR shorthand 01b). */
static void self_ipi(unsigned vector)
{
	apic_wr(0x300, (1u << 18) | vector);
}

static void reset_values(void **state)
{
	uint64_t base;

	assert_int_equal(irq_rdmsr(&vcpu, 0x1b, &base), 0);
	assert_int_equal(base, 0xfee00000ull | (1u << 11) | (1u << 8));	/* EN, BSP */
	assert_int_equal(apic_rd(0x20), 0);			/* ID = initial APIC ID 0 */
	assert_int_equal(apic_rd(0x30), 0x00050014);		/* version */
	assert_int_equal(apic_rd(0x80), 0);			/* TPR */
	assert_int_equal(apic_rd(0xa0), 0);			/* PPR */
	assert_int_equal(apic_rd(0xd0), 0);			/* LDR */
	assert_int_equal(apic_rd(0xe0), 0xffffffff);		/* DFR */
	assert_int_equal(apic_rd(0xf0), 0xff);		/* SVR */
	for (unsigned i = 0; i < 8; i++) {
		assert_int_equal(apic_rd(0x100 + 0x10 * i), 0);
		assert_int_equal(apic_rd(0x180 + 0x10 * i), 0);
		assert_int_equal(apic_rd(0x200 + 0x10 * i), 0);
	}
	assert_int_equal(apic_rd(0x280), 0);
	assert_int_equal(apic_rd(0x300), 0);
	assert_int_equal(apic_rd(0x310), 0);
	for (uint32_t r = 0x320; r <= 0x370; r += 0x10)
		assert_int_equal(apic_rd(r), 0x00010000);
	assert_int_equal(apic_rd(0x380), 0);
	assert_int_equal(apic_rd(0x390), 0);
	assert_int_equal(apic_rd(0x3e0), 0);
	assert_int_equal(irq_get_cr8(&vcpu), 0);
}

/* An application processor: its own ID, no BSP flag. */
static void reset_values_ap(void **state)
{
	struct hv_vcpu ap = { .vm = &vm, .id = 3 };
	uint64_t base;

	assert_int_equal(irq_vcpu_init(&ap), 0);
	assert_int_equal(irq_rdmsr(&ap, 0x1b, &base), 0);
	assert_int_equal(base, 0xfee00000ull | (1u << 11));
	uint32_t id;
	assert_true(irq_mmio_read(&ap, APIC + 0x20, &id, 4));
	assert_int_equal(id, 3u << 24);
	irq_vcpu_destroy(&ap);
}

/* PPR (11.8.3.1): TPR if TPR[7:4] >= ISRV[7:4], else ISRV[7:4] << 4. */
static void ppr_table(void **state)
{
	static const struct { uint8_t tpr; int isrv; uint8_t ppr; } t[] = {
		{ 0x00, -1, 0x00 }, { 0x35, -1, 0x35 }, { 0x00, 0x41, 0x40 },
		{ 0x45, 0x41, 0x45 }, { 0x4f, 0x4a, 0x4f }, { 0x3f, 0x41, 0x40 },
		{ 0x50, 0x41, 0x50 }, { 0xff, 0xe3, 0xff }, { 0x10, 0xe3, 0xe0 },
	};
	sw_enable();
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		apic_wr(0x80, 0);
		if (t[i].isrv >= 0) {
			self_ipi((unsigned)t[i].isrv);
			assert_int_equal(irqf_take(), t[i].isrv);
		}
		apic_wr(0x80, t[i].tpr);
		assert_int_equal(apic_rd(0xa0), t[i].ppr);
		apic_wr(0xb0, 0);
	}
}

/* 11.8.3: the highest IRR vector is taken only if its class is above
 * PPR's class. */
static void pending_respects_ppr(void **state)
{
	sw_enable();
	apic_wr(0x80, 0x50);
	self_ipi(0x5f);
	assert_int_equal(irq_pending(&vcpu), -1);	/* class 5, not above */
	self_ipi(0x61);
	assert_int_equal(irqf_take(), 0x61);
	self_ipi(0x6e);
	assert_int_equal(irq_pending(&vcpu), -1);	/* 0x61 in service */
	self_ipi(0x70);
	assert_int_equal(irqf_take(), 0x70);
	apic_wr(0xb0, 0);
	assert_int_equal(irq_pending(&vcpu), -1);	/* 0x61 still in service */
	apic_wr(0xb0, 0);
	assert_int_equal(irqf_take(), 0x6e);
	apic_wr(0xb0, 0);
	apic_wr(0x80, 0x40);
	assert_int_equal(irqf_take(), 0x5f);
}

/* Acknowledge moves IRR -> ISR; EOI clears the highest ISR bit. */
static void irr_isr_eoi(void **state)
{
	sw_enable();
	self_ipi(0x40);
	self_ipi(0x80);
	assert_true(bit256(0x200, 0x40));
	assert_true(bit256(0x200, 0x80));
	assert_int_equal(irqf_take(), 0x80);
	assert_false(bit256(0x200, 0x80));
	assert_true(bit256(0x100, 0x80));
	assert_int_equal(irq_pending(&vcpu), -1);
	apic_wr(0xb0, 0);
	assert_false(bit256(0x100, 0x80));
	assert_int_equal(irqf_take(), 0x40);
	self_ipi(0x90);
	assert_int_equal(irqf_take(), 0x90);			/* nests */
	apic_wr(0xb0, 0);
	assert_true(bit256(0x100, 0x40));		/* 0x90 went first */
	assert_false(bit256(0x100, 0x90));
	apic_wr(0xb0, 0);
	assert_int_equal(apic_rd(0x100 + 0x10 * 2), 0);
	apic_wr(0xb0, 0);					/* nothing in service: no-op */
	assert_int_equal(irq_pending(&vcpu), -1);
}

/* 11.8.6: CR8[3:0] = TPR[7:4]; MOV to CR8 clears TPR[3:0]. */
static void cr8_is_tpr_class(void **state)
{
	irq_set_cr8(&vcpu, 5);
	assert_int_equal(apic_rd(0x80), 0x50);
	apic_wr(0x80, 0x7c);
	assert_int_equal(irq_get_cr8(&vcpu), 7);
}

/* 11.4.7.2: with SVR bit 8 clear the LVT mask bits stay set; clearing
 * bit 8 sets them all; a fixed interrupt is not accepted. */
static void software_disable(void **state)
{
	apic_wr(0x320, 0x20);
	assert_int_equal(apic_rd(0x320), 0x00010020);
	sw_enable();
	apic_wr(0x320, 0x20);
	apic_wr(0x350, 0x700);
	assert_int_equal(apic_rd(0x320), 0x20);
	apic_wr(0xf0, 0xff);
	assert_int_equal(apic_rd(0x320), 0x00010020);
	assert_int_equal(apic_rd(0x350), 0x00010700);
	self_ipi(0x40);
	assert_false(bit256(0x200, 0x40));
	assert_int_equal(irq_pending(&vcpu), -1);
}

/* LVT bits software can set (Figure 11-8). */
static void lvt_writable_bits(void **state)
{
	static const uint32_t expect[6] = {
		0x000700ff,	/* timer: vector, mask, mode 18:17 */
		0x000107ff,	/* thermal: vector, delivery mode, mask */
		0x000107ff,	/* performance counters */
		0x0001a7ff,	/* LINT0: + polarity, trigger mode */
		0x0001a7ff,	/* LINT1 */
		0x000100ff,	/* error: vector, mask */
	};
	sw_enable();
	for (unsigned i = 0; i < 6; i++) {
		apic_wr(0x320 + 0x10 * i, 0xffffffff);
		assert_int_equal(apic_rd(0x320 + 0x10 * i), expect[i]);
	}
}

/* ID and LDR keep bits 31:24; DFR bits 31:28 with 27:0 reading ones;
 * SVR bits 8:0; TPR bits 7:0. Version and PPR are read-only. */
static void register_writable_bits(void **state)
{
	apic_wr(0x20, 0xffffffff);
	assert_int_equal(apic_rd(0x20), 0xff000000);
	apic_wr(0xd0, 0xffffffff);
	assert_int_equal(apic_rd(0xd0), 0xff000000);
	apic_wr(0xe0, 0);
	assert_int_equal(apic_rd(0xe0), 0x0fffffff);
	apic_wr(0xf0, 0xffffffff);
	assert_int_equal(apic_rd(0xf0), 0x1ff);
	apic_wr(0x80, 0xffffffff);
	assert_int_equal(apic_rd(0x80), 0xff);
	apic_wr(0x30, 0);
	assert_int_equal(apic_rd(0x30), 0x00050014);
	apic_wr(0x3e0, 0xffffffff);
	assert_int_equal(apic_rd(0x3e0), 0xb);
}

/* 11.4.1: 32-bit registers on 16-byte boundaries; a narrow read gets
 * the register's bytes, a narrow write does nothing. */
static void access_sizes(void **state)
{
	uint16_t h;
	uint8_t b = 0x12;

	assert_true(irq_mmio_read(&vcpu, APIC + 0x30, &h, 2));
	assert_int_equal(h, 0x0014);
	assert_true(irq_mmio_read(&vcpu, APIC + 0x32, &h, 2));
	assert_int_equal(h, 0x0005);
	assert_true(irq_mmio_write(&vcpu, APIC + 0x80, &b, 1));
	assert_int_equal(apic_rd(0x80), 0);
	assert_true(irq_mmio_read(&vcpu, APIC + 0x34, &h, 2));
	assert_int_equal(h, 0);
}

/*
 * ICR (Figure 11-12): the IPI goes when the low half is written.
 * Shorthand 01 self, 10 all including self, 11 all excluding self;
 * 00: the destination field against this APIC's ID.
 */
static void icr_ipis(void **state)
{
	sw_enable();
	apic_wr(0x310, 0x00000000);
	apic_wr(0x300, 0x41);			/* physical, dest ID 0 */
	assert_true(bit256(0x200, 0x41));
	assert_int_equal(apic_rd(0x300), 0x41);	/* delivery status: idle */
	apic_wr(0x310, 0x01000000);
	apic_wr(0x300, 0x42);			/* dest ID 1: not us */
	assert_false(bit256(0x200, 0x42));
	assert_int_equal(apic_rd(0x310), 0x01000000);
	apic_wr(0x300, (3u << 18) | 0x43);		/* all excluding self */
	assert_false(bit256(0x200, 0x43));
	apic_wr(0x300, (2u << 18) | 0x44);		/* all including self */
	assert_true(bit256(0x200, 0x44));
	apic_wr(0x310, 0xff000000);
	apic_wr(0x300, 0x45);			/* physical broadcast */
	assert_true(bit256(0x200, 0x45));
	apic_wr(0x310, 0x00000000);
	apic_wr(0x300, (1u << 15) | (1u << 14) | 0x46);	/* level-triggered */
	assert_true(bit256(0x180, 0x46));
}

static void icr_nmi_ipi(void **state)
{
	sw_enable();
	apic_wr(0x300, (1u << 18) | (4u << 8));
	assert_true(irq_take_nmi(&vcpu));
	assert_false(irq_take_nmi(&vcpu));
}

/* Logical destinations (11.6.2.2): flat model ANDs with LDR[31:24]. */
static void icr_logical(void **state)
{
	sw_enable();
	apic_wr(0xd0, 0x10000000);
	apic_wr(0x310, 0x20000000);
	apic_wr(0x300, (1u << 11) | 0x51);
	assert_false(bit256(0x200, 0x51));
	apic_wr(0x310, 0x30000000);
	apic_wr(0x300, (1u << 11) | 0x52);
	assert_true(bit256(0x200, 0x52));
}

/* ESR (11.5.3): errors collect internally; a write makes them readable
 * and starts over. Illegal vectors (0-15) in a sent IPI set bit 5;
 * an access to a reserved register offset sets bit 7. */
static void esr_latches_on_write(void **state)
{
	sw_enable();
	self_ipi(0x03);
	assert_false(bit256(0x200, 0x03));
	assert_int_equal(apic_rd(0x280), 0);
	apic_wr(0x280, 0);
	assert_int_equal(apic_rd(0x280), 1u << 5);
	apic_rd(0x040);					/* reserved */
	apic_wr(0x280, 0);
	assert_int_equal(apic_rd(0x280), 1u << 7);
	apic_wr(0x280, 0);
	assert_int_equal(apic_rd(0x280), 0);
}

/* LVT Error interrupts when an error is detected and it is unmasked. */
static void error_lvt_interrupts(void **state)
{
	sw_enable();
	apic_wr(0x370, 0xe0);
	self_ipi(0x01);
	assert_int_equal(irqf_take(), 0xe0);
}

/* LVT LINT0 with NMI delivery turns a rising edge of the 8259's INTR
 * into an NMI (11.5.1). */
static void lint0_nmi(void **state)
{
	uint8_t icw[] = { 0x11, 0x30, 0x04, 0x01 };
	for (unsigned i = 0; i < 4; i++)
		assert_true(irq_pio_out(&vcpu, i ? 0x21 : 0x20, &icw[i], 1));
	sw_enable();
	apic_wr(0x350, 4u << 8);
	assert_int_equal(irq_set_line(&vm, 1, true), 0);
	assert_true(irq_take_nmi(&vcpu));
	assert_int_equal(irq_pending(&vcpu), -1);
}

/* The APIC page follows IA32_APIC_BASE. */
static void base_relocation(void **state)
{
	uint32_t v;

	assert_int_equal(irq_wrmsr(&vcpu, 0x1b, 0xfed00000ull | (1u << 11) | (1u << 8)), 0);
	assert_false(irq_mmio_read(&vcpu, APIC + 0x30, &v, 4));
	assert_true(irq_mmio_read(&vcpu, 0xfed00030, &v, 4));
	assert_int_equal(v, 0x00050014);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(reset_values, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(reset_values_ap, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(ppr_table, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(pending_respects_ppr, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(irr_isr_eoi, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(cr8_is_tpr_class, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(software_disable, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(lvt_writable_bits, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(register_writable_bits, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(access_sizes, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(icr_ipis, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(icr_nmi_ipi, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(icr_logical, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(esr_latches_on_write, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(error_lvt_interrupts, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(lint0_nmi, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(base_relocation, setup, irqf_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
