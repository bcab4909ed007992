/*
 * test_irq_pic.c — the two 8259As of core/irq (pic.c) as a guest sees
 * them through ports 0x20/0x21, 0xa0/0xa1 and the ELCR at 0x4d0/0x4d1,
 * and as the processor sees them through INTA (irq_pending/irq_ack).
 * Expected values come from the 8259A datasheet (Intel 231468) and the
 * PIIX ELCR description (82371AB 4.1.11), not from pic.c.
 *
 * Linux's init_8259A() (arch/x86/kernel/i8259.c) programs the master
 * with ICW1 0x11, ICW2 0x30, ICW3 0x04, ICW4 0x01 and the slave with
 * 0x11, 0x38, 0x02, 0x01; guests/pic.c does the same with base 0x20.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/irq/irqchip.h"
#include "core/vm.h"
#include "tests/unit/irq_fakes.h"

static int setup(void **state)
{
	return irqf_setup(0, 0);
}

/* ---- the guest's view ---- */
static void outb(uint16_t port, uint8_t v)
{
	assert_true(irq_pio_out(&vcpu, port, &v, 1));
}

static uint8_t inb(uint16_t port)
{
	uint8_t v = 0x5a;
	assert_true(irq_pio_in(&vcpu, port, &v, 1));
	return v;
}

static void line(unsigned irq, bool level)
{
	assert_int_equal(irq_set_line(&vm, irq, level), 0);
}

static void pulse(unsigned irq)
{
	line(irq, true);
	line(irq, false);
}

/* The processor takes the interrupt: INTA, returns the vector. */
#define OCW3_READ_IRR 0x0a
#define OCW3_READ_ISR 0x0b
#define OCW2_EOI 0x20
#define OCW2_SPECIFIC_EOI(l) (0x60 | (l))

static void linux_init(uint8_t icw4)
{
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	outb(0x20, 0x11);
	outb(0x21, 0x30);
	outb(0x21, 0x04);
	outb(0x21, icw4);
	outb(0xa0, 0x11);
	outb(0xa1, 0x38);
	outb(0xa1, 0x02);
	outb(0xa1, icw4);
	outb(0x21, 0x00);	/* everything unmasked */
	outb(0xa1, 0x00);
}

static uint8_t read_isr(uint16_t cmd)
{
	outb(cmd, OCW3_READ_ISR);
	return inb(cmd);
}

static uint8_t read_irr(uint16_t cmd)
{
	outb(cmd, OCW3_READ_IRR);
	return inb(cmd);
}

/* ICW2-4 go to the odd port without touching IMR; afterwards the odd
 * port is OCW1 and reads back IMR (guests/pic.c's pic_get_mask). */
static void init_sequence_then_imr(void **state)
{
	outb(0x20, 0x11);
	outb(0x21, 0x20);
	outb(0x21, 0x04);
	outb(0x21, 0x01);
	assert_int_equal(inb(0x21), 0x00);	/* ICW1 cleared IMR */
	outb(0x21, 0xfb);
	outb(0xa0, 0x11);
	outb(0xa1, 0x28);
	outb(0xa1, 0x02);
	outb(0xa1, 0x01);
	outb(0xa1, 0xff);
	assert_int_equal(inb(0x21), 0xfb);
	assert_int_equal(inb(0xa1), 0xff);
	/* after ICW1 the even port reads IRR */
	assert_int_equal(inb(0x20), 0x00);
}

static void vectors_after_linux_init(void **state)
{
	linux_init(0x01);
	pulse(1);
	assert_int_equal(irqf_take(), 0x31);
	outb(0x20, OCW2_EOI);
	pulse(12);
	assert_int_equal(irqf_take(), 0x38 + 4);
	assert_int_equal(irq_pending(&vcpu), -1);
}

/* IMR masks at IRR's output: a masked edge is remembered, and the
 * request comes through when unmasked. */
static void mask_holds_request(void **state)
{
	linux_init(0x01);
	outb(0x21, 1u << 4);
	pulse(4);
	assert_int_equal(irq_pending(&vcpu), -1);
	assert_int_equal(read_irr(0x20), 1u << 4);
	outb(0x21, 0);
	assert_int_equal(irqf_take(), 0x34);
}

/* An edge input latches on the rising edge: holding the line high does
 * not request again, a new edge does. */
static void edge_needs_new_edge(void **state)
{
	linux_init(0x01);
	line(3, true);
	assert_int_equal(irqf_take(), 0x33);
	outb(0x20, OCW2_EOI);
	assert_int_equal(irq_pending(&vcpu), -1);
	line(3, false);
	line(3, true);
	assert_int_equal(irqf_take(), 0x33);
}

