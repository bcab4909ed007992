/*
 * test_backend_svm.c — the AMD-V backend (backends/svm) end to end,
 * through the public API only (include/hvlab/hv.h): VMs with
 * cfg.backend = "svm" and cfg.mmu = "tdp" (nested paging), guests written
 * with hv_write_guest, state set with hv_set_sregs/hv_set_regs.
 *
 * Expected values are x86's, written as literals from the manuals:
 * the RESET state from SDM Vol. 3A 9.1.1 Table 9-1 (APM Vol. 2 14.1.3),
 * I/O exit fields from the instruction (port, width, direction), where an
 * exception handler's return address points (SDM Vol. 3A 6.5, 6.12),
 * when an interrupt after STI is taken (SDM Vol. 2B STI), a triple fault
 * (6.15, Interrupt 8), and the APM's EXITCODEs (Appendix C).
 *
 * The guests are hand-assembled; each byte array names its instructions.
 * The guest-physical layout is test_backend_svm.h's; the debug-register
 * and CR2 tests are in test_backend_svm_debug.c.
 */
#include <string.h>

#include "tests/unit/test_backend_svm.h"

/* ------------------------------------------------------------ guests */

/* Real mode, at F000:FF00 (gpa 0xffffff00). */
static const uint8_t rm_io[] = {
	0xb0, 0x42,		/* mov al, 0x42 */
	0xe6, 0x80,		/* out 0x80, al */
	0xe4, 0x71,		/* in al, 0x71 */
	0xe6, 0x80,		/* out 0x80, al */
	0xb8, 0x34, 0x12,	/* mov ax, 0x1234 */
	0xba, 0x00, 0x05,	/* mov dx, 0x500 */
	0xef,			/* out dx, ax */
	0xf4,			/* hlt */
};

static const uint8_t rm_reset[] = {
	0x66, 0x89, 0xd6,			/* mov esi, edx */
	0x66, 0xb8, 0x01, 0x00, 0x00, 0x00,	/* mov eax, 1 */
	0x0f, 0xa2,				/* cpuid */
	0x66, 0x89, 0xc7,			/* mov edi, eax */
	0x66, 0xb9, 0x77, 0x02, 0x00, 0x00,	/* mov ecx, 0x277 (IA32_PAT) */
	0x0f, 0x32,				/* rdmsr */
	0xf4,					/* hlt */
};

/* 32-bit protected mode, at CODE + offset. */
static const uint8_t pm_io[] = {
	0xb8, 0xef, 0xbe, 0xad, 0xde,		/* mov eax, 0xdeadbeef */
	0xe7, 0x80,				/* out 0x80, eax */
	0xc7, 0x05, 0x00, 0x00, 0x00, 0xd0,	/* mov dword [0xd0000000], */
	0xbe, 0xba, 0xfe, 0xca,			/*     0xcafebabe */
	0xa1, 0x10, 0x00, 0x00, 0xd0,		/* mov eax, [0xd0000010] */
	0xe7, 0x80,				/* out 0x80, eax */
	0xf4,					/* hlt */
};

static const uint8_t pm_ud2[] = { 0x0f, 0x0b };			/* ud2 */
static const uint8_t pm_vmrun[] = { 0x0f, 0x01, 0xd8, 0xf4 };	/* vmrun; hlt */
static const uint8_t pm_clgi[] = { 0x0f, 0x01, 0xdd, 0xf4 };	/* clgi; hlt */

/* Each event's delivery pushes onto a stack page of its own (FRESH_*). */
static const uint8_t pm_int[] = {
	0xcd, 0x30,				/* 0x0: int 0x30 */
	0xbc, 0x00, 0x30, 0x20, 0x00,		/* 0x2: mov esp, 0x203000 */
	0xcc,					/* 0x7: int3 */
	0xbc, 0x00, 0x40, 0x20, 0x00,		/* 0x8: mov esp, 0x204000 */
	0x66, 0xb8, 0x34, 0x12,			/* 0xd: mov ax, 0x1234 */
	0x8e, 0xd8,				/* 0x11: mov ds, ax  -> #GP(0x1234) */
	0xf4,					/* 0x13: hlt */
};

static const uint8_t pm_sti[] = {
	0xfa,			/* 0: cli */
	0xe6, 0x80,		/* 1: out 0x80, al */
	0xfb,			/* 3: sti */
	0x90,			/* 4: nop (in the STI shadow) */
	0x90,			/* 5: nop */
	0xeb, 0xfe,		/* 6: jmp $ */
};

