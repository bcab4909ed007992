/*
 * test_backend_vmx.h — what the Intel VT-x backend tests share
 * (test_backend_vmx.c, test_backend_vmx_debug.c): one VM on "vmx" with
 * the tdp MMU (EPT), made and entered through tests/unit/support/
 * hvguest.h, and the guest-physical layout the tests' addresses assume.
 *
 *   0x1000   code               0x2000   exception handlers
 *   0x4000   GDT (g->gdt: hvguest's 0x1000 is the code's)
 *   0x5000   data the guest counts in
 *   0x10000  paging structures (PML4, or the PAE PDPT)
 *   2 MiB    IDT: a 2 MiB region of its own, untouched until an event's
 *            delivery first reads it (and exits for EPT)
 *   4 MiB    stack top for the tests with an IDT
 *
 * Descriptors: SDM Vol. 3A 3.4.5 (segments), 6.11 and 6.14.1 (gates).
 */
#ifndef TESTS_UNIT_TEST_BACKEND_VMX_H
#define TESTS_UNIT_TEST_BACKEND_VMX_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "backends/backend.h"
#include "hvlab/hv.h"
#include "tests/unit/support/hvguest.h"

#define MiB (1ull << 20)
#define RAM (8 * MiB)
#define GDT 0x4000ull
#define PML4 0x10000ull
#define IDT 0x200000ull
#define STACK_TOP 0x400000ull
#define SEL_CODE HVG_SEL_CODE32

static inline int setup(void **state)
{
	static struct hvg g;
	hvg_create_with(&g, "vmx", "tdp", RAM);
	g.gdt = GDT;
	*state = &g;
	return 0;
}

/* A 32-bit interrupt gate (Vol. 3A 6.14.1 Figure 6-2: offset 15:0,
 * selector, P DPL 0 type 0xE, offset 31:16) in the IDT at IDT. */
static inline void set_gate(struct hvg *f, unsigned vector, uint32_t handler)
{
	const uint64_t d = (handler & 0xffffull) | (uint64_t)SEL_CODE << 16 |
			   0x8e00ull << 32 | (uint64_t)(handler >> 16) << 48;
	hvg_put64(f, IDT + 8 * vector, d);
}

/* 32-bit protected mode, flat, paging off, with the IDT at IDT and the
 * stack at STACK_TOP. */
static inline void enter_protected_idt(struct hvg *f, uint64_t rip)
{
	hvg_enter_protected(f, rip);
	struct hv_sregs s;
	assert_int_equal(hv_get_sregs(f->vcpu, &s), 0);
	s.idt = (struct hv_dtable){ .base = IDT, .limit = 0x7ff };
	assert_int_equal(hv_set_sregs(f->vcpu, &s), 0);
	hvg_start_at(f, rip, STACK_TOP);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, hvg_teardown)

#endif
