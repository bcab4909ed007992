/*
 * test_backend_vmx.c — the Intel VT-x backend (backends/vmx) through the
 * public API (include/hvlab/hv.h) with the tdp MMU: guests in real,
 * protected and long mode on the model's VMX with EPT, each checking
 * what the SDM says a processor does, not what the backend believes.
 *
 * The values below come from the manuals: the RESET state from SDM Vol.
 * 3A 9.1.1 Table 9-1 (CS F000H base FFFF0000H, EIP FFF0H, CR0 60000010H,
 * EFLAGS 2, limits FFFFH, EDX = the CPUID.1 signature), the first fetch
 * at FFFFFFF0H (9.1.4), descriptor encodings from Vol. 3A 3.4.5 and
 * 6.14, exit reason 33 with bit 31 for a refused guest state (Vol. 3D
 * Appendix C, Vol. 3C 27.8), EFER bits LME 8 / LMA 10 (Vol. 3A 2.2.1).
 * Guest code is hand-assembled; the source is beside each array.
 */
#include <string.h>

#include "tests/unit/test_backend_vmx.h"

/* SDM Vol. 3A Table 9-1 as KVM_GET_SREGS/REGS show it. */
static void test_reset_state(void **state)
{
	struct hvg *f = *state;
	struct hv_sregs s;
	struct hv_regs r;
	assert_int_equal(hv_get_sregs(f->vcpu, &s), 0);
	assert_int_equal(hv_get_regs(f->vcpu, &r), 0);

	assert_int_equal(r.rip, 0xfff0);
	assert_int_equal(r.rflags, 0x2);
	assert_int_equal(s.cs.selector, 0xf000);
	assert_int_equal(s.cs.base, 0xffff0000);
	assert_int_equal(s.cs.limit, 0xffff);
	assert_true(s.cs.present && s.cs.s);
	assert_int_equal(s.cs.type & 0xa, 0xa);		/* code, readable */
	const struct hv_segment *data[] = { &s.ds, &s.es, &s.ss, &s.fs, &s.gs };
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(data[i]->selector, 0);
		assert_int_equal(data[i]->base, 0);
		assert_int_equal(data[i]->limit, 0xffff);
		assert_true(data[i]->present && data[i]->s);
		assert_int_equal(data[i]->type & 0xa, 0x2);	/* data, writable */
	}
	assert_int_equal(s.gdt.base, 0);
	assert_int_equal(s.gdt.limit, 0xffff);
	assert_int_equal(s.idt.base, 0);
	assert_int_equal(s.idt.limit, 0xffff);
	assert_int_equal(s.ldt.selector, 0);
	assert_int_equal(s.ldt.limit, 0xffff);
	assert_true(s.ldt.present);
	assert_int_equal(s.ldt.type, 2);			/* LDT */
	assert_int_equal(s.tr.selector, 0);
	assert_int_equal(s.tr.limit, 0xffff);
	assert_true(s.tr.present);
	assert_true(s.tr.type == 3 || s.tr.type == 11);		/* busy TSS */
	assert_int_equal(s.cr0, 0x60000010);
	assert_int_equal(s.cr2, 0);
	assert_int_equal(s.cr3, 0);
	assert_int_equal(s.cr4, 0);
	assert_int_equal(s.efer, 0);
	/* EDX: family/model/stepping — a P6-family signature (family 6 in
	 * bits 11:8, Table 9-1 "000n06xxH"). */
	assert_int_equal((r.rdx >> 8) & 0xf, 6);
	assert_int_equal(r.rax, 0);
	assert_int_equal(r.rsp, 0);
}

/* The first instruction is fetched at FFFFFFF0H (9.1.4): OUT from a
 * ROM-like region at the top of the 4 GiB space. */
static void test_reset_vector_out(void **state)
{
	struct hvg *f = *state;
	const struct hv_memory_region rom = { .slot = 1, .gpa = 0xffff0000, .size = 0x10000 };
	assert_int_equal(hv_set_memory_region(f->vm, &rom), 0);
	static const uint8_t code[] = { 0xb0, 0x42, 0xe6, 0x80, 0xf4 }; /* mov al,42h; out 80h,al; hlt */
	hvg_load(f, 0xfffffff0, code, sizeof(code));
	hvg_expect_io(f, 0x80, HV_EXIT_IO_OUT, 1, 0x42);
	hvg_expect_exit(f, HV_EXIT_HLT);
	struct hv_regs r;
	assert_int_equal(hv_get_regs(f->vcpu, &r), 0);
	assert_int_equal(r.rip, 0xfff5);
}

