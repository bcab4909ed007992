/*
 * vmx_check_suite.h — the harness of the VM-entry check tests:
 * test_hw_vmx_check.c (controls and host state, SDM Vol. 3C 27.2) and
 * test_hw_vmx_check_guest.c (guest state, 27.3.1).
 *
 * Each test starts from a valid VMCS (vmcs_builder.h; one of the variants
 * of enum vcs_base), changes the fields that break one rule, and runs the
 * checks in VM entry's order — controls, host state, guest state —
 * expecting the first failure at the stage and with the value the SDM
 * gives: VM-instruction error 7 or 8, or for the guest state the exit
 * qualification (27.8) plus one. Part of the reason string is matched
 * too, so a test cannot pass because some other rule fired.
 *
 * Most tests are rows (struct vcs_row), each run as its own named cmocka
 * test; the rest are functions using vcs_build() and vcs_expect().
 *
 * Every test gets a fresh Intel machine with a 16 MiB arena, laid out as
 * below, in VMX root operation with the VMCS at VCS_VMCS current.
 * Bit values here are written from the manual, not taken from hw/vmx.h;
 * field encodings are hw/vmx.h's (test_hw_vmcs.c checks those against
 * Appendix B).
 */
#ifndef HVLAB_TESTS_VMX_CHECK_SUITE_H
#define HVLAB_TESTS_VMX_CHECK_SUITE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hw/vmx.h"

/* Host-physical layout. */
#define VCS_ARENA	(16ull << 20)
#define VCS_VMXON	0x1000ull
#define VCS_VMCS	0x2000ull
#define VCS_EPT		0x3000ull	/* EPT PML4 (the checks do not walk it) */
#define VCS_LINK	0x4000ull	/* a VMCS region of this revision */
#define VCS_LINK_SHADOW	0x5000ull	/* ... with the shadow indicator (bit 31) */
#define VCS_ZERO	0x6000ull	/* revision 0 */
#define VCS_PDPT	0x7000ull	/* PAE_NOEPT: the PDPT at guest CR3 */
#define VCS_GUEST_CR3	0x8000ull
#define OUTSIDE_ARENA	(1ull << 40)	/* below the width, beyond the arena */
#define BEYOND_WIDTH	(1ull << 46)	/* CPUID 80000008H: 46 address bits */
#define NONCANON	(1ull << 47)	/* 48-bit linear addresses */
#define HIGH_CANON	0xffff800000000000ull

/* Interruption information (SDM Vol. 3C 25.8.3): vector 7:0, type 10:8,
 * deliver error code 11, valid 31. */
#define V		(1u << 31)
#define EC		(1u << 11)
#define EXT(vec)	(V | (vec))
#define NMI		(V | 2u << 8 | 2)
#define HWX(vec)	(V | 3u << 8 | (vec))
#define SWI(vec)	(V | 4u << 8 | (vec))

/* Controls both files use (25.6.1, 25.8.1). */
#define PIN_NMI_EXIT	(1u << 3)
#define PIN_VNMI	(1u << 5)
#define ENTRY_LOAD_DEBUG (1u << 2)
#define ENTRY_IA32E	(1u << 9)

/* Registers (SDM Vol. 3A 2.5, 2.2.1). */
#define CR0_PE		(1ull << 0)
#define CR0_NE		(1ull << 5)
#define CR0_PG		(1ull << 31)
#define CR4_PAE		(1ull << 5)
#define CR4_VMXE	(1ull << 13)
#define CR4_PCIDE	(1ull << 17)
#define CR4_CET		(1ull << 23)
#define EFER_LME	(1ull << 8)
#define EFER_LMA	(1ull << 10)
#define EFER_NXE	(1ull << 11)
#define RF_IF		(1ull << 9)

/* Test-wide state: the machine and its processor. */
extern struct hw_machine *vcs_m;
extern struct hw_cpu *vcs_cpu;

enum vcs_base {
	LONG,		/* vmcs_build_long_mode(): 64-bit, EPT, VPID 1 */
	LONG_NOEPT,	/* the same without secondary controls */
	REAL,		/* vmcs_build_real_mode(): unrestricted real mode */
	PAE,		/* LONG turned 32-bit protected mode with PAE paging */
	PAE_NOEPT,	/* the same without EPT: PDPTEs at VCS_PDPT */
	USER,		/* LONG at CPL 3: CS 0x1b, SS 0x23, both DPL 3 */
	V86,		/* PAE with RFLAGS.VM and virtual-8086 segments */
	V86_LONG,	/* LONG with those segments and RFLAGS.VM: invalid */
};

enum vcs_stage { OK, CTL, HOST, GUEST };

/* Guest failures: exit qualification (27.8) + 1. */
#define Q0	1
#define Q_PDPTE	3
#define Q_LINK	5

/* field = (field & ~clear) | set; an all-zero edit is none. */
struct vcs_edit {
	uint32_t field;
	uint64_t clear, set;
};

#define SET(f, v)	{ (f), ~0ull, (v) }
#define OR(f, v)	{ (f), 0, (v) }
#define CLR(f, v)	{ (f), (v), 0 }

struct vcs_row {
	const char *name;
	enum vcs_base base;
	struct vcs_edit e[5];
	enum vcs_stage stage;
	int value;		/* 7, 8, or qualification + 1; 0 for OK */
	const char *why;	/* part of the reason string, or NULL */
};

struct vcs_function {
	const char *name;
	CMUnitTestFunction fn;
};

/* VMREAD / VMWRITE that must succeed; a 64-bit store to the arena. */
uint64_t vcs_rd(uint32_t field);
void vcs_wr(uint32_t field, uint64_t val);
void vcs_put64(uint64_t hpa, uint64_t val);

/* Fill the current VMCS as @base describes. */
void vcs_build(enum vcs_base base);

/* Run the three checks in order; fail the test unless the first failure
 * is at @stage with @value and a reason containing @why (if not NULL). */
void vcs_expect(enum vcs_stage stage, int value, const char *why);

/* Run every row and every function as a test of group @group. */
int vcs_run(const char *group, const struct vcs_row *rows, size_t nrows,
	    const struct vcs_function *fns, size_t nfns);

#define VCS_COUNT(a) (sizeof(a) / sizeof((a)[0]))

#endif