static const uint8_t pm_msr[] = {
	0xb9, 0x74, 0x01, 0x00, 0x00,	/* mov ecx, 0x174 (SYSENTER_CS) */
	0xb8, 0x34, 0x12, 0x00, 0x00,	/* mov eax, 0x1234 */
	0x31, 0xd2,			/* xor edx, edx */
	0x0f, 0x30,			/* wrmsr */
	0xe6, 0x80,			/* out 0x80, al */
	0xb9, 0x74, 0x01, 0x00, 0x00,	/* mov ecx, 0x174 */
	0x0f, 0x32,			/* rdmsr */
	0xe7, 0x80,			/* out 0x80, eax */
	0xb9, 0x80, 0x00, 0x00, 0xc0,	/* mov ecx, 0xc0000080 (EFER) */
	0x0f, 0x32,			/* rdmsr */
	0xe7, 0x80,			/* out 0x80, eax */
	0xf4,				/* hlt */
};

static const uint8_t pm_pat[] = {
	0xb9, 0x77, 0x02, 0x00, 0x00,	/* 0x00: mov ecx, 0x277 (IA32_PAT) */
	0xb8, 0x01, 0x04, 0x07, 0x00,	/* 0x05: mov eax, 0x00070401 (PA0 = WC) */
	0xba, 0x06, 0x04, 0x07, 0x00,	/* 0x0a: mov edx, 0x00070406 */
	0x0f, 0x30,			/* 0x0f: wrmsr */
	0x0f, 0x32,			/* 0x11: rdmsr */
	0xe7, 0x80,			/* 0x13: out 0x80, eax */
	0xb8, 0x02, 0x04, 0x07, 0x00,	/* 0x15: mov eax, 0x00070402 (PA0 = 2) */
	0x0f, 0x30,			/* 0x1a: wrmsr -> #GP(0) */
	0xf4,				/* 0x1c: hlt */
};

/* Handlers (32-bit). */
#define H_UD (CODE + 0x100)
static const uint8_t h_ud[] = {
	0x8b, 0x04, 0x24,	/* mov eax, [esp]   ; the faulting EIP */
	0xe7, 0x81,		/* out 0x81, eax */
	0xf4,			/* hlt */
};

#define H_INT (CODE + 0x110)
static const uint8_t h_int[] = {
	0xff, 0x05, 0x00, 0x80, 0x00, 0x00,	/* inc dword [0x8000] */
	0x8b, 0x04, 0x24,			/* mov eax, [esp]   ; return EIP */
	0xe7, 0x82,				/* out 0x82, eax */
	0xcf,					/* iret */
};

#define H_GP (CODE + 0x130)
static const uint8_t h_gp[] = {
	0xff, 0x05, 0x04, 0x80, 0x00, 0x00,	/* inc dword [0x8004] */
	0x58,					/* pop eax          ; error code */
	0xe7, 0x83,				/* out 0x83, eax */
	0x83, 0x04, 0x24, 0x02,			/* add dword [esp], 2 ; past mov ds */
	0xcf,					/* iret */
};

#define H_IRQ (CODE + 0x150)
static const uint8_t h_irq[] = {
	0x8b, 0x04, 0x24,	/* mov eax, [esp]   ; interrupted EIP */
	0xe7, 0x84,		/* out 0x84, eax */
	0xfa,			/* cli */
	0xf4,			/* hlt */
};

/* 64-bit mode. */
static const uint8_t lm_main[] = {
	0x48, 0xb8, 0x88, 0x77, 0x66, 0x55,	/* mov rax, 0x1122334455667788 */
	0x44, 0x33, 0x22, 0x11,
	0x48, 0x89, 0x04, 0x25, 0x00, 0x30,	/* mov [0x3000], rax */
	0x00, 0x00,
	0xb9, 0x00, 0x01, 0x00, 0xc0,		/* mov ecx, 0xc0000100 (FS_BASE) */
	0xb8, 0x00, 0x50, 0x00, 0x00,		/* mov eax, 0x5000 */
	0x31, 0xd2,				/* xor edx, edx */
	0x0f, 0x30,				/* wrmsr */
	0xe6, 0x80,				/* out 0x80, al */
	0x64, 0x48, 0x8b, 0x34, 0x25, 0x08,	/* mov rsi, fs:[0x8] */
	0x00, 0x00, 0x00,
	0xb9, 0x00, 0x01, 0x00, 0xc0,		/* mov ecx, 0xc0000100 */
	0x0f, 0x32,				/* rdmsr */
	0xe7, 0x80,				/* out 0x80, eax */
	0xb9, 0x80, 0x00, 0x00, 0xc0,		/* mov ecx, 0xc0000080 (EFER) */
	0x0f, 0x32,				/* rdmsr */
	0xe7, 0x80,				/* out 0x80, eax */
	0x31, 0xc0,				/* xor eax, eax */
	0x0f, 0xa2,				/* cpuid */
	0xf4,					/* hlt */
};

