/*
 * emulate.h — the x86 instruction engine: one decoder, one executor.
 *
 * Two users share it (ARCHITECTURE §7): hw/ runs every guest instruction
 * through it, and the hypervisor emulates single instructions with it
 * (MMIO, writes to write-protected page tables). Neither the decoder nor
 * the executor touches anything but the state in struct emu_cpu and the
 * callbacks in struct emu_ops; the caller embeds struct emu_ctx in its own
 * vcpu structure and recovers it in the callbacks with container_of().
 *
 * Life of an instruction:
 *   emu_decode()   bytes -> struct emu_insn (pure, no state; cacheable)
 *   emu_execute()  struct emu_insn + cpu state + ops -> result
 *   emu_step()     fetch through ops, decode (through the cache when
 *                  configured), execute: what an interpreter loop calls.
 *
 * Addresses. The executor applies segmentation (base, limit and type
 * checks, canonical checks in 64-bit mode) itself and hands the ops
 * *linear* addresses; paging, the TLB and physical memory belong to the
 * caller. Ops return EMU_CONTINUE on success or another enum emu_result
 * value, which the executor propagates unchanged after abandoning the
 * instruction (architectural state is only committed once every access
 * that can fault has succeeded, except where the SDM itself allows
 * partial completion: string instructions, PUSHA/POPA stack writes).
 */
#ifndef HVLAB_EMULATE_H
#define HVLAB_EMULATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ registers */

/* GPR numbers as ModRM/REX encode them. */
enum emu_gpr {
	EMU_RAX, EMU_RCX, EMU_RDX, EMU_RBX, EMU_RSP, EMU_RBP, EMU_RSI, EMU_RDI,
	EMU_R8, EMU_R9, EMU_R10, EMU_R11, EMU_R12, EMU_R13, EMU_R14, EMU_R15,
	EMU_NR_GPRS
};

/* Segment registers in the Sreg encoding order (SDM Vol. 2 3.1.1.3). */
enum emu_sreg { EMU_ES, EMU_CS, EMU_SS, EMU_DS, EMU_FS, EMU_GS, EMU_NR_SREGS };

/* RFLAGS bits (SDM Vol. 1 3.4.3). */
#define EMU_FLAG_CF   (1u << 0)
#define EMU_FLAG_FIXED (1u << 1)	/* reads as 1 */
#define EMU_FLAG_PF   (1u << 2)
#define EMU_FLAG_AF   (1u << 4)
#define EMU_FLAG_ZF   (1u << 6)
#define EMU_FLAG_SF   (1u << 7)
#define EMU_FLAG_TF   (1u << 8)
#define EMU_FLAG_IF   (1u << 9)
#define EMU_FLAG_DF   (1u << 10)
#define EMU_FLAG_OF   (1u << 11)
#define EMU_FLAG_IOPL (3u << 12)
#define EMU_FLAG_NT   (1u << 14)
#define EMU_FLAG_RF   (1u << 16)
#define EMU_FLAG_VM   (1u << 17)
#define EMU_FLAG_AC   (1u << 18)
#define EMU_FLAG_VIF  (1u << 19)
#define EMU_FLAG_VIP  (1u << 20)
#define EMU_FLAG_ID   (1u << 21)
#define EMU_FLAGS_ARITH (EMU_FLAG_CF | EMU_FLAG_PF | EMU_FLAG_AF | \
			 EMU_FLAG_ZF | EMU_FLAG_SF | EMU_FLAG_OF)

/* Control-register bits the executor itself consults. */
#define EMU_CR0_PE (1ull << 0)
#define EMU_CR0_TS (1ull << 3)
#define EMU_CR0_AM (1ull << 18)
#define EMU_CR4_TSD (1ull << 2)
#define EMU_CR4_UMIP (1ull << 11)
#define EMU_EFER_SCE (1ull << 0)
#define EMU_EFER_LMA (1ull << 10)

