/*
 * test_core_invalid_state.c — guests VMX cannot enter without
 * unrestricted guest, on vmx with the shadow-flush MMU (no EPT): the
 * backend's runnable check rule by rule, and real mode and the switches
 * to and from it running in the emulator (core/invalid_state.c).
 * Skipped when vmx or shadow-flush is not built in.
 *
 * x86 truth used (Intel SDM):
 *  - Vol. 3C 27.3.1.1 (26.3.1.1 before 2023): without "unrestricted
 *    guest", CR0.PE must be 1 at VM entry. 27.3.1.2: outside virtual-8086
 *    mode, CS must be accessed code (type 9, 11, 13, 15), S = 1, P = 1,
 *    DPL = SS.DPL (non-conforming) or <= SS.DPL (conforming); SS.RPL =
 *    CS.RPL and SS.DPL = SS.RPL; a usable SS is type 3 or 7 with S and
 *    P; a usable DS/ES/FS/GS is accessed, not execute-only code, S = 1,
 *    P = 1, and for types 0-11 DPL >= RPL; in virtual-8086 mode every
 *    one of them has base = selector * 16, limit FFFFH, rights F3H.
 *  - Vol. 3A 20.1.4: a real-mode interrupt or exception reads the 4-byte
 *    IVT entry (offset, segment) at vector * 4, pushes FLAGS, CS, IP and
 *    clears IF, TF, AC; an entry beyond the IDTR limit raises #GP, and
 *    two contributory faults make #DF, a fault delivering #DF shuts the
 *    processor down (6.15 Table 6-5).
 *  - Vol. 3A 6.5: a fault's saved IP is the faulting instruction's (#UD
 *    from UD2); INT n saves the next instruction's.
 *  - Vol. 3A 10.9.1: after MOV CR0 sets PE, the segment registers keep
 *    their real-mode contents until reloaded (the far JMP reloads CS).
 *  - Vol. 2B STI: interrupts are recognized after the instruction that
 *    follows STI.
 * Encodings: Vol. 2, hand-assembled 16-bit (and 32-bit) code, the source
 * beside each byte string.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/invalid_state.h"
#include "hvlab/hv.h"
#include "tests/unit/support/hvguest.h"

/* Is @name one of the space-separated names in @list? */
static bool listed(const char *list, const char *name)
{
	const size_t n = strlen(name);
	for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

/* A VM on vmx with shadow-flush, or skip the test. */
static void create(struct hvg *g)
{
	if (!listed(hv_backends(), "vmx") || !listed(hv_mmus(), "shadow-flush"))
		skip();
	hvg_create_with(g, "vmx", "shadow-flush", HVG_RAM);
}

/* ------------------------------------------------------------ the check */

/* Flat protected mode as hvg_enter_protected makes it: CS 08H type 11,
 * SS DS ES FS GS 10H type 3, all DPL 0. */
static struct hv_sregs prot(struct hvg *g)
{
	struct hv_sregs s;
	hvg_enter_protected(g, HVG_CODE);
	assert_int_equal(hv_get_sregs(g->vcpu, &s), 0);
	return s;
}

static bool runnable(struct hvg *g, const struct hv_sregs *s)
{
	assert_int_equal(hv_set_sregs(g->vcpu, s), 0);
	return vcpu_state_runnable(g->vcpu);
}

static void test_check_pe(void **state)
{
	struct hvg g;
	create(&g);
	struct hv_sregs s = prot(&g);
	assert_true(runnable(&g, &s));
	s.cr0 &= ~HVG_CR0_PE;
	assert_false(runnable(&g, &s));
	hvg_enter_real(&g, HVG_CODE);
	assert_false(vcpu_state_runnable(g.vcpu));
	hvg_destroy(&g);
}

static void test_check_cs(void **state)
{
	struct hvg g;
	create(&g);
	const struct hv_sregs base = prot(&g);
	struct hv_sregs s;

	s = base, s.cs.type = 0x3;		/* data */
	assert_false(runnable(&g, &s));
	s = base, s.cs.type = 0xa;		/* code, not accessed */
	assert_false(runnable(&g, &s));
	s = base, s.cs.type = 0x9;		/* execute-only, accessed */
	assert_true(runnable(&g, &s));
	s = base, s.cs.s = 0;
	assert_false(runnable(&g, &s));
	s = base, s.cs.present = 0;
	assert_false(runnable(&g, &s));
	s = base, s.cs.dpl = 1;			/* non-conforming: DPL != SS.DPL */
	assert_false(runnable(&g, &s));
	s = base, s.cs.type = 0xf, s.cs.dpl = 0;	/* conforming, DPL 0 <= 0 */
	assert_true(runnable(&g, &s));
	s = base, s.cs.type = 0xf, s.cs.dpl = 2;	/* conforming, DPL 2 > 0 */
	assert_false(runnable(&g, &s));
	hvg_destroy(&g);
}

static void test_check_ss(void **state)
{
	struct hvg g;
	create(&g);
	const struct hv_sregs base = prot(&g);
	struct hv_sregs s;

	/* A conforming CS of DPL 0 accepts any SS.DPL >= 0, which isolates
	 * the selector rules. */
	s = base, s.cs.type = 0xf, s.ss.selector = 0x13, s.ss.dpl = 3;
	assert_false(runnable(&g, &s));		/* SS.RPL 3, CS.RPL 0 */
	s.cs.selector = 0x0b;
	assert_true(runnable(&g, &s));		/* both RPL 3 */
	s = base, s.cs.type = 0xf, s.ss.dpl = 3;
	assert_false(runnable(&g, &s));		/* SS.DPL 3, SS.RPL 0 */
	s = base, s.ss.type = 0x1;		/* read-only data */
	assert_false(runnable(&g, &s));
	s = base, s.ss.type = 0x7;		/* expand-down read/write */
	assert_true(runnable(&g, &s));
	s = base, s.ss.s = 0;
	assert_false(runnable(&g, &s));
	s = base, s.ss.present = 0;
	assert_false(runnable(&g, &s));
	s = base, s.ss.unusable = 1;		/* only the DPL/RPL rules remain */
	assert_true(runnable(&g, &s));
	hvg_destroy(&g);
}

static void test_check_data(void **state)
{
	struct hvg g;
	create(&g);
	const struct hv_sregs base = prot(&g);
	for (unsigned k = 0; k < 4; k++) {
		struct hv_sregs s = base;
		struct hv_segment *d = k == 0 ? &s.ds : k == 1 ? &s.es : k == 2 ? &s.fs : &s.gs;
		const struct hv_segment good = *d;

		*d = good, d->type = 0x2;		/* not accessed */
		assert_false(runnable(&g, &s));
		*d = good, d->type = 0x9;		/* execute-only code */
		assert_false(runnable(&g, &s));
		*d = good, d->type = 0xb;		/* readable code */
		assert_true(runnable(&g, &s));
		*d = good, d->s = 0;
		assert_false(runnable(&g, &s));
		*d = good, d->present = 0;
		assert_false(runnable(&g, &s));
		*d = good, d->selector = 0x13;		/* DPL 0 < RPL 3 */
		assert_false(runnable(&g, &s));
		*d = good, d->selector = 0x13, d->type = 0xf;	/* conforming: exempt */
		assert_true(runnable(&g, &s));
		*d = good, d->selector = 0x13, d->dpl = 3;
		assert_true(runnable(&g, &s));
		*d = good, d->unusable = 1, d->type = 0;	/* unusable: unchecked */
		assert_true(runnable(&g, &s));
	}
	hvg_destroy(&g);
}

/* Virtual-8086 mode: every segment as real mode would load it. */
static void test_check_v86(void **state)
{
	struct hvg g;
	create(&g);
	struct hv_sregs s = prot(&g);
	struct hv_segment *segs[] = { &s.cs, &s.ss, &s.ds, &s.es, &s.fs, &s.gs };
	for (unsigned i = 0; i < 6; i++)
		*segs[i] = (struct hv_segment){ .selector = (uint16_t)(0x100 + i),
						.base = (0x100u + i) << 4, .limit = 0xffff,
						.type = 3, .s = 1, .dpl = 3, .present = 1 };
	assert_int_equal(hv_set_sregs(g.vcpu, &s), 0);
	struct hv_regs r = hvg_regs(&g);
	r.rflags = 0x2 | (1u << 17);		/* VM */
	hvg_set_regs(&g, &r);
	assert_true(vcpu_state_runnable(g.vcpu));
	for (unsigned i = 0; i < 6; i++) {
		const struct hv_segment good = *segs[i];
		segs[i]->base += 1;
		assert_false(runnable(&g, &s));
		*segs[i] = good, segs[i]->limit = 0xfffff;
		assert_false(runnable(&g, &s));
		*segs[i] = good, segs[i]->dpl = 0;
		assert_false(runnable(&g, &s));
		*segs[i] = good;
		assert_true(runnable(&g, &s));
	}
	hvg_destroy(&g);
}

/* ------------------------------------------------------------ running */

/* The whole of real mode runs in the emulator: OUT goes to the VMM,
 * HLT with IF = 0 ends the run, and no VM exit happens. */
static void test_real_mode_runs_emulated(void **state)
{
	static const uint8_t code[] = { 0xb0, 0x01, 0xe6, 0x80, 0xf4 };	/* mov al,1; out 80h,al; hlt */
	struct hvg g;
	create(&g);
	hvg_load(&g, HVG_CODE, code, sizeof(code));
	hvg_enter_real(&g, HVG_CODE);
	hvg_expect_io(&g, 0x80, HV_EXIT_IO_OUT, 1, 1);
	assert_int_equal(hvg_run(&g), HV_EXIT_HLT);
	assert_int_equal(hvg_regs(&g).rip, HVG_CODE + sizeof(code));
	assert_int_equal(hvg_stat(&g, "exits"), 0);
	assert_true(hvg_stat(&g, "insn_emulation") >= 3);
	assert_true(g.run.insns >= 3);		/* the emulator's count the vcpu's */
	hvg_destroy(&g);
}

/* INT n through the IVT: the handler's frame holds IP past INT n, IRET
 * comes back there with SP where it was. Handler (0000:5000):
 *   mov si,sp; mov ax,[si]; mov [9000h],ax; mov al,99h; iret */
static void test_real_mode_int(void **state)
{
	static const uint8_t code[] = { 0xcd, 0x42, 0xe6, 0x80, 0xfa, 0xf4 };	/* int 42h; out 80h,al; cli; hlt */
	static const uint8_t handler[] = { 0x89, 0xe6, 0x8b, 0x04, 0xa3, 0x00, 0x90,
					   0xb0, 0x99, 0xcf };
	struct hvg g;
	create(&g);
	hvg_load(&g, HVG_CODE, code, sizeof(code));
	hvg_load(&g, HVG_HANDLER, handler, sizeof(handler));
	hvg_put32(&g, 0x42 * 4, (uint32_t)HVG_HANDLER);		/* 0000:5000 */
	hvg_enter_real(&g, HVG_CODE);
	hvg_expect_io(&g, 0x80, HV_EXIT_IO_OUT, 1, 0x99);
	assert_int_equal(hvg_get32(&g, HVG_DATA) & 0xffff, HVG_CODE + 2);
	assert_int_equal(hvg_regs(&g).rsp & 0xffff, HVG_STACK);
	assert_int_equal(hvg_run(&g), HV_EXIT_HLT);
	hvg_destroy(&g);
}

/* A fault (#UD from UD2) saves the faulting IP. Handler for vector 6:
 *   mov si,sp; mov ax,[si]; mov [9000h],ax; cli; hlt */
static void test_real_mode_fault(void **state)
{
	static const uint8_t code[] = { 0x0f, 0x0b };				/* ud2 */
	static const uint8_t handler[] = { 0x89, 0xe6, 0x8b, 0x04, 0xa3, 0x00, 0x90,
					   0xfa, 0xf4 };
	struct hvg g;
	create(&g);
	hvg_load(&g, HVG_CODE, code, sizeof(code));
	hvg_load(&g, HVG_HANDLER, handler, sizeof(handler));
	hvg_put32(&g, 6 * 4, (uint32_t)HVG_HANDLER);
	hvg_enter_real(&g, HVG_CODE);
	assert_int_equal(hvg_run(&g), HV_EXIT_HLT);
	assert_int_equal(hvg_get32(&g, HVG_DATA) & 0xffff, HVG_CODE);
	assert_int_equal(hvg_regs(&g).rsp & 0xffff, HVG_STACK - 6);
	hvg_destroy(&g);
}

/* An IVT limit of 0: INT 42h raises #GP, whose entry is beyond the limit
 * too (#DF), and so is #DF's: shutdown. */
static void test_real_mode_triple_fault(void **state)
{
	static const uint8_t code[] = { 0xcd, 0x42, 0xf4 };		/* int 42h; hlt */
	struct hvg g;
	struct hv_sregs s;
	create(&g);
	hvg_load(&g, HVG_CODE, code, sizeof(code));
	hvg_enter_real(&g, HVG_CODE);
	assert_int_equal(hv_get_sregs(g.vcpu, &s), 0);
	s.idt.limit = 0;
	assert_int_equal(hv_set_sregs(g.vcpu, &s), 0);
	assert_int_equal(hvg_run(&g), HV_EXIT_SHUTDOWN);
	hvg_destroy(&g);
}

/* An interrupt raised while IF = 0 is taken after STI and the one
 * instruction STI shadows. Handler for 50h: mov ax,[9010h];
 * mov [9020h],ax; iret */
static void test_real_mode_sti_shadow(void **state)
{
	static const uint8_t code[] = {
		0xfb,				/* sti */
		0xfe, 0x06, 0x10, 0x90,		/* inc byte [9010h] */
		0xfe, 0x06, 0x11, 0x90,		/* inc byte [9011h] */
		0xfa, 0xf4,			/* cli; hlt */
	};
	static const uint8_t handler[] = { 0xa1, 0x10, 0x90, 0xa3, 0x20, 0x90, 0xcf };
	struct hvg g;
	create(&g);
	hvg_load(&g, HVG_CODE, code, sizeof(code));
	hvg_load(&g, HVG_HANDLER, handler, sizeof(handler));
	hvg_put32(&g, 0x50 * 4, (uint32_t)HVG_HANDLER);
	hvg_put32(&g, HVG_DATA + 0x20, 0xffff);
	hvg_enter_real(&g, HVG_CODE);
	assert_int_equal(hv_interrupt(g.vcpu, 0x50), 0);
	assert_int_equal(hvg_run(&g), HV_EXIT_HLT);
	assert_int_equal(hvg_get32(&g, HVG_DATA + 0x10) & 0xffff, 0x0101);
	assert_int_equal(hvg_get32(&g, HVG_DATA + 0x20) & 0xffff, 0x0001);
	hvg_destroy(&g);
}

/*
 * Real mode to protected mode. DS holds the real-mode selector 0003H
 * (RPL 3 over a DPL 0 cache) after the far JMP, which VM entry refuses,
 * so the first OUT still runs in the emulator; once MOV DS reloads it the
 * processor takes over and the second OUT is a VM exit.
 */
static void test_real_to_protected(void **state)
{
	static const uint8_t code[] = {
		0x0f, 0x01, 0x16, 0x00, 0x18,	/* lgdt [1800h] */
		0xb8, 0x03, 0x00,		/* mov ax,3 */
		0x8e, 0xd8,			/* mov ds,ax */
		0x0f, 0x20, 0xc0,		/* mov eax,cr0 */
		0x0c, 0x01,			/* or al,1 */
		0x0f, 0x22, 0xc0,		/* mov cr0,eax */
		0xea, 0x17, 0x40, 0x08, 0x00,	/* jmp 0008h:4017h */
		/* 4017h, 32-bit code: */
		0xe6, 0x80,			/* out 80h,al */
		0x66, 0xb8, 0x10, 0x00,		/* mov ax,10h */
		0x8e, 0xd8,			/* mov ds,ax */
		0xe6, 0x81,			/* out 81h,al */
		0xf4,				/* hlt */
	};
	struct hvg g;
	struct hv_sregs s;
	create(&g);
	hvg_load(&g, HVG_CODE, code, sizeof(code));
	/* GDT at 1000h: null, 08H flat 32-bit code, 10H flat data (3.4.5). */
	hvg_put64(&g, 0x1000, 0);
	hvg_put64(&g, 0x1008, 0x00cf9b000000ffffull);
	hvg_put64(&g, 0x1010, 0x00cf93000000ffffull);
	hvg_put32(&g, 0x1800, 0x00000017 | (0x1000u << 16));	/* limit 17h, base 1000h */
	hvg_put32(&g, 0x1804, 0);
	hvg_enter_real(&g, HVG_CODE);

	hvg_expect_io(&g, 0x80, HV_EXIT_IO_OUT, 1, 0x11);	/* CR0 low byte: ET | PE */
	assert_int_equal(hvg_stat(&g, "exits"), 0);
	assert_int_equal(hv_get_sregs(g.vcpu, &s), 0);
	assert_true(s.cr0 & HVG_CR0_PE);
	assert_int_equal(s.cs.selector, 0x08);
	assert_int_equal(s.ds.selector, 0x03);		/* kept from real mode */
	assert_int_equal(s.ds.base, 0x30);
	assert_false(vcpu_state_runnable(g.vcpu));

	hvg_expect_io(&g, 0x81, HV_EXIT_IO_OUT, 1, 0x10);
	assert_true(hvg_stat(&g, "exits") >= 1);
	assert_true(vcpu_state_runnable(g.vcpu));
	assert_int_equal(hvg_run(&g), HV_EXIT_HLT);
	hvg_destroy(&g);
}

/* max_insns and deadline_ns stop a real-mode loop: the emulated
 * instructions count, and virtual time moves while they run. */
static void test_real_mode_limits(void **state)
{
	static const uint8_t code[] = { 0xeb, 0xfe };	/* jmp $ */
	struct hvg g;
	create(&g);
	hvg_load(&g, HVG_CODE, code, sizeof(code));
	hvg_enter_real(&g, HVG_CODE);
	g.run.max_insns = 1000;
	assert_int_equal(hvg_run(&g), HV_EXIT_DEADLINE);
	assert_true(g.run.insns >= 1000);
	g.run.max_insns = 0;
	const uint64_t t0 = hv_clock_ns(g.vm);
	g.run.deadline_ns = t0 + 100000;		/* 100 us of guest time */
	assert_int_equal(hvg_run(&g), HV_EXIT_DEADLINE);
	assert_true(hv_clock_ns(g.vm) >= t0 + 100000);
	assert_int_equal(hvg_regs(&g).rip, HVG_CODE);
	hvg_destroy(&g);
}

#define T(fn) cmocka_unit_test_teardown(fn, hvg_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_check_pe),
		T(test_check_cs),
		T(test_check_ss),
		T(test_check_data),
		T(test_check_v86),
		T(test_real_mode_runs_emulated),
		T(test_real_mode_int),
		T(test_real_mode_fault),
		T(test_real_mode_triple_fault),
		T(test_real_mode_sti_shadow),
		T(test_real_to_protected),
		T(test_real_mode_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