/* IN completes on re-entry with the VMM's data; then HLT with IF = 0
 * goes to the VMM. */
static void test_real_in_and_hlt(void **state)
{
	struct hvg *f = *state;
	static const uint8_t code[] = { 0xe4, 0x60, 0x88, 0xc3, 0xf4 }; /* in al,60h; mov bl,al; hlt */
	hvg_load(f, 0x1000, code, sizeof(code));
	hvg_enter_real(f, 0x1000);
	hvg_expect_io(f, 0x60, HV_EXIT_IO_IN, 1, 0);
	f->run.io.data[0] = 0x5a;
	hvg_expect_exit(f, HV_EXIT_HLT);
	struct hv_regs r;
	assert_int_equal(hv_get_regs(f->vcpu, &r), 0);
	assert_int_equal(r.rax & 0xff, 0x5a);
	assert_int_equal(r.rbx & 0xff, 0x5a);
	assert_int_equal(r.rip, 0x1005);		/* past the HLT */
}

/* OUT DX, AX in real mode: a 2-byte access to the port in DX. */
static void test_real_out_word(void **state)
{
	struct hvg *f = *state;
	/* mov dx,500h; mov ax,1234h; out dx,ax; hlt */
	static const uint8_t code[] = { 0xba, 0x00, 0x05, 0xb8, 0x34, 0x12, 0xef, 0xf4 };
	hvg_load(f, 0x1000, code, sizeof(code));
	hvg_enter_real(f, 0x1000);
	hvg_expect_io(f, 0x500, HV_EXIT_IO_OUT, 2, 0x1234);
	hvg_expect_exit(f, HV_EXIT_HLT);
}

/* MOV from CR0/CR4 reads the guest's values: CR0 = 60000010H with NE
 * clear and CR4 = 0, whatever VMX operation forces in the real
 * registers (NE, VMXE). */
static void test_real_cr_reads(void **state)
{
	struct hvg *f = *state;
	/* mov eax,cr0; mov ebx,eax; mov eax,cr4; mov ecx,eax; hlt */
	static const uint8_t code[] = { 0x0f, 0x20, 0xc0, 0x66, 0x89, 0xc3,
					0x0f, 0x20, 0xe0, 0x66, 0x89, 0xc1, 0xf4 };
	hvg_load(f, 0x1000, code, sizeof(code));
	hvg_enter_real(f, 0x1000);
	hvg_expect_exit(f, HV_EXIT_HLT);
	struct hv_regs r;
	assert_int_equal(hv_get_regs(f->vcpu, &r), 0);
	assert_int_equal(r.rbx, 0x60000010);
	assert_int_equal(r.rcx, 0);
}

/* CPUID leaf 1 in the guest returns the signature RESET left in EDX. */
static void test_cpuid_signature(void **state)
{
	struct hvg *f = *state;
	struct hv_regs r0;
	assert_int_equal(hv_get_regs(f->vcpu, &r0), 0);
	/* mov eax,1; cpuid; hlt */
	static const uint8_t code[] = { 0x66, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0xa2, 0xf4 };
	hvg_load(f, 0x1000, code, sizeof(code));
	hvg_enter_real(f, 0x1000);
	hvg_expect_exit(f, HV_EXIT_HLT);
	struct hv_regs r;
	assert_int_equal(hv_get_regs(f->vcpu, &r), 0);
	assert_int_equal(r.rax, r0.rdx);
	/* CPUID.0: "GenuineIntel" in EBX, EDX, ECX (Vol. 2A CPUID). */
	static const uint8_t code0[] = { 0x66, 0x31, 0xc0, 0x0f, 0xa2, 0xf4 }; /* xor eax,eax; cpuid; hlt */
	hvg_load(f, 0x1100, code0, sizeof(code0));
	hvg_set_rip(f, 0x1100);
	hvg_expect_exit(f, HV_EXIT_HLT);
	assert_int_equal(hv_get_regs(f->vcpu, &r), 0);
	char vendor[13] = { 0 };
	memcpy(vendor, &r.rbx, 4);
	memcpy(vendor + 4, &r.rdx, 4);
	memcpy(vendor + 8, &r.rcx, 4);
	assert_string_equal(vendor, "GenuineIntel");
}

