/*
 * dos_random.c — ring 3 runs pseudo-random bytes (issue 8, denial).
 *
 * The guest fills a user code page with 4,096 pseudo-random bytes
 * (xorshift64, fixed seed), enters it at a random offset in ring 3 with
 * IRETQ, every general register 0 but RSP (the middle of a user stack
 * page), and RFLAGS.TF = 1, and lets it run until it raises an exception or has
 * been single-stepped STEPS times; then the next page, PAGES times. The
 * random code can do anything ring 3 may: write its own code and stack
 * pages, load segment registers, POPF, IRETQ, far jumps, INT n, string
 * instructions; everything else faults:
 *
 *   - only the code and stack pages are user pages (U/S = 1 at every
 *     level, 4.6.1); the rest of the address space is supervisor or not
 *     present: #PF, and non-canonical addresses #GP or #SS (3A 3.3.7.1);
 *   - IOPL = 0 and no I/O bitmap: IN/OUT/INS/OUTS/CLI/STI #GP (3A 19.5,
 *     19.8.1); HLT, MOV CR/DR, LGDT, WRMSR ... #GP at CPL 3 (5.9);
 *   - INT n finds a DPL-0 gate (0..31) or no gate (32..255): #GP
 *     (6.12.1.1); INT1 (ICEBP) is delivered as #DB regardless (Vol. 2
 *     INT n);
 *   - EFER.SCE = 0: SYSCALL #UD; CR4.TSD = 1: RDTSC/RDTSCP #GP (so no
 *     run depends on the clock); CR4.PCE = 0: RDPMC #GP;
 *   - IF stays 0 (POPF at CPL > IOPL leaves it, Vol. 2B POPF), so no
 *     interrupt can arrive; no timer is needed to end a page.
 *
 * TF cannot be evaded: POPF may clear it, but the single-step trap
 * follows every instruction that began with TF = 1 (3A 17.3.1.4), and the
 * #DB handler sets it again in the frame it returns to. Every page thus
 * ends within STEPS + 1 instructions, on any processor: a bounded run.
 *
 * What a page does depends on the processor's instruction set (QEMU's
 * CPU has x87 and SSE, hvlab's model has neither and raises #UD:
 * docs/hw.md), so the serial output says only that every page ended;
 * with "histogram" on the command line (hvlab run --append histogram,
 * tests/run/hostile.sh) the guest also prints how many pages ended on
 * each vector and the total steps, which must be the same under every
 * MMU of one backend: the MMU strategy is not allowed to change what the
 * architecture says a program does.
 *
 * Expected serial output: tests/hostile/dos_random.expect.
 * Expected exit status: 1
 */
#include "guests/guest.h"

#define PAGES		10000u
#define STEPS		64u
#define CODE_VA		VM_USER_BASE
#define STACK_VA	(VM_USER_BASE + 0x10000)
#define CR4_TSD		(1ull << 2)
#define DR6_INIT	0xffff0ff0ull		/* 3A 17.2.3: the bits a #DB handler clears */
#define NVEC		32

void dr_enter_user(uint64_t rip, uint64_t rsp);	/* below: returns when the page ends */
void dr_user_return(void);
uint64_t dr_kernel_rsp;

__asm__(".text\n"
	".globl dr_enter_user\n"
	"dr_enter_user:\n\t"
	"push %rbx\n\tpush %rbp\n\tpush %r12\n\tpush %r13\n\tpush %r14\n\tpush %r15\n\t"
	"mov %rsp, dr_kernel_rsp(%rip)\n\t"
	"pushq $0x1b\n\t"		/* SS: ring-3 data (GDT_USER_DS | 3) */
	"pushq %rsi\n\t"		/* RSP */
	"pushq $0x102\n\t"		/* RFLAGS: TF, bit 1; IF = 0, IOPL = 0 */
	"pushq $0x23\n\t"		/* CS: ring-3 64-bit code */
	"pushq %rdi\n\t"		/* RIP */
	"xor %eax, %eax\n\txor %ebx, %ebx\n\txor %ecx, %ecx\n\txor %edx, %edx\n\t"
	"xor %esi, %esi\n\txor %edi, %edi\n\txor %ebp, %ebp\n\t"
	"xor %r8d, %r8d\n\txor %r9d, %r9d\n\txor %r10d, %r10d\n\txor %r11d, %r11d\n\t"
	"xor %r12d, %r12d\n\txor %r13d, %r13d\n\txor %r14d, %r14d\n\txor %r15d, %r15d\n\t"
	"iretq\n"
	".globl dr_user_return\n"
	"dr_user_return:\n\t"		/* ring 0 again, from a handler's IRETQ */
	"mov $0x10, %eax\n\tmov %eax, %ds\n\tmov %eax, %es\n\t"
	"mov dr_kernel_rsp(%rip), %rsp\n\t"
	"pop %r15\n\tpop %r14\n\tpop %r13\n\tpop %r12\n\tpop %rbp\n\tpop %rbx\n\t"
	"ret\n");

