/*
 * guest.S — the pre-copy migration guest (precopy.c): every vcpu writes
 * pseudo-random values to pseudo-random pages of the data region, reads
 * the guard region, and now and then changes its own page tables, for
 * ever. The host copies the bytes from mg_guest to mg_guest_end to
 * MG_CODE (layout.h) and starts vcpu 0 at mg_bsp64 in 64-bit mode; the
 * other vcpus wait for a STARTUP IPI (SDM Vol. 3A 8.4.3) and start at
 * mg_ap16 in real mode.
 *
 * Addresses inside the blob are absolute guest-physical ones: MG_CODE
 * plus the label's offset (GPA()). Nothing is pushed, called or stored
 * outside the data region and the vcpu's own page tables, and every GDT
 * descriptor has its accessed flag set (SDM Vol. 3A 3.4.5.1), so every
 * other page of the slot stays exactly as the host wrote it.
 *
 * An AP's way to 64-bit mode (SDM Vol. 3A 10.9.1, 10.8.5): LGDT,
 * CR0.PE = 1, far jump to 32-bit code; CR4.PAE = 1, CR3, EFER.LME = 1,
 * CR0.PG = 1, far jump to 64-bit code. Its CR3 is its own tables,
 * chosen by its initial APIC ID (CPUID.01H:EBX[31:24]).
 *
 * The loop (registers):
 *   r8   xorshift64 state (Marsaglia 2003, shifts 13, 7, 17), seeded
 *        from the parameter block and the APIC ID
 *   r9   MG_WINDOW_VA         r10  this vcpu's PT_A (identity VA)
 *   r11  the last iteration's write address
 *   r12  iteration count      r13  this vcpu's PD_WIN
 *   r14  CR3                  r15  PD_WIN[1]'s two values XORed
 *   ebx  APIC ID
 * Each iteration writes the state to one qword of a random data page,
 * through the window or the identity map; inverts the qword the last
 * iteration wrote (a write through a translation the TLB holds, the
 * kind a dirty-log round must not let through unlogged; one comes right
 * after every heartbeat); and reads a random guard qword. Periodically
 * (layout.h: MG_*_EVERY, at phases MG_*_AT) it swaps two PT_A entries
 * (the window stays a permutation of the data pages) and INVLPGs both
 * pages (SDM Vol. 3A 4.10.4.1); switches PD_WIN[1] between a 2 MiB page
 * and PT_B and reloads CR3; and writes its APIC ID to port MG_BEAT_PORT,
 * where the host counts heartbeats and makes its rounds.
 */
#include "layout.h"

#define GPA(label) (MG_CODE + (label) - mg_guest)

	.section .rodata
	.globl	mg_guest, mg_guest_end, mg_bsp64, mg_gdt
	.balign	4096
mg_guest:
	.code16
mg_ap16:
	cli
	lgdtl	%cs:(mg_gdtr - mg_guest)
	movl	%cr0, %eax
	orl	$1, %eax
	movl	%eax, %cr0
	ljmpl	$0x18, $GPA(mg_ap32)

	.code32
mg_ap32:
	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movl	$1, %eax
	cpuid
	shrl	$24, %ebx
	movl	%ebx, %eax
	shll	$16, %eax
	addl	$MG_PT_BASE, %eax
	movl	%eax, %cr3
	movl	%cr4, %eax
	orl	$0x20, %eax			/* PAE */
	movl	%eax, %cr4
	movl	$0xc0000080, %ecx		/* IA32_EFER */
	rdmsr
	orl	$0x100, %eax			/* LME */
	wrmsr
	movl	%cr0, %eax
	orl	$0x80010020, %eax		/* PG, WP, NE */
	movl	%eax, %cr0
	ljmpl	$0x08, $GPA(mg_common)

	.code64
mg_bsp64:
	/* STARTUP to all excluding self (ICR: shorthand 11, delivery mode
	 * 110, level assert; SDM Vol. 3A 11.6.1), vector MG_SIPI_VECTOR. */
	cmpq	$1, MG_PARAM_NCPUS
	jbe	mg_common
	movl	$MG_APIC_ICR_LO, %eax
	movl	$(0x000c4600 | MG_SIPI_VECTOR), (%rax)
