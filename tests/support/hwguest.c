/*
 * hwguest.c — see hwguest.h. Programs the model only through its public
 * headers (hw/hw.h, hw/vmx.h, hw/svm.h, hw/vmcb.h), as a hypervisor
 * would.
 */
#include <errno.h>
#include <string.h>

#include "hw/msr.h"
#include "hw/svm.h"
#include "hw/vmx.h"
#include "tests/support/hwguest.h"

/* Guest-address layout inside RAM. */
#define G_GDT		0x1000ull
#define G_TSS		0x2000ull
#define G_IDT		0x3000ull
#define G_TABLES	0x100000ull	/* guest page tables: 1 MiB */
#define G_TABLES_END	0x200000ull

#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define SEL_TSS 0x18

static uint64_t host_page(struct hwg *g)
{
	return ptb_alloc(&g->host);
}

/* Guest address -> host-physical address of guest RAM. */
static uint64_t g2h(const struct hwg *g, uint64_t ga)
{
	return g->ram_hpa + ga;
}

void *hwg_ptr(struct hwg *g, uint64_t ga, size_t len)
{
	if (ga >= g->ram_size || len > g->ram_size - ga)
		return NULL;
	return g->mem + g2h(g, ga);
}

void hwg_load(struct hwg *g, uint64_t ga, const void *bytes, size_t len)
{
	void *p = hwg_ptr(g, ga, len);
	if (!p)
		return;
	memcpy(p, bytes, len);
	hw_hpa_written(g->m, g2h(g, ga), len);
}

static void put64(struct hwg *g, uint64_t ga, uint64_t v)
{
	hwg_load(g, ga, &v, 8);
}

/* GDT: null, 64-bit code, data, 64-bit TSS (16 bytes). */
static void build_gdt(struct hwg *g)
{
	put64(g, G_GDT + SEL_CODE, 0x00af9b000000ffffull);
	put64(g, G_GDT + SEL_DATA, 0x00cf93000000ffffull);
	const uint64_t tss = G_TSS;
	put64(g, G_GDT + SEL_TSS, 0x0000890000000067ull | ((tss & 0xffffff) << 16) |
				  ((tss >> 24) & 0xff) << 56);
	put64(g, G_GDT + SEL_TSS + 8, tss >> 32);
}

/* Identity guest tables over RAM: gva x -> guest-physical x (with TDP)
 * or host-physical ram_hpa + x (without). */
static int build_guest_tables(struct hwg *g, uint64_t page_size)
{
	const uint64_t off = g->tdp ? g->ram_hpa : 0;
	const uint64_t base = g->tdp ? G_TABLES : g2h(g, G_TABLES);
	const uint64_t end = g->tdp ? G_TABLES_END : g2h(g, G_TABLES_END);
	ptb_init(&g->guest, g->mem, hw_arena_size(g->m), off, base, end);
	g->cr3 = ptb_root(&g->guest, PTB_64);
	if (g->cr3 == PTB_NONE)
		return -ENOMEM;
	const uint64_t pa = g->tdp ? 0 : g->ram_hpa;
	return ptb_map_range(&g->guest, PTB_64, g->cr3, 0, pa, g->ram_size, page_size,
			     PTE_P | PTE_RW | PTE_A | PTE_D);
}

static int build_tdp(struct hwg *g, uint64_t page_size)
{
	const enum ptb_fmt fmt = g->vendor == HW_VENDOR_INTEL ? PTB_EPT : PTB_64;
	g->tdp_root = ptb_root(&g->host, fmt);
	if (g->tdp_root == PTB_NONE)
		return -ENOMEM;
	const uint64_t flags = fmt == PTB_EPT ? EPT_R | EPT_W | EPT_X | EPT_MT_WB
					      : PTE_P | PTE_RW | PTE_US;
	return ptb_map_range(&g->host, fmt, g->tdp_root, 0, g->ram_hpa, g->ram_size,
			     page_size, flags);
}

