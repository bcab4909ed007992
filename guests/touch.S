/*
 * touch.S — one access at CPL 0 or 3 and its #PF, 64-bit (guests/touch.h).
 *
 * touch() saves the callee-saved registers, RFLAGS and its RSP, then
 * either does the access itself (ring 0, with RFLAGS.AC as asked) or
 * IRETQs to a ring-3 stub (CS 0x23, SS 0x1b, gdt.c; SDM Vol. 2 IRET,
 * return to outer privilege level) with the address in RCX. Every way
 * out ends at .Lout, which reloads the saved RSP: the ring-0 success path,
 * the DPL-3 gate TOUCH_VECTOR that the ring-3 stub raises after its access
 * (INT n from CPL 3 needs gate DPL >= CPL, Vol. 2 INT n), and the #PF
 * gate. A fault or INT from ring 3 arrives on TSS.RSP0 with SS = a null
 * selector (SDM 3A 6.14.4), so .Lout reloads SS; a fault in ring 0 pushes
 * its frame below the saved RSP, which .Lout drops. Nothing here touches
 * a user page from ring 0 (touch.h says why).
 *
 * Gates: 16-byte 64-bit interrupt gates (SDM 3A 6.14.1, Figure 6-8),
 * selector 0x08, IST 0, type 0xE; P|DPL 0 = 0x8E for #PF, P|DPL 3 = 0xEE
 * for TOUCH_VECTOR.
 */
#define KERNEL_CS	0x08
#define KERNEL_DS	0x10
#define USER_SS		0x1b
#define USER_CS		0x23
#define RFLAGS_AC	(1 << 18)
#define TOUCH_VECTOR	0x81
#define TOUCH_WRITE_VALUE 0x5aa5c33c
#define T_FAULTED	0	/* struct touch (touch.h) */
#define T_ERROR		4
#define T_CR2		8
#define T_VALUE		16

	.text
	.code64
	.globl touch_init, touch

/* set_gate: gate at %rdx := offset %rcx, type/attribute %sil */
set_gate:
	movw	%cx, (%rdx)
	movw	$KERNEL_CS, 2(%rdx)
	movb	$0, 4(%rdx)
	movb	%sil, 5(%rdx)
	movq	%rcx, %r8
	shrq	$16, %r8
	movw	%r8w, 6(%rdx)
	shrq	$16, %r8
	movl	%r8d, 8(%rdx)
	movl	$0, 12(%rdx)
	ret

/* void touch_init(void) */
touch_init:
	subq	$16, %rsp
	sidt	(%rsp)
	movq	2(%rsp), %rax			/* IDT base */
	addq	$16, %rsp
	leaq	14 * 16(%rax), %rdx
	movzwl	(%rdx), %ecx			/* the current #PF handler */
	movzwl	6(%rdx), %esi
	shll	$16, %esi
	orl	%esi, %ecx
	movl	8(%rdx), %esi
	shlq	$32, %rsi
	orq	%rsi, %rcx
	leaq	touch_pf(%rip), %rsi
	cmpq	%rsi, %rcx			/* installed already */
	je	1f
	movq	%rcx, touch_pf_prev(%rip)
	movq	%rsi, %rcx
	movl	$0x8e, %esi
	call	set_gate
1:	leaq	TOUCH_VECTOR * 16(%rax), %rdx
	leaq	touch_back(%rip), %rcx
	movl	$0xee, %esi
	jmp	set_gate

/* void touch(struct touch *t, unsigned ring, unsigned acc, uintptr_t va, unsigned ac)
 *            %rdi              %esi          %edx         %rcx          %r8d */
touch:
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	pushfq
	movq	%rdi, touch_out(%rip)
	movq	$0, T_FAULTED(%rdi)		/* faulted and error */
	movq	$0, T_CR2(%rdi)
	movq	$0, T_VALUE(%rdi)
	movq	%rsp, touch_ksp(%rip)
	movq	(%rsp), %rax			/* the RFLAGS of the access */
	andq	$~RFLAGS_AC, %rax
	testl	%r8d, %r8d
	jz	1f
	orq	$RFLAGS_AC, %rax
1:	movl	%edx, %edx
	movb	$1, touch_armed(%rip)
	cmpl	$3, %esi
	je	.Lring3
	pushq	%rax
	popfq
	cmpl	$1, %edx
	je	.Lwrite
	ja	.Lfetch
	movl	(%rcx), %eax
	jmp	.Ldone
.Lwrite:
	movl	$TOUCH_WRITE_VALUE, (%rcx)
	xorl	%eax, %eax
	jmp	.Ldone
.Lfetch:
	call	*%rcx
	xorl	%eax, %eax
.Ldone:
	movb	$0, touch_armed(%rip)
	movq	touch_out(%rip), %rdx
	movq	%rax, T_VALUE(%rdx)
.Lout:
	movq	touch_ksp(%rip), %rsp
	movl	$KERNEL_DS, %eax
	movw	%ax, %ss
	popfq
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
	ret

.Lring3:
	leaq	touch_user_stack_top(%rip), %rsi
	leaq	touch_user_entry(%rip), %rdi
	pushq	$USER_SS
	pushq	%rsi
	pushq	%rax
	pushq	$USER_CS
	pushq	(%rdi, %rdx, 8)
	iretq

/* TOUCH_VECTOR: ring 3 is back, RAX = what it loaded. */
touch_back:
	movb	$0, touch_armed(%rip)
	movq	touch_out(%rip), %rdx
	movq	%rax, T_VALUE(%rdx)
	jmp	.Lout

/* Vector 14: the error code is on top of the frame the CPU pushed. */
touch_pf:
	cmpb	$0, touch_armed(%rip)
	je	1f
	movb	$0, touch_armed(%rip)
	movq	touch_out(%rip), %rdx
	movl	$1, T_FAULTED(%rdx)
	movq	(%rsp), %rax
	movl	%eax, T_ERROR(%rdx)
	movq	%cr2, %rax
	movq	%rax, T_CR2(%rdx)
	jmp	.Lout
1:	jmp	*touch_pf_prev(%rip)

	.section .rodata
	.balign 8
touch_user_entry:
	.quad	touch_user_read, touch_user_write, touch_user_fetch

/* Ring 3: one access through RCX, then back with INT TOUCH_VECTOR. */
	.section .user.text, "ax"
touch_user_read:
	movl	(%rcx), %eax
	int	$TOUCH_VECTOR
touch_user_write:
	movl	$TOUCH_WRITE_VALUE, (%rcx)
	xorl	%eax, %eax
	int	$TOUCH_VECTOR
touch_user_fetch:
	call	*%rcx
	xorl	%eax, %eax
	int	$TOUCH_VECTOR

	.section .user.data, "aw"
	.balign 16
	.skip	256
touch_user_stack_top:

	.section .bss
	.balign 8
touch_out:	.skip 8
touch_ksp:	.skip 8
touch_pf_prev:	.skip 8
touch_armed:	.skip 1

	.section .note.GNU-stack, "", @progbits
