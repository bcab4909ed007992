/*
 * vmcb.h — the virtual machine control block, byte for byte as AMD lays it
 * out (APM Vol. 2 Appendix B: Table B-1 control area at 0x000-0x3ff,
 * Table B-2 state-save area at 0x400), and the encodings a hypervisor
 * reads and writes in it: intercept bits (Table B-1), exit codes
 * (Appendix C), EVENTINJ/EXITINTINFO (15.20, 15.7.2), TLB_CONTROL
 * (15.16.1), the IOIO EXITINFO1 (15.10.2) and the VMCB clean bits
 * (15.15.3).
 *
 * A hypervisor fills a 4 KiB, 4 KiB-aligned page of host-physical memory
 * with this structure and hands its address to vmrun() (hw/svm.h). Every
 * field the model reads or writes is pinned by a static_assert below, so
 * a layout slip fails the build instead of a guest. Fields the model does
 * not implement (AVIC, SEV, CET, LBR stack) stay reserved bytes: a
 * hypervisor writing them has no effect, as on a processor without the
 * feature.
 *
 * Reserved fields must be zero ("MBZ" in the APM); VMRUN checks the ones
 * 15.5.1 lists (hw/svm_check.c).
 */
#ifndef HVLAB_HW_VMCB_H
#define HVLAB_HW_VMCB_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ control area */

struct vmcb_control {
	uint16_t intercept_cr_read;	/* 0x000: bit n = reads of CRn */
	uint16_t intercept_cr_write;	/* 0x002: bit n = writes of CRn */
	uint16_t intercept_dr_read;	/* 0x004: bit n = reads of DRn */
	uint16_t intercept_dr_write;	/* 0x006: bit n = writes of DRn */
	uint32_t intercept_exceptions;	/* 0x008: bit n = exception vector n */
	uint32_t intercept_misc1;	/* 0x00c: SVM_INTERCEPT_* */
	uint32_t intercept_misc2;	/* 0x010: SVM_INTERCEPT2_* */
	uint32_t intercept_misc3;	/* 0x014: SVM_INTERCEPT3_* */
	uint8_t rsvd_018[0x03c - 0x018];
	uint16_t pause_filter_thresh;	/* 0x03c */
	uint16_t pause_filter_count;	/* 0x03e */
	uint64_t iopm_base_pa;		/* 0x040: bits 11:0 ignored */
	uint64_t msrpm_base_pa;		/* 0x048: bits 11:0 ignored */
	uint64_t tsc_offset;		/* 0x050 */
	uint32_t guest_asid;		/* 0x058 */
	uint8_t tlb_control;		/* 0x05c: SVM_TLB_CONTROL_* */
	uint8_t rsvd_05d[3];
	uint8_t v_tpr;			/* 0x060: bits 3:0 virtual TPR */
	uint8_t v_irq;			/* 0x061: SVM_V_IRQ, SVM_V_GIF */
	uint8_t v_intr_prio;		/* 0x062: bits 3:0 priority, SVM_V_IGN_TPR */
	uint8_t v_intr_masking;		/* 0x063: SVM_V_INTR_MASKING */
	uint8_t v_intr_vector;		/* 0x064 */
	uint8_t rsvd_065[3];
	uint64_t int_state;		/* 0x068: SVM_INTERRUPT_SHADOW, SVM_GUEST_INTERRUPT_MASK */
	uint64_t exitcode;		/* 0x070: SVM_EXIT_* */
	uint64_t exitinfo1;		/* 0x078 */
	uint64_t exitinfo2;		/* 0x080 */
	uint64_t exitintinfo;		/* 0x088: SVM_EVTINJ_* layout */
	uint64_t np_enable;		/* 0x090: SVM_NP_ENABLE */
	uint8_t rsvd_098[0x0a8 - 0x098];	/* AVIC APIC_BAR, GHCB: not modeled */
	uint64_t eventinj;		/* 0x0a8: SVM_EVTINJ_* */
	uint64_t n_cr3;			/* 0x0b0: nested page table root */
	uint64_t lbr_virt;		/* 0x0b8: SVM_LBR_VIRT_ENABLE */
	uint32_t clean;			/* 0x0c0: SVM_CLEAN_* */
	uint32_t rsvd_0c4;
	uint64_t next_rip;		/* 0x0c8: nRIP (15.7.1) */
	uint8_t insn_len;		/* 0x0d0: bytes fetched (decode assist) */
	uint8_t insn_bytes[15];		/* 0x0d1 */
	uint8_t rsvd_0e0[0x400 - 0x0e0];	/* AVIC, VMSA pointers: not modeled */
};

