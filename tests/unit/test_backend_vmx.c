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
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "backends/backend.h"
#include "hvlab/hv.h"

#define MiB (1ull << 20)
#define RAM (8 * MiB)

struct fx {
	struct hv_vm *vm;
	struct hv_vcpu *vcpu;
	struct hv_run run;
};

static int setup(void **state)
{
	static struct fx f;
	memset(&f, 0, sizeof(f));
	const struct hv_vm_config cfg = { .backend = "vmx", .mmu = "tdp", .max_mem = 64 * MiB };
	if (hv_vm_create(&cfg, &f.vm))
		return -1;
	const struct hv_memory_region mr = { .slot = 0, .gpa = 0, .size = RAM };
	if (hv_set_memory_region(f.vm, &mr) || hv_vcpu_create(f.vm, 0, &f.vcpu)) {
		hv_vm_destroy(f.vm);
		return -1;
	}
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	hv_vm_destroy(f->vm);
	return 0;
}

static void load(struct fx *f, uint64_t gpa, const void *bytes, size_t len)
{
	assert_int_equal(hv_write_guest(f->vm, gpa, bytes, len), 0);
}

static void put32(struct fx *f, uint64_t gpa, uint32_t v)
{
	load(f, gpa, &v, 4);
}

static void put64(struct fx *f, uint64_t gpa, uint64_t v)
{
	load(f, gpa, &v, 8);
}

static uint32_t get32(struct fx *f, uint64_t gpa)
{
	uint32_t v = 0;
	assert_int_equal(hv_read_guest(f->vm, gpa, &v, 4), 0);
	return v;
}

static void run_ok(struct fx *f)
{
	int r = hv_run(f->vcpu, &f->run);
	if (r)
		print_error("hv_run: %d (%s)\n", r, hv_strerror());
	assert_int_equal(r, 0);
}

static void expect_io(struct fx *f, uint16_t port, uint8_t dir, uint8_t size, uint32_t data)
{
	run_ok(f);
	if (f->run.exit_reason == HV_EXIT_INTERNAL_ERROR)
		print_error("internal error: %s\n", f->run.internal.why);
	assert_int_equal(f->run.exit_reason, HV_EXIT_IO);
	assert_int_equal(f->run.io.port, port);
	assert_int_equal(f->run.io.direction, dir);
	assert_int_equal(f->run.io.size, size);
	if (dir == HV_EXIT_IO_OUT) {
		uint32_t v = 0;
		memcpy(&v, f->run.io.data, size);
		assert_int_equal(v, data);
	}
}

static void expect_exit(struct fx *f, uint32_t reason)
{
	run_ok(f);
	if (f->run.exit_reason == HV_EXIT_INTERNAL_ERROR)
		print_error("internal error: %s\n", f->run.internal.why);
	assert_int_equal(f->run.exit_reason, reason);
}

static void set_rip(struct fx *f, uint64_t rip)
{
	struct hv_regs r;
	assert_int_equal(hv_get_regs(f->vcpu, &r), 0);
	r.rip = rip;
	assert_int_equal(hv_set_regs(f->vcpu, &r), 0);
}

/* ---------------------------------------------------------------- modes */

/* Real mode with CS = 0 so code at a low address runs. */
static void enter_real(struct fx *f, uint64_t rip)
{
	struct hv_sregs s;
	assert_int_equal(hv_get_sregs(f->vcpu, &s), 0);
	s.cs.selector = 0;
	s.cs.base = 0;
	assert_int_equal(hv_set_sregs(f->vcpu, &s), 0);
	set_rip(f, rip);
}

#define GDT 0x4000ull
#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define SEL_TSS 0x18

/* A flat segment as a descriptor cache holds it (Vol. 3A 3.4.5). */
static struct hv_segment flat(uint16_t sel, uint8_t type, bool l)
{
	return (struct hv_segment){ .base = 0, .limit = 0xffffffff, .selector = sel,
				    .type = type, .present = 1, .s = 1, .g = 1,
				    .db = !l, .l = l };
}

/* The GDT a flat guest needs when it delivers an event through an
 * interrupt gate (CS is reloaded from it): null, code, data. */
static void write_gdt(struct fx *f, bool lm)
{
	put64(f, GDT, 0);
	put64(f, GDT + SEL_CODE, lm ? 0x00af9b000000ffffull : 0x00cf9b000000ffffull);
	put64(f, GDT + SEL_DATA, 0x00cf93000000ffffull);
}

