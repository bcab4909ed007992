/*
 * test_hw_vmx_exits.h — what the VMX exit tests (tests/unit/
 * test_hw_vmx_exits_*.c) share: the architectural numbers they check
 * against, written from the SDM rather than taken from hw/vmx.h so a wrong
 * constant in hw/ fails a test, and a few helpers around the harness
 * (tests/support/hwguest.h) for running hand-assembled guest code.
 *
 * Every test runs one guest on a fresh Intel machine: 4 MiB of RAM,
 * identity-mapped, 64-bit mode at CPL 0, code at CODE, stack below
 * STACK. The harness turns on HLT exiting, unconditional I/O exiting,
 * external-interrupt and NMI exiting, VPID 1 and, with EPT, EPT; a test
 * changes the controls it is about with vx_ctl() before the first run.
 *
 * Numbers: exit reasons from SDM Vol. 3D Appendix C; control bits from
 * SDM Vol. 3C 25.6 (execution), 25.7.1 (exit), 25.8.1 (entry);
 * interruption information from 25.8.3 / 25.9.2.
 */
#ifndef HVLAB_TEST_HW_VMX_EXITS_H
#define HVLAB_TEST_HW_VMX_EXITS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hw/hw.h"
#include "hw/vmx.h"
#include "tests/support/hwguest.h"

/* ------------------------------------------------------------ layout */

#define RAM_SIZE	(4ull << 20)
#define CODE		0x10000ull	/* guest code */
#define HANDLERS	0x20000ull	/* interrupt handlers, 16 bytes each */
#define DATA		0x30000ull	/* scratch data page */
#define STACK		0x80000ull	/* initial RSP */

/* ------------------------------------------------------------ SDM numbers */

/* Basic exit reasons (SDM Vol. 3D Appendix C). */
#define R_EXC_NMI	0
#define R_EXT_INTR	1
#define R_INTR_WINDOW	7
#define R_NMI_WINDOW	8
#define R_CPUID		10
#define R_HLT		12
#define R_INVD		13
#define R_INVLPG	14
#define R_RDTSC		16
#define R_VMCALL	18
#define R_CR		28
#define R_DR		29
#define R_IO		30
#define R_RDMSR		31
#define R_WRMSR		32
#define R_BAD_GUEST	33
#define R_PAUSE		40
#define R_EPT_VIOLATION	48
#define R_RDTSCP	51
#define R_PREEMPT	52
#define R_INVPCID	58
#define R_ENTRY_FAIL	0x80000000u	/* bit 31 of the exit reason (25.9.1) */

/* Pin-based controls (SDM Vol. 3C 25.6.1). */
#define PIN_EXT_INTR	(1u << 0)
#define PIN_NMI		(1u << 3)
#define PIN_VNMI	(1u << 5)
#define PIN_PREEMPT	(1u << 6)

/* Primary processor-based controls (25.6.2). */
#define PROC_INTR_WIN	(1u << 2)
#define PROC_TSC_OFFSET	(1u << 3)
#define PROC_HLT	(1u << 7)
#define PROC_INVLPG	(1u << 9)
#define PROC_RDTSC	(1u << 12)
#define PROC_CR3_LOAD	(1u << 15)
#define PROC_CR3_STORE	(1u << 16)
#define PROC_CR8_LOAD	(1u << 19)
#define PROC_CR8_STORE	(1u << 20)
#define PROC_NMI_WIN	(1u << 22)
#define PROC_MOV_DR	(1u << 23)
#define PROC_UNCOND_IO	(1u << 24)
#define PROC_IO_BITMAPS	(1u << 25)
#define PROC_MSR_BITMAPS (1u << 28)
#define PROC_PAUSE	(1u << 30)
#define PROC_SECONDARY	(1u << 31)

/* Secondary processor-based controls (25.6.2). */
#define PROC2_EPT	(1u << 1)
#define PROC2_RDTSCP	(1u << 3)
#define PROC2_VPID	(1u << 5)
#define PROC2_UG	(1u << 7)
#define PROC2_INVPCID	(1u << 12)

/* VM-exit controls (25.7.1). */
#define EXIT_HOST_64	(1u << 9)
#define EXIT_ACK_INTR	(1u << 15)
#define EXIT_SAVE_PAT	(1u << 18)
#define EXIT_LOAD_PAT	(1u << 19)
#define EXIT_SAVE_EFER	(1u << 20)
#define EXIT_LOAD_EFER	(1u << 21)

/* VM-entry controls (25.8.1). */
#define ENTRY_IA32E	(1u << 9)
#define ENTRY_LOAD_PAT	(1u << 14)
#define ENTRY_LOAD_EFER	(1u << 15)

/* Interruption information (25.8.3, 25.9.2): vector 7:0, type 10:8,
 * error code valid 11, valid 31. */
#define II_VALID	0x80000000u
#define II_EC		(1u << 11)
#define II(type, vec)	(II_VALID | ((uint32_t)(type) << 8) | (vec))
#define T_EXT_INTR	0
#define T_NMI		2
#define T_HW_EXC	3
#define T_SOFT_INT	4
#define T_SOFT_EXC	6

