/*
 * test_hw_vmcb.c — the VMCB layout and encodings (hw/vmcb.h) and the
 * VMRUN consistency checks (hw/svm_check.c). The permission maps are in
 * test_hw_svm_perm.c.
 *
 * Expected values are the APM's, written here as literals: Vol. 2
 * Appendix B (Tables B-1, B-2), Appendix C (exit codes), 15.5.1 (the
 * consistency checks), 15.20 (EVENTINJ). A wrong offset or constant in
 * the header fails here.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hw/svm_internal.h"

static struct hw_machine *m;
static struct hw_cpu *cpu;

static int setup(void **state)
{
	struct hw_machine_config cfg;
	hw_machine_config_default(&cfg, HW_VENDOR_AMD);
	cfg.arena_size = 16ull << 20;
	if (hw_machine_create(&cfg, &m) || hw_cpu_create(m, 0, &cpu))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	hw_machine_destroy(m);
	m = NULL;
	cpu = NULL;
	return 0;
}

/* ------------------------------------------------------------ layout */

struct off { const char *name; size_t got, want; };
#define OFF(field, want) { #field, offsetof(struct vmcb, field), want }

static void check_offsets(const struct off *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (t[i].got != t[i].want)
			fail_msg("%s at 0x%zx, APM says 0x%zx", t[i].name, t[i].got, t[i].want);
	}
}

/* APM Vol. 2 Table B-1. */
static void control_area_offsets(void **state)
{
	static const struct off t[] = {
		OFF(control.intercept_cr_read, 0x000),
		OFF(control.intercept_cr_write, 0x002),
		OFF(control.intercept_dr_read, 0x004),
		OFF(control.intercept_dr_write, 0x006),
		OFF(control.intercept_exceptions, 0x008),
		OFF(control.intercept_misc1, 0x00c),
		OFF(control.intercept_misc2, 0x010),
		OFF(control.intercept_misc3, 0x014),
		OFF(control.pause_filter_thresh, 0x03c),
		OFF(control.pause_filter_count, 0x03e),
		OFF(control.iopm_base_pa, 0x040),
		OFF(control.msrpm_base_pa, 0x048),
		OFF(control.tsc_offset, 0x050),
		OFF(control.guest_asid, 0x058),
		OFF(control.tlb_control, 0x05c),
		OFF(control.v_tpr, 0x060),
		OFF(control.v_irq, 0x061),
		OFF(control.v_intr_prio, 0x062),
		OFF(control.v_intr_masking, 0x063),
		OFF(control.v_intr_vector, 0x064),
		OFF(control.int_state, 0x068),
		OFF(control.exitcode, 0x070),
		OFF(control.exitinfo1, 0x078),
		OFF(control.exitinfo2, 0x080),
		OFF(control.exitintinfo, 0x088),
		OFF(control.np_enable, 0x090),
		OFF(control.eventinj, 0x0a8),
		OFF(control.n_cr3, 0x0b0),
		OFF(control.lbr_virt, 0x0b8),
		OFF(control.clean, 0x0c0),
		OFF(control.next_rip, 0x0c8),
		OFF(control.insn_len, 0x0d0),
		OFF(control.insn_bytes, 0x0d1),
	};
	check_offsets(t, sizeof(t) / sizeof(t[0]));
	assert_int_equal(sizeof(struct vmcb_control), 0x400);
	assert_int_equal(sizeof(((struct vmcb_control *)0)->insn_bytes), 15);
}

