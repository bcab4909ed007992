/*
 * isr.S — entry stubs for exception vectors 0..31.
 *
 * In 64-bit mode the CPU pushes SS, RSP, RFLAGS, CS, RIP and, for vectors
 * 8, 10-14, 17 and 21 (#DF #TS #NP #SS #GP #PF #AC #CP), an error code
 * (SDM Vol. 3A 6.14.2 and Table 6-1; 6.15 per vector). Each stub pushes a 0
 * where the CPU pushes none, then the vector number, so every frame has
 * the same shape (struct guest_frame in guest.h). The common path saves
 * the GPRs, calls idt_dispatch(frame) with a 16-byte aligned stack (SysV
 * ABI) and returns with IRETQ after dropping vector and error code.
 *
 * Vectors 32..63 (IDT_IRQ_FIRST..IDT_IRQ_LAST) are external interrupts:
 * the 8259 PICs remapped to 0x20-0x2f (pic.c) and local APIC vectors
 * (lapic.c). The CPU pushes no error code for them (SDM 3A 6.14.2), so
 * their stubs push a 0 like the exception stubs without one and share the
 * same path: every GPR is saved and restored around the C handler, which
 * an interrupt at an arbitrary instruction needs.
 */
#include "guests/gprs.inc"
	.text
	.code64

.macro ISR_NOERR vec
	.balign 16
isr_\vec:
	pushq	$0
	pushq	$\vec
	jmp	isr_common
.endm

.macro ISR_ERR vec
	.balign 16
isr_\vec:
	pushq	$\vec
	jmp	isr_common
.endm

ISR_NOERR 0
ISR_NOERR 1
ISR_NOERR 2
ISR_NOERR 3
ISR_NOERR 4
ISR_NOERR 5
ISR_NOERR 6
ISR_NOERR 7
ISR_ERR   8
ISR_NOERR 9
ISR_ERR   10
ISR_ERR   11
ISR_ERR   12
ISR_ERR   13
ISR_ERR   14
ISR_NOERR 15
ISR_NOERR 16
ISR_ERR   17
ISR_NOERR 18
ISR_NOERR 19
ISR_NOERR 20
ISR_ERR   21
ISR_NOERR 22
ISR_NOERR 23
ISR_NOERR 24
ISR_NOERR 25
ISR_NOERR 26
ISR_NOERR 27
ISR_NOERR 28
ISR_ERR   29	/* #VC (AMD SEV-ES) pushes an error code */
ISR_ERR   30	/* #SX (AMD) pushes an error code */
ISR_NOERR 31

/* External interrupt vectors 32..63. */
	.irp vec, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63
ISR_NOERR \vec
	.endr

isr_common:
	PUSH_GPRS
	movq	%rsp, %rdi
	movq	%rsp, %rbx		/* callee-saved: the frame, across the call */
	andq	$-16, %rsp
	call	idt_dispatch
	movq	%rbx, %rsp
	POP_GPRS
	addq	$16, %rsp		/* vector and error code */
	iretq

/* The stubs' addresses, for idt.c to put into the gates (0..63). */
	.section .rodata
	.balign 8
	.globl isr_table
isr_table:
	.irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63
	.quad isr_\vec
	.endr

	.section .note.GNU-stack, "", @progbits