/*
 * A segment register with its hidden part. The access rights use the
 * VMCS layout (SDM Vol. 3C 24.4.1, Table 24-2): type[3:0] S[4] DPL[6:5]
 * P[7] AVL[12] L[13] D/B[14] G[15] unusable[16]. The limit is the
 * expanded byte limit (G already applied).
 */
struct emu_segment {
	uint64_t base;
	uint32_t limit;
	uint32_t ar;
	uint16_t sel;
};

#define EMU_AR_TYPE(ar)  ((ar) & 0xf)
#define EMU_AR_S         (1u << 4)
#define EMU_AR_DPL(ar)   (((ar) >> 5) & 3)
#define EMU_AR_P         (1u << 7)
#define EMU_AR_L         (1u << 13)
#define EMU_AR_DB        (1u << 14)
#define EMU_AR_G         (1u << 15)
#define EMU_AR_UNUSABLE  (1u << 16)

struct emu_dtable {
	uint64_t base;
	uint16_t limit;
};

/*
 * The state the executor reads and writes directly. Everything else
 * (CR2/CR3/CR8, DRs, MSRs, the APIC, paging) is reached through ops.
 * cr0, cr4 and efer are read-only to the executor: MOV to CR and WRMSR go
 * through ops, which update these copies.
 */
struct emu_cpu {
	uint64_t gpr[EMU_NR_GPRS];
	uint64_t rip;
	uint64_t rflags;
	struct emu_segment seg[EMU_NR_SREGS];
	struct emu_segment ldtr, tr;
	struct emu_dtable gdtr, idtr;
	uint64_t cr0, cr4, efer;
	uint8_t cpl;
};

/* ------------------------------------------------------------ decoding */

/* Code size of the current code segment: the decoder's only input. */
enum emu_mode {
	EMU_MODE_16,	/* real mode, vm86, 16-bit protected (CS.D = 0) */
	EMU_MODE_32,	/* 32-bit protected or compatibility (CS.D = 1) */
	EMU_MODE_64,	/* 64-bit mode (EFER.LMA = 1, CS.L = 1) */
};

#define EMU_MAX_INSN_LEN 15
#define EMU_NOREG 0xff		/* no base / no index */
#define EMU_REG_RIP 16		/* base register value for RIP-relative */

/* Operations: one per handler, generated from opcodes.def. */
enum emu_op {
	EMU_OP_INVALID,
#define INSN(name, mnem) EMU_OP_##name,
#include "emulate/opcodes.def"
	EMU_NR_OPS
};

/* emu_insn.flags */
#define EMU_I_MODRM   (1u << 0)	/* has a ModRM byte */
#define EMU_I_MEM     (1u << 1)	/* ModRM.rm (or moffs) names memory */
#define EMU_I_REX     (1u << 2)	/* a REX prefix was present (byte regs) */
#define EMU_I_LOCK    (1u << 3)	/* F0 */
#define EMU_I_REP     (1u << 4)	/* F3 (REP/REPE) */
#define EMU_I_REPNE   (1u << 5)	/* F2 (REPNE) */
#define EMU_I_SEGOVR  (1u << 6)	/* an explicit segment override */
#define EMU_I_MOFFS   (1u << 7)	/* memory operand is the absolute imm */

/* Where an operand lives (emu_insn.dst, emu_insn.src). */
enum emu_loc {
	EMU_LOC_NONE,
	EMU_LOC_REG,	/* GPR insn.reg */
	EMU_LOC_RM,	/* GPR insn.rm, or memory when EMU_I_MEM */
	EMU_LOC_IMM,	/* insn.imm */
	EMU_LOC_ACC,	/* rAX (AL/AX/EAX/RAX) */
	EMU_LOC_CL,	/* CL: shift and rotate counts */
	EMU_LOC_DX,	/* DX: port numbers */
};

/*
 * A decoded instruction: 32 bytes, no pointers, position-independent
 * (relative branch targets are kept as displacements). A cache may copy
 * it freely. The operation names the handler; dst/src say where its
 * operands live, so one handler serves every encoding of an operation.
 */
