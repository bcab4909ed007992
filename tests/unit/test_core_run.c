/*
 * test_core_run.c — hv_run() (KVM_RUN) through the public API, on every
 * backend, with guests in IA-32e mode: why it returns (HLT, DEADLINE,
 * INTR), external interrupts raised with hv_interrupt, and the
 * completion rules of I/O and MMIO exits.
 *
 * x86 truth used (Intel SDM):
 *  - HLT stops the processor; an interrupt resumes it at the instruction
 *    after the HLT, which is the return address the handler's frame holds
 *    (Vol. 2A HLT, Vol. 3A 6.12.1 Figure 6-9 for the IA-32e frame).
 *  - STI: interrupts are recognized only after the instruction following
 *    STI (Vol. 2B STI, "interrupt shadow").
 *  - 64-bit mode: a 32-bit destination is zero-extended into the whole
 *    register, 8- and 16-bit destinations leave the other bits alone
 *    (Vol. 1 3.4.1.1); MOVSX/MOVZX extend as named (Vol. 2B).
 *  - REP OUTS/INS repeat one element per iteration, advancing RSI/RDI and
 *    decrementing RCX each time (Vol. 2B REP, OUTS, INS), so an exit per
 *    element shows the progress so far.
 * Encodings: Vol. 2, hand-assembled, the source beside each byte string.
 */
#include <assert.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hvlab/hv.h"
#include "tests/unit/support/hvguest.h"

#define MMIO 0x40000000u	/* 1 GiB: no memory there, mapped by hvg_enter_long */

static void load_code(struct hvg *g, const void *code, size_t len)
{
	hvg_load(g, HVG_CODE, code, len);
	hvg_enter_long(g, HVG_CODE);
}

/* HLT with IF = 0: out to the VMM, RIP past the HLT, if_flag clear. */
static void test_hlt_if0(void **state)
{
	static const uint8_t code[] = { 0xfa, 0xf4 };	/* cli; hlt */
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		hvg_create(&g, name);
		load_code(&g, code, sizeof(code));
		assert_int_equal(hvg_run(&g), HV_EXIT_HLT);
		assert_false(g.run.if_flag);
		assert_false(g.run.ready_for_interrupt_injection);
		assert_int_equal(hvg_regs(&g).rip, HVG_CODE + 2);
		assert_int_equal(hvg_stat(&g, "halt_exits"), 1);
		hvg_destroy(&g);
	}
}

/* Handler for vector @v at @at: store v at HVG_DATA and the return RIP of
 * its frame at HVG_DATA + 8, then IRETQ.
 *   mov byte [HVG_DATA], v; mov rax,[rsp]; mov [HVG_DATA+8],rax; iretq */
static void load_handler(struct hvg *g, uint64_t at, uint8_t v)
{
	const uint8_t h[] = { 0xc6, 0x04, 0x25, 0x00, 0x90, 0x00, 0x00, v,
			      0x48, 0x8b, 0x04, 0x24,
			      0x48, 0x89, 0x04, 0x25, 0x08, 0x90, 0x00, 0x00,
			      0x48, 0xcf };
	static_assert(HVG_DATA == 0x9000, "the handler's addresses");
	hvg_load(g, at, h, sizeof(h));
}

/* A guest in HLT with IF = 1 and nothing pending: hv_run returns
 * HV_EXIT_HLT, ready for an interrupt. hv_interrupt(0x41) then wakes it:
 * the handler for 0x41 (not 0x40's) runs, its frame returns past the
 * HLT, and the guest goes on there. */
