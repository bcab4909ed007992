/*
 * ctxswitch.c — several address spaces, one virtual address, isolated.
 *
 * Four ring-3 tasks (user.c), each in its own 4-level address space
 * (vm.c), have a private data page mapped at the same virtual address
 * VM_USER_BASE (PML4 entry 1). In each of 8 rounds every task writes its
 * own value there, yields (the kernel switches CR3 to the next task's
 * PML4) and reads the value back: with separate page tables the other
 * tasks' writes to the same address land in other physical pages, so
 * every read must return the task's own value (SDM Vol. 3A 4.5: CR3 names
 * the PML4 that translates every linear address; 4.10.4.1: MOV to CR3
 * invalidates the TLB entries of the previous space, so no stale
 * translation survives the switch). Each task exits with its number of
 * mismatches.
 *
 * Then the kernel checks from ring 0:
 *  - switching CR3 to each space, VM_USER_BASE holds that task's last
 *    value;
 *  - in task 0's space, after reading VM_USER_BASE (which caches the
 *    translation), vm_unmap() with INVLPG makes the next read fault: #PF
 *    with error code 0 (P=0, read, supervisor; SDM 3A 4.7) and CR2 =
 *    VM_USER_BASE — without the INVLPG the stale TLB entry may be used
 *    (4.10.4.2), so the fault shows the flush happened;
 *  - vm_destroy() of all four returns every page they took (page.c).
 *
 * Expected serial output: tests/guests/ctxswitch.expect.
 * Expected exit status: 1 (guest_exit(0)).
 */
#include "guests/guest.h"

#define NTASKS	4
#define ROUNDS	8
#define VALUE(id)	(0x1111111111111111ull * ((id) + 1))

USER_TEXT static void task(uint64_t id)
{
	volatile uint64_t *p = (volatile uint64_t *)VM_USER_BASE;
	uint64_t bad = 0;

	for (uint64_t r = 0; r < ROUNDS; r++) {
		*p = VALUE(id) + r;
		user_syscall3(SYS_YIELD, 0, 0, 0);
		if (*p != VALUE(id) + r)
			bad++;
	}
	user_syscall3(SYS_EXIT, bad, 0, 0);
}

static uint64_t pf_error, pf_cr2, pf_hits;
extern const char ctx_read_resume[];

static void on_pf(struct guest_frame *f)
{
	pf_hits++;
	pf_error = f->error_code;
	pf_cr2 = read_cr2();
	f->rip = (uint64_t)(uintptr_t)ctx_read_resume;
}

/* Reads VM_USER_BASE; on a #PF, on_pf() resumes after the load with @v
 * unchanged. */
__attribute__((noinline)) static uint64_t read_user_base(uint64_t v)
{
	__asm__ volatile("movq (%1), %0\n\t"
			 ".globl ctx_read_resume\n"
			 "ctx_read_resume:"
			 : "+r"(v) : "r"(VM_USER_BASE) : "memory");
	return v;
}

int guest_main(void)
{
	int ids[NTASKS], err = user_init();
	uint64_t free_before;

	if (err) {
		guest_printf("user_init: %d\n", err);
		return GUEST_EXIT_FAIL;
	}
	free_before = page_free_count();
	for (int i = 0; i < NTASKS; i++) {
		uint64_t pa;
		ids[i] = user_task_create(task, (uint64_t)i);
		if (ids[i] < 0 || !(pa = page_alloc()) ||
		    vm_map(user_task_space(ids[i]), VM_USER_BASE, pa, PTE_RW | PTE_US)) {
			guest_printf("task %d: setup failed\n", i);
			return GUEST_EXIT_FAIL;
		}
	}
	user_run();

	for (int i = 0; i < NTASKS; i++) {
		struct vm_space *as = user_task_space(ids[i]);
		guest_printf("task %d: exit %d, ", i, user_task_exit_code(ids[i]));
		vm_switch(as);
		uint64_t v = read_user_base(0);
		write_cr3((uint64_t)(uintptr_t)guest_pml4);
		guest_printf("value 0x%lx\n", v);
		if (user_task_exit_code(ids[i]) != 0 || v != VALUE(i) + ROUNDS - 1)
			guest_check_fail();
	}

	struct vm_space *as0 = user_task_space(ids[0]);
	vm_switch(as0);
	idt_set_handler(14, on_pf);
	uint64_t before = read_user_base(0);
	uint64_t pa0 = *vm_pte(as0, VM_USER_BASE) & PTE_ADDR;
	err = vm_unmap(as0, VM_USER_BASE);
	page_free(pa0);		/* vm_unmap() leaves the frame to its owner */
	uint64_t after = read_user_base(1);
	idt_set_handler(14, NULL);
	write_cr3((uint64_t)(uintptr_t)guest_pml4);
	guest_expect("read before unmap", before, VALUE(0) + ROUNDS - 1);
	guest_expect("vm_unmap", (uint64_t)err, 0);
	guest_expect("read after unmap faults", pf_hits, 1);
	guest_expect("  value left alone", after, 1);
	guest_expect("  #PF error code", pf_error, 0);
	guest_expect("  CR2", pf_cr2, VM_USER_BASE);

	for (int i = 0; i < NTASKS; i++)
		vm_destroy(user_task_space(ids[i]));
	guest_expect("vm_destroy returns every page", page_free_count(), free_before);
	const int status = guest_check_status();
	guest_printf("ctxswitch: %s\n", status == GUEST_EXIT_PASS ? "done" : "MISMATCH");
	return status;
}