static void flat_sregs(struct fx *f, struct hv_sregs *s, bool lm)
{
	assert_int_equal(hv_get_sregs(f->vcpu, s), 0);
	s->cs = flat(SEL_CODE, 0xb, lm);
	s->ds = s->es = s->fs = s->gs = s->ss = flat(SEL_DATA, 0x3, false);
	s->tr = (struct hv_segment){ .base = 0, .limit = 0x67, .selector = SEL_TSS,
				     .type = 0xb, .present = 1 };
	s->ldt = (struct hv_segment){ .unusable = 1 };
	s->gdt = (struct hv_dtable){ .base = GDT, .limit = 0x1f };
	s->idt = (struct hv_dtable){ .base = 0, .limit = 0 };
	write_gdt(f, lm);
}

/* 32-bit protected mode, flat, paging off. */
static void enter_protected(struct fx *f, uint64_t rip)
{
	struct hv_sregs s;
	flat_sregs(f, &s, false);
	s.cr0 = 0x11;		/* PE, ET */
	assert_int_equal(hv_set_sregs(f->vcpu, &s), 0);
	set_rip(f, rip);
}

#define PML4 0x10000ull

/* IA-32e mode: identity map of the first 8 MiB with 2 MiB pages
 * (Vol. 3A 4.5: PML4E -> PDPTE -> PDE with PS). */
static void enter_long(struct fx *f, uint64_t rip)
{
	put64(f, PML4, (PML4 + 0x1000) | 3);
	put64(f, PML4 + 0x1000, (PML4 + 0x2000) | 3);
	for (uint64_t i = 0; i < 4; i++)
		put64(f, PML4 + 0x2000 + 8 * i, (i << 21) | 0x83);
	struct hv_sregs s;
	flat_sregs(f, &s, true);
	s.cr0 = 0x80000011;	/* PG, ET, PE */
	s.cr4 = 0x20;		/* PAE */
	s.cr3 = PML4;
	s.efer = 0x500;		/* LME | LMA */
	assert_int_equal(hv_set_sregs(f->vcpu, &s), 0);
	set_rip(f, rip);
}

/* ---------------------------------------------------------------- tests */

/* SDM Vol. 3A Table 9-1 as KVM_GET_SREGS/REGS show it. */
static void test_reset_state(void **state)
{
	struct fx *f = *state;
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
	struct fx *f = *state;
	const struct hv_memory_region rom = { .slot = 1, .gpa = 0xffff0000, .size = 0x10000 };
	assert_int_equal(hv_set_memory_region(f->vm, &rom), 0);
	static const uint8_t code[] = { 0xb0, 0x42, 0xe6, 0x80, 0xf4 }; /* mov al,42h; out 80h,al; hlt */
	load(f, 0xfffffff0, code, sizeof(code));
	expect_io(f, 0x80, HV_EXIT_IO_OUT, 1, 0x42);
	expect_exit(f, HV_EXIT_HLT);
	struct hv_regs r;
	assert_int_equal(hv_get_regs(f->vcpu, &r), 0);
	assert_int_equal(r.rip, 0xfff5);
}

/* IN completes on re-entry with the VMM's data; then HLT with IF = 0
 * goes to the VMM. */
static void test_real_in_and_hlt(void **state)
{
	struct fx *f = *state;
	static const uint8_t code[] = { 0xe4, 0x60, 0x88, 0xc3, 0xf4 }; /* in al,60h; mov bl,al; hlt */
	load(f, 0x1000, code, sizeof(code));
	enter_real(f, 0x1000);
	expect_io(f, 0x60, HV_EXIT_IO_IN, 1, 0);
	f->run.io.data[0] = 0x5a;
	expect_exit(f, HV_EXIT_HLT);
	struct hv_regs r;
	assert_int_equal(hv_get_regs(f->vcpu, &r), 0);
	assert_int_equal(r.rax & 0xff, 0x5a);
	assert_int_equal(r.rbx & 0xff, 0x5a);
	assert_int_equal(r.rip, 0x1005);		/* past the HLT */
}

/* OUT DX, AX in real mode: a 2-byte access to the port in DX. */
static void test_real_out_word(void **state)
{
	struct fx *f = *state;
	/* mov dx,500h; mov ax,1234h; out dx,ax; hlt */
	static const uint8_t code[] = { 0xba, 0x00, 0x05, 0xb8, 0x34, 0x12, 0xef, 0xf4 };
	load(f, 0x1000, code, sizeof(code));
	enter_real(f, 0x1000);
	expect_io(f, 0x500, HV_EXIT_IO_OUT, 2, 0x1234);
	expect_exit(f, HV_EXIT_HLT);
}

/* MOV from CR0/CR4 reads the guest's values: CR0 = 60000010H with NE
 * clear and CR4 = 0, whatever VMX operation forces in the real
 * registers (NE, VMXE). */