static void test_interrupt_wakes_hlt(void **state)
{
	/* sti; hlt; out 80h,al; cli; hlt */
	static const uint8_t code[] = { 0xfb, 0xf4, 0xe6, 0x80, 0xfa, 0xf4 };
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		hvg_create(&g, name);
		load_code(&g, code, sizeof(code));
		load_handler(&g, HVG_HANDLER, 0x40);
		load_handler(&g, HVG_HANDLER + 0x40, 0x41);
		hvg_set_gate(&g, 0x40, HVG_HANDLER);
		hvg_set_gate(&g, 0x41, HVG_HANDLER + 0x40);

		assert_int_equal(hvg_run(&g), HV_EXIT_HLT);
		assert_true(g.run.if_flag);
		assert_true(g.run.ready_for_interrupt_injection);
		assert_int_equal(hvg_get32(&g, HVG_DATA), 0);

		assert_int_equal(hv_interrupt(g.vcpu, 0x41), 0);
		/* AL: the handler left the low byte of its return RIP there. */
		hvg_expect_io(&g, 0x80, HV_EXIT_IO_OUT, 1, (HVG_CODE + 2) & 0xff);
		assert_int_equal(hvg_get32(&g, HVG_DATA) & 0xff, 0x41);
		assert_int_equal(hvg_get64(&g, HVG_DATA + 8), HVG_CODE + 2);
		assert_int_equal(hvg_run(&g), HV_EXIT_HLT);
		assert_false(g.run.if_flag);
		hvg_destroy(&g);
	}
}

/* The same in real mode: the vector goes through the IVT at 0 (SDM Vol.
 * 3A 20.1.4: 4-byte entries, offset then segment), and the frame holds
 * FLAGS, CS, IP with IP past the HLT. Handler for 0x41:
 *   mov byte [9000h],41h; pop ax; push ax; mov [9008h],ax; iret */
static void test_interrupt_real_mode(void **state)
{
	static const uint8_t code[] = { 0xfb, 0xf4, 0xe6, 0x80, 0xfa, 0xf4 };
	static const uint8_t handler[] = { 0xc6, 0x06, 0x00, 0x90, 0x41,
					   0x58, 0x50, 0xa3, 0x08, 0x90, 0xcf };
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		hvg_create(&g, name);
		hvg_load(&g, HVG_CODE, code, sizeof(code));
		hvg_load(&g, HVG_HANDLER, handler, sizeof(handler));
		hvg_put32(&g, 0x41 * 4, (uint32_t)HVG_HANDLER);	/* 0000:5000 */
		hvg_enter_real(&g, HVG_CODE);
		assert_int_equal(hvg_run(&g), HV_EXIT_HLT);
		assert_true(g.run.if_flag);
		assert_int_equal(hv_interrupt(g.vcpu, 0x41), 0);
		hvg_expect_io(&g, 0x80, HV_EXIT_IO_OUT, 1, (HVG_CODE + 2) & 0xff);
		assert_int_equal(hvg_get32(&g, HVG_DATA) & 0xff, 0x41);
		assert_int_equal(hvg_get32(&g, HVG_DATA + 8) & 0xffff, HVG_CODE + 2);
		assert_int_equal(hvg_run(&g), HV_EXIT_HLT);
		hvg_destroy(&g);
	}
}

/* An interrupt raised while IF = 0 waits for STI and then for the one
 * instruction STI shadows: the handler sees the first store after STI
 * done and the second not yet. */