/* ------------------------------------------------------------ VMX */

/* A control word: what the test wants, adjusted to what the MSR allows. */
static uint32_t vmx_ctls(struct hwg *g, uint32_t msr, uint32_t want)
{
	uint64_t cap = 0;
	hw_rdmsr(g->cpu, msr, &cap);
	return (want | VMX_CTLS_ALLOWED0(cap)) & VMX_CTLS_ALLOWED1(cap);
}

static void vmw(struct hwg *g, uint64_t f, uint64_t v)
{
	vmwrite(g->cpu, f, v);
}

static int vmx_setup(struct hwg *g)
{
	struct hw_cpu *cpu = g->cpu;
	uint64_t basic = 0;

	hw_write_cr(cpu, 4, hw_read_cr(cpu, 4) | (1ull << 13));
	hw_wrmsr(cpu, MSR_IA32_FEATURE_CONTROL, 5);
	hw_rdmsr(cpu, MSR_IA32_VMX_BASIC, &basic);
	g->aux = host_page(g);
	g->ctl = host_page(g);
	const uint32_t rev = (uint32_t)(basic & VMX_BASIC_REVISION_MASK);
	memcpy(g->mem + g->aux, &rev, 4);
	memcpy(g->mem + g->ctl, &rev, 4);
	if (vmxon(cpu, g->aux) != VMX_SUCCEED || vmclear(cpu, g->ctl) != VMX_SUCCEED ||
	    vmptrld(cpu, g->ctl) != VMX_SUCCEED)
		return -EIO;

	vmw(g, VMCS_PIN_BASED_CTLS, vmx_ctls(g, MSR_IA32_VMX_TRUE_PINBASED_CTLS,
					     VMX_PIN_EXT_INTR_EXITING | VMX_PIN_NMI_EXITING));
	vmw(g, VMCS_PROC_BASED_CTLS, vmx_ctls(g, MSR_IA32_VMX_TRUE_PROCBASED_CTLS,
					      VMX_PROC_HLT_EXITING | VMX_PROC_UNCOND_IO_EXITING |
					      VMX_PROC_SECONDARY_CTLS));
	vmw(g, VMCS_PROC_BASED_CTLS2, vmx_ctls(g, MSR_IA32_VMX_PROCBASED_CTLS2,
					       VMX_PROC2_VPID | (g->tdp ? VMX_PROC2_EPT : 0)));
	vmw(g, VMCS_EXIT_CTLS, vmx_ctls(g, MSR_IA32_VMX_TRUE_EXIT_CTLS,
					VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE |
					VMX_EXIT_CTL_ACK_INTR_ON_EXIT |
					VMX_EXIT_CTL_SAVE_EFER | VMX_EXIT_CTL_LOAD_EFER));
	vmw(g, VMCS_ENTRY_CTLS, vmx_ctls(g, MSR_IA32_VMX_TRUE_ENTRY_CTLS,
					 VMX_ENTRY_CTL_IA32E_MODE_GUEST | VMX_ENTRY_CTL_LOAD_EFER));
	vmw(g, VMCS_VPID, 1);
	if (g->tdp)
		vmw(g, VMCS_EPT_POINTER, g->tdp_root | 6 | (3 << 3));
	vmw(g, VMCS_LINK_POINTER, ~0ull);
	vmw(g, VMCS_CR4_GUEST_HOST_MASK, 1ull << 13);
	vmw(g, VMCS_CR4_READ_SHADOW, 1ull << 5);

	/* Host state: the processor's own root state (hw_read_cr). */
	vmw(g, VMCS_HOST_CR0, hw_read_cr(cpu, 0));
	vmw(g, VMCS_HOST_CR3, hw_read_cr(cpu, 3));
	vmw(g, VMCS_HOST_CR4, hw_read_cr(cpu, 4));
	vmw(g, VMCS_HOST_CS_SELECTOR, 0x10);
	vmw(g, VMCS_HOST_SS_SELECTOR, 0x18);
	vmw(g, VMCS_HOST_DS_SELECTOR, 0x18);
	vmw(g, VMCS_HOST_ES_SELECTOR, 0x18);
	vmw(g, VMCS_HOST_TR_SELECTOR, 0x40);
	vmw(g, VMCS_HOST_RIP, 0x1000);
	vmw(g, VMCS_HOST_RSP, 0x2000);
	uint64_t efer = 0;
	hw_rdmsr(cpu, MSR_IA32_EFER, &efer);
	vmw(g, VMCS_HOST_IA32_EFER, efer);

	/* Guest state: 64-bit mode at CPL 0. */
	vmw(g, VMCS_GUEST_CR0, 0x80050033ull);
	vmw(g, VMCS_GUEST_CR3, g->cr3);
	vmw(g, VMCS_GUEST_CR4, (1ull << 5) | (1ull << 13));
	vmw(g, VMCS_GUEST_IA32_EFER, (1ull << 0) | (1ull << 8) | (1ull << 10) | (1ull << 11));
	vmw(g, VMCS_GUEST_DR7, 0x400);
	vmw(g, VMCS_GUEST_RFLAGS, 2);
	static const uint64_t sel[] = {
		VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_CS_SELECTOR, VMCS_GUEST_SS_SELECTOR,
		VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_FS_SELECTOR, VMCS_GUEST_GS_SELECTOR,
	};
	for (unsigned i = 0; i < 6; i++)
		vmw(g, sel[i], i == 1 ? SEL_CODE : SEL_DATA);
	/* Limits, access rights and bases follow the selector fields'
	 * order in Appendix B (stride 2 within each group). */
	for (unsigned i = 0; i < 6; i++) {
		const bool cs = i == 1;
		vmw(g, VMCS_GUEST_ES_LIMIT + 2 * i, 0xffffffff);
		vmw(g, VMCS_GUEST_ES_ACCESS_RIGHTS + 2 * i, cs ? 0xa09b : 0xc093);
		vmw(g, VMCS_GUEST_ES_BASE + 2 * i, 0);
	}
	vmw(g, VMCS_GUEST_LDTR_ACCESS_RIGHTS, 1u << 16);
	vmw(g, VMCS_GUEST_TR_SELECTOR, SEL_TSS);
	vmw(g, VMCS_GUEST_TR_BASE, G_TSS);
	vmw(g, VMCS_GUEST_TR_LIMIT, 0x67);
	vmw(g, VMCS_GUEST_TR_ACCESS_RIGHTS, 0x8b);
	vmw(g, VMCS_GUEST_GDTR_BASE, G_GDT);
	vmw(g, VMCS_GUEST_GDTR_LIMIT, 0x27);
	vmw(g, VMCS_GUEST_IDTR_BASE, G_IDT);
	vmw(g, VMCS_GUEST_IDTR_LIMIT, 0xfff);
	return 0;
}

