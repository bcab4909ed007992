/*
 * test_hw_guest_vpid.c — two guests on one processor, each with its own
 * VMCS (VPID 1 and 2) or VMCB (ASID 1 and 2), the same guest-linear
 * address mapped to different pages: switching between them never shows
 * one guest the other's cached translation, and each guest's entries
 * survive the other's run until the hypervisor flushes them.
 *
 *   SDM Vol. 3C 29.4.1-29.4.3: with VPIDs enabled, linear and combined
 *   mappings are tagged with the VPID (and the EP4TA); VM entry and exit
 *   do not invalidate them; INVVPID single-context drops one VPID's.
 *   APM Vol. 2 15.16: TLB entries are tagged with the ASID; VMRUN flushes
 *   only what TLB_CONTROL asks (1: everything, 3: this ASID).
 *
 * Guest 1 runs on the harness's tables (GM_VA_T -> 0x1111), guest 2 on
 * a second root (GM_VA_T -> 0x2222); both read GM_VA_T into GM_OUT slot
 * 0 and halt. The second guest's control structure is a copy of the
 * first's, made as a hypervisor would: VMREAD/VMWRITE of every field the
 * processor has (hw/vmcs_fields.def), or a copy of the VMCB page.
 */
#include "test_hw_guest_code.h"

#define PAGE(i)		(GM_TPAGE + 0x1000ull * (i))
#define VAL(i)		(0x1111u * ((i) + 1))
#define PRW		(PTE_P | PTE_RW | PTE_A | PTE_D)

static const uint32_t vmcs_fields[] = {
#define VMCS_FIELD(name, enc) enc,
#include "hw/vmcs_fields.def"
#undef VMCS_FIELD
};
#define NR_FIELDS (sizeof(vmcs_fields) / sizeof(vmcs_fields[0]))

struct pair {
	struct gm m;
	uint64_t root2;		/* guest 2's CR3 */
	uint64_t ctl2;		/* its VMCS or VMCB, hpa */
	bool launched2;
	uint64_t pte1;		/* guest-linear address of guest 1's PTE */
};

/* The other VMCS: a fresh region, every writable field copied (bits
 * 11:10 of the encoding = 1 are the read-only exit-information fields,
 * SDM Vol. 3C 25.11.2). Leaves the first VMCS current. */
static uint64_t vmcs_copy(struct gm *m)
{
	static uint64_t val[NR_FIELDS];
	struct hw_cpu *cpu = m->g.cpu;
	for (size_t i = 0; i < NR_FIELDS; i++)
		val[i] = hwg_vmread(&m->g, vmcs_fields[i]);
	const uint64_t v2 = ptb_alloc(&m->g.host);
	uint64_t basic = 0;
	hw_rdmsr(cpu, 0x480, &basic);			/* IA32_VMX_BASIC */
	const uint32_t rev = (uint32_t)(basic & 0x7fffffff);	/* bits 30:0 (A.1) */
	memcpy(hw_hpa_ptr(m->g.m, v2, 4), &rev, 4);
	assert_int_equal(vmclear(cpu, v2), VMX_SUCCEED);
	assert_int_equal(vmptrld(cpu, v2), VMX_SUCCEED);
	for (size_t i = 0; i < NR_FIELDS; i++)
		if (((vmcs_fields[i] >> 10) & 3) != 1)
			assert_int_equal(vmwrite(cpu, vmcs_fields[i], val[i]), VMX_SUCCEED);
	assert_int_equal(vmptrld(cpu, m->g.ctl), VMX_SUCCEED);
	return v2;
}

static void pair_init(struct pair *p, const struct gm_cfg *c, uint16_t tag2)
{
	struct gm *m = &p->m;
	memset(p, 0, sizeof(*p));
	gm_create(m, c, GM_64, 0, 0, 0);
	for (unsigned i = 0; i < 3; i++)
		gm_put32(m, PAGE(i), VAL(i));
	gm_map(m, GM_VA_T, PAGE(0), PTB_4K, PRW);
	p->pte1 = gm_table_va(m, ptb_entry_addr(&m->g.guest, PTB_64, m->cr3, GM_VA_T, 1));
	p->root2 = ptb_root(&m->g.guest, PTB_64);
	assert_int_equal(ptb_map_range(&m->g.guest, PTB_64, p->root2, 0, gm_pa(m, 0), GM_RAM,
				       PTB_2M, PRW), 0);
	assert_int_equal(ptb_map(&m->g.guest, PTB_64, p->root2, GM_VA_T, gm_pa(m, PAGE(1)),
				 PTB_4K, PRW), 0);
	struct gm_code code = { .n = 0 };
	gm_read_to(&code, GM_VA_T, 0);
	gm_hlt(&code);
	gm_put(m, GM_CODE, code.b, code.n);
	if (gm_vmx(m)) {
		hwg_vmwrite(&m->g, VMCS_VPID, 1);
		p->ctl2 = vmcs_copy(m);
		assert_int_equal(vmptrld(m->g.cpu, p->ctl2), VMX_SUCCEED);
		hwg_vmwrite(&m->g, VMCS_VPID, tag2);
		hwg_vmwrite(&m->g, VMCS_GUEST_CR3, p->root2);
		assert_int_equal(vmptrld(m->g.cpu, m->g.ctl), VMX_SUCCEED);
	} else {
		hwg_vmcb(&m->g)->control.guest_asid = 1;
		p->ctl2 = ptb_alloc(&m->g.host);
		struct vmcb *v2 = hw_hpa_ptr(m->g.m, p->ctl2, sizeof(*v2));
		memcpy(v2, hwg_vmcb(&m->g), sizeof(*v2));
		v2->control.guest_asid = tag2;
		v2->save.cr3 = p->root2;
	}
}

