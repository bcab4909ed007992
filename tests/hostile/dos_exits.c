/*
 * dos_exits.c — every VM-exiting instruction in a tight loop (issue 8,
 * denial).
 *
 * Under VT-x these exit unconditionally or under the controls hvlab sets
 * (SDM Vol. 3C 26.1.2, 26.1.3; docs/backend-vmx.md "Intercepts"), under
 * AMD-V under its intercept vectors (APM Vol. 2 15.9-15.13;
 * docs/backend-svm.md); the shadow MMUs add CR3 loads and stores, INVLPG
 * and #PF. A guest made only of them makes hvlab do all the work. Each
 * runs N = 10,000 times (HLT 1,000 times), and each loop checks what the
 * architecture says the instruction does, so the same lines come out of
 * QEMU TCG:
 *
 *   CPUID leaf 0 (Vol. 2A CPUID): the same four registers every time.
 *   RDMSR/WRMSR of IA32_PAT (277H, Vol. 3A 12.12.2): written back
 *     unchanged, read back unchanged.
 *   INVLPG (Vol. 2A), MOV to CR3 of its own value (4.10.4.1), MOV from
 *     CR3, MOV to CR0 and CR4 of their own values, CLTS (CR0.TS is 0),
 *     LMSW of CR0's own low bits, MOV from and to CR8 (TPR 0, 11.8.3.1)
 *     and DR7 (0x400 after reset, 17.2.4): state unchanged, the code
 *     keeps running from the same identity map.
 *   HLT (Vol. 2A HLT, 3A 11.5.4): a one-shot local APIC timer wakes it,
 *     1,000 times, each time exactly one interrupt.
 *   PAUSE; RDTSC: never goes backwards on one processor (3A 18.17).
 *   INVD, WBINVD: memory unchanged (a write before stays: the model and
 *     QEMU keep no caches that INVD could discard; real hardware could
 *     lose dirty lines, which is why nothing depends on them here).
 *   RDPMC with ECX = 0: reads counter 0 on AMD (legacy PerfCtr0-3, APM
 *     Vol. 3 RDPMC); #GP(0) on an Intel CPU whose CPUID.0AH reports no
 *     counters (Vol. 2B RDPMC). QEMU TCG raises #UD instead: deviation
 *     in docs/qemu-deviations.md, dos_exits.qemu.expect.
 *   XSETBV, MONITOR/MWAIT: run in the loop only if CPUID.01H:ECX says
 *     they exist (XSAVE bit 26, then with CR4.OSXSAVE; MONITOR bit 3).
 *     Without XSAVE, XSETBV must raise #UD (Vol. 2B XSETBV). Neither
 *     runner offers MONITOR (hvlab hides it, docs/core.md), so that
 *     loop is skipped; neither offers XSAVE, so #UD is checked.
 *   VMCALL and VMMCALL: what they do depends on the hypervisor below
 *     (KVM's ABI returns -ENOSYS in RAX; a bare CPU raises #UD, Vol. 3C
 *     31.3 VMCALL, APM Vol. 3 VMMCALL); the guest checks only that all
 *     10,000 of each behaved the same way and that it kept running.
 *   INT3, UD2, #PF (a read of unmapped 8 GiB), #GP (a read of a
 *     non-canonical address): each handled and resumed after the
 *     instruction, 10,000 times (3A 6.15: #BP trap, #UD/#PF/#GP faults
 *     with their error codes and CR2).
 *
 * tests/run/hostile.sh checks hvlab's exit counters for this guest.
 *
 * Expected serial output: tests/hostile/dos_exits.expect.
 * Expected exit status: 1
 * Expected exit status on QEMU: 3
 */
#include "guests/guest.h"

#define N		10000u
#define N_HLT		1000u
#define MSR_PAT		0x277

/* Faults: the handler counts the vector and resumes at resume_rip. */
static volatile uint64_t resume_rip;
static volatile unsigned faults[32];
static volatile uint64_t last_error, last_cr2;

static void on_fault(struct guest_frame *f)
{
	faults[f->vector & 31]++;
	last_error = f->error_code;
	if (f->vector == 14)
		last_cr2 = read_cr2();
	f->rip = resume_rip;
}

static void reset_faults(void)
{
	for (unsigned i = 0; i < 32; i++)
		faults[i] = 0;
}

/* Runs @insn (asm text) once with resume_rip at the label after it; the
 * instructions may write RAX, RCX, RDX. */
#define TRY(insn)							\
	__asm__ volatile("lea 1f(%%rip), %%r11\n\t"			\
			 "mov %%r11, %0\n\t"				\
			 insn "\n1:"					\
			 : "=m"(resume_rip) : : "rax", "rcx", "rdx", "r11", "memory")