static void test_interrupt_sti_shadow(void **state)
{
	static const uint8_t code[] = {
		0xfa,						/* cli */
		0xe6, 0x80,					/* out 80h,al */
		0xfb,						/* sti */
		0xc6, 0x04, 0x25, 0x10, 0x90, 0x00, 0x00, 0x01,	/* mov byte [9010h],1 */
		0xc6, 0x04, 0x25, 0x11, 0x90, 0x00, 0x00, 0x01,	/* mov byte [9011h],1 */
		0xfa, 0xf4,					/* cli; hlt */
	};
	/* The handler copies the two flags to 9020h/9021h:
	 * mov ax,[9010h]; mov [9020h],ax; iretq */
	static const uint8_t handler[] = { 0x66, 0x8b, 0x04, 0x25, 0x10, 0x90, 0x00, 0x00,
					   0x66, 0x89, 0x04, 0x25, 0x20, 0x90, 0x00, 0x00,
					   0x48, 0xcf };
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		hvg_create(&g, name);
		load_code(&g, code, sizeof(code));
		hvg_load(&g, HVG_HANDLER, handler, sizeof(handler));
		hvg_set_gate(&g, 0x50, HVG_HANDLER);
		hvg_put32(&g, HVG_DATA + 0x20, 0xffff);
		hvg_expect_io(&g, 0x80, HV_EXIT_IO_OUT, 1, 0);
		assert_int_equal(hv_interrupt(g.vcpu, 0x50), 0);
		assert_int_equal(hvg_run(&g), HV_EXIT_HLT);
		assert_int_equal(hvg_get32(&g, HVG_DATA + 0x10) & 0xffff, 0x0101);
		assert_int_equal(hvg_get32(&g, HVG_DATA + 0x20) & 0xffff, 0x0001);
		hvg_destroy(&g);
	}
}

/* max_insns: HV_EXIT_DEADLINE once the vcpu has retired that many
 * instructions in all, and again with a larger limit. */
static void test_max_insns(void **state)
{
	static const uint8_t code[] = { 0xeb, 0xfe };	/* jmp $ */
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		hvg_create(&g, name);
		load_code(&g, code, sizeof(code));
		g.run.max_insns = 1000;
		assert_int_equal(hvg_run(&g), HV_EXIT_DEADLINE);
		assert_true(g.run.insns >= 1000);
		const uint64_t first = g.run.insns;
		g.run.max_insns = 5000;
		assert_int_equal(hvg_run(&g), HV_EXIT_DEADLINE);
		assert_true(g.run.insns >= 5000);
		assert_true(g.run.insns > first);
		assert_int_equal(hvg_regs(&g).rip, HVG_CODE);
		hvg_destroy(&g);
	}
}

/* deadline_ns: HV_EXIT_DEADLINE once the VM's clock has reached it. */
static void test_deadline_ns(void **state)
{
	static const uint8_t code[] = { 0xeb, 0xfe };	/* jmp $ */
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		hvg_create(&g, name);
		load_code(&g, code, sizeof(code));
		const uint64_t t0 = hv_clock_ns(g.vm);
		g.run.deadline_ns = t0 + 100000;	/* 100 us of guest time */
		assert_int_equal(hvg_run(&g), HV_EXIT_DEADLINE);
		assert_true(hv_clock_ns(g.vm) >= t0 + 100000);
		assert_true(g.run.insns > 0);
		hvg_destroy(&g);
	}
}

/* A deadline while the guest waits in HLT with IF = 1: virtual time runs
 * on to it and hv_run returns HV_EXIT_DEADLINE, not HV_EXIT_HLT, since
 * the VMM said when it wants the vcpu back. */
static void test_deadline_while_halted(void **state)
{
	static const uint8_t code[] = { 0xfb, 0xf4, 0xeb, 0xfe };	/* sti; hlt; jmp $ */
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		hvg_create(&g, name);
		load_code(&g, code, sizeof(code));
		const uint64_t t = hv_clock_ns(g.vm) + 5000000;		/* 5 ms on */
		g.run.deadline_ns = t;
		assert_int_equal(hvg_run(&g), HV_EXIT_DEADLINE);
		assert_true(hv_clock_ns(g.vm) >= t);
		assert_int_equal(hvg_regs(&g).rip, HVG_CODE + 2);	/* still halted */
		hvg_destroy(&g);
	}
}

/* hv_run_interrupt before hv_run: the next hv_run stops with
 * HV_EXIT_INTR; the one after runs the guest normally. */
