/*
 * test_dev_serial.c — the 16550A UART (vmm/serial.c) against the TI
 * PC16550D datasheet: register reset values (Table IV: IER 0, IIR 0x01,
 * LSR 0x60), the divisor latch behind LCR.DLAB, the scratch register,
 * loopback (MCR bit 4: CTS=RTS, DSR=DTR, RI=OUT1, DCD=OUT2, transmitter
 * into receiver), the FIFO bits of IIR, and the interrupt identification
 * and reset rules, with IRQ 4 seen through hv_irq_line.
 *
 * Offsets and bits here are the datasheet's: 0 RBR/THR/DLL, 1 IER/DLM,
 * 2 IIR/FCR, 3 LCR, 4 MCR, 5 LSR, 6 MSR, 7 SCR.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "test_dev_fakes.h"

#define COM1 0x3f8
#define IRQ4 4

static struct vmm v;
static char *out_buf;
static size_t out_len;

static uint8_t rd(unsigned reg)
{
	return (uint8_t)vmm_pio_in(&v, (uint16_t)(COM1 + reg), 1);
}

static void wr(unsigned reg, uint8_t val)
{
	vmm_pio_out(&v, (uint16_t)(COM1 + reg), 1, val);
}

static int setup(void **state)
{
	struct vdev *d;
	fake_reset(&v);
	out_len = 0;
	v.serial_out = open_memstream(&out_buf, &out_len);
	assert_non_null(v.serial_out);
	assert_int_equal(serial_create(&v, COM1, IRQ4, &d), 0);
	assert_int_equal(vmm_add_dev(&v, d), 0);
	return 0;
}

static int teardown(void **state)
{
	vmm_destroy_devs(&v);
	fclose(v.serial_out);
	free(out_buf);
	out_buf = NULL;
	return 0;
}

static void reset_values(void **state)
{
	assert_int_equal(rd(1), 0x00);		/* IER */
	assert_int_equal(rd(2), 0x01);		/* IIR: no interrupt pending */
	assert_int_equal(rd(3), 0x00);		/* LCR */
	assert_int_equal(rd(4), 0x00);		/* MCR */
	assert_int_equal(rd(5), 0x60);		/* LSR: THRE | TEMT, no DR */
	assert_false(fake_line[IRQ4]);
}

static void transmitter_output(void **state)
{
	wr(0, 'h');
	wr(0, 'i');
	wr(0, '\n');
	assert_int_equal(out_len, 3);		/* flushed at the newline */
	assert_memory_equal(out_buf, "hi\n", 3);
	assert_int_equal(rd(5) & 0x60, 0x60);	/* the transmitter is ready again */
}

static void divisor_latch(void **state)
{
	wr(1, 0x05);				/* IER */
	wr(3, 0x83);				/* DLAB, 8 data bits */
	wr(0, 0x0c);				/* DLL: 9600 baud */
	wr(1, 0x00);				/* DLM */
	assert_int_equal(rd(0), 0x0c);
	assert_int_equal(rd(1), 0x00);
	fflush(v.serial_out);
	assert_int_equal(out_len, 0);		/* DLL writes are not data */
	wr(3, 0x03);
	assert_int_equal(rd(1), 0x05);		/* IER was not overwritten */
	wr(3, 0x83);
	assert_int_equal(rd(0), 0x0c);		/* the latch kept its value */
	assert_int_equal(rd(3), 0x83);
}

static void scratch_and_ier_bits(void **state)
{
	wr(7, 0xa5);
	assert_int_equal(rd(7), 0xa5);
	wr(7, 0x5a);
	assert_int_equal(rd(7), 0x5a);
	wr(1, 0xff);
	assert_int_equal(rd(1), 0x0f);		/* IER bits 7:4 are always 0 */
}

static void loopback_modem_lines(void **state)
{
	/* Linux's 8250 probe: loop with RTS and OUT2 gives CTS and DCD. */
	wr(4, 0x1a);
	assert_int_equal(rd(6) & 0xf0, 0x90);
	wr(4, 0x15);				/* loop, DTR, OUT1 */
	assert_int_equal(rd(6) & 0xf0, 0x60);	/* DSR, RI */
	wr(4, 0x00);
	assert_int_equal(rd(6) & 0xf0, 0xb0);	/* back to the far end: DCD, DSR, CTS */
}

