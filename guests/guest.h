/*
 * guest.h — the interface of the freestanding guest runtime (guests/).
 *
 * A test guest is one C file in tests/guests/ that defines guest_main();
 * the runtime boots it (boot.S: multiboot v1 -> long mode, identity map of
 * the first 4 GiB), sets up the serial port and the IDT, calls guest_main()
 * and ends the machine through isa-debug-exit with its return value
 * (exit.c). See docs/guests.md for the initial state and how to add a test.
 *
 * Nothing here is hosted: no libc, no SSE, no red zone (interrupts push
 * onto the current stack, SDM Vol. 3A 6.14.2).
 */
#ifndef GUESTS_GUEST_H
#define GUESTS_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes a guest passes to guest_exit(); QEMU's isa-debug-exit (and
 * `hvlab run`) end with status (code << 1) | 1. */
#define GUEST_EXIT_PASS		0	/* status 1 */
#define GUEST_EXIT_FAIL		1	/* status 3 */
#define GUEST_EXIT_EXCEPTION	2	/* status 5: an exception nobody handled */
#define GUEST_EXIT_BOOT		3	/* status 7: the CPU lacks long mode */

/* Defined by each test; its return value becomes the exit code. */
int guest_main(void);

/* ---- boot.S: what the boot path leaves behind ---- */
extern uint32_t guest_mb_magic;		/* EAX at entry: 0x2BADB002 from a multiboot loader */
extern uint32_t guest_mb_info;		/* EBX at entry: physical address of the multiboot info */
extern uint64_t guest_pml4[512];	/* CR3: identity map of 0..4 GiB with 2 MiB pages */
extern uint64_t guest_pdpt[512];
extern uint64_t guest_pd[4][512];	/* guest_pd[i][j] maps i GiB + j * 2 MiB */

/* ---- port I/O and control registers ---- */
static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint64_t read_cr2(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}
static inline uint64_t read_cr3(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}
static inline void invlpg(const volatile void *va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

/* ---- serial.c: 16550 UART at COM1 (0x3f8) ---- */
void serial_init(void);
void serial_putc(char c);
void serial_write(const char *s, size_t n);

/* ---- printf.c: %d %i %u %x %p %s %c %%, l/ll sizes, 0 and width ---- */
int guest_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int guest_vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* ---- idt.c: exceptions ---- */

/* The stack isr.S builds before calling C: the GPRs it pushed, then the
 * vector and error code (0 for vectors without one), then the frame the
 * CPU pushed in 64-bit mode (SDM Vol. 3A 6.14.2, Figure 6-9). A handler
 * may change rip (to skip a faulting instruction) and the GPRs. */
struct guest_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};
_Static_assert(sizeof(struct guest_frame) == 22 * 8, "isr.S pushes 22 quadwords");

typedef void (*idt_handler_t)(struct guest_frame *f);

void idt_init(void);
/* Route exception @vector (0..31) to @fn; NULL restores the default,
 * which reports the exception and exits with GUEST_EXIT_EXCEPTION. */
void idt_set_handler(unsigned vector, idt_handler_t fn);
const char *idt_vector_name(unsigned vector);
/* Write gate @vector by hand (tests of IDT faults): selector 0x08, the
 * given offset and type/attribute byte (P | DPL << 5 | type), IST 0. */
#define IDT_GATE_P	0x80
#define IDT_GATE_INTR64	0x0E	/* 64-bit interrupt gate, SDM 3A Table 3-2 */
void idt_set_gate(unsigned vector, uint64_t offset, uint8_t type_attr);

/* ---- exit.c ---- */
__attribute__((noreturn)) void guest_exit(unsigned code);

#endif
