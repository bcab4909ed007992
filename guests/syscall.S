/*
 * syscall.S — the SYSCALL entry and the SYSRET return to ring 3.
 *
 * SYSCALL (SDM Vol. 3A 5.8.8; Vol. 2 SYSCALL) saves RIP in RCX and RFLAGS
 * in R11, clears the RFLAGS bits set in IA32_FMASK, loads CS from
 * STAR[47:32] and SS from STAR[47:32] + 8, and jumps to IA32_LSTAR — but
 * does not touch RSP: the entry must move to a kernel stack itself before
 * pushing anything. SYSRETQ loads RIP from RCX and RFLAGS from R11 and
 * selectors STAR[63:48] + 16 (CS) and + 8 (SS) with RPL 3; RSP again is
 * the software's job.
 *
 * The entry builds a struct user_regs (user.c) at the top of the kernel
 * stack: the user RSP first, then the GPRs, RCX standing for the user RIP
 * and R11 for the user RFLAGS. user_syscall() may rewrite the whole frame
 * (another task's registers after a yield), and user_return restores
 * whatever is there. IF stays 0 throughout (FMASK clears it, and ring 3
 * never runs with IF=1), so one kernel stack and one scratch word do.
 *
 * user_enter() starts the first task from C by pointing RSP at a frame and
 * taking the same return path; user_leave() gets back to user_enter()'s
 * caller once no task is left.
 */
#include "guests/gprs.inc"
	.text
	.code64

	.globl user_syscall_entry
user_syscall_entry:
	movq	%rsp, user_scratch_rsp(%rip)
	movq	user_kstack_top(%rip), %rsp
	pushq	user_scratch_rsp(%rip)
	PUSH_GPRS
	movq	%rsp, %rdi		/* 16 pushes from a 16-byte aligned top */
	call	user_syscall
user_return:
	POP_GPRS
	popq	%rsp
	sysretq

/* void user_enter(struct user_regs *frame) */
	.globl user_enter
user_enter:
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, user_kernel_rsp(%rip)
	movq	%rdi, %rsp
	jmp	user_return

/* void user_leave(void): back to where user_enter() was called */
	.globl user_leave
user_leave:
	movq	user_kernel_rsp(%rip), %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
	ret

	.section .bss
	.balign 8
user_scratch_rsp:	.skip 8
user_kernel_rsp:	.skip 8

	.section .note.GNU-stack, "", @progbits
