/*
 * fuzz_wholevm.c — libFuzzer target: a whole VM, through the public API
 * only (include/hvlab/hv.h), running a random code page for a bounded
 * number of instructions under each backend and MMU strategy built in.
 *
 * Input layout: byte 0: bits 2:0 pick the (backend, MMU) pair among those
 * built in (index mod their number; hv_backends() x hv_mmus()); bits 4:3
 * the mode the vcpu starts in: 64-bit (identity page tables: 4 KiB pages
 * over the 2 MiB of RAM, 2 MiB pages up to 1 GiB, so anything above RAM
 * is MMIO; the tables are in RAM, the code may rewrite them), 32-bit
 * protected (flat, paging off), real mode, or 64-bit at CPL 3 (every
 * page a user page); bit 5: dirty logging on RAM, read after every exit
 * (write protection under every MMU); bit 6: a second, read-only region
 * at 2 MiB (writes exit as MMIO); bit 7: the IDT covers a page of RAM
 * (else its limit is 0 and any exception shuts down). Bytes 1-16 seed
 * RAX..RDI and R8..R15 pairwise (byte b gives 0x0101.. * b); the rest is
 * code at gpa 0x10000 (16 KiB at most), where RIP starts.
 *
 * The run: hv_run with run.max_insns = MAX_INSNS, answering IN and MMIO
 * reads with all ones, until HLT, SHUTDOWN, DEADLINE, INTERNAL_ERROR,
 * FAIL_ENTRY or DEBUG, or until MAX_EXITS I/O and MMIO exits were
 * answered (the guest would go on; the bound keeps executions fast).
 *
 * Oracle: the sanitizers; every hv_* call returns 0 or a negative errno
 * (-4095..-1), the setup calls 0; every exit reason is one of enum
 * hv_exit_reason and run.insns never passes the bound by more than the
 * one instruction in flight (a REP string counts once); the VM always
 * ends (libFuzzer's -timeout); hv_vm_destroy frees everything
 * (LeakSanitizer checks every input).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hvlab/hv.h"

#define RAM		(2ull << 20)
#define CODE_GPA	0x10000ull
#define CODE_MAX	0x4000u
#define GDT_GPA		0x1000ull
#define IDT_GPA		0x3000ull
#define PML4_GPA	0x4000ull
#define PDPT_GPA	0x5000ull
#define PD_GPA		0x6000ull
#define PT_GPA		0x7000ull
#define STACK_TOP	0x80000ull
#define MAX_INSNS	2000u
#define MAX_EXITS	128u	/* VMM exits answered per input: each costs
				 * ~50-150 us under ASan (an emulated MMIO
				 * access), and a guest can take 2 per
				 * instruction; 128 keeps an input < ~20 ms */

#define MAX_PAIRS 8
static const char *pairs[MAX_PAIRS][2];
static unsigned npairs;
static char names[2][128];

/* The (backend, MMU) pairs compiled in. */
static void init_pairs(void)
{
	char *bs[4], *ms[4];
	unsigned nb = 0, nm = 0;
	strncpy(names[0], hv_backends(), sizeof(names[0]) - 1);
	strncpy(names[1], hv_mmus(), sizeof(names[1]) - 1);
	for (char *s = strtok(names[0], " "); s && nb < 4; s = strtok(NULL, " "))
		bs[nb++] = s;
	for (char *s = strtok(names[1], " "); s && nm < 4; s = strtok(NULL, " "))
		ms[nm++] = s;
	for (unsigned b = 0; b < nb; b++)
		for (unsigned m = 0; m < nm && npairs < MAX_PAIRS; m++) {
			pairs[npairs][0] = bs[b];
			pairs[npairs][1] = ms[m];
			npairs++;
		}
	if (!npairs)
		abort();
}

/* 0 or a negative errno: anything else is a broken API contract. */
static int checked(int r)
{
	if (r > 0 || r < -4095)
		__builtin_trap();
	return r;
}

static void must(int r)
{
	if (r)
		__builtin_trap();
}

static struct hv_segment flat(uint16_t sel, uint8_t type, bool code64)
{
	return (struct hv_segment){ .base = 0, .limit = 0xffffffff, .selector = sel,
				    .type = type, .present = 1, .s = 1, .g = 1,
				    .db = !code64, .l = code64 };
}

static void write_tables(struct hv_vm *vm)
{
	static uint64_t pd[512], pt[512];
	/* null, code64, data, code32, user code64, user data */
	const uint64_t gdt[6] = { 0, 0x00af9a000000ffffull, 0x00cf92000000ffffull,
				  0x00cf9a000000ffffull, 0x00affa000000ffffull,
				  0x00cff2000000ffffull };
	const uint64_t pml4 = PDPT_GPA | 7, pdpt = PD_GPA | 7;
	for (unsigned j = 0; j < 512; j++) {
		pd[j] = j ? ((uint64_t)j << 21) | 0x87 : PT_GPA | 7;
		pt[j] = ((uint64_t)j << 12) | 7;
	}
	must(hv_write_guest(vm, GDT_GPA, gdt, sizeof(gdt)));
	must(hv_write_guest(vm, PML4_GPA, &pml4, 8));
	must(hv_write_guest(vm, PDPT_GPA, &pdpt, 8));
	must(hv_write_guest(vm, PD_GPA, pd, sizeof(pd)));
	must(hv_write_guest(vm, PT_GPA, pt, sizeof(pt)));
}

