/*
 * printf.c — a small printf onto the serial port.
 *
 * Conversions: %d %i %u %x %X %p %s %c %%, with the length modifiers l
 * and ll (both 64-bit here: LP64), a '0' flag and a field width. That is
 * all a test guest needs to report values; there is no floating point
 * (the runtime is built with -mgeneral-regs-only). Output is unbuffered,
 * so everything printed before a crash has reached the UART.
 */
#include "guests/guest.h"

static int put_uint(uint64_t v, unsigned base, bool upper, int width, char pad)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24];
	int n = 0, out = 0;

	do {
		buf[n++] = digits[v % base];
		v /= base;
	} while (v);
	for (; width > n; width--, out++)
		serial_putc(pad);
	while (n)
		serial_putc(buf[--n]), out++;
	return out;
}

int guest_vprintf(const char *fmt, va_list ap)
{
	int out = 0;

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			serial_putc(*fmt);
			out++;
			continue;
		}
		fmt++;
		char pad = ' ';
		int width = 0, longs = 0;
		if (*fmt == '0')
			pad = '0', fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l')
			longs++, fmt++;

		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t v = longs > 1 ? va_arg(ap, long long) : longs ? va_arg(ap, long) : va_arg(ap, int);
			uint64_t mag = (uint64_t)v;
			if (v < 0) {
				serial_putc('-');
				out++;
				mag = -mag;
				width = width ? width - 1 : 0;
			}
			out += put_uint(mag, 10, false, width, pad);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			uint64_t v = longs > 1 ? va_arg(ap, unsigned long long)
				   : longs ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
			out += put_uint(v, *fmt == 'u' ? 10 : 16, *fmt == 'X', width, pad);
			break;
		}
		case 'p':
			serial_write("0x", 2);
			out += 2 + put_uint((uintptr_t)va_arg(ap, void *), 16, false, 0, '0');
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			int n = 0;
			while (s[n])
				n++;
			for (; width > n; width--, out++)
				serial_putc(' ');
			serial_write(s, (size_t)n);
			out += n;
			break;
		}
		case 'c':
			serial_putc((char)va_arg(ap, int));
			out++;
			break;
		case '%':
			serial_putc('%');
			out++;
			break;
		case '\0':
			return out;	/* a lone '%' at the end */
		default:		/* unknown: print it as written */
			serial_putc('%');
			serial_putc(*fmt);
			out += 2;
			break;
		}
	}
	return out;
}

int guest_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = guest_vprintf(fmt, ap);
	va_end(ap);
	return n;
}
