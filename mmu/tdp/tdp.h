/*
 * tdp.h — the tdp strategy (ARCHITECTURE §6): guest paging runs
 * untouched and gpa -> hpa tables in EPT format (vmx) or NPT format (svm)
 * are built on demand. One body of code serves both formats; what
 * differs is this descriptor, which the backend hands over
 * (hv_backend_ops.tdp_format). bhyve's npt.c is the model of thinness.
 *
 * Entry formats: SDM Vol. 3C 29.3.2 Tables 29-1..29-6 (EPT); APM Vol. 2
 * 15.25.5 (NPT entries are long-mode page-table entries, 5.3.3).
 */
#ifndef HVLAB_MMU_TDP_H
#define HVLAB_MMU_TDP_H

#include <stdint.h>

struct tdp_format {
	const char *name;	/* "ept", "npt" */
	uint64_t present_mask;	/* any of these set: the entry is present */
	uint64_t r, w, x;	/* permission bits to set for read, write,
				 * execute (NPT: r = P, w = RW, x = 0) */
	uint64_t nx;		/* set to forbid execution (NPT bit 63; EPT 0) */
	uint64_t user;		/* set in every entry (NPT U/S: the guest's
				 * accesses are user accesses, APM 15.25.5) */
	uint64_t leaf_extra;	/* every leaf: EPT memory type WB (6 << 3) */
	uint64_t large;		/* PS, bit 7 in both */
	uint64_t addr_mask;	/* physical-address bits of an entry */
	uint64_t accessed, dirty;	/* A/D the processor sets (0: none) */
};

#endif
