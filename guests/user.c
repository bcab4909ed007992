/*
 * user.c — ring-3 tasks, each in its own address space, and their system
 * calls.
 *
 * user_init() enables SYSCALL/SYSRET (SDM Vol. 3A 5.8.8): IA32_EFER.SCE
 * (MSR C000_0080H bit 0) = 1; IA32_STAR (C000_0081H) = kernel CS 0x08 in
 * bits 47:32 (SS = 0x10) and 0x10 in bits 63:48, so SYSRETQ returns with
 * SS = 0x18|3 and CS = 0x20|3 (gdt.c); IA32_LSTAR (C000_0082H) = the entry
 * in syscall.S; IA32_FMASK (C000_0084H) clears IF, TF, DF and AC on entry.
 * The kernel stack of a system call is TSS.RSP0, the same stack an
 * exception from ring 3 switches to (6.14.4): neither can interrupt the
 * other, because ring 3 never runs with IF=1 and a fault inside the kernel
 * stays on the current stack.
 *
 * A task is an address space (vm.c) with two stack pages at
 * VM_USER_BASE + 64 KiB, and its saved user registers. Scheduling is
 * cooperative round-robin: SYS_YIELD saves the caller's registers and
 * loads the next runnable task's (switching CR3), SYS_EXIT marks it done;
 * when none is left, user_run() returns to its caller in ring 0.
 * SYS_GETPID does nothing but answer (the caller's task id + 1, so that
 * no task's answer is 0): the null system call that measures the
 * SYSCALL/SYSRET round trip itself, as getppid does for lmbench.
 * Tasks start with RFLAGS = 0x2 (only the reserved bit 1, SDM Vol. 1
 * 3.4.3): IF=0, since the runtime has no interrupt handlers.
 */
#include "guests/guest.h"

#define MSR_EFER	0xC0000080
#define MSR_STAR	0xC0000081
#define MSR_LSTAR	0xC0000082
#define MSR_FMASK	0xC0000084
#define EFER_SCE	(1ull << 0)
#define RFLAGS_TF	(1ull << 8)
#define RFLAGS_IF	(1ull << 9)
#define RFLAGS_DF	(1ull << 10)
#define RFLAGS_AC	(1ull << 18)

#define STACK_VA	(VM_USER_BASE + 0x10000)
#define STACK_PAGES	2

/* The frame syscall.S pushes (lowest address first). */
struct user_regs {
	uint64_t r15, r14, r13, r12;
	uint64_t rflags;	/* R11 at SYSCALL */
	uint64_t r10, r9, r8, rbp, rdi, rsi, rdx;
	uint64_t rip;		/* RCX at SYSCALL */
	uint64_t rbx, rax, rsp;
};
_Static_assert(sizeof(struct user_regs) == 16 * 8, "syscall.S pushes 16 quadwords");

enum task_state { TASK_FREE, TASK_READY, TASK_DONE };

struct task {
	enum task_state state;
	int exit_code;
	struct vm_space as;
	struct user_regs regs;
};

void user_syscall_entry(void);
void user_enter(struct user_regs *frame);
__attribute__((noreturn)) void user_leave(void);
void user_syscall(struct user_regs *r);

uint64_t user_kstack_top;	/* read by syscall.S */
static struct task tasks[USER_MAX_TASKS];
static int current = -1;
static uint64_t nsyscalls;

int user_init(void)
{
	int err = vm_init();

	if (err)
		return err;
	user_kstack_top = gdt_rsp0();
	msr_write(MSR_STAR, (uint64_t)GDT_KERNEL_DS << 48 | (uint64_t)GDT_KERNEL_CS << 32);
	msr_write(MSR_LSTAR, (uint64_t)(uintptr_t)user_syscall_entry);
	msr_write(MSR_FMASK, RFLAGS_TF | RFLAGS_IF | RFLAGS_DF | RFLAGS_AC);
	msr_write(MSR_EFER, msr_read(MSR_EFER) | EFER_SCE);
	return 0;
}

