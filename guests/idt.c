/*
 * idt.c — the interrupt descriptor table and exception reporting.
 *
 * Vectors 0..31 get 64-bit interrupt gates (SDM Vol. 3A 6.14.1, Figure
 * 6-8: offset 63:0 split over three fields, selector 0x08 = the boot
 * GDT's code segment, type 0xE, P=1, DPL=0, IST=0) pointing at the stubs
 * in isr.S; vectors 32..255 are left all zero, so an unexpected INT n
 * or interrupt raises #GP(vector * 8 + 2) ("not a 64-bit interrupt or
 * trap gate", Vol. 2 INT n) and is reported too. Interrupt gates clear
 * IF; the runtime never sets it.
 *
 * External interrupts (vectors 32..63, pic.c, pit.c, lapic.c): the gate of
 * such a vector is written only when idt_set_irq() installs a handler, so
 * the IDT stays as described above for tests that use none. An interrupt
 * on a vector with a gate but no handler (removed, or a spurious one) is
 * reported like an exception.
 *
 * idt_dispatch() runs a test's handler when one is installed; otherwise
 * it prints vector, name, error code, RIP, CS, RFLAGS (and CR2 for #PF)
 * and exits with GUEST_EXIT_EXCEPTION. #DF and NMI use IST stacks (gate
 * field IST, SDM 3A 6.14.5), so a #DF caused by a bad stack is reported
 * too instead of becoming a triple fault.
 */
#include "guests/guest.h"

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;	/* P | DPL | 0 | type */
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 16, "SDM 3A Figure 6-8: 16-byte gates");

#define KERNEL_CS	0x08

extern const uint64_t isr_table[IDT_IRQ_LAST + 1];
void idt_dispatch(struct guest_frame *f);

static struct idt_gate idt[256] __attribute__((aligned(16)));
static idt_handler_t handlers[IDT_IRQ_LAST + 1];

static const char *const names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
	"#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "RSV15",
	"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "RSV22", "RSV23",
	"RSV24", "RSV25", "RSV26", "RSV27", "#HV", "#VC", "#SX", "RSV31",
};

const char *idt_vector_name(unsigned vector)
{
	return vector < 32 ? names[vector] : "INTR";
}

void idt_set_handler(unsigned vector, idt_handler_t fn)
{
	if (vector < 32)
		handlers[vector] = fn;
}

void idt_set_irq(unsigned vector, idt_handler_t fn)
{
	if (vector < IDT_IRQ_FIRST || vector > IDT_IRQ_LAST)
		return;
	handlers[vector] = fn;
	if (fn)
		idt_set_gate(vector, isr_table[vector], IDT_GATE_P | IDT_GATE_INTR64);
}

void idt_set_gate(unsigned vector, uint64_t offset, uint8_t type_attr)
{
	if (vector > 255)
		return;
	idt[vector] = (struct idt_gate){
		.offset_lo = (uint16_t)offset,
		.selector = KERNEL_CS,
		.type_attr = type_attr,
		.offset_mid = (uint16_t)(offset >> 16),
		.offset_hi = (uint32_t)(offset >> 32),
	};
}

void idt_init(void)
{
	for (unsigned v = 0; v < 32; v++)
		idt_set_gate(v, isr_table[v], IDT_GATE_P | IDT_GATE_INTR64);
	/* #DF and NMI switch to their own stacks (SDM 3A 6.14.5; the stacks
	 * are in the TSS, gdt.c). */
	idt[8].ist = GDT_IST_DF;
	idt[2].ist = GDT_IST_NMI;
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint64_t)idt };
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

void idt_dispatch(struct guest_frame *f)
{
	unsigned v = (unsigned)f->vector;

	if (v <= IDT_IRQ_LAST && handlers[v]) {
		handlers[v](f);
		return;
	}
	if (v >= IDT_IRQ_FIRST) {
		guest_printf("unexpected interrupt: vector 0x%x rip 0x%lx\n", v, f->rip);
		guest_exit(GUEST_EXIT_EXCEPTION);
	}
	guest_printf("unexpected exception: vector %u (%s) error 0x%lx rip 0x%lx "
		     "cs 0x%lx rflags 0x%lx",
		     v, idt_vector_name(v), f->error_code, f->rip, f->cs, f->rflags);
	if (v == 14)
		guest_printf(" cr2 0x%lx", read_cr2());
	guest_printf("\n");
	guest_exit(GUEST_EXIT_EXCEPTION);
}
