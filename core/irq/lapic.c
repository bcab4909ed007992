/*
 * lapic.c — the local APIC's interrupt logic: RESET state, the mode
 * (IA32_APIC_BASE), priorities, acceptance into IRR, INTA (IRR -> ISR),
 * EOI, the local vector table as a source, IPIs and destination
 * matching. The register interfaces are lapic_regs.c, the timer
 * lapic_timer.c. SDM Vol. 3A chapter 11.
 *
 * Priority (11.8.3.1): a vector's class is bits 7:4.
 *   PPR = TPR            when TPR[7:4] >= ISRV[7:4]
 *         ISRV[7:4] << 4 otherwise     (ISRV: highest vector in ISR)
 * The processor takes the highest IRR vector only if its class is above
 * PPR's (11.8.3); acknowledging it moves it to ISR (11.8.4). EOI (11.8.5)
 * retires the highest ISR vector; if TMR says it was level-triggered the
 * EOI is broadcast to the I/O APIC (version bit 24 = 0: there is no EOI
 * broadcast suppression).
 *
 * Modes (11.4.3, 11.12.5): IA32_APIC_BASE EN=0 is "globally disabled":
 * the APIC accepts nothing, its page is not decoded and, as on a P6 with
 * its APIC off, the PIC's INTR reaches the processor directly. SVR bit 8
 * clear is "software disabled" (11.4.7.2): every LVT entry is masked and
 * stays masked, IPIs can still be sent, NMI/INIT are still accepted. A
 * fixed interrupt that arrives while software-disabled is dropped (the
 * SDM says nothing more; KVM drops it too), but what IRR already held is
 * kept and still delivered.
 *
 * INIT and STARTUP (SDM Vol. 3A 8.4.4, 11.6.1; MP spec 1.4 B.4): an INIT
 * message is latched (init_pending) and a STARTUP's vector kept
 * (sipi_pending) when the processor waits for one — it is in the
 * wait-for-SIPI state or an INIT is latched that will put it there — and
 * dropped otherwise, as a STARTUP to a running processor is. The vcpu's
 * own thread acts on them before it next runs (lapic_take_init_sipi,
 * core/run.c). The INIT level de-assert message (INIT with level 0 and
 * trigger level) only synchronises arbitration IDs: it does nothing here,
 * as on every processor since the Pentium 4.
 *
 * Every message that reaches a local APIC sends its vcpu a
 * VCPU_REQ_EVENT (core/request.h): in parallel mode that wakes or kicks
 * it; in deterministic mode it sees the message at its next turn.
 *
 * Not modelled: SMI delivery, focus-processor checking, arbitration IDs
 * (lowest priority picks the lowest-priority processor, ties by vcpu
 * order, so runs repeat).
 */
#include <errno.h>

#include "core/irq/irqchip.h"
#include "core/request.h"
#include "core/vm.h"

/* The model's CPUID.80000008H:EAX[7:0] (hw/ reports 46; core/ may not
 * include hw/ headers): APIC_BASE bits at or above it are reserved. */
#define LAPIC_MAXPHYADDR 46

static int highest_bit(const uint32_t v[8])
{
	for (int i = 7; i >= 0; i--)
		if (v[i])
			return i * 32 + 31 - __builtin_clz(v[i]);
	return -1;
}

static bool test_vec(const uint32_t v[8], unsigned vec)
{
	return v[vec / 32] >> (vec % 32) & 1;
}

static void set_vec(uint32_t v[8], unsigned vec, bool on)
{
	if (on)
		v[vec / 32] |= 1u << (vec % 32);
	else
		v[vec / 32] &= ~(1u << (vec % 32));
}

/*
 * RESET (11.4.7.1; 11.12.5.1 for the x2APIC ID): IRR, ISR, TMR, ICR,
 * LDR, TPR, the timer's counts and divide configuration are 0; DFR is all
 * ones; every LVT entry is 0 with its mask set; SVR is 0xff (software
 * disabled); the ID is the initial APIC ID; EN=1, EXTD=0 and BSP for the
 * vcpu that boots (vcpu 0). Also the state after a transition to
 * "disabled" (11.12.5.1 leaves it undefined; a fresh APIC is the
 * deterministic choice), so base_msr is the caller's.
 */
static void lapic_reset_regs(struct lapic *apic)
{
	apic->xapic_id = (apic->initial_id & 0xff) << 24;
	apic->tpr = apic->ldr = 0;
	apic->dfr = 0xffffffffu;
	apic->svr = 0xff;
	apic->esr = apic->esr_pending = 0;
	apic->icr_lo = apic->icr_hi = 0;
	for (unsigned i = 0; i < LAPIC_NR_LVT; i++)
		apic->lvt[i] = APIC_LVT_MASKED;
	for (unsigned i = 0; i < 8; i++)
		apic->irr[i] = apic->isr[i] = apic->tmr[i] = 0;
	apic->nmi_pending = apic->extint_pending = false;
	lapic_timer_reset(apic);
}

