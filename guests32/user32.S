/*
 * user32.S — running a function in ring 3 and coming back.
 *
 * SDM 3A 6.12.1 and 7.2.1: IRET to a less privileged code segment pops
 * EIP, CS, EFLAGS, ESP, SS (5.8.5 / Vol. 2 IRET, RETURN-TO-OUTER-
 * PRIVILEGE-LEVEL); an interrupt or exception from ring 3 switches to
 * TSS.SS0:ESP0 (6.12.1). user32_run() saves the callee-saved registers
 * and its ESP, points TSS.ESP0 just below them, builds the ring-3 stack
 * (the argument and a return address that leads to INT 0x80) and IRETs
 * to the function with CS=0x1b, SS=DS=ES=0x23. Ring 3 comes back through
 * the DPL-3 gate 0x80 (idt32.c calls user32_abort with EAX) or, after a
 * fault in ring 3, through a test's handler calling user32_abort(): both
 * drop the ring-0 frames by reloading the saved ESP, restore the kernel
 * data segments and return from user32_run() with the value.
 * DS/ES are loaded with the ring-3 selector before IRET: IRET to ring 3
 * would otherwise clear them (their DPL 0 < CPL 3, Vol. 2 IRET).
 */
#define KERNEL_DS	0x10
#define USER_CS		0x1b
#define USER_DS		0x23
#define TSS_ESP0	4	/* SDM 3A Figure 7-2 */

	.code32
	.text
	.globl user32_run, user32_abort
/* uint32_t user32_run(void (*fn)(uint32_t), uint32_t arg, uint32_t stack_top) */
user32_run:
	pushl	%ebp
	pushl	%ebx
	pushl	%esi
	pushl	%edi
	movl	%esp, user32_kesp
	movl	%esp, gdt32_tss + TSS_ESP0
	movl	20(%esp), %eax			/* fn */
	movl	24(%esp), %ecx			/* arg */
	movl	28(%esp), %edx			/* stack top */
	subl	$8, %edx
	movl	%ecx, 4(%edx)
	movl	$user32_return, (%edx)
	movw	$USER_DS, %cx
	movw	%cx, %ds
	movw	%cx, %es
	pushl	$USER_DS			/* SS */
	pushl	%edx				/* ESP */
	pushfl					/* EFLAGS: IF stays 0 */
	pushl	$USER_CS
	pushl	%eax				/* EIP */
	iretl

/* void user32_abort(uint32_t value): ring 0 */
user32_abort:
	movl	4(%esp), %eax
	movw	$KERNEL_DS, %cx
	movw	%cx, %ds
	movw	%cx, %es
	movl	user32_kesp, %esp
	popl	%edi
	popl	%esi
	popl	%ebx
	popl	%ebp
	ret

/* Ring 3: where fn returns to, and user32_exit(value). */
	.section .user.text, "ax"
	.globl user32_exit
user32_return:
	xorl	%eax, %eax
	int	$0x80
user32_exit:
	movl	4(%esp), %eax
	int	$0x80
1:	jmp	1b

	.section .bss
	.balign 4
user32_kesp:	.skip 4

	.section .note.GNU-stack, "", @progbits
