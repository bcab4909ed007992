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
static inline uint64_t read_cr0(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}
static inline void write_cr0(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}
static inline uint64_t read_cr4(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}
static inline void write_cr4(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
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
/* External interrupts: vectors IDT_IRQ_FIRST..IDT_IRQ_LAST have entry
 * stubs (isr.S). idt_set_irq() writes the vector's gate (interrupt gate,
 * so IF=0 in the handler) and routes it to @fn; the handler must send the
 * EOI its interrupt controller needs (pic_eoi(), lapic_eoi()). */
#define IDT_IRQ_FIRST	32
#define IDT_IRQ_LAST	63
void idt_set_irq(unsigned vector, idt_handler_t fn);

static inline void irq_enable(void)
{
	__asm__ volatile("sti" : : : "memory");
}
static inline void irq_disable(void)
{
	__asm__ volatile("cli" : : : "memory");
}
/* Waits for one interrupt with IF=1, and returns with IF=0. STI delays
 * interrupts until after the next instruction (SDM Vol. 2 STI), so none
 * can slip in between STI and HLT and leave HLT waiting. */
static inline void irq_wait(void)
{
	__asm__ volatile("sti; hlt; cli" : : : "memory");
}

/* ---- pic.c: the two 8259A PICs, remapped to vectors 0x20..0x2f ---- */
#define PIC_VECTOR_BASE	0x20	/* IRQ n -> vector 0x20 + n */
void pic_init(void);		/* remap, all IRQs masked */
void pic_mask(unsigned irq);
void pic_unmask(unsigned irq);
void pic_eoi(unsigned irq);
uint16_t pic_get_mask(void);	/* OCW1 of slave << 8 | master */

/* ---- pit.c: 8254 PIT channel 0 as the IRQ0 tick ---- */
#define PIT_INPUT_HZ	1193182u
/* pic_init() if needed; channel 0 in mode 2 at @hz (divisor rounded,
 * 19..596591 Hz; -GUEST_EINVAL otherwise); IRQ0 unmasked and counted. After @limit ticks (0: no
 * limit) the handler masks IRQ0 itself, so the count stops exactly there. */
int pit_start(uint32_t hz, uint64_t limit);
void pit_stop(void);
uint64_t pit_ticks(void);
uint16_t pit_divisor(void);
uint16_t pit_read_count(void);	/* channel 0's current count (counter latch) */
/* Waits with IF=1 until channel 0 has reloaded @n times (about @n
 * periods); returns with IF=0. Channel 0 must be counting (pit_start;
 * IRQ0 may be masked). */
void pit_wait_periods(unsigned n);

/* ---- lapic.c: the local APIC (xAPIC, MMIO) and its timer ---- */
#define LAPIC_TIMER_VECTOR	0x30
#define LAPIC_SPURIOUS_VECTOR	0x3f
#define LAPIC_ONESHOT		0
#define LAPIC_PERIODIC		1
/* Reads IA32_APIC_BASE, maps the page uncached, enables the APIC
 * (SVR), TPR 0; 0 or -GUEST_ENOENT without an APIC (CPUID.1:EDX[9]). */
int lapic_init(void);
uint64_t lapic_base(void);		/* physical base from IA32_APIC_BASE */
uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t v);
void lapic_eoi(void);
/* Starts the timer on LAPIC_TIMER_VECTOR: @mode, divide-by-@divide
 * (1, 2, 4, ..., 128), @count; the handler counts interrupts and, after
 * @limit of them (0: no limit), masks the timer so the count stops. */
int lapic_timer_start(unsigned mode, unsigned divide, uint32_t count, uint64_t limit);
void lapic_timer_stop(void);
uint64_t lapic_timer_ticks(void);
#define LAPIC_REG_ID		0x020
#define LAPIC_REG_VERSION	0x030
#define LAPIC_REG_TPR		0x080
#define LAPIC_REG_EOI		0x0b0
#define LAPIC_REG_SVR		0x0f0
#define LAPIC_REG_ISR0		0x100	/* ISR bits 0..31; ISR n at 0x100 + 0x10 * n */
#define LAPIC_REG_LVT_TIMER	0x320
#define LAPIC_REG_TIMER_INIT	0x380
#define LAPIC_REG_TIMER_CUR	0x390
#define LAPIC_REG_TIMER_DIV	0x3e0
#define LAPIC_REG_LDR		0x0d0	/* logical destination, 31:24 in xAPIC mode */
#define LAPIC_REG_DFR		0x0e0	/* destination format: 0xffffffff = flat */
#define LAPIC_REG_IRR0		0x200
/* Interrupt command register (SDM 3A 11.6.1, Figure 11-12): the low dword
 * lapic_ipi() takes. */
