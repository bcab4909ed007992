/*
 * vmx_check_suite.c — the harness of the VM-entry check tests (see
 * vmx_check_suite.h): the VMCS variants, the fixture and the row runner.
 */
#include <stdlib.h>
#include <string.h>

#include "hw/vmx_state.h"
#include "tests/support/vmcs_builder.h"
#include "tests/unit/support/vmx_check_suite.h"

#define MSR_VMX_BASIC 0x480
#define RF_VM (1ull << 17)

struct hw_machine *vcs_m;
struct hw_cpu *vcs_cpu;

uint64_t vcs_rd(uint32_t field)
{
	uint64_t v = 0;
	assert_int_equal(vmread(vcs_cpu, field, &v), VMX_SUCCEED);
	return v;
}

void vcs_wr(uint32_t field, uint64_t val)
{
	assert_int_equal(vmwrite(vcs_cpu, field, val), VMX_SUCCEED);
}

void vcs_put64(uint64_t hpa, uint64_t val)
{
	void *p = hw_hpa_ptr(vcs_m, hpa, 8);
	assert_non_null(p);
	memcpy(p, &val, 8);
	hw_hpa_written(vcs_m, hpa, 8);
}

/* CS 0x1000 and the five data segments 0x2000 as virtual-8086 mode has
 * them (27.3.1.2): base = selector * 16, limit 0xffff, AR 0xf3. Each
 * group of fields is in ES CS SS DS FS GS order with a stride of 2
 * (Appendix B). */
static void v86_segments(void)
{
	for (unsigned i = 0; i < 6; i++) {
		const uint16_t sel = i == 1 ? 0x1000 : 0x2000;
		vcs_wr(VMCS_GUEST_ES_SELECTOR + 2 * i, sel);
		vcs_wr(VMCS_GUEST_ES_BASE + 2 * i, (uint64_t)sel << 4);
		vcs_wr(VMCS_GUEST_ES_LIMIT + 2 * i, 0xffff);
		vcs_wr(VMCS_GUEST_ES_ACCESS_RIGHTS + 2 * i, 0xf3);
	}
	vcs_wr(VMCS_GUEST_RFLAGS, vcs_rd(VMCS_GUEST_RFLAGS) | RF_VM);
}

/* The long-mode VMCS as a 32-bit protected-mode guest with PAE paging:
 * "IA-32e mode guest" 0, EFER.LMA = LME = 0, 32-bit CS, two present
 * PDPTEs. */
static void make_pae(void)
{
	vcs_wr(VMCS_ENTRY_CTLS, vcs_rd(VMCS_ENTRY_CTLS) & ~(uint64_t)ENTRY_IA32E);
	vcs_wr(VMCS_GUEST_IA32_EFER, EFER_NXE);
	vcs_wr(VMCS_GUEST_CS_ACCESS_RIGHTS, 0xc09b);
	vcs_wr(VMCS_GUEST_PDPTE0, 0x9001);
	vcs_wr(VMCS_GUEST_PDPTE1, 0xa001);
}

void vcs_build(enum vcs_base base)
{
	struct vmcs_build b = {
		.eptp = VCS_EPT, .vpid = 1, .guest_cr3 = VCS_GUEST_CR3,
		.guest_rip = 0x1000, .guest_rsp = 0x8000,
		.host_rip = 0x400000, .host_rsp = 0x500000, .host_cr3 = 0x600000,
	};
	if (base == LONG_NOEPT || base == PAE_NOEPT)
		b.eptp = b.vpid = 0;
	if (base == REAL)
		assert_int_equal(vmcs_build_real_mode(vcs_cpu, &b), 0);
	else
		assert_int_equal(vmcs_build_long_mode(vcs_cpu, &b), 0);

	switch (base) {
	case PAE_NOEPT:
		vcs_put64(VCS_PDPT, 0x9001);
		vcs_put64(VCS_PDPT + 8, 0xa001);
		vcs_wr(VMCS_GUEST_CR3, VCS_PDPT);
		make_pae();
		break;
	case PAE:
		make_pae();
		break;
	case USER:
		vcs_wr(VMCS_GUEST_CS_SELECTOR, 0x1b);
		vcs_wr(VMCS_GUEST_CS_ACCESS_RIGHTS, 0xa0fb);
		vcs_wr(VMCS_GUEST_SS_SELECTOR, 0x23);
		vcs_wr(VMCS_GUEST_SS_ACCESS_RIGHTS, 0xc0f3);
		break;
	case V86:
		make_pae();
		v86_segments();
		break;
	case V86_LONG:
		v86_segments();
		break;
	default:
		break;
	}
}