/* Fully nested mode: IR0 highest; an in-service level holds off itself
 * and lower levels, not higher ones; non-specific EOI retires the
 * highest in service. */
static void priority_and_nesting(void **state)
{
	linux_init(0x01);
	pulse(5);
	assert_int_equal(irqf_take(), 0x35);
	assert_int_equal(read_isr(0x20), 1u << 5);
	pulse(6);
	assert_int_equal(irq_pending(&vcpu), -1);	/* lower than 5 */
	pulse(3);
	assert_int_equal(irqf_take(), 0x33);			/* higher: nests */
	assert_int_equal(read_isr(0x20), (1u << 5) | (1u << 3));
	outb(0x20, OCW2_EOI);
	assert_int_equal(read_isr(0x20), 1u << 5);	/* 3 went first */
	assert_int_equal(irq_pending(&vcpu), -1);
	outb(0x20, OCW2_EOI);
	assert_int_equal(irqf_take(), 0x36);
}

static void specific_eoi(void **state)
{
	linux_init(0x01);
	pulse(5);
	irqf_take();
	pulse(3);
	irqf_take();
	outb(0x20, OCW2_SPECIFIC_EOI(5));
	assert_int_equal(read_isr(0x20), 1u << 3);
}

/* Two simultaneous requests: the higher priority one first. */
static void simultaneous_requests(void **state)
{
	linux_init(0x01);
	outb(0x21, 0xff);
	pulse(7);
	pulse(1);
	outb(0x21, 0x00);
	assert_int_equal(irqf_take(), 0x31);
	outb(0x20, OCW2_EOI);
	assert_int_equal(irqf_take(), 0x37);
}

/* A slave IRQ is in service on both chips: the master's IR2 keeps
 * lower master inputs (3-7) out until the master gets its EOI too. */
static void cascade_through_irq2(void **state)
{
	linux_init(0x01);
	pulse(10);
	assert_int_equal(irqf_take(), 0x38 + 2);
	assert_int_equal(read_isr(0x20), 1u << 2);
	assert_int_equal(read_isr(0xa0), 1u << 2);
	pulse(4);
	outb(0xa0, OCW2_EOI);
	assert_int_equal(read_isr(0xa0), 0);
	assert_int_equal(irq_pending(&vcpu), -1);
	outb(0x20, OCW2_EOI);
	assert_int_equal(irqf_take(), 0x34);
	/* a masked slave does not reach the master */
	outb(0x20, OCW2_EOI);
	outb(0xa1, 0xff);
	pulse(9);
	assert_int_equal(irq_pending(&vcpu), -1);
	assert_int_equal(read_irr(0xa0), 1u << 1);
}

static void irq2_is_not_a_device_line(void **state)
{
	assert_int_equal(irq_set_line(&vm, 2, true), -22);
	assert_int_equal(irq_set_line(&vm, 24, true), -22);
	assert_int_equal(irq_set_line(&vm, 16, true), 0);	/* I/O APIC only */
}

/* INTA with nothing requested (a level request withdrawn before the
 * INTA): the 8259A answers IR7 and sets no ISR bit. */
static void spurious_irq7(void **state)
{
	struct pic *pic = &vm.irq->pic;

	linux_init(0x01);
	assert_int_equal(pic_intack(pic), 0x37);
	outb(0x4d0, 1u << 5);
	line(5, true);
	assert_int_equal(irq_pending(&vcpu), 0x35);
	line(5, false);
	assert_int_equal(pic_intack(pic), 0x37);
	assert_int_equal(read_isr(0x20), 0);
}

/* AEOI (ICW4 bit 1): the ISR bit is cleared at the end of INTA. */
static void auto_eoi(void **state)
{
	linux_init(0x03);
	pulse(4);
	assert_int_equal(irqf_take(), 0x34);
	assert_int_equal(read_isr(0x20), 0);
	pulse(6);
	assert_int_equal(irqf_take(), 0x36);		/* no EOI needed */
}

/* ELCR: IRQ 0, 1, 2, 8, 13 cannot be level-triggered (the bits read 0);
 * a level input stays requested while high, also after its EOI. */
static void elcr_level_mode(void **state)
{
	linux_init(0x01);
	outb(0x4d0, 0xff);
	outb(0x4d1, 0xff);
	assert_int_equal(inb(0x4d0), 0xf8);
	assert_int_equal(inb(0x4d1), 0xde);
	outb(0x4d0, 0);
	outb(0x4d1, 1u << (11 - 8));
	line(11, true);
	assert_int_equal(irqf_take(), 0x38 + 3);
	outb(0xa0, OCW2_EOI);
	outb(0x20, OCW2_EOI);
	assert_int_equal(irqf_take(), 0x38 + 3);		/* still high */
	outb(0xa0, OCW2_EOI);
	outb(0x20, OCW2_EOI);
	line(11, false);
	assert_int_equal(irq_pending(&vcpu), -1);
	assert_int_equal(read_irr(0xa0), 0);
}