#define ICR_FIXED		(0u << 8)
#define ICR_LOWEST		(1u << 8)
#define ICR_NMI			(4u << 8)
#define ICR_INIT		(5u << 8)
#define ICR_STARTUP		(6u << 8)
#define ICR_LOGICAL		(1u << 11)
#define ICR_ASSERT		(1u << 14)
#define ICR_LEVEL		(1u << 15)
#define ICR_SELF		(1u << 18)
#define ICR_ALL			(2u << 18)	/* all including self */
#define ICR_OTHERS		(3u << 18)	/* all excluding self */
/* Sends an IPI: @icr (vector, mode, shorthand) to @dest (APIC ID, or
 * logical destination with ICR_LOGICAL; ignored with a shorthand). xAPIC:
 * ICR high then low, then waits for delivery status idle; x2APIC: one
 * WRMSR of MSR 830H. */
void lapic_ipi(uint32_t dest, uint32_t icr);
uint32_t lapic_id(void);		/* this CPU's xAPIC ID (31:24) or x2APIC ID */
/* Switches this CPU to x2APIC mode (CPUID.01H:ECX[21], IA32_APIC_BASE
 * EXTD); lapic_read/write() then use MSRs 800H + reg/16. -GUEST_ENOENT
 * without x2APIC. */
int lapic_x2apic_enable(void);
bool lapic_is_x2apic(void);
/* On an AP after lapic_init() ran on the BSP: global enable (and EXTD in
 * x2APIC mode), TPR 0, SVR enable with the spurious vector. */
int lapic_init_cpu(void);

/* ---- gdt.c: the runtime GDT and the TSS ---- */
#define GDT_KERNEL_CS	0x08
#define GDT_KERNEL_DS	0x10
#define GDT_USER_DS	0x18	/* selectors from ring 3 carry RPL 3: 0x1b */
#define GDT_USER_CS	0x20	/* 0x23 */
#define GDT_TSS		0x28
#define GDT_IST_DF	1	/* #DF runs on IST1 */
#define GDT_IST_NMI	2	/* NMI runs on IST2 */
void gdt_init(void);		/* called by the runtime before guest_main() */
uint64_t gdt_rsp0(void);	/* TSS.RSP0: the ring-0 stack for ring-3 events */
uint64_t gdt_ist_top(unsigned ist);	/* top of IST stack 1 or 2 */

/* ---- page.c: physical 4 KiB pages from the multiboot memory map ---- */
#define PAGE_SIZE	4096u
int page_init(void);		/* 0, or -GUEST_ENOMEM without a usable map */
uint64_t page_alloc(void);	/* a zeroed page (identity-mapped), 0 when none is left */
void page_free(uint64_t pa);
uint64_t page_free_count(void);	/* pages page_alloc() can still return */

/* ---- vm.c: 4-level address spaces sharing the kernel's PML4 entry 0 ---- */
#define PTE_P		(1ull << 0)
#define PTE_RW		(1ull << 1)
#define PTE_US		(1ull << 2)
#define PTE_A		(1ull << 5)
#define PTE_D		(1ull << 6)
#define PTE_PS		(1ull << 7)
#define PTE_NX		(1ull << 63)
#define PTE_ADDR	0x000FFFFFFFFFF000ull
/* The private part of every address space: PML4 entries 1..255, from
 * 512 GiB up to the canonical hole. */
