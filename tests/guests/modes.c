/*
 * modes.c — the processor's operating modes, visited with the transitions
 * the SDM prescribes: long → compatibility → 32-bit protected → real →
 * protected → 32-bit paging → PAE paging → long.
 *
 * SDM Vol. 3A:
 *  - 10.8.5.4 (Switching out of IA-32e mode): from compatibility mode
 *    (a far return to a 32-bit code segment, L=0 D=1), on an identity-mapped
 *    page, CR0.PG=0 deactivates IA-32e mode (EFER.LMA reads 0 while LME is
 *    still 1), then EFER.LME=0: 32-bit protected mode without paging.
 *  - 10.9.2 (Switching back to real-address mode): far jump to a 16-bit
 *    code segment with a 64 KiB limit, data segments with 64 KiB limits,
 *    LIDT with a real-mode interrupt table, CR0.PE=0, a far jump that
 *    loads a real-mode CS, then the real-mode segment registers.
 *  - 20.1 (real-address mode): linear = selector * 16 + offset, with
 *    16-bit offsets that wrap within the segment; INT n through the IVT
 *    (Vol. 2 INT n, real-address mode: push FLAGS, CS, IP; IF, TF and AC
 *    cleared; CS:IP from the 4-byte IVT entry). The real-mode code runs
 *    from a copy at 0x2000 (below 64 KiB: the image itself is at 1 MiB)
 *    and writes one line to the UART with OUT itself.
 *  - 10.9.1 (Switching to protected mode): LGDT, CR0.PE=1, a far jump to
 *    a 32-bit code segment, then the data segments and LIDT (a 32-bit IDT:
 *    8-byte interrupt gates, 6.11).
 *  - 4.3 (32-bit paging): CR4.PSE=1 for a 4 MiB page (PDE.PS=1, Table
 *    4-4) next to a page table of 4 KiB pages (Table 4-6); A set in the
 *    PDE used (4.8).
 *  - 4.1.2 and 4.4.1: a MOV to CR4 that sets PAE while CR0.PG=1 switches
 *    from 32-bit paging to PAE paging and loads the four PDPTEs from CR3
 *    (bits 31:5). CR3 bits 11:5 are ignored by 32-bit paging (Table 4-3),
 *    so the PDPT sits in the last 32 bytes of the 32-bit page directory
 *    and one CR3 value serves both modes. 2 MiB pages (PDE.PS=1) and 4 KiB
 *    pages; with CPUID.80000001H:EDX[20] and EFER.NXE, a fetch from a page
 *    with XD=1 is a #PF with error code P|I/D = 0x11 and CR2 the address
 *    (4.6.2, 4.7).
 *  - 10.8.5 (Initializing IA-32e mode): CR0.PG=0, CR4.PAE=1, CR3 = PML4,
 *    EFER.LME=1, CR0.PG=1 (LMA becomes 1), then a far jump to a 64-bit
 *    code segment.
 *
 * The lower-mode code is assembly (top of this file): the C code builds
 * the tables and the IVT in long mode, calls modes_run(), which records
 * what it sees into memory, and prints and checks one line per step
 * afterwards. Memory used: 0x1000 (IVT), 0x2000.. (the real-mode copy),
 * up to 0x6000 (its stack), 0x7010 (segment arithmetic), 24 MiB .. 24 MiB
 * + 12 KiB (the frames the test pages map).
 *
 * Expected serial output: tests/guests/modes.expect.
 * Expected exit status: 1 (guest_exit(0)).
 */
#include "guests/guest.h"

/* Selectors of the test's own GDT (modes_gdt below). */
#define SEL_CODE64	0x08
#define SEL_DATA32	0x10
#define SEL_CODE32	0x18
#define SEL_CODE16	0x20
#define SEL_DATA16	0x28

#define RM_IVT		0x1000	/* the real-mode interrupt vector table */
#define RM_BASE		0x2000	/* where the real-mode code is copied */
#define RM_SEG		0x0200	/* RM_BASE / 16 */
#define RM_MAX		0x2000	/* room for the copy below its stack */
#define RM_STACK	0x4000	/* SP in RM_SEG: linear 0x6000 */
#define RM_INT		0x42	/* the vector the real-mode test raises */

#define MiB		0x100000u
#define FRAME_A		(24 * MiB)		/* holds MAGIC_A */
#define FRAME_B		(24 * MiB + 0x1000)	/* holds MAGIC_B */
#define FRAME_NX	(24 * MiB + 0x2000)	/* a RET behind an XD=1 PTE */
#define MAGIC_A		0xa11ce000u
#define MAGIC_B		0xb0b0b000u
#define VA_4K		0x00405000	/* a 4 KiB page in both modes */
#define VA_BIG		0x00800000	/* a 4 MiB page (32-bit), a 2 MiB page (PAE) */
#define VA_NX		0x00406000