static void put_revision(uint64_t hpa, uint32_t rev)
{
	void *p = hw_hpa_ptr(vcs_m, hpa, 4);
	assert_non_null(p);
	memcpy(p, &rev, 4);
}

static int setup(void **state)
{
	struct hw_machine_config cfg;
	uint64_t basic = 0;

	hw_machine_config_default(&cfg, HW_VENDOR_INTEL);
	cfg.arena_size = VCS_ARENA;
	assert_int_equal(hw_machine_create(&cfg, &vcs_m), 0);
	assert_int_equal(hw_cpu_create(vcs_m, 0, &vcs_cpu), 0);
	assert_int_equal(vmcs_build_enter(vcs_m, vcs_cpu, VCS_VMXON, VCS_VMCS), 0);
	assert_int_equal(hw_rdmsr(vcs_cpu, MSR_VMX_BASIC, &basic), 0);
	const uint32_t rev = (uint32_t)basic & 0x7fffffff;
	put_revision(VCS_LINK, rev);
	put_revision(VCS_LINK_SHADOW, rev | 1u << 31);
	return 0;
}

static int teardown(void **state)
{
	hw_machine_destroy(vcs_m);
	vcs_m = NULL;
	vcs_cpu = NULL;
	return 0;
}

void vcs_expect(enum vcs_stage stage, int value, const char *why_part)
{
	const char *why = NULL;
	enum vcs_stage got = OK;
	int r = vmx_check_controls(vcs_cpu, &why);
	if (r)
		got = CTL;
	else if ((r = vmx_check_host_state(vcs_cpu, &why)))
		got = HOST;
	else if ((r = vmx_check_guest_state(vcs_cpu, &why)))
		got = GUEST;
	if (got != stage || r != value || (why_part && (!why || !strstr(why, why_part))))
		fail_msg("expected stage %d value %d (\"%s\"), got stage %d value %d (\"%s\")",
			 stage, value, why_part ? why_part : "", got, r, why ? why : "");
}

static void run_row(void **state)
{
	const struct vcs_row *row = *state;
	vcs_build(row->base);
	for (unsigned i = 0; i < VCS_COUNT(row->e); i++) {
		const struct vcs_edit *e = &row->e[i];
		if (!e->clear && !e->set)
			continue;
		vcs_wr(e->field, (vcs_rd(e->field) & ~e->clear) | e->set);
	}
	vcs_expect(row->stage, row->value, row->why);
}

int vcs_run(const char *group, const struct vcs_row *rows, size_t nrows,
	    const struct vcs_function *fns, size_t nfns)
{
	struct CMUnitTest *tests = calloc(nrows + nfns, sizeof(*tests));
	if (!tests)
		return 1;
	for (size_t i = 0; i < nrows; i++)
		tests[i] = (struct CMUnitTest){ rows[i].name, run_row, setup, teardown,
						(void *)&rows[i] };
	for (size_t i = 0; i < nfns; i++)
		tests[nrows + i] = (struct CMUnitTest){ fns[i].name, fns[i].fn, setup, teardown,
							NULL };
	const int r = _cmocka_run_group_tests(group, tests, nrows + nfns, NULL, NULL);
	free(tests);
	return r;
}