#define VM_USER_BASE	0x0000008000000000ull
#define VM_USER_END	0x0000800000000000ull
#define GUEST_ENOMEM	12
#define GUEST_EINVAL	22
#define GUEST_ENOENT	2
struct vm_space {
	uint64_t pml4;		/* physical address: the CR3 value */
};
int vm_init(void);		/* page_init() + user-accessible runtime pages */
int vm_create(struct vm_space *as);
void vm_destroy(struct vm_space *as);	/* frees its private tables and pages */
int vm_map(struct vm_space *as, uint64_t va, uint64_t pa, uint64_t flags);
int vm_unmap(struct vm_space *as, uint64_t va);
int vm_protect(struct vm_space *as, uint64_t va, uint64_t flags);
uint64_t *vm_pte(struct vm_space *as, uint64_t va);	/* NULL when no table */
void vm_switch(struct vm_space *as);
/* Code and data a ring-3 task may touch in the image: put them in these
 * sections (guest.ld gathers them into page-aligned, user-accessible pages). */
#define USER_TEXT	__attribute__((section(".user.text"), noinline))
#define USER_DATA	__attribute__((section(".user.data")))

/* ---- user.c: ring-3 tasks and SYSCALL ---- */
#define SYS_WRITE	0	/* (const char *s, size_t n) -> n or -GUEST_EINVAL */
#define SYS_EXIT	1	/* (int code): ends the task */
#define SYS_YIELD	2	/* runs the next task; returns 0 */
#define SYS_GETPID	3	/* () -> the caller's task id + 1: the null call */
#define USER_MAX_TASKS	8
int user_init(void);		/* vm_init() + EFER.SCE, STAR, LSTAR, FMASK */
/* A task in its own address space, entering at @entry (USER_TEXT) with
 * RDI = @arg and a fresh 8 KiB stack; returns the task id or -errno. */
int user_task_create(void (*entry)(uint64_t), uint64_t arg);
struct vm_space *user_task_space(int id);
/* Runs the tasks round-robin until every one has exited. */
void user_run(void);
int user_task_exit_code(int id);
uint64_t user_syscall_count(void);