static void test_real_cr_reads(void **state)
{
	struct fx *f = *state;
	/* mov eax,cr0; mov ebx,eax; mov eax,cr4; mov ecx,eax; hlt */
	static const uint8_t code[] = { 0x0f, 0x20, 0xc0, 0x66, 0x89, 0xc3,
					0x0f, 0x20, 0xe0, 0x66, 0x89, 0xc1, 0xf4 };
	load(f, 0x1000, code, sizeof(code));
	enter_real(f, 0x1000);
	expect_exit(f, HV_EXIT_HLT);
	struct hv_regs r;
	assert_int_equal(hv_get_regs(f->vcpu, &r), 0);
	assert_int_equal(r.rbx, 0x60000010);
	assert_int_equal(r.rcx, 0);
}

/* Debug registers: DR6 = FFFF0FF0H and DR7 = 00000400H after RESET
 * (Table 9-1), and DR0 holds what MOV DR0 wrote. */
static void test_real_debug_registers(void **state)
{
	struct fx *f = *state;
	/* mov eax,12345678h; mov dr0,eax; mov ebx,dr0; mov eax,dr6; mov ecx,dr7; hlt */
	static const uint8_t code[] = { 0x66, 0xb8, 0x78, 0x56, 0x34, 0x12, 0x0f, 0x23, 0xc0,
					0x0f, 0x21, 0xc3, 0x0f, 0x21, 0xf0, 0x0f, 0x21, 0xf9,
					0xf4 };
	load(f, 0x1000, code, sizeof(code));
	enter_real(f, 0x1000);
	expect_exit(f, HV_EXIT_HLT);
	struct hv_regs r;
	assert_int_equal(hv_get_regs(f->vcpu, &r), 0);
	assert_int_equal(r.rbx, 0x12345678);
	assert_int_equal(r.rax, 0xffff0ff0);
	assert_int_equal(r.rcx, 0x400);
}

/* CPUID leaf 1 in the guest returns the signature RESET left in EDX. */
static void test_cpuid_signature(void **state)
{
	struct fx *f = *state;
	struct hv_regs r0;
	assert_int_equal(hv_get_regs(f->vcpu, &r0), 0);
	/* mov eax,1; cpuid; hlt */
	static const uint8_t code[] = { 0x66, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0xa2, 0xf4 };
	load(f, 0x1000, code, sizeof(code));
	enter_real(f, 0x1000);
	expect_exit(f, HV_EXIT_HLT);
	struct hv_regs r;
	assert_int_equal(hv_get_regs(f->vcpu, &r), 0);
	assert_int_equal(r.rax, r0.rdx);
	/* CPUID.0: "GenuineIntel" in EBX, EDX, ECX (Vol. 2A CPUID). */
	static const uint8_t code0[] = { 0x66, 0x31, 0xc0, 0x0f, 0xa2, 0xf4 }; /* xor eax,eax; cpuid; hlt */
	load(f, 0x1100, code0, sizeof(code0));
	set_rip(f, 0x1100);
	expect_exit(f, HV_EXIT_HLT);
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
	struct fx *f = *state;
	/* mov eax,12345678h; out 80h,eax; hlt */
	static const uint8_t code[] = { 0xb8, 0x78, 0x56, 0x34, 0x12, 0xe7, 0x80, 0xf4 };
	load(f, 0x1000, code, sizeof(code));
	enter_protected(f, 0x1000);
	expect_io(f, 0x80, HV_EXIT_IO_OUT, 4, 0x12345678);
	expect_exit(f, HV_EXIT_HLT);
}

/* 64-bit mode: REX.W MOV of a 64-bit immediate (in 32-bit mode 48h
 * would be DEC EAX), and EFER.LMA as the processor set it. */
static void test_long_mode(void **state)
{
	struct fx *f = *state;
	/* mov rax,1122334455667788h; out 80h,al; hlt */
	static const uint8_t code[] = { 0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33,
					0x22, 0x11, 0xe6, 0x80, 0xf4 };
	load(f, 0x1000, code, sizeof(code));
	enter_long(f, 0x1000);
	expect_io(f, 0x80, HV_EXIT_IO_OUT, 1, 0x88);
	struct hv_regs r;
	assert_int_equal(hv_get_regs(f->vcpu, &r), 0);
	assert_int_equal(r.rax, 0x1122334455667788ull);
	struct hv_sregs s;
	assert_int_equal(hv_get_sregs(f->vcpu, &s), 0);
	assert_int_equal(s.efer & 0x500, 0x500);
	assert_int_equal(s.cr0, 0x80000011);
	assert_int_equal(s.cr4, 0x20);
	assert_int_equal(s.cr3, PML4);
	expect_exit(f, HV_EXIT_HLT);
}