/* 32-bit protected mode: OUT of a doubleword. */
static void test_protected_out(void **state)
{
	struct hvg *f = *state;
	/* mov eax,12345678h; out 80h,eax; hlt */
	static const uint8_t code[] = { 0xb8, 0x78, 0x56, 0x34, 0x12, 0xe7, 0x80, 0xf4 };
	hvg_load(f, 0x1000, code, sizeof(code));
	hvg_enter_protected(f, 0x1000);
	hvg_expect_io(f, 0x80, HV_EXIT_IO_OUT, 4, 0x12345678);
	hvg_expect_exit(f, HV_EXIT_HLT);
}

/* IA-32e mode: identity map of the first 8 MiB with 2 MiB pages
 * (Vol. 3A 4.5: PML4E -> PDPTE -> PDE with PS), CR0 = PG | ET | PE. */
static void enter_long(struct hvg *f, uint64_t rip)
{
	hvg_put64(f, PML4, (PML4 + 0x1000) | 3);
	hvg_put64(f, PML4 + 0x1000, (PML4 + 0x2000) | 3);
	for (uint64_t i = 0; i < 4; i++)
		hvg_put64(f, PML4 + 0x2000 + 8 * i, (i << 21) | 0x83);
	hvg_enter_long_cr3(f, rip, PML4, 0x80000011);
}

/* 64-bit mode: REX.W MOV of a 64-bit immediate (in 32-bit mode 48h
 * would be DEC EAX), and EFER.LMA as the processor set it. */
static void test_long_mode(void **state)
{
	struct hvg *f = *state;
	/* mov rax,1122334455667788h; out 80h,al; hlt */
	static const uint8_t code[] = { 0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33,
					0x22, 0x11, 0xe6, 0x80, 0xf4 };
	hvg_load(f, 0x1000, code, sizeof(code));
	enter_long(f, 0x1000);
	hvg_expect_io(f, 0x80, HV_EXIT_IO_OUT, 1, 0x88);
	struct hv_regs r;
	assert_int_equal(hv_get_regs(f->vcpu, &r), 0);
	assert_int_equal(r.rax, 0x1122334455667788ull);
	struct hv_sregs s;
	assert_int_equal(hv_get_sregs(f->vcpu, &s), 0);
	assert_int_equal(s.efer & 0x500, 0x500);
	assert_int_equal(s.cr0, 0x80000011);
	assert_int_equal(s.cr4, 0x20);
	assert_int_equal(s.cr3, PML4);
	hvg_expect_exit(f, HV_EXIT_HLT);
}

/* PAE paging set by the VMM: under EPT the processor takes the four
 * PDPTEs from the VMCS at entry (Vol. 3C 27.3.2.4), so they must be
 * those at CR3 (Vol. 3A 4.4.1); with none present the first fetch
 * would fault and, with no IDT, shut down. */
static void test_pae_paging(void **state)
{
	struct hvg *f = *state;
	/* mov eax,12345678h; out 80h,eax; hlt */
	static const uint8_t code[] = { 0xb8, 0x78, 0x56, 0x34, 0x12, 0xe7, 0x80, 0xf4 };
	hvg_load(f, 0x1000, code, sizeof(code));
	/* PDPTE: P only (bits 2:1 are reserved in PAE PDPTEs, 4.4.1);
	 * PDEs: 2 MiB pages P | RW | PS. */
	hvg_put64(f, PML4, (PML4 + 0x1000) | 1);
	for (uint64_t i = 0; i < 4; i++)
		hvg_put64(f, PML4 + 0x1000 + 8 * i, (i << 21) | 0x83);
	hvg_enter_protected(f, 0x1000);
	struct hv_sregs s;
	assert_int_equal(hv_get_sregs(f->vcpu, &s), 0);
	s.cr0 = 0x80000011;	/* PG, ET, PE */
	s.cr4 = 0x20;		/* PAE */
	s.cr3 = PML4;
	assert_int_equal(hv_set_sregs(f->vcpu, &s), 0);
	hvg_expect_io(f, 0x80, HV_EXIT_IO_OUT, 4, 0x12345678);
	assert_int_equal(hv_get_sregs(f->vcpu, &s), 0);
	assert_int_equal(s.efer & 0x400, 0);	/* not IA-32e */
}

