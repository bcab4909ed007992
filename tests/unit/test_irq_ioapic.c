/*
 * test_irq_ioapic.c — the I/O APIC of core/irq (ioapic.c) as the 82093AA
 * datasheet (Intel 290566) describes it: IOREGSEL/IOWIN at 0xfec00000,
 * the ID, version and redirection registers, edge and level inputs
 * (remote IRR and the local APIC's EOI), and destination matching
 * against the local APIC's ID, LDR and DFR (SDM Vol. 3A 11.6.2).
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

#define IOREGSEL 0xfec00000ull
#define IOWIN 0xfec00010ull

static int setup(void **state)
{
	if (irqf_setup(0, 0))
		return -1;
	apic_wr(0xf0, 0x1ff);	/* SVR: software-enabled */
	return 0;
}

static void io_write(uint32_t reg, uint32_t v)
{
	assert_true(irq_mmio_write(&vcpu, IOREGSEL, &reg, 4));
	assert_true(irq_mmio_write(&vcpu, IOWIN, &v, 4));
}

static uint32_t io_read(uint32_t reg)
{
	uint32_t v;
	assert_true(irq_mmio_write(&vcpu, IOREGSEL, &reg, 4));
	assert_true(irq_mmio_read(&vcpu, IOWIN, &v, 4));
	return v;
}

/* Redirection entry @pin: low dword at 0x10 + 2 * pin. */
static void redir(unsigned pin, uint32_t lo, uint32_t hi)
{
	io_write(0x11 + 2 * pin, hi);
	io_write(0x10 + 2 * pin, lo);
}

static void line(unsigned irq, bool level)
{
	assert_int_equal(irq_set_line(&vm, irq, level), 0);
}

#define RTE_LEVEL (1u << 15)
#define RTE_REMOTE_IRR (1u << 14)
#define RTE_MASKED (1u << 16)
#define RTE_LOGICAL (1u << 11)

static void reset_state(void **state)
{
	assert_int_equal(io_read(0x01), 0x00170020);
	assert_int_equal(io_read(0x00), 0);
	for (unsigned pin = 0; pin < 24; pin++)
		assert_true(io_read(0x10 + 2 * pin) & RTE_MASKED);
	uint32_t sel;
	assert_true(irq_mmio_read(&vcpu, IOREGSEL, &sel, 4));
	assert_int_equal(sel, 0x10 + 2 * 23);
}

/* ID: bits 27:24 only; version and arbitration ID are read-only. */
static void id_and_read_only_registers(void **state)
{
	io_write(0x00, 0xffffffff);
	assert_int_equal(io_read(0x00), 0x0f000000);
	io_write(0x01, 0);
	/* 24 entries (23 in 23:16), version 0x20 as on QEMU's pc machine. */
	assert_int_equal(io_read(0x01), 0x00170020);
}

/* Delivery status (12) and remote IRR (14) are read-only; the high
 * dword holds only the destination (63:56). */
static void entry_writable_bits(void **state)
{
	io_write(0x10 + 2 * 5, 0xffffffff);
	io_write(0x11 + 2 * 5, 0xffffffff);
	assert_int_equal(io_read(0x10 + 2 * 5), 0x0001afff);
	assert_int_equal(io_read(0x11 + 2 * 5), 0xff000000);
}

/* Edge: one message per rising edge, none for a held line. */
static void edge_fixed_physical(void **state)
{
	redir(4, 0x41, 0);
	line(4, true);
	assert_int_equal(irqf_take(), 0x41);
	assert_int_equal(apic_rd(0x180 + 0x10 * (0x41 / 32)) >> (0x41 % 32) & 1, 0);
	apic_wr(0xb0, 0);
	assert_int_equal(irq_pending(&vcpu), -1);
	line(4, false);
	line(4, true);
	assert_int_equal(irqf_take(), 0x41);
}