/* PAE paging set by the VMM: under EPT the processor takes the four
 * PDPTEs from the VMCS at entry (Vol. 3C 27.3.2.4), so they must be
 * those at CR3 (Vol. 3A 4.4.1); with none present the first fetch
 * would fault and, with no IDT, shut down. */
static void test_pae_paging(void **state)
{
	struct fx *f = *state;
	/* mov eax,12345678h; out 80h,eax; hlt */
	static const uint8_t code[] = { 0xb8, 0x78, 0x56, 0x34, 0x12, 0xe7, 0x80, 0xf4 };
	load(f, 0x1000, code, sizeof(code));
	/* PDPTE: P only (bits 2:1 are reserved in PAE PDPTEs, 4.4.1);
	 * PDEs: 2 MiB pages P | RW | PS. */
	put64(f, PML4, (PML4 + 0x1000) | 1);
	for (uint64_t i = 0; i < 4; i++)
		put64(f, PML4 + 0x1000 + 8 * i, (i << 21) | 0x83);
	struct hv_sregs s;
	flat_sregs(f, &s, false);
	s.cr0 = 0x80000011;	/* PG, ET, PE */
	s.cr4 = 0x20;		/* PAE */
	s.cr3 = PML4;
	assert_int_equal(hv_set_sregs(f->vcpu, &s), 0);
	set_rip(f, 0x1000);
	expect_io(f, 0x80, HV_EXIT_IO_OUT, 4, 0x12345678);
	assert_int_equal(hv_get_sregs(f->vcpu, &s), 0);
	assert_int_equal(s.efer & 0x400, 0);	/* not IA-32e */
}

/* The guest turns paging on with EFER.LME = 1 itself: the processor
 * activates IA-32e mode (LMA, Vol. 3A 10.8.5) in compatibility mode,
 * and the state the VMM reads back says so. */
static void test_guest_enables_long_mode(void **state)
{
	struct fx *f = *state;
	/* mov eax,cr0; or eax,80000000h; mov cr0,eax; out 80h,al; hlt */
	static const uint8_t code[] = { 0x0f, 0x20, 0xc0, 0x0d, 0x00, 0x00, 0x00, 0x80,
					0x0f, 0x22, 0xc0, 0xe6, 0x80, 0xf4 };
	load(f, 0x1000, code, sizeof(code));
	put64(f, PML4, (PML4 + 0x1000) | 3);
	put64(f, PML4 + 0x1000, (PML4 + 0x2000) | 3);
	for (uint64_t i = 0; i < 4; i++)
		put64(f, PML4 + 0x2000 + 8 * i, (i << 21) | 0x83);
	struct hv_sregs s;
	flat_sregs(f, &s, false);
	s.cr0 = 0x11;
	s.cr4 = 0x20;
	s.cr3 = PML4;
	s.efer = 0x100;		/* LME */
	assert_int_equal(hv_set_sregs(f->vcpu, &s), 0);
	assert_int_equal(hv_get_sregs(f->vcpu, &s), 0);
	assert_int_equal(s.efer & 0x500, 0x100);	/* LMA needs paging */
	set_rip(f, 0x1000);
	expect_io(f, 0x80, HV_EXIT_IO_OUT, 1, 0x11);
	assert_int_equal(hv_get_sregs(f->vcpu, &s), 0);
	assert_int_equal(s.efer & 0x500, 0x500);
	assert_int_equal(s.cr0, 0x80000011);
	expect_exit(f, HV_EXIT_HLT);
}

/* MMIO: a store and a load to guest-physical addresses with no memory
 * go out to the VMM with address, length and data; the load completes
 * with the VMM's value. */
static void test_mmio(void **state)
{
	struct fx *f = *state;
	/* mov dword [0d0000000h],0cafef00dh; mov eax,[0d0000010h]; out 84h,eax; hlt */
	static const uint8_t code[] = { 0xc7, 0x05, 0x00, 0x00, 0x00, 0xd0, 0x0d, 0xf0, 0xfe, 0xca,
					0xa1, 0x10, 0x00, 0x00, 0xd0, 0xe7, 0x84, 0xf4 };
	load(f, 0x1000, code, sizeof(code));
	enter_protected(f, 0x1000);
	expect_exit(f, HV_EXIT_MMIO);
	assert_true(f->run.mmio.is_write);
	assert_int_equal(f->run.mmio.phys_addr, 0xd0000000);
	assert_int_equal(f->run.mmio.len, 4);
	uint32_t v;
	memcpy(&v, f->run.mmio.data, 4);
	assert_int_equal(v, 0xcafef00d);
	expect_exit(f, HV_EXIT_MMIO);
	assert_false(f->run.mmio.is_write);
	assert_int_equal(f->run.mmio.phys_addr, 0xd0000010);
	assert_int_equal(f->run.mmio.len, 4);
	v = 0x11223344;
	memcpy(f->run.mmio.data, &v, 4);
	expect_io(f, 0x84, HV_EXIT_IO_OUT, 4, 0x11223344);
}