void lapic_reset(struct lapic *apic)
{
	apic->base_msr = APIC_DEFAULT_BASE | APIC_BASE_EN |
			 (apic->vcpu->id == 0 ? APIC_BASE_BSP : 0);
	lapic_reset_regs(apic);
}

uint32_t lapic_id(const struct lapic *apic)
{
	return lapic_x2apic(apic) ? apic->initial_id : apic->xapic_id >> 24;
}

uint32_t lapic_ppr(const struct lapic *apic)
{
	int isrv = highest_bit(apic->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;

	if ((apic->tpr & 0xf0) >= isr_class)
		return apic->tpr & 0xff;
	return isr_class;
}

int lapic_pending_vector(const struct lapic *apic)
{
	if (!lapic_hw_enabled(apic))
		return -1;
	int irrv = highest_bit(apic->irr);
	if (irrv < 0 || ((uint32_t)irrv & 0xf0) <= (lapic_ppr(apic) & 0xf0))
		return -1;
	return irrv;
}

void lapic_ack_vector(struct lapic *apic, int vector)
{
	set_vec(apic->irr, (unsigned)vector, false);
	set_vec(apic->isr, (unsigned)vector, true);
}

/*
 * 11.5.3: an error sets its ESR bit and, through LVT Error, interrupts
 * the processor. An illegal LVT Error vector would loop through here;
 * it only records the receive error.
 */
void lapic_error(struct lapic *apic, uint32_t esr_bits)
{
	uint32_t lvt = apic->lvt[LVT_ERROR];

	apic->esr_pending |= esr_bits;
	if (lvt & APIC_LVT_MASKED)
		return;
	if ((lvt & 0xff) < 16) {
		apic->esr_pending |= APIC_ESR_RECV_ILLEGAL;
		return;
	}
	lapic_accept(apic, APIC_DM_FIXED, lvt & 0xff, false);
}

/*
 * Acceptance (11.6.1, 11.8.4): fixed and lowest-priority vectors go to
 * IRR (TMR records the trigger mode); vectors 0-15 are illegal
 * (11.5.2): ESR "receive illegal vector", nothing in IRR.
 */
static int accept(struct lapic *apic, unsigned mode, unsigned vector, bool level)
{
	if (!lapic_hw_enabled(apic))
		return 0;
	switch (mode) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		if (vector < 16) {
			lapic_error(apic, APIC_ESR_RECV_ILLEGAL);
			return -EINVAL;
		}
		if (!lapic_sw_enabled(apic))
			return 0;
		set_vec(apic->irr, vector, true);
		set_vec(apic->tmr, vector, level);
		return 0;
	case APIC_DM_NMI:
		apic->nmi_pending = true;
		return 0;
	case APIC_DM_EXTINT:
		apic->extint_pending = true;
		return 0;
	case APIC_DM_INIT:
		apic->init_pending = true;
		apic->sipi_pending = false;
		return 0;
	case APIC_DM_STARTUP:
		if (apic->init_pending || apic->vcpu->mp_state == VCPU_MP_WAIT_SIPI) {
			apic->sipi_pending = true;
			apic->sipi_vector = (uint8_t)vector;
		}
		return 0;
	default:	/* SMI: not modelled */
		return 0;
	}
}

int lapic_accept(struct lapic *apic, unsigned mode, unsigned vector, bool level)
{
	const int r = accept(apic, mode, vector, level);
	vcpu_make_request(apic->vcpu, VCPU_REQ_EVENT);
	return r;
}

bool lapic_take_init_sipi(struct lapic *apic, bool *init, uint8_t *sipi_vector)
{
	*init = apic->init_pending;
	apic->init_pending = false;
	if (*init) {
		/* 11.4.7.3: INIT resets the APIC as power-up does, except
		 * for the APIC ID (and arbitration ID); IA32_APIC_BASE and
		 * the x2APIC mode stay. */
		const uint32_t xapic_id = apic->xapic_id, ldr = apic->ldr;
		lapic_reset_regs(apic);
		apic->xapic_id = xapic_id;
		if (lapic_x2apic(apic))
			apic->ldr = ldr;	/* derived from the ID, read-only */
	}
	if (!apic->sipi_pending)
		return false;
	apic->sipi_pending = false;
	*sipi_vector = apic->sipi_vector;
	return true;
}

