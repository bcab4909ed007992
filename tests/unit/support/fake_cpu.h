/*
 * fake_cpu.h — a fake machine for the executor's unit tests: a flat
 * 1 MiB memory (linear = physical; beyond it every access is a #PF), an
 * emu_ops table that records what the executor asked of it, and a fixed
 * layout of system tables tests edit in place:
 *
 *   0x01000 GDT (32 entries)      0x02000 LDT (32 entries)
 *   0x04000 TSS, I/O bitmap at +0x68 covering every port, limit 0x2068
 *   0x09000 top of the stack      0x0a000 top of the inner (ring 0) stack
 *   0x10000 code                  0x20000 data
 *
 * GDT selectors (fake_mode_* load the matching segment registers):
 *   0x08 code32 DPL0  0x10 data32 DPL0  0x18 code32 DPL3  0x20 data32 DPL3
 *   0x28 code64 DPL0  0x30 code64 DPL3  0x38 code16 DPL0
 *   0x40 TSS (16 bytes in IA-32e mode)  0x50 LDT (16 bytes in IA-32e mode)
 *   0x60 and up: free for tests.
 */
#ifndef HVLAB_TESTS_FAKE_CPU_H
#define HVLAB_TESTS_FAKE_CPU_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "emulate/emulate.h"

#define FAKE_MEM_SIZE (1u << 20)
#define FAKE_GDT  0x1000u
#define FAKE_LDT  0x2000u
#define FAKE_TSS  0x4000u
#define FAKE_IOMAP 0x68u
#define FAKE_STACK 0x9000u
#define FAKE_STACK0 0xa000u
#define FAKE_CODE 0x10000u
#define FAKE_DATA 0x20000u

enum {
	SEL_CODE32 = 0x08, SEL_DATA32 = 0x10, SEL_CODE32_3 = 0x18, SEL_DATA32_3 = 0x20,
	SEL_CODE64 = 0x28, SEL_CODE64_3 = 0x30, SEL_CODE16 = 0x38,
	SEL_TSS = 0x40, SEL_LDT = 0x50, SEL_FREE = 0x60,
};

/* Access rights (VMCS layout) of the standard descriptors. */
#define AR_CODE32(dpl) (0x9bu | ((dpl) << 5) | EMU_AR_DB | EMU_AR_G)
#define AR_DATA32(dpl) (0x93u | ((dpl) << 5) | EMU_AR_DB | EMU_AR_G)
#define AR_CODE64(dpl) (0x9bu | ((dpl) << 5) | EMU_AR_L | EMU_AR_G)

/* Architectural bits the tests use, written from the SDM (not from
 * emulate/'s headers, so a wrong constant there shows up as a failure). */
#define X86_CR0_MP (1ull << 1)
#define X86_CR0_EM (1ull << 2)
#define X86_CR0_TS (1ull << 3)
#define X86_CR0_NW (1ull << 29)
#define X86_CR0_CD (1ull << 30)
#define X86_CR0_PG (1ull << 31)
#define X86_CR4_VME (1ull << 0)
#define X86_CR4_PVI (1ull << 1)
#define X86_CR4_TSD (1ull << 2)
#define X86_CR4_DE (1ull << 3)
#define X86_CR4_PAE (1ull << 5)
#define X86_CR4_UMIP (1ull << 11)
#define X86_CR4_PCIDE (1ull << 17)
#define X86_EFER_SCE (1ull << 0)
#define X86_EFER_LME (1ull << 8)

struct fake_msr { uint32_t index; uint64_t val; };

struct fake_cpu {
	struct emu_ctx ctx;
	struct emu_ops ops;		/* tests may clear ops */
	uint8_t mem[FAKE_MEM_SIZE];

	/* Port I/O: the last access and what pio_in returns. */
	int pio_dir;			/* 0 none, 'i', 'o' */
	uint16_t pio_port;
	unsigned pio_size;
	uint32_t pio_val, pio_in_val;
	int pio_result;			/* EMU_CONTINUE or EMU_IO_NEEDED */
	int pio_count;

	/* MSRs: unknown indices raise #GP(0). */
	struct fake_msr msr[32];
	unsigned nmsr;
	int wrmsr_count;
	uint32_t last_wrmsr;