/* APM Vol. 2 Table B-2 (offsets from the start of the VMCB). */
static void save_area_offsets(void **state)
{
	static const struct off t[] = {
		OFF(save.es, 0x400), OFF(save.cs, 0x410), OFF(save.ss, 0x420),
		OFF(save.ds, 0x430), OFF(save.fs, 0x440), OFF(save.gs, 0x450),
		OFF(save.gdtr, 0x460), OFF(save.ldtr, 0x470), OFF(save.idtr, 0x480),
		OFF(save.tr, 0x490),
		OFF(save.cpl, 0x4cb), OFF(save.efer, 0x4d0),
		OFF(save.cr4, 0x548), OFF(save.cr3, 0x550), OFF(save.cr0, 0x558),
		OFF(save.dr7, 0x560), OFF(save.dr6, 0x568), OFF(save.rflags, 0x570),
		OFF(save.rip, 0x578), OFF(save.rsp, 0x5d8), OFF(save.rax, 0x5f8),
		OFF(save.star, 0x600), OFF(save.lstar, 0x608), OFF(save.cstar, 0x610),
		OFF(save.sfmask, 0x618), OFF(save.kernel_gs_base, 0x620),
		OFF(save.sysenter_cs, 0x628), OFF(save.sysenter_esp, 0x630),
		OFF(save.sysenter_eip, 0x638), OFF(save.cr2, 0x640),
		OFF(save.g_pat, 0x668), OFF(save.dbgctl, 0x670),
		OFF(save.br_from, 0x678), OFF(save.br_to, 0x680),
		OFF(save.last_excp_from, 0x688), OFF(save.last_excp_to, 0x690),
	};
	check_offsets(t, sizeof(t) / sizeof(t[0]));
	/* Each segment: selector, attrib (16 bits each), limit (32), base (64). */
	assert_int_equal(offsetof(struct vmcb_seg, selector), 0);
	assert_int_equal(offsetof(struct vmcb_seg, attrib), 2);
	assert_int_equal(offsetof(struct vmcb_seg, limit), 4);
	assert_int_equal(offsetof(struct vmcb_seg, base), 8);
	assert_int_equal(sizeof(struct vmcb_seg), 16);
	assert_int_equal(sizeof(struct vmcb), 4096);
}

/* Table B-1: bit n of the vector at 0x00c / 0x010 / 0x014. */
static void intercept_bits(void **state)
{
	static const struct { uint32_t got; unsigned bit; } w1[] = {
		{ SVM_INTERCEPT_INTR, 0 }, { SVM_INTERCEPT_NMI, 1 },
		{ SVM_INTERCEPT_SMI, 2 }, { SVM_INTERCEPT_INIT, 3 },
		{ SVM_INTERCEPT_VINTR, 4 }, { SVM_INTERCEPT_CR0_SEL_WRITE, 5 },
		{ SVM_INTERCEPT_IDTR_READ, 6 }, { SVM_INTERCEPT_GDTR_READ, 7 },
		{ SVM_INTERCEPT_LDTR_READ, 8 }, { SVM_INTERCEPT_TR_READ, 9 },
		{ SVM_INTERCEPT_IDTR_WRITE, 10 }, { SVM_INTERCEPT_GDTR_WRITE, 11 },
		{ SVM_INTERCEPT_LDTR_WRITE, 12 }, { SVM_INTERCEPT_TR_WRITE, 13 },
		{ SVM_INTERCEPT_RDTSC, 14 }, { SVM_INTERCEPT_RDPMC, 15 },
		{ SVM_INTERCEPT_PUSHF, 16 }, { SVM_INTERCEPT_POPF, 17 },
		{ SVM_INTERCEPT_CPUID, 18 }, { SVM_INTERCEPT_RSM, 19 },
		{ SVM_INTERCEPT_IRET, 20 }, { SVM_INTERCEPT_INTN, 21 },
		{ SVM_INTERCEPT_INVD, 22 }, { SVM_INTERCEPT_PAUSE, 23 },
		{ SVM_INTERCEPT_HLT, 24 }, { SVM_INTERCEPT_INVLPG, 25 },
		{ SVM_INTERCEPT_INVLPGA, 26 }, { SVM_INTERCEPT_IOIO_PROT, 27 },
		{ SVM_INTERCEPT_MSR_PROT, 28 }, { SVM_INTERCEPT_TASK_SWITCH, 29 },
		{ SVM_INTERCEPT_FERR_FREEZE, 30 }, { SVM_INTERCEPT_SHUTDOWN, 31 },
	}, w2[] = {
		{ SVM_INTERCEPT2_VMRUN, 0 }, { SVM_INTERCEPT2_VMMCALL, 1 },
		{ SVM_INTERCEPT2_VMLOAD, 2 }, { SVM_INTERCEPT2_VMSAVE, 3 },
		{ SVM_INTERCEPT2_STGI, 4 }, { SVM_INTERCEPT2_CLGI, 5 },
		{ SVM_INTERCEPT2_SKINIT, 6 }, { SVM_INTERCEPT2_RDTSCP, 7 },
		{ SVM_INTERCEPT2_ICEBP, 8 }, { SVM_INTERCEPT2_WBINVD, 9 },
		{ SVM_INTERCEPT2_MONITOR, 10 }, { SVM_INTERCEPT2_MWAIT, 11 },
		{ SVM_INTERCEPT2_MWAIT_COND, 12 }, { SVM_INTERCEPT2_XSETBV, 13 },
		{ SVM_INTERCEPT2_RDPRU, 14 }, { SVM_INTERCEPT2_EFER_WRITE_TRAP, 15 },
	}, w3[] = {
		{ SVM_INTERCEPT3_INVLPGB, 0 }, { SVM_INTERCEPT3_INVLPGB_ILLEGAL, 1 },
		{ SVM_INTERCEPT3_INVPCID, 2 }, { SVM_INTERCEPT3_MCOMMIT, 3 },
		{ SVM_INTERCEPT3_TLBSYNC, 4 },
	};
	for (size_t i = 0; i < sizeof(w1) / sizeof(w1[0]); i++)
		assert_int_equal(w1[i].got, 1u << w1[i].bit);
	for (size_t i = 0; i < sizeof(w2) / sizeof(w2[0]); i++)
		assert_int_equal(w2[i].got, 1u << w2[i].bit);
	for (size_t i = 0; i < sizeof(w3) / sizeof(w3[0]); i++)
		assert_int_equal(w3[i].got, 1u << w3[i].bit);
}

