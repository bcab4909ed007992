/*
 * irq.c — core/irq's front: creation, the board's wiring between device
 * lines and the controllers (irqchip.h has the diagram), and the calls
 * the run loop and the exit handlers make (irq.h).
 *
 * Which controller answers the processor's INTA (irq_pending/irq_ack):
 * the 8259 when its INTR reaches the vcpu — through LINT0 as ExtINT on
 * the BSP (lapic_accepts_pic) or through an ExtINT message from the I/O
 * APIC — and the local APIC's IRR otherwise. ExtINT goes first: it does
 * not pass through IRR and PPR does not hold it back (SDM Vol. 3A
 * 11.5.1, ExtINT "causes the processor to respond to the interrupt as if
 * the interrupt originated in an externally connected (8259A-compatible)
 * interrupt controller").
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/irq/irqchip.h"
#include "core/request.h"
#include "core/vm.h"

/* irq->lock (irqchip.h): every entry point below holds it. A VM being
 * set up or torn down has no irq yet: nothing to lock. */
static void irq_lock(struct hv_vm *vm)
{
	if (vm->irq)
		pthread_mutex_lock(&vm->irq->lock);
}

static void irq_unlock(struct hv_vm *vm)
{
	if (vm->irq)
		pthread_mutex_unlock(&vm->irq->lock);
}

#define PIC_PORT(p) ((p) == 0x20 || (p) == 0x21 || (p) == 0xa0 || (p) == 0xa1 || \
		     (p) == 0x4d0 || (p) == 0x4d1)

int irq_vm_init(struct hv_vm *vm)
{
	struct irq_vm *irq = calloc(1, sizeof(*irq));

	if (!irq)
		return -ENOMEM;
	irq->vm = vm;
	pthread_mutex_init(&irq->lock, NULL);
	pic_reset(&irq->pic);
	ioapic_reset(&irq->ioapic);
	vm->irq = irq;
	return 0;
}

void irq_vm_destroy(struct hv_vm *vm)
{
	if (vm->irq)
		pthread_mutex_destroy(&vm->irq->lock);
	free(vm->irq);
	vm->irq = NULL;
}

int irq_vcpu_init(struct hv_vcpu *vcpu)
{
	struct lapic *apic = calloc(1, sizeof(*apic));

	if (!apic)
		return -ENOMEM;
	apic->vcpu = vcpu;
	apic->initial_id = vcpu->id;
	lapic_reset(apic);
	vcpu->apic = apic;
	return 0;
}

void irq_vcpu_destroy(struct hv_vcpu *vcpu)
{
	free(vcpu->apic);
	vcpu->apic = NULL;
}

/* The BSP: the processor whose LINT0 the 8259's INTR is wired to. */
static struct lapic *bsp_apic(struct hv_vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i] && vm->vcpus[i]->id == 0)
			return vm->vcpus[i]->apic;
	return NULL;
}

void irq_pic_changed(struct irq_vm *irq)
{
	bool out = pic_output(&irq->pic);
	struct lapic *bsp = bsp_apic(irq->vm);

	if (out == irq->pic_out)
		return;
	irq->pic_out = out;
	ioapic_set_pin(irq, 0, out);
	if (bsp) {
		lapic_set_lint(bsp, 0, out);
		if (out)	/* ExtINT is polled: wake the BSP to look */
			vcpu_make_request(bsp->vcpu, VCPU_REQ_EVENT);
	}
}

static int irq_set_line_locked(struct hv_vm *vm, unsigned irq, bool level)
{
	struct irq_vm *ic = vm->irq;

	/* IRQ 2 is the slave 8259's cascade: no device drives it */
	if (!ic || irq >= IOAPIC_NR_PINS || irq == 2)
		return -EINVAL;
	if (irq < IRQ_NR_ISA) {
		pic_set_irq(&ic->pic, irq, level);
		irq_pic_changed(ic);
	}
	ioapic_set_pin(ic, irq == 0 ? 2 : irq, level);
	return 0;
}

static bool apic_decodes(const struct lapic *apic, gpa_t gpa)
{
	gpa_t base = apic->base_msr & 0x000ffffffffff000ull;

	return lapic_hw_enabled(apic) && !lapic_x2apic(apic) &&
	       gpa >= base && gpa < base + HV_PAGE_SIZE;
}

static bool irq_mmio_read_locked(struct hv_vcpu *vcpu, gpa_t gpa, void *val, unsigned len)
{
	struct irq_vm *irq = vcpu->vm->irq;

	if (vcpu->apic && apic_decodes(vcpu->apic, gpa))
		return lapic_mmio_read(vcpu->apic, gpa & 0xfff, val, len);
	if (irq && gpa >= IOAPIC_BASE && gpa < IOAPIC_BASE + IOAPIC_SIZE) {
		ioapic_mmio_read(irq, (uint32_t)(gpa - IOAPIC_BASE), val, len);
		return true;
	}
	return false;
}

