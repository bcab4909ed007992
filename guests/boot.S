/*
 * boot.S — multiboot v1 entry: 32-bit protected mode -> 64-bit long mode.
 *
 * Multiboot 0.6.96 §3.2 (machine state): the loader enters _start in
 * 32-bit protected mode with paging off, CS/DS/ES/SS flat 4 GiB, A20 on,
 * IF=0, EAX = 0x2BADB002, EBX = the physical address of the info
 * structure; ESP, GDTR and IDTR are undefined, so nothing here trusts them.
 *
 * The steps to IA-32e mode follow SDM Vol. 3A 10.8.5 (Initializing IA-32e
 * Mode), with the checks that come before:
 *   0. CPUID.80000001H:EDX[29] (LM) must be 1; otherwise exit with
 *      GUEST_EXIT_BOOT through isa-debug-exit.
 *   1. Build the 4-level tables (SDM 3A 4.5): PML4[0] -> PDPT, PDPT[0..3] ->
 *      four page directories of 2 MiB pages (PS=1), identity 0..4 GiB.
 *   2. CR4.PAE = 1 (bit 5); CR3 = PML4.
 *   3. EFER.LME = 1 (IA32_EFER, MSR C000_0080H, bit 8); EFER.NXE (bit 11)
 *      too when CPUID.80000001H:EDX[20] says execute-disable exists.
 *   4. CR0.PG = 1 (bit 31) with WP (bit 16): EFER.LMA becomes 1. The
 *      image is identity-mapped, so the next fetch still finds this code.
 *   5. Load a GDT with a 64-bit code segment (L=1, D=0, SDM 3A 3.4.5) and
 *      far-jump to it; then reload the data segments and the stack.
 * Paging caches: nothing is cached before CR0.PG=1, so no flush is needed.
 */
#define MB_MAGIC	0x1BADB002
#define MB_FLAGS	0x00010000	/* bit 16: the address fields are valid */

	.section .multiboot, "a"
	.balign 4
mb_header:
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)	/* checksum: the three sum to 0 */
	.long mb_header			/* header_addr */
	.long __image_start		/* load_addr */
	.long __load_end		/* load_end_addr */
	.long __bss_end			/* bss_end_addr */
	.long _start			/* entry_addr */

	.section .text.boot, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	movl	$boot_stack_top, %esp
	movl	%eax, %esi			/* keep magic and info across the clear */
	movl	%ebx, %ebp

	/* The loader zeroes bss (Multiboot §3.1.3, bss_end_addr); clear it
	 * anyway, so a loader that does not cannot leave stale entries in the
	 * page tables. */
	movl	$__bss_start, %edi
	movl	$__bss_end, %ecx
	subl	%edi, %ecx
	shrl	$2, %ecx
	xorl	%eax, %eax
	rep stosl
	movl	%esi, guest_mb_magic
	movl	%ebp, guest_mb_info

	/* Step 0: long mode present? */
	movl	$0x80000000, %eax
	cpuid
	cmpl	$0x80000001, %eax
	jb	no_long_mode
	movl	$0x80000001, %eax
	cpuid
	btl	$29, %edx
	jnc	no_long_mode
	movl	%edx, %ebx			/* EDX[20] (NX) is used in step 3 */

	/* Step 1: PML4[0] and PDPT[0..3] are P|RW; every PDE is P|RW|PS. */
	movl	$guest_pdpt + 0x3, guest_pml4
	movl	$guest_pd + 0x3, %eax
	movl	$guest_pdpt, %edi
	movl	$4, %ecx
1:	movl	%eax, (%edi)
	addl	$4096, %eax
	addl	$8, %edi
	loop	1b
	movl	$guest_pd, %edi
	xorl	%eax, %eax			/* low half of the physical address */
	xorl	%edx, %edx			/* high half: 0 below 4 GiB */
	movl	$2048, %ecx
2:	movl	%eax, %esi
	orl	$0x83, %esi			/* P | RW | PS */
	movl	%esi, (%edi)
	movl	%edx, 4(%edi)
	addl	$0x200000, %eax
	addl	$8, %edi
	loop	2b

	/* Step 2 */
	movl	%cr4, %eax
	orl	$(1 << 5), %eax
	movl	%eax, %cr4
	movl	$guest_pml4, %eax
	movl	%eax, %cr3

	/* Step 3 */
	movl	$0xC0000080, %ecx
	rdmsr
	orl	$(1 << 8), %eax
	btl	$20, %ebx
	jnc	3f
	orl	$(1 << 11), %eax
3:	wrmsr

	/* Step 4 */
	movl	%cr0, %eax
	orl	$((1 << 31) | (1 << 16)), %eax
	movl	%eax, %cr0

	/* Step 5: with LMA=1 the CPU runs this 32-bit CS in compatibility
	 * mode, from an identity-mapped page as 10.8.5 step 4 requires; a far
	 * jump to a code segment with L=1 enters 64-bit mode. */
	lgdt	gdt_desc
	ljmp	$0x08, $start64

no_long_mode:
	movw	$0xf4, %dx
	movl	$3, %eax			/* GUEST_EXIT_BOOT */
	outl	%eax, %dx
4:	hlt
	jmp	4b

	.code64
start64:
	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	xorl	%eax, %eax
	movw	%ax, %fs
	movw	%ax, %gs
	movabsq	$boot_stack_top, %rsp
	xorl	%ebp, %ebp
	call	guest_start
5:	hlt
	jmp	5b

/* GDT (SDM 3A 3.4.5 descriptor format): 0x08 64-bit ring-0 code
 * (type 0xA execute/read, S=1, P=1, L=1), 0x10 ring-0 data (type 0x2
 * read/write, P=1, G=1, D/B=1, limit 4 GiB for the 32-bit part of boot). */
	.section .rodata
	.balign 8
gdt:
	.quad	0
	.quad	0x00209A0000000000
	.quad	0x00CF92000000FFFF
gdt_end:
gdt_desc:
	.word	gdt_end - gdt - 1
	.long	gdt

	.section .bss.pagetables, "aw", @nobits
	.balign 4096
	.globl guest_pml4, guest_pdpt, guest_pd
guest_pml4:	.skip 4096
guest_pdpt:	.skip 4096
guest_pd:	.skip 4 * 4096

	.section .bss
	.balign 16
boot_stack:	.skip 16384
boot_stack_top:
	.balign 4
	.globl guest_mb_magic, guest_mb_info
guest_mb_magic:	.skip 4
guest_mb_info:	.skip 4

	.section .note.GNU-stack, "", @progbits