struct emu_insn {
	uint16_t op;		/* enum emu_op (emulate/opcodes.def) */
	uint8_t len;		/* 1..15 */
	uint8_t flags;		/* EMU_I_* */
	uint8_t opsize;		/* operand size in bytes: 1, 2, 4, 8 */
	uint8_t adsize;		/* address size in bytes: 2, 4, 8 */
	uint8_t seg;		/* segment of the memory operand (enum emu_sreg) */
	uint8_t reg;		/* ModRM.reg (+REX.R), or the +r opcode register */
	uint8_t rm;		/* ModRM.rm (+REX.B) when it names a register */
	uint8_t base;		/* memory operand: base GPR, EMU_REG_RIP, EMU_NOREG */
	uint8_t index;		/* memory operand: index GPR or EMU_NOREG */
	uint8_t scale;		/* memory operand: index shift, 0..3 */
	uint8_t dst, src;	/* enum emu_loc */
	uint8_t nops;		/* operands in Intel syntax (what a disassembler shows) */
	uint8_t opcode;		/* last opcode byte (condition codes, forms) */
	int32_t disp;		/* memory displacement or branch displacement */
	uint32_t imm2;		/* second immediate: ENTER level, far selector */
	uint64_t imm;		/* immediate, sign- or zero-extended per form */
};

/* emu_decode() failures (negative return values). */
enum emu_decode_error {
	EMU_DEC_UD = 1,		/* undefined or unsupported opcode: #UD */
	EMU_DEC_TOOLONG,	/* more than 15 bytes: #GP(0) */
	EMU_DEC_SHORT,		/* ran out of bytes before the end: fetch more */
};

/*
 * Decode one instruction from @bytes (@avail of them are readable).
 * Returns its length (1..15) or -EMU_DEC_*. With -EMU_DEC_SHORT, the
 * caller fetches more bytes (up to 15) and decodes again; only when
 * no more can be fetched does the fetch fault become the answer.
 */
int emu_decode(const uint8_t *bytes, size_t avail, enum emu_mode mode,
	       struct emu_insn *insn);

/* The mnemonic of a decoded instruction (lower case, Intel). */
const char *emu_op_name(unsigned op);

/* ------------------------------------------------------------ results */

enum emu_result {
	EMU_CONTINUE = 0,	/* done; rip points at the next instruction */
	EMU_EXCEPTION,		/* ctx->exc holds the event to deliver */
	EMU_IO_NEEDED,		/* an op needs the VMM to complete an I/O or
				 * MMIO access; re-execute the instruction
				 * after the VMM has completed it */
	EMU_STOP,		/* an op ended the instruction early on its
				 * own account (e.g. a VM exit); state is as
				 * the op left it, rip not advanced */
	EMU_HALT,		/* HLT retired: rip advanced, cpu halted */
	EMU_UNHANDLEABLE,	/* ctx->unhandleable says why */
};

/* Exception vectors (SDM Vol. 3A 6.3.1). */
enum emu_vector {
	EMU_EXC_DE = 0, EMU_EXC_DB = 1, EMU_EXC_NMI = 2, EMU_EXC_BP = 3,
	EMU_EXC_OF = 4, EMU_EXC_BR = 5, EMU_EXC_UD = 6, EMU_EXC_NM = 7,
	EMU_EXC_DF = 8, EMU_EXC_TS = 10, EMU_EXC_NP = 11, EMU_EXC_SS = 12,
	EMU_EXC_GP = 13, EMU_EXC_PF = 14, EMU_EXC_MF = 16, EMU_EXC_AC = 17,
	EMU_EXC_MC = 18, EMU_EXC_XM = 19,
};

/* What kind of event an EMU_EXCEPTION result is. */
enum emu_event_kind {
	EMU_EVENT_FAULT,	/* rip at the faulting instruction */
	EMU_EVENT_TRAP,		/* rip after the instruction (INTO, INT3) */
	EMU_EVENT_SOFTINT,	/* INT n: rip after the instruction */
};