/* #UD with an empty IDT: #GP on the vector beyond the limit, #DF the
 * same, then shutdown (Vol. 3A 6.15 "Interrupt 8", Table 6-5). */
static void test_triple_fault(void **state)
{
	struct fx *f = *state;
	static const uint8_t code[] = { 0x0f, 0x0b };	/* ud2 */
	load(f, 0x1000, code, sizeof(code));
	enter_protected(f, 0x1000);
	expect_exit(f, HV_EXIT_SHUTDOWN);
}

#define IDT 0x200000ull		/* its own 2 MiB region: untouched until delivery */
#define STACK_TOP 0x400000ull

/* A 32-bit interrupt gate (Vol. 3A 6.14.1 Figure 6-2: offset 15:0,
 * selector, P DPL 0 type 0xE, offset 31:16). */
static void set_gate(struct fx *f, unsigned vector, uint32_t handler)
{
	const uint64_t d = (handler & 0xffffull) | (uint64_t)SEL_CODE << 16 |
			   0x8e00ull << 32 | (uint64_t)(handler >> 16) << 48;
	put64(f, IDT + 8 * vector, d);
}

static void enter_protected_idt(struct fx *f, uint64_t rip)
{
	enter_protected(f, rip);
	struct hv_sregs s;
	assert_int_equal(hv_get_sregs(f->vcpu, &s), 0);
	s.idt = (struct hv_dtable){ .base = IDT, .limit = 0x7ff };
	assert_int_equal(hv_set_sregs(f->vcpu, &s), 0);
	struct hv_regs r;
	assert_int_equal(hv_get_regs(f->vcpu, &r), 0);
	r.rsp = STACK_TOP;
	r.rip = rip;
	assert_int_equal(hv_set_regs(f->vcpu, &r), 0);
}

/* A VMX instruction in the guest is #UD to it (no nested VMX): the
 * handler sees the faulting EIP on its stack (a fault, Vol. 3A 6.5). */
static void test_vmx_insn_ud(void **state)
{
	struct fx *f = *state;
	static const uint8_t code[] = { 0x0f, 0x01, 0xc4, 0xf4 };	/* vmxoff; hlt */
	/* mov eax,[esp]; out 84h,eax; hlt */
	static const uint8_t handler[] = { 0x8b, 0x04, 0x24, 0xe7, 0x84, 0xf4 };
	load(f, 0x1000, code, sizeof(code));
	load(f, 0x2000, handler, sizeof(handler));
	set_gate(f, 6, 0x2000);
	enter_protected_idt(f, 0x1000);
	expect_io(f, 0x84, HV_EXIT_IO_OUT, 4, 0x1000);
}

static uint64_t stat(struct fx *f, const char *name)
{
	struct hv_stat st[256];
	const int n = hv_get_stats(f->vm, st, 256);
	assert_true(n > 0 && n <= 256);
	for (int i = 0; i < n; i++)
		if (!strcmp(st[i].name, name))
			return st[i].value;
	fail_msg("no statistic %s", name);
	return 0;
}

/* #UD whose delivery first touches the IDT's and the stack's pages: the
 * delivery exits (EPT violation with the event in the IDT-vectoring
 * information, Vol. 3C 28.2.4) and must be re-injected; the handler
 * runs exactly once. */
static void test_reinjection(void **state)
{
	struct fx *f = *state;
	static const uint8_t code[] = { 0x0f, 0x0b, 0xf4 };	/* ud2; hlt */
	/* inc dword [5000h]; mov al,66h; out 80h,al; hlt */
	static const uint8_t handler[] = { 0xff, 0x05, 0x00, 0x50, 0x00, 0x00,
					   0xb0, 0x66, 0xe6, 0x80, 0xf4 };
	load(f, 0x1000, code, sizeof(code));
	load(f, 0x2000, handler, sizeof(handler));
	put32(f, 0x5000, 0);
	set_gate(f, 6, 0x2000);
	enter_protected_idt(f, 0x1000);
	expect_io(f, 0x80, HV_EXIT_IO_OUT, 1, 0x66);
	assert_int_equal(get32(f, 0x5000), 1);
	assert_true(stat(f, "reinjections") >= 1);
	/* The frame: EIP of the UD2, CS, EFLAGS (Vol. 3A 6.12.1). */
	assert_int_equal(get32(f, STACK_TOP - 12), 0x1000);
	assert_int_equal(get32(f, STACK_TOP - 8), SEL_CODE);
}