/* Architectural bits, from the SDM (not from guest.h); plain hex, as
 * the assembly uses them too. */
#define CR0_PE		0x00000001	/* 2.5 */
#define CR0_PG		0x80000000
#define CR0_PG_CLEAR	0x7fffffff
#define CR4_PSE		0x00000010
#define CR4_PAE		0x00000020
#define EFER_LME	0x00000100	/* 2.2.1 */
#define EFER_LMA	0x00000400
#define EFER_NXE	0x00000800
#define FL_CF		0x00000001	/* Vol. 1 3.4.3 */
#define FL_TF		0x00000100
#define FL_IF		0x00000200
#define FL_AC		0x00040000
#define PG_P		0x001u
#define PG_RW		0x002u
#define PG_A		0x020u
#define PG_PS		0x080u
#define PG_XD		(1ull << 63)
#define PDPT_OFFSET	0xfe0	/* the PDPT inside the 32-bit page directory */

/*
 * The assembly. Global labels the C side uses are declared below; values
 * recorded in 32-bit code live in modes_rec (offsets REC_*), values
 * recorded in real mode live in the real-mode copy (rm_rec, offsets
 * RMREC_*), because real mode cannot address the image above 1 MiB.
 */
#define REC_EFER_COMPAT	0	/* EFER read in compatibility mode */
#define REC_EFER_PG0	4	/* after CR0.PG=0 */
#define REC_EFER_LEGACY	8	/* after EFER.LME=0 */
#define REC_CR0_PM	12	/* CR0 in protected mode, before real mode */
#define REC_CR0_PM2	16	/* CR0 after coming back from real mode */
#define REC_CS_PM2	20	/* CS then */
#define REC_PG32_4K	24	/* [VA_4K] under 32-bit paging */
#define REC_PG32_BIG	28	/* [VA_BIG] */
#define REC_PG32_BIG1	32	/* [VA_BIG + 4 KiB] */
#define REC_CR4_PG32	36
#define REC_CR4_PAE	40
#define REC_PAE_4K	44	/* [VA_4K] under PAE paging */
#define REC_PAE_BIG	48	/* [VA_BIG] */
#define REC_PF_COUNT	52
#define REC_PF_ERR	56
#define REC_PF_CR2	60
#define REC_PF_EIP	64
#define REC_NX_RAN	68	/* the RET in the XD page executed */
#define REC_EFER_LONG	72	/* after CR0.PG=1 with LME=1 */
#define REC_CS_LONG	76
#define REC_SIZE	80

#define RMREC_CR0	0
#define RMREC_SEG1	4	/* 0x0701:0x0000 */
#define RMREC_SEG2	8	/* 0x06f1:0x0100 */
#define RMREC_WRAP	12	/* 0x0701:(0xffff + 1) */
#define RMREC_INTS	16	/* INT 0x42 handler runs */
#define RMREC_IP	20	/* IP, CS, FLAGS the INT pushed */
#define RMREC_CS	24
#define RMREC_FLAGS	28
#define RMREC_EFL_IN	32	/* EFLAGS inside the handler */
#define RMREC_SP_IN	36	/* SP inside the handler, before it pushed */
#define RMREC_SP_OUT	40	/* SP before INT */
#define RMREC_CS_RM	44	/* CS in real mode */
#define RMREC_SIZE	48

#define S(x) #x
#define X(x) S(x)