struct emu_exception {
	uint8_t vector;
	uint8_t kind;		/* enum emu_event_kind */
	bool has_error_code;
	uint32_t error_code;
	uint64_t cr2;		/* #PF: the faulting linear address */
	uint64_t dr6;		/* #DB: the DR6 bits it reports (BD for a
				 * MOV DR under DR7.GD, SDM Vol. 3B 18.2.4);
				 * the caller merges them into DR6 when it
				 * delivers the #DB. 0 for every other event. */
	uint8_t insn_len;	/* length of the instruction that raised it
				 * (0 when no instruction did): what a
				 * hypervisor re-injecting INT3/INTO/INT n
				 * needs (VM-exit instruction length, nRIP) */
};

/* --------------------------------------------------------------- ops */

/* Access flags for memory ops. */
#define EMU_ACC_WRITE (1u << 0)	/* a write (or the read of a read-modify-write) */
#define EMU_ACC_FETCH (1u << 1)	/* an instruction fetch */
#define EMU_ACC_SYS   (1u << 2)	/* implicit supervisor access (GDT, IDT, TSS) */

struct emu_ctx;

/*
 * The executor's window on everything outside struct emu_cpu. Memory ops
 * take linear addresses and may fault by calling emu_raise_pf() (or
 * emu_raise()) and returning EMU_EXCEPTION. Accesses may be unaligned
 * and may cross a page boundary; the op splits them.
 *
 * Required: read, write, fetch. Others may be NULL: the instruction that
 * needs a missing op raises #UD (or returns EMU_UNHANDLEABLE for state
 * that has no architectural fallback).
 */
struct emu_ops {
	/* Memory. */
	int (*read)(struct emu_ctx *ctx, uint64_t la, void *buf, unsigned size,
		    unsigned acc);
	int (*write)(struct emu_ctx *ctx, uint64_t la, const void *buf,
		     unsigned size, unsigned acc);
	/* Atomic compare-exchange for LOCKed read-modify-writes and
	 * CMPXCHG: if memory equals *old, store *new; in both cases leave
	 * the value read in *old. NULL: read + compare + write. */
	int (*cmpxchg)(struct emu_ctx *ctx, uint64_t la, void *old,
		       const void *new, unsigned size);
	int (*fetch)(struct emu_ctx *ctx, uint64_t la, void *buf, unsigned size);

	/* Port I/O, after the executor's protection check (IOPL/CPL and
	 * the TSS I/O permission bitmap, SDM Vol. 1 19.5). */
	int (*pio_in)(struct emu_ctx *ctx, uint16_t port, void *val, unsigned size);
	int (*pio_out)(struct emu_ctx *ctx, uint16_t port, const void *val,
		       unsigned size);

	/* Control and debug registers (after the CPL 0 check). */
	int (*get_cr)(struct emu_ctx *ctx, unsigned cr, uint64_t *val);
	int (*set_cr)(struct emu_ctx *ctx, unsigned cr, uint64_t val);
	int (*get_dr)(struct emu_ctx *ctx, unsigned dr, uint64_t *val);
	int (*set_dr)(struct emu_ctx *ctx, unsigned dr, uint64_t val);

	/* MSRs, CPUID, time. */
	int (*rdmsr)(struct emu_ctx *ctx, uint32_t msr, uint64_t *val);
	int (*wrmsr)(struct emu_ctx *ctx, uint32_t msr, uint64_t val);
	int (*cpuid)(struct emu_ctx *ctx, uint32_t leaf, uint32_t subleaf,
		     uint32_t out[4]);
	int (*rdtsc)(struct emu_ctx *ctx, uint64_t *tsc);

	/* TLB and caches. */
	int (*invlpg)(struct emu_ctx *ctx, uint64_t la);
	int (*invpcid)(struct emu_ctx *ctx, unsigned type, uint64_t pcid,
		       uint64_t la);
	int (*cache_op)(struct emu_ctx *ctx, unsigned op);	/* enum emu_cache_op */