static void test_run_interrupt_first(void **state)
{
	static const uint8_t code[] = { 0xe6, 0x80, 0xfa, 0xf4 };	/* out 80h,al; cli; hlt */
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		hvg_create(&g, name);
		load_code(&g, code, sizeof(code));
		hv_run_interrupt(g.vcpu);
		assert_int_equal(hvg_run(&g), HV_EXIT_INTR);
		assert_int_equal(hvg_regs(&g).rip, HVG_CODE);
		hvg_expect_io(&g, 0x80, HV_EXIT_IO_OUT, 1, 0);
		assert_int_equal(hvg_run(&g), HV_EXIT_HLT);
		hvg_destroy(&g);
	}
}

/* MMIO reads completed with the VMM's data land in the register with
 * x86's width rules; a 64-bit store goes out with all 8 bytes. */
static void test_mmio_read_widths(void **state)
{
	static const uint8_t code[] = {
		0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff,		/* mov rax,-1 */
		0x8b, 0x04, 0x25, 0x00, 0x00, 0x00, 0x40,		/* mov eax,[MMIO] */
		0x48, 0xc7, 0xc3, 0xff, 0xff, 0xff, 0xff,		/* mov rbx,-1 */
		0x66, 0x8b, 0x1c, 0x25, 0x08, 0x00, 0x00, 0x40,		/* mov bx,[MMIO+8] */
		0x48, 0xc7, 0xc1, 0xff, 0xff, 0xff, 0xff,		/* mov rcx,-1 */
		0x8a, 0x0c, 0x25, 0x10, 0x00, 0x00, 0x40,		/* mov cl,[MMIO+16] */
		0x48, 0x0f, 0xbe, 0x14, 0x25, 0x18, 0x00, 0x00, 0x40,	/* movsx rdx,byte [MMIO+24] */
		0x48, 0xc7, 0xc6, 0xff, 0xff, 0xff, 0xff,		/* mov rsi,-1 */
		0x0f, 0xb7, 0x34, 0x25, 0x20, 0x00, 0x00, 0x40,		/* movzx esi,word [MMIO+32] */
		0x48, 0x8b, 0x3c, 0x25, 0x28, 0x00, 0x00, 0x40,		/* mov rdi,[MMIO+40] */
		0x48, 0x89, 0x3c, 0x25, 0x30, 0x00, 0x00, 0x40,		/* mov [MMIO+48],rdi */
		0xf4,							/* hlt */
	};
	static_assert(MMIO == 0x40000000u, "the code's addresses");
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		hvg_create(&g, name);
		load_code(&g, code, sizeof(code));
		hvg_expect_mmio_read(&g, MMIO, 4, 0x89abcdef);
		hvg_expect_mmio_read(&g, MMIO + 8, 2, 0x1234);
		hvg_expect_mmio_read(&g, MMIO + 16, 1, 0x56);
		hvg_expect_mmio_read(&g, MMIO + 24, 1, 0x80);
		hvg_expect_mmio_read(&g, MMIO + 32, 2, 0xfffe);
		hvg_expect_mmio_read(&g, MMIO + 40, 8, 0x0123456789abcdefull);
		hvg_expect_mmio_write(&g, MMIO + 48, 8, 0x0123456789abcdefull);
		assert_int_equal(hvg_run(&g), HV_EXIT_HLT);

		const struct hv_regs r = hvg_regs(&g);
		assert_int_equal(r.rax, 0x0000000089abcdefull);	/* r32: zero-extended */
		assert_int_equal(r.rbx, 0xffffffffffff1234ull);	/* r16: rest kept */
		assert_int_equal(r.rcx, 0xffffffffffffff56ull);	/* r8: rest kept */
		assert_int_equal(r.rdx, 0xffffffffffffff80ull);	/* MOVSX r64 */
		assert_int_equal(r.rsi, 0x000000000000fffeull);	/* MOVZX r32 */
		assert_int_equal(r.rdi, 0x0123456789abcdefull);
		hvg_destroy(&g);
	}
}

