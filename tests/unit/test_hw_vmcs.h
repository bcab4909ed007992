/*
 * test_hw_vmcs.h — what the VMCS tests share (test_hw_vmcs.c: the
 * VMCS and the instructions that manage it; test_hw_vmx_caps.c: the
 * capability MSRs): a fresh Intel machine whose host has done what a
 * kernel does before VMXON (CR4.VMXE set, IA32_FEATURE_CONTROL locked
 * with VMXON outside SMX enabled), pages holding the revision
 * identifier IA32_VMX_BASIC reports, and small helpers. Numbers are
 * written from the manual, not taken from hw/vmx.h.
 */
#ifndef HVLAB_TESTS_UNIT_TEST_HW_VMCS_H
#define HVLAB_TESTS_UNIT_TEST_HW_VMCS_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hw/cpu.h"
#include "hw/vmcs.h"
#include "hw/vmx.h"

#define ARENA (16ull << 20)
#define VMXON_PA 0x10000ull
#define VMCS_A 0x11000ull
#define VMCS_B 0x12000ull
#define SPARE 0x13000ull		/* a page tests fill as they need */
#define NO_VMCS (~0ull)			/* FFFFFFFF_FFFFFFFFH: no current VMCS */

/* RFLAGS (SDM Vol. 1 3.4.3). */
#define CF (1ull << 0)
#define PF (1ull << 2)
#define AF (1ull << 4)
#define ZF (1ull << 6)
#define SF (1ull << 7)
#define IF (1ull << 9)
#define OF (1ull << 11)
#define VM (1ull << 17)
#define STATUS_FLAGS (CF | PF | AF | ZF | SF | OF)

#define CR0_PE (1ull << 0)
#define CR0_NE (1ull << 5)
#define CR0_PG (1ull << 31)
#define CR4_VMXE (1ull << 13)
#define CS_L (1u << 13)			/* access rights, VMCS layout */

/* SDM encodings used by name below (Vol. 3D Appendix B). */
#define ENC_GUEST_ES_SELECTOR	0x0800u
#define ENC_IO_BITMAP_A		0x2000u
#define ENC_GUEST_PHYS_ADDR	0x2400u
#define ENC_PIN_BASED		0x4000u
#define ENC_VM_INSN_ERROR	0x4400u
#define ENC_EXIT_REASON		0x4402u
#define ENC_EXIT_QUALIFICATION	0x6400u
#define ENC_GUEST_RIP		0x681eu

static struct hw_machine *m;
static struct hw_cpu *cpu;
static uint32_t revision;		/* IA32_VMX_BASIC[30:0] */

static inline void put32(hpa_t pa, uint32_t v)
{
	void *p = hw_hpa_ptr(m, pa, 4);
	assert_non_null(p);
	memcpy(p, &v, 4);
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint64_t v = 0;
	assert_int_equal(vmx_cap_rdmsr(cpu, msr, &v), 0);
	return v;
}

static inline int setup(void **state)
{
	struct hw_machine_config cfg;
	hw_machine_config_default(&cfg, HW_VENDOR_INTEL);
	cfg.arena_size = ARENA;
	assert_int_equal(hw_machine_create(&cfg, &m), 0);
	assert_int_equal(hw_cpu_create(m, 0, &cpu), 0);
	assert_int_equal(hw_write_cr(cpu, 4, hw_read_cr(cpu, 4) | CR4_VMXE), 0);
	assert_int_equal(hw_wrmsr(cpu, 0x3a, 0x5), 0);	/* lock (0), VMXON outside SMX (2) */
	revision = (uint32_t)(rdmsr(0x480) & 0x7fffffff);
	put32(VMXON_PA, revision);
	put32(VMCS_A, revision);
	put32(VMCS_B, revision);
	return 0;
}

static inline int teardown(void **state)
{
	hw_machine_destroy(m);
	m = NULL;
	cpu = NULL;
	return 0;
}

/* VMXON, then make @vmcs current (after a VMCLEAR, as software must). */
static inline void enter(hpa_t vmcs)
{
	assert_int_equal(vmxon(cpu, VMXON_PA), VMX_SUCCEED);
	if (vmcs == NO_VMCS)
		return;
	assert_int_equal(vmclear(cpu, vmcs), VMX_SUCCEED);
	assert_int_equal(vmptrld(cpu, vmcs), VMX_SUCCEED);
}

static inline uint64_t current(void)
{
	hpa_t pa = 0;
	assert_int_equal(vmptrst(cpu, &pa), VMX_SUCCEED);
	return pa;
}

static inline uint64_t rd(uint64_t field)
{
	uint64_t v = 0xbad;
	assert_int_equal(vmread(cpu, field, &v), VMX_SUCCEED);
	return v;
}

static inline void wr(uint64_t field, uint64_t v)
{
	assert_int_equal(vmwrite(cpu, field, v), VMX_SUCCEED);
}

/* A VMfailValid with error @err; the field is read back by VMREAD. */
static inline void assert_fail_valid(enum vmx_status st, unsigned err)
{
	assert_int_equal(st, VMX_FAIL_VALID);
	assert_int_equal(cpu->host.rflags & STATUS_FLAGS, ZF);
	assert_int_equal(rd(ENC_VM_INSN_ERROR), err);
}

static inline void assert_fail_invalid(enum vmx_status st)
{
	assert_int_equal(st, VMX_FAIL_INVALID);
	assert_int_equal(cpu->host.rflags & STATUS_FLAGS, CF);
}


#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

#endif