	/* Events the executor reports but does not model. */
	int (*halt)(struct emu_ctx *ctx);
	int (*hypercall)(struct emu_ctx *ctx);	/* VMCALL / VMMCALL */
	int (*pause)(struct emu_ctx *ctx);
	/* STI or MOV SS/POP SS retired: block interrupts (and for SS also
	 * debug traps) until after the next instruction (SDM 6.8.3). */
	void (*set_shadow)(struct emu_ctx *ctx, bool mov_ss);
	/* Called after any write that changed segmentation or paging mode
	 * (CR0, EFER, CS load): the caller's decode mode may change. */
	void (*mode_changed)(struct emu_ctx *ctx);

	/* Decode cache key (optional). The key of the code at linear @la,
	 * e.g. its physical address after the fetch's translation: blocks
	 * are then cached by that key, so they survive changes of the
	 * linear mapping, and the caller invalidates pages by key when they
	 * are written. Return false (with no side effects) when @la cannot
	 * be translated for a fetch now: the instruction is then fetched
	 * uncached, which raises the fault in its architectural order.
	 * NULL: blocks are keyed by linear address. */
	bool (*code_key)(struct emu_ctx *ctx, uint64_t la, uint64_t *key);

	/* IRET passed every check and is about to retire (optional):
	 * called once per successful IRET, never for one that faults or
	 * becomes a task switch. hw/ unblocks NMIs here (SDM Vol. 3A 6.7.1). */
	void (*iret)(struct emu_ctx *ctx);

	/* Instructions a virtualization layer intercepts (exec_virt.c);
	 * NULL: the CPU lacks the instruction, #UD. Each is called after
	 * the instruction's mode and privilege checks, so the op's own
	 * intercept check comes after them (SDM Vol. 3C 26.1.1). RDPMC:
	 * after the CR4.PCE/CPL check; *val is the counter ECX selects, or
	 * raise #GP(0). */
	int (*rdpmc)(struct emu_ctx *ctx, uint32_t ecx, uint64_t *val);
	/* MONITOR after its #UD, segmentation and ECX checks: arm the
	 * monitor at linear @la (DS:rAX); @ecx is 0 (no extension is
	 * defined), @edx the hints. */
	int (*monitor)(struct emu_ctx *ctx, uint64_t la, uint32_t ecx,
		       uint32_t edx);
	/* MWAIT after its #UD and ECX[31:1] checks: @eax hints, @ecx bit 0
	 * (interrupts as break events: raise #GP(0) if unsupported).
	 * EMU_CONTINUE resumes after MWAIT; EMU_HALT waits, with rip
	 * already past MWAIT as for HLT. */
	int (*mwait)(struct emu_ctx *ctx, uint32_t eax, uint32_t ecx);
	/* The VMX instructions other than VMCALL and the SVM instructions
	 * other than VMMCALL, after the #UD the manuals raise for the mode
	 * (real mode, vm86; VMX also compatibility mode). insn->op says
	 * which (EMU_OP_VMLAUNCH ... EMU_OP_INVLPGA); the op does the rest:
	 * #UD outside VMX operation or with EFER.SVME = 0, VM exits, #GP,
	 * operands, effects. */
	int (*virt_insn)(struct emu_ctx *ctx, const struct emu_insn *insn);
	/* Intercept check of an instruction with no op of its own (enum
	 * emu_icpt), called once after its #UD and privilege checks and
	 * before any memory access or state change ("instruction
	 * intercepts are checked after simple exceptions ... but before
	 * exceptions related to memory accesses", APM Vol. 2 15.7).
	 * EMU_CONTINUE carries on; any other result is the instruction's,
	 * with nothing changed. NULL: nothing intercepts. */
	int (*intercept)(struct emu_ctx *ctx, unsigned what);
	/* DR7.GD for MOV DR's general-detect check (SDM Vol. 3B 17.2.4),
	 * read without the side effects of a MOV from DR7 (an intercept).
	 * NULL: the check reads DR7 through get_dr. */
	bool (*dr7_gd)(struct emu_ctx *ctx);
};