/* Guest interruptibility state (25.4.2). */
#define BLOCK_STI	(1u << 0)
#define BLOCK_MOVSS	(1u << 1)
#define BLOCK_NMI	(1u << 3)

/* RFLAGS (SDM Vol. 1 3.4.3). */
#define RFL_FIXED	0x2ull
#define RFL_IF		(1ull << 9)

/* GPR numbers (the ModRM / REX register order). */
enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI };

/* ------------------------------------------------------------ helpers */

/* The guest under test; vx_teardown() destroys it after each test. */
static struct hwg g;

/* A fresh guest on machine @mc (NULL: the Kconfig defaults). */
static inline void vx_start_on(bool ept, const struct hw_machine_config *mc)
{
	const struct hwg_config cfg = { .vendor = HW_VENDOR_INTEL, .tdp = ept,
					.ram_size = RAM_SIZE, .machine = mc };
	assert_int_equal(hwg_create(&g, &cfg), 0);
	hwg_set_entry(&g, CODE, STACK);
}

static inline void vx_start(bool ept)
{
	vx_start_on(ept, NULL);
}

/* The default machine with @cpi_milli thousandths of a cycle per
 * instruction, for tests that derive times from the cost model. */
static inline struct hw_machine_config vx_machine(uint32_t cpi_milli)
{
	struct hw_machine_config mc;
	hw_machine_config_default(&mc, HW_VENDOR_INTEL);
	mc.prices.cpi_milli = cpi_milli;
	return mc;
}

static inline int vx_teardown(void **state)
{
	(void)state;
	if (g.m)
		hwg_destroy(&g);
	return 0;
}

/* Load @len bytes of guest code at CODE. */
static inline void vx_code(const void *bytes, size_t len)
{
	hwg_load(&g, CODE, bytes, len);
}

static inline uint64_t vx_read(uint64_t field)
{
	return hwg_vmread(&g, field);
}

static inline void vx_write(uint64_t field, uint64_t val)
{
	hwg_vmwrite(&g, field, val);
}

/* Set and clear bits of a control field. */
static inline void vx_ctl(uint64_t field, uint32_t set, uint32_t clear)
{
	vx_write(field, (vx_read(field) | set) & ~(uint64_t)clear);
}

/* Enter, run to the next exit; the entry itself must succeed. */
static inline uint64_t vx_run(void)
{
	int st = -1;
	const uint64_t reason = hwg_run(&g, &st);
	assert_int_equal(st, VMX_SUCCEED);
	return reason;
}

static inline uint64_t vx_qual(void)
{
	return vx_read(VMCS_EXIT_QUALIFICATION);
}

static inline uint64_t vx_len(void)
{
	return vx_read(VMCS_EXIT_INSTRUCTION_LEN);
}

static inline uint64_t vx_rip(void)
{
	return hwg_rip(&g);
}

static inline uint64_t vx_gpr(unsigned reg)
{
	return hwg_gpr(&g, reg);
}

static inline void vx_set_gpr(unsigned reg, uint64_t v)
{
	hwg_set_gpr(&g, reg, v);
}

static inline uint64_t vx_get64(uint64_t gpa)
{
	uint64_t v;
	const void *p = hwg_ptr(&g, gpa, 8);
	assert_non_null(p);
	memcpy(&v, p, 8);
	return v;
}

static inline void vx_put64(uint64_t gpa, uint64_t v)
{
	hwg_load(&g, gpa, &v, 8);
}

static inline const struct hw_counters *vx_cnt(void)
{
	return hw_cpu_counters(g.cpu);
}

/*
 * A 64-bit interrupt gate (SDM Vol. 3A 6.14.1, Figure 6-8) for @vector
 * in the guest IDT, to a handler at @handler in the 64-bit code segment
 * the harness put at selector 8: type 14 (interrupt gate), P, DPL 0.
 */
static inline void vx_gate(unsigned vector, uint64_t handler)
{
	const uint64_t idt = vx_read(VMCS_GUEST_IDTR_BASE);
	const uint64_t lo = (handler & 0xffff) | (0x08ull << 16) | (0x8eull << 40) |
			    ((handler >> 16) & 0xffff) << 48;
	vx_put64(idt + 16 * vector, lo);
	vx_put64(idt + 16 * vector + 8, handler >> 32);
}

/* A handler for @vector that halts at once: HANDLERS + 16 * @vector. */
static inline uint64_t vx_hlt_handler(unsigned vector)
{
	static const uint8_t hlt = 0xf4;
	const uint64_t at = HANDLERS + 16 * vector;
	hwg_load(&g, at, &hlt, 1);
	vx_gate(vector, at);
	return at;
}

/* A zeroed host page (a bitmap, say), its hpa and host pointer. */
static inline uint64_t vx_host_page(uint8_t **ptr)
{
	const uint64_t pa = ptb_alloc(&g.host);
	assert_true(pa != PTB_NONE);
	if (ptr)
		*ptr = g.mem + pa;
	return pa;
}

#endif
