/*
 * hvguest.c — see hvguest.h.
 *
 * Link note: every unit-test program links this file, the test_dev_*
 * programs too, and those define their own fake hv_write_guest and
 * hv_read_guest (tests/unit/test_dev_fakes.h). A plain reference from
 * here to any hv_* call would pull libhvlab's core objects, and with them
 * the real definitions, into those programs: two definitions, no link.
 * The references below are weak, so they never pull an archive member;
 * the test_core_* programs, which call the API themselves, bring the
 * real calls in, and the weak references bind to them.
 *
 * Descriptor encodings: SDM Vol. 3A 3.4.5 (segment descriptors), 6.11
 * and 6.14.1 (interrupt gates), 4.5 (IA-32e paging entries).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#define HVG_WEAK_API
#include "tests/unit/support/hvguest.h"

#pragma weak hv_backends
#pragma weak hv_vm_create
#pragma weak hv_vm_destroy
#pragma weak hv_set_memory_region
#pragma weak hv_vcpu_create
#pragma weak hv_write_guest
#pragma weak hv_read_guest
#pragma weak hv_get_regs
#pragma weak hv_set_regs
#pragma weak hv_get_sregs
#pragma weak hv_set_sregs
#pragma weak hv_run
#pragma weak hv_get_stats
#pragma weak hv_strerror

const char *hvg_backend(unsigned i)
{
	static char name[32];
	const char *p = hv_backends();
	for (;;) {
		while (*p == ' ')
			p++;
		if (!*p)
			return NULL;
		const size_t n = strcspn(p, " ");
		if (!i--) {
			snprintf(name, sizeof(name), "%.*s", (int)n, p);
			return name;
		}
		p += n;
	}
}

/* The VMs hvg_create made and hvg_destroy has not freed yet: a failed
 * assertion leaves the test half-way, and hvg_teardown frees them. */
static struct hv_vm *live[8];