/* ------------------------------------------------------------ SVM */

#define ATTR_CODE64 0xa9b	/* type b, S, P, L, G (APM 15.5.1 packing) */
#define ATTR_DATA 0xc93		/* type 3, S, P, D/B, G */
#define ATTR_TSS64 0x08b	/* busy 64-bit TSS, P */

static int svm_setup(struct hwg *g)
{
	struct hw_cpu *cpu = g->cpu;
	uint64_t efer = 0;

	hw_rdmsr(cpu, MSR_IA32_EFER, &efer);
	if (hw_wrmsr(cpu, MSR_IA32_EFER, efer | (1ull << 12)))
		return -EIO;
	g->aux = host_page(g);
	g->ctl = host_page(g);
	hw_wrmsr(cpu, MSR_AMD_VM_HSAVE_PA, g->aux);
	/* IOPM (3 pages, every port intercepted) and MSRPM (2 pages, none). */
	const uint64_t iopm = host_page(g);
	host_page(g);
	host_page(g);
	memset(g->mem + iopm, 0xff, 3 * 4096);
	const uint64_t msrpm = host_page(g);
	host_page(g);

	struct vmcb *v = hwg_vmcb(g);
	memset(v, 0, sizeof(*v));
	v->control.intercept_misc1 = SVM_INTERCEPT_HLT | SVM_INTERCEPT_IOIO_PROT |
				     SVM_INTERCEPT_MSR_PROT | SVM_INTERCEPT_SHUTDOWN |
				     SVM_INTERCEPT_INTR | SVM_INTERCEPT_NMI;
	v->control.intercept_misc2 = SVM_INTERCEPT2_VMRUN | SVM_INTERCEPT2_VMMCALL;
	v->control.iopm_base_pa = iopm;
	v->control.msrpm_base_pa = msrpm;
	v->control.guest_asid = 1;
	v->control.v_intr_masking = SVM_V_INTR_MASKING;
	if (g->tdp) {
		v->control.np_enable = SVM_NP_ENABLE;
		v->control.n_cr3 = g->tdp_root;
	}
	struct vmcb_seg *segs[] = { &v->save.es, &v->save.cs, &v->save.ss,
				    &v->save.ds, &v->save.fs, &v->save.gs };
	for (unsigned i = 0; i < 6; i++) {
		const bool cs = i == 1;
		*segs[i] = (struct vmcb_seg){ .selector = cs ? SEL_CODE : SEL_DATA,
					      .attrib = cs ? ATTR_CODE64 : ATTR_DATA,
					      .limit = 0xffffffff, .base = 0 };
	}
	v->save.tr = (struct vmcb_seg){ .selector = SEL_TSS, .attrib = ATTR_TSS64,
					.limit = 0x67, .base = G_TSS };
	v->save.gdtr.base = G_GDT;
	v->save.gdtr.limit = 0x27;
	v->save.idtr.base = G_IDT;
	v->save.idtr.limit = 0xfff;
	v->save.efer = (1ull << 0) | (1ull << 8) | (1ull << 10) | (1ull << 11) | (1ull << 12);
	v->save.cr0 = 0x80050033ull;
	v->save.cr3 = g->cr3;
	v->save.cr4 = 1ull << 5;
	v->save.dr6 = 0xffff0ff0;
	v->save.dr7 = 0x400;
	v->save.rflags = 2;
	v->save.g_pat = 0x0007040600070406ull;
	/* FS, GS, TR and LDTR are VMLOAD's (15.5.2): load them from here. */
	return vmload(cpu, g->ctl) == SVM_OK ? 0 : -EIO;
}

