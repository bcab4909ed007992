/*
 * guest32.h — the interface of the 32-bit guest runtime (guests32/).
 *
 * A 32-bit test guest is one C file in tests/guests32/ that defines
 * guest_main(); it is built with -m32 into an ELF32 multiboot kernel
 * (guests32/build.mk) and runs in 32-bit protected mode, the state the
 * multiboot loader leaves (Multiboot 0.6.96 §3.2), with paging off until
 * the test builds page tables (pt32.c: 2-level 32-bit paging, pae.c: PAE
 * paging) and turns paging on (SDM Vol. 3A 4.1). docs/guests.md has the
 * initial state and the rules.
 *
 * The portable pieces of the 64-bit runtime (guests/serial.c and
 * guests/printf.c) are compiled again with -m32 and this header forced in
 * ahead of guests/guest.h: it defines that header's include guard and
 * declares what those files use, so guest.h's 64-bit-only inline assembly
 * (SYSCALL, 64-bit control registers) never reaches a 32-bit compiler.
 * printf here: %d %i %u %x %X %c %s %p with 32-bit arguments, %llx/%llu
 * for 64-bit ones; a lone 'l' reads 64 bits (printf.c treats l as ll),
 * so 32-bit code must not use it (-Wformat does not catch that on i386).
 */
#ifndef GUESTS32_GUEST32_H
#define GUESTS32_GUEST32_H
#define GUESTS_GUEST_H		/* stands in for guests/guest.h (see above) */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

_Static_assert(sizeof(void *) == 4, "guests32/ is built with -m32");

/* Exit codes, as in the 64-bit runtime: isa-debug-exit ends the run with
 * status (code << 1) | 1. */
#define GUEST_EXIT_PASS		0	/* status 1 */
#define GUEST_EXIT_FAIL		1	/* status 3 */
#define GUEST_EXIT_EXCEPTION	2	/* status 5 */

int guest_main(void);
__attribute__((noreturn)) void guest_exit(unsigned code);

/* boot32.S: EAX and EBX at entry. */
extern uint32_t guest_mb_magic, guest_mb_info;