/* Appendix C, Table C-1. */
static void exit_codes(void **state)
{
	static const struct { uint64_t got, want; } t[] = {
		{ SVM_EXIT_READ_CR0 + 3, 0x03 }, { SVM_EXIT_WRITE_CR0 + 4, 0x14 },
		{ SVM_EXIT_READ_DR0 + 7, 0x27 }, { SVM_EXIT_WRITE_DR0 + 6, 0x36 },
		{ SVM_EXIT_EXCP_BASE + 14, 0x4e }, { SVM_EXIT_INTR, 0x60 },
		{ SVM_EXIT_NMI, 0x61 }, { SVM_EXIT_SMI, 0x62 }, { SVM_EXIT_INIT, 0x63 },
		{ SVM_EXIT_VINTR, 0x64 }, { SVM_EXIT_CR0_SEL_WRITE, 0x65 },
		{ SVM_EXIT_IDTR_READ, 0x66 }, { SVM_EXIT_GDTR_READ, 0x67 },
		{ SVM_EXIT_LDTR_READ, 0x68 }, { SVM_EXIT_TR_READ, 0x69 },
		{ SVM_EXIT_IDTR_WRITE, 0x6a }, { SVM_EXIT_GDTR_WRITE, 0x6b },
		{ SVM_EXIT_LDTR_WRITE, 0x6c }, { SVM_EXIT_TR_WRITE, 0x6d },
		{ SVM_EXIT_RDTSC, 0x6e }, { SVM_EXIT_RDPMC, 0x6f },
		{ SVM_EXIT_PUSHF, 0x70 }, { SVM_EXIT_POPF, 0x71 },
		{ SVM_EXIT_CPUID, 0x72 }, { SVM_EXIT_RSM, 0x73 }, { SVM_EXIT_IRET, 0x74 },
		{ SVM_EXIT_SWINT, 0x75 }, { SVM_EXIT_INVD, 0x76 }, { SVM_EXIT_PAUSE, 0x77 },
		{ SVM_EXIT_HLT, 0x78 }, { SVM_EXIT_INVLPG, 0x79 }, { SVM_EXIT_INVLPGA, 0x7a },
		{ SVM_EXIT_IOIO, 0x7b }, { SVM_EXIT_MSR, 0x7c },
		{ SVM_EXIT_TASK_SWITCH, 0x7d }, { SVM_EXIT_FERR_FREEZE, 0x7e },
		{ SVM_EXIT_SHUTDOWN, 0x7f }, { SVM_EXIT_VMRUN, 0x80 },
		{ SVM_EXIT_VMMCALL, 0x81 }, { SVM_EXIT_VMLOAD, 0x82 },
		{ SVM_EXIT_VMSAVE, 0x83 }, { SVM_EXIT_STGI, 0x84 }, { SVM_EXIT_CLGI, 0x85 },
		{ SVM_EXIT_SKINIT, 0x86 }, { SVM_EXIT_RDTSCP, 0x87 },
		{ SVM_EXIT_ICEBP, 0x88 }, { SVM_EXIT_WBINVD, 0x89 },
		{ SVM_EXIT_MONITOR, 0x8a }, { SVM_EXIT_MWAIT, 0x8b },
		{ SVM_EXIT_MWAIT_COND, 0x8c }, { SVM_EXIT_XSETBV, 0x8d },
		{ SVM_EXIT_RDPRU, 0x8e }, { SVM_EXIT_EFER_WRITE_TRAP, 0x8f },
		{ SVM_EXIT_INVLPGB, 0xa0 }, { SVM_EXIT_INVLPGB_ILLEGAL, 0xa1 },
		{ SVM_EXIT_INVPCID, 0xa2 }, { SVM_EXIT_MCOMMIT, 0xa3 },
		{ SVM_EXIT_TLBSYNC, 0xa4 }, { SVM_EXIT_NPF, 0x400 },
		{ SVM_EXIT_INVALID, 0xffffffffffffffffull },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].got != t[i].want)
			fail_msg("entry %zu: 0x%llx, APM says 0x%llx", i,
				 (unsigned long long)t[i].got, (unsigned long long)t[i].want);
}