	/* Control and debug registers (CR0/CR4 live in ctx.cpu). */
	uint64_t cr2, cr3, cr8, dr[8];
	int set_cr_count;
	unsigned last_cr;

	uint32_t cpuid_out[4], cpuid_leaf, cpuid_subleaf;
	bool amd;
	uint64_t tsc;

	uint64_t invlpg_la;
	int invlpg_count;
	unsigned invpcid_type;
	uint64_t invpcid_pcid, invpcid_la;
	int invpcid_count;
	int cache_op, cache_count;
	int halt_count, hypercall_count, pause_count;
	int shadow_count;
	bool shadow_mov_ss;
	int mode_changed_count;
	int sys_writes;			/* writes with EMU_ACC_SYS */

	/* Calls of the read and write ops (memory accesses made). */
	int read_count, write_count;

	/* RDPMC, MONITOR, MWAIT, VMX/SVM (emulate/exec_virt.c): the last
	 * call's arguments; mwait_result and virt_result are returned. */
	uint64_t pmc_val;
	uint32_t pmc_ecx;
	int rdpmc_count;
	uint64_t monitor_la;
	uint32_t monitor_ecx, monitor_edx;
	int monitor_count;
	uint32_t mwait_eax, mwait_ecx;
	int mwait_count, mwait_result;
	struct emu_insn virt_insn;
	int virt_count, virt_result;

	/* ops->intercept: calls per enum emu_icpt, the last one asked, the
	 * read/write calls made before it, and what it returns. */
	int icpt_count[EMU_NR_ICPTS];
	int icpt_calls;
	unsigned icpt_what;
	int icpt_mem_before;
	int icpt_result;
};

extern struct fake_cpu fake;
#define CPU (fake.ctx.cpu)

/* cmocka setup: zero everything, lay out the tables, 32-bit CPL 0. */
int fake_setup(void **state);

void fake_mode_real(void);
void fake_mode_vm86(unsigned iopl);
void fake_mode_prot32(unsigned cpl);
void fake_mode_long(unsigned cpl);	/* 64-bit mode */
void fake_mode_compat(unsigned cpl);	/* IA-32e, 32-bit code */

/* Descriptors: raw 20-bit limit; ar in the emu_segment layout. */
void fake_set_desc(uint16_t sel, uint32_t base, uint32_t limit, uint32_t ar);
void fake_set_sysdesc64(uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar);
void fake_set_gate(uint16_t sel, uint16_t target, uint64_t off, unsigned type,
		   unsigned dpl, unsigned params);
void fake_set_gate64(uint16_t sel, uint16_t target, uint64_t off, unsigned dpl);
uint32_t fake_desc_hi(uint16_t sel);
/* The segment register a load of @sel should produce (flat descriptor). */
struct emu_segment fake_seg(uint16_t sel);

void fake_set_msr(uint32_t index, uint64_t val);
uint64_t fake_get_msr(uint32_t index);

void fake_w8(uint64_t a, uint8_t v);
void fake_w16(uint64_t a, uint16_t v);
void fake_w32(uint64_t a, uint32_t v);
void fake_w64(uint64_t a, uint64_t v);
uint16_t fake_r16(uint64_t a);
uint32_t fake_r32(uint64_t a);
uint64_t fake_r64(uint64_t a);

/* Put @n bytes at CS:rIP and run one emu_step(). */
int fake_run(const uint8_t *bytes, size_t n);
#define RUN(...) fake_run((const uint8_t[]){ __VA_ARGS__ }, \
			  sizeof((const uint8_t[]){ __VA_ARGS__ }))

/* The result was exception @vec (with error code @err, or none: -1). */
#define assert_exc(r, vec, err) do {					\
	assert_int_equal((r), EMU_EXCEPTION);				\
	assert_int_equal(fake.ctx.exc.vector, (vec));			\
	if ((err) < 0) {						\
		assert_false(fake.ctx.exc.has_error_code);		\
	} else {							\
		assert_true(fake.ctx.exc.has_error_code);		\
		assert_int_equal(fake.ctx.exc.error_code, (err));	\
	}								\
} while (0)
#define assert_gp(r, err) assert_exc(r, EMU_EXC_GP, err)
#define assert_ud(r) assert_exc(r, EMU_EXC_UD, -1)
#define assert_ok(r) assert_int_equal((r), EMU_CONTINUE)

#endif
