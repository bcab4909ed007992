/*
 * syscall.c — the system-call benchmark guest: a ring-3 task calling a
 * null system call N times, lmbench's lat_syscall null.
 *
 * One task (guests/user.c) runs at CPL 3 in its own address space and
 * makes N calls of SYS_GETPID, which does nothing but answer: SYSCALL
 * to the kernel's entry (IA32_LSTAR, CPL 0, RCX and R11 holding the
 * return RIP and RFLAGS; SDM Vol. 3A 5.8.8), the registers saved on the
 * kernel stack, the dispatch, and SYSRETQ back to CPL 3. Neither
 * instruction is one a hypervisor can intercept (neither VMX's exit
 * conditions, SDM Vol. 3C 26.1, nor SVM's instruction intercepts, APM
 * Vol. 2 15.9, list them), no CR3 load happens between calls, and the
 * task's code, stack
 * and data stay in a few TLB entries: under every MMU the loop should
 * run without exits, so it prices the privilege-level round trip alone.
 *
 * Self-check: every call returns the caller's pid (task id + 1, never
 * 0), so the value the kernel put in RAX reached ring 3 through SYSRET;
 * the task folds each answer with the loop counter (which must survive
 * every call in a register SYSCALL does not clobber) into a hash the
 * kernel recomputes; and the kernel counted exactly N + 1 system calls
 * (the N calls and SYS_EXIT). The checksum is that hash.
 *
 * Parameters (--append): n=N calls (1..10^9, default 100000). Prints its
 * parameter and "syscall: checksum 0x...: ok"; exit status 1
 * (guest_exit(0)) when all holds, 3 otherwise.
 */
#include "bench/workloads/args.h"

struct result {
	uint64_t first;		/* the first answer */
	uint64_t differ;	/* answers unlike the first */
	uint64_t hash;
};

static volatile struct result result USER_DATA;

USER_TEXT static uint64_t fold(uint64_t h, uint64_t v)
{
	return (h << 7 | h >> 57) ^ v;
}

USER_TEXT static void task(uint64_t n)
{
	uint64_t first = 0, differ = 0, h = 0;

	for (uint64_t i = 0; i < n; i++) {
		const uint64_t pid = user_syscall3(SYS_GETPID, 0, 0, 0);
		if (i == 0)
			first = pid;
		differ += pid != first;
		h = fold(h, pid + i);
	}
	result.first = first;
	result.differ = differ;
	result.hash = h;
	user_syscall3(SYS_EXIT, 0, 0, 0);
}

int guest_main(void)
{
	const uint64_t n = bench_arg("n", 100000, 1, 1000000000);
	uint64_t bad = 0, want = 0;
	int id, err;

	guest_printf("syscall: %lu null system calls\n", n);
	err = user_init();
	if (err) {
		guest_printf("syscall: user_init: %d\n", err);
		return GUEST_EXIT_FAIL;
	}
	id = user_task_create(task, n);
	if (id < 0) {
		guest_printf("syscall: user_task_create: %d\n", id);
		return GUEST_EXIT_FAIL;
	}
	const uint64_t calls_before = user_syscall_count();
	user_run();
	const uint64_t calls = user_syscall_count() - calls_before;
	const uint64_t pid = (uint64_t)id + 1;

	for (uint64_t i = 0; i < n; i++)
		want = (want << 7 | want >> 57) ^ (pid + i);
	if (result.first != pid || result.differ) {
		guest_printf("syscall: answers: first %lu (pid %lu), %lu others differ\n",
			     result.first, pid, result.differ);
		bad++;
	}
	if (result.hash != want) {
		guest_printf("syscall: hash 0x%lx, expected 0x%lx\n", result.hash, want);
		bad++;
	}
	if (calls != n + 1) {
		guest_printf("syscall: the kernel counted %lu calls, expected %lu\n", calls, n + 1);
		bad++;
	}
	if (user_task_exit_code(id) != 0) {
		guest_printf("syscall: exit code %d\n", user_task_exit_code(id));
		bad++;
	}
	guest_printf("syscall: checksum 0x%lx: %s\n", result.hash, bad ? "WRONG" : "ok");
	return bad ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