/* 15.20 (EVENTINJ), 15.16.1 (TLB_CONTROL), 15.10.2 (IOIO EXITINFO1). */
static void event_tlb_and_ioio_encodings(void **state)
{
	/* #PF (vector 14, type 3) with error code 0x6, valid. */
	const uint64_t pf = 14 | SVM_EVTINJ_TYPE_EXC | SVM_EVTINJ_EV | SVM_EVTINJ_V |
			    (6ull << SVM_EVTINJ_ERR_SHIFT);
	assert_int_equal(pf, 0x0000000680000b0eull);
	assert_int_equal(SVM_EVTINJ_TYPE_INTR, 0 << 8);
	assert_int_equal(SVM_EVTINJ_TYPE_NMI, 2 << 8);
	assert_int_equal(SVM_EVTINJ_TYPE_SOFT, 4 << 8);
	assert_int_equal(SVM_EVTINJ_TYPE_MASK, 0x700);
	assert_int_equal(SVM_EVTINJ_VEC_MASK, 0xff);

	assert_int_equal(SVM_TLB_CONTROL_DO_NOTHING, 0);
	assert_int_equal(SVM_TLB_CONTROL_FLUSH_ALL, 1);
	assert_int_equal(SVM_TLB_CONTROL_FLUSH_ASID, 3);
	assert_int_equal(SVM_TLB_CONTROL_FLUSH_ASID_LOCAL, 7);

	/* IN AL, 0x60 with a 64-bit address size: TYPE, SZ8, A64, port. */
	const uint64_t in = SVM_IOIO_TYPE_IN | SVM_IOIO_SZ8 | SVM_IOIO_A64 |
			    (0x60ull << SVM_IOIO_PORT_SHIFT);
	assert_int_equal(in, 0x00600211ull);
	/* REP OUTSW with a 32-bit address size through FS (segment 4). */
	const uint64_t outs = SVM_IOIO_STR | SVM_IOIO_REP | SVM_IOIO_SZ16 |
			      SVM_IOIO_A32 | (4ull << SVM_IOIO_SEG_SHIFT) |
			      (0x3f8ull << SVM_IOIO_PORT_SHIFT);
	assert_int_equal(outs, 0x03f8112cull);
	assert_int_equal(SVM_IOIO_SZ32, 1u << 6);
	assert_int_equal(SVM_IOIO_A16, 1u << 7);
	assert_int_equal(SVM_IOIO_SEG_MASK, 0x1c00);
	assert_int_equal(SVM_IOIO_PORT_MASK, 0xffff0000ull);

	assert_int_equal(SVM_INTERRUPT_SHADOW, 1);
	assert_int_equal(SVM_GUEST_INTERRUPT_MASK, 2);
	assert_int_equal(SVM_NP_ENABLE, 1);
	assert_int_equal(SVM_IOPM_SIZE, 12288);
	assert_int_equal(SVM_MSRPM_SIZE, 8192);
}