__asm__(
"	.text\n"
"	.code64\n"
"	.globl modes_run\n"
/* void modes_run(void): the whole excursion; returns in long mode. */
"modes_run:\n"
"	push %rbx; push %rbp; push %r12; push %r13; push %r14; push %r15\n"
"	pushfq\n"
"	mov %rsp, modes_saved_rsp(%rip)\n"
"	sgdt modes_saved_gdtr(%rip)\n"
"	sidt modes_saved_idtr(%rip)\n"
"	mov %cr0, %rax; mov %eax, modes_saved_cr0(%rip)\n"
"	mov %cr3, %rax; mov %eax, modes_saved_cr3(%rip)\n"
"	mov %cr4, %rax; mov %eax, modes_saved_cr4(%rip)\n"
"	lgdt modes_gdtr(%rip)\n"
/* 10.8.5.4 step 1: into compatibility mode (a 32-bit code segment). */
"	pushq $" X(SEL_CODE32) "\n"
"	pushq $modes_compat\n"
"	lretq\n"

"	.code32\n"
"modes_compat:\n"
"	mov $" X(SEL_DATA32) ", %ax\n"
"	mov %ax, %ds; mov %ax, %es; mov %ax, %ss; mov %ax, %fs; mov %ax, %gs\n"
"	mov $0xc0000080, %ecx\n"
"	rdmsr\n"
"	mov %eax, modes_rec + " X(REC_EFER_COMPAT) "\n"
/* Step 2: CR0.PG=0 leaves IA-32e mode (LMA=0). */
"	mov %cr0, %eax\n"
"	and $" X(CR0_PG_CLEAR) ", %eax\n"
"	mov %eax, %cr0\n"
"	rdmsr\n"
"	mov %eax, modes_rec + " X(REC_EFER_PG0) "\n"
/* Step 4: EFER.LME=0 (NXE stays for PAE paging later). */
"	and $~" X(EFER_LME) ", %eax\n"
"	wrmsr\n"
"	rdmsr\n"
"	mov %eax, modes_rec + " X(REC_EFER_LEGACY) "\n"
"	lidt modes_idt32_desc\n"
"	mov %cr0, %eax\n"
"	mov %eax, modes_rec + " X(REC_CR0_PM) "\n"
"	mov %esp, modes_saved_esp32\n"
/* 10.9.2 step 4: a 16-bit code segment with a 64 KiB limit (base RM_BASE,
 * so its offsets equal the real-mode ones). */
"	ljmp $" X(SEL_CODE16) ", $(rm_pm16 - rm_start)\n"

/* Back from real mode (10.9.1): 32-bit protected mode again. */
"modes_pm_again:\n"
"	mov $" X(SEL_DATA32) ", %ax\n"
"	mov %ax, %ds; mov %ax, %es; mov %ax, %ss; mov %ax, %fs; mov %ax, %gs\n"
"	mov modes_saved_esp32, %esp\n"
"	lidt modes_idt32_desc\n"
"	mov %cr0, %eax\n"
"	mov %eax, modes_rec + " X(REC_CR0_PM2) "\n"
"	mov %cs, %eax\n"
"	mov %eax, modes_rec + " X(REC_CS_PM2) "\n"

/* 32-bit paging (4.3): PSE on, PAE off, CR3 = the page directory. */
"	mov %cr4, %eax\n"
"	or $" X(CR4_PSE) ", %eax\n"
"	and $~" X(CR4_PAE) ", %eax\n"
"	mov %eax, %cr4\n"
"	mov $modes_pd32, %eax\n"
"	mov %eax, %cr3\n"
"	mov %cr0, %eax\n"
"	or $" X(CR0_PG) ", %eax\n"
"	mov %eax, %cr0\n"
"	mov %cr4, %eax\n"
"	mov %eax, modes_rec + " X(REC_CR4_PG32) "\n"
"	mov " X(VA_4K) ", %eax\n"
"	mov %eax, modes_rec + " X(REC_PG32_4K) "\n"
"	mov " X(VA_BIG) ", %eax\n"
"	mov %eax, modes_rec + " X(REC_PG32_BIG) "\n"
"	mov " X(VA_BIG) " + 0x1000, %eax\n"
"	mov %eax, modes_rec + " X(REC_PG32_BIG1) "\n"

/* To PAE paging with paging on (4.1.2): CR3 keeps the page directory for
 * 32-bit paging (bits 31:12) and names the PDPT for PAE (bits 31:5);
 * setting CR4.PAE loads the PDPTEs (4.4.1). */
"	mov $modes_pd32 + " X(PDPT_OFFSET) ", %eax\n"
"	mov %eax, %cr3\n"
"	mov %cr4, %eax\n"
"	or $" X(CR4_PAE) ", %eax\n"
"	mov %eax, %cr4\n"
"	mov %eax, modes_rec + " X(REC_CR4_PAE) "\n"
"	mov " X(VA_4K) ", %eax\n"
"	mov %eax, modes_rec + " X(REC_PAE_4K) "\n"
"	mov " X(VA_BIG) ", %eax\n"
"	mov %eax, modes_rec + " X(REC_PAE_BIG) "\n"
"	cmpl $0, modes_nx\n"
"	je 2f\n"
"	mov $" X(VA_NX) ", %eax\n"
"	call *%eax\n"
/* Only if no #PF came: the RET in the XD page ran. */
"	movl $1, modes_rec + " X(REC_NX_RAN) "\n"
"	jmp 2f\n"
"modes_nx_resume:\n"
"	add $4, %esp\n"		/* the return address CALL pushed */
"2:\n"

/* 10.8.5: back to IA-32e mode, from identity-mapped code. */
"	mov %cr0, %eax\n"
"	and $" X(CR0_PG_CLEAR) ", %eax\n"
"	mov %eax, %cr0\n"
"	mov modes_saved_cr4, %eax\n"
"	mov %eax, %cr4\n"
"	mov modes_saved_cr3, %eax\n"
"	mov %eax, %cr3\n"
"	mov $0xc0000080, %ecx\n"
"	rdmsr\n"
"	or $" X(EFER_LME) ", %eax\n"
"	wrmsr\n"
"	mov modes_saved_cr0, %eax\n"
"	mov %eax, %cr0\n"
"	rdmsr\n"
"	mov %eax, modes_rec + " X(REC_EFER_LONG) "\n"
"	lgdt modes_gdtr\n"
"	ljmp $" X(SEL_CODE64) ", $modes_long\n"

"	.code64\n"
"modes_long:\n"
"	mov %cs, %eax\n"
"	mov %eax, modes_rec + " X(REC_CS_LONG) "(%rip)\n"
"	lgdt modes_saved_gdtr(%rip)\n"
"	lidt modes_saved_idtr(%rip)\n"
"	mov $" X(GDT_KERNEL_DS) ", %eax\n"
"	mov %ax, %ds; mov %ax, %es; mov %ax, %ss\n"
"	xor %eax, %eax\n"
"	mov %ax, %fs; mov %ax, %gs\n"
"	mov modes_saved_rsp(%rip), %rsp\n"
"	popfq\n"
"	pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
"	ret\n"

/* 32-bit #PF handler (6.12.1: EIP, CS, EFLAGS, then the error code on
 * top): records, and resumes at modes_nx_resume. */
"	.code32\n"
"	.globl modes_pf32\n"
"modes_pf32:\n"
"	popl modes_rec + " X(REC_PF_ERR) "\n"
"	push %eax\n"
"	mov %cr2, %eax\n"
"	mov %eax, modes_rec + " X(REC_PF_CR2) "\n"
"	mov 4(%esp), %eax\n"
"	mov %eax, modes_rec + " X(REC_PF_EIP) "\n"
"	movl $modes_nx_resume, 4(%esp)\n"
"	incl modes_rec + " X(REC_PF_COUNT) "\n"
"	pop %eax\n"
"	iret\n"

/* Any other exception in 32-bit mode: one stub per vector (8 bytes each)
 * pushes the vector; report it and end the run (exit code 2). */
"	.balign 8\n"
"	.globl modes_stubs32\n"
"modes_stubs32:\n"
"	.set vec, 0\n"
"	.rept 32\n"
"	.balign 8\n"
"	push $vec\n"
"	jmp modes_unexp32\n"
"	.set vec, vec + 1\n"
"	.endr\n"
"modes_unexp32:\n"
"	mov $modes_msg32, %esi\n"
"1:	lodsb\n"
"	test %al, %al\n"
"	jz 2f\n"
"	call modes_putc32\n"
"	jmp 1b\n"
"2:	pop %ebx\n"
"	mov %ebx, %eax\n"
"	shr $4, %eax\n"
"	call modes_hex32\n"
"	mov %ebx, %eax\n"
"	call modes_hex32\n"
"	mov $10, %al\n"
"	call modes_putc32\n"
"	mov $" X(GUEST_EXIT_EXCEPTION) ", %eax\n"
"	mov $0xf4, %dx\n"
"	out %eax, %dx\n"
"3:	hlt\n"
"	jmp 3b\n"
"modes_hex32:\n"
"	and $0xf, %eax\n"
"	mov modes_hexdigits(%eax), %al\n"
"modes_putc32:\n"			/* AL to COM1, polling LSR.THRE */
"	mov %eax, %edi\n"
"	mov $0x3fd, %dx\n"
"	mov $100000, %ecx\n"
"4:	in %dx, %al\n"
"	test $0x20, %al\n"
"	loopz 4b\n"
"	mov %edi, %eax\n"
"	mov $0x3f8, %dx\n"
"	out %al, %dx\n"
"	ret\n"

/* ---- the real-mode copy: position-dependent only on RM_BASE ---- */
"	.code16\n"
"	.balign 16\n"
"	.globl rm_start, rm_end, rm_int42, rm_unexp, rm_rec\n"
"rm_start:\n"
"rm_pm16:\n"
/* 10.9.2 step 5: data segments with 64 KiB limits, byte granular. */
"	mov $" X(SEL_DATA16) ", %ax\n"
"	mov %ax, %ds; mov %ax, %es; mov %ax, %fs; mov %ax, %gs; mov %ax, %ss\n"
/* Step 6: the real-mode interrupt table (DS base is 0 here). */
"	lidtl " X(RM_BASE) " + (rm_ivt_desc - rm_start)\n"
/* Step 7: CR0.PE=0; step 8: far jump to real-mode code. */
"	mov %cr0, %eax\n"
"	and $~" X(CR0_PE) ", %eax\n"
"	mov %eax, %cr0\n"
"	ljmp $" X(RM_SEG) ", $(rm_real - rm_start)\n"
"rm_real:\n"
/* Step 9: real-mode segments and stack. */
"	mov $" X(RM_SEG) ", %ax\n"
"	mov %ax, %ds; mov %ax, %es; mov %ax, %ss\n"
"	mov $" X(RM_STACK) ", %esp\n"	/* ESP: (%esp) below uses all 32 bits */
"	mov %cr0, %eax\n"
"	mov %eax, rm_rec - rm_start + " X(RMREC_CR0) "\n"
"	mov %cs, %ax\n"
"	mov %ax, rm_rec - rm_start + " X(RMREC_CS_RM) "\n"
"	mov $rm_msg - rm_start, %si\n"
"	call rm_puts\n"
/* Segment arithmetic (20.1.1): 0x0700:0x0010, 0x0701:0x0000 and
 * 0x06f1:0x0100 are the same linear byte 0x7010; an offset of
 * 0xffff + 1 wraps to 0 in 16-bit addressing. */
"	mov $0x0700, %ax\n"
"	mov %ax, %es\n"
"	movl $0x12345678, %es:0x10\n"
"	mov $0x0701, %ax\n"
"	mov %ax, %es\n"
"	mov %es:0, %eax\n"
"	mov %eax, rm_rec - rm_start + " X(RMREC_SEG1) "\n"
"	mov $0xffff, %bx\n"
"	mov %es:1(%bx), %eax\n"
"	mov %eax, rm_rec - rm_start + " X(RMREC_WRAP) "\n"
"	mov $0x06f1, %ax\n"
"	mov %ax, %es\n"
"	mov %es:0x100, %eax\n"
"	mov %eax, rm_rec - rm_start + " X(RMREC_SEG2) "\n"
/* INT 0x42 through the IVT, with CF and AC set beforehand. */
"	pushfl\n"
"	orl $(" X(FL_AC) " | " X(FL_CF) "), (%esp)\n"
"	popfl\n"
"	mov %sp, rm_rec - rm_start + " X(RMREC_SP_OUT) "\n"
"	int $" X(RM_INT) "\n"
"rm_after_int:\n"
"	.globl rm_after_int\n"
"	pushfl\n"
"	andl $~(" X(FL_AC) " | " X(FL_CF) "), (%esp)\n"
"	popfl\n"
/* Back to protected mode (10.9.1). */
"	lgdtl rm_gdtr - rm_start\n"
"	mov %cr0, %eax\n"
"	or $" X(CR0_PE) ", %eax\n"
"	mov %eax, %cr0\n"
"	ljmpl $" X(SEL_CODE32) ", $modes_pm_again\n"

"rm_int42:\n"
"	mov %sp, rm_rec - rm_start + " X(RMREC_SP_IN) "\n"
"	push %bp\n"
"	mov %sp, %bp\n"
"	pushfl\n"
"	popl rm_rec - rm_start + " X(RMREC_EFL_IN) "\n"
"	mov 2(%bp), %ax\n"
"	mov %ax, rm_rec - rm_start + " X(RMREC_IP) "\n"
"	mov 4(%bp), %ax\n"
"	mov %ax, rm_rec - rm_start + " X(RMREC_CS) "\n"
"	mov 6(%bp), %ax\n"
"	mov %ax, rm_rec - rm_start + " X(RMREC_FLAGS) "\n"
"	incw rm_rec - rm_start + " X(RMREC_INTS) "\n"
"	pop %bp\n"
"	iret\n"

/* Any other real-mode interrupt: report and end the run. */
"rm_unexp:\n"
"	push %cs\n"
"	pop %ds\n"
"	mov $rm_msg_unexp - rm_start, %si\n"
"	call rm_puts\n"
"	mov $" X(GUEST_EXIT_EXCEPTION) ", %eax\n"
"	mov $0xf4, %dx\n"
"	out %eax, %dx\n"
"1:	hlt\n"
"	jmp 1b\n"

/* rm_puts: the NUL-terminated string at DS:SI to COM1. */
"rm_puts:\n"
"1:	lodsb\n"
"	test %al, %al\n"
"	jz 3f\n"
"	mov %al, %bl\n"
"	mov $0x3fd, %dx\n"
"	mov $0xffff, %cx\n"
"2:	in %dx, %al\n"
"	test $0x20, %al\n"
"	loopz 2b\n"
"	mov $0x3f8, %dx\n"
"	mov %bl, %al\n"
"	out %al, %dx\n"
"	jmp 1b\n"
"3:	ret\n"

"	.balign 8\n"
"rm_ivt_desc:\n"
"	.word 0x3ff\n"
"	.long " X(RM_IVT) "\n"
"	.balign 8\n"
"rm_gdtr:\n"
"	.word modes_gdt_end - modes_gdt - 1\n"
"	.long modes_gdt\n"
"rm_msg:\n"
"	.asciz \"real mode: this line is written by 16-bit code at CS=0x0200 with OUT to 0x3f8\\n\"\n"
"rm_msg_unexp:\n"
"	.asciz \"modes: unexpected interrupt in real mode\\n\"\n"
"	.balign 4\n"
"rm_rec:\n"
"	.skip " X(RMREC_SIZE) "\n"
"rm_end:\n"

"	.code64\n"
"	.section .rodata\n"
"	.balign 8\n"
/* The test's GDT (3.4.5): 0x08 64-bit code (L=1), 0x10 flat 4 GiB data,
 * 0x18 flat 32-bit code (D=1), 0x20 16-bit code base RM_BASE limit
 * 0xffff (G=0 D=0), 0x28 16-bit data base 0 limit 0xffff. */
"modes_gdt:\n"
"	.quad 0\n"
"	.quad 0x00209a0000000000\n"
"	.quad 0x00cf92000000ffff\n"
"	.quad 0x00cf9a000000ffff\n"
"	.quad 0x00009a002000ffff\n"
"	.quad 0x000092000000ffff\n"
"modes_gdt_end:\n"
"modes_gdtr:\n"
"	.word modes_gdt_end - modes_gdt - 1\n"
"	.quad modes_gdt\n"
"modes_idt32_desc:\n"
"	.word 32 * 8 - 1\n"
"	.long modes_idt32\n"
"modes_msg32:\n"
"	.asciz \"modes: unexpected exception in 32-bit mode: vector 0x\"\n"
"modes_hexdigits:\n"
"	.ascii \"0123456789abcdef\"\n"

"	.bss\n"
"	.balign 16\n"
"	.globl modes_rec, modes_idt32\n"
"modes_rec:		.skip " X(REC_SIZE) "\n"
"modes_saved_rsp:	.skip 8\n"
"modes_saved_gdtr:	.skip 16\n"
"modes_saved_idtr:	.skip 16\n"
"modes_saved_cr0:	.skip 4\n"
"modes_saved_cr3:	.skip 4\n"
"modes_saved_cr4:	.skip 4\n"
"modes_saved_esp32:	.skip 4\n"
"	.balign 8\n"
"modes_idt32:		.skip 32 * 8\n"
"	.text\n"
);