/* The RESET vector F000:FFF0 (gpa 0xfffffff0): jmp near to F000:@ip. */
static void reset_jump(struct hvg *t, uint16_t ip)
{
	const uint16_t rel = (uint16_t)(ip - 0xfff3);
	const uint8_t jmp[] = { 0xe9, (uint8_t)rel, (uint8_t)(rel >> 8) };
	hvg_load(t, 0xfffffff0ull, jmp, sizeof(jmp));
}

/* ------------------------------------------------------------ tests */

/* SDM Vol. 3A Table 9-1, read back before the first run. */
static void test_reset_state(void **state)
{
	struct hvg *t = *state;
	struct hv_sregs s;
	const struct hv_regs r = hvg_regs(t);

	assert_int_equal(hv_get_sregs(t->vcpu, &s), 0);
	assert_int_equal(r.rip, 0xfff0);
	assert_int_equal(r.rflags, 0x2);
	assert_int_equal(s.cs.selector, 0xf000);
	assert_int_equal(s.cs.base, 0xffff0000);
	assert_int_equal(s.cs.limit, 0xffff);
	assert_true(s.cs.present && s.cs.s);
	assert_int_equal(s.cs.type & 0xb, 0xb);		/* code, readable, accessed */
	const struct hv_segment *data[] = { &s.ds, &s.es, &s.ss, &s.fs, &s.gs };
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(data[i]->selector, 0);
		assert_int_equal(data[i]->base, 0);
		assert_int_equal(data[i]->limit, 0xffff);
		assert_int_equal(data[i]->type, 0x3);	/* read/write, accessed */
		assert_true(data[i]->present && data[i]->s);
	}
	assert_int_equal(s.gdt.base, 0);
	assert_int_equal(s.gdt.limit, 0xffff);
	assert_int_equal(s.idt.base, 0);
	assert_int_equal(s.idt.limit, 0xffff);
	assert_int_equal(s.ldt.selector, 0);
	assert_int_equal(s.ldt.limit, 0xffff);
	assert_int_equal(s.ldt.type, 0x2);		/* LDT */
	assert_true(s.ldt.present);
	assert_int_equal(s.tr.selector, 0);
	assert_int_equal(s.tr.limit, 0xffff);
	assert_true(s.tr.type == 0x3 || s.tr.type == 0xb);	/* busy TSS */
	assert_true(s.tr.present);
	assert_int_equal(s.cr0, 0x60000010);
	assert_int_equal(s.cr2, 0);
	assert_int_equal(s.cr3, 0);
	assert_int_equal(s.cr4, 0);
	assert_int_equal(s.efer, 0);
	assert_int_not_equal(r.rdx, 0);			/* the processor's signature */
	assert_int_equal(r.rax, 0);
}

/*
 * The RESET state as the guest sees it: EDX holds CPUID.1.EAX, and
 * IA32_PAT is 0007040600070406 (SDM Vol. 3A 12.12.4); real mode runs
 * natively. HLT with IF = 0 (RFLAGS = 2 at RESET) ends the run.
 */
static void test_reset_guest(void **state)
{
	struct hvg *t = *state;
	hvg_load(t, 0xffffff40ull, rm_reset, sizeof(rm_reset));
	reset_jump(t, 0xff40);
	hvg_expect_exit(t, HV_EXIT_HLT);
	const struct hv_regs r = hvg_regs(t);
	assert_int_equal(r.rsi & 0xffffffff, r.rdi & 0xffffffff);
	assert_int_equal(r.rax & 0xffffffff, 0x00070406);
	assert_int_equal(r.rdx & 0xffffffff, 0x00070406);
	assert_int_equal(r.rip, 0xff40 + sizeof(rm_reset));	/* past the HLT */
}