/*
 * Table B-1 gives the virtual-interrupt controls as bits of the quadword
 * at 0x060: V_TPR 3:0, V_IRQ 8, VGIF 9, V_INTR_PRIO 19:16, V_IGN_TPR 20,
 * V_INTR_MASKING 24, V_INTR_VECTOR 39:32. The header names bytes; each
 * must land on its quadword bits.
 */
static void virtual_interrupt_and_clean_bits(void **state)
{
	static struct vmcb vv;
	uint64_t q;

	memset(&vv, 0, sizeof(vv));
	vv.control.v_tpr = 0xf & SVM_V_TPR_MASK;
	vv.control.v_irq = SVM_V_IRQ | SVM_V_GIF;
	vv.control.v_intr_prio = (0xa & SVM_V_INTR_PRIO_MASK) | SVM_V_IGN_TPR;
	vv.control.v_intr_masking = SVM_V_INTR_MASKING;
	vv.control.v_intr_vector = 0x31;
	memcpy(&q, (uint8_t *)&vv + 0x60, 8);
	assert_int_equal(q, 0xfull | 1ull << 8 | 1ull << 9 | 0xaull << 16 | 1ull << 20 |
			    1ull << 24 | 0x31ull << 32);

	/* APM Vol. 2 15.15.3 (VMCB clean field). */
	assert_int_equal(SVM_CLEAN_I, 1u << 0);
	assert_int_equal(SVM_CLEAN_IOPM, 1u << 1);
	assert_int_equal(SVM_CLEAN_ASID, 1u << 2);
	assert_int_equal(SVM_CLEAN_TPR, 1u << 3);
	assert_int_equal(SVM_CLEAN_NP, 1u << 4);
	assert_int_equal(SVM_CLEAN_CRX, 1u << 5);
	assert_int_equal(SVM_CLEAN_DRX, 1u << 6);
	assert_int_equal(SVM_CLEAN_DT, 1u << 7);
	assert_int_equal(SVM_CLEAN_SEG, 1u << 8);
	assert_int_equal(SVM_CLEAN_CR2, 1u << 9);
	assert_int_equal(SVM_CLEAN_LBR, 1u << 10);
	assert_int_equal(SVM_CLEAN_AVIC, 1u << 11);
	assert_int_equal(SVM_LBR_VIRT_ENABLE, 1);
	assert_int_equal(SVM_EXITINFO1_MSR_WRITE, 1);
}

/* ------------------------------------------------------------ VMRUN checks */

/* Architectural bits (APM Vol. 2 3.1), written here from the manual. */
#define CR0_PE (1ull << 0)
#define CR0_ET (1ull << 4)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define EFER_SCE_ (1ull << 0)
#define EFER_LME_ (1ull << 8)
#define EFER_LMA_ (1ull << 10)
#define EFER_NXE_ (1ull << 11)
#define EFER_SVME_ (1ull << 12)
/* VMCB segment attributes: descriptor bits 47:40 then 55:52. */
#define ATTR_P (1u << 7)
#define ATTR_L (1u << 9)
#define ATTR_D (1u << 10)
#define ATTR_G (1u << 11)

#define IOPM_PA 0x100000ull
#define MSRPM_PA 0x104000ull

static struct vmcb v;

/* The physical-address width the processor reports (CPUID Fn8000_0008
 * EAX[7:0], APM Vol. 3 E.4.7). */
static unsigned maxphyaddr(void)
{
	uint32_t r[4];
	hw_cpuid(cpu, 0x80000008, 0, r);
	return r[0] & 0xff;
}