/* An edge on a masked pin is lost (datasheet 3.2.4, bit 16). */
static void masked_edge_is_lost(void **state)
{
	redir(4, 0x41 | RTE_MASKED, 0);
	line(4, true);
	redir(4, 0x41, 0);
	assert_int_equal(irq_pending(&vcpu), -1);
}

/* ISA IRQ 0 drives pin 2 (the MP table's override), not pin 0. */
static void irq0_drives_pin2(void **state)
{
	redir(0, 0x40, 0);
	redir(2, 0x50, 0);
	line(0, true);
	assert_int_equal(irqf_take(), 0x50);
	assert_int_equal(irq_pending(&vcpu), -1);
}

/*
 * Level: the message sets remote IRR; the line held high sends nothing
 * more until the local APIC's EOI of that vector (TMR set: it is
 * broadcast) clears remote IRR, then it is sent again.
 */
static void level_remote_irr_and_eoi(void **state)
{
	redir(16, 0x60 | RTE_LEVEL, 0);
	line(16, true);
	assert_true(io_read(0x10 + 2 * 16) & RTE_REMOTE_IRR);
	assert_int_equal(irqf_take(), 0x60);
	assert_int_equal(apic_rd(0x180 + 0x10 * 3) & 1, 1);	/* TMR bit 96 */
	line(16, false);
	line(16, true);
	assert_int_equal(irq_pending(&vcpu), -1);		/* waits for EOI */
	apic_wr(0xb0, 0);
	assert_int_equal(irqf_take(), 0x60);				/* still high */
	line(16, false);
	apic_wr(0xb0, 0);
	assert_false(io_read(0x10 + 2 * 16) & RTE_REMOTE_IRR);
	assert_int_equal(irq_pending(&vcpu), -1);
}

/* Version 0x20's EOI register (base + 0x40, ICH9 datasheet 13.5.6):
 * writing a vector clears remote IRR of the level entries with it, so
 * the still-asserted input is sent again. */
static void eoi_register(void **state)
{
	redir(16, 0x60 | RTE_LEVEL, 0);
	line(16, true);
	assert_int_equal(irqf_take(), 0x60);
	assert_true(io_read(0x10 + 2 * 16) & RTE_REMOTE_IRR);
	const uint32_t other = 0x61, vec = 0x60;
	assert_true(irq_mmio_write(&vcpu, 0xfec00040, &other, 4));
	assert_true(io_read(0x10 + 2 * 16) & RTE_REMOTE_IRR);
	assert_int_equal(apic_rd(0x200 + 0x10 * 3) & 1, 0);	/* IRR bit 96 */
	assert_true(irq_mmio_write(&vcpu, 0xfec00040, &vec, 4));
	/* The input is still high: sent again, into the APIC's IRR (0x60 is
	 * still in service there, so it waits for the APIC's EOI). */
	assert_true(io_read(0x10 + 2 * 16) & RTE_REMOTE_IRR);
	assert_int_equal(apic_rd(0x200 + 0x10 * 3) & 1, 1);
}

/* Unmasking a level entry whose input is asserted sends it. */
static void level_unmask_while_asserted(void **state)
{
	redir(17, 0x61 | RTE_LEVEL | RTE_MASKED, 0);
	line(17, true);
	assert_int_equal(irq_pending(&vcpu), -1);
	redir(17, 0x61 | RTE_LEVEL, 0);
	assert_int_equal(irqf_take(), 0x61);
}

/* Physical: the 8-bit APIC ID or 0xff; logical flat: LDR[31:24] AND;
 * logical cluster (DFR 0000b): high nibble equal, low nibble AND. */