static bool irq_mmio_write_locked(struct hv_vcpu *vcpu, gpa_t gpa, const void *val, unsigned len)
{
	struct irq_vm *irq = vcpu->vm->irq;

	if (vcpu->apic && apic_decodes(vcpu->apic, gpa))
		return lapic_mmio_write(vcpu->apic, gpa & 0xfff, val, len);
	if (irq && gpa >= IOAPIC_BASE && gpa < IOAPIC_BASE + IOAPIC_SIZE) {
		ioapic_mmio_write(irq, (uint32_t)(gpa - IOAPIC_BASE), val, len);
		return true;
	}
	return false;
}

/* Wider accesses to the PIC ports read/write consecutive ports; a byte
 * no chip decodes reads as 0xff (an undriven ISA bus). */
static bool irq_pio_in_locked(struct hv_vcpu *vcpu, uint16_t port, void *val, unsigned len)
{
	struct irq_vm *irq = vcpu->vm->irq;
	uint8_t *b = val;

	if (!irq || !PIC_PORT(port))
		return false;
	for (unsigned i = 0; i < len; i++)
		if (!pic_port_in(&irq->pic, (uint16_t)(port + i), &b[i]))
			b[i] = 0xff;
	irq_pic_changed(irq);	/* a poll read acknowledges */
	return true;
}

static bool irq_pio_out_locked(struct hv_vcpu *vcpu, uint16_t port, const void *val, unsigned len)
{
	struct irq_vm *irq = vcpu->vm->irq;
	const uint8_t *b = val;

	if (!irq || !PIC_PORT(port))
		return false;
	for (unsigned i = 0; i < len; i++)
		pic_port_out(&irq->pic, (uint16_t)(port + i), b[i]);
	irq_pic_changed(irq);
	return true;
}

static int irq_rdmsr_locked(struct hv_vcpu *vcpu, uint32_t msr, uint64_t *val)
{
	struct lapic *apic = vcpu->apic;

	if (!apic)
		return 1;
	if (msr == MSR_IA32_APIC_BASE) {
		*val = apic->base_msr;
		return 0;
	}
	if (msr == MSR_IA32_TSC_DEADLINE) {
		*val = lapic_tsc_deadline_read(apic);
		return 0;
	}
	if (msr >= MSR_X2APIC_FIRST && msr <= MSR_X2APIC_LAST)
		return lapic_x2apic_rdmsr(apic, msr, val);
	return 1;
}

static int irq_wrmsr_locked(struct hv_vcpu *vcpu, uint32_t msr, uint64_t val)
{
	struct lapic *apic = vcpu->apic;

	if (!apic)
		return 1;
	if (msr == MSR_IA32_APIC_BASE)
		return lapic_set_base(apic, val);
	if (msr == MSR_IA32_TSC_DEADLINE) {
		lapic_tsc_deadline_write(apic, val);
		return 0;
	}
	if (msr >= MSR_X2APIC_FIRST && msr <= MSR_X2APIC_LAST)
		return lapic_x2apic_wrmsr(apic, msr, val);
	return 1;
}

static void irq_update_locked(struct hv_vcpu *vcpu)
{
	if (vcpu->apic)
		lapic_timer_update(vcpu->apic);
}

/* Does the 8259 answer this vcpu's next INTA? */
static bool extint_pending(struct hv_vcpu *vcpu)
{
	struct irq_vm *irq = vcpu->vm->irq;
	struct lapic *apic = vcpu->apic;

	if (!irq)
		return false;
	if (apic->extint_pending)
		return true;
	return vcpu->id == 0 && lapic_accepts_pic(apic) && pic_output(&irq->pic);
}

static int irq_pending_locked(struct hv_vcpu *vcpu)
{
	if (!vcpu->apic)
		return -1;
	vcpu->apic->inta_pic = extint_pending(vcpu);
	if (vcpu->apic->inta_pic)
		return pic_peek_vector(&vcpu->vm->irq->pic);
	return lapic_pending_vector(vcpu->apic);
}

/*
 * The INTA goes where irq_pending's answer came from: to the 8259 —
 * which answers IR7 if its request went away in between, as the 8259A
 * does — or to the local APIC.
 */
static void irq_ack_locked(struct hv_vcpu *vcpu, int vector)
{
	struct irq_vm *irq = vcpu->vm->irq;
	struct lapic *apic = vcpu->apic;

	if (!apic || vector < 0 || vector > 255)
		return;
	if (apic->inta_pic) {
		apic->inta_pic = false;
		apic->extint_pending = false;
		pic_intack(&irq->pic);
		irq_pic_changed(irq);
		return;
	}
	lapic_ack_vector(apic, vector);
}

static bool irq_take_nmi_locked(struct hv_vcpu *vcpu)
{
	bool nmi = vcpu->apic && vcpu->apic->nmi_pending;

	if (nmi)
		vcpu->apic->nmi_pending = false;
	return nmi;
}

