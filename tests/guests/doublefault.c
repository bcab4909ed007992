/*
 * doublefault.c — a double fault delivered through the IST.
 *
 * The test points RSP at 8 GiB, which boot.S leaves unmapped (PDPTE 7 is
 * not present), and pushes. The push raises #PF; delivering it at CPL 0
 * through a gate with IST=0 pushes onto the same stack (SDM Vol. 3A
 * 6.14.2), which faults again: a page fault during the delivery of a page
 * fault is a double fault (6.15, Table 6-5, and "Interrupt 8"). The #DF
 * gate has IST=1 (idt.c), so the processor switches to TSS.IST1
 * unconditionally (6.14.5) and can push its frame; without the IST the
 * third push would fault too and the machine would shut down (triple
 * fault). #DF is an abort with an error code of 0 (6.15, "Interrupt 8").
 *
 * The handler checks vector 8, error code 0 and that its frame lies on the
 * IST1 stack, then ends the test: the SDM leaves the saved CS:RIP of a #DF
 * undefined, so there is nothing to return to.
 *
 * Expected serial output: tests/guests/doublefault.expect.
 * Expected exit status: 1 (guest_exit(0)).
 */
#include "guests/guest.h"

#define BAD_STACK	0x200000000ull	/* 8 GiB */
#define IST_SIZE	8192		/* gdt.c */

static void on_df(struct guest_frame *f)
{
	uint64_t top = gdt_ist_top(GDT_IST_DF), at = (uint64_t)(uintptr_t)f;
	bool on_ist = at < top && at >= top - IST_SIZE;

	guest_printf("double fault: vector %lu, error code %lu\n", f->vector, f->error_code);
	guest_printf("frame on the IST1 stack: %s\n", on_ist ? "yes" : "no");
	/* The hardware frame ends at the top of the IST stack (6.14.5:
	 * RSP = IST1, then the CPU pushes SS..RIP and the error code). */
	guest_printf("hardware frame at IST1 top: %s\n",
		     (uint64_t)(uintptr_t)&f->ss + 8 == top ? "yes" : "no");
	guest_exit(f->vector == 8 && f->error_code == 0 && on_ist &&
		   (uint64_t)(uintptr_t)&f->ss + 8 == top ? GUEST_EXIT_PASS : GUEST_EXIT_FAIL);
}

int guest_main(void)
{
	idt_set_handler(8, on_df);
	guest_printf("pushing onto an unmapped stack\n");
	__asm__ volatile("movq %0, %%rsp\n\tpushq $0" : : "r"(BAD_STACK) : "memory");
	guest_printf("push did not fault\n");
	return GUEST_EXIT_FAIL;
}