_Static_assert(RMREC_SIZE == 48 && REC_SIZE == 80, "the asm reserves these sizes");

void modes_run(void);
extern const uint8_t rm_start[], rm_end[], rm_int42[], rm_unexp[], rm_rec[], rm_after_int[];
extern const uint8_t modes_pf32[], modes_stubs32[], __bss_end[];
extern uint32_t modes_rec[REC_SIZE / 4];
extern uint64_t modes_idt32[32];

/* Read by the assembly: 1 when the CPU has execute-disable; the 32-bit
 * page directory (with the PDPT in its last 32 bytes). */
extern uint32_t modes_nx, modes_pd32[1024];
uint32_t modes_nx;
uint32_t modes_pd32[1024] __attribute__((aligned(4096)));
static uint32_t pt32[1024] __attribute__((aligned(4096)));
static uint64_t pd_pae[512] __attribute__((aligned(4096)));
static uint64_t pt_pae[512] __attribute__((aligned(4096)));

static int bad;

static uint32_t rec(unsigned off)
{
	return ((volatile uint32_t *)modes_rec)[off / 4];
}

static uint32_t rmrec(unsigned off)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)RM_BASE + (rm_rec - rm_start) + off;
	return *(volatile const uint32_t *)p;
}

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	guest_vprintf(fmt, ap);
	va_end(ap);
	guest_printf(": %s\n", ok ? "ok" : "WRONG");
	bad += !ok;
}

