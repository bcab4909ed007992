/*
 * hwguest.h — a guest on the silicon model with no hypervisor around
 * it: the harness hw/'s tests and benchmarks use to run guest code in
 * VMX non-root operation or SVM guest mode with as little as possible
 * between them and the model.
 *
 * Host-physical layout (the arena):
 *   [0, HWG_HOST_AREA)           host structures: VMXON region, VMCS or
 *                                VMCB and host save area, EPT/NPT tables,
 *                                bitmaps (a bump allocator)
 *   [HWG_HOST_AREA, + ram)       guest RAM
 * With two-dimensional paging, guest-physical address x is host-physical
 * HWG_HOST_AREA + x; without it the guest runs on host-physical addresses
 * directly (gpa = hpa), as a shadow-paging hypervisor would arrange.
 *
 * A long-mode guest gets identity-mapped page tables (gva = gpa) over its
 * RAM, a GDT with 64-bit code and data, and starts at CPL 0 with the
 * given RIP and RSP. The exits the harness enables: HLT, and whatever
 * the test asks for through the raw VMCS/VMCB afterwards.
 */
#ifndef HVLAB_TESTS_HWGUEST_H
#define HVLAB_TESTS_HWGUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/hw.h"
#include "tests/support/pt_builder.h"

#define HWG_HOST_AREA (16ull << 20)

struct hwg {
	struct hw_machine *m;
	struct hw_cpu *cpu;
	enum hw_vendor vendor;
	bool tdp;			/* EPT / NPT in use */
	uint8_t *mem;			/* host pointer of hpa 0 */
	uint64_t ram_size;
	uint64_t ram_hpa;		/* hpa of guest RAM */
	uint64_t gpa_base;		/* gpa of the first RAM byte */
	struct ptb host;		/* host-physical page allocator */
	struct ptb guest;		/* guest page-table allocator (gpa space) */
	uint64_t tdp_root;		/* EPT PML4 / nCR3, hpa */
	uint64_t cr3;			/* guest page-table root, gpa */
	uint64_t ctl;			/* VMCS or VMCB, hpa */
	uint64_t aux;			/* VMXON region or host save area, hpa */
	bool launched;
};

struct hwg_config {
	enum hw_vendor vendor;
	bool tdp;			/* two-dimensional paging */
	uint64_t ram_size;		/* bytes, multiple of 2 MiB */
	uint64_t guest_page_size;	/* guest mappings: 4 KiB, 2 MiB or 1 GiB */
	uint64_t tdp_page_size;		/* EPT/NPT mappings */
	const struct hw_machine_config *machine;	/* NULL: defaults */
};

/* Create machine, processor and a long-mode guest. 0 or -errno. */
int hwg_create(struct hwg *g, const struct hwg_config *cfg);
void hwg_destroy(struct hwg *g);

/* Guest memory at gpa @gpa as a host pointer (NULL outside RAM). */
void *hwg_ptr(struct hwg *g, uint64_t gpa, size_t len);
/* Copy @len bytes of code or data to gpa @gpa (tells the model). */
void hwg_load(struct hwg *g, uint64_t gpa, const void *bytes, size_t len);

/* Guest registers before the next entry / after the last exit. */
void hwg_set_entry(struct hwg *g, uint64_t rip, uint64_t rsp);
uint64_t hwg_gpr(struct hwg *g, unsigned reg);
void hwg_set_gpr(struct hwg *g, unsigned reg, uint64_t val);
uint64_t hwg_rip(struct hwg *g);
void hwg_set_rip(struct hwg *g, uint64_t rip);

/*
 * Enter the guest and run it to the next exit. Returns the VMX basic exit
 * reason (with bit 31 for a failed entry) or the SVM EXITCODE; *status
 * gets the instruction's status (VMX_SUCCEED/SVM_OK or a fault).
 */
uint64_t hwg_run(struct hwg *g, int *status);

/* Skip the exiting instruction (its length from the exit information). */
void hwg_skip(struct hwg *g);

/* VMCS field / VMCB pointer for tests that program intercepts. */
uint64_t hwg_vmread(struct hwg *g, uint64_t field);
void hwg_vmwrite(struct hwg *g, uint64_t field, uint64_t val);
struct vmcb *hwg_vmcb(struct hwg *g);

#endif
