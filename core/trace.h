/*
 * trace.h — hvlab's USDT probes (statically defined tracing, the
 * systemtap/DTrace convention of sys/sdt.h): provider "hvlab", one
 * HV_TRACE_*() line at each event below. CONFIG_HV_USDT builds each as
 * one NOP plus an ELF note (.note.stapsdt) saying where its arguments
 * are; perf (bench/perf/wrap record registers every site, since perf
 * probe cannot add a probe with several) and bpftrace
 * (usdt:PATH:hvlab:NAME) turn the NOP into a breakpoint while they
 * trace. Without CONFIG_HV_USDT the macros are
 * empty and evaluate nothing.
 *
 * Cost when nothing is attached: the NOP, and the compiler keeping the
 * arguments in registers or memory at that point (the asm takes them as
 * operands). So every argument is a value the code at the probe has at
 * hand (a field, a local); none calls a function. hvlab stat
 * (vmm/cmd_stat.c) and docs/perf.md rely on the names and argument
 * order: change them together.
 *
 *   probe            arguments                  where
 *   vm_entry         vcpu                       core/run.c, before the
 *                                               backend's run()
 *   vm_exit          vcpu, reason, rip, raw     core/run.c, decoded: one per
 *                                               `exits` statistic; reason is
 *                                               enum hvx_reason (exits_NAME),
 *                                               raw the VMX basic exit reason
 *                                               or SVM EXITCODE
 *   page_fault       vcpu, addr, access, present  core/mmu_call.h, calling the
 *                                               MMU's page_fault op (addr: gva
 *                                               under shadow, gpa under TDP;
 *                                               access: #PF error-code bits)
 *   page_fault_done  vcpu, addr, result         its return: enum ret_pf
 *   sp_create        gfn, role                  a shadow or TDP table page made
 *   sp_zap           gfn, role                  ... zapped
 *   sp_unsync        gfn                        shadow-cached: a guest table
 *                                               left writable (unsync)
 *   sp_sync          gfn                        ... synchronized again
 *   tlb_flush        vcpu, kind                 HV_TRACE_FLUSH_* below
 *
 * sp_create / sp_zap: role is union shadow_role's word (mmu/pool.h),
 * whose low 3 bits are the level (1 = a table of 4 KiB entries); for
 * shadow-flush and TDP pages only the level is given (0 for
 * shadow-flush's zaps: its page list keeps none), and gfn is
 * HV_TRACE_NO_GFN where no guest frame identifies the page (TDP
 * creations give the faulting gfn).
 */
#ifndef HVLAB_CORE_TRACE_H
#define HVLAB_CORE_TRACE_H

/* tlb_flush kinds */
#define HV_TRACE_FLUSH_LOCAL 0		/* the MMU flushed this vcpu's guest
					 * translations (zap, INVLPG, CR3) */
#define HV_TRACE_FLUSH_REQUEST 1	/* this vcpu served a remote flush
					 * request (core/request.c) */
#define HV_TRACE_FLUSH_REMOTE 2		/* every vcpu's flush asked for
					 * (vm_flush_remote_tlbs); vcpu -1 */

#define HV_TRACE_NO_GFN (~0ull)

#ifdef CONFIG_HV_USDT
#include <sys/sdt.h>

#define HV_TRACE_VM_ENTRY(vcpu) DTRACE_PROBE1(hvlab, vm_entry, vcpu)
#define HV_TRACE_VM_EXIT(vcpu, reason, rip, raw) \
	DTRACE_PROBE4(hvlab, vm_exit, vcpu, reason, rip, raw)
#define HV_TRACE_PAGE_FAULT(vcpu, addr, access, present) \
	DTRACE_PROBE4(hvlab, page_fault, vcpu, addr, access, present)
#define HV_TRACE_PAGE_FAULT_DONE(vcpu, addr, result) \
	DTRACE_PROBE3(hvlab, page_fault_done, vcpu, addr, result)
#define HV_TRACE_SP_CREATE(gfn, role) DTRACE_PROBE2(hvlab, sp_create, gfn, role)
#define HV_TRACE_SP_ZAP(gfn, role) DTRACE_PROBE2(hvlab, sp_zap, gfn, role)
#define HV_TRACE_SP_UNSYNC(gfn) DTRACE_PROBE1(hvlab, sp_unsync, gfn)
#define HV_TRACE_SP_SYNC(gfn) DTRACE_PROBE1(hvlab, sp_sync, gfn)
#define HV_TRACE_TLB_FLUSH(vcpu, kind) DTRACE_PROBE2(hvlab, tlb_flush, vcpu, kind)

#else

#define HV_TRACE_VM_ENTRY(vcpu) do { } while (0)
#define HV_TRACE_VM_EXIT(vcpu, reason, rip, raw) do { } while (0)
#define HV_TRACE_PAGE_FAULT(vcpu, addr, access, present) do { } while (0)
#define HV_TRACE_PAGE_FAULT_DONE(vcpu, addr, result) do { } while (0)
#define HV_TRACE_SP_CREATE(gfn, role) do { } while (0)
#define HV_TRACE_SP_ZAP(gfn, role) do { } while (0)
#define HV_TRACE_SP_UNSYNC(gfn) do { } while (0)
#define HV_TRACE_SP_SYNC(gfn) do { } while (0)
#define HV_TRACE_TLB_FLUSH(vcpu, kind) do { } while (0)

#endif
#endif