/* A legal 64-bit guest: the baseline every rule test breaks once. */
static void vmcb_long_mode(void)
{
	memset(&v, 0, sizeof(v));
	v.control.intercept_misc2 = 1u << 0;		/* VMRUN */
	v.control.guest_asid = 1;
	v.control.iopm_base_pa = IOPM_PA;
	v.control.msrpm_base_pa = MSRPM_PA;
	v.save.efer = EFER_SVME_ | EFER_LME_ | EFER_LMA_ | EFER_NXE_ | EFER_SCE_;
	v.save.cr0 = CR0_PE | CR0_ET | CR0_PG;
	v.save.cr4 = CR4_PAE;
	v.save.cr3 = 0x1000;
	v.save.dr6 = 0xffff0ff0;
	v.save.dr7 = 0x400;
	v.save.rflags = 2;
	v.save.cs = (struct vmcb_seg){ .selector = 8, .attrib = 0x9b | ATTR_P | ATTR_L | ATTR_G,
				       .limit = 0xffffffff };
	v.save.ss = (struct vmcb_seg){ .selector = 16, .attrib = 0x93 | ATTR_D | ATTR_G,
				       .limit = 0xffffffff };
}

static void expect_valid(void)
{
	const char *why = NULL;
	int r = svm_vmrun_check(cpu, &v, &why);
	if (r)
		fail_msg("legal VMCB refused: %s", why);
}

/* Refused, and for the rule whose reason mentions @what. */
static void expect_invalid(const char *what)
{
	const char *why = NULL;
	assert_int_equal(svm_vmrun_check(cpu, &v, &why), -EINVAL);
	assert_non_null(why);
	if (!strstr(why, what))
		fail_msg("refused for \"%s\", expected a reason about %s", why, what);
}

static void legal_guests_pass(void **state)
{
	vmcb_long_mode();
	expect_valid();
	/* 32-bit protected mode with PAE paging. */
	v.save.efer = EFER_SVME_;
	v.save.cs.attrib = 0x9b | ATTR_P | ATTR_D | ATTR_G;
	expect_valid();
	/* Real mode out of reset: CR0 = 6000_0010h (CD, NW, ET). */
	v.save.cr0 = CR0_CD | CR0_NW | CR0_ET;
	v.save.cr4 = 0;
	v.save.cs = (struct vmcb_seg){ .selector = 0xf000, .attrib = 0x9b | ATTR_P,
				       .limit = 0xffff, .base = 0xffff0000 };
	expect_valid();
}

static void rule_svme_clear(void **state)
{
	vmcb_long_mode();
	v.save.efer &= ~EFER_SVME_;
	expect_invalid("SVME");
}

static void rule_cd_clear_nw_set(void **state)
{
	vmcb_long_mode();
	v.save.cr0 |= CR0_NW;
	expect_invalid("CR0.NW");
	v.save.cr0 |= CR0_CD;
	expect_valid();
	v.save.cr0 &= ~CR0_NW;
	expect_valid();
}

static void rule_cr0_high_half(void **state)
{
	for (unsigned bit = 32; bit < 64; bit++) {
		vmcb_long_mode();
		v.save.cr0 |= 1ull << bit;
		expect_invalid("CR0[63:32]");
	}
}

static void rule_cr3_beyond_width(void **state)
{
	const unsigned w = maxphyaddr();
	vmcb_long_mode();
	v.save.cr3 = (1ull << w) - 0x1000;		/* the highest page: legal */
	expect_valid();
	for (unsigned bit = w; bit < 64; bit++) {
		v.save.cr3 = 0x1000 | (1ull << bit);
		expect_invalid("CR3");
	}
}

/*
 * A CR4 bit exists when CPUID enumerates its feature (APM Vol. 2 3.1.3,
 * Vol. 3 appendix E; SDM Vol. 3A 2.5): the others are MBZ.
 */