/* The guest turns paging on with EFER.LME = 1 itself: the processor
 * activates IA-32e mode (LMA, Vol. 3A 10.8.5) in compatibility mode,
 * and the state the VMM reads back says so. */
static void test_guest_enables_long_mode(void **state)
{
	struct hvg *f = *state;
	/* mov eax,cr0; or eax,80000000h; mov cr0,eax; out 80h,al; hlt */
	static const uint8_t code[] = { 0x0f, 0x20, 0xc0, 0x0d, 0x00, 0x00, 0x00, 0x80,
					0x0f, 0x22, 0xc0, 0xe6, 0x80, 0xf4 };
	hvg_load(f, 0x1000, code, sizeof(code));
	hvg_put64(f, PML4, (PML4 + 0x1000) | 3);
	hvg_put64(f, PML4 + 0x1000, (PML4 + 0x2000) | 3);
	for (uint64_t i = 0; i < 4; i++)
		hvg_put64(f, PML4 + 0x2000 + 8 * i, (i << 21) | 0x83);
	hvg_enter_protected(f, 0x1000);
	struct hv_sregs s;
	assert_int_equal(hv_get_sregs(f->vcpu, &s), 0);
	s.cr0 = 0x11;
	s.cr4 = 0x20;
	s.cr3 = PML4;
	s.efer = 0x100;		/* LME */
	assert_int_equal(hv_set_sregs(f->vcpu, &s), 0);
	assert_int_equal(hv_get_sregs(f->vcpu, &s), 0);
	assert_int_equal(s.efer & 0x500, 0x100);	/* LMA needs paging */
	hvg_expect_io(f, 0x80, HV_EXIT_IO_OUT, 1, 0x11);
	assert_int_equal(hv_get_sregs(f->vcpu, &s), 0);
	assert_int_equal(s.efer & 0x500, 0x500);
	assert_int_equal(s.cr0, 0x80000011);
	hvg_expect_exit(f, HV_EXIT_HLT);
}

/* MMIO: a store and a load to guest-physical addresses with no memory
 * go out to the VMM with address, length and data; the load completes
 * with the VMM's value. */
static void test_mmio(void **state)
{
	struct hvg *f = *state;
	/* mov dword [0d0000000h],0cafef00dh; mov eax,[0d0000010h]; out 84h,eax; hlt */
	static const uint8_t code[] = { 0xc7, 0x05, 0x00, 0x00, 0x00, 0xd0, 0x0d, 0xf0, 0xfe, 0xca,
					0xa1, 0x10, 0x00, 0x00, 0xd0, 0xe7, 0x84, 0xf4 };
	hvg_load(f, 0x1000, code, sizeof(code));
	hvg_enter_protected(f, 0x1000);
	hvg_expect_mmio_write(f, 0xd0000000, 4, 0xcafef00d);
	hvg_expect_mmio_read(f, 0xd0000010, 4, 0x11223344);
	hvg_expect_io(f, 0x84, HV_EXIT_IO_OUT, 4, 0x11223344);
}

/* #UD with an empty IDT: #GP on the vector beyond the limit, #DF the
 * same, then shutdown (Vol. 3A 6.15 "Interrupt 8", Table 6-5). */
static void test_triple_fault(void **state)
{
	struct hvg *f = *state;
	static const uint8_t code[] = { 0x0f, 0x0b };	/* ud2 */
	hvg_load(f, 0x1000, code, sizeof(code));
	hvg_enter_protected(f, 0x1000);
	hvg_expect_exit(f, HV_EXIT_SHUTDOWN);
}