static uint64_t irq_next_deadline_ns_locked(struct hv_vcpu *vcpu)
{
	return vcpu->apic ? lapic_timer_next_ns(vcpu->apic) : UINT64_MAX;
}

static bool irq_take_init_sipi_locked(struct hv_vcpu *vcpu, bool *init, uint8_t *vector)
{
	*init = false;
	return vcpu->apic && lapic_take_init_sipi(vcpu->apic, init, vector);
}

/* SDM Vol. 3A 11.8.6: CR8[3:0] is TPR[7:4]; a write clears TPR[3:0]. */
static uint64_t irq_get_cr8_locked(struct hv_vcpu *vcpu)
{
	return vcpu->apic ? (vcpu->apic->tpr >> 4) & 0xf : 0;
}

static void irq_set_cr8_locked(struct hv_vcpu *vcpu, uint64_t val)
{
	if (vcpu->apic)
		vcpu->apic->tpr = (uint32_t)(val & 0xf) << 4;
}

/* ---------------------------------------------------------------- locked entry points */

int irq_set_line(struct hv_vm *vm, unsigned irq, bool level)
{
	irq_lock(vm);
	const int r = irq_set_line_locked(vm, irq, level);
	irq_unlock(vm);
	return r;
}

bool irq_mmio_read(struct hv_vcpu *vcpu, gpa_t gpa, void *val, unsigned len)
{
	irq_lock(vcpu->vm);
	const bool r = irq_mmio_read_locked(vcpu, gpa, val, len);
	irq_unlock(vcpu->vm);
	return r;
}

bool irq_mmio_write(struct hv_vcpu *vcpu, gpa_t gpa, const void *val, unsigned len)
{
	irq_lock(vcpu->vm);
	const bool r = irq_mmio_write_locked(vcpu, gpa, val, len);
	irq_unlock(vcpu->vm);
	return r;
}

bool irq_pio_in(struct hv_vcpu *vcpu, uint16_t port, void *val, unsigned len)
{
	irq_lock(vcpu->vm);
	const bool r = irq_pio_in_locked(vcpu, port, val, len);
	irq_unlock(vcpu->vm);
	return r;
}

bool irq_pio_out(struct hv_vcpu *vcpu, uint16_t port, const void *val, unsigned len)
{
	irq_lock(vcpu->vm);
	const bool r = irq_pio_out_locked(vcpu, port, val, len);
	irq_unlock(vcpu->vm);
	return r;
}

int irq_rdmsr(struct hv_vcpu *vcpu, uint32_t msr, uint64_t *val)
{
	irq_lock(vcpu->vm);
	const int r = irq_rdmsr_locked(vcpu, msr, val);
	irq_unlock(vcpu->vm);
	return r;
}

int irq_wrmsr(struct hv_vcpu *vcpu, uint32_t msr, uint64_t val)
{
	irq_lock(vcpu->vm);
	const int r = irq_wrmsr_locked(vcpu, msr, val);
	irq_unlock(vcpu->vm);
	return r;
}

void irq_update(struct hv_vcpu *vcpu)
{
	irq_lock(vcpu->vm);
	irq_update_locked(vcpu);
	irq_unlock(vcpu->vm);
}

int irq_pending(struct hv_vcpu *vcpu)
{
	irq_lock(vcpu->vm);
	const int r = irq_pending_locked(vcpu);
	irq_unlock(vcpu->vm);
	return r;
}

void irq_ack(struct hv_vcpu *vcpu, int vector)
{
	irq_lock(vcpu->vm);
	irq_ack_locked(vcpu, vector);
	irq_unlock(vcpu->vm);
}

bool irq_take_nmi(struct hv_vcpu *vcpu)
{
	irq_lock(vcpu->vm);
	const bool r = irq_take_nmi_locked(vcpu);
	irq_unlock(vcpu->vm);
	return r;
}

uint64_t irq_next_deadline_ns(struct hv_vcpu *vcpu)
{
	irq_lock(vcpu->vm);
	const uint64_t r = irq_next_deadline_ns_locked(vcpu);
	irq_unlock(vcpu->vm);
	return r;
}

bool irq_take_init_sipi(struct hv_vcpu *vcpu, bool *init, uint8_t *vector)
{
	irq_lock(vcpu->vm);
	const bool r = irq_take_init_sipi_locked(vcpu, init, vector);
	irq_unlock(vcpu->vm);
	return r;
}

uint64_t irq_get_cr8(struct hv_vcpu *vcpu)
{
	irq_lock(vcpu->vm);
	const uint64_t r = irq_get_cr8_locked(vcpu);
	irq_unlock(vcpu->vm);
	return r;
}

void irq_set_cr8(struct hv_vcpu *vcpu, uint64_t val)
{
	irq_lock(vcpu->vm);
	irq_set_cr8_locked(vcpu, val);
	irq_unlock(vcpu->vm);
}