static uint64_t cr4_bits_from_cpuid(void)
{
	uint32_t l1[4], l7[4];
	enum { A, B, C, D };
	hw_cpuid(cpu, 1, 0, l1);
	hw_cpuid(cpu, 7, 0, l7);
	static const struct { unsigned cr4_bit, leaf, reg, bit; } f[] = {
		{ 0, 1, D, 1 }, { 1, 1, D, 1 },		/* VME, PVI: VME */
		{ 2, 1, D, 4 },				/* TSD: TSC */
		{ 3, 1, D, 2 },				/* DE */
		{ 4, 1, D, 3 },				/* PSE */
		{ 5, 1, D, 6 },				/* PAE */
		{ 6, 1, D, 7 },				/* MCE */
		{ 7, 1, D, 13 },			/* PGE */
		{ 9, 1, D, 24 },			/* OSFXSR: FXSR */
		{ 10, 1, D, 25 },			/* OSXMMEXCPT: SSE */
		{ 11, 7, C, 2 },			/* UMIP */
		{ 12, 7, C, 16 },			/* LA57 */
		{ 13, 1, C, 5 },			/* VMXE: VMX */
		{ 14, 1, C, 6 },			/* SMXE: SMX */
		{ 16, 7, B, 0 },			/* FSGSBASE */
		{ 17, 1, C, 17 },			/* PCIDE: PCID */
		{ 18, 1, C, 26 },			/* OSXSAVE: XSAVE */
		{ 20, 7, B, 7 },			/* SMEP */
		{ 21, 7, B, 20 },			/* SMAP */
		{ 22, 7, C, 3 },			/* PKE: PKU */
		{ 23, 7, C, 7 },			/* CET: CET_SS */
	};
	uint64_t ok = 1ull << 8;		/* PCE: RDPMC is architectural */
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		const uint32_t *r = f[i].leaf == 1 ? l1 : l7;
		if ((r[f[i].reg] >> f[i].bit) & 1)
			ok |= 1ull << f[i].cr4_bit;
	}
	return ok;
}

static void rule_cr4_mbz(void **state)
{
	const uint64_t ok = cr4_bits_from_cpuid();
	assert_true(ok & CR4_PAE);		/* the model has long mode */
	for (unsigned bit = 0; bit < 64; bit++) {
		vmcb_long_mode();
		v.save.cr4 |= 1ull << bit;
		if (ok & (1ull << bit))
			expect_valid();
		else
			expect_invalid("CR4");
	}
	vmcb_long_mode();
	v.save.cr4 |= 1ull << 13;	/* VMXE: AMD has no VMX */
	expect_invalid("CR4");
}

static void rule_dr6_dr7_high_half(void **state)
{
	vmcb_long_mode();
	v.save.dr6 = 0xffffffff;
	v.save.dr7 = 0xffffffff;
	expect_valid();
	for (unsigned bit = 32; bit < 64; bit++) {
		vmcb_long_mode();
		v.save.dr6 |= 1ull << bit;
		expect_invalid("DR6");
		vmcb_long_mode();
		v.save.dr7 |= 1ull << bit;
		expect_invalid("DR7");
	}
}

static void rule_efer_mbz(void **state)
{
	/* APM 3.1.7 bits the model implements: SCE, LME, LMA, NXE, SVME. */
	const uint64_t ok = (1ull << 0) | (1ull << 8) | (1ull << 10) | (1ull << 11) |
			    (1ull << 12);
	for (unsigned bit = 0; bit < 64; bit++) {
		vmcb_long_mode();
		v.save.efer |= 1ull << bit;
		if (ok & (1ull << bit))
			expect_valid();
		else
			expect_invalid("EFER");
	}
}

static void rule_long_mode_without_pae(void **state)
{
	vmcb_long_mode();
	v.save.cr4 &= ~CR4_PAE;
	expect_invalid("CR4.PAE");
	/* LME without paging yet: not long mode, PAE not required. */
	v.save.cr0 &= ~CR0_PG;
	v.save.efer &= ~EFER_LMA_;
	expect_valid();
}

static void rule_long_mode_without_pe(void **state)
{
	vmcb_long_mode();
	v.save.cr0 &= ~CR0_PE;
	expect_invalid("CR0.PE");
}