static void loopback_data(void **state)
{
	wr(4, 0x10);
	wr(0, 0x55);
	fflush(v.serial_out);
	assert_int_equal(out_len, 0);		/* not transmitted outside */
	assert_int_equal(rd(5) & 0x01, 0x01);	/* DR */
	assert_int_equal(rd(0), 0x55);
	assert_int_equal(rd(5) & 0x01, 0x00);
}

static void overrun_without_fifo(void **state)
{
	wr(4, 0x10);
	wr(0, 1);
	wr(0, 2);				/* the 1-byte RBR is full */
	assert_int_equal(rd(5) & 0x03, 0x03);	/* DR | OE */
	assert_int_equal(rd(5) & 0x02, 0x00);	/* OE clears when LSR is read */
	assert_int_equal(rd(0), 1);
}

static void fifo_enable_shows_in_iir(void **state)
{
	wr(2, 0x01);
	assert_int_equal(rd(2), 0xc1);
	wr(4, 0x10);
	for (unsigned i = 0; i < 3; i++)
		wr(0, (uint8_t)(0x30 + i));
	assert_int_equal(rd(5) & 0x03, 0x01);	/* 16 bytes deep: no overrun */
	assert_int_equal(rd(0), 0x30);
	assert_int_equal(rd(0), 0x31);
	wr(2, 0x03);				/* clear the receiver FIFO */
	assert_int_equal(rd(5) & 0x01, 0x00);
	wr(2, 0x00);
	assert_int_equal(rd(2), 0x01);
}

static void thre_interrupt(void **state)
{
	wr(1, 0x02);				/* ETBEI with the THR empty */
	assert_true(fake_line[IRQ4]);
	assert_int_equal(rd(2), 0x02);
	/* Reading IIR while THRE is the source resets it. */
	assert_false(fake_line[IRQ4]);
	assert_int_equal(rd(2), 0x01);
	wr(0, 'x');				/* the THR empties again at once */
	assert_true(fake_line[IRQ4]);
	assert_int_equal(rd(2), 0x02);
	wr(1, 0x00);
	assert_false(fake_line[IRQ4]);
}

static void received_data_outranks_thre(void **state)
{
	wr(4, 0x10);
	wr(1, 0x03);
	wr(0, 0x41);
	assert_int_equal(rd(2), 0x04);		/* received data available */
	assert_int_equal(rd(2), 0x04);		/* not reset by reading IIR */
	assert_int_equal(rd(0), 0x41);
	assert_int_equal(rd(2), 0x02);		/* then THRE */
}

static void modem_status_interrupt(void **state)
{
	wr(1, 0x08);
	wr(4, 0x10);				/* loop: every input drops */
	assert_int_equal(rd(2), 0x00);		/* modem status, the lowest priority */
	assert_true(fake_line[IRQ4]);
	assert_int_equal(rd(6) & 0x0b, 0x0b);	/* DCTS, DDSR, DDCD */
	assert_int_equal(rd(2), 0x01);		/* reading MSR reset it */
	assert_false(fake_line[IRQ4]);
	wr(4, 0x14);				/* OUT1 -> RI rises: no TERI */
	assert_int_equal(rd(6) & 0x0f, 0x00);
	wr(4, 0x10);				/* RI falls: TERI */
	assert_int_equal(rd(6) & 0x0f, 0x04);
}

static void wide_access_splits(void **state)
{
	wr(3, 0x03);
	wr(4, 0x0b);
	assert_int_equal(vmm_pio_in(&v, COM1 + 3, 2), 0x0b03);
	assert_int_equal(vmm_pio_in(&v, COM1 + 7, 2), 0xff00 | rd(7));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(reset_values),
		T(transmitter_output),
		T(divisor_latch),
		T(scratch_and_ier_bits),
		T(loopback_modem_lines),
		T(loopback_data),
		T(overrun_without_fifo),
		T(fifo_enable_shows_in_iir),
		T(thre_interrupt),
		T(received_data_outranks_thre),
		T(modem_status_interrupt),
		T(wide_access_splits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