/* An external interrupt whose delivery first touches the IDT page: an
 * interrupt is never regenerated by re-running the guest, so without
 * re-injection the handler would never run (the guest spins, bounded
 * by max_insns). The frame holds the EIP of the interrupted JMP. */
static void test_reinjection_extint(void **state)
{
	struct fx *f = *state;
	static const uint8_t code[] = { 0xfb, 0xeb, 0xfe };	/* sti; jmp $ */
	/* inc dword [5000h]; mov al,66h; out 80h,al; hlt */
	static const uint8_t handler[] = { 0xff, 0x05, 0x00, 0x50, 0x00, 0x00,
					   0xb0, 0x66, 0xe6, 0x80, 0xf4 };
	load(f, 0x1000, code, sizeof(code));
	load(f, 0x2000, handler, sizeof(handler));
	put32(f, 0x5000, 0);
	set_gate(f, 0x30, 0x2000);
	enter_protected_idt(f, 0x1000);
	assert_int_equal(hv_interrupt(f->vcpu, 0x30), 0);
	f->run.max_insns = 100000;
	expect_io(f, 0x80, HV_EXIT_IO_OUT, 1, 0x66);
	assert_int_equal(get32(f, 0x5000), 1);
	assert_int_equal(get32(f, STACK_TOP - 12), 0x1001);
	assert_int_equal(get32(f, STACK_TOP - 8), SEL_CODE);
	assert_true(get32(f, STACK_TOP - 4) & 0x200);	/* IF was set */
	/* Inside an interrupt gate IF = 0: the HLT goes to the VMM. */
	expect_exit(f, HV_EXIT_HLT);
}

/* CS must be an accessed code segment (type 9, 11, 13, 15) or, with
 * unrestricted guest, type 3 (27.3.1.2); type 8, code not yet accessed,
 * is a state the processor refuses at VM entry: exit reason 33 with
 * bit 31. */
static void test_fail_entry(void **state)
{
	struct fx *f = *state;
	static const uint8_t code[] = { 0xf4 };
	load(f, 0x1000, code, sizeof(code));
	enter_protected(f, 0x1000);
	struct hv_sregs s;
	assert_int_equal(hv_get_sregs(f->vcpu, &s), 0);
	s.cs.type = 0x8;
	assert_int_equal(hv_set_sregs(f->vcpu, &s), 0);
	expect_exit(f, HV_EXIT_FAIL_ENTRY);
	assert_int_equal(f->run.fail_entry.hardware_exit_reason, 0x80000021u);
}

/* The SYSCALL MSRs are the guest's own (no exit); EFER is not. The
 * values read back are what WRMSR wrote (Vol. 4 LSTAR, Vol. 3A 2.2.1);
 * LSTAR takes only a canonical address. */
static void test_msrs(void **state)
{
	struct fx *f = *state;
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
	load(f, 0x1000, code, sizeof(code));
	enter_protected(f, 0x1000);
	const uint64_t before = stat(f, "msr_exits");
	expect_io(f, 0x84, HV_EXIT_IO_OUT, 4, 0x89abcdef);
	struct hv_regs r;
	assert_int_equal(hv_get_regs(f->vcpu, &r), 0);
	assert_int_equal(r.rdx, 0xffffffff);
	assert_int_equal(stat(f, "msr_exits"), before);
	expect_io(f, 0x84, HV_EXIT_IO_OUT, 4, 0);
	assert_int_equal(stat(f, "msr_exits"), before + 1);
}

/* ---------------------------------------------------------------- CR2, DRs */

/* 32-bit PAE paging over the first 8 MiB (2 MiB pages, Vol. 3A 4.4)
 * with the IDT and stack of enter_protected_idt. */
static void enter_pae_idt(struct fx *f, uint64_t rip)
{
	put64(f, PML4, (PML4 + 0x1000) | 1);
	for (uint64_t i = 0; i < 4; i++)
		put64(f, PML4 + 0x1000 + 8 * i, (i << 21) | 0x83);
	enter_protected_idt(f, rip);
	struct hv_sregs s;
	assert_int_equal(hv_get_sregs(f->vcpu, &s), 0);
	s.cr0 = 0x80000011;
	s.cr4 = 0x20;
	s.cr3 = PML4;
	assert_int_equal(hv_set_sregs(f->vcpu, &s), 0);
}