enum emu_cache_op { EMU_CACHE_WBINVD, EMU_CACHE_INVD, EMU_CACHE_CLFLUSH };

/* Task-switch sources (emu_ctx.task_switch.source), numbered as the VMX
 * exit qualification's bits 31:30. */
enum { EMU_TS_CALL = 0, EMU_TS_IRET = 1, EMU_TS_JMP = 2, EMU_TS_GATE = 3 };

struct emu_dcache;

/*
 * The front TLB (optional): a direct-mapped cache of linear pages the
 * caller has already translated and checked, consulted inline before the
 * read and write ops for plain data accesses (not fetches, not implicit
 * system accesses) that stay within one page. The caller fills and
 * invalidates it; the engine only reads it and counts hits.
 *
 * An entry matches when its tag equals (la & ~0xfff) | key, where key is
 * emu_tlb_key(): the access context the caller's permission check
 * depended on. A read hit needs read_tag, a write hit write_tag (so
 * does the read of a read-modify-write); host memory of the page is at
 * addend + la. Write entries must never cover a page holding decoded
 * code: stores through them bypass the ops, so the caller could not
 * drop that code.
 */
#define EMU_TLB_BITS 8
#define EMU_TLB_SIZE (1u << EMU_TLB_BITS)
#define EMU_TLB_INVALID (~0ull)

struct emu_tlb_entry {
	uint64_t read_tag;
	uint64_t write_tag;
	uintptr_t addend;
};

struct emu_ctx;
/* The key of the current access context: user (CPL 3) or supervisor,
 * and for supervisor accesses RFLAGS.AC, which SMAP consults. Defined
 * after struct emu_ctx below. */
static inline uint64_t emu_tlb_key(const struct emu_ctx *ctx);

/* The execution context: embed it in the caller's vcpu. */
struct emu_ctx {
	struct emu_cpu cpu;
	const struct emu_ops *ops;
	struct emu_dcache *dcache;	/* NULL: decode every time */
	struct emu_tlb_entry *tlb;	/* EMU_TLB_SIZE entries, or NULL */
	uint64_t tlb_hits;		/* accesses the front TLB served */
	/* code_key results are reused for the same linear page while the
	 * caller leaves key_epoch alone; it bumps it whenever a key it gave
	 * may have changed (a translation dropped, a privilege change, a
	 * page's decoded code dropped). */
	uint64_t key_epoch;
	uint64_t key_page_la, key_page, key_page_epoch;
	struct emu_exception exc;	/* valid after EMU_EXCEPTION */
	const char *unhandleable;	/* valid after EMU_UNHANDLEABLE */
	/* After EMU_UNHANDLEABLE for a task switch (the engine does not
	 * perform them): what started it and the TSS selector it targets,
	 * as a VM exit reports them (SDM Vol. 3C 28.2.1, Table 28-2). The
	 * caller clears valid. */
	struct {
		bool valid;
		uint8_t source;		/* EMU_TS_* */
		uint16_t sel;
	} task_switch;
	uint64_t icount;		/* instructions retired by emu_step() and
					 * emu_run(), kept current as they run:
					 * an op sees the count before the
					 * instruction it is called from */
	/* REP string instructions run at most this many iterations per
	 * emu_execute() (0: until done) and then return EMU_CONTINUE with
	 * rip still at the instruction, so the caller can take interrupts
	 * between iterations (SDM Vol. 2B REP: "interruptible"). */
	uint32_t rep_limit;
	/* emu_run() returns after the first instruction outside the plain
	 * arithmetic, data-movement, branch, stack and string set (exec.c's
	 * simple[]): only such instructions (STI, POPF, IRET, SYSRET, MOV
	 * CR8, ...) can open RFLAGS.IF, end NMI blocking or lower the TPR,
	 * so a caller holding an event that those block runs whole batches
	 * and still takes it at the first boundary where it may. */
	bool stop_after_system;