/* A VMX instruction in the guest is #UD to it (no nested VMX): the
 * handler sees the faulting EIP on its stack (a fault, Vol. 3A 6.5). */
static void test_vmx_insn_ud(void **state)
{
	struct hvg *f = *state;
	static const uint8_t code[] = { 0x0f, 0x01, 0xc4, 0xf4 };	/* vmxoff; hlt */
	/* mov eax,[esp]; out 84h,eax; hlt */
	static const uint8_t handler[] = { 0x8b, 0x04, 0x24, 0xe7, 0x84, 0xf4 };
	hvg_load(f, 0x1000, code, sizeof(code));
	hvg_load(f, 0x2000, handler, sizeof(handler));
	set_gate(f, 6, 0x2000);
	enter_protected_idt(f, 0x1000);
	hvg_expect_io(f, 0x84, HV_EXIT_IO_OUT, 4, 0x1000);
}

/* #UD whose delivery first touches the IDT's and the stack's pages: the
 * delivery exits (EPT violation with the event in the IDT-vectoring
 * information, Vol. 3C 28.2.4) and must be re-injected; the handler
 * runs exactly once. */
static void test_reinjection(void **state)
{
	struct hvg *f = *state;
	static const uint8_t code[] = { 0x0f, 0x0b, 0xf4 };	/* ud2; hlt */
	/* inc dword [5000h]; mov al,66h; out 80h,al; hlt */
	static const uint8_t handler[] = { 0xff, 0x05, 0x00, 0x50, 0x00, 0x00,
					   0xb0, 0x66, 0xe6, 0x80, 0xf4 };
	hvg_load(f, 0x1000, code, sizeof(code));
	hvg_load(f, 0x2000, handler, sizeof(handler));
	hvg_put32(f, 0x5000, 0);
	set_gate(f, 6, 0x2000);
	enter_protected_idt(f, 0x1000);
	hvg_expect_io(f, 0x80, HV_EXIT_IO_OUT, 1, 0x66);
	assert_int_equal(hvg_get32(f, 0x5000), 1);
	assert_true(hvg_stat(f, "reinjections") >= 1);
	/* The frame: EIP of the UD2, CS, EFLAGS (Vol. 3A 6.12.1). */
	assert_int_equal(hvg_get32(f, STACK_TOP - 12), 0x1000);
	assert_int_equal(hvg_get32(f, STACK_TOP - 8), SEL_CODE);
}

/* An external interrupt whose delivery first touches the IDT page: an
 * interrupt is never regenerated by re-running the guest, so without
 * re-injection the handler would never run (the guest spins, bounded
 * by max_insns). The frame holds the EIP of the interrupted JMP. */
static void test_reinjection_extint(void **state)
{
	struct hvg *f = *state;
	static const uint8_t code[] = { 0xfb, 0xeb, 0xfe };	/* sti; jmp $ */
	/* inc dword [5000h]; mov al,66h; out 80h,al; hlt */
	static const uint8_t handler[] = { 0xff, 0x05, 0x00, 0x50, 0x00, 0x00,
					   0xb0, 0x66, 0xe6, 0x80, 0xf4 };
	hvg_load(f, 0x1000, code, sizeof(code));
	hvg_load(f, 0x2000, handler, sizeof(handler));
	hvg_put32(f, 0x5000, 0);
	set_gate(f, 0x30, 0x2000);
	enter_protected_idt(f, 0x1000);
	assert_int_equal(hv_interrupt(f->vcpu, 0x30), 0);
	f->run.max_insns = 100000;
	hvg_expect_io(f, 0x80, HV_EXIT_IO_OUT, 1, 0x66);
	assert_int_equal(hvg_get32(f, 0x5000), 1);
	assert_int_equal(hvg_get32(f, STACK_TOP - 12), 0x1001);
	assert_int_equal(hvg_get32(f, STACK_TOP - 8), SEL_CODE);
	assert_true(hvg_get32(f, STACK_TOP - 4) & 0x200);	/* IF was set */
	/* Inside an interrupt gate IF = 0: the HLT goes to the VMM. */
	hvg_expect_exit(f, HV_EXIT_HLT);
}

