/*
 * touch32.S — one access at CPL 0 or 3 and its #PF, 32-bit protected mode
 * (guests/touch.h has the contract; guests/touch.S is the 64-bit twin).
 *
 * touch() saves EBP/EBX/ESI/EDI, EFLAGS and its ESP, and points
 * TSS.ESP0 at that ESP (gdt32.c), so an event from ring 3 pushes its
 * frame below the saved state (SDM 3A 6.12.1). Ring 0 does the access
 * itself with EFLAGS.AC as asked; ring 3 is entered by IRET (CS 0x1b,
 * SS=DS=ES 0x23, loaded first: IRET to ring 3 would null DS/ES whose DPL
 * is below the new CPL, Vol. 2 IRET) at a stub in .user.text with the
 * address in ECX. Every way out (the ring-0 success path, the DPL-3 gate
 * TOUCH_VECTOR the stub raises, the #PF gate) ends at .Lout, which
 * restores the kernel data segments and the saved ESP.
 *
 * Gates: 8-byte 32-bit interrupt gates (SDM 3A 6.11, Figure 6-2),
 * selector 0x08, type 0xE; P|DPL 0 = 0x8E for #PF, P|DPL 3 = 0xEE for
 * TOUCH_VECTOR (0x81: idt32.c owns 0x80).
 */
#define KERNEL_CS	0x08
#define KERNEL_DS	0x10
#define USER_CS		0x1b
#define USER_DS		0x23
#define TSS_ESP0	4	/* SDM 3A Figure 7-2 */
#define EFLAGS_AC	(1 << 18)
#define TOUCH_VECTOR	0x81
#define TOUCH_WRITE_VALUE 0x5aa5c33c
#define T_FAULTED	0	/* struct touch (guests/touch.h) */
#define T_ERROR		4
#define T_CR2		8
#define T_VALUE		12

	.code32
	.text
	.globl touch_init, touch

/* set_gate: gate at %edx := offset %ecx, type/attribute %al */
set_gate:
	movw	%cx, (%edx)
	movw	$KERNEL_CS, 2(%edx)
	movb	$0, 4(%edx)
	movb	%al, 5(%edx)
	shrl	$16, %ecx
	movw	%cx, 6(%edx)
	ret

/* void touch_init(void) */
touch_init:
	pushl	%ebx
	subl	$8, %esp
	sidt	(%esp)
	movl	2(%esp), %ebx			/* IDT base */
	addl	$8, %esp
	leal	14 * 8(%ebx), %edx
	movzwl	(%edx), %ecx			/* the current #PF handler */
	movzwl	6(%edx), %eax
	shll	$16, %eax
	orl	%eax, %ecx
	cmpl	$touch_pf, %ecx			/* installed already */
	je	1f
	movl	%ecx, touch_pf_prev
	movl	$touch_pf, %ecx
	movb	$0x8e, %al
	call	set_gate
1:	leal	TOUCH_VECTOR * 8(%ebx), %edx
	movl	$touch_back, %ecx
	movb	$0xee, %al
	call	set_gate
	popl	%ebx
	ret

/* void touch(struct touch *t, unsigned ring, unsigned acc, uintptr_t va, unsigned ac) */
touch:
	pushl	%ebp
	pushl	%ebx
	pushl	%esi
	pushl	%edi
	pushfl
	movl	24(%esp), %edi			/* t */
	movl	%edi, touch_out
	movl	$0, T_FAULTED(%edi)
	movl	$0, T_ERROR(%edi)
	movl	$0, T_CR2(%edi)
	movl	$0, T_VALUE(%edi)
	movl	28(%esp), %esi			/* ring */
	movl	32(%esp), %edx			/* acc */
	movl	36(%esp), %ecx			/* va */
	movl	(%esp), %eax			/* the EFLAGS of the access */
	andl	$~EFLAGS_AC, %eax
	cmpl	$0, 40(%esp)			/* ac */
	je	1f
	orl	$EFLAGS_AC, %eax
1:	movl	%esp, touch_ksp
	movl	%esp, gdt32_tss + TSS_ESP0
	movb	$1, touch_armed
	cmpl	$3, %esi
	je	.Lring3
	pushl	%eax
	popfl
	cmpl	$1, %edx
	je	.Lwrite
	ja	.Lfetch
	movl	(%ecx), %eax
	jmp	.Ldone
.Lwrite:
	movl	$TOUCH_WRITE_VALUE, (%ecx)
	xorl	%eax, %eax
	jmp	.Ldone
.Lfetch:
	call	*%ecx
	xorl	%eax, %eax
.Ldone:
	movb	$0, touch_armed
	movl	touch_out, %edx
	movl	%eax, T_VALUE(%edx)
.Lout:
	movl	$KERNEL_DS, %eax
	movw	%ax, %ds
	movw	%ax, %es
	movl	touch_ksp, %esp
	popfl
	popl	%edi
	popl	%esi
	popl	%ebx
	popl	%ebp
	ret

.Lring3:
	movw	$USER_DS, %bx
	movw	%bx, %ds
	movw	%bx, %es
	pushl	$USER_DS
	pushl	$touch_user_stack_top
	pushl	%eax
	pushl	$USER_CS
	pushl	touch_user_entry(, %edx, 4)
	iretl

/* TOUCH_VECTOR: ring 3 is back, EAX = what it loaded. */
touch_back:
	movb	$0, touch_armed
	movl	touch_out, %edx
	movl	%eax, T_VALUE(%edx)
	jmp	.Lout

/* Vector 14: the error code is on top of the frame the CPU pushed. */
touch_pf:
	cmpb	$0, touch_armed
	je	1f
	movb	$0, touch_armed
	movl	touch_out, %edx
	movl	$1, T_FAULTED(%edx)
	movl	(%esp), %eax
	movl	%eax, T_ERROR(%edx)
	movl	%cr2, %eax
	movl	%eax, T_CR2(%edx)
	jmp	.Lout
1:	jmp	*touch_pf_prev

	.section .rodata
	.balign 4
touch_user_entry:
	.long	touch_user_read, touch_user_write, touch_user_fetch

/* Ring 3: one access through ECX, then back with INT TOUCH_VECTOR. */
	.section .user.text, "ax"
touch_user_read:
	movl	(%ecx), %eax
	int	$TOUCH_VECTOR
touch_user_write:
	movl	$TOUCH_WRITE_VALUE, (%ecx)
	xorl	%eax, %eax
	int	$TOUCH_VECTOR
touch_user_fetch:
	call	*%ecx
	xorl	%eax, %eax
	int	$TOUCH_VECTOR

	.section .user.data, "aw"
	.balign 16
	.skip	256
touch_user_stack_top:

	.section .bss
	.balign 4
touch_out:	.skip 4
touch_ksp:	.skip 4
touch_pf_prev:	.skip 4
touch_armed:	.skip 1

	.section .note.GNU-stack, "", @progbits