static unsigned ended[NVEC], by_limit, steps_now, not_ring3;
static uint64_t steps_total;

/* Back to ring 0 at dr_user_return, on the kernel stack dr_enter_user
 * saved (IRETQ to CPL 0 in 64-bit mode pops SS:RSP too, 6.14.3). */
static void end_page(struct guest_frame *f)
{
	if ((f->cs & 3) != 3)
		not_ring3++;
	f->rip = (uint64_t)(uintptr_t)dr_user_return;
	f->cs = GDT_KERNEL_CS;
	f->rflags = 0x2;
	f->rsp = dr_kernel_rsp;
	f->ss = GDT_KERNEL_DS;
}

static void on_exception(struct guest_frame *f)
{
	ended[f->vector & (NVEC - 1)]++;
	end_page(f);
}

static void on_debug(struct guest_frame *f)
{
	__asm__ volatile("mov %0, %%dr6" : : "r"(DR6_INIT));
	steps_now++;
	steps_total++;
	if (steps_now >= STEPS) {
		by_limit++;
		end_page(f);
		return;
	}
	f->rflags |= 0x100;		/* TF again, whatever the code did to it */
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

int guest_main(void)
{
	struct vm_space as;
	if (vm_init() || vm_create(&as)) {
		guest_printf("dos_random: no memory for the address space\n");
		return GUEST_EXIT_FAIL;
	}
	const uint64_t code = page_alloc(), stack = page_alloc();
	if (!code || !stack || vm_map(&as, CODE_VA, code, PTE_P | PTE_RW | PTE_US) ||
	    vm_map(&as, STACK_VA, stack, PTE_P | PTE_RW | PTE_US)) {
		guest_printf("dos_random: cannot map the user pages\n");
		return GUEST_EXIT_FAIL;
	}
	for (unsigned v = 0; v < NVEC; v++)
		if (v != 2 && v != 8 && v != 18)	/* NMI, #DF, #MC: the runtime's report */
			idt_set_handler(v, on_exception);
	idt_set_handler(1, on_debug);
	uint64_t cr4;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | CR4_TSD));
	vm_switch(&as);

	for (unsigned p = 0; p < PAGES; p++) {
		uint64_t *c = (uint64_t *)(uintptr_t)code, *s = (uint64_t *)(uintptr_t)stack;
		for (unsigned i = 0; i < PAGE_SIZE / 8; i++) {
			c[i] = guest_xorshift64(&rng);
			s[i] = 0;
		}
		steps_now = 0;
		dr_enter_user(CODE_VA + (guest_xorshift64(&rng) & (PAGE_SIZE - 1)), STACK_VA + PAGE_SIZE / 2);
	}

	write_cr3(read_cr3());	/* back on the kernel's own tables below */
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
	unsigned total = by_limit;
	for (unsigned v = 0; v < NVEC; v++)
		total += ended[v];
	guest_printf("dos_random: %u pages of random code in ring 3, TF=1, at most %u steps each\n",
		     PAGES, STEPS);
	guest_check("every page ended, by an exception or the step limit, in ring 3",
		    total == PAGES && not_ring3 == 0);
	if (guest_cmdline_has("histogram")) {
		guest_printf("histogram: steps %lu, step limit %u", steps_total, by_limit);
		for (unsigned v = 0; v < NVEC; v++)
			if (ended[v])
				guest_printf(", #%u %u", v, ended[v]);
		guest_printf("\n");
	}
	return guest_check_status();
}