static void destination_matching(void **state)
{
	redir(5, 0x45, 1u << 24);			/* APIC ID 1: not us */
	line(5, true);
	assert_int_equal(irq_pending(&vcpu), -1);
	line(5, false);
	redir(5, 0x45, 0xffu << 24);
	line(5, true);
	assert_int_equal(irqf_take(), 0x45);
	line(5, false);
	apic_wr(0xb0, 0);

	apic_wr(0xd0, 0x04000000);			/* LDR: bit 2 */
	redir(6, 0x46 | RTE_LOGICAL, 0x03u << 24);
	line(6, true);
	assert_int_equal(irq_pending(&vcpu), -1);
	line(6, false);
	redir(6, 0x46 | RTE_LOGICAL, 0x06u << 24);
	line(6, true);
	assert_int_equal(irqf_take(), 0x46);
	line(6, false);
	apic_wr(0xb0, 0);

	apic_wr(0xe0, 0x0fffffff);			/* DFR: cluster */
	apic_wr(0xd0, 0x21000000);			/* cluster 2, bit 0 */
	redir(7, 0x47 | RTE_LOGICAL, 0x11u << 24);
	line(7, true);
	assert_int_equal(irq_pending(&vcpu), -1);
	line(7, false);
	redir(7, 0x47 | RTE_LOGICAL, 0x23u << 24);
	line(7, true);
	assert_int_equal(irqf_take(), 0x47);
}

/* The APIC ID register decides physical matches (it is writable in
 * xAPIC mode). */
static void physical_follows_apic_id(void **state)
{
	apic_wr(0x20, 0x05000000);
	redir(9, 0x49, 5u << 24);
	line(9, true);
	assert_int_equal(irqf_take(), 0x49);
}

static void lowest_priority_reaches_the_one_apic(void **state)
{
	redir(10, 0x4a | (1u << 8), 0);
	line(10, true);
	assert_int_equal(irqf_take(), 0x4a);
}

static void nmi_delivery(void **state)
{
	redir(11, 0x400, 0);
	line(11, true);
	assert_true(irq_take_nmi(&vcpu));
	assert_false(irq_take_nmi(&vcpu));
	assert_int_equal(irq_pending(&vcpu), -1);
}

/* Vectors 0-15 are illegal (SDM 11.5.2): ESR bit 6 "receive illegal
 * vector", nothing in IRR. */
static void illegal_vector(void **state)
{
	redir(12, 0x05, 0);
	line(12, true);
	assert_int_equal(irq_pending(&vcpu), -1);
	apic_wr(0x280, 0);
	assert_int_equal(apic_rd(0x280), 1u << 6);
}

/* Pin 0 carries the 8259's INTR (MP spec virtual wire through the I/O
 * APIC): programmed ExtINT, the vector comes from the 8259 at INTA. */
static void extint_through_pin0(void **state)
{
	uint8_t icw[] = { 0x11, 0x30, 0x04, 0x01 };
	for (unsigned i = 0; i < 4; i++)
		assert_true(irq_pio_out(&vcpu, i ? 0x21 : 0x20, &icw[i], 1));
	redir(0, 0x700, 0);
	line(1, true);
	assert_int_equal(irqf_take(), 0x31);
	uint8_t ocw3 = 0x0b, isr;
	irq_pio_out(&vcpu, 0x20, &ocw3, 1);
	irq_pio_in(&vcpu, 0x20, &isr, 1);
	assert_int_equal(isr, 1u << 1);
}

/* Only dword accesses to IOWIN write; a byte write to IOREGSEL works. */
static void access_widths(void **state)
{
	uint8_t sel = 0x00;
	uint16_t half = 0xffff;
	assert_true(irq_mmio_write(&vcpu, IOREGSEL, &sel, 1));
	assert_true(irq_mmio_write(&vcpu, IOWIN, &half, 2));
	assert_int_equal(io_read(0x00), 0);
	assert_false(irq_mmio_read(&vcpu, 0xfec01000, &half, 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(reset_state, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(id_and_read_only_registers, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(entry_writable_bits, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(edge_fixed_physical, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(masked_edge_is_lost, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(irq0_drives_pin2, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(level_remote_irr_and_eoi, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(eoi_register, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(level_unmask_while_asserted, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(destination_matching, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(physical_follows_apic_id, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(lowest_priority_reaches_the_one_apic, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(nmi_delivery, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(illegal_vector, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(extint_through_pin0, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(access_widths, setup, irqf_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