mg_common:
	movl	$1, %eax
	cpuid
	shrl	$24, %ebx
	leaq	1(%rbx), %rax
	movabsq	$0x9e3779b97f4a7c15, %rcx
	imulq	%rcx, %rax
	movq	MG_PARAM_SEED, %r8
	xorq	%rax, %r8
	movq	$MG_WINDOW_VA, %r9
	movq	%cr3, %r14
	leaq	MG_PT_A(%r14), %r10
	leaq	MG_PT_PD_WIN(%r14), %r13
	leaq	(MG_PT_B | MG_P | MG_RW)(%r14), %r15
	xorq	$(MG_DATA_B | MG_P | MG_RW | MG_PS), %r15
	xorq	%r12, %r12
	movq	%r9, %r11

mg_loop:
	movq	%r8, %rax			/* xorshift64 */
	shlq	$13, %rax
	xorq	%rax, %r8
	movq	%r8, %rax
	shrq	$7, %rax
	xorq	%rax, %r8
	movq	%r8, %rax
	shlq	$17, %rax
	xorq	%rax, %r8

	movq	%r8, %rax			/* page: bits 31:20 */
	shrq	$20, %rax
	andl	$(MG_DATA_PAGES - 1), %eax
	shlq	$12, %rax
	movq	%r8, %rcx			/* qword: bits 15:7 */
	shrq	$4, %rcx
	andl	$0xff8, %ecx
	addq	%rcx, %rax
	btq	$40, %r8
	jc	1f
	addq	%r9, %rax			/* through the window */
	jmp	2f
1:	addq	$MG_DATA, %rax			/* through the identity map */
2:	movq	%r8, (%rax)
	notq	(%r11)				/* the last iteration's page again */
	movq	%rax, %r11

	movq	%r8, %rcx			/* a guard qword: bits 52:35 */
	shrq	$32, %rcx
	andl	$(MG_GUARD_SIZE - 8), %ecx
	movq	MG_GUARD(%rcx), %rdx

	incq	%r12
	movl	%r12d, %eax
	andl	$(MG_PTE_EVERY - 1), %eax
	cmpl	$MG_PTE_AT, %eax
	jne	3f
	movq	%r8, %rax			/* swap PT_A[i] and PT_A[j] */
	shrq	$44, %rax
	andl	$511, %eax
	movq	%r8, %rcx
	shrq	$53, %rcx
	andl	$511, %ecx
	movq	(%r10,%rax,8), %rdx
	movq	(%r10,%rcx,8), %rsi
	movq	%rsi, (%r10,%rax,8)
	movq	%rdx, (%r10,%rcx,8)
	shlq	$12, %rax
	addq	%r9, %rax
	invlpg	(%rax)
	shlq	$12, %rcx
	addq	%r9, %rcx
	invlpg	(%rcx)
3:
	movl	%r12d, %eax
	andl	$(MG_PDE_EVERY - 1), %eax
	cmpl	$MG_PDE_AT, %eax
	jne	4f
	xorq	%r15, 8(%r13)			/* 2 MiB page <-> PT_B */
	movq	%r14, %cr3
4:
	testq	$(MG_BEAT_EVERY - 1), %r12
	jnz	mg_loop
	movl	%ebx, %eax
	outl	%eax, $MG_BEAT_PORT
	jmp	mg_loop

	/* 0x08 64-bit code, 0x10 data, 0x18 32-bit code; all accessed. */
	.balign	8
mg_gdt:
	.quad	0
	.quad	0x00af9b000000ffff
	.quad	0x00cf93000000ffff
	.quad	0x00cf9b000000ffff
mg_gdt_end:
	.balign	8
mg_gdtr:
	.word	mg_gdt_end - mg_gdt - 1
	.long	GPA(mg_gdt)
mg_guest_end:

	/* The blob is data to the host program: no executable stack. */
	.section .note.GNU-stack, "", @progbits