struct vmcb *hwg_vmcb(struct hwg *g)
{
	return (struct vmcb *)(g->mem + g->ctl);
}

/* ------------------------------------------------------------ common */

int hwg_create(struct hwg *g, const struct hwg_config *cfg)
{
	struct hw_machine_config mc;
	int r;

	memset(g, 0, sizeof(*g));
	if (cfg->machine)
		mc = *cfg->machine;
	else
		hw_machine_config_default(&mc, cfg->vendor);
	mc.vendor = cfg->vendor;
	if (mc.arena_size < HWG_HOST_AREA + cfg->ram_size)
		mc.arena_size = HWG_HOST_AREA + cfg->ram_size;
	r = hw_machine_create(&mc, &g->m);
	if (r)
		return r;
	r = hw_cpu_create(g->m, 0, &g->cpu);
	if (r)
		goto err;
	g->vendor = cfg->vendor;
	g->tdp = cfg->tdp;
	g->mem = hw_hpa_ptr(g->m, 0, 1);
	g->ram_size = cfg->ram_size;
	g->ram_hpa = HWG_HOST_AREA;
	ptb_init(&g->host, g->mem, hw_arena_size(g->m), 0, 0x10000, HWG_HOST_AREA);
	build_gdt(g);
	r = build_guest_tables(g, cfg->guest_page_size ? cfg->guest_page_size : PTB_4K);
	if (!r && g->tdp)
		r = build_tdp(g, cfg->tdp_page_size ? cfg->tdp_page_size : PTB_4K);
	if (!r)
		r = g->vendor == HW_VENDOR_INTEL ? vmx_setup(g) : svm_setup(g);
	if (r)
		goto err;
	return 0;
err:
	hw_machine_destroy(g->m);
	g->m = NULL;
	return r;
}

