/*
 * idt32.c — the 32-bit runtime's IDT and exception reporting.
 *
 * Vectors 0..31 get 32-bit interrupt gates (SDM 3A 6.11, Figure 6-2:
 * offset 31:16 | P | DPL | 0 D=1 1 1 0 | ... | selector | offset 15:0,
 * type 0xE with DPL 0) to the stubs in isr32.S; vector 0x80 an interrupt
 * gate with DPL 3, so ring 3 may raise it with INT (Vol. 2 INT n: the
 * gate's DPL is checked against CPL for software interrupts) to return
 * from user32_run(). Other vectors are absent (P=0): INT n on them
 * raises #NP, which is reported.
 *
 * idt32_dispatch() runs a test's handler if one is installed; otherwise
 * it prints the vector, name, error code, EIP, CS, EFLAGS (CR2 for #PF)
 * and exits with GUEST_EXIT_EXCEPTION.
 */
#include "guests32/guest32.h"

extern const uint32_t isr32_table[32], isr32_user;
void idt32_dispatch(struct guest32_frame *f);

static uint64_t idt[256] __attribute__((aligned(8)));
static idt32_handler_t handlers[32];

static const char *const names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
	"#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "RSV15",
	"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "RSV22", "RSV23",
	"RSV24", "RSV25", "RSV26", "RSV27", "#HV", "#VC", "#SX", "RSV31",
};

const char *idt32_vector_name(unsigned vector)
{
	return vector < 32 ? names[vector] : "INT";
}

static uint64_t gate(uint32_t off, unsigned dpl)
{
	return (off & 0xFFFF) | (uint64_t)GDT32_KERNEL_CS << 16 |
	       (uint64_t)(0x8E | dpl << 5) << 40 | (uint64_t)(off >> 16) << 48;
}

void idt32_set_handler(unsigned vector, idt32_handler_t fn)
{
	if (vector < 32)
		handlers[vector] = fn;
}

void idt32_init(void)
{
	for (unsigned v = 0; v < 32; v++)
		idt[v] = gate(isr32_table[v], 0);
	idt[IDT32_USER_VECTOR] = gate(isr32_user, 3);
	struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint32_t)idt };
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

void idt32_dispatch(struct guest32_frame *f)
{
	unsigned v = f->vector;

	if (v == IDT32_USER_VECTOR)
		user32_abort(f->eax);
	if (v < 32 && handlers[v]) {
		handlers[v](f);
		return;
	}
	guest_printf("unexpected exception: vector %u (%s) error 0x%x eip 0x%x cs 0x%x eflags 0x%x",
		     v, idt32_vector_name(v), f->error_code, f->eip, f->cs, f->eflags);
	if (v == 14)
		guest_printf(" cr2 0x%x", read_cr2());
	guest_printf("\n");
	guest_exit(GUEST_EXIT_EXCEPTION);
}