/* CR2 is one register for the VMM's view and the guest's MOV: a value
 * set through hv_set_sregs is what the guest reads, and a #PF (Vol. 3A
 * 6.15 "Interrupt 14": CR2 = the faulting linear address) shows in
 * hv_get_sregs while its handler runs, before and after the handler
 * itself reads it. */
static void test_cr2(void **state)
{
	struct fx *f = *state;
	/* mov eax,cr2; out 84h,eax; mov eax,[900000h]; hlt */
	static const uint8_t code[] = { 0x0f, 0x20, 0xd0, 0xe7, 0x84,
					0xa1, 0x00, 0x00, 0x90, 0x00, 0xf4 };
	/* mov al,0eh; out 80h,al; mov eax,cr2; out 84h,eax; hlt */
	static const uint8_t handler[] = { 0xb0, 0x0e, 0xe6, 0x80, 0x0f, 0x20, 0xd0,
					   0xe7, 0x84, 0xf4 };
	load(f, 0x1000, code, sizeof(code));
	load(f, 0x2000, handler, sizeof(handler));
	set_gate(f, 14, 0x2000);
	enter_pae_idt(f, 0x1000);
	struct hv_sregs s;
	assert_int_equal(hv_get_sregs(f->vcpu, &s), 0);
	s.cr2 = 0xfeedf00d;
	assert_int_equal(hv_set_sregs(f->vcpu, &s), 0);
	expect_io(f, 0x84, HV_EXIT_IO_OUT, 4, 0xfeedf00d);
	/* 900000H is past the four PDEs: not present, #PF. */
	expect_io(f, 0x80, HV_EXIT_IO_OUT, 1, 0x0e);
	assert_int_equal(hv_get_sregs(f->vcpu, &s), 0);
	assert_int_equal(s.cr2, 0x900000);
	expect_io(f, 0x84, HV_EXIT_IO_OUT, 4, 0x900000);
	assert_int_equal(get32(f, STACK_TOP - 16), 0);		/* error code: not present */
	assert_int_equal(get32(f, STACK_TOP - 12), 0x1005);	/* the faulting MOV */
}

/* DR0-3 and DR6 are not in the VMCS (Vol. 3C 25.4.1 lists only DR7) and
 * VM exits do not touch them (28.5.1 changes only DR7): what the guest
 * wrote survives an exit, and MOV DR itself needs none. The VMM's view
 * (get_dr/set_dr) is the same registers; DR6 reads back with its fixed
 * bits, FFFF0FF0H | the status bits written (Vol. 3B 18.2.3). */
static void test_debug_registers_across_exit(void **state)
{
	struct fx *f = *state;
	static const uint8_t code[] = {
		0xb8, 0x78, 0x56, 0x34, 0x12,	/* mov eax,12345678h */
		0x0f, 0x23, 0xc0,		/* mov dr0,eax */
		0xb8, 0x01, 0x40, 0x00, 0x00,	/* mov eax,4001h (BS, B0) */
		0x0f, 0x23, 0xf0,		/* mov dr6,eax */
		0xe6, 0x80,			/* out 80h,al */
		0x0f, 0x21, 0xc3,		/* mov ebx,dr0 */
		0x0f, 0x21, 0xf1,		/* mov ecx,dr6 */
		0x0f, 0x21, 0xca,		/* mov edx,dr1 */
		0x0f, 0x21, 0xfe,		/* mov esi,dr7 */
		0xf4,
	};
	load(f, 0x1000, code, sizeof(code));
	enter_protected(f, 0x1000);
	const uint64_t dr_exits = stat(f, "exits_dr");
	expect_io(f, 0x80, HV_EXIT_IO_OUT, 1, 0x01);
	assert_int_equal(vmx_backend_ops.get_dr(f->vcpu, 0), 0x12345678);
	assert_int_equal(vmx_backend_ops.get_dr(f->vcpu, 6), 0xffff4ff1);
	/* What the VMM sets is what the guest reads at the next entry.
	 * DR7 = L0 with R/W0 = LEN0 = 00 arms nothing the guest reaches
	 * (DR0 is not code) and reads back with bit 10, which is always 1
	 * (Vol. 3B 18.2.4). */
	vmx_backend_ops.set_dr(f->vcpu, 1, 0xabcd0000);
	vmx_backend_ops.set_dr(f->vcpu, 7, 0x1);
	expect_exit(f, HV_EXIT_HLT);
	struct hv_regs r;
	assert_int_equal(hv_get_regs(f->vcpu, &r), 0);
	assert_int_equal(r.rbx, 0x12345678);
	assert_int_equal(r.rcx, 0xffff4ff1);
	assert_int_equal(r.rdx, 0xabcd0000);
	assert_int_equal(r.rsi, 0x401);
	assert_int_equal(stat(f, "exits_dr"), dr_exits);
}