static inline uint64_t user_syscall3(uint64_t nr, uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t ret;
	/* SYSCALL overwrites RCX (return RIP) and R11 (RFLAGS), SDM 3A 5.8.8 */
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
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
static inline void write_cr3(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

/* Marsaglia's xorshift64 (13, 7, 17): the next pseudo-random value of
 * the sequence in *s (never 0 if *s is not). */
static inline uint64_t guest_xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

/* ---- exit.c ---- */
__attribute__((noreturn)) void guest_exit(unsigned code);
/* Does the multiboot command line (`hvlab run --append`, QEMU -append)
 * contain @word? false without one. */
bool guest_cmdline_has(const char *word);

/* ---- 16- and 32-bit port I/O (portio, ioapic tests) ---- */
static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* ---- acpi.c: finding the firmware's ACPI tables (ACPI 6.5 chapter 5) ---- */
struct acpi_header {		/* ACPI 6.5 5.2.6, Table 5.4 */
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_header) == 36, "ACPI 6.5 Table 5.4");
/* The RSDP found by signature and checksum in 0xE0000-0xFFFFF (5.2.5.1),
 * NULL when there is none. */
const uint8_t *acpi_rsdp(void);
bool acpi_checksum_ok(const void *p, uint32_t len);	/* bytes sum to 0 mod 256 */
const struct acpi_header *acpi_rsdt(void);	/* NULL if absent or bad checksum */
const struct acpi_header *acpi_xsdt(void);	/* NULL below RSDP revision 2 */
/* The table with @sig listed in @sdt (the RSDT: 32-bit entries, or the
 * XSDT: 64-bit entries) whose checksum holds, or NULL. */
const struct acpi_header *acpi_sdt_find(const struct acpi_header *sdt, const char *sig);
/* Through the XSDT when there is one, else the RSDT. */
const struct acpi_header *acpi_find(const char *sig);
/* MADT (5.2.12): the I/O APIC's address (0 if none) and the GSI an ISA
 * IRQ is wired to, with its MPS INTI flags (Table 5.26), identity and 0
 * without an Interrupt Source Override. */
uint32_t acpi_ioapic_address(void);
uint32_t acpi_isa_irq_gsi(unsigned irq, uint16_t *flags);
/* MADT processors: type 0 (Processor Local APIC) and type 9 (Processor
 * Local x2APIC) entries with flags bit 0 (Enabled) set, in table order. */
#define ACPI_CPU_ENABLED	0x1u
struct acpi_cpu {
	uint32_t apic_id;	/* the xAPIC ID (type 0) or x2APIC ID (type 9) */
	uint32_t uid;		/* ACPI processor UID */
	uint32_t flags;		/* Table 5.22 */
	bool x2apic;		/* from a type-9 entry */
};
/* Fills up to @max entries; returns how many enabled processors the MADT
 * lists (may exceed @max), 0 without a MADT. */
unsigned acpi_cpus(struct acpi_cpu *cpus, unsigned max);

/* ---- ioapic.c: the I/O APIC (82093AA datasheet) ---- */
#define IOAPIC_DEFAULT_BASE	0xfec00000u
#define IOAPIC_REG_ID		0x00
#define IOAPIC_REG_VER		0x01
#define IOAPIC_REG_ARB		0x02
#define IOAPIC_REDTBL(n)	(0x10 + 2 * (n))	/* low dword; +1 the high one */
void ioapic_init(uint32_t base);	/* maps the page UC */
uint32_t ioapic_read(uint32_t reg);
void ioapic_write(uint32_t reg, uint32_t v);
uint64_t ioapic_redir_read(unsigned pin);
void ioapic_redir_write(unsigned pin, uint64_t entry);
/* The EOI register at base + 0x40 of version-0x20 I/O APICs (ICH): clears
 * remote IRR of the level-triggered entries with @vector. */
void ioapic_eoi(uint8_t vector);

/* ---- sched.c: preemptive round-robin of ring-3 tasks on a timer tick ---- */
#define SCHED_MAX_TASKS	8
/* A ring-3 task in its own address space (vm_init() first), entering
 * @entry (USER_TEXT) with RDI = @arg, IF=1 and a fresh 8 KiB stack; it
 * ends by calling sched_task_exit(). Returns the task id or -errno. */
int sched_task_create(void (*entry)(uint64_t), uint64_t arg);
/* Ring 3: marks the calling task finished; it never runs again. */
__attribute__((noreturn)) void sched_task_exit(void);
/* The timer handler calls this after its EOI: saves the interrupted
 * context (a task's, or sched_run()'s) in place of @f and loads the next
 * ready task's, round-robin; once none is left, sched_run()'s. */
void sched_tick(struct guest_frame *f);
/* Waits with IF=1 (the ticks do the switching) until every task has
 * called sched_task_exit(); returns with IF=0 and CR3 = guest_pml4. */
void sched_run(void);
uint64_t sched_preemptions(int id);	/* ticks that interrupted the task in ring 3 */
uint64_t sched_switches(void);		/* times a tick changed the running task */

/* ---- smp.c: application processors, per-CPU data, IPIs, shootdowns ----
 * (SDM Vol. 3A 9.4 MP initialization, 11.6 IPIs; MP spec 1.4 B.4;
 * docs/guests.md "SMP") */
#define SMP_MAX_CPUS		64
#define SMP_TRAMPOLINE_PA	0x70000u	/* the APs' real-mode start: STARTUP vector 0x70 */
#define SMP_FLUSH_VECTOR	0x3d		/* tlb_shootdown() */
#define SMP_WAKE_VECTOR		0x3e		/* work for an idle CPU */
#define GUEST_ETIMEDOUT		110
/* One per CPU; GS base points at it (MSR C000_0101H), so smp_cpu_id()
 * is one load. Fields below "test" are free for tests. */
struct smp_cpu {
	uint32_t id;			/* 0 (the BSP) .. smp_ncpus() - 1 */
	uint32_t apic_id;		/* from the MADT */
	struct smp_cpu *self;
	uint32_t seen_apic_id;		/* what the CPU read from its own APIC */
	volatile uint32_t boots;	/* times it entered the runtime (1) */
	volatile uint32_t strays;	/* BSP only: APs with an APIC ID not in the table */
	void (*volatile fn)(void *);	/* smp_run_on(): work, and its argument */
	void *volatile arg;
	volatile uint64_t req, done;	/* work requested / finished (counts) */
	volatile uint32_t waiter;	/* 1 + the CPU halted in smp_wait() for it */
	volatile uint64_t flushes;	/* shootdown IPIs this CPU answered */
	volatile uint64_t shootdowns;	/* tlb_shootdown() calls that sent IPIs */
	volatile uint64_t test[8];	/* for tests: counters, state */
};
/* Finds the MADT's processors, masks the 8259s (pic_init()), starts
 * every AP (INIT, STARTUP, STARTUP) and waits for each; the APs use the BSP's local APIC mode (call
 * lapic_x2apic_enable() first for x2APIC), page tables (guest_pml4) and
 * IDT. lapic_init() if not done yet. Returns the number of CPUs up, or
 * -GUEST_ENOENT (no APIC or MADT), -GUEST_ETIMEDOUT (an AP did not come
 * up within a second: it is left out). */
int smp_init(void);
unsigned smp_ncpus(void);
unsigned smp_madt_cpus(void);		/* enabled processors in the MADT */
unsigned smp_cpu_id(void);		/* 0 before smp_init() */
struct smp_cpu *smp_cpu(unsigned id);	/* NULL past smp_ncpus() */
struct smp_cpu *smp_this_cpu(void);
uint64_t smp_online_mask(void);		/* bit i: CPU i is up */
/* Runs @fn(@arg) on CPU @cpu (IF=0 there; it may STI) after its previous
 * work ended, and returns at once; on the calling CPU, runs it now. One
 * CPU hands out work to a given CPU at a time. */
void smp_run_on(unsigned cpu, void (*fn)(void *), void *arg);
void smp_wait(unsigned cpu);		/* until @cpu's work has returned */
void smp_run_all(void (*fn)(void *), void *arg);	/* every CPU, the caller too; waits */
/* smp_wait() halts and tlb_shootdown() spins with IF=1 (the caller's IF
 * restored after), so a waiting CPU still answers shootdowns. */
void smp_delay_us(uint32_t us);		/* counts the ACPI PM timer */
void ipi_send(uint32_t apic_id, uint8_t vector);	/* fixed, physical */
void ipi_send_cpu(unsigned cpu, uint8_t vector);
void ipi_broadcast_others(uint8_t vector);	/* shorthand: all excluding self */
void ipi_nmi_cpu(unsigned cpu);
/* Every CPU into x2APIC mode (the APs, then this one, the BSP); 0, or
 * -GUEST_ENOENT without x2APIC (CPUID.01H:ECX[21]). */
int smp_x2apic_enable(void);
/* Invalidates @npages pages from @va on every CPU (0, or more than 32:
 * everything, MOV to CR3): here first, then an IPI to the others, which
 * flush and acknowledge; returns when all have. Call after the PTE
 * change is in memory; the other CPUs must be able to take interrupts. */
void tlb_shootdown(uint64_t va, unsigned npages);
/* The same for INVLPG of each of @n addresses (up to any number). */
void tlb_shootdown_list(const uint64_t *va, unsigned n);
/* Every CPU, this one first, loads @cr3 (non-zero) into CR3: the page
 * tables change everywhere, every TLB is flushed; returns when all have. */
void tlb_switch_cr3_all(uint64_t cr3);

/* Spinlocks, atomics and barriers (SDM 3A 9.1.2.2 locked operations,
 * 9.2 memory ordering; Vol. 2 PAUSE). */
static inline void cpu_relax(void)
{
	__asm__ volatile("pause" : : : "memory");
}
static inline void smp_mb(void)
{
	__asm__ volatile("mfence" : : : "memory");
}
typedef struct {
	volatile uint32_t v;
} spinlock_t;
static inline void spin_lock(spinlock_t *l)
{
	/* XCHG with memory is locked (Vol. 2 XCHG); spin on plain reads */
	while (__atomic_exchange_n(&l->v, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->v, __ATOMIC_RELAXED))
			cpu_relax();
}
static inline void spin_unlock(spinlock_t *l)
{
	__atomic_store_n(&l->v, 0, __ATOMIC_RELEASE);
}
/* LOCK XADD: returns the old value */
static inline uint64_t atomic_fetch_add64(volatile uint64_t *p, uint64_t v)
{
	return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
}

/* ---- check.c: one line per checked property ---- */
/* Prints "@what: yes" or "@what: NO" and counts the NOs. */
void guest_check(const char *what, bool ok);
/* "what: ok", or "what: 0xGOT, expected 0xWANT" (a failure). */
void guest_expect(const char *what, uint64_t got, uint64_t want);
/* Count a failure the test reported in its own words. */
void guest_check_fail(void);
/* GUEST_EXIT_FAIL when any guest_check() said NO, else GUEST_EXIT_PASS:
 * what guest_main() returns. */
int guest_check_status(void);

#endif
