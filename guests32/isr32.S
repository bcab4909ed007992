/*
 * isr32.S — exception entry stubs of the 32-bit runtime (vectors 0-31)
 * and of the DPL-3 gate ring 3 returns through (0x80, user32.S).
 *
 * SDM 3A 6.12.1 (Figure 6-4): an interrupt or exception through a 32-bit
 * gate pushes EFLAGS, CS, EIP (after SS, ESP of the interrupted ring 3
 * when the privilege level changes, with the stack from TSS.SS0:ESP0),
 * then the error code for vectors 8, 10-14, 17, 21, 29, 30 (6.15).
 * Each stub pushes a 0 in place of the missing error code and its vector,
 * so struct guest32_frame has one layout; the common part saves the
 * registers with PUSHA and calls idt32_dispatch(frame).
 */
	.code32
	.text

.macro stub vec
	.balign 16
isr32_\vec:
	.if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	pushl	$0
	.endif
	pushl	$\vec
	jmp	isr32_common
.endm

	.irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	stub \vec
	.endr
	stub 0x80

isr32_common:
	pushal
	cld
	pushl	%esp
	call	idt32_dispatch
	addl	$4, %esp
	popal
	addl	$8, %esp			/* vector and error code */
	iretl

	.section .rodata
	.balign 4
	.globl isr32_table, isr32_user
isr32_table:
	.irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.long	isr32_\vec
	.endr
isr32_user:
	.long	isr32_0x80

	.section .note.GNU-stack, "", @progbits
