/*
 * sched.c — preemptive round-robin scheduling of ring-3 tasks on a timer.
 *
 * A timer interrupt taken in ring 3 (IF=1 there: tasks start with RFLAGS
 * 0x202) switches to the ring-0 stack in TSS.RSP0 and pushes SS, RSP,
 * RFLAGS, CS and RIP (SDM Vol. 3A 6.14.2, Figure 6-9: in 64-bit mode SS:RSP
 * are pushed even without a privilege change); isr.S adds every GPR, so the
 * struct guest_frame it hands to the handler is the task's whole user
 * state. sched_tick() saves that frame into the task and overwrites it with
 * the next task's before isr.S restores it and IRETQ returns (6.14.3) —
 * into the other task. Each task has its own address space (vm.c), so the
 * switch also loads CR3 (4.10.4.1: that flushes the task's non-global
 * translations; the runtime sets no G bits).
 *
 * The first context saved is sched_run()'s own: it waits in STI;HLT at CPL
 * 0, a tick interrupts it (on the same stack: no privilege change, no IST)
 * and its frame is kept until no task is left, when the last tick IRETQs
 * back into it. A task ends by calling sched_task_exit() from ring 3: it
 * marks itself finished in a user-accessible flag and spins with PAUSE
 * until the next tick takes it off the CPU for good, so no system call or
 * DPL-3 gate is needed.
 */
#include "guests/guest.h"

#define STACK_VA	(VM_USER_BASE + 0x10000)
#define STACK_PAGES	2
#define USER_CS		(GDT_USER_CS | 3)
#define USER_SS		(GDT_USER_DS | 3)
#define RFLAGS_IF	(1ull << 9)
#define RFLAGS_RSVD1	(1ull << 1)

enum sched_state { SCHED_FREE, SCHED_READY, SCHED_DONE };

struct sched_task {
	enum sched_state state;
	struct vm_space as;
	struct guest_frame frame;
	uint64_t preemptions;
};

/* Written by ring 0 before each switch into a task, read by the task. */
static volatile int sched_current USER_DATA = -1;
static volatile bool sched_finished[SCHED_MAX_TASKS] USER_DATA;

static struct sched_task tasks[SCHED_MAX_TASKS];
static struct guest_frame kernel_frame;
static volatile bool running, all_done;
static uint64_t switches;

int sched_task_create(void (*entry)(uint64_t), uint64_t arg)
{
	int id, err;

	for (id = 0; id < SCHED_MAX_TASKS && tasks[id].state != SCHED_FREE; id++)
		;
	if (id == SCHED_MAX_TASKS)
		return -GUEST_ENOMEM;
	struct sched_task *t = &tasks[id];
	err = vm_create(&t->as);
	if (err)
		return err;
	for (unsigned i = 0; i < STACK_PAGES; i++) {
		uint64_t pa = page_alloc();
		err = pa ? vm_map(&t->as, STACK_VA + i * PAGE_SIZE, pa, PTE_RW | PTE_US) :
			   -GUEST_ENOMEM;
		if (err) {
			if (pa)
				page_free(pa);
			vm_destroy(&t->as);
			return err;
		}
	}
	t->frame = (struct guest_frame){
		.rip = (uint64_t)(uintptr_t)entry,
		.cs = USER_CS,
		.rflags = RFLAGS_IF | RFLAGS_RSVD1,
		/* as if entered by CALL: RSP + 8 is 16-byte aligned (SysV ABI) */
		.rsp = STACK_VA + STACK_PAGES * PAGE_SIZE - 8,
		.ss = USER_SS,
		.rdi = arg,
	};
	t->preemptions = 0;
	sched_finished[id] = false;
	t->state = SCHED_READY;
	return id;
}

USER_TEXT void sched_task_exit(void)
{
	sched_finished[sched_current] = true;
	for (;;)
		__asm__ volatile("pause");
}

/* A struct assignment of this size becomes a memcpy() call under clang,
 * and the runtime has no memcpy(). */
static void copy_frame(struct guest_frame *dst, const struct guest_frame *src)
{
	const uint64_t *s = (const uint64_t *)src;
	uint64_t *d = (uint64_t *)dst;

	for (size_t i = 0; i < sizeof(*src) / 8; i++)
		d[i] = s[i];
}

/* The next ready task after @cur (itself last), or -1. */
static int next_ready(int cur)
{
	for (int i = 1; i <= SCHED_MAX_TASKS; i++) {
		int id = (cur + i + SCHED_MAX_TASKS) % SCHED_MAX_TASKS;
		if (tasks[id].state == SCHED_READY)
			return id;
	}
	return -1;
}

void sched_tick(struct guest_frame *f)
{
	int cur = sched_current;

	if (!running)
		return;
	if (cur < 0) {
		copy_frame(&kernel_frame, f);
	} else {
		struct sched_task *t = &tasks[cur];
		if (sched_finished[cur]) {
			t->state = SCHED_DONE;
		} else {
			t->preemptions++;
			copy_frame(&t->frame, f);
		}
	}
	int next = next_ready(cur < 0 ? SCHED_MAX_TASKS - 1 : cur);
	if (next != cur)
		switches++;
	if (next < 0) {
		sched_current = -1;
		write_cr3((uint64_t)(uintptr_t)guest_pml4);
		copy_frame(f, &kernel_frame);
		running = false;
		all_done = true;
		return;
	}
	sched_current = next;
	vm_switch(&tasks[next].as);
	copy_frame(f, &tasks[next].frame);
}

void sched_run(void)
{
	if (next_ready(SCHED_MAX_TASKS - 1) < 0)
		return;
	all_done = false;
	running = true;
	while (!all_done)
		irq_wait();
}

uint64_t sched_preemptions(int id)
{
	return id >= 0 && id < SCHED_MAX_TASKS ? tasks[id].preemptions : 0;
}

uint64_t sched_switches(void)
{
	return switches;
}
