/*
 * preempt.c — three ring-3 tasks preempted by the PIT, round-robin.
 *
 * Each task runs in its own address space at CPL 3 with IF=1 and computes
 * a checksum in a loop that never yields: only the timer takes the CPU
 * away (sched.c). What the test relies on:
 * - SDM Vol. 3A 6.8.1: with IF=1 a pending maskable interrupt is taken
 *   between instructions, at any privilege level; 6.14.2: from ring 3 the
 *   CPU switches to TSS.RSP0 and pushes SS:RSP, RFLAGS, CS:RIP; 6.14.3:
 *   IRETQ restores them (and RFLAGS.IF) — so a handler that saves and
 *   restores the whole frame can resume any task exactly where it was.
 * - 4.10.4.1: MOV to CR3 switches address spaces; each task's stack lives
 *   at the same virtual address in its own space.
 * - 8254 datasheet: channel 0 in mode 2 ticks at 1193182 / divisor Hz;
 *   the 8259A delivers it as IRQ0 (pic.c, pit.c).
 * A checksum is right only if every register the loop keeps live survives
 * every preemption; the reference value is computed first in ring 0 with
 * interrupts off by the same function. Each task also records the CPL (CS
 * bits 1:0) and RFLAGS.IF it sees. Between its two halves of the work each
 * task waits at a barrier for all three (and at one before it starts):
 * without preemption no task could pass (the run would hang), and however
 * the host's load delays the ticks, no task can finish without having been
 * preempted once. Counts depend on the emulator's speed, so only booleans
 * are printed: each task interrupted at least once while it ran, and the
 * scheduler switching more often than once per task.
 *
 * Expected serial output: tests/guests/preempt.expect.
 * Expected exit status: 1 (guest_exit(0)).
 */
#include "guests/guest.h"

#define NTASKS		3
#define ITERATIONS	200000u
#define TICK_HZ		4000

static volatile uint64_t results[NTASKS] USER_DATA;
static volatile uint64_t task_cs[NTASKS] USER_DATA;
static volatile uint64_t task_rflags[NTASKS] USER_DATA;
static volatile uint32_t arrived[2] USER_DATA;

/* Eight xorshift/multiply lanes kept in registers across the whole loop:
 * a clobbered register at any preemption changes the result. */
USER_TEXT static uint64_t checksum(uint64_t seed, uint32_t n)
{
	uint64_t a = seed, b = seed ^ 0x9e3779b97f4a7c15ull, c = seed * 3 + 1, d = ~seed;
	uint64_t e = seed << 7, g = seed >> 3, h = seed + 0x1234567, k = seed | 1;

	for (uint32_t i = 0; i < n; i++) {
		a ^= a << 13;
		a ^= a >> 7;
		a ^= a << 17;
		b = b * 6364136223846793005ull + 1442695040888963407ull;
		c += a ^ b;
		d = (d << 5 | d >> 59) ^ c;
		e += d * k;
		g ^= e + i;
		h = h * 31 + g;
		k += h | 1;
	}
	return a ^ b ^ c ^ d ^ e ^ g ^ h ^ k;
}

/* Waits until every task has arrived: only a preemption lets the others
 * run, so no task gets past both barriers without being preempted. */
USER_TEXT static void barrier(unsigned b)
{
	__atomic_fetch_add(&arrived[b], 1, __ATOMIC_SEQ_CST);
	while (arrived[b] < NTASKS)
		__asm__ volatile("pause");
}

/* Half the work, the barrier, the other half from the first half's result. */
USER_TEXT static uint64_t work(uint64_t id, bool barriers)
{
	uint64_t half;

	if (barriers)
		barrier(0);
	half = checksum(id + 1, ITERATIONS / 2);
	if (barriers)
		barrier(1);
	return checksum(half, ITERATIONS / 2);
}

USER_TEXT static void task(uint64_t id)
{
	uint64_t cs, rflags;

	__asm__ volatile("mov %%cs, %0; pushfq; pop %1" : "=r"(cs), "=r"(rflags));
	task_cs[id] = cs;
	task_rflags[id] = rflags;
	results[id] = work(id, true);
	sched_task_exit();
}

static void tick(struct guest_frame *f)
{
	pic_eoi(0);
	sched_tick(f);
}

int guest_main(void)
{
	uint64_t expect[NTASKS];
	int ids[NTASKS];

	for (unsigned i = 0; i < NTASKS; i++)
		expect[i] = work(i, false);
	guest_check("vm_init", vm_init() == 0);
	for (unsigned i = 0; i < NTASKS; i++) {
		ids[i] = sched_task_create(task, i);
		guest_check("task created", ids[i] >= 0);
		if (ids[i] < 0)
			return GUEST_EXIT_FAIL;
	}
	guest_check("pit_start", pit_start(TICK_HZ, 0) == 0);
	idt_set_irq(PIC_VECTOR_BASE + 0, tick);
	sched_run();
	pit_stop();

	guest_check("back in ring 0 with CR3 = guest_pml4",
	            read_cr3() == (uint64_t)(uintptr_t)guest_pml4);
	bool sums = true, preempted = true, ring3 = true;
	for (unsigned i = 0; i < NTASKS; i++) {
		sums = sums && results[i] == expect[i];
		preempted = preempted && sched_preemptions(ids[i]) >= 1;
		ring3 = ring3 && (task_cs[i] & 3) == 3 && (task_rflags[i] & 0x200);
	}
	guest_check("every task ran in ring 3 with IF=1", ring3);
	guest_check("every task's checksum is right", sums);
	guest_check("every task was preempted at least once", preempted);
	guest_check("more switches than tasks (round-robin, not run to completion)",
	            sched_switches() > NTASKS + 1);
	return guest_check_status();
}