/* ------------------------------------------------------------ state-save area */

/* A segment register with its hidden part (APM Vol. 2 15.5.1 "segment
 * state"): base and limit fully expanded, the attributes packed in 12
 * bits (SVM_ATTR_*); P = 0 marks a null segment. */
struct vmcb_seg {
	uint16_t selector;
	uint16_t attrib;
	uint32_t limit;
	uint64_t base;
};

/* The 12-bit attribute field: descriptor bits 47:40 then 55:52. */
#define SVM_ATTR_TYPE_MASK	0x00fu	/* bits 3:0 */
#define SVM_ATTR_S		(1u << 4)
#define SVM_ATTR_DPL_SHIFT	5	/* bits 6:5 */
#define SVM_ATTR_P		(1u << 7)
#define SVM_ATTR_AVL		(1u << 8)
#define SVM_ATTR_L		(1u << 9)
#define SVM_ATTR_DB		(1u << 10)
#define SVM_ATTR_G		(1u << 11)
#define SVM_ATTR_MASK		0xfffu

struct vmcb_save {
	struct vmcb_seg es;		/* 0x400 */
	struct vmcb_seg cs;		/* 0x410 */
	struct vmcb_seg ss;		/* 0x420 */
	struct vmcb_seg ds;		/* 0x430 */
	struct vmcb_seg fs;		/* 0x440 */
	struct vmcb_seg gs;		/* 0x450 */
	struct vmcb_seg gdtr;		/* 0x460: base and limit only */
	struct vmcb_seg ldtr;		/* 0x470 */
	struct vmcb_seg idtr;		/* 0x480: base and limit only */
	struct vmcb_seg tr;		/* 0x490 */
	uint8_t rsvd_4a0[0x4cb - 0x4a0];
	uint8_t cpl;			/* 0x4cb */
	uint32_t rsvd_4cc;
	uint64_t efer;			/* 0x4d0 */
	uint8_t rsvd_4d8[0x548 - 0x4d8];
	uint64_t cr4;			/* 0x548 */
	uint64_t cr3;			/* 0x550 */
	uint64_t cr0;			/* 0x558 */
	uint64_t dr7;			/* 0x560 */
	uint64_t dr6;			/* 0x568 */
	uint64_t rflags;		/* 0x570 */
	uint64_t rip;			/* 0x578 */
	uint8_t rsvd_580[0x5d8 - 0x580];
	uint64_t rsp;			/* 0x5d8 */
	uint8_t rsvd_5e0[0x5f8 - 0x5e0];	/* S_CET, SSP, ISST_ADDR: not modeled */
	uint64_t rax;			/* 0x5f8 */
	uint64_t star;			/* 0x600 */
	uint64_t lstar;			/* 0x608 */
	uint64_t cstar;			/* 0x610 */
	uint64_t sfmask;		/* 0x618 */
	uint64_t kernel_gs_base;	/* 0x620 */
	uint64_t sysenter_cs;		/* 0x628 */
	uint64_t sysenter_esp;		/* 0x630 */
	uint64_t sysenter_eip;		/* 0x638 */
	uint64_t cr2;			/* 0x640 */
	uint8_t rsvd_648[0x668 - 0x648];
	uint64_t g_pat;			/* 0x668: guest PAT under nested paging */
	uint64_t dbgctl;		/* 0x670 */
	uint64_t br_from;		/* 0x678 */
	uint64_t br_to;			/* 0x680 */
	uint64_t last_excp_from;	/* 0x688 */
	uint64_t last_excp_to;		/* 0x690 */
	uint8_t rsvd_698[0x1000 - 0x698];
};

struct vmcb {
	struct vmcb_control control;
	struct vmcb_save save;
};