/* ICW1 LTIM makes every input of the chip level-sensitive. */
static void icw1_ltim(void **state)
{
	outb(0x20, 0x19);
	outb(0x21, 0x40);
	outb(0x21, 0x04);
	outb(0x21, 0x01);
	line(6, true);
	assert_int_equal(irq_pending(&vcpu), 0x46);
	line(6, false);
	assert_int_equal(irq_pending(&vcpu), -1);	/* withdrawn */
}

/* The poll command: the next read of the even port is 0x80 | level and
 * acknowledges the request; with nothing requested it reads 0. */
static void poll_command(void **state)
{
	linux_init(0x01);
	outb(0x20, 0x0c);
	assert_int_equal(inb(0x20), 0x00);
	pulse(5);
	outb(0x20, 0x0c);
	assert_int_equal(inb(0x20), 0x85);
	assert_int_equal(read_isr(0x20), 1u << 5);
	assert_int_equal(read_irr(0x20), 0);
}

/* Special mask mode (OCW3 0x68): masking the in-service level lets
 * lower levels through; OCW3 0x48 ends it. */
static void special_mask_mode(void **state)
{
	linux_init(0x01);
	pulse(3);
	irqf_take();
	pulse(5);
	assert_int_equal(irq_pending(&vcpu), -1);
	outb(0x21, 1u << 3);
	outb(0x20, 0x68);
	assert_int_equal(irqf_take(), 0x35);
	outb(0x20, OCW2_SPECIFIC_EOI(5));
	outb(0x20, 0x48);
	pulse(6);
	assert_int_equal(irq_pending(&vcpu), -1);	/* 3 blocks again */
}

/* OCW2 set priority (0xc0 | L): L becomes the lowest, L+1 the highest;
 * rotate on non-specific EOI (0xa0) makes the retired level lowest. */
static void rotation(void **state)
{
	linux_init(0x01);
	outb(0x20, 0xc0 | 4);
	outb(0x21, 0xff);
	pulse(1);
	pulse(6);
	outb(0x21, 0x00);
	assert_int_equal(irqf_take(), 0x36);
	outb(0x20, 0xa0);			/* 6 is now the lowest */
	pulse(6);
	assert_int_equal(irqf_take(), 0x31);
	outb(0x20, OCW2_EOI);
	assert_int_equal(irqf_take(), 0x36);
}

/*
 * The master's INTR reaches the BSP while its APIC is as RESET leaves it
 * (software-disabled), through LINT0 programmed ExtINT, and with the
 * APIC globally disabled — not with the APIC enabled and LINT0 masked
 * (SDM Vol. 3A 11.4.3, 11.5.1).
 */
static void intr_reaches_cpu_through_lint0(void **state)
{
	uint32_t v;
	uint64_t base;

	linux_init(0x01);
	line(1, true);
	assert_int_equal(irq_pending(&vcpu), 0x31);
	v = 0x1ff;				/* SVR: software enable */
	irq_mmio_write(&vcpu, 0xfee000f0, &v, 4);
	assert_int_equal(irq_pending(&vcpu), -1);
	v = 0x700;				/* LVT LINT0: ExtINT, unmasked */
	irq_mmio_write(&vcpu, 0xfee00350, &v, 4);
	assert_int_equal(irq_pending(&vcpu), 0x31);
	v = 0x10700;				/* masked */
	irq_mmio_write(&vcpu, 0xfee00350, &v, 4);
	assert_int_equal(irq_pending(&vcpu), -1);
	assert_int_equal(irq_rdmsr(&vcpu, 0x1b, &base), 0);
	assert_int_equal(irq_wrmsr(&vcpu, 0x1b, base & ~(1ull << 11)), 0);
	assert_int_equal(irqf_take(), 0x31);
	assert_int_equal(read_isr(0x20), 1u << 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(init_sequence_then_imr, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(vectors_after_linux_init, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(mask_holds_request, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(edge_needs_new_edge, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(priority_and_nesting, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(specific_eoi, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(simultaneous_requests, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(cascade_through_irq2, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(irq2_is_not_a_device_line, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(spurious_irq7, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(auto_eoi, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(elcr_level_mode, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(icw1_ltim, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(poll_command, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(special_mask_mode, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(rotation, setup, irqf_teardown),
		cmocka_unit_test_setup_teardown(intr_reaches_cpu_through_lint0, setup, irqf_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