/* Real-mode port I/O from the RESET vector: OUT with its data, IN
 * completed on re-entry, a 16-bit OUT through DX. */
static void test_real_mode_io(void **state)
{
	struct hvg *t = *state;
	hvg_load(t, 0xffffff00ull, rm_io, sizeof(rm_io));
	reset_jump(t, 0xff00);

	hvg_expect_io(t, 0x80, HV_EXIT_IO_OUT, 1, 0x42);
	struct hv_run *r = hvg_expect_exit(t, HV_EXIT_IO);
	assert_int_equal(r->io.direction, HV_EXIT_IO_IN);
	assert_int_equal(r->io.port, 0x71);
	assert_int_equal(r->io.size, 1);
	r->io.data[0] = 0x99;
	hvg_expect_io(t, 0x80, HV_EXIT_IO_OUT, 1, 0x99);
	hvg_expect_io(t, 0x500, HV_EXIT_IO_OUT, 2, 0x1234);
	hvg_expect_exit(t, HV_EXIT_HLT);
}

/* 32-bit protected mode: a 32-bit OUT, then MMIO to a gpa no memory
 * region covers (write with its data, read completed on re-entry). */
static void test_protected_mode_io_mmio(void **state)
{
	struct hvg *t = *state;
	set_mode(t, false, IDT, 0x7ff);
	hvg_load(t, CODE, pm_io, sizeof(pm_io));
	hvg_start_at(t, CODE, STACK_TOP);

	hvg_expect_io(t, 0x80, HV_EXIT_IO_OUT, 4, 0xdeadbeef);
	hvg_expect_mmio_write(t, 0xd0000000, 4, 0xcafebabe);
	hvg_expect_mmio_read(t, 0xd0000010, 4, 0x13572468);
	hvg_expect_io(t, 0x80, HV_EXIT_IO_OUT, 4, 0x13572468);
	hvg_expect_exit(t, HV_EXIT_HLT);
}

/*
 * 64-bit mode under nested paging: a store lands in guest memory, FS_BASE
 * (a guest-owned MSR, VMLOAD/VMSAVE state) keeps its value across an
 * exit and addresses FS, EFER reads LME | LMA (0x500, no SVME: the guest
 * has no SVM), and CPUID leaf 0 says AuthenticAMD.
 */
static void test_long_mode(void **state)
{
	struct hvg *t = *state;
	set_mode(t, true, IDT, 0xfff);
	hvg_load(t, CODE, lm_main, sizeof(lm_main));
	hvg_put64(t, 0x5008, 0xfeedface12345678ull);
	hvg_start_at(t, CODE, STACK_TOP);

	hvg_expect_io(t, 0x80, HV_EXIT_IO_OUT, 1, 0x00);		/* AL of 0x5000 */
	hvg_expect_io(t, 0x80, HV_EXIT_IO_OUT, 4, 0x5000);
	hvg_expect_io(t, 0x80, HV_EXIT_IO_OUT, 4, 0x500);
	hvg_expect_exit(t, HV_EXIT_HLT);

	const struct hv_regs r = hvg_regs(t);
	assert_int_equal(r.rsi, 0xfeedface12345678ull);	/* [FS.base + 8] */
	/* "Auth" "enti" "cAMD" in EBX, EDX, ECX (APM Vol. 3 CPUID Fn0000_0000),
	 * zero-extended in 64-bit mode. */
	assert_int_equal(r.rbx, 0x68747541);
	assert_int_equal(r.rcx, 0x444d4163);
	assert_int_equal(r.rdx, 0x69746e65);
	uint64_t stored = 0;
	assert_int_equal(hv_read_guest(t->vm, 0x3000, &stored, 8), 0);
	assert_int_equal(stored, 0x1122334455667788ull);

	struct hv_sregs s;
	assert_int_equal(hv_get_sregs(t->vcpu, &s), 0);
	assert_int_equal(s.efer & 0x500, 0x500);
	assert_int_equal(s.efer & (1u << 12), 0);	/* SVME stays the host's */
	assert_true(s.cs.l);
}

/* #UD with IDT limit 0: the #UD cannot be delivered (#GP), nor can the
 * #GP (#DF), nor the #DF: a triple fault, the processor shuts down. */