static void loop_cpuid(void)
{
	uint32_t first[4], r[4];
	unsigned diff = 0;
	cpuid(0, 0, first);
	for (unsigned i = 0; i < N; i++) {
		cpuid(0, 0, r);
		diff += r[0] != first[0] || r[1] != first[1] || r[2] != first[2] || r[3] != first[3];
	}
	guest_printf("cpuid x %u: answers that differ from the first: %u\n", N, diff);
}

static void loop_msr(void)
{
	const uint64_t pat = msr_read(MSR_PAT);
	unsigned diff = 0;
	for (unsigned i = 0; i < N; i++) {
		msr_write(MSR_PAT, pat);
		diff += msr_read(MSR_PAT) != pat;
	}
	guest_printf("wrmsr+rdmsr IA32_PAT x %u: read-backs that changed: %u\n", N, diff);
}

static void loop_tlb_cr(void)
{
	static volatile uint64_t word = 0x1234;
	const uint64_t cr0 = read_cr0(), cr3 = read_cr3(), cr4 = read_cr4();
	unsigned diff = 0;
	for (unsigned i = 0; i < N; i++) {
		invlpg(&word);
		diff += word != 0x1234;
	}
	guest_printf("invlpg x %u: reads after it that changed: %u\n", N, diff);
	diff = 0;
	for (unsigned i = 0; i < N; i++) {
		write_cr3(cr3);
		diff += read_cr3() != cr3 || word != 0x1234;
	}
	guest_printf("mov cr3 (reload) + mov from cr3 x %u: changes: %u\n", N, diff);
	diff = 0;
	for (unsigned i = 0; i < N; i++) {
		__asm__ volatile("mov %0, %%cr0" : : "r"(cr0) : "memory");
		__asm__ volatile("mov %0, %%cr4" : : "r"(cr4) : "memory");
		diff += read_cr0() != cr0 || read_cr4() != cr4;
	}
	guest_printf("mov to cr0 and cr4, unchanged, x %u: changes: %u\n", N, diff);
	diff = 0;
	for (unsigned i = 0; i < N; i++) {
		uint64_t cr8, dr7;
		__asm__ volatile("clts\n\tlmsw %w0" : : "r"(cr0) : "memory");
		__asm__ volatile("mov %%cr8, %0\n\tmov %0, %%cr8" : "=r"(cr8) : : "memory");
		__asm__ volatile("mov %%dr7, %0\n\tmov %0, %%dr7" : "=r"(dr7) : : "memory");
		diff += read_cr0() != cr0 || cr8 != 0 || dr7 != 0x400;
	}
	guest_printf("clts, lmsw, mov cr8 and dr7, unchanged, x %u: changes: %u\n", N, diff);
}

static void loop_hlt(void)
{
	unsigned extra = 0, failed = 0;
	pic_init();		/* the firmware's 8259 tick must not wake it */
	if (lapic_init()) {
		guest_printf("hlt: no local APIC\n");
		guest_check_fail();
		return;
	}
	for (unsigned i = 0; i < N_HLT; i++) {
		if (lapic_timer_start(LAPIC_ONESHOT, 1, 2000, 0)) {
			failed++;
			break;
		}
		while (lapic_timer_ticks() == 0)
			__asm__ volatile("sti; hlt; cli" : : : "memory");
		extra += lapic_timer_ticks() != 1;
	}
	lapic_timer_stop();
	guest_printf("hlt x %u, each woken by a one-shot APIC timer: wrong wake-ups: %u%s\n",
		     N_HLT, extra, failed ? " (timer failed)" : "");
}

static void loop_pause_rdtsc(void)
{
	uint64_t prev = 0;
	unsigned back = 0;
	for (unsigned i = 0; i < N; i++) {
		uint32_t lo, hi;
		__asm__ volatile("pause; rdtsc" : "=a"(lo), "=d"(hi));
		const uint64_t t = (uint64_t)hi << 32 | lo;
		back += t < prev;
		prev = t;
	}
	guest_printf("pause + rdtsc x %u: times the TSC went back: %u\n", N, back);
}

static void loop_caches(void)
{
	static volatile uint64_t word;
	unsigned diff = 0;
	for (unsigned i = 0; i < N; i++) {
		word = i;
		__asm__ volatile("invd" : : : "memory");
		diff += word != i;
		__asm__ volatile("wbinvd" : : : "memory");
		diff += word != i;
	}
	guest_printf("invd + wbinvd x %u: memory that changed: %u\n", N, diff);
}

/* What RDPMC with ECX = 0 does at CPL 0: AMD64 processors have the
 * legacy PerfCtr0-3 (APM Vol. 3 RDPMC), so it reads counter 0; an Intel
 * processor whose CPUID.0AH:EAX[7:0] (architectural performance
 * monitoring version) is 0 has no counter 0: #GP(0) (SDM Vol. 2B RDPMC).
 * QEMU TCG raises #UD for every RDPMC it does not fault otherwise
 * (docs/qemu-deviations.md). */
