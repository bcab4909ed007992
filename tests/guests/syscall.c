/*
 * syscall.c — a ring-3 task making system calls through SYSCALL/SYSRET.
 *
 * SDM Vol. 3A 5.8.8: with IA32_EFER.SCE=1, SYSCALL from ring 3 enters
 * IA32_LSTAR at CPL 0 with CS = STAR[47:32] and RCX/R11 holding the
 * return RIP and RFLAGS; SYSRETQ returns to CPL 3 with CS = STAR[63:48] +
 * 16 and SS = STAR[63:48] + 8, RPL forced to 3 (with the runtime's STAR,
 * 0x23 and 0x1b), and RFLAGS from R11 (bit 1 set, RF and VM clear; Vol. 2
 * SYSRET). A ring-3 task runs in its own address space (user.c, vm.c),
 * its stack above 512 GiB, and checks each answer:
 *  - CS and SS read in ring 3 are 0x23 and 0x1b (CPL 3);
 *  - SYS_WRITE of its string returns the length and prints it;
 *  - 1000 SYS_YIELD calls (the only task: it is resumed each time) each
 *    return 0, and RFLAGS after the last is 0x2 apart from the status
 *    flags, as the task entered with (IF, TF, DF, AC clear);
 *  - an unknown call number and a SYS_WRITE of a supervisor-only address
 *    return -22 (EINVAL) instead of reaching the kernel's data;
 *  - SYS_EXIT(7) ends it: user_run() returns, exit code 7, and the kernel
 *    counted exactly 1000 + 4 system calls.
 *
 * Expected serial output: tests/guests/syscall.expect.
 * Expected exit status: 1 (guest_exit(0)).
 */
#include "guests/guest.h"

#define N_YIELDS	1000
/* CF PF AF ZF SF OF (SDM Vol. 1 3.4.3.1): the loop's own arithmetic */
#define RFLAGS_STATUS	0x8D5

static char msg[] USER_DATA = "ring 3: hello through SYSCALL\n";
static volatile uint64_t results[8] USER_DATA;

USER_TEXT static void task(uint64_t n)
{
	uint16_t cs, ss;
	uint64_t bad = 0, rflags;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	__asm__ volatile("mov %%ss, %0" : "=r"(ss));
	results[0] = cs;
	results[1] = ss;
	results[2] = user_syscall3(SYS_WRITE, (uint64_t)(uintptr_t)msg, sizeof(msg) - 1, 0);
	for (uint64_t i = 0; i < n; i++)
		if (user_syscall3(SYS_YIELD, 0, 0, 0) != 0)
			bad++;
	__asm__ volatile("pushfq; popq %0" : "=r"(rflags));
	results[3] = bad;
	results[4] = rflags & ~RFLAGS_STATUS;
	results[5] = user_syscall3(99, 0, 0, 0);
	results[6] = user_syscall3(SYS_WRITE, 0x100000, 4, 0);
	user_syscall3(SYS_EXIT, 7, 0, 0);
}

static int bad;

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

	if (err) {
		guest_printf("user_init: %d\n", err);
		return GUEST_EXIT_FAIL;
	}
	id = user_task_create(task, N_YIELDS);
	if (id < 0) {
		guest_printf("user_task_create: %d\n", id);
		return GUEST_EXIT_FAIL;
	}
	user_run();
	expect("CS in ring 3", results[0], 0x23);
	expect("SS in ring 3", results[1], 0x1b);
	expect("SYS_WRITE returns the length", results[2], 30);
	expect("1000 x SYS_YIELD return 0", results[3], 0);
	expect("RFLAGS after SYSRET (system flags)", results[4], 0x2);
	expect("unknown call: -EINVAL", results[5], (uint64_t)-22);
	expect("SYS_WRITE of kernel memory: -EINVAL", results[6], (uint64_t)-22);
	expect("exit code", (uint64_t)user_task_exit_code(id), 7);
	expect("system calls counted", user_syscall_count(), N_YIELDS + 4);
	expect("CR3 back to the boot PML4", read_cr3(), (uint64_t)(uintptr_t)guest_pml4);
	guest_printf("syscall: %s\n", bad ? "MISMATCH" : "done");
	return bad ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
