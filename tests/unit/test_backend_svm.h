/*
 * test_backend_svm.h — what the AMD-V backend tests share
 * (test_backend_svm.c, test_backend_svm_debug.c): one VM on "svm" with
 * the tdp MMU (nested paging), made and entered through tests/unit/
 * support/hvguest.h, and the guest-physical layout the tests' addresses
 * assume.
 *
 * RAM 0-2 MiB, and 64 KiB below 4 GiB for the RESET vector. hvguest's
 * GDT at 0x1000 (null, 32-bit code, data, 64-bit code; SDM Vol. 3A
 * 3.4.5), its IA-32e identity map from 0x10000; IDT at 0x2000 (or a page
 * the guest has not touched yet, where the test says so), code at
 * 0x4000, handlers at 0x4100, counters at 0x8000, stack top 0x9000.
 */
#ifndef TESTS_UNIT_TEST_BACKEND_SVM_H
#define TESTS_UNIT_TEST_BACKEND_SVM_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "backends/backend.h"
#include "hvlab/hv.h"
#include "tests/unit/support/hvguest.h"

#define RAM_SIZE (2u << 20)
#define HIGH_BASE 0xffff0000ull	/* the RESET code region: 64 KiB below 4 GiB */
#define HIGH_SIZE 0x10000u
#define IDT HVG_IDT
#define CODE HVG_CODE
#define STACK_TOP 0x9000
#define COUNTERS 0x8000

static inline int setup(void **state)
{
	static struct hvg t;
	hvg_create_with(&t, "svm", "tdp", RAM_SIZE);
	const struct hv_memory_region high = { .slot = 1, .gpa = HIGH_BASE, .size = HIGH_SIZE };
	assert_int_equal(hv_set_memory_region(t.vm, &high), 0);
	*state = &t;
	return 0;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, hvg_teardown)

/* A 32-bit interrupt gate (type 0xe, P, DPL 0; SDM Vol. 3A 6.11 Figure
 * 6-2) to @handler in the IDT at @idt. */
static inline void gate32(struct hvg *t, uint64_t idt, unsigned vector, uint32_t handler)
{
	const uint64_t g = (handler & 0xffffull) | ((uint64_t)HVG_SEL_CODE32 << 16) |
			   (0x8eull << 40) | ((uint64_t)(handler >> 16) << 48);
	hvg_put64(t, idt + 8 * vector, g);
}

/* Flat 32-bit protected mode without paging, or IA-32e mode on
 * hvguest's identity map, with IDTR = @idt, @idt_limit; a busy 32-bit
 * TSS and no LDT: nothing here switches tasks. */
static inline void set_mode(struct hvg *t, bool long_mode, uint64_t idt, uint16_t idt_limit)
{
	if (long_mode)
		hvg_enter_long(t, CODE);
	else
		hvg_enter_protected(t, CODE);
	struct hv_sregs s;
	assert_int_equal(hv_get_sregs(t->vcpu, &s), 0);
	s.idt = (struct hv_dtable){ .base = idt, .limit = idt_limit };
	assert_int_equal(hv_set_sregs(t->vcpu, &s), 0);
}

#endif