/* Accesses that span two MMIO pages, and an instruction with two MMIO
 * reads (KVM's MMIO fragments; core/emulate.c). The engine splits an
 * access at the page boundary, so each page's part is its own exit, in
 * address order; reads are answered one per exit and the instruction
 * reruns until it has them all; writes go out after it completes.
 *   mov eax,[MMIO+0xffe]; mov dword [MMIO+0x1ffe],0x44332211;
 *   mov esi,MMIO; mov edi,MMIO+0x100; cmpsd; hlt */
static void test_mmio_fragments(void **state)
{
	static const uint8_t code[] = {
		0x8b, 0x04, 0x25, 0xfe, 0x0f, 0x00, 0x40,
		0xc7, 0x04, 0x25, 0xfe, 0x1f, 0x00, 0x40, 0x11, 0x22, 0x33, 0x44,
		0xbe, 0x00, 0x00, 0x00, 0x40,
		0xbf, 0x00, 0x01, 0x00, 0x40,
		0xa7,
		0xf4,
	};
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		hvg_create(&g, name);
		load_code(&g, code, sizeof(code));
		hvg_expect_mmio_read(&g, MMIO + 0xffe, 2, 0x2211);
		hvg_expect_mmio_read(&g, MMIO + 0x1000, 2, 0x4433);
		hvg_expect_mmio_write(&g, MMIO + 0x1ffe, 2, 0x2211);
		hvg_expect_mmio_write(&g, MMIO + 0x2000, 2, 0x4433);
		hvg_expect_mmio_read(&g, MMIO, 4, 0x5555);	/* CMPSD: [RSI] */
		hvg_expect_mmio_read(&g, MMIO + 0x100, 4, 0x5555);	/* then [RDI] */
		assert_int_equal(hvg_run(&g), HV_EXIT_HLT);

		const struct hv_regs r = hvg_regs(&g);
		assert_int_equal(r.rax, 0x44332211);
		assert_int_equal(r.rsi, MMIO + 4);	/* DF = 0: both advance */
		assert_int_equal(r.rdi, MMIO + 0x104);
		assert_true(r.rflags & (1u << 6));	/* equal: ZF */
		if (hvg_stat(&g, "mmio_exits") != 6)
			fail_msg("%s: six MMIO accesses counted as %llu", name,
				 (unsigned long long)hvg_stat(&g, "mmio_exits"));
		hvg_destroy(&g);
	}
}

/* The MMIO counter counts accesses ("MMIO accesses emulated",
 * core/stats.def): a read the VMM answered is one access, not two.
 *   mov eax,[MMIO]; mov [MMIO+8],eax; hlt */
static void test_stats_mmio_count(void **state)
{
	static const uint8_t code[] = { 0x8b, 0x04, 0x25, 0x00, 0x00, 0x00, 0x40,
					0x89, 0x04, 0x25, 0x08, 0x00, 0x00, 0x40, 0xf4 };
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		hvg_create(&g, name);
		load_code(&g, code, sizeof(code));
		hvg_expect_mmio_read(&g, MMIO, 4, 0x1234);
		assert_int_equal(hvg_run(&g), HV_EXIT_MMIO);
		assert_true(g.run.mmio.is_write);
		assert_int_equal(hvg_run(&g), HV_EXIT_HLT);
		const uint64_t n = hvg_stat(&g, "mmio_exits");
		if (n != 2)
			fail_msg("%s: one MMIO read and one MMIO write counted as %llu",
				 name, (unsigned long long)n);
		hvg_destroy(&g);
	}
}

/* IN completes into AL, AX or EAX: in 64-bit mode the 32-bit form
 * zero-extends into RAX, the 8- and 16-bit forms keep the rest.
 *   mov rax,-1; in al,60h; mov rbx,rax; mov rax,-1; in ax,60h;
 *   mov rcx,rax; mov rax,-1; in eax,60h; hlt */
