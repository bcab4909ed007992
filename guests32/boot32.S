/*
 * boot32.S — multiboot v1 entry of a 32-bit test guest.
 *
 * Multiboot 0.6.96 §3.2: the loader enters _start in 32-bit protected
 * mode, paging off, CS/DS/ES/SS flat 4 GiB, A20 on, IF=0, EAX =
 * 0x2BADB002, EBX = the info structure; ESP, GDTR and IDTR undefined.
 * So: a stack of our own, .bss cleared (its page-table frames must start
 * zeroed whatever the loader did), a GDT of our own (SDM 3A 3.4.5; the
 * same flat code and data selectors gdt32.c keeps) loaded and CS reloaded
 * with a far jump (SDM 3A 10.9.1: descriptors are cached until a segment
 * register is loaded), then guest32_start() in C. Paging stays off.
 */
#define MB_MAGIC	0x1BADB002
#define MB_FLAGS	0x00000000	/* nothing required; ELF32, no a.out kludge */

	.section .multiboot, "a"
	.balign 4
	.long	MB_MAGIC
	.long	MB_FLAGS
	.long	-(MB_MAGIC + MB_FLAGS)

	.section .text.boot, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	movl	$boot32_stack_top, %esp
	movl	%eax, %esi
	movl	%ebx, %ebp
	movl	$__bss_start, %edi
	movl	$__bss_end, %ecx
	subl	%edi, %ecx
	shrl	$2, %ecx
	xorl	%eax, %eax
	rep stosl
	movl	%esi, guest_mb_magic
	movl	%ebp, guest_mb_info
	lgdt	boot32_gdt_desc
	ljmp	$0x08, $1f
1:	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movw	%ax, %fs
	movw	%ax, %gs
	xorl	%ebp, %ebp
	call	guest32_start
2:	hlt
	jmp	2b

/* 0x08: code, base 0, limit 4 GiB, D=1, type 0xA; 0x10: data, type 0x2. */
	.section .rodata
	.balign 8
boot32_gdt:
	.quad	0
	.quad	0x00CF9A000000FFFF
	.quad	0x00CF92000000FFFF
boot32_gdt_end:
boot32_gdt_desc:
	.word	boot32_gdt_end - boot32_gdt - 1
	.long	boot32_gdt

	.section .bss
	.balign 16
boot32_stack:	.skip 16384
	.globl boot32_stack_top
boot32_stack_top:
	.globl guest_mb_magic, guest_mb_info
guest_mb_magic:	.skip 4
guest_mb_info:	.skip 4

	.section .note.GNU-stack, "", @progbits
