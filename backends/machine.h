/*
 * machine.h — what both backends do the same way with the silicon model:
 * create the VM's machine from its configuration, and convert between
 * core's segment record and the descriptor-cache packing each vendor's
 * control structure uses. The per-vendor VM structures embed struct
 * backend_vm (to_vmx_vm() / to_svm_vm() reach it with container_of).
 */
#ifndef HVLAB_BACKENDS_MACHINE_H
#define HVLAB_BACKENDS_MACHINE_H

#include "core/seg.h"
#include "core/vm.h"
#include "hw/hw.h"

struct backend_vm {
	struct hv_vm vm;
	struct hw_machine *m;
};

static inline struct backend_vm *to_backend_vm(struct hv_vm *vm)
{
	return container_of(vm, struct backend_vm, vm);
}

/*
 * Create the machine for @vm: @vendor's Kconfig defaults, vm->cfg's
 * price overrides (0 keeps a default), an arena of vm->arena_size bytes;
 * sets vm->arena. 0 or -errno with vm_err().
 */
int backend_machine_create(struct hv_vm *vm, enum hw_vendor vendor);
void backend_machine_destroy(struct hv_vm *vm);

/* hpa_written for both vendors: the model drops decoded code. */
void backend_hpa_written(struct hv_vm *vm, hpa_t hpa, size_t len);

/* The model's counters for @cpu as core's vendor-neutral record. */
void backend_read_counters(struct hw_cpu *cpu, struct hv_hw_counters *c);

/* Access rights in the VMX layout, also the base of SVM's packing:
 * core/seg.h. */
static inline uint32_t backend_seg_to_ar(const struct hv_segment *s)
{
	return seg_to_ar(s);
}

static inline void backend_ar_to_seg(uint32_t ar, struct hv_segment *s)
{
	ar_to_seg(ar, s);
}

#endif
