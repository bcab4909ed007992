/*
 * serial.c — polled output on COM1, a 16550-compatible UART at 0x3f8.
 *
 * Register map (National Semiconductor PC16550D datasheet, Table 2):
 * +0 THR (DLAB=0) / divisor latch low (DLAB=1), +1 IER / divisor high,
 * +2 FCR, +3 LCR (bit 7 = DLAB), +4 MCR, +5 LSR (bit 5 = THR empty).
 * Output only, no interrupts: the guest polls LSR.THRE before each byte,
 * which a model that always reports "empty" (hvlab, QEMU) satisfies at
 * once. Bytes go out unchanged: "\n" is not turned into "\r\n", so the
 * serial log compares byte for byte with a test's .expect file.
 */
#include "guests/guest.h"

#define COM1		0x3f8
#define UART_THR	0
#define UART_IER	1
#define UART_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define LSR_THRE	0x20
#define LCR_DLAB	0x80
#define LCR_8N1		0x03

void serial_init(void)
{
	outb(COM1 + UART_IER, 0);		/* no interrupts */
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_THR, 1);		/* divisor 1: 115200 baud */
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_8N1);
	outb(COM1 + UART_FCR, 0x07);		/* enable and clear the FIFOs */
	outb(COM1 + UART_MCR, 0x03);		/* DTR | RTS */
}

void serial_putc(char c)
{
	/* Bounded: a UART that never reports empty must not hang the guest. */
	for (unsigned i = 0; i < 100000 && !(inb(COM1 + UART_LSR) & LSR_THRE); i++)
		__asm__ volatile("pause");
	outb(COM1 + UART_THR, (uint8_t)c);
}

void serial_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		serial_putc(s[i]);
}