/* A single-step #DB (RFLAGS.TF, Vol. 3B 18.3.1.4: a trap after the
 * instruction) intercepted through the exception bitmap, as core's
 * guest debugging does: the exit is an exception exit with vector 1 and
 * BS (bit 14) in the exit qualification (Vol. 3C Table 28-1), RIP past
 * the stepped instruction, and the guest's DR6 untouched (27.1: a #DB
 * that exits does not modify DR6). Driven through the backend ops, so
 * the exit is the backend's decode, not core's reaction to it. */
static void test_single_step_exit(void **state)
{
	struct fx *f = *state;
	static const uint8_t code[] = { 0xe6, 0x80, 0x90, 0x90, 0xf4 };	/* out 80h,al; nop; nop; hlt */
	load(f, 0x1000, code, sizeof(code));
	enter_protected(f, 0x1000);
	expect_io(f, 0x80, HV_EXIT_IO_OUT, 1, 0);
	struct hv_regs r;
	assert_int_equal(hv_get_regs(f->vcpu, &r), 0);
	r.rip = 0x1002;
	r.rflags |= 0x100;				/* TF */
	assert_int_equal(hv_set_regs(f->vcpu, &r), 0);
	vmx_backend_ops.set_exception_intercepts(f->vcpu, 1u << 1);
	struct hv_exit x;
	do {
		assert_int_equal(vmx_backend_ops.run(f->vcpu), 0);
		memset(&x, 0, sizeof(x));
		vmx_backend_ops.decode_exit(f->vcpu, &x);
	} while (x.reason == HVX_EXTINT);
	assert_int_equal(x.reason, HVX_EXCEPTION);
	assert_int_equal(x.exc.vector, 1);
	assert_false(x.exc.has_error_code);
	assert_int_equal(x.exc.dr6 & 0x600f, 0x4000);	/* BS; no B0-B3, BD */
	assert_int_equal(vmx_backend_ops.get_rip(f->vcpu), 0x1003);
	assert_int_equal(vmx_backend_ops.get_dr(f->vcpu, 6), 0xffff0ff0);
}

/* hv_debug_guest single-step across STI (Vol. 3B 18.3.1.4: a trap after
 * each instruction; STI blocks only maskable interrupts, Vol. 3A 6.8.3):
 * the first step exits right after the STI, inside its shadow. Entering
 * again with TF set under blocking by STI needs BS pending (Vol. 3C
 * 27.3.1.5), or the processor refuses the guest state; stepping must
 * carry on to the OUT. */
static void test_single_step_after_sti(void **state)
{
	struct fx *f = *state;
	/* sti; nop; nop; out 80h,al; hlt */
	static const uint8_t code[] = { 0xfb, 0x90, 0x90, 0xe6, 0x80, 0xf4 };
	load(f, 0x1000, code, sizeof(code));
	enter_protected(f, 0x1000);
	const struct hv_guest_debug d = { .control = HV_GUESTDBG_ENABLE | HV_GUESTDBG_SINGLESTEP };
	assert_int_equal(hv_debug_guest(f->vcpu, &d), 0);
	expect_exit(f, HV_EXIT_DEBUG);
	assert_int_equal(f->run.debug.exception, 1);
	assert_int_equal(f->run.debug.pc, 0x1001);
	assert_true(f->run.debug.dr6 & 0x4000);			/* BS */
	unsigned steps = 0;
	for (;;) {
		run_ok(f);
		if (f->run.exit_reason != HV_EXIT_DEBUG)
			break;
		assert_true(f->run.debug.dr6 & 0x4000);
		assert_true(f->run.debug.pc > 0x1000 && f->run.debug.pc <= 0x1003);
		assert_true(++steps <= 4);
	}
	assert_int_equal(f->run.exit_reason, HV_EXIT_IO);
	assert_int_equal(f->run.io.port, 0x80);
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

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_reset_state),
		T(test_reset_vector_out),
		T(test_real_in_and_hlt),
		T(test_real_out_word),
		T(test_real_cr_reads),
		T(test_real_debug_registers),
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
		T(test_cr2),
		T(test_debug_registers_across_exit),
		T(test_single_step_exit),
		T(test_single_step_after_sti),
		cmocka_unit_test(test_exit_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