#define VMCB_SIZE 4096u

/* Offsets as APM Vol. 2 Table B-1 and B-2 give them (from the VMCB start). */
#define VMCB_CHECK(field, off) \
	static_assert(offsetof(struct vmcb, field) == (off), "VMCB " #field)

VMCB_CHECK(control.intercept_cr_read, 0x000);
VMCB_CHECK(control.intercept_cr_write, 0x002);
VMCB_CHECK(control.intercept_dr_read, 0x004);
VMCB_CHECK(control.intercept_dr_write, 0x006);
VMCB_CHECK(control.intercept_exceptions, 0x008);
VMCB_CHECK(control.intercept_misc1, 0x00c);
VMCB_CHECK(control.intercept_misc2, 0x010);
VMCB_CHECK(control.intercept_misc3, 0x014);
VMCB_CHECK(control.pause_filter_thresh, 0x03c);
VMCB_CHECK(control.pause_filter_count, 0x03e);
VMCB_CHECK(control.iopm_base_pa, 0x040);
VMCB_CHECK(control.msrpm_base_pa, 0x048);
VMCB_CHECK(control.tsc_offset, 0x050);
VMCB_CHECK(control.guest_asid, 0x058);
VMCB_CHECK(control.tlb_control, 0x05c);
VMCB_CHECK(control.v_tpr, 0x060);
VMCB_CHECK(control.v_irq, 0x061);
VMCB_CHECK(control.v_intr_prio, 0x062);
VMCB_CHECK(control.v_intr_masking, 0x063);
VMCB_CHECK(control.v_intr_vector, 0x064);
VMCB_CHECK(control.int_state, 0x068);
VMCB_CHECK(control.exitcode, 0x070);
VMCB_CHECK(control.exitinfo1, 0x078);
VMCB_CHECK(control.exitinfo2, 0x080);
VMCB_CHECK(control.exitintinfo, 0x088);
VMCB_CHECK(control.np_enable, 0x090);
VMCB_CHECK(control.eventinj, 0x0a8);
VMCB_CHECK(control.n_cr3, 0x0b0);
VMCB_CHECK(control.lbr_virt, 0x0b8);
VMCB_CHECK(control.clean, 0x0c0);
VMCB_CHECK(control.next_rip, 0x0c8);
VMCB_CHECK(control.insn_len, 0x0d0);
VMCB_CHECK(control.insn_bytes, 0x0d1);
VMCB_CHECK(save, 0x400);
VMCB_CHECK(save.es, 0x400);
VMCB_CHECK(save.cs, 0x410);
VMCB_CHECK(save.ss, 0x420);
VMCB_CHECK(save.ds, 0x430);
VMCB_CHECK(save.fs, 0x440);
VMCB_CHECK(save.gs, 0x450);
VMCB_CHECK(save.gdtr, 0x460);
VMCB_CHECK(save.ldtr, 0x470);
VMCB_CHECK(save.idtr, 0x480);
VMCB_CHECK(save.tr, 0x490);
VMCB_CHECK(save.cpl, 0x4cb);
VMCB_CHECK(save.efer, 0x4d0);
VMCB_CHECK(save.cr4, 0x548);
VMCB_CHECK(save.cr3, 0x550);
VMCB_CHECK(save.cr0, 0x558);
VMCB_CHECK(save.dr7, 0x560);
VMCB_CHECK(save.dr6, 0x568);
VMCB_CHECK(save.rflags, 0x570);
VMCB_CHECK(save.rip, 0x578);
VMCB_CHECK(save.rsp, 0x5d8);
VMCB_CHECK(save.rax, 0x5f8);
VMCB_CHECK(save.star, 0x600);
VMCB_CHECK(save.lstar, 0x608);
VMCB_CHECK(save.cstar, 0x610);
VMCB_CHECK(save.sfmask, 0x618);
VMCB_CHECK(save.kernel_gs_base, 0x620);
VMCB_CHECK(save.sysenter_cs, 0x628);
VMCB_CHECK(save.sysenter_esp, 0x630);
VMCB_CHECK(save.sysenter_eip, 0x638);
VMCB_CHECK(save.cr2, 0x640);
VMCB_CHECK(save.g_pat, 0x668);
VMCB_CHECK(save.dbgctl, 0x670);
VMCB_CHECK(save.br_from, 0x678);
VMCB_CHECK(save.br_to, 0x680);
VMCB_CHECK(save.last_excp_from, 0x688);
VMCB_CHECK(save.last_excp_to, 0x690);
static_assert(sizeof(struct vmcb_seg) == 16, "VMCB segment is 16 bytes");
static_assert(offsetof(struct vmcb_seg, attrib) == 2, "VMCB segment attrib");
static_assert(offsetof(struct vmcb_seg, limit) == 4, "VMCB segment limit");
static_assert(offsetof(struct vmcb_seg, base) == 8, "VMCB segment base");
static_assert(sizeof(struct vmcb_control) == 0x400, "VMCB control area is 1 KiB");
static_assert(sizeof(struct vmcb) == VMCB_SIZE, "VMCB is one 4 KiB page");

/* ------------------------------------------------------------ intercepts */

/* intercept_misc1, VMCB 0x00c (APM Vol. 2 Table B-1). */
#define SVM_INTERCEPT_INTR		(1u << 0)
#define SVM_INTERCEPT_NMI		(1u << 1)
#define SVM_INTERCEPT_SMI		(1u << 2)
#define SVM_INTERCEPT_INIT		(1u << 3)
#define SVM_INTERCEPT_VINTR		(1u << 4)
#define SVM_INTERCEPT_CR0_SEL_WRITE	(1u << 5)	/* CR0 writes other than TS, MP */
#define SVM_INTERCEPT_IDTR_READ		(1u << 6)
#define SVM_INTERCEPT_GDTR_READ		(1u << 7)
#define SVM_INTERCEPT_LDTR_READ		(1u << 8)
#define SVM_INTERCEPT_TR_READ		(1u << 9)
#define SVM_INTERCEPT_IDTR_WRITE	(1u << 10)
#define SVM_INTERCEPT_GDTR_WRITE	(1u << 11)
#define SVM_INTERCEPT_LDTR_WRITE	(1u << 12)
#define SVM_INTERCEPT_TR_WRITE		(1u << 13)
#define SVM_INTERCEPT_RDTSC		(1u << 14)
#define SVM_INTERCEPT_RDPMC		(1u << 15)
#define SVM_INTERCEPT_PUSHF		(1u << 16)
#define SVM_INTERCEPT_POPF		(1u << 17)
#define SVM_INTERCEPT_CPUID		(1u << 18)
#define SVM_INTERCEPT_RSM		(1u << 19)
#define SVM_INTERCEPT_IRET		(1u << 20)
#define SVM_INTERCEPT_INTN		(1u << 21)
#define SVM_INTERCEPT_INVD		(1u << 22)
#define SVM_INTERCEPT_PAUSE		(1u << 23)
#define SVM_INTERCEPT_HLT		(1u << 24)
#define SVM_INTERCEPT_INVLPG		(1u << 25)
#define SVM_INTERCEPT_INVLPGA		(1u << 26)
#define SVM_INTERCEPT_IOIO_PROT		(1u << 27)	/* consult the IOPM */
#define SVM_INTERCEPT_MSR_PROT		(1u << 28)	/* consult the MSRPM */
#define SVM_INTERCEPT_TASK_SWITCH	(1u << 29)
#define SVM_INTERCEPT_FERR_FREEZE	(1u << 30)
#define SVM_INTERCEPT_SHUTDOWN		(1u << 31)

/* intercept_misc2, VMCB 0x010. */
#define SVM_INTERCEPT2_VMRUN		(1u << 0)	/* must be set (15.5.1) */
#define SVM_INTERCEPT2_VMMCALL		(1u << 1)
#define SVM_INTERCEPT2_VMLOAD		(1u << 2)
#define SVM_INTERCEPT2_VMSAVE		(1u << 3)
#define SVM_INTERCEPT2_STGI		(1u << 4)
#define SVM_INTERCEPT2_CLGI		(1u << 5)
#define SVM_INTERCEPT2_SKINIT		(1u << 6)
#define SVM_INTERCEPT2_RDTSCP		(1u << 7)
#define SVM_INTERCEPT2_ICEBP		(1u << 8)
#define SVM_INTERCEPT2_WBINVD		(1u << 9)
#define SVM_INTERCEPT2_MONITOR		(1u << 10)
#define SVM_INTERCEPT2_MWAIT		(1u << 11)	/* unconditionally */
#define SVM_INTERCEPT2_MWAIT_COND	(1u << 12)	/* only if armed */
#define SVM_INTERCEPT2_XSETBV		(1u << 13)
#define SVM_INTERCEPT2_RDPRU		(1u << 14)
#define SVM_INTERCEPT2_EFER_WRITE_TRAP	(1u << 15)

/* intercept_misc3, VMCB 0x014. */
#define SVM_INTERCEPT3_INVLPGB		(1u << 0)
#define SVM_INTERCEPT3_INVLPGB_ILLEGAL	(1u << 1)
#define SVM_INTERCEPT3_INVPCID		(1u << 2)
#define SVM_INTERCEPT3_MCOMMIT		(1u << 3)
#define SVM_INTERCEPT3_TLBSYNC		(1u << 4)

/* ------------------------------------------------------------ other controls */

/* tlb_control, VMCB 0x05c (APM Vol. 2 15.16.1). Other values are reserved. */
#define SVM_TLB_CONTROL_DO_NOTHING		0x00
#define SVM_TLB_CONTROL_FLUSH_ALL		0x01	/* every ASID */
#define SVM_TLB_CONTROL_FLUSH_ASID		0x03	/* this guest's ASID */
#define SVM_TLB_CONTROL_FLUSH_ASID_LOCAL	0x07	/* its non-global entries */

/* Virtual interrupt control, VMCB 0x060-0x064 (APM Vol. 2 15.21). */
#define SVM_V_TPR_MASK		0x0fu		/* v_tpr */
#define SVM_V_IRQ		(1u << 0)	/* v_irq: a virtual INTR is pending */
#define SVM_V_GIF		(1u << 1)	/* v_irq: virtual GIF (not modeled) */
#define SVM_V_INTR_PRIO_MASK	0x0fu		/* v_intr_prio */
#define SVM_V_IGN_TPR		(1u << 4)	/* v_intr_prio */
#define SVM_V_INTR_MASKING	(1u << 0)	/* v_intr_masking */

/* int_state, VMCB 0x068. */
#define SVM_INTERRUPT_SHADOW		(1ull << 0)
#define SVM_GUEST_INTERRUPT_MASK	(1ull << 1)	/* the guest's RFLAGS.IF, on #VMEXIT */

/* np_enable, VMCB 0x090 (APM Vol. 2 15.25.3). */
#define SVM_NP_ENABLE		(1ull << 0)

/* lbr_virt, VMCB 0x0b8. */
#define SVM_LBR_VIRT_ENABLE	(1ull << 0)

/* clean, VMCB 0x0c0 (APM Vol. 2 15.15.3): a set bit promises that the
 * group is unchanged since the last VMRUN of this VMCB on this processor. */
#define SVM_CLEAN_I	(1u << 0)	/* intercepts, TSC offset, pause filter */
#define SVM_CLEAN_IOPM	(1u << 1)	/* IOPM_BASE, MSRPM_BASE */
#define SVM_CLEAN_ASID	(1u << 2)
#define SVM_CLEAN_TPR	(1u << 3)	/* V_TPR .. V_INTR_VECTOR */
#define SVM_CLEAN_NP	(1u << 4)	/* NP_ENABLE, N_CR3, G_PAT */
#define SVM_CLEAN_CRX	(1u << 5)	/* CR0, CR3, CR4, EFER */
#define SVM_CLEAN_DRX	(1u << 6)	/* DR6, DR7 */
#define SVM_CLEAN_DT	(1u << 7)	/* GDTR, IDTR */
#define SVM_CLEAN_SEG	(1u << 8)	/* CS, DS, SS, ES, CPL */
#define SVM_CLEAN_CR2	(1u << 9)
#define SVM_CLEAN_LBR	(1u << 10)	/* DBGCTL, BR_FROM/TO, LASTEXCP* */
#define SVM_CLEAN_AVIC	(1u << 11)

/* ------------------------------------------------------------ events */

/*
 * EVENTINJ (VMCB 0x0a8, APM Vol. 2 15.20) and EXITINTINFO (0x088, 15.7.2)
 * share one layout:
 *
 *   7:0   vector            10:8  type (SVM_EVTINJ_TYPE_*)
 *   11    EV: error code valid
 *   30:12 reserved          31    V: valid
 *   63:32 error code
 */
#define SVM_EVTINJ_VEC_MASK	0xffull
#define SVM_EVTINJ_TYPE_SHIFT	8
#define SVM_EVTINJ_TYPE_MASK	(7ull << SVM_EVTINJ_TYPE_SHIFT)
#define SVM_EVTINJ_TYPE_INTR	(0ull << SVM_EVTINJ_TYPE_SHIFT)
#define SVM_EVTINJ_TYPE_NMI	(2ull << SVM_EVTINJ_TYPE_SHIFT)
#define SVM_EVTINJ_TYPE_EXC	(3ull << SVM_EVTINJ_TYPE_SHIFT)	/* fault or trap */
#define SVM_EVTINJ_TYPE_SOFT	(4ull << SVM_EVTINJ_TYPE_SHIFT)	/* INTn */
#define SVM_EVTINJ_EV		(1ull << 11)
#define SVM_EVTINJ_V		(1ull << 31)
#define SVM_EVTINJ_ERR_SHIFT	32

/* ------------------------------------------------------------ exit codes */

/* EXITCODE values (APM Vol. 2 Appendix C, Table C-1). */
#define SVM_EXIT_READ_CR0	0x000ull	/* + n: read of CRn */
#define SVM_EXIT_WRITE_CR0	0x010ull	/* + n: write of CRn */
#define SVM_EXIT_READ_DR0	0x020ull	/* + n */
#define SVM_EXIT_WRITE_DR0	0x030ull	/* + n */
#define SVM_EXIT_EXCP_BASE	0x040ull	/* + vector */
#define SVM_EXIT_INTR		0x060ull
#define SVM_EXIT_NMI		0x061ull
#define SVM_EXIT_SMI		0x062ull
#define SVM_EXIT_INIT		0x063ull
#define SVM_EXIT_VINTR		0x064ull
#define SVM_EXIT_CR0_SEL_WRITE	0x065ull
#define SVM_EXIT_IDTR_READ	0x066ull
#define SVM_EXIT_GDTR_READ	0x067ull
#define SVM_EXIT_LDTR_READ	0x068ull
#define SVM_EXIT_TR_READ	0x069ull
#define SVM_EXIT_IDTR_WRITE	0x06aull
#define SVM_EXIT_GDTR_WRITE	0x06bull
#define SVM_EXIT_LDTR_WRITE	0x06cull
#define SVM_EXIT_TR_WRITE	0x06dull
#define SVM_EXIT_RDTSC		0x06eull
#define SVM_EXIT_RDPMC		0x06full
#define SVM_EXIT_PUSHF		0x070ull
#define SVM_EXIT_POPF		0x071ull
#define SVM_EXIT_CPUID		0x072ull
#define SVM_EXIT_RSM		0x073ull
#define SVM_EXIT_IRET		0x074ull
#define SVM_EXIT_SWINT		0x075ull
#define SVM_EXIT_INVD		0x076ull
#define SVM_EXIT_PAUSE		0x077ull
#define SVM_EXIT_HLT		0x078ull
#define SVM_EXIT_INVLPG		0x079ull
#define SVM_EXIT_INVLPGA	0x07aull
#define SVM_EXIT_IOIO		0x07bull
#define SVM_EXIT_MSR		0x07cull
#define SVM_EXIT_TASK_SWITCH	0x07dull
#define SVM_EXIT_FERR_FREEZE	0x07eull
#define SVM_EXIT_SHUTDOWN	0x07full
#define SVM_EXIT_VMRUN		0x080ull
#define SVM_EXIT_VMMCALL	0x081ull
#define SVM_EXIT_VMLOAD		0x082ull
#define SVM_EXIT_VMSAVE		0x083ull
#define SVM_EXIT_STGI		0x084ull
#define SVM_EXIT_CLGI		0x085ull
#define SVM_EXIT_SKINIT		0x086ull
#define SVM_EXIT_RDTSCP		0x087ull
#define SVM_EXIT_ICEBP		0x088ull
#define SVM_EXIT_WBINVD		0x089ull
#define SVM_EXIT_MONITOR	0x08aull
#define SVM_EXIT_MWAIT		0x08bull
#define SVM_EXIT_MWAIT_COND	0x08cull
#define SVM_EXIT_XSETBV		0x08dull
#define SVM_EXIT_RDPRU		0x08eull
#define SVM_EXIT_EFER_WRITE_TRAP 0x08full
#define SVM_EXIT_INVLPGB	0x0a0ull
#define SVM_EXIT_INVLPGB_ILLEGAL 0x0a1ull
#define SVM_EXIT_INVPCID	0x0a2ull
#define SVM_EXIT_MCOMMIT	0x0a3ull
#define SVM_EXIT_TLBSYNC	0x0a4ull
#define SVM_EXIT_NPF		0x400ull
#define SVM_EXIT_INVALID	((uint64_t)-1)	/* VMRUN found illegal guest state */

/* EXITINFO1 of SVM_EXIT_MSR (APM Vol. 2 15.11): 0 RDMSR, 1 WRMSR. */
#define SVM_EXITINFO1_MSR_WRITE	1ull

/*
 * EXITINFO1 of SVM_EXIT_IOIO (APM Vol. 2 15.10.2, Figure 15-2); EXITINFO2
 * holds the rIP of the instruction after the IN/OUT.
 *
 *   0  TYPE: 1 = IN, 0 = OUT   2  STR (INS/OUTS)   3  REP
 *   4..6   SZ8, SZ16, SZ32: operand size
 *   7..9   A16, A32, A64: address size
 *   12:10  SEG: effective segment of OUTS (ES = 0 ... GS = 5)
 *   31:16  port
 */
#define SVM_IOIO_TYPE_IN	(1ull << 0)
#define SVM_IOIO_STR		(1ull << 2)
#define SVM_IOIO_REP		(1ull << 3)
#define SVM_IOIO_SZ8		(1ull << 4)
#define SVM_IOIO_SZ16		(1ull << 5)
#define SVM_IOIO_SZ32		(1ull << 6)
#define SVM_IOIO_A16		(1ull << 7)
#define SVM_IOIO_A32		(1ull << 8)
#define SVM_IOIO_A64		(1ull << 9)
#define SVM_IOIO_SEG_SHIFT	10
#define SVM_IOIO_SEG_MASK	(7ull << SVM_IOIO_SEG_SHIFT)
#define SVM_IOIO_PORT_SHIFT	16
#define SVM_IOIO_PORT_MASK	(0xffffull << SVM_IOIO_PORT_SHIFT)

/* ------------------------------------------------------------ permission maps */

/*
 * The I/O permissions map (APM Vol. 2 15.10.1): 12 KiB, one bit per port,
 * set = intercept. A multi-byte access checks the bit of every port it
 * touches; the third 4 KiB page holds the bits for accesses that run past
 * port 0xffff.
 */
#define SVM_IOPM_SIZE		(12u << 10)

/*
 * The MSR permissions map (APM Vol. 2 15.11, Table 15-5): 8 KiB, two
 * bits per MSR (even = RDMSR, odd = WRMSR; set = intercept) in three
 * vectors of 2 KiB. MSRs outside the three ranges are always intercepted.
 *
 *   MSRPM bytes      MSRs
 *   0x0000-0x07ff    0000_0000 - 0000_1fff
 *   0x0800-0x0fff    c000_0000 - c000_1fff
 *   0x1000-0x17ff    c001_0000 - c001_1fff
 *   0x1800-0x1fff    reserved
 */
#define SVM_MSRPM_SIZE		(8u << 10)
#define SVM_MSRPM_RANGE_MSRS	0x2000u		/* MSRs per vector */
#define SVM_MSRPM_RANGE_BYTES	0x800u		/* bytes per vector */

#endif