/* Run guest @which (1 or 2) from GM_CODE to its HLT; its read of GM_VA_T. */
static uint32_t run_guest(struct pair *p, unsigned which)
{
	struct gm *m = &p->m;
	gm_put64(m, GM_OUT, RES_UNTOUCHED);
	if (which == 1) {
		hwg_set_entry(&m->g, GM_CODE, GM_STACK);
		assert_int_equal(gm_run_to_hlt(m), GM_CODE + 14);
		return gm_out(m, 0);
	}
	struct hw_cpu *cpu = m->g.cpu;
	uint64_t reason;
	if (gm_vmx(m)) {
		assert_int_equal(vmptrld(cpu, p->ctl2), VMX_SUCCEED);
		vmwrite(cpu, VMCS_GUEST_RIP, GM_CODE);
		vmwrite(cpu, VMCS_GUEST_RSP, GM_STACK);
		const int st = p->launched2 ? vmresume(cpu) : vmlaunch(cpu);
		assert_int_equal(st, VMX_SUCCEED);
		p->launched2 = true;
		reason = hwg_vmread(&m->g, VMCS_EXIT_REASON);
		assert_int_equal(vmptrld(cpu, m->g.ctl), VMX_SUCCEED);
	} else {
		struct vmcb *v2 = hw_hpa_ptr(m->g.m, p->ctl2, sizeof(*v2));
		v2->save.rip = GM_CODE;
		v2->save.rsp = GM_STACK;
		assert_int_equal(vmrun(cpu, p->ctl2), SVM_OK);
		reason = v2->control.exitcode;
		v2->control.tlb_control = 0;
	}
	assert_int_equal(reason, gm_hlt_code(m));
	return gm_out(m, 0);
}

/*
 * Guest 1 caches GM_VA_T -> page 0; guest 2 (other tag) must read its
 * own page 1; guest 1's PTE changes to page 2 behind its back (no flush):
 * guest 1 may still use its cached entry after guest 2 ran, which shows
 * the entries are tagged, not flushed, at the switches. Then the
 * hypervisor flushes guest 1's tag and guest 1 must see page 2.
 */
static void two_tags(const struct gm_cfg *c)
{
	struct pair p;
	pair_init(&p, c, 2);
	assert_int_equal(run_guest(&p, 1), VAL(0));
	assert_int_equal(run_guest(&p, 2), VAL(1));		/* MUST */
	gm_put64(&p.m, p.pte1, gm_pa(&p.m, PAGE(2)) | PRW);	/* host-side store, as a guest's */
	assert_int_equal(run_guest(&p, 1), VAL(0));		/* may: still cached */
	assert_int_equal(run_guest(&p, 2), VAL(1));
	if (gm_vmx(&p.m)) {
		const struct invvpid_desc d = { .vpid = 1 };
		assert_int_equal(invvpid(p.m.g.cpu, 1, &d), VMX_SUCCEED);	/* single context */
	} else {
		hwg_vmcb(&p.m.g)->control.tlb_control = 3;	/* flush this ASID */
	}
	assert_int_equal(run_guest(&p, 1), VAL(2));		/* MUST */
	gm_destroy(&p.m);
}

static void vpid_two_vmcs(void **state)
{
	two_tags(&gm_cfgs[0]);
	two_tags(&gm_cfgs[1]);
}

static void asid_two_vmcb(void **state)
{
	two_tags(&gm_cfgs[2]);
	two_tags(&gm_cfgs[3]);
}

/*
 * Flushing the other tag leaves guest 1's entries: INVVPID
 * single-context of VPID 2 / TLB_CONTROL 3 on guest 2's VMCB. Guest 1
 * may still see its old page afterwards; guest 2 must see a change.
 */
static void flush_other_tag(void **state)
{
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		struct pair p;
		pair_init(&p, &gm_cfgs[k], 2);
		run_guest(&p, 1);
		run_guest(&p, 2);
		gm_put64(&p.m, p.pte1, gm_pa(&p.m, PAGE(2)) | PRW);
		const uint64_t pte2 = gm_table_va(&p.m, ptb_entry_addr(&p.m.g.guest, PTB_64, p.root2,
								      GM_VA_T, 1));
		gm_put64(&p.m, pte2, gm_pa(&p.m, PAGE(0)) | PRW);
		if (gm_vmx(&p.m)) {
			const struct invvpid_desc d = { .vpid = 2 };
			assert_int_equal(invvpid(p.m.g.cpu, 1, &d), VMX_SUCCEED);
		} else {
			struct vmcb *v2 = hw_hpa_ptr(p.m.g.m, p.ctl2, sizeof(*v2));
			v2->control.tlb_control = 3;
		}
		assert_int_equal(run_guest(&p, 2), VAL(0));	/* MUST: flushed */
		assert_int_equal(run_guest(&p, 1), VAL(0));	/* may: untouched */
		gm_destroy(&p.m);
	}
}

/*
 * The control case: both structures with the same tag. Nothing tells the
 * processor the address spaces differ, so guest 2 may see guest 1's
 * translation, and on the model does (the hypervisor would have to
 * INVVPID / use TLB_CONTROL when it reuses a tag: SDM 29.4.3.3, APM
 * 15.16.1). This shows the test above depends on the tags and nothing
 * else.
 */
static void same_tag_shares(void **state)
{
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		struct pair p;
		pair_init(&p, &gm_cfgs[k], 1);
		assert_int_equal(run_guest(&p, 1), VAL(0));
		assert_int_equal(run_guest(&p, 2), VAL(0));	/* may: guest 1's entry */
		gm_destroy(&p.m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vpid_two_vmcs),
		cmocka_unit_test(asid_two_vmcb),
		cmocka_unit_test(flush_other_tag),
		cmocka_unit_test(same_tag_shares),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