static void loop_rdpmc(void)
{
	uint32_t r[4];
	cpuid(0, 0, r);
	const bool amd = r[1] == 0x68747541u;		/* "Auth" */
	bool counters = amd;
	if (!amd && r[0] >= 0xa) {
		cpuid(0xa, 0, r);
		counters = (r[0] & 0xff) != 0 && ((r[0] >> 8) & 0xff) != 0;
	}
	reset_faults();
	for (unsigned i = 0; i < N; i++)
		TRY("xor %%ecx, %%ecx\n\trdpmc");
	unsigned right = 0;
	if (counters)
		right = faults[13] == 0 && faults[6] == 0 ? N : 0;
	else
		right = faults[6] == 0 && last_error == 0 ? faults[13] : 0;
	guest_printf("rdpmc ecx=0 x %u: as CPUID says (counter 0 read, or #GP(0) without "
		     "counters): %u\n", N, right);
	if (right != N)
		guest_check_fail();
}

static void loop_xsetbv(const uint32_t leaf1[4])
{
	if (!(leaf1[2] & (1u << 26))) {
		reset_faults();
		for (unsigned i = 0; i < N; i++)
			TRY("xor %%ecx, %%ecx\n\tmov $1, %%eax\n\txor %%edx, %%edx\n\txsetbv");
		guest_printf("xsetbv: no XSAVE in CPUID; x %u: #UD %u\n", N, faults[6]);
		return;
	}
	const uint64_t cr4 = read_cr4();
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | (1u << 18)));	/* OSXSAVE */
	unsigned diff = 0;
	for (unsigned i = 0; i < N; i++) {
		uint32_t lo, hi;
		__asm__ volatile("xsetbv" : : "c"(0), "a"(1), "d"(0));		/* XCR0 = x87 */
		__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
		diff += lo != 1 || hi != 0;
	}
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
	guest_printf("xsetbv XCR0=1 x %u: read-backs that differ: %u\n", N, diff);
}

static void loop_monitor(const uint32_t leaf1[4])
{
	static volatile uint64_t line;
	if (!(leaf1[2] & (1u << 3))) {
		guest_printf("monitor/mwait: not in CPUID, not run\n");
		return;
	}
	for (unsigned i = 0; i < N; i++) {
		__asm__ volatile("monitor" : : "a"(&line), "c"(0), "d"(0));
		__asm__ volatile("mwait" : : "a"(0), "c"(0));
	}
	guest_printf("monitor + mwait x %u: returned\n", N);
}

static void loop_hypercalls(void)
{
	static const char *const names[2] = { "vmcall", "vmmcall" };
	for (unsigned k = 0; k < 2; k++) {
		unsigned returned;
		reset_faults();
		for (unsigned i = 0; i < N; i++) {
			if (k == 0)
				TRY("xor %%eax, %%eax\n\tvmcall");
			else
				TRY("xor %%eax, %%eax\n\tvmmcall");
		}
		returned = N - faults[6];
		const bool same = returned == N || faults[6] == N;
		guest_printf("%s x %u: all alike (returned, or #UD): %s\n", names[k], N,
			     same ? "yes" : "NO");
		if (!same)
			guest_check_fail();
	}
}

static void loop_exceptions(void)
{
	reset_faults();
	for (unsigned i = 0; i < N; i++)
		TRY("int3");
	guest_printf("int3 x %u: #BP %u\n", N, faults[3]);
	for (unsigned i = 0; i < N; i++)
		TRY("ud2");
	guest_printf("ud2 x %u: #UD %u\n", N, faults[6]);
	for (unsigned i = 0; i < N; i++)
		TRY("movabs $0x200000000, %%rax\n\tmov (%%rax), %%rax");
	guest_printf("read of 8 GiB x %u: #PF %u, error code %lu, cr2 0x%lx\n", N, faults[14],
		     last_error, last_cr2);
	for (unsigned i = 0; i < N; i++)
		TRY("movabs $0x8000000000000000, %%rax\n\tmov (%%rax), %%rax");
	guest_printf("read of a non-canonical address x %u: #GP %u, error code %lu\n", N,
		     faults[13], last_error);
}

int guest_main(void)
{
	uint32_t leaf1[4];
	cpuid(1, 0, leaf1);
	for (unsigned v = 0; v < 32; v++)
		if (v != 1 && v != 2 && v != 8 && v != 18)
			idt_set_handler(v, on_fault);

	loop_cpuid();
	loop_msr();
	loop_tlb_cr();
	loop_pause_rdtsc();
	loop_caches();
	loop_rdpmc();
	loop_xsetbv(leaf1);
	loop_monitor(leaf1);
	loop_hypercalls();
	loop_exceptions();
	loop_hlt();
	return guest_check_status();
}