static void test_triple_fault(void **state)
{
	struct hvg *t = *state;
	set_mode(t, false, IDT, 0);
	hvg_load(t, CODE + 0x40, pm_ud2, sizeof(pm_ud2));
	hvg_start_at(t, CODE + 0x40, STACK_TOP);
	hvg_expect_exit(t, HV_EXIT_SHUTDOWN);
}

/* SVM instructions in the guest raise #UD in the guest (no nested SVM):
 * the handler runs with the faulting EIP, the instruction's address. */
static void svm_insn_ud(struct hvg *t, const uint8_t *insn, size_t len)
{
	set_mode(t, false, IDT, 0x7ff);
	gate32(t, IDT, 6, H_UD);
	hvg_load(t, H_UD, h_ud, sizeof(h_ud));
	hvg_load(t, CODE + 0x50, insn, len);
	hvg_start_at(t, CODE + 0x50, STACK_TOP);
	hvg_expect_io(t, 0x81, HV_EXIT_IO_OUT, 4, CODE + 0x50);
	hvg_expect_exit(t, HV_EXIT_HLT);
}

static void test_vmrun_in_guest_is_ud(void **state)
{
	svm_insn_ud(*state, pm_vmrun, sizeof(pm_vmrun));
}

static void test_clgi_in_guest_is_ud(void **state)
{
	svm_insn_ud(*state, pm_clgi, sizeof(pm_clgi));
}

/*
 * Events whose delivery the processor had to abandon. The IDT and the
 * three stacks are 4 KiB memory regions of their own (no large nested
 * page can cover them) that the guest has not touched, so under nested
 * paging the first delivery of INT 0x30, of INT3 and of #GP(0x1234)
 * each hits a nested page fault, and the event (EXITINTINFO) must be
 * delivered again after the fault is fixed. Each handler must run
 * exactly once and see the architectural return address: after INT n
 * and INT3 (traps, SDM Vol. 3A 6.5), the selector as the #GP error code
 * (6.13, Interrupt 13).
 */
#define FRESH_IDT 0x200000ull
static void test_reinjected_events(void **state)
{
	struct hvg *t = *state;
	for (unsigned i = 0; i < 4; i++) {
		const struct hv_memory_region mr = { .slot = 2 + i, .gpa = FRESH_IDT + i * 0x1000,
						     .size = 0x1000 };
		assert_int_equal(hv_set_memory_region(t->vm, &mr), 0);
	}
	set_mode(t, false, FRESH_IDT, 0x7ff);
	gate32(t, FRESH_IDT, 0x30, H_INT);
	gate32(t, FRESH_IDT, 3, H_INT);
	gate32(t, FRESH_IDT, 13, H_GP);
	hvg_load(t, H_INT, h_int, sizeof(h_int));
	hvg_load(t, H_GP, h_gp, sizeof(h_gp));
	hvg_load(t, CODE + 0x60, pm_int, sizeof(pm_int));
	hvg_start_at(t, CODE + 0x60, FRESH_IDT + 0x2000);	/* the first stack */
	const uint64_t before = hvg_stat(t, "reinjections");

	hvg_expect_io(t, 0x82, HV_EXIT_IO_OUT, 4, CODE + 0x60 + 0x2);	/* after INT 0x30 */
	hvg_expect_io(t, 0x82, HV_EXIT_IO_OUT, 4, CODE + 0x60 + 0x8);	/* after INT3 */
	hvg_expect_io(t, 0x83, HV_EXIT_IO_OUT, 4, 0x1234);			/* #GP error code */
	hvg_expect_exit(t, HV_EXIT_HLT);
	assert_int_equal(hvg_regs(t).rip, CODE + 0x60 + sizeof(pm_int));
	assert_int_equal(hvg_get32(t, COUNTERS), 2);
	assert_int_equal(hvg_get32(t, COUNTERS + 4), 1);
	/* The scenario did go through re-injection: at least once per event. */
	assert_true(hvg_stat(t, "reinjections") >= before + 3);
}

/*
 * An interrupt raised while the guest has IF = 0 waits for the window:
 * after STI it is taken once the next instruction has completed (the
 * STI shadow, SDM Vol. 2B STI), so the handler sees EIP = the second NOP.
 */