	/* Executor scratch, valid during emu_execute(). */
	const struct emu_insn *insn;	/* the instruction executing (ops
					 * that model intercepts read it) */
	uint64_t op_src;		/* LMSW: its source operand, for ops */
	uint64_t next_rip;		/* rip after this instruction */
	enum emu_mode mode;		/* decode mode of this instruction */
	/* Lazy arithmetic flags (executor-private): while instructions run,
	 * CF/PF/AF/ZF/SF/OF may be kept as the last flag-setting operation
	 * and its operands instead of in cpu.rflags. Every API call returns
	 * with them folded back into cpu.rflags; ops called in the middle of
	 * an instruction must not read those six bits. */
	struct {
		uint64_t a, b, res;
		uint8_t op, size;
	} lf;
};

static inline uint64_t emu_tlb_key(const struct emu_ctx *ctx)
{
	return ctx->cpu.cpl == 3 ? 1 : (ctx->cpu.rflags & EMU_FLAG_AC) ? 2 : 0;
}

/* ------------------------------------------------------------ execution */

/* The decode mode implied by CR0.PE, EFER.LMA, CS.L and CS.D. */
enum emu_mode emu_cpu_mode(const struct emu_cpu *cpu);

/* Execute @insn at cpu.rip. */
int emu_execute(struct emu_ctx *ctx, const struct emu_insn *insn);

/* Fetch, decode (via ctx->dcache if set) and execute one instruction. */
int emu_step(struct emu_ctx *ctx);

/*
 * Run up to @max instructions as emu_step() would, without returning in
 * between: the interpreter loop. Returns the first result other than
 * EMU_CONTINUE (that instruction's effects as emu_step() describes), or
 * EMU_CONTINUE once @max instructions have retired. ctx->icount counts
 * them either way.
 */
int emu_run(struct emu_ctx *ctx, uint64_t max);

/* Fill ctx->exc and return EMU_EXCEPTION, for ops and the executor. */
int emu_raise(struct emu_ctx *ctx, unsigned vector, bool has_error,
	      uint32_t error_code);
int emu_raise_pf(struct emu_ctx *ctx, uint64_t la, uint32_t error_code);

/* Reset @cpu to the architectural power-on state (SDM Vol. 3A 9.1.1). */
void emu_cpu_reset(struct emu_cpu *cpu);

/* ------------------------------------------------------------ decode cache */

#ifdef CONFIG_EMU_DECODE_CACHE
/*
 * The decode cache: blocks of decoded instructions keyed by linear
 * address (or by ops->code_key) and mode, used by emu_step() and
 * emu_run() when ctx->dcache is set. 2^bits blocks (6..16) of up to 16
 * instructions each. The caller keeps it coherent: invalidate a page
 * (by key) whenever it is written and, with linear keys, flush when the
 * linear-to-physical mapping of code changes.
 */
struct emu_dcache *emu_dcache_create(unsigned bits);
void emu_dcache_destroy(struct emu_dcache *dc);
void emu_dcache_invalidate_page(struct emu_dcache *dc, uint64_t page_addr);
void emu_dcache_flush(struct emu_dcache *dc);
#endif

/* ------------------------------------------------------------ event delivery */

/*
 * Event types, numbered as the VMX interruption type (SDM Vol. 3C
 * 25.8.3, VM-entry interruption-information field bits 10:8), so hw/
 * passes VMCS and VMCB events straight through. The type decides the
 * EXT bit of the error codes delivery itself raises (SDM Vol. 3A 6.13:
 * 0 only for INT n, INT3 and INTO) and whether the gate DPL is checked
 * (the same three).
 */
enum emu_event_type {
	EMU_EVENT_TYPE_EXT_INT = 0,	/* external interrupt */
	EMU_EVENT_TYPE_NMI = 2,
	EMU_EVENT_TYPE_HW_EXC = 3,	/* hardware exception, fault or trap */
	EMU_EVENT_TYPE_SOFT_INT = 4,	/* INT n */
	EMU_EVENT_TYPE_PRIV_SOFT_EXC = 5, /* INT1 (ICEBP) */
	EMU_EVENT_TYPE_SOFT_EXC = 6,	/* INT3, INTO */
};