/* 11.5.1: a local source raises its LVT entry's interrupt. The timer and
 * error entries have no delivery-mode field: they are fixed, edge. */
void lapic_deliver_lvt(struct lapic *apic, enum lapic_lvt lvt)
{
	uint32_t v = apic->lvt[lvt];
	unsigned mode = lvt == LVT_TIMER || lvt == LVT_ERROR ? APIC_DM_FIXED : (v >> 8) & 7;

	if (v & APIC_LVT_MASKED)
		return;
	if (mode == APIC_DM_EXTINT && lvt != LVT_LINT0)
		return;		/* ExtINT is LINT0's alone (the 8259's INTR) */
	lapic_accept(apic, mode, v & 0xff, false);
}

/*
 * LINT0/LINT1 inputs. Fixed and NMI delivery fire on the rising edge
 * (LINT1 is edge-only, 11.5.1; level-triggered fixed LINT0 with its
 * remote IRR is not modelled: no source on this machine needs it).
 * ExtINT on LINT0 is polled (lapic_accepts_pic): the vector comes from
 * the 8259 at INTA time.
 */
void lapic_set_lint(struct lapic *apic, unsigned pin, bool level)
{
	bool rising = level && !apic->lint[pin];
	uint32_t v = apic->lvt[LVT_LINT0 + pin];

	apic->lint[pin] = level;
	if (rising && ((v >> 8) & 7) != APIC_DM_EXTINT)
		lapic_deliver_lvt(apic, LVT_LINT0 + pin);
}

/*
 * The 8259's INTR reaches the processor when the APIC is globally
 * disabled (11.4.3: the processor behaves as one without an APIC), when
 * LVT LINT0 is unmasked with delivery mode ExtINT (11.5.1, the MP
 * specification's virtual wire mode), and — standing in for the virtual
 * wire set-up a BIOS does before it boots an OS (MP spec 3.6.2.2), as
 * QEMU's direct-kernel boot relies on — while it is software-disabled.
 */
bool lapic_accepts_pic(const struct lapic *apic)
{
	uint32_t lint0 = apic->lvt[LVT_LINT0];

	if (!lapic_hw_enabled(apic) || !lapic_sw_enabled(apic))
		return true;
	return !(lint0 & APIC_LVT_MASKED) && ((lint0 >> 8) & 7) == APIC_DM_EXTINT;
}

void lapic_eoi(struct lapic *apic)
{
	int v = highest_bit(apic->isr);

	if (v < 0)
		return;
	set_vec(apic->isr, (unsigned)v, false);
	if (test_vec(apic->tmr, (unsigned)v) && apic->vcpu->vm->irq)
		ioapic_eoi(apic->vcpu->vm->irq, (unsigned)v);
}

/*
 * Destination matching (11.6.2; x2APIC 11.12.10). xAPIC: physical =
 * 8-bit ID, 0xff broadcast; logical = LDR[31:24] under DFR's model: flat
 * (1111b) ANDs the 8 bits, cluster (0000b) compares the high nibble and
 * ANDs the low one, 0xff is a broadcast in both. x2APIC: 32-bit ID,
 * 0xffffffff broadcast; logical = cluster in 31:16, bitmap in 15:0.
 * An 8-bit destination (the I/O APIC) reaches an x2APIC physically only:
 * logical ones would need interrupt remapping, which is not modelled.
 */
bool lapic_match_dest(const struct lapic *apic, uint32_t dest, bool logical, bool wide)
{
	if (lapic_x2apic(apic)) {
		if (!wide) {
			dest &= 0xff;
			return !logical && (dest == 0xff || dest == apic->initial_id);
		}
		if (dest == 0xffffffffu)
			return true;
		if (!logical)
			return dest == apic->initial_id;
		return (dest >> 16) == (apic->ldr >> 16) && (dest & apic->ldr & 0xffff);
	}
	dest &= 0xff;
	if (dest == 0xff)
		return true;
	if (!logical)
		return dest == apic->xapic_id >> 24;
	uint32_t ldr = apic->ldr >> 24;
	if ((apic->dfr >> 28) == 0xf)
		return (dest & ldr) != 0;
	return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xf);
}

/*
 * Lowest-priority arbitration (11.6.2.4): the processor with the lowest
 * priority (PPR's class here: TPR and the interrupts in service) among
 * the destinations takes the message; ties go to the first in vcpu
 * order (no arbitration IDs), so the choice repeats exactly.
 */
static struct lapic *lowest_priority(struct lapic *const *cand, unsigned n)
{
	struct lapic *best = NULL;
	for (unsigned i = 0; i < n; i++)
		if (!best || (lapic_ppr(cand[i]) & 0xf0) < (lapic_ppr(best) & 0xf0))
			best = cand[i];
	return best;
}