/* A 32-bit interrupt gate (6.11, Figure 6-2): selector SEL_CODE32,
 * P=1 DPL=0 type 0xE (32-bit interrupt gate). */
static uint64_t gate32(uintptr_t off)
{
	return (off & 0xffff) | (uint64_t)SEL_CODE32 << 16 | 0x8eull << 40 |
	       (uint64_t)(off >> 16) << 48;
}

static void build_tables(void)
{
	/* 32-bit paging: 0..4 MiB identity with a 4 MiB page (the image,
	 * its stack and the low pages), 4..8 MiB through a page table whose
	 * PTE 5 maps FRAME_B, 8..12 MiB a 4 MiB page at 24 MiB; 12..16 MiB
	 * identity, a 4 MiB page the test never touches. */
	modes_pd32[0] = 0 | PG_PS | PG_RW | PG_P;
	modes_pd32[1] = (uint32_t)(uintptr_t)pt32 | PG_RW | PG_P;
	modes_pd32[2] = FRAME_A | PG_PS | PG_RW | PG_P;
	modes_pd32[3] = 12 * MiB | PG_PS | PG_RW | PG_P;	/* never used */
	pt32[(VA_4K >> 12) & 0x3ff] = FRAME_B | PG_RW | PG_P;

	/* PAE: PDPTE 0 (P only: bits 2:1 and 8:5 are reserved, 4.4.1) in
	 * the last 32 bytes of the page directory above (PDEs 1016..1023 map
	 * 0xFE000000.. for 32-bit paging, which the test never touches). */
	uint64_t *pdpt = (uint64_t *)((uintptr_t)modes_pd32 + PDPT_OFFSET);
	pdpt[0] = (uintptr_t)pd_pae | PG_P;
	pd_pae[0] = 0 | PG_PS | PG_RW | PG_P;		/* 0..2 MiB identity */
	pd_pae[VA_4K >> 21] = (uintptr_t)pt_pae | PG_RW | PG_P;
	pd_pae[VA_BIG >> 21] = FRAME_A | PG_PS | PG_RW | PG_P;
	/* VA_4K maps FRAME_A here, FRAME_B under 32-bit paging: the value
	 * read tells which tables the CPU walked. */
	pt_pae[(VA_4K >> 12) & 0x1ff] = FRAME_A | PG_RW | PG_P;
	if (modes_nx)
		pt_pae[(VA_NX >> 12) & 0x1ff] = FRAME_NX | PG_XD | PG_RW | PG_P;

	*(volatile uint32_t *)(uintptr_t)FRAME_A = MAGIC_A;
	*(volatile uint32_t *)(uintptr_t)FRAME_B = MAGIC_B;
	*(volatile uint8_t *)(uintptr_t)FRAME_NX = 0xc3;	/* RET */

	for (unsigned v = 0; v < 32; v++)
		modes_idt32[v] = gate32((uintptr_t)modes_stubs32 + 8 * v);
	modes_idt32[14] = gate32((uintptr_t)modes_pf32);

	/* The real-mode copy and its IVT: every vector to rm_unexp but
	 * RM_INT (20.1.4: 4-byte entries, offset then segment). */
	volatile uint8_t *dst = (volatile uint8_t *)(uintptr_t)RM_BASE;
	for (size_t i = 0; i < (size_t)(rm_end - rm_start); i++)
		dst[i] = rm_start[i];
	volatile uint16_t *ivt = (volatile uint16_t *)(uintptr_t)RM_IVT;
	for (unsigned v = 0; v < 256; v++) {
		ivt[2 * v] = (uint16_t)(v == RM_INT ? rm_int42 - rm_start : rm_unexp - rm_start);
		ivt[2 * v + 1] = RM_SEG;
	}
}