static void rule_cs_l_and_d(void **state)
{
	vmcb_long_mode();
	v.save.cs.attrib |= ATTR_D;
	expect_invalid("CS.L");
	/* Compatibility mode (L = 0, D = 1) is legal. */
	v.save.cs.attrib &= ~ATTR_L;
	expect_valid();
	/* Outside long mode L and D together are not checked. */
	v.save.cs.attrib |= ATTR_L;
	v.save.efer &= ~(EFER_LME_ | EFER_LMA_);
	expect_valid();
}

static void rule_vmrun_intercept(void **state)
{
	vmcb_long_mode();
	v.control.intercept_misc2 = ~1u;	/* every other intercept */
	expect_invalid("VMRUN");
}

static void rule_permission_maps_in_range(void **state)
{
	const uint64_t top = 1ull << maxphyaddr();

	vmcb_long_mode();
	v.control.msrpm_base_pa = top - 0x2000;		/* 8 KiB: ends at top - 1 */
	expect_valid();
	v.control.msrpm_base_pa = (top - 0x2000) | 0xfff;	/* bits 11:0 ignored */
	expect_valid();
	v.control.msrpm_base_pa = top - 0x1000;
	expect_invalid("MSRPM");
	v.control.msrpm_base_pa = ~0ull;
	expect_invalid("MSRPM");

	vmcb_long_mode();
	v.control.iopm_base_pa = top - 0x3000;		/* 12 KiB */
	expect_valid();
	v.control.iopm_base_pa = top - 0x2000;
	expect_invalid("IOPM");
	v.control.iopm_base_pa = top;
	expect_invalid("IOPM");
	v.control.iopm_base_pa = ~0ull - 0xfff;
	expect_invalid("IOPM");
}

static void rule_event_injection(void **state)
{
	const uint64_t V = 1ull << 31;

	vmcb_long_mode();
	/* Not valid: the rest is not looked at. */
	v.control.eventinj = 7 << 8 | 0xff;
	expect_valid();
	/* The four defined types (APM 15.20). */
	static const uint64_t legal[] = {
		0 << 8 | 0x20,			/* INTR */
		2 << 8 | 2,			/* NMI */
		3 << 8 | 0,			/* #DE */
		3 << 8 | 14 | 1 << 11,		/* #PF with an error code */
		3 << 8 | 31,			/* the last exception vector */
		4 << 8 | 0x80,			/* INTn */
	};
	for (size_t i = 0; i < sizeof(legal) / sizeof(legal[0]); i++) {
		v.control.eventinj = legal[i] | V;
		expect_valid();
	}
	static const uint64_t illegal[] = {
		1 << 8 | 0x20, 5 << 8 | 0x20, 6 << 8 | 0x20, 7 << 8 | 0x20,	/* reserved types */
		3 << 8 | 2,			/* vector 2 is NMI, not an exception */
		3 << 8 | 32, 3 << 8 | 0xff,	/* not exception vectors */
	};
	for (size_t i = 0; i < sizeof(illegal) / sizeof(illegal[0]); i++) {
		v.control.eventinj = illegal[i] | V;
		expect_invalid("EVENTINJ");
	}
}

static void rule_asid_zero(void **state)
{
	vmcb_long_mode();
	v.control.guest_asid = 0;
	expect_invalid("ASID");
	v.control.guest_asid = 0xffff;
	expect_valid();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(control_area_offsets),
		T(save_area_offsets),
		T(intercept_bits),
		T(exit_codes),
		T(event_tlb_and_ioio_encodings),
		T(virtual_interrupt_and_clean_bits),
		T(legal_guests_pass),
		T(rule_svme_clear),
		T(rule_cd_clear_nw_set),
		T(rule_cr0_high_half),
		T(rule_cr3_beyond_width),
		T(rule_cr4_mbz),
		T(rule_dr6_dr7_high_half),
		T(rule_efer_mbz),
		T(rule_long_mode_without_pae),
		T(rule_long_mode_without_pe),
		T(rule_cs_l_and_d),
		T(rule_vmrun_intercept),
		T(rule_permission_maps_in_range),
		T(rule_event_injection),
		T(rule_asid_zero),
	};
	return cmocka_run_group_tests_name("hw_vmcb", tests, NULL, NULL);
}