unsigned lapic_deliver(struct hv_vm *vm, const struct lapic_msg *m)
{
	struct lapic *hit[HV_MAX_VCPUS];
	unsigned n = 0;

	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct lapic *t = vm->vcpus[i]->apic;
		bool self = t == m->src, match;
		if (!t || !lapic_hw_enabled(t))
			continue;
		switch (m->shorthand) {
		case APIC_SH_SELF: match = self; break;
		case APIC_SH_ALL: match = true; break;
		case APIC_SH_OTHERS: match = !self; break;
		default: match = lapic_match_dest(t, m->dest, m->logical, m->wide); break;
		}
		if (match)
			hit[n++] = t;
	}
	if (m->mode == APIC_DM_LOWEST && n > 1) {
		hit[0] = lowest_priority(hit, n);
		n = 1;
	}
	unsigned taken = 0;
	for (unsigned i = 0; i < n; i++)
		taken += lapic_accept(hit[i], m->mode, m->vector, m->level) == 0;
	return taken;
}

/*
 * The ICR was written (11.6.1; x2APIC 11.12.9): send. Shorthands 01 self,
 * 10 all including self, 11 all excluding self; 00 uses the destination
 * field. A fixed or lowest-priority IPI with a vector below 16 is an
 * error of the sender (ESR "send illegal vector") and goes nowhere.
 * The delivery-status bit never reads as "send pending": a message
 * arrives in the destination's APIC before the write retires.
 */
void lapic_send_ipi(struct lapic *apic)
{
	struct hv_vm *vm = apic->vcpu->vm;
	const uint32_t lo = apic->icr_lo;
	const bool wide = lapic_x2apic(apic);
	struct lapic_msg m = {
		.src = apic, .vector = lo & 0xff, .mode = (lo >> 8) & 7,
		.logical = lo & (1u << 11), .shorthand = (lo >> 18) & 3, .wide = wide,
		.dest = wide ? apic->icr_hi : apic->icr_hi >> 24,
	};
	const bool assert_ = lo & (1u << 14), level_trig = lo & (1u << 15);

	if ((m.mode == APIC_DM_FIXED || m.mode == APIC_DM_LOWEST) && m.vector < 16) {
		lapic_error(apic, APIC_ESR_SEND_ILLEGAL);
		return;
	}
	if (m.mode == APIC_DM_INIT && !assert_ && level_trig)
		return;		/* INIT level de-assert: see the top of the file */
	m.level = level_trig && m.mode == APIC_DM_FIXED;
	vm->stats.ipi_sent++;
	lapic_deliver(vm, &m);
}

/*
 * WRMSR IA32_APIC_BASE (11.4.4, 11.12.5 Figure 11-27). Reserved: bits
 * 7:0, 9 and those at or above MAXPHYADDR. BSP is read-only here (the
 * boot processor does not change). States by (EN, EXTD):
 *
 *   from \ to      disabled(0,0)  xAPIC(1,0)  x2APIC(1,1)  invalid(0,1)
 *   disabled       -              ok          #GP          #GP
 *   xAPIC          ok, reset      ok          ok           #GP
 *   x2APIC         ok, reset      #GP         ok           #GP
 *
 * Entering x2APIC mode gives the APIC its 32-bit ID and the logical ID
 * derived from it (11.12.10.2: cluster = ID[19:4] in 31:16, bit ID[3:0]
 * in 15:0); the other registers keep their values.
 */
int lapic_set_base(struct lapic *apic, uint64_t val)
{
	uint64_t rsvd = 0x2ffull | ~((1ull << LAPIC_MAXPHYADDR) - 1);
	bool en = val & APIC_BASE_EN, extd = val & APIC_BASE_EXTD;
	bool was_en = lapic_hw_enabled(apic), was_x2 = lapic_x2apic(apic);

	if (val & rsvd & ~APIC_BASE_BSP)
		return -EINVAL;
	if (extd && !en)
		return -EINVAL;
	if (!was_en && extd)
		return -EINVAL;
	if (was_x2 && en && !extd)
		return -EINVAL;
	lapic_timer_update(apic);
	apic->base_msr = (val & ~APIC_BASE_BSP) | (apic->base_msr & APIC_BASE_BSP);
	if (was_en && !en) {
		uint32_t xapic_id = apic->xapic_id;	/* kept, 11.12.5.1 */
		lapic_reset_regs(apic);
		apic->xapic_id = xapic_id;
	}
	if (!was_x2 && lapic_x2apic(apic)) {
		uint32_t id = apic->initial_id;
		apic->ldr = (id >> 4) << 16 | 1u << (id & 0xf);
	}
	return 0;
}
