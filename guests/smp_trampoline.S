/*
 * smp_trampoline.S — an application processor's way from the start-up
 * IPI to 64-bit mode (smp.c sends the IPIs and copies the 16-bit part).
 *
 * SDM Vol. 3A 9.4.4 (MP initialization example) and MP spec 1.4 B.4: a
 * STARTUP IPI with vector VV starts the AP in real mode at CS:IP =
 * VV00:0000 (CS base VV000H), so the first instructions must lie in a
 * page below 1 MiB. Only smp_tramp16 .. smp_tramp16_end is copied there
 * (smp.c: SMP_TRAMPOLINE_PA); it references nothing by absolute address
 * but the GDT descriptor next to it, which it addresses CS-relative, and
 * 32-bit targets in the image (below 4 GiB, so link-time constants do).
 *
 * Steps (SDM 3A 10.9.1 to protected mode, 10.8.5 to IA-32e mode):
 *  16-bit: CLI, LGDT (a GDT in the image: 0x08 64-bit code, 0x10 flat
 *     data, 0x18 flat 32-bit code), CR0.PE=1, far jump to 0x18:ap32.
 *  32-bit: data segments 0x10; CR4.PAE=1, CR3 = guest_pml4 (the BSP's
 *     identity map), EFER.LME=1 (and NXE when CPUID says so, as boot.S
 *     does: EFER is per processor), CR0.PG=1 and WP=1, far jump to
 *     0x08:ap64.
 *  64-bit: RSP = smp_ap_stack (the BSP set it for this AP before the
 *     IPIs: APs start one at a time), call smp_ap_main(), never returns.
 * The AP starts with its caches and TLBs empty (INIT), so no flush is due.
 */
	.section .rodata
	.balign 8
smp_gdt:
	.quad	0
	.quad	0x00209A0000000000	/* 0x08: 64-bit code, as boot.S / gdt.c */
	.quad	0x00CF92000000FFFF	/* 0x10: flat data, 4 GiB */
	.quad	0x00CF9A000000FFFF	/* 0x18: flat 32-bit code (D=1, G=1) */
smp_gdt_end:

	.text
	.code16
	.globl smp_tramp16, smp_tramp16_end
	.balign 16
smp_tramp16:
	cli
	cld
	/* The descriptor is CS-relative: CS base = the page it was copied to. */
	lgdtl	%cs:(smp_tramp_gdtr - smp_tramp16)
	movl	%cr0, %eax
	orl	$1, %eax
	movl	%eax, %cr0
	ljmpl	$0x18, $ap32
	.balign 8
smp_tramp_gdtr:
	.word	smp_gdt_end - smp_gdt - 1
	.long	smp_gdt
smp_tramp16_end:

	.code32
ap32:
	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movw	%ax, %fs
	movw	%ax, %gs
	movl	%cr4, %eax
	orl	$(1 << 5), %eax			/* PAE */
	movl	%eax, %cr4
	movl	$guest_pml4, %eax
	movl	%eax, %cr3
	movl	$0x80000001, %eax
	cpuid
	movl	%edx, %ebx
	movl	$0xC0000080, %ecx		/* IA32_EFER */
	rdmsr
	orl	$(1 << 8), %eax			/* LME */
	btl	$20, %ebx
	jnc	1f
	orl	$(1 << 11), %eax		/* NXE */
1:	wrmsr
	movl	%cr0, %eax
	orl	$((1 << 31) | (1 << 16)), %eax	/* PG, WP */
	movl	%eax, %cr0
	ljmp	$0x08, $ap64

	.code64
ap64:
	xorl	%eax, %eax
	movw	%ax, %fs
	movw	%ax, %gs
	movq	smp_ap_stack(%rip), %rsp
	xorl	%ebp, %ebp
	call	smp_ap_main
2:	cli
	hlt
	jmp	2b

	.section .note.GNU-stack, "", @progbits