static void test_in_widths(void **state)
{
	static const uint8_t code[] = {
		0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff, 0xe4, 0x60, 0x48, 0x89, 0xc3,
		0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff, 0x66, 0xe5, 0x60, 0x48, 0x89, 0xc1,
		0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff, 0xe5, 0x60, 0xf4,
	};
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		hvg_create(&g, name);
		load_code(&g, code, sizeof(code));
		static const uint32_t v = 0x78563412;
		for (unsigned size = 1; size <= 4; size *= 2) {
			hvg_expect_io(&g, 0x60, HV_EXIT_IO_IN, (uint8_t)size, 0);
			memcpy(g.run.io.data, &v, 4);
		}
		assert_int_equal(hvg_run(&g), HV_EXIT_HLT);
		const struct hv_regs r = hvg_regs(&g);
		assert_int_equal(r.rbx, 0xffffffffffffff12ull);
		assert_int_equal(r.rcx, 0xffffffffffff3412ull);
		assert_int_equal(r.rax, 0x0000000078563412ull);
		hvg_destroy(&g);
	}
}

/* REP OUTSB of five bytes: five OUT exits in order, one byte each, RCX
 * and RSI showing the progress; REP INSB of three: three IN exits, each
 * completed on re-entry with the VMM's byte. */
static void test_string_io(void **state)
{
	static const uint8_t code[] = {
		0xbe, 0x00, 0x90, 0x00, 0x00,	/* mov esi,9000h */
		0xb9, 0x05, 0x00, 0x00, 0x00,	/* mov ecx,5 */
		0xba, 0x00, 0x05, 0x00, 0x00,	/* mov edx,500h */
		0xfc,				/* cld */
		0xf3, 0x6e,			/* rep outsb */
		0xbf, 0x00, 0x91, 0x00, 0x00,	/* mov edi,9100h */
		0xb9, 0x03, 0x00, 0x00, 0x00,	/* mov ecx,3 */
		0xf3, 0x6c,			/* rep insb */
		0xf4,				/* hlt */
	};
	static_assert(HVG_DATA == 0x9000, "the code's addresses");
	static const char msg[] = "hello";
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		hvg_create(&g, name);
		load_code(&g, code, sizeof(code));
		hvg_load(&g, HVG_DATA, msg, 5);
		for (unsigned k = 0; k < 5; k++) {
			hvg_expect_io(&g, 0x500, HV_EXIT_IO_OUT, 1, (uint8_t)msg[k]);
			const struct hv_regs r = hvg_regs(&g);
			assert_int_equal(r.rcx, 4 - k);
			assert_int_equal(r.rsi, HVG_DATA + k + 1);
		}
		for (unsigned k = 0; k < 3; k++) {
			hvg_expect_io(&g, 0x500, HV_EXIT_IO_IN, 1, 0);
			g.run.io.data[0] = (uint8_t)(0xa1 + k);
		}
		assert_int_equal(hvg_run(&g), HV_EXIT_HLT);
		const struct hv_regs r = hvg_regs(&g);
		assert_int_equal(r.rcx, 0);
		assert_int_equal(r.rsi, HVG_DATA + 5);
		assert_int_equal(r.rdi, HVG_DATA + 0x103);
		assert_int_equal(hvg_get32(&g, HVG_DATA + 0x100), 0x00a3a2a1);
		assert_int_equal(hvg_stat(&g, "io_exits"), 8);
		hvg_destroy(&g);
	}
}

#define T(fn) cmocka_unit_test_teardown(fn, hvg_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_hlt_if0),
		T(test_interrupt_wakes_hlt),
		T(test_interrupt_real_mode),
		T(test_interrupt_sti_shadow),
		T(test_max_insns),
		T(test_deadline_ns),
		T(test_deadline_while_halted),
		T(test_run_interrupt_first),
		T(test_mmio_read_widths),
		T(test_stats_mmio_count),
		T(test_mmio_fragments),
		T(test_in_widths),
		T(test_string_io),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
