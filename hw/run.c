/*
 * run.c — the guest execution loop: between VM entry and VM exit, run
 * the engine in batches and take events between them.
 *
 *   loop:
 *     exit recorded, or something unsupported?     -> return
 *     requests from other threads (hw/request.c)?  -> serve them; a
 *                                                     kick fires the
 *                                                     host timer
 *     host timer due (hw_cpu_set_deadline)?        -> fire it
 *     take pending events (vendor: exits, delivery)
 *     halted and nothing taken?                    -> skip time to the
 *                                                     next timer
 *     instruction breakpoint at RIP?                -> #DB fault
 *     run up to the next timer, in slices of HW_RUN_SLICE instructions
 *     with a look at the requests between them; one instruction at a
 *     time while an event waits behind IF or a shadow, RFLAGS.TF or RF
 *     is set, or an instruction breakpoint is armed
 *     result: exception -> deliver/intercept; HLT -> halted;
 *             STOP -> an op recorded an exit
 *
 * Batching is exact, not an approximation: nothing outside the guest can
 * change between two of its instructions except through this loop (the
 * host timer is an instruction count), so events are only ever taken at
 * the first instruction boundary where they are allowed.
 *
 * Other threads reach a running processor only through requests
 * (hw/request.c): a kick, or code-coherence work. The loop looks at them
 * with one relaxed load per pass and between slices of a batch, which
 * are at most HW_RUN_SLICE instructions apart, so a kick ends a guest
 * spinning in "jmp ." within that many instructions. Slicing changes no
 * result: a slice boundary is not an architectural event.
 */
#include "hw/event.h"
#include "hw/intercept.h"
#include "hw/request.h"
#include "hw/vmx.h"

/* Instructions per slice at most: the kick latency (about 5 us at the
 * model's speed). Large enough that a slice boundary costs a small share
 * of the slice: each entry into the engine, and the end of each slice,
 * which runs without the engine's loops within a block (exec.c runs 32
 * passes without returning only when 33 fit in the budget). Measured:
 * 1024 costs about 10% on tight loops, 4096 a few. */
#define HW_RUN_SLICE 4096

int hw_exit(struct hw_cpu *cpu, uint64_t reason, uint64_t qual)
{
	cpu->exit = (struct hw_exit){ .pending = true, .reason = reason, .qual = qual };
	return EMU_STOP;
}

int hw_unsupported(struct hw_cpu *cpu, const char *why)
{
	cpu->unsupported = why;
	return EMU_STOP;
}

void hw_intr_ack(struct hw_cpu *cpu)
{
	if (cpu->ev.timer)
		cpu->ev.timer = false;
	else
		cpu->ev.intr = false;
}

static int take_events(struct hw_cpu *cpu, bool *blocked)
{
	switch (cpu->guest) {
	case HW_GUEST_VMX: return vmx_events(cpu, blocked);
	case HW_GUEST_SVM: return svm_events(cpu, blocked);
	default: *blocked = false; return EMU_CONTINUE;
	}
}

/* The next instruction-clock value at which something fires. */
static uint64_t next_timer(const struct hw_cpu *cpu)
{
	uint64_t t = cpu->deadline;
	if (cpu->guest == HW_GUEST_VMX && (cpu->vmx_ctl.pin & VMX_PIN_PREEMPTION_TIMER) &&
	    cpu->vmx_ctl.preempt_deadline < t)
		t = cpu->vmx_ctl.preempt_deadline;
	return t;
}

/* #DB single-step trap after an instruction that began with TF = 1
 * (SDM Vol. 3B 18.3.1.4): DR6.BS. */
#define DR6_BS (1ull << 14)

static void after_run(struct hw_cpu *cpu, int r, bool tf)
{
	switch (r) {
	case EMU_CONTINUE:
		if (tf) {
			struct emu_event ev = { .vector = EMU_EXC_DB, .type = EMU_EVENT_TYPE_HW_EXC };
			if (hw_deliver(cpu, ev, DR6_BS) == EMU_UNHANDLEABLE)
				hw_unsupported(cpu, cpu->emu.unhandleable);
		}
		break;
	case EMU_EXCEPTION:
		if (hw_exception(cpu) == EMU_UNHANDLEABLE)
			hw_unsupported(cpu, cpu->emu.unhandleable);
		break;
	case EMU_HALT:
		cpu->ev.halted = true;
		break;
	case EMU_STOP:
		break;
	case EMU_UNHANDLEABLE:
		if (cpu->emu.task_switch.valid)
			hw_task_switch(cpu);	/* CALL, JMP, IRET */
		else
			hw_unsupported(cpu, cpu->emu.unhandleable);
		break;
	default:
		/* EMU_IO_NEEDED: no op of the model asks for it. */
		hw_unsupported(cpu, "an operation asked the VMM to complete it");
		break;
	}
}

/*
 * Instruction breakpoints (SDM Vol. 3B 18.2.4, 18.3.1.1): DR7 Ln or Gn
 * with R/Wn = 00 arms DRn on the linear address of an instruction's first
 * byte (LENn must be 00). A match at an instruction boundary with
 * RFLAGS.RF = 0 is a #DB fault reporting every matching Bn in DR6; RIP
 * stays at the instruction and the pushed RFLAGS has RF clear, so the
 * handler sets RF in it to go on. While any is armed, and while RF is
 * set, the loop runs one instruction at a time: RF is cleared when an
 * instruction completes (IRET may load it again; POPF clears it itself).
 */