/* CS must be an accessed code segment (type 9, 11, 13, 15) or, with
 * unrestricted guest, type 3 (27.3.1.2); type 8, code not yet accessed,
 * is a state the processor refuses at VM entry: exit reason 33 with
 * bit 31. */
static void test_fail_entry(void **state)
{
	struct hvg *f = *state;
	static const uint8_t code[] = { 0xf4 };
	hvg_load(f, 0x1000, code, sizeof(code));
	hvg_enter_protected(f, 0x1000);
	struct hv_sregs s;
	assert_int_equal(hv_get_sregs(f->vcpu, &s), 0);
	s.cs.type = 0x8;
	assert_int_equal(hv_set_sregs(f->vcpu, &s), 0);
	hvg_expect_exit(f, HV_EXIT_FAIL_ENTRY);
	assert_int_equal(f->run.fail_entry.hardware_exit_reason, 0x80000021u);
}

/* The SYSCALL MSRs are the guest's own (no exit); EFER is not. The
 * values read back are what WRMSR wrote (Vol. 4 LSTAR, Vol. 3A 2.2.1);
 * LSTAR takes only a canonical address. */
static void test_msrs(void **state)
{
	struct hvg *f = *state;
	static const uint8_t code[] = {
		0xb9, 0x82, 0x00, 0x00, 0xc0,	/* mov ecx,0c0000082h (LSTAR) */
		0xb8, 0xef, 0xcd, 0xab, 0x89,	/* mov eax,89abcdefh */
		0xba, 0xff, 0xff, 0xff, 0xff,	/* mov edx,0ffffffffh */
		0x0f, 0x30,			/* wrmsr */
		0x31, 0xc0, 0x31, 0xd2,		/* xor eax,eax; xor edx,edx */
		0x0f, 0x32,			/* rdmsr */
		0xe7, 0x84,			/* out 84h,eax */
		0xb9, 0x80, 0x00, 0x00, 0xc0,	/* mov ecx,0c0000080h (EFER) */
		0x0f, 0x32,			/* rdmsr */
		0xe7, 0x84,			/* out 84h,eax */
		0xf4,
	};
	hvg_load(f, 0x1000, code, sizeof(code));
	hvg_enter_protected(f, 0x1000);
	const uint64_t before = hvg_stat(f, "msr_exits");
	hvg_expect_io(f, 0x84, HV_EXIT_IO_OUT, 4, 0x89abcdef);
	struct hv_regs r;
	assert_int_equal(hv_get_regs(f->vcpu, &r), 0);
	assert_int_equal(r.rdx, 0xffffffff);
	assert_int_equal(hvg_stat(f, "msr_exits"), before);
	hvg_expect_io(f, 0x84, HV_EXIT_IO_OUT, 4, 0);
	assert_int_equal(hvg_stat(f, "msr_exits"), before + 1);
}

/* exit_name covers the SDM's basic reasons (Vol. 3D Appendix C). */
static void test_exit_names(void **state)
{
	(void)state;
	assert_string_equal(vmx_backend_ops.exit_name(48), "EPT_VIOLATION");
	assert_string_equal(vmx_backend_ops.exit_name(30), "IO_INSTRUCTION");
	assert_string_equal(vmx_backend_ops.exit_name(0x80000021u), "INVALID_GUEST_STATE");
	assert_string_equal(vmx_backend_ops.exit_name(12), "HLT");
	assert_string_equal(vmx_backend_ops.exit_name(1), "EXTERNAL_INTERRUPT");
	assert_string_equal(vmx_backend_ops.exit_name(64), "XRSTORS");
	assert_string_equal(vmx_backend_ops.exit_name(35), "UNKNOWN");	/* reserved */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_reset_state),
		T(test_reset_vector_out),
		T(test_real_in_and_hlt),
		T(test_real_out_word),
		T(test_real_cr_reads),
		T(test_cpuid_signature),
		T(test_protected_out),
		T(test_long_mode),
		T(test_pae_paging),
		T(test_guest_enables_long_mode),
		T(test_mmio),
		T(test_triple_fault),
		T(test_vmx_insn_ud),
		T(test_reinjection),
		T(test_reinjection_extint),
		T(test_fail_entry),
		T(test_msrs),
		cmocka_unit_test(test_exit_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
