/*
 * userfault.c — a page fault in ring 3 arrives on the TSS.RSP0 stack.
 *
 * A ring-3 task writes to 0x100000, the first page of the image, which the
 * runtime maps supervisor-only (vm.c). SDM Vol. 3A:
 *  - 4.6.1: a user-mode access to a page with U/S=0 in its leaf is not
 *    allowed; 4.7: #PF with error code P=1 (protection), W/R=1, U/S=1:
 *    0x7, and CR2 = the address;
 *  - 6.14.4 (and 6.12.1): an exception that changes the privilege level
 *    to 0 loads RSP from TSS.RSP0 (gdt.c) and pushes the old SS:RSP: the
 *    frame shows SS=0x1b, CS=0x23 and the task's stack pointer, and its
 *    top is RSP0 (the CPU aligns RSP0 to 16 bytes first, 6.14.2; RSP0 is
 *    aligned already).
 * The handler then sends the task to a USER_TEXT function that exits with
 * code 42, so IRETQ back to ring 3 is tested too (Vol. 2 IRET, return to
 * outer privilege level).
 *
 * Expected serial output: tests/guests/userfault.expect.
 * Expected exit status: 1 (guest_exit(0)).
 */
#include "guests/guest.h"

#define TARGET		0x100000ull
#define STACK_TOP	(VM_USER_BASE + 0x10000 + 2 * PAGE_SIZE)	/* user.c */

static int bad;
static uint64_t pf_hits, pf_error, pf_cr2, pf_cs, pf_ss, pf_rsp, pf_frame_end;

USER_TEXT static void fault_exit(void)
{
	user_syscall3(SYS_EXIT, 42, 0, 0);
}

USER_TEXT static void task(uint64_t target)
{
	*(volatile uint64_t *)target = 0x99;
	user_syscall3(SYS_EXIT, 1, 0, 0);
}

static void on_pf(struct guest_frame *f)
{
	pf_hits++;
	pf_error = f->error_code;
	pf_cr2 = read_cr2();
	pf_cs = f->cs;
	pf_ss = f->ss;
	pf_rsp = f->rsp;
	pf_frame_end = (uint64_t)(uintptr_t)&f->ss + 8;
	f->rip = (uint64_t)(uintptr_t)fault_exit;
}

static void expect(const char *what, uint64_t got, uint64_t want)
{
	if (got == want) {
		guest_printf("%s: ok\n", what);
	} else {
		guest_printf("%s: 0x%lx, expected 0x%lx\n", what, got, want);
		bad++;
	}
}

int guest_main(void)
{
	int id, err = user_init();
	uint64_t before = *(volatile uint64_t *)TARGET;

	if (err || (id = user_task_create(task, TARGET)) < 0) {
		guest_printf("setup failed\n");
		return GUEST_EXIT_FAIL;
	}
	idt_set_handler(14, on_pf);
	user_run();
	idt_set_handler(14, NULL);
	expect("one #PF", pf_hits, 1);
	expect("error code (P|W|U)", pf_error, 0x7);
	expect("CR2", pf_cr2, TARGET);
	expect("saved CS", pf_cs, 0x23);
	expect("saved SS", pf_ss, 0x1b);
	expect("saved RSP on the task's stack", pf_rsp > VM_USER_BASE && pf_rsp <= STACK_TOP, 1);
	expect("frame ends at TSS.RSP0", pf_frame_end, gdt_rsp0());
	expect("supervisor page unchanged", *(volatile uint64_t *)TARGET, before);
	expect("task exit code after IRETQ to ring 3", (uint64_t)user_task_exit_code(id), 42);
	guest_printf("userfault: %s\n", bad ? "MISMATCH" : "done");
	return bad ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