int user_task_create(void (*entry)(uint64_t), uint64_t arg)
{
	int id, err;

	for (id = 0; id < USER_MAX_TASKS && tasks[id].state != TASK_FREE; id++)
		;
	if (id == USER_MAX_TASKS)
		return -GUEST_ENOMEM;
	struct task *t = &tasks[id];
	err = vm_create(&t->as);
	if (err)
		return err;
	for (unsigned i = 0; i < STACK_PAGES; i++) {
		uint64_t pa = page_alloc();
		if (!pa) {
			vm_destroy(&t->as);
			return -GUEST_ENOMEM;
		}
		err = vm_map(&t->as, STACK_VA + i * PAGE_SIZE, pa, PTE_RW | PTE_US);
		if (err) {
			page_free(pa);
			vm_destroy(&t->as);
			return err;
		}
	}
	t->regs = (struct user_regs){
		.rip = (uint64_t)(uintptr_t)entry,
		.rflags = 0x2,
		/* as if entered by CALL: RSP + 8 is 16-byte aligned (SysV ABI) */
		.rsp = STACK_VA + STACK_PAGES * PAGE_SIZE - 8,
		.rdi = arg,
	};
	t->exit_code = 0;
	t->state = TASK_READY;
	return id;
}

struct vm_space *user_task_space(int id)
{
	return id >= 0 && id < USER_MAX_TASKS && tasks[id].state != TASK_FREE ?
		&tasks[id].as : NULL;
}

int user_task_exit_code(int id)
{
	return id >= 0 && id < USER_MAX_TASKS ? tasks[id].exit_code : -GUEST_EINVAL;
}

uint64_t user_syscall_count(void)
{
	return nsyscalls;
}

/* The next ready task after the current one (the current one last), or -1. */
static int next_task(void)
{
	for (int i = 1; i <= USER_MAX_TASKS; i++) {
		int id = (current + i) % USER_MAX_TASKS;
		if (tasks[id].state == TASK_READY)
			return id;
	}
	return -1;
}

/* Continue in task @id: its address space, its registers into @r. */
static void resume(int id, struct user_regs *r)
{
	current = id;
	vm_switch(&tasks[id].as);
	*r = tasks[id].regs;
}

/* Every byte of [s, s + n) lies in user-accessible present pages. */
static bool user_readable(uint64_t s, uint64_t n)
{
	extern char __user_start[], __user_end[];
	uint64_t end = s + n;

	if (end < s || n > PAGE_SIZE)
		return false;
	if (s >= (uint64_t)(uintptr_t)__user_start && end <= (uint64_t)(uintptr_t)__user_end)
		return true;
	for (uint64_t va = s & ~(uint64_t)(PAGE_SIZE - 1); va < end; va += PAGE_SIZE) {
		uint64_t *pte = vm_pte(&tasks[current].as, va);
		if (!pte || (*pte & (PTE_P | PTE_US)) != (PTE_P | PTE_US))
			return false;
	}
	return true;
}

void user_syscall(struct user_regs *r)
{
	int next;

	nsyscalls++;
	switch (r->rax) {
	case SYS_WRITE:
		if (!user_readable(r->rdi, r->rsi)) {
			r->rax = (uint64_t)-GUEST_EINVAL;
			break;
		}
		serial_write((const char *)(uintptr_t)r->rdi, r->rsi);
		r->rax = r->rsi;
		break;
	case SYS_GETPID:
		r->rax = (uint64_t)current + 1;
		break;
	case SYS_YIELD:
		r->rax = 0;
		tasks[current].regs = *r;
		resume(next_task(), r);	/* at least the caller is ready */
		break;
	case SYS_EXIT:
		tasks[current].exit_code = (int)r->rdi;
		tasks[current].state = TASK_DONE;
		next = next_task();
		if (next < 0)
			user_leave();
		resume(next, r);
		break;
	default:
		r->rax = (uint64_t)-GUEST_EINVAL;
		break;
	}
}

void user_run(void)
{
	int first;

	current = USER_MAX_TASKS - 1;
	first = next_task();
	if (first < 0)
		return;
	struct user_regs *frame = (struct user_regs *)(uintptr_t)(user_kstack_top -
								 sizeof(struct user_regs));
	resume(first, frame);
	user_enter(frame);
	current = -1;
	write_cr3((uint64_t)(uintptr_t)guest_pml4);
}