/* ---- port I/O, control registers, MSRs ---- */
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
#define GUEST32_CR(n)								\
	static inline uint32_t read_cr##n(void)					\
	{									\
		uint32_t v;							\
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));		\
		return v;							\
	}									\
	static inline void write_cr##n(uint32_t v)				\
	{									\
		__asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory");	\
	}
GUEST32_CR(0)
GUEST32_CR(2)
GUEST32_CR(3)
GUEST32_CR(4)
#undef GUEST32_CR
static inline void invlpg(uint32_t va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}
static inline uint64_t msr_read(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}
static inline void msr_write(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* Architectural bits the runtime and the tests share (SDM 3A 2.5, 2.2.1). */
#define CR0_WP		0x00010000u
#define CR0_PG		0x80000000u
#define CR4_PSE		0x00000010u
#define CR4_PAE		0x00000020u
#define MSR_EFER	0xc0000080u
#define EFER_NXE	0x00000800u

/* ---- guests/serial.c and guests/printf.c, built for 32 bits ---- */
void serial_init(void);
void serial_putc(char c);
void serial_write(const char *s, size_t n);
int guest_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int guest_vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* ---- gdt32.c: flat segments for rings 0 and 3, the 32-bit TSS ---- */
#define GDT32_KERNEL_CS	0x08
#define GDT32_KERNEL_DS	0x10
#define GDT32_USER_CS	0x18	/* used with RPL 3: 0x1b */
#define GDT32_USER_DS	0x20	/* 0x23 */
#define GDT32_TSS	0x28
void gdt32_init(void);

/* ---- idt32.c, isr32.S: exceptions and the ring-3 return gate ---- */

/* What isr32.S builds on the ring-0 stack: PUSHA's registers, the
 * vector and error code (0 when the CPU pushes none), then the CPU's
 * frame (SDM 3A 6.12.1, Figure 6-4); esp3/ss3 exist only for an event
 * from ring 3. A handler may change eip (and the registers). */
struct guest32_frame {
	uint32_t edi, esi, ebp, esp0, ebx, edx, ecx, eax;
	uint32_t vector, error_code;
	uint32_t eip, cs, eflags;
	uint32_t esp3, ss3;
};
_Static_assert(sizeof(struct guest32_frame) == 15 * 4, "isr32.S layout");

typedef void (*idt32_handler_t)(struct guest32_frame *f);
#define IDT32_USER_VECTOR	0x80	/* DPL-3 gate: ring 3 returns through it */
void idt32_init(void);
/* Route exception @vector (0..31) to @fn; NULL: report and exit 2. */
void idt32_set_handler(unsigned vector, idt32_handler_t fn);
const char *idt32_vector_name(unsigned vector);

/* ---- user32.c: running code in ring 3 ---- */

/* Runs @fn(@arg) at CPL 3 on the stack ending at @stack_top (both must be
 * user-accessible in the current page tables) with DS=ES=0x23, and returns
 * what the ring-3 code passes to user32_exit(), or what a ring-0 handler
 * passes to user32_abort() after a fault in ring 3. */
uint32_t user32_run(void (*fn)(uint32_t), uint32_t arg, uint32_t stack_top);
/* Ring 3: back to user32_run()'s caller with @value (INT 0x80). */
__attribute__((noreturn)) void user32_exit(uint32_t value);
/* Ring 0, from an exception handler for a fault in ring 3: abandon the
 * ring-3 code; user32_run() returns @value. */
__attribute__((noreturn)) void user32_abort(uint32_t value);
/* Code and data ring 3 runs or touches: the runtime's pages are only as
 * user-accessible as the test's page tables make them, so a test maps
 * the image with U/S=1 (or these sections: __user32_start..__user32_end). */
#define USER32_TEXT	__attribute__((section(".user.text"), noinline))
extern const uint8_t __user32_start[], __user32_end[];

/* ---- probe.c: one access and the #PF it raises ---- */
enum probe_access { PROBE_READ, PROBE_WRITE, PROBE_EXEC };
#define PROBE_WRITE_VALUE	0x5a5a5a5au	/* what a PROBE_WRITE stores */
struct probe {
	bool faulted;
	uint32_t error, cr2;	/* when faulted: the #PF error code and CR2 */
	uint32_t value;		/* PROBE_READ in ring 0 without a fault: the value */
};
/* @acc at @va from CPL @ring (0 or 3); an exec probe CALLs @va, whose
 * page must hold a RET (0xC3). The runtime's own #PF handler is in place
 * only during the probe. */
struct probe probe(unsigned ring, enum probe_access acc, uint32_t va);
/* probe() and print "WHAT: #PF 0xE cr2 0xA: ok" (or "WHAT: no fault:
 * ok"); ok when the #PF error code is @want with CR2 = @va, or when
 * there is none and @want is PROBE_NO_PF. Returns whether it was ok. */
#define PROBE_NO_PF	(~0u)
bool probe_check(const char *what, unsigned ring, enum probe_access acc, uint32_t va,
		 uint32_t want);

/* ---- frames.c: 4 KiB frames for page tables ---- */
#define PAGE32_SIZE	4096u
uint32_t frame_alloc(void);		/* a zeroed, page-aligned frame; exits when none is left */

/* ---- pt32.c: 2-level page tables (32-bit paging, SDM 3A 4.3) ---- */
#define PTE32_P		0x001u
#define PTE32_RW	0x002u
#define PTE32_US	0x004u
#define PTE32_PWT	0x008u
#define PTE32_PCD	0x010u
#define PTE32_A		0x020u
#define PTE32_D		0x040u
#define PTE32_PS	0x080u	/* in a PDE: a 4 MiB page */
#define PTE32_G		0x100u
struct pt32 {
	uint32_t *pd;		/* identity-mapped: its address is the CR3 value */
};
void pt32_init(struct pt32 *as);
/* A 4 KiB page; the page table is created on demand with P|RW|US, so the
 * PTE alone decides the rights unless the test edits the PDE. */
void pt32_map(struct pt32 *as, uint32_t va, uint32_t pa, uint32_t flags);
/* A 4 MiB page (PS=1; needs CR4.PSE): @va and @pa 4 MiB aligned. */
void pt32_map_4m(struct pt32 *as, uint32_t va, uint32_t pa, uint32_t flags);
uint32_t *pt32_pde(struct pt32 *as, uint32_t va);
uint32_t *pt32_pte(struct pt32 *as, uint32_t va);	/* NULL: no page table */
/* CR3 = @as, CR4.PSE=1 PAE=0, CR0.PG=1 (paging must be off or 32-bit). */
void pt32_enable(struct pt32 *as);

/* ---- pae.c: PAE paging (SDM 3A 4.4) ---- */
#define PTE_NX		(1ull << 63)	/* XD */
struct pae {
	uint64_t *pdpt;		/* 4 entries, 32-byte aligned: the CR3 value */
	uint64_t *pd[4];
};
void pae_init(struct pae *as);		/* all four PDPTEs present */
void pae_map(struct pae *as, uint32_t va, uint64_t pa, uint64_t flags);
void pae_map_2m(struct pae *as, uint32_t va, uint64_t pa, uint64_t flags);
uint64_t *pae_pde(struct pae *as, uint32_t va);
uint64_t *pae_pte(struct pae *as, uint32_t va);	/* NULL: no page table */
/* CR3 = @as, CR4.PAE=1, CR0.PG=1; EFER.NXE=1 when @nxe (needs
 * CPUID.80000001H:EDX[20]). Paging must be off. */
void pae_enable(struct pae *as, bool nxe);
bool pae_nx_supported(void);

/* Turns paging off (CR0.PG=0); the code runs identity-mapped. */
void paging32_disable(void);

/* ---- pgcheck.c: what the paging tests share (pg_; tests/guests32/paging*.c) ---- */
/* Test frames from 24 MiB (free under -m 64), each tagged with its own
 * address, and the large page's frame at 28 MiB. */
#define PG_MiB		0x100000u
#define PG_FRAME(n)	(24 * PG_MiB + (n) * 0x1000u)
#define PG_BIG_PA	(28 * PG_MiB)
#define PG_TAG(pa)	(0x7a000000u | ((pa) >> 12))	/* what frame pa holds */
/* The addresses both tests map the same way. */
#define PG_VA_SRW		0x00800000u	/* supervisor R/W: FRAME(0); FRAME(6) in space 2 */
#define PG_VA_SRO		0x00801000u	/* supervisor read-only; not mapped in space 2 */
#define PG_VA_URW		0x00802000u	/* user R/W */
#define PG_VA_URO		0x00803000u	/* user read-only */
#define PG_VA_NP		0x00804000u	/* not present */
#define PG_VA_BIG		0x00c00000u	/* a large supervisor page at BIG_PA */
#define PG_VA_SPDE		0x01000000u	/* a user PTE under a supervisor PDE */
static inline uint32_t pg_rd(uint32_t va)
{
	return *(volatile uint32_t *)va;
}
static inline void pg_wr(uint32_t va, uint32_t v)
{
	*(volatile uint32_t *)va = v;
}
/* Prints "WHAT: ok" (or "WHAT: WRONG", counted). */
void pg_expect(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* probe_check(), the WRONGs counted. */
void pg_access(const char *what, unsigned ring, enum probe_access acc, uint32_t va,
	       uint32_t want);
/* Tags FRAME(0..6) and BIG_PA + 0x1000; a RET at FRAME(7). Paging off. */
void pg_tag_frames(void);
/* Paging on: VA_SRW and VA_URO read their frames' tags, VA_BIG + 0x1000
 * (a @big_name page) BIG_PA + 0x1000's. */
void pg_read_frames(const char *big_name);
/* 4.8 on VA_URW (its PDE and PTE) and VA_BIG (its PDE, a @big_name page):
 * the entries' low doublewords (see pgcheck.c). */
void pg_accessed_dirty(volatile uint32_t *pde, volatile uint32_t *pte, volatile uint32_t *big,
		       const char *big_name);
/* 4.10.4.1: VA_SRW's PTE (low doubleword) re-pointed to FRAME(5) and back. */
void pg_invlpg(volatile uint32_t *srw);
/* 4.10.4.1: CR3 to @cr3_other (VA_SRW on FRAME(6), VA_SRO not mapped) and
 * back to @cr3; @what names a space ("space", "PDPT") in the output. */
void pg_cr3_switch(uint32_t cr3, uint32_t cr3_other, const char *what);
/* Prints "@name: all match the SDM" (or MISMATCH); the exit code. */
int pg_status(const char *name);

#endif
