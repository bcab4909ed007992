/*
 * fuzz_vmentry.c — libFuzzer target: VM entry with random guest state,
 * controls and host state, on the silicon model (hw/) with no hypervisor
 * around it (tests/support/hwguest.h builds a valid long-mode guest
 * first, as a hypervisor would).
 *
 * VMX: VMLAUNCH/VMRESUME check the controls and host state (SDM Vol. 3C
 * 27.2, hw/vmx_check.c) and the guest state (27.3.1,
 * hw/vmx_check_guest.c), then load the guest (27.3.2) and run it. SVM:
 * VMRUN's consistency checks (APM Vol. 2 15.5.1, hw/svm_check.c), then
 * the guest runs.
 *
 * Input layout: byte 0: bit 0 SVM (else VMX), bit 1 two-dimensional
 * paging (EPT/NPT), bits 2-3 how many entries to make (1..4); byte 1:
 * the number of edits n (mod 32); then n edits of 11 bytes each —
 * op (u8: bits 1:0 set, OR, AND NOT, XOR), selector (u16 LE), value
 * (u64 LE). VMX: the selector picks a field of hw/vmcs_fields.def and
 * the edit is VMREAD + VMWRITE (read-only fields just fail); SVM: it
 * picks an 8-byte slot of the VMCB page. The rest of the input is guest
 * code at gpa 0x10000, where RIP starts (an edit may move it).
 *
 * Every entry is bounded: the host timer (hw_cpu_set_deadline) fires
 * after RUN_INSNS guest instructions, and the controls that make that
 * timer an exit (VMX pin-based "external-interrupt exiting"; SVM INTR
 * intercept with V_INTR_MASKING, 15.21.1) are forced on after the edits.
 *
 * Oracle: the sanitizers, plus the architecture's outcomes only:
 *  - VMX: VMsucceed with an exit reason, where a failed entry (bit 31)
 *    is reason 33 or 34 (27.8); or VMfailValid with a VM-entry error
 *    (7 controls, 8 host state, 4/5 launch state; 31.4 Table 31-1).
 *    Never VMfailInvalid (a VMCS is current), never #UD/#GP (the host
 *    is at CPL 0 in VMX root operation).
 *  - SVM: VMRUN completes (a failed check is EXITCODE VMEXIT_INVALID);
 *    never #GP/#UD (the VMCB address is valid and fixed).
 *  - A guest that entered and exited normally is re-entered unchanged:
 *    the state the exit saved must pass the entry checks again (no
 *    reason 33, no VMEXIT_INVALID) — a processor saves only state it
 *    could load.
 *  - "The model does not implement it" (hw_cpu_unsupported) is allowed
 *    and must say what.
 * A violation traps (__builtin_trap), which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <string.h>

#include "hw/hw.h"
#include "hw/svm.h"
#include "hw/vmcb.h"
#include "hw/vmx.h"
#include "tests/support/hwguest.h"

#define CODE_GPA	0x10000ull
#define CODE_MAX	0x4000u
#define STACK_GPA	0x30000ull
#define RUN_INSNS	500u
#define EDIT_SIZE	11u

static const uint32_t vmcs_fields[] = {
#define VMCS_FIELD(name, enc) (enc),
#include "hw/vmcs_fields.def"
#undef VMCS_FIELD
};
#define NR_FIELDS (sizeof(vmcs_fields) / sizeof(vmcs_fields[0]))

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static uint64_t apply(unsigned op, uint64_t old, uint64_t val)
{
	switch (op & 3) {
	case 0: return val;
	case 1: return old | val;
	case 2: return old & ~val;
	default: return old ^ val;
	}
}

static void edit_vmx(struct hwg *g, unsigned op, unsigned sel, uint64_t val)
{
	const uint32_t f = vmcs_fields[sel % NR_FIELDS];
	uint64_t old = 0;
	vmread(g->cpu, f, &old);
	vmwrite(g->cpu, f, apply(op, old, val));	/* read-only: error 13 */
}

static void edit_svm(struct hwg *g, unsigned op, unsigned sel, uint64_t val)
{
	uint8_t *v = (uint8_t *)hwg_vmcb(g);
	const unsigned off = (sel % (VMCB_SIZE / 8)) * 8;
	uint64_t old;
	memcpy(&old, v + off, 8);
	old = apply(op, old, val);
	memcpy(v + off, &old, 8);
}