struct emu_event {
	uint8_t vector;
	uint8_t type;		/* enum emu_event_type */
	bool has_error_code;	/* push error_code (real mode never does) */
	uint32_t error_code;
};

/*
 * Deliver @ev through the IDT (the IVT in real mode) as the current
 * mode does: SDM Vol. 3A 6.12 (protected mode), 6.14 (IA-32e mode),
 * 20.1.4 (real mode), 20.3.1 (from vm86); Vol. 2A INT n "Operation".
 * The caller arranges what is pushed: cpu.rip is the return address
 * (a fault's instruction; the next one for traps and software
 * interrupts) and cpu.rflags the image, with RF already set where SDM
 * Vol. 3B 18.3.1.1 says the image carries RF = 1 (faults other than an
 * instruction breakpoint; events between REP iterations).
 *
 * EMU_CONTINUE: the handler's CS:rIP, SS:rSP, RFLAGS and CPL are
 * loaded, and ops->mode_changed was called. EMU_EXCEPTION: ctx->exc is
 * the fault delivery itself raised (selector error codes carry EXT);
 * registers are as they were (stack memory below rSP may have been
 * written); the caller applies the #DF rules (SDM Vol. 3A Table 6-5).
 * EMU_UNHANDLEABLE: a task gate ("task switch") or INT n in vm86 with
 * CR4.VME (the redirection bitmap), neither of which is modelled.
 */
int emu_deliver(struct emu_ctx *ctx, const struct emu_event *ev);

/* The event that delivers an EMU_EXCEPTION result (ctx->exc): faults
 * are hardware exceptions, INT n a software interrupt, INT3/INTO
 * software exceptions and INT1 a privileged software exception. */
void emu_exc_to_event(const struct emu_exception *exc, struct emu_event *ev);

/* ------------------------------------------------------------ intercepts */

/*
 * What ops->intercept is asked about: the instructions SVM intercepts
 * by their own bit (APM Vol. 2 15.7, VMCB offsets 00Ch-010h) that have
 * no op to carry the check; VMX's descriptor-table exiting (SDM Vol. 3C
 * 26.1.3) covers the table ones. RSM is not in the engine's ISA; INVD,
 * HLT, CPUID and the like reach hw/ through their ops. The intercept of
 * INT n and PUSHF/POPF/IRET in vm86 with IOPL < 3 comes after their
 * #GP(0).
 */
enum emu_icpt {
	EMU_ICPT_PUSHF,
	EMU_ICPT_POPF,
	EMU_ICPT_IRET,
	EMU_ICPT_INTN,		/* INT n (CD ib) */
	EMU_ICPT_ICEBP,		/* INT1 (F1) */
	EMU_ICPT_SIDT,
	EMU_ICPT_SGDT,
	EMU_ICPT_SLDT,
	EMU_ICPT_STR,
	EMU_ICPT_LIDT,
	EMU_ICPT_LGDT,
	EMU_ICPT_LLDT,
	EMU_ICPT_LTR,
	EMU_ICPT_INVPCID,	/* before its descriptor is read */
	EMU_ICPT_LMSW,		/* before a memory source is read */
	EMU_ICPT_OUTS,		/* before the source is read (port in DX) */
	EMU_ICPT_MONITOR,	/* after #UD, before the address and ECX checks */
	EMU_ICPT_MWAIT,		/* after #UD, before the ECX check */
	EMU_NR_ICPTS
};

/* For the executor's handlers: ask ops->intercept, if there is one. */
static inline int emu_intercept(struct emu_ctx *ctx, enum emu_icpt what)
{
	return ctx->ops->intercept ? ctx->ops->intercept(ctx, what) : EMU_CONTINUE;
}

#endif /* HVLAB_EMULATE_H */