static unsigned insn_bps_armed(const struct hw_cpu *cpu)
{
	unsigned m = 0;
	for (unsigned n = 0; n < 4; n++)
		if (((cpu->dr7 >> (2 * n)) & 3) && !((cpu->dr7 >> (16 + 4 * n)) & 3))
			m |= 1u << n;
	return m;
}

static bool insn_bp_hit(struct hw_cpu *cpu, unsigned armed)
{
	const struct emu_cpu *c = &cpu->emu.cpu;
	if (c->rflags & EMU_FLAG_RF)
		return false;
	const bool lm64 = (c->efer & EMU_EFER_LMA) && (c->seg[EMU_CS].ar & EMU_AR_L);
	const uint64_t la = lm64 ? c->rip : (uint32_t)(c->seg[EMU_CS].base + c->rip);
	uint64_t hits = 0;
	for (unsigned n = 0; n < 4; n++)
		if (((armed >> n) & 1) && cpu->dr[n] == la)
			hits |= 1ull << n;
	if (!hits)
		return false;
	const struct emu_event ev = { .vector = EMU_EXC_DB, .type = EMU_EVENT_TYPE_HW_EXC };
	if (hw_deliver(cpu, ev, hits) == EMU_UNHANDLEABLE)
		hw_unsupported(cpu, cpu->emu.unhandleable);
	return true;
}

/*
 * emu_run() of up to @max instructions, HW_RUN_SLICE at a time, with a
 * look at the requests between slices: one pending ends the batch early,
 * and the loop serves it. Otherwise the slices are one batch: nothing
 * the loop takes between batches can change inside one. A batch that
 * stops after a system instruction (stop_after_system) is one slice: the
 * loop must look at the events after such an instruction, even one that
 * happened to end a slice.
 */
static int run_batch(struct hw_cpu *cpu, uint64_t max)
{
	for (;;) {
		const uint64_t n = max < HW_RUN_SLICE ? max : HW_RUN_SLICE;
		const uint64_t start = cpu->emu.icount;
		const int r = emu_run(&cpu->emu, n);
		const uint64_t done = cpu->emu.icount - start;
		if (r != EMU_CONTINUE || done < n || done == max || cpu->emu.stop_after_system ||
		    __atomic_load_n(&cpu->req.pending, __ATOMIC_RELAXED))
			return r;
		max -= done;
	}
}

void hw_guest_run(struct hw_cpu *cpu)
{
	/* cpu->vectoring stays as the entry left it: an exit while the
	 * injected event is delivered reports it. */
	hw_req_enter(cpu);
	while (!cpu->exit.pending && !cpu->unsupported) {
		hw_req_check(cpu);
		if (hw_clock(cpu) >= cpu->deadline) {
			cpu->ev.timer = true;
			cpu->deadline = UINT64_MAX;
		}
		bool blocked;
		int r = take_events(cpu, &blocked);
		if (r == EMU_UNHANDLEABLE) {
			hw_unsupported(cpu, cpu->emu.unhandleable);
			continue;
		}
		if (r != EMU_CONTINUE && r != HW_EVENT_TAKEN)
			continue;
		if (cpu->ev.halted) {
			/* Nothing woke it: time passes until the next timer. A
			 * halted guest with no timer pending would wait forever
			 * on silicon; the host timer fires at once instead, so
			 * the caller regains control (docs/hw.md). If even that
			 * cannot wake it or exit, the guest is stuck for good. */
			const uint64_t t = next_timer(cpu), now = hw_clock(cpu);
			if (t != UINT64_MAX)
				cpu->cnt.halted_insns += t > now ? t - now : 0;
			else if (!cpu->ev.timer)
				cpu->ev.timer = true;
			else
				hw_unsupported(cpu, "halted with every wake-up event blocked");
			continue;
		}
		const unsigned bps = insn_bps_armed(cpu);
		if (bps && insn_bp_hit(cpu, bps))
			continue;
		const uint64_t now = hw_clock(cpu), t = next_timer(cpu);
		const bool tf = cpu->emu.cpu.rflags & EMU_FLAG_TF;
		const bool rf = cpu->emu.cpu.rflags & EMU_FLAG_RF;
		uint64_t max = t > now ? t - now : 1;
		/* A blocked event: within an interrupt shadow it may be taken
		 * after the next instruction; otherwise only an instruction
		 * outside emulate/'s simple set can unblock it (STI, POPF,
		 * IRET...: emu_ctx.stop_after_system), so a batch runs up to
		 * the first of those. */
		if (tf || rf || bps || (blocked && hw_shadow(cpu)))
			max = 1;
		cpu->emu.stop_after_system = blocked;
		cpu->batch_icount = cpu->emu.icount;
		cpu->iret_retired = false;
		r = run_batch(cpu, max);
		cpu->cnt.insns += cpu->emu.icount - cpu->batch_icount;
		cpu->batch_icount = cpu->emu.icount;
		if (rf && r == EMU_CONTINUE && !cpu->iret_retired)
			cpu->emu.cpu.rflags &= ~(uint64_t)EMU_FLAG_RF;
		after_run(cpu, r, tf);
	}
	hw_req_leave(cpu);
	hw_cpu_sync_counters(cpu);
}

/* TSC offsetting (SDM Vol. 3C 26.3 "RDTSC", APM Vol. 2 15.30.5): what a
 * guest's RDTSC, RDTSCP and RDMSR of IA32_TSC add to the processor's TSC. */
uint64_t hw_guest_tsc_offset(const struct hw_cpu *cpu)
{
	switch (cpu->guest) {
	case HW_GUEST_VMX: return cpu->vmx_ctl.tsc_offset;
	case HW_GUEST_SVM: return cpu->svm_ctl.tsc_offset;
	default: return 0;
	}
}