int guest_main(void)
{
	uint32_t r[4];
	uint64_t efer = msr_read(0xc0000080);

	cpuid(0x80000000, 0, r);
	if (r[0] >= 0x80000001) {
		cpuid(0x80000001, 0, r);
		modes_nx = (r[3] >> 20) & 1;
	}
	/* What the excursion relies on: the copy fits below its stack, and
	 * the image lies in the 2 MiB both paging modes identity-map. */
	if (rm_end - rm_start > RM_MAX || (uintptr_t)__bss_end > 2 * MiB) {
		guest_printf("modes: layout: real-mode code %u bytes, image end %p\n",
			     (unsigned)(rm_end - rm_start), (const void *)__bss_end);
		return GUEST_EXIT_FAIL;
	}
	check((efer & (EFER_LME | EFER_LMA)) == (EFER_LME | EFER_LMA),
	      "long mode: EFER.LME=1 LMA=1 before leaving");
	build_tables();

	modes_run();

	uint32_t e = rec(REC_EFER_COMPAT);
	check((e & (EFER_LME | EFER_LMA)) == (EFER_LME | EFER_LMA),
	      "compatibility mode: far return to a 32-bit CS, EFER.LMA still 1");
	e = rec(REC_EFER_PG0);
	check((e & (EFER_LME | EFER_LMA)) == EFER_LME,
	      "protected mode: CR0.PG=0 clears EFER.LMA, LME stays 1");
	e = rec(REC_EFER_LEGACY);
	check(!(e & (EFER_LME | EFER_LMA)) && (e & EFER_NXE) == (efer & EFER_NXE),
	      "protected mode: EFER.LME=0, NXE kept");
	uint32_t cr0 = rec(REC_CR0_PM);
	check((cr0 & (CR0_PE | CR0_PG)) == CR0_PE, "protected mode: CR0.PE=1 PG=0");

	cr0 = rmrec(RMREC_CR0);
	check(!(cr0 & (CR0_PE | CR0_PG)), "real mode: CR0.PE=0 PG=0");
	check((rmrec(RMREC_CS_RM) & 0xffff) == RM_SEG, "real mode: CS=0x%04x", RM_SEG);
	check(rmrec(RMREC_SEG1) == 0x12345678 && rmrec(RMREC_SEG2) == 0x12345678,
	      "real mode: 0700:0010, 0701:0000 and 06f1:0100 are one linear address");
	check(rmrec(RMREC_WRAP) == 0x12345678, "real mode: offset ffff+1 wraps to 0701:0000");
	uint32_t fl = rmrec(RMREC_FLAGS) & 0xffff, efl = rmrec(RMREC_EFL_IN);
	check((rmrec(RMREC_INTS) & 0xffff) == 1, "real mode: INT 0x%x through the IVT at 0x%x ran the handler once",
	      RM_INT, RM_IVT);
	check((rmrec(RMREC_IP) & 0xffff) == (uint32_t)(rm_after_int - rm_start) &&
		      (rmrec(RMREC_CS) & 0xffff) == RM_SEG,
	      "real mode: INT pushed CS:IP of the next instruction");
	check((rmrec(RMREC_SP_OUT) & 0xffff) - (rmrec(RMREC_SP_IN) & 0xffff) == 6 && (fl & FL_CF),
	      "real mode: INT pushed 6 bytes, FLAGS with CF=1");
	check(!(efl & (FL_IF | FL_TF | FL_AC)) && (efl & FL_CF),
	      "real mode: in the handler IF=0 TF=0 AC=0, CF kept");

	cr0 = rec(REC_CR0_PM2);
	check((cr0 & (CR0_PE | CR0_PG)) == CR0_PE && rec(REC_CS_PM2) == SEL_CODE32,
	      "protected mode again: CR0.PE=1, CS=0x%x after the far jump", SEL_CODE32);
	check((rec(REC_CR4_PG32) & (CR4_PSE | CR4_PAE)) == CR4_PSE,
	      "32-bit paging: CR4.PSE=1 PAE=0");
	check(rec(REC_PG32_4K) == MAGIC_B, "32-bit paging: 4 KiB page 0x%08x -> 0x%08x", VA_4K, FRAME_B);
	check(rec(REC_PG32_BIG) == MAGIC_A && rec(REC_PG32_BIG1) == MAGIC_B,
	      "32-bit paging: 4 MiB page 0x%08x -> 0x%08x", VA_BIG, FRAME_A);
	check((modes_pd32[2] & PG_A) && (modes_pd32[1] & PG_A) && !(modes_pd32[3] & PG_A),
	      "32-bit paging: A set in the PDEs used, not in others");
	check(rec(REC_CR4_PAE) & CR4_PAE, "PAE paging: CR4.PAE set with CR0.PG=1");
	check(rec(REC_PAE_4K) == MAGIC_A, "PAE paging: 4 KiB page 0x%08x -> 0x%08x (new tables)",
	      VA_4K, FRAME_A);
	check(rec(REC_PAE_BIG) == MAGIC_A, "PAE paging: 2 MiB page 0x%08x -> 0x%08x", VA_BIG, FRAME_A);
	if (modes_nx)
		check(rec(REC_PF_COUNT) == 1 && !rec(REC_NX_RAN) && rec(REC_PF_ERR) == 0x11 &&
			      rec(REC_PF_CR2) == VA_NX && rec(REC_PF_EIP) == VA_NX,
		      "PAE paging: fetch from an XD page: #PF error 0x%x (P|I/D) at 0x%08x",
		      rec(REC_PF_ERR), rec(REC_PF_CR2));
	else
		guest_printf("PAE paging: no execute-disable (CPUID.80000001H:EDX[20]=0)\n");

	e = rec(REC_EFER_LONG);
	check((e & (EFER_LME | EFER_LMA)) == (EFER_LME | EFER_LMA) && rec(REC_CS_LONG) == SEL_CODE64,
	      "long mode again: EFER.LMA=1, CS=0x%x", SEL_CODE64);
	efer = msr_read(0xc0000080);
	check((efer & (EFER_LME | EFER_LMA)) == (EFER_LME | EFER_LMA) &&
		      *(volatile uint32_t *)(uintptr_t)FRAME_A == MAGIC_A,
	      "long mode again: C code runs on the runtime's tables");

	guest_printf("modes: %s\n", bad ? "MISMATCH" : "all match the SDM");
	return bad ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
