/*
 * protect.c — vm_protect() changes a page's rights, and INVLPG makes the
 * processor see the change at once.
 *
 * SDM Vol. 3A: with CR0.WP=1 a supervisor write to a page whose leaf has
 * R/W=0 raises #PF (4.6.1); its error code has P=1 (a protection
 * violation), W/R=1 (a write), U/S=0 (supervisor): 0x3, and CR2 holds the
 * address (4.7). The TLB may cache the old, writable translation
 * (4.10.2.3); vm_protect() executes INVLPG (4.10.4.1), so the write right
 * after it must fault. Making the page writable again lets the next write
 * through. The test runs in ring 0 in a fresh address space (vm.c).
 * It also checks the argument rules of docs/guests.md: vm_map() refuses an
 * address outside the private range (-22), vm_protect() and vm_unmap() of
 * an unmapped address return -2.
 *
 * Expected serial output: tests/guests/protect.expect.
 * Expected exit status: 1 (guest_exit(0)).
 */
#include "guests/guest.h"

#define VA	(VM_USER_BASE + 0x200000)

static uint64_t pf_error, pf_cr2, pf_hits;
extern const char prot_write_resume[];

static void on_pf(struct guest_frame *f)
{
	pf_hits++;
	pf_error = f->error_code;
	pf_cr2 = read_cr2();
	f->rip = (uint64_t)(uintptr_t)prot_write_resume;
}

/* Writes @v to VA; on a #PF, on_pf() resumes after the store. */
__attribute__((noinline)) static void write_va(uint64_t v)
{
	__asm__ volatile("movq %0, (%1)\n\t"
			 ".globl prot_write_resume\n"
			 "prot_write_resume:"
			 : : "r"(v), "r"(VA) : "memory");
}

static uint64_t read_va(void)
{
	return *(volatile uint64_t *)VA;
}

int guest_main(void)
{
	struct vm_space as;
	uint64_t pa;
	int err = vm_init();

	if (err || vm_create(&as) || !(pa = page_alloc())) {
		guest_printf("setup failed\n");
		return GUEST_EXIT_FAIL;
	}
	guest_expect("vm_map", (uint64_t)vm_map(&as, VA, pa, PTE_RW), 0);
	vm_switch(&as);
	idt_set_handler(14, on_pf);

	write_va(0x55);
	guest_expect("write to RW page", read_va(), 0x55);
	guest_expect("vm_protect read-only", (uint64_t)vm_protect(&as, VA, 0), 0);
	write_va(0x66);
	guest_expect("write to RO page faults", pf_hits, 1);
	guest_expect("  #PF error code (P|W)", pf_error, 0x3);
	guest_expect("  CR2", pf_cr2, VA);
	guest_expect("  memory unchanged", read_va(), 0x55);
	guest_expect("vm_protect writable", (uint64_t)vm_protect(&as, VA, PTE_RW), 0);
	write_va(0x77);
	guest_expect("write goes through again", read_va(), 0x77);
	guest_expect("no further fault", pf_hits, 1);
	guest_expect("frame untouched", *vm_pte(&as, VA) & PTE_ADDR, pa);

	idt_set_handler(14, NULL);
	write_cr3((uint64_t)(uintptr_t)guest_pml4);
	guest_expect("vm_map of a shared address", (uint64_t)vm_map(&as, 0x1000, pa, PTE_RW),
	       (uint64_t)-22);
	guest_expect("vm_protect unmapped", (uint64_t)vm_protect(&as, VA + PAGE_SIZE, 0), (uint64_t)-2);
	guest_expect("vm_unmap", (uint64_t)vm_unmap(&as, VA), 0);
	guest_expect("vm_unmap again", (uint64_t)vm_unmap(&as, VA), (uint64_t)-2);
	page_free(pa);
	vm_destroy(&as);
	const int status = guest_check_status();
	guest_printf("protect: %s\n", status == GUEST_EXIT_PASS ? "done" : "MISMATCH");
	return status;
}
