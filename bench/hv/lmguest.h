/*
 * lmguest.h — a bare long-mode guest for the run-loop benchmarks, built
 * with the public API (include/hvlab/hv.h) alone, as any VMM would.
 *
 * Guest-physical layout (slot 0, [0, 2 MiB), one 2 MiB-aligned region so
 * the tdp MMU may map it with one large entry):
 *   0x1000  PML4       one entry -> PDPT
 *   0x2000  PDPT       one entry -> PD
 *   0x3000  PD         512 2 MiB pages: gva = gpa over [0, 1 GiB)
 *   0x4000  GDT        null, 64-bit code (0x08), data (0x10)
 *   0x10000 code       (BHV_CODE)
 *   0x20000 data       (BHV_DATA, one page)
 * A benchmark adds its own regions (slots 1..) anywhere below 1 GiB and
 * its code at BHV_CODE.
 *
 * The state is IA-32e mode at CPL 0 with paging (SDM Vol. 3A 9.8.5:
 * CR0.PE|PG, CR4.PAE, EFER.LME|LMA, 64-bit CS), RFLAGS.IF = 0 so that a
 * HLT ends the run with HV_EXIT_HLT, and a busy 64-bit TSS and an
 * unusable LDTR as VM entry requires (SDM Vol. 3C 27.3.1.2; APM Vol. 2
 * 15.5.1 checks less).
 */
#ifndef HVLAB_BENCH_HV_LMGUEST_H
#define HVLAB_BENCH_HV_LMGUEST_H

#include <stdint.h>

#include "hvlab/hv.h"

#define BHV_LOW_SIZE (2ull << 20)
#define BHV_CODE 0x10000ull
#define BHV_DATA 0x20000ull
#define BHV_GVA_LIMIT (1ull << 30)	/* what the guest page tables map */

struct bhv_guest {
	struct hv_vm *vm;
	struct hv_vcpu *vcpu;
};

/* A VM on @backend with the tdp MMU, room for @max_mem bytes of guest
 * RAM (at least BHV_LOW_SIZE), slot 0 set up as above and vcpu 0 in
 * long mode at BHV_CODE. 0 or -errno; on failure nothing is left. */
int bhv_guest_create(struct bhv_guest *g, const char *backend, uint64_t max_mem);
void bhv_guest_destroy(struct bhv_guest *g);

/* Copy @len bytes of code to BHV_CODE. */
int bhv_guest_load(struct bhv_guest *g, const void *code, size_t len);

/* The values of the hv_get_stats() counters named in @names[0..k) into
 * @out. 0, -ENOENT if the VM has no counter of one of the names,
 * -ENOMEM. */
int bhv_stats(struct hv_vm *vm, const char *const *names, unsigned k, uint64_t *out);

#endif