static void set_state(struct hv_vcpu *vcpu, unsigned mode, bool idt, const uint8_t *seed)
{
	struct hv_sregs s;
	must(hv_get_sregs(vcpu, &s));
	if (mode == 2) {		/* real mode: CS:IP = 1000:0000 */
		s.cs.selector = CODE_GPA >> 4;
		s.cs.base = CODE_GPA;
	} else {
		const bool lm = mode != 1;
		s.cs = flat(lm ? 0x08 : 0x18, 0xb, lm);
		s.ds = s.es = s.fs = s.gs = s.ss = flat(0x10, 0x3, false);
		if (mode == 3) {
			s.cs = flat(0x23, 0xb, true);
			s.cs.dpl = 3;
			s.ds = s.es = s.fs = s.gs = s.ss = flat(0x2b, 0x3, false);
			s.ss.dpl = s.ds.dpl = s.es.dpl = s.fs.dpl = s.gs.dpl = 3;
		}
		s.ldt = (struct hv_segment){ .unusable = 1, .type = 2 };
		s.tr = (struct hv_segment){ .limit = 0x67, .type = 11, .present = 1 };
		s.gdt = (struct hv_dtable){ GDT_GPA, 0x2f };
		s.cr0 = lm ? 0x80010031 : 0x11;
		s.cr3 = lm ? PML4_GPA : 0;
		s.cr4 = lm ? 0x20 : 0;
		s.efer = lm ? 0x500 : 0;
	}
	s.idt = (struct hv_dtable){ IDT_GPA, (uint16_t)(idt ? 0xfff : 0) };
	must(hv_set_sregs(vcpu, &s));

	struct hv_regs g = { .rip = mode == 2 ? 0 : CODE_GPA, .rsp = STACK_TOP, .rflags = 2 };
	uint64_t *gpr[] = { &g.rax, &g.rbx, &g.rcx, &g.rdx, &g.rsi, &g.rdi, &g.rbp, &g.r8,
			    &g.r9, &g.r10, &g.r11, &g.r12, &g.r13, &g.r14, &g.r15 };
	for (unsigned i = 0; i < sizeof(gpr) / sizeof(gpr[0]); i++)
		*gpr[i] = 0x0101010101010101ull * seed[i];
	must(hv_set_regs(vcpu, &g));
}

/* Run to an end; true while the next hv_run may go on. */
static bool handle(struct hv_vm *vm, struct hv_run *run, bool dirty)
{
	static uint8_t bitmap[RAM / 4096 / 8];
	if (dirty)
		must(hv_get_dirty_log(vm, 0, bitmap, sizeof(bitmap)));
	if (run->insns > MAX_INSNS + 1)
		__builtin_trap();
	switch (run->exit_reason) {
	case HV_EXIT_IO:
		if (run->io.size != 1 && run->io.size != 2 && run->io.size != 4)
			__builtin_trap();
		if (run->io.direction == HV_EXIT_IO_IN)
			memset(run->io.data, 0xff, sizeof(run->io.data));
		return true;
	case HV_EXIT_MMIO:
		/* 1..8: an access that crosses into a second page goes
		 * out one page's part at a time (core/emulate.c). */
		if (run->mmio.len < 1 || run->mmio.len > 8)
			__builtin_trap();
		if (!run->mmio.is_write)
			memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
		return true;
	case HV_EXIT_HLT:
	case HV_EXIT_SHUTDOWN:
	case HV_EXIT_FAIL_ENTRY:
	case HV_EXIT_INTERNAL_ERROR:
	case HV_EXIT_DEADLINE:
	case HV_EXIT_DEBUG:
		return false;
	default:	/* UNKNOWN, INTR, VMM: nothing here asks for them */
		__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!npairs)
		init_pairs();
	if (size < 17)
		return 0;
	const uint8_t b0 = data[0];
	const unsigned mode = (b0 >> 3) & 3;
	const bool dirty = b0 & 0x20, rom = b0 & 0x40, idt = b0 & 0x80;
	const struct hv_vm_config cfg = {
		.backend = pairs[(b0 & 7) % npairs][0],
		.mmu = pairs[(b0 & 7) % npairs][1],
		.max_mem = 4ull << 20,
	};

	struct hv_vm *vm;
	struct hv_vcpu *vcpu;
	must(hv_vm_create(&cfg, &vm));
	const struct hv_memory_region ram = { .slot = 0, .gpa = 0, .size = RAM,
					      .flags = dirty ? HV_MEM_LOG_DIRTY_PAGES : 0 };
	must(hv_set_memory_region(vm, &ram));
	if (rom) {
		const struct hv_memory_region r = { .slot = 1, .gpa = RAM, .size = 0x10000,
						    .flags = HV_MEM_READONLY };
		must(hv_set_memory_region(vm, &r));
		must(hv_write_guest(vm, RAM, data, size < 0x10000 ? size : 0x10000));
	}
	must(hv_vcpu_create(vm, 0, &vcpu));
	write_tables(vm);
	size_t ncode = size - 17 < CODE_MAX ? size - 17 : CODE_MAX;
	if (ncode)
		must(hv_write_guest(vm, CODE_GPA, data + 17, ncode));
	set_state(vcpu, mode, idt, data + 1);

	struct hv_run run = { .max_insns = MAX_INSNS };
	for (unsigned i = 0; i < MAX_EXITS; i++) {
		if (checked(hv_run(vcpu, &run)))
			break;
		if (!handle(vm, &run, dirty))
			break;
	}
	hv_vm_destroy(vm);
	return 0;
}