static void track(struct hv_vm *vm, struct hv_vm *with)
{
	for (unsigned i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		if (live[i] == vm) {
			live[i] = with;
			return;
		}
	fail_msg("hvguest: more than %zu VMs at once", sizeof(live) / sizeof(live[0]));
}

int hvg_teardown(void **state)
{
	for (unsigned i = 0; i < sizeof(live) / sizeof(live[0]); i++) {
		hv_vm_destroy(live[i]);
		live[i] = NULL;
	}
	return 0;
}

void hvg_create_with(struct hvg *g, const char *backend, const char *mmu, uint64_t ram)
{
	memset(g, 0, sizeof(*g));
	g->backend = backend;
	g->gdt = HVG_GDT;
	const struct hv_vm_config cfg = { .backend = backend, .mmu = mmu, .max_mem = HVG_MAX_MEM };
	int r = hv_vm_create(&cfg, &g->vm);
	if (r)
		fail_msg("%s: hv_vm_create: %d (%s)", backend, r, hv_strerror());
	track(NULL, g->vm);
	const struct hv_memory_region mr = { .slot = 0, .gpa = 0, .size = ram };
	r = hv_set_memory_region(g->vm, &mr);
	if (!r)
		r = hv_vcpu_create(g->vm, 0, &g->vcpu);
	if (r) {
		track(g->vm, NULL);
		hv_vm_destroy(g->vm);
		g->vm = NULL;
		fail_msg("%s: VM set-up: %d (%s)", backend, r, hv_strerror());
	}
}

void hvg_create(struct hvg *g, const char *backend)
{
	hvg_create_with(g, backend, NULL, HVG_RAM);
}

void hvg_adopt(struct hvg *g)
{
	track(NULL, g->vm);
}

void hvg_destroy(struct hvg *g)
{
	if (g->vm)
		track(g->vm, NULL);
	hv_vm_destroy(g->vm);
	g->vm = NULL;
	g->vcpu = NULL;
}

void hvg_load(struct hvg *g, uint64_t gpa, const void *bytes, size_t len)
{
	assert_int_equal(hv_write_guest(g->vm, gpa, bytes, len), 0);
}

void hvg_put32(struct hvg *g, uint64_t gpa, uint32_t v)
{
	hvg_load(g, gpa, &v, sizeof(v));
}

void hvg_put64(struct hvg *g, uint64_t gpa, uint64_t v)
{
	hvg_load(g, gpa, &v, sizeof(v));
}

uint32_t hvg_get32(struct hvg *g, uint64_t gpa)
{
	uint32_t v = 0;
	assert_int_equal(hv_read_guest(g->vm, gpa, &v, sizeof(v)), 0);
	return v;
}

uint64_t hvg_get64(struct hvg *g, uint64_t gpa)
{
	uint64_t v = 0;
	assert_int_equal(hv_read_guest(g->vm, gpa, &v, sizeof(v)), 0);
	return v;
}

struct hv_regs hvg_regs(struct hvg *g)
{
	struct hv_regs r;
	assert_int_equal(hv_get_regs(g->vcpu, &r), 0);
	return r;
}

void hvg_set_regs(struct hvg *g, const struct hv_regs *r)
{
	assert_int_equal(hv_set_regs(g->vcpu, r), 0);
}

void hvg_start_at(struct hvg *g, uint64_t rip, uint64_t rsp)
{
	struct hv_regs r = hvg_regs(g);
	r.rip = rip;
	r.rsp = rsp;
	r.rflags = 0x2;
	hvg_set_regs(g, &r);
}

void hvg_set_rip(struct hvg *g, uint64_t rip)
{
	struct hv_regs r = hvg_regs(g);
	r.rip = rip;
	hvg_set_regs(g, &r);
}

void hvg_enter_real(struct hvg *g, uint64_t rip)
{
	struct hv_sregs s;
	assert_int_equal(hv_get_sregs(g->vcpu, &s), 0);
	s.cs.selector = 0;
	s.cs.base = 0;
	s.idt = (struct hv_dtable){ .base = 0, .limit = 0x3ff };	/* real-mode IVT */
	assert_int_equal(hv_set_sregs(g->vcpu, &s), 0);
	g->long_mode = false;
	hvg_start_at(g, rip, HVG_STACK);
}

/* A flat segment as the descriptor cache holds it: base 0, 4 GiB, G. */
static struct hv_segment flat(uint16_t sel, uint8_t type, bool l)
{
	return (struct hv_segment){ .base = 0, .limit = 0xffffffff, .selector = sel,
				    .type = type, .present = 1, .s = 1, .g = 1,
				    .db = !l, .l = l };
}

static void flat_sregs(struct hvg *g, struct hv_sregs *s, bool lm)
{
	/* Descriptors (3.4.5): 32-bit code 0x00cf9b..., data 0x00cf93...,
	 * 64-bit code with L = 1, D = 0: 0x00af9b... (all accessed). */
	hvg_put64(g, g->gdt, 0);
	hvg_put64(g, g->gdt + HVG_SEL_CODE32, 0x00cf9b000000ffffull);
	hvg_put64(g, g->gdt + HVG_SEL_DATA, 0x00cf93000000ffffull);
	hvg_put64(g, g->gdt + HVG_SEL_CODE64, 0x00af9b000000ffffull);
	assert_int_equal(hv_get_sregs(g->vcpu, s), 0);
	s->cs = lm ? flat(HVG_SEL_CODE64, 0xb, true) : flat(HVG_SEL_CODE32, 0xb, false);
	s->ds = s->es = s->fs = s->gs = s->ss = flat(HVG_SEL_DATA, 0x3, false);
	/* A busy TSS, which VM entry requires of TR (SDM Vol. 3C 27.3.1.2). */
	s->tr = (struct hv_segment){ .limit = 0x67, .type = 0xb, .present = 1 };
	s->ldt = (struct hv_segment){ .unusable = 1 };
	s->gdt = (struct hv_dtable){ .base = g->gdt, .limit = 0x1f };
	s->idt = (struct hv_dtable){ .base = 0, .limit = 0 };
}

void hvg_enter_protected(struct hvg *g, uint64_t rip)
{
	struct hv_sregs s;
	flat_sregs(g, &s, false);
	s.cr0 = HVG_CR0_PE | HVG_CR0_ET;
	s.cr4 = 0;
	s.efer = 0;
	assert_int_equal(hv_set_sregs(g->vcpu, &s), 0);
	g->long_mode = false;
	hvg_start_at(g, rip, HVG_STACK);
}

void hvg_enter_long_cr3(struct hvg *g, uint64_t rip, uint64_t cr3, uint64_t cr0)
{
	struct hv_sregs s;
	flat_sregs(g, &s, true);
	s.cr0 = cr0;
	s.cr4 = HVG_CR4_PAE;
	s.cr3 = cr3;
	s.efer = HVG_EFER_LME | HVG_EFER_LMA;
	int r = hv_set_sregs(g->vcpu, &s);
	if (r)
		fail_msg("%s: hv_set_sregs (IA-32e): %d (%s)", g->backend, r, hv_strerror());
	g->long_mode = true;
	hvg_start_at(g, rip, HVG_STACK);
}

void hvg_enter_long(struct hvg *g, uint64_t rip)
{
	/* PML4E and PDPTEs: P | RW (bits 0, 1); PDEs: P | RW | PS (bit 7). */
	hvg_put64(g, HVG_PML4, (HVG_PML4 + 0x1000) | 3);
	uint64_t pd[512];
	for (uint64_t t = 0; t < 4; t++) {
		const uint64_t pd_gpa = HVG_PML4 + 0x2000 + 0x1000 * t;
		hvg_put64(g, HVG_PML4 + 0x1000 + 8 * t, pd_gpa | 3);
		for (uint64_t i = 0; i < 512; i++)
			pd[i] = ((t * 512 + i) << 21) | 0x83;
		hvg_load(g, pd_gpa, pd, sizeof(pd));
	}
	hvg_enter_long_cr3(g, rip, HVG_PML4, HVG_CR0_PG | HVG_CR0_WP | HVG_CR0_NE |
			   HVG_CR0_ET | HVG_CR0_PE);
}

void hvg_set_gate(struct hvg *g, unsigned vector, uint64_t handler)
{
	struct hv_sregs s;
	const uint64_t lo16 = handler & 0xffff, hi16 = (handler >> 16) & 0xffff;
	if (g->long_mode) {
		hvg_put64(g, HVG_IDT + 16 * vector, lo16 | (uint64_t)HVG_SEL_CODE64 << 16 |
			  0x8e00ull << 32 | hi16 << 48);
		hvg_put64(g, HVG_IDT + 16 * vector + 8, handler >> 32);
	} else {
		hvg_put64(g, HVG_IDT + 8 * vector, lo16 | (uint64_t)HVG_SEL_CODE32 << 16 |
			  0x8e00ull << 32 | hi16 << 48);
	}
	assert_int_equal(hv_get_sregs(g->vcpu, &s), 0);
	s.idt = (struct hv_dtable){ .base = HVG_IDT, .limit = g->long_mode ? 0xfff : 0x7ff };
	assert_int_equal(hv_set_sregs(g->vcpu, &s), 0);
}

uint32_t hvg_run(struct hvg *g)
{
	int r = hv_run(g->vcpu, &g->run);
	if (r)
		fail_msg("%s: hv_run: %d (%s)", g->backend, r, hv_strerror());
	if (g->run.exit_reason == HV_EXIT_INTERNAL_ERROR)
		print_error("%s: internal error %u: %s\n", g->backend, g->run.internal.suberror,
			    g->run.internal.why);
	return g->run.exit_reason;
}

struct hv_run *hvg_expect_exit(struct hvg *g, uint32_t reason)
{
	assert_int_equal(hvg_run(g), reason);
	return &g->run;
}

void hvg_expect_io(struct hvg *g, uint16_t port, uint8_t dir, uint8_t size, uint32_t data)
{
	assert_int_equal(hvg_run(g), HV_EXIT_IO);
	assert_int_equal(g->run.io.port, port);
	assert_int_equal(g->run.io.direction, dir);
	assert_int_equal(g->run.io.size, size);
	assert_int_equal(g->run.io.count, 1);
	if (dir == HV_EXIT_IO_OUT) {
		uint32_t v = 0;
		memcpy(&v, g->run.io.data, size);
		assert_int_equal(v, data);
	}
}

void hvg_expect_mmio_write(struct hvg *g, uint64_t gpa, uint32_t len, uint64_t data)
{
	assert_int_equal(hvg_run(g), HV_EXIT_MMIO);
	assert_true(g->run.mmio.is_write);
	assert_int_equal(g->run.mmio.phys_addr, gpa);
	assert_int_equal(g->run.mmio.len, len);
	assert_true(len <= sizeof(data));
	uint64_t v = 0;
	memcpy(&v, g->run.mmio.data, len);
	assert_int_equal(v, data);
}

void hvg_expect_mmio_read(struct hvg *g, uint64_t gpa, uint32_t len, uint64_t data)
{
	assert_int_equal(hvg_run(g), HV_EXIT_MMIO);
	assert_false(g->run.mmio.is_write);
	assert_int_equal(g->run.mmio.phys_addr, gpa);
	assert_int_equal(g->run.mmio.len, len);
	memcpy(g->run.mmio.data, &data, sizeof(data));
}

uint64_t hvg_stat(struct hvg *g, const char *name)
{
	struct hv_stat st[512];
	const int n = hv_get_stats(g->vm, st, 512);
	assert_true(n > 0 && n <= 512);
	for (int i = 0; i < n; i++)
		if (!strcmp(st[i].name, name))
			return st[i].value;
	fail_msg("no statistic '%s'", name);
	return 0;
}

void hvg_assert_one_line(void)
{
	const char *m = hv_strerror();
	assert_non_null(m);
	if (!m[0] || strchr(m, '\n'))
		fail_msg("hv_strerror() is not one line of text: '%s'", m);
}