static void test_interrupt_window(void **state)
{
	struct hvg *t = *state;
	set_mode(t, false, IDT, 0x7ff);
	gate32(t, IDT, 0x40, H_IRQ);
	hvg_load(t, H_IRQ, h_irq, sizeof(h_irq));
	hvg_load(t, CODE + 0x80, pm_sti, sizeof(pm_sti));
	hvg_start_at(t, CODE + 0x80, STACK_TOP);

	hvg_expect_exit(t, HV_EXIT_IO);
	assert_int_equal(hv_interrupt(t->vcpu, 0x40), 0);
	hvg_expect_io(t, 0x84, HV_EXIT_IO_OUT, 4, CODE + 0x80 + 5);
	hvg_expect_exit(t, HV_EXIT_HLT);
}

/*
 * SYSENTER_CS is guest-owned (not intercepted) and VMLOAD/VMSAVE state:
 * a value the guest wrote must survive an exit (SDM Vol. 4 Table 2-2:
 * read back as written). EFER read by the guest is 0 (no SVME) in
 * protected mode without paging.
 */
static void test_guest_msrs_survive_exits(void **state)
{
	struct hvg *t = *state;
	set_mode(t, false, IDT, 0x7ff);
	hvg_load(t, CODE + 0xa0, pm_msr, sizeof(pm_msr));
	hvg_start_at(t, CODE + 0xa0, STACK_TOP);

	hvg_expect_io(t, 0x80, HV_EXIT_IO_OUT, 1, 0x34);
	hvg_expect_io(t, 0x80, HV_EXIT_IO_OUT, 4, 0x1234);
	hvg_expect_io(t, 0x80, HV_EXIT_IO_OUT, 4, 0);
	hvg_expect_exit(t, HV_EXIT_HLT);
}

/*
 * IA32_PAT under nested paging is the guest's own (G_PAT): a valid value
 * reads back as written; memory type 2 is reserved, so writing it is
 * #GP(0) (SDM Vol. 3A 12.12.2) and the PAT keeps its value.
 */
static void test_guest_pat(void **state)
{
	struct hvg *t = *state;
	set_mode(t, false, IDT, 0x7ff);
	gate32(t, IDT, 13, H_GP);
	hvg_load(t, H_GP, h_gp, sizeof(h_gp));
	hvg_load(t, CODE + 0xc0, pm_pat, sizeof(pm_pat));
	hvg_start_at(t, CODE + 0xc0, STACK_TOP);

	hvg_expect_io(t, 0x80, HV_EXIT_IO_OUT, 4, 0x00070401);
	hvg_expect_io(t, 0x83, HV_EXIT_IO_OUT, 4, 0);			/* #GP(0) */
	hvg_expect_exit(t, HV_EXIT_HLT);
	assert_int_equal(hvg_regs(t).rip, CODE + 0xc0 + sizeof(pm_pat));
	assert_int_equal(hvg_get32(t, COUNTERS + 4), 1);
}

/* EXITCODE names, codes from APM Vol. 2 Appendix C Table C-1. */
static void test_exit_names(void **state)
{
	const struct hv_backend_ops *be = &svm_backend_ops;
	assert_string_equal(be->name, "svm");
	assert_non_null(strstr(be->exit_name(0x400), "NPF"));
	assert_non_null(strstr(be->exit_name(0x7b), "IOIO"));
	assert_non_null(strstr(be->exit_name(0x78), "HLT"));
	assert_non_null(strstr(be->exit_name(0x72), "CPUID"));
	assert_non_null(strstr(be->exit_name(0x7f), "SHUTDOWN"));
	assert_non_null(strstr(be->exit_name(0x81), "VMMCALL"));
	assert_non_null(strstr(be->exit_name(0x60), "INTR"));
	assert_non_null(strstr(be->exit_name(0x64), "VINTR"));
	assert_non_null(strstr(be->exit_name(0x13), "WRITE_CR3"));
	assert_non_null(strstr(be->exit_name(0x4e), "PF"));	/* 0x40 + 14 */
	assert_non_null(strstr(be->exit_name(~0ull), "INVALID"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_reset_state),
		T(test_reset_guest),
		T(test_real_mode_io),
		T(test_protected_mode_io_mmio),
		T(test_long_mode),
		T(test_triple_fault),
		T(test_vmrun_in_guest_is_ud),
		T(test_clgi_in_guest_is_ud),
		T(test_reinjected_events),
		T(test_interrupt_window),
		T(test_guest_msrs_survive_exits),
		T(test_guest_pat),
		cmocka_unit_test(test_exit_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
