/*
 * sys.h — system-level helpers shared by the executor's files: segment
 * descriptors and segment register loads (seg.c, desc.c), and the I/O
 * protection check (io.c).
 *
 * Descriptors (SDM Vol. 3A 3.4.5, Figure 3-8): a legacy descriptor is two
 * dwords; struct emu_desc keeps them raw, plus bits 63:32 of the base of a
 * 16-byte system descriptor in IA-32e mode (SDM Vol. 3A 7.2.3, Figure 7-4)
 * and the descriptor's linear address, so the accessed and busy bits can
 * be written back. Selector error codes (SDM Vol. 3A 6.13) are the
 * selector with RPL cleared: index, TI, and IDT = EXT = 0.
 */
#ifndef HVLAB_EMULATE_SYS_H
#define HVLAB_EMULATE_SYS_H

#include "emulate/exec.h"

/* Load segment register @sreg with selector @sel (MOV/POP Sreg, LxS),
 * with the descriptor checks of the current mode. */
int emu_load_sreg(struct emu_ctx *ctx, unsigned sreg, uint16_t sel);

/* May the current code access @size bytes at I/O port @port?
 * EMU_CONTINUE or #GP(0) (SDM Vol. 1 19.5). */
int emu_io_check(struct emu_ctx *ctx, uint16_t port, unsigned size);

/* ------------------------------------------------------------ descriptors */

struct emu_desc {
	uint32_t lo, hi;	/* bytes 0-3 and 4-7 */
	uint32_t base_hi;	/* bytes 8-11 of a 16-byte descriptor, else 0 */
	uint64_t la;		/* where it was read from */
};

#define EMU_SEL_RPL(sel)  ((sel) & 3u)
#define EMU_SEL_TI        4u
#define EMU_SEL_ERR(sel)  ((uint32_t)(sel) & 0xfffcu)

/* System descriptor types (S = 0; SDM Vol. 3A Table 3-2). */
enum {
	EMU_DT_TSS16_AVL = 1, EMU_DT_LDT = 2, EMU_DT_TSS16_BUSY = 3,
	EMU_DT_CALLGATE16 = 4, EMU_DT_TASKGATE = 5, EMU_DT_INTGATE16 = 6,
	EMU_DT_TRAPGATE16 = 7, EMU_DT_TSS_AVL = 9, EMU_DT_TSS_BUSY = 11,
	EMU_DT_CALLGATE = 12, EMU_DT_INTGATE = 14, EMU_DT_TRAPGATE = 15,
};

/* Code/data type bits (S = 1). */
#define EMU_TYPE_A    1u	/* accessed */
#define EMU_TYPE_RW   2u	/* data: writable; code: readable */
#define EMU_TYPE_CE   4u	/* data: expand-down; code: conforming */
#define EMU_TYPE_CODE 8u

/* Access rights in the emu_segment (VMCS) layout. */
static inline uint32_t emu_desc_ar(const struct emu_desc *d)
{
	return (d->hi >> 8) & 0xf0ff;
}

static inline unsigned emu_desc_dpl(const struct emu_desc *d)
{
	return (d->hi >> 13) & 3;
}

static inline bool emu_desc_present(const struct emu_desc *d)
{
	return d->hi & (1u << 15);
}

static inline bool emu_desc_is_code(const struct emu_desc *d)
{
	return (d->hi & (1u << 12)) && (d->hi & (EMU_TYPE_CODE << 8));
}

static inline bool emu_desc_is_data(const struct emu_desc *d)
{
	return (d->hi & (1u << 12)) && !(d->hi & (EMU_TYPE_CODE << 8));
}

static inline unsigned emu_desc_type(const struct emu_desc *d)
{
	return (d->hi >> 8) & 0xf;
}

static inline bool emu_desc_is_system(const struct emu_desc *d)
{
	return !(d->hi & (1u << 12));
}

/* Expanded byte limit (G applied). */
static inline uint32_t emu_desc_limit(const struct emu_desc *d)
{
	uint32_t lim = (d->lo & 0xffff) | (d->hi & 0xf0000);
	return (d->hi & (1u << 23)) ? (lim << 12) | 0xfff : lim;
}

static inline uint64_t emu_desc_base(const struct emu_desc *d)
{
	return (d->lo >> 16) | ((d->hi & 0xff) << 16) | (d->hi & 0xff000000u) |
	       ((uint64_t)d->base_hi << 32);
}