/* The timer must end every entry (see the header). */
static void force_bound(struct hwg *g)
{
	if (g->vendor == HW_VENDOR_INTEL) {
		uint64_t pin = 0;
		vmread(g->cpu, VMCS_PIN_BASED_CTLS, &pin);
		vmwrite(g->cpu, VMCS_PIN_BASED_CTLS, pin | VMX_PIN_EXT_INTR_EXITING);
	} else {
		struct vmcb *v = hwg_vmcb(g);
		v->control.intercept_misc1 |= SVM_INTERCEPT_INTR;
		v->control.v_intr_masking |= SVM_V_INTR_MASKING;
	}
}

/* One entry; false when the run must stop. Traps on a non-architectural
 * outcome. @normal_before: the previous entry exited normally. */
static bool enter_vmx(struct hwg *g, bool normal_before, bool *normal)
{
	int st;
	const uint64_t reason = hwg_run(g, &st);
	*normal = false;
	switch (st) {
	case VMX_SUCCEED:
		if (reason & VMX_EXIT_REASON_ENTRY_FAILURE) {
			const uint64_t basic = reason & 0xffff;
			if (basic != VMX_EXIT_INVALID_GUEST_STATE && basic != VMX_EXIT_MSR_LOADING)
				__builtin_trap();
			if (normal_before)
				__builtin_trap();	/* the exit saved unloadable state */
			return false;
		}
		*normal = true;
		return true;
	case VMX_FAIL_VALID: {
		const uint64_t err = hwg_vmread(g, VMCS_VM_INSTRUCTION_ERROR);
		if (err != VMX_ERR_ENTRY_INVALID_CTLS && err != VMX_ERR_ENTRY_INVALID_HOST_STATE &&
		    err != VMX_ERR_VMLAUNCH_NONCLEAR && err != VMX_ERR_VMRESUME_NONLAUNCHED)
			__builtin_trap();
		/* Controls and host state are not changed by a guest. */
		if (normal_before)
			__builtin_trap();
		return false;
	}
	case VMX_MODEL_UNSUPPORTED:
		if (!hw_cpu_unsupported(g->cpu))
			__builtin_trap();
		return false;
	default:
		__builtin_trap();
	}
}

static bool enter_svm(struct hwg *g, bool normal_before, bool *normal)
{
	int st;
	const uint64_t code = hwg_run(g, &st);
	*normal = false;
	switch (st) {
	case SVM_OK:
		if (code == SVM_EXIT_INVALID) {
			if (normal_before)
				__builtin_trap();
			return false;
		}
		*normal = true;
		return true;
	case SVM_MODEL_UNSUPPORTED:
		if (!hw_cpu_unsupported(g->cpu))
			__builtin_trap();
		return false;
	default:
		__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	const bool svm = data[0] & 1;
	const unsigned entries = 1 + ((data[0] >> 2) & 3);
	const unsigned nedits = data[1] % 32;
	if (size < 2 + (size_t)nedits * EDIT_SIZE)
		return 0;

	struct hwg g;
	const struct hwg_config cfg = {
		.vendor = svm ? HW_VENDOR_AMD : HW_VENDOR_INTEL,
		.tdp = data[0] & 2,
		.ram_size = 2ull << 20,
	};
	if (hwg_create(&g, &cfg))
		__builtin_trap();	/* a fixed, valid configuration */

	const uint8_t *code = data + 2 + nedits * EDIT_SIZE;
	size_t ncode = size - 2 - nedits * EDIT_SIZE;
	if (ncode > CODE_MAX)
		ncode = CODE_MAX;
	hwg_load(&g, CODE_GPA, code, ncode);
	hwg_set_entry(&g, CODE_GPA, STACK_GPA);

	for (unsigned i = 0; i < nedits; i++) {
		const uint8_t *e = data + 2 + i * EDIT_SIZE;
		const unsigned sel = (unsigned)e[1] | (unsigned)e[2] << 8;
		if (svm)
			edit_svm(&g, e[0], sel, rd64(e + 3));
		else
			edit_vmx(&g, e[0], sel, rd64(e + 3));
	}
	force_bound(&g);

	bool normal = false;
	for (unsigned i = 0; i < entries; i++) {
		const bool before = normal;
		hw_cpu_set_deadline(g.cpu, hw_cpu_counters(g.cpu)->insns + RUN_INSNS);
		if (!(svm ? enter_svm(&g, before, &normal) : enter_vmx(&g, before, &normal)))
			break;
	}
	hwg_destroy(&g);
	return 0;
}
