/*
 * smp_ptstress.c — the page-table stress engine (guests/ptstress_tmpl.h)
 * on several CPUs sharing the same page tables: the operations go to the
 * CPUs in turn, every change is followed by a shootdown to all of them,
 * and after each operation the next CPU reads through the tables too,
 * checked against the one model.
 *
 * SMP: 1 2 4 8
 *
 * SDM Vol. 3A:
 *  - 4.5, 4.6.1, 4.7, 4.8, 4.10.2.3, 4.10.3.3, 4.10.4.1-4.10.4.3: as
 *    tests/guests/ptstress.c (the layout and the model are the same:
 *    four roots, shared PDPTs/PDs/PTs, the recursive entry, large pages).
 *  - 4.10.5: a change another CPU may have cached is made safe for it by
 *    a shootdown: each flush the engine does (the INVLPGs the model asks
 *    for, or a MOV to CR3) is done on every CPU before the engine relies
 *    on the change (tlb_shootdown_list(), tlb_switch_cr3_all()); a CR3
 *    switch to another root switches every CPU, so all CPUs always run on
 *    the root the model calls current (a root's changes made while
 *    another was current need no flush: 4.10.4.1, MOV to CR3).
 *
 * One CPU works at a time (the model and the #PF bookkeeping are shared):
 * the BSP hands turn t, TURN operations, to CPU t mod n and waits, then
 * has CPU (t + 1) mod n read TURN more arena words. The random sequence is the
 * same on every CPU count (the follow-up read comes from it too), so the
 * output is; a one-CPU run checks the engine's rules on one CPU. The
 * shootdown counts are checked: every flush reached every other CPU.
 *
 * Expected serial output: tests/guests/smp_ptstress.expect.
 * Expected exit status: 1 (guest_exit(0)).
 */
#include "guests/guest.h"

#define pts_invlpg(va)		invlpg((const volatile void *)(uintptr_t)(va))
#define pts_invlpg_list(v, n)	tlb_shootdown_list(v, n)
#define pts_load_cr3(pa)	tlb_switch_cr3_all(pa)

#include "guests/ptstress64.h"

#define NOPS		2400
#define TURN		8	/* operations per CPU turn */

static void on_pf(struct guest_frame *f)
{
	if (pts_on_pf(&f->rip, &f->rax, (uint32_t)f->error_code, read_cr2()))
		return;
	guest_printf("ptstress: #PF outside a probe: rip 0x%lx error 0x%lx cr2 0x%lx\n",
		     f->rip, f->error_code, read_cr2());
	guest_exit(GUEST_EXIT_FAIL);
}

/* A turn: operations pts_opno .. +TURN-1 on one CPU. */
static void turn(void *arg)
{
	(void)arg;
	for (unsigned k = 0; k < TURN; k++, pts_opno++)
		pts_step();
}

static void follow_up(void *arg)
{
	(void)arg;
	for (unsigned k = 0; k < TURN; k++)
		pts_check_read(pts_arena_va());
}

int guest_main(void)
{
	int n = smp_init();

	guest_check("smp_init", n > 0 && (unsigned)n == smp_madt_cpus());
	if (n <= 0)
		return GUEST_EXIT_FAIL;
	pts_init();
	pts64_setup();

	idt_set_handler(14, on_pf);
	pts_load_cr3(pts_table_pa(0));
	pts_cur = 0;
	pts_opno = 1;
	for (unsigned t = 0; t < NOPS / TURN; t++) {
		unsigned cpu = t % (unsigned)n, next = (cpu + 1) % (unsigned)n;

		smp_run_on(cpu, turn, NULL);
		smp_wait(cpu);
		smp_run_on(next, follow_up, NULL);
		smp_wait(next);
	}
	int status = pts_finish("smp_ptstress", NOPS);
	tlb_switch_cr3_all((uint64_t)(uintptr_t)guest_pml4);

	uint64_t sent = 0, taken = 0;
	for (unsigned i = 0; i < (unsigned)n; i++) {
		sent += smp_cpu(i)->shootdowns;
		taken += smp_cpu(i)->flushes;
	}
	guest_check("every shootdown reached every other CPU", taken == sent * (uint64_t)(n - 1));
	return status == GUEST_EXIT_PASS ? guest_check_status() : status;
}
