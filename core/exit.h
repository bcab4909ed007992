/*
 * exit.h — the generic exit handlers (core/exit.c), one per enum
 * hvx_reason, dispatched through one table. A handler returns
 * EXIT_RESUME to re-enter the guest, EXIT_TO_VMM when vcpu->run holds an
 * exit for the VMM, or -errno (the vcpu cannot go on).
 */
#ifndef HVLAB_CORE_EXIT_H
#define HVLAB_CORE_EXIT_H

#include <stdbool.h>
#include <stdint.h>

#include "hvlab/types.h"

struct hv_vcpu;

enum { EXIT_TO_VMM = 0, EXIT_RESUME = 1 };

int vcpu_handle_exit(struct hv_vcpu *vcpu);

/* Put an IN's @val (@size bytes) in AL/AX/EAX as the instruction
 * would (a 32-bit IN zero-extends into RAX). */
void vcpu_complete_pio_in(struct hv_vcpu *vcpu, uint32_t val, unsigned size);

/* Fill vcpu->run with a port I/O exit (@data: OUT's value, NULL for IN)
 * and count it; the same for MMIO (@data: a write's bytes, NULL for a
 * read). Data bytes beyond @size read 0. */
void vcpu_io_exit(struct hv_vcpu *vcpu, bool in, uint16_t port, unsigned size, const void *data);
void vcpu_mmio_exit(struct hv_vcpu *vcpu, gpa_t gpa, unsigned len, const void *data);

/* Fill vcpu->run with an internal error (one line) and return
 * EXIT_TO_VMM. */
int vcpu_internal_error(struct hv_vcpu *vcpu, unsigned suberror, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