/* Fill a segment register from a descriptor. */
void emu_desc_to_seg(const struct emu_desc *d, uint16_t sel, struct emu_segment *s);

/*
 * Read the descriptor @sel names from the GDT or LDT. @wide: a 16-byte
 * system descriptor (IA-32e mode); the table limit must cover all of it
 * and the type field of its upper half must be 0. Faults: @vec(sel) when
 * the selector is outside the table, the LDT is unusable, or the upper
 * half is malformed; whatever the read op raises. The null selector is
 * the caller's business.
 */
int emu_read_desc(struct emu_ctx *ctx, uint16_t sel, bool wide, unsigned vec,
		  struct emu_desc *d);

/* The same lookup for LAR, LSL, VERR and VERW, which report a selector
 * they cannot use in ZF instead of faulting: *found says whether @d is
 * valid. Memory faults still propagate. */
int emu_probe_desc(struct emu_ctx *ctx, uint16_t sel, bool wide,
		   struct emu_desc *d, bool *found);

/* Set the accessed bit of a code/data descriptor in memory (if clear). */
int emu_desc_set_accessed(struct emu_ctx *ctx, struct emu_desc *d);

/* Raise @vec with the selector error code of @sel. */
static inline int emu_raise_sel(struct emu_ctx *ctx, unsigned vec, uint16_t sel)
{
	return emu_raise(ctx, vec, true, EMU_SEL_ERR(sel));
}

/* A null (unusable) segment register holding @sel (SDM Vol. 3A 3.4.2). */
void emu_null_seg(struct emu_segment *s, uint16_t sel);

/* Real mode / vm86 load: base = sel << 4 (vm86 also resets limit and
 * attributes, SDM Vol. 3A 20.1.1). */
void emu_real_seg(const struct emu_ctx *ctx, struct emu_segment *s, uint16_t sel);

/* Tell the caller the decode mode may have changed (CS, CR0, EFER). */
static inline void emu_mode_changed(struct emu_ctx *ctx)
{
	if (ctx->ops->mode_changed)
		ctx->ops->mode_changed(ctx);
}

static inline unsigned emu_iopl(const struct emu_ctx *ctx)
{
	return (ctx->cpu.rflags & EMU_FLAG_IOPL) >> 12;
}

/* Flat segments of SYSCALL/SYSENTER and friends; also emu_cpu_reset. */
#define EMU_AR_CODE64(dpl) (0xb | EMU_AR_S | ((dpl) << 5) | EMU_AR_P | EMU_AR_L | EMU_AR_G)
#define EMU_AR_CODE32(dpl) (0xb | EMU_AR_S | ((dpl) << 5) | EMU_AR_P | EMU_AR_DB | EMU_AR_G)
#define EMU_AR_DATA32(dpl) (0x3 | EMU_AR_S | ((dpl) << 5) | EMU_AR_P | EMU_AR_DB | EMU_AR_G)

/* More control-register bits the system instructions check. */
#define EMU_CR0_MP (1ull << 1)
#define EMU_CR0_EM (1ull << 2)
#define EMU_CR0_NW (1ull << 29)
#define EMU_CR0_CD (1ull << 30)
#define EMU_CR0_PG (1ull << 31)
#define EMU_CR4_VME (1ull << 0)
#define EMU_CR4_PVI (1ull << 1)
#define EMU_CR4_DE (1ull << 3)
#define EMU_CR4_PAE (1ull << 5)
#define EMU_CR4_PCIDE (1ull << 17)
#define EMU_EFER_LME (1ull << 8)

/* MSRs the executor itself reads or writes. */
#define EMU_MSR_SYSENTER_CS  0x174u
#define EMU_MSR_SYSENTER_ESP 0x175u
#define EMU_MSR_SYSENTER_EIP 0x176u
#define EMU_MSR_EFER         0xc0000080u
#define EMU_MSR_STAR         0xc0000081u
#define EMU_MSR_LSTAR        0xc0000082u
#define EMU_MSR_CSTAR        0xc0000083u
#define EMU_MSR_FMASK        0xc0000084u
#define EMU_MSR_FS_BASE      0xc0000100u
#define EMU_MSR_GS_BASE      0xc0000101u
#define EMU_MSR_KERNEL_GS_BASE 0xc0000102u
#define EMU_MSR_TSC_AUX      0xc0000103u

#endif