void hwg_destroy(struct hwg *g)
{
	hw_machine_destroy(g->m);
	g->m = NULL;
}

uint64_t hwg_vmread(struct hwg *g, uint64_t field)
{
	uint64_t v = 0;
	vmread(g->cpu, field, &v);
	return v;
}

void hwg_vmwrite(struct hwg *g, uint64_t field, uint64_t val)
{
	vmwrite(g->cpu, field, val);
}

void hwg_set_entry(struct hwg *g, uint64_t rip, uint64_t rsp)
{
	if (g->vendor == HW_VENDOR_INTEL) {
		vmw(g, VMCS_GUEST_RIP, rip);
		vmw(g, VMCS_GUEST_RSP, rsp);
	} else {
		hwg_vmcb(g)->save.rip = rip;
		hwg_vmcb(g)->save.rsp = rsp;
	}
}

uint64_t hwg_rip(struct hwg *g)
{
	return g->vendor == HW_VENDOR_INTEL ? hwg_vmread(g, VMCS_GUEST_RIP)
					    : hwg_vmcb(g)->save.rip;
}

void hwg_set_rip(struct hwg *g, uint64_t rip)
{
	if (g->vendor == HW_VENDOR_INTEL)
		vmw(g, VMCS_GUEST_RIP, rip);
	else
		hwg_vmcb(g)->save.rip = rip;
}

/* RSP lives in the VMCS/VMCB, RAX too on SVM; the rest in the register
 * file, which the host shares with the guest (hw_cpu_gprs). */
uint64_t hwg_gpr(struct hwg *g, unsigned reg)
{
	if (reg == 4)
		return g->vendor == HW_VENDOR_INTEL ? hwg_vmread(g, VMCS_GUEST_RSP)
						    : hwg_vmcb(g)->save.rsp;
	if (reg == 0 && g->vendor == HW_VENDOR_AMD)
		return hwg_vmcb(g)->save.rax;
	return hw_cpu_gprs(g->cpu)[reg];
}

void hwg_set_gpr(struct hwg *g, unsigned reg, uint64_t val)
{
	if (reg == 4) {
		if (g->vendor == HW_VENDOR_INTEL)
			vmw(g, VMCS_GUEST_RSP, val);
		else
			hwg_vmcb(g)->save.rsp = val;
	} else if (reg == 0 && g->vendor == HW_VENDOR_AMD) {
		hwg_vmcb(g)->save.rax = val;
	} else {
		hw_cpu_gprs(g->cpu)[reg] = val;
	}
}

uint64_t hwg_run(struct hwg *g, int *status)
{
	int st;
	if (g->vendor == HW_VENDOR_INTEL) {
		st = g->launched ? vmresume(g->cpu) : vmlaunch(g->cpu);
		if (st == VMX_SUCCEED)
			g->launched = true;
		if (status)
			*status = st;
		return hwg_vmread(g, VMCS_EXIT_REASON);
	}
	st = vmrun(g->cpu, g->ctl);
	if (status)
		*status = st;
	return hwg_vmcb(g)->control.exitcode;
}

void hwg_skip(struct hwg *g)
{
	if (g->vendor == HW_VENDOR_INTEL)
		vmw(g, VMCS_GUEST_RIP, hwg_rip(g) + hwg_vmread(g, VMCS_EXIT_INSTRUCTION_LEN));
	else
		hwg_vmcb(g)->save.rip = hwg_vmcb(g)->control.next_rip;
}
