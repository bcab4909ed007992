/*
 * test_core_api.c — every call of include/hvlab/hv.h with NULL and bad
 * arguments, on every backend: the documented -errno, a one-line
 * hv_strerror(), no abort, no crash (run it under ASan + UBSan), and a
 * failed call leaves the state it was given alone.
 *
 * What counts as bad comes from the header's contracts and, for register
 * state, from the SDM: RFLAGS bit 1 reads as 1 and bits 3, 5, 15, 22-63
 * are reserved (Vol. 1 3.4.3); CR0.PG without PE and NW without CD are
 * #GP (Vol. 3A 2.5, Vol. 2B MOV CR); CR4 bits 63:32 are reserved; IA-32e
 * mode (EFER.LMA) exists only with CR0.PG and CR4.PAE (Vol. 3A 10.8.5);
 * CR8 has bits 3:0 (Vol. 3A 10.8.6.1); CR3 bits from MAXPHYADDR up are
 * reserved in IA-32e mode (Vol. 3A 4.5, with MAXPHYADDR from CPUID
 * 80000008H EAX[7:0]).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hvlab/hv.h"
#include "tests/unit/support/hvguest.h"

#define EXPECT_ERR(call, err) do {			\
		assert_int_equal((call), (err));	\
		hvg_assert_one_line();			\
	} while (0)

/* hv_vm_create: NULL, unknown names (the message lists the built-in
 * ones), a max_mem that is not whole pages or over the 1 TiB limit. */
static void test_vm_create_errors(void **state)
{
	struct hv_vm *vm = (struct hv_vm *)&vm;
	const struct hv_vm_config ok = { .max_mem = HVG_MAX_MEM };

	EXPECT_ERR(hv_vm_create(NULL, &vm), -EINVAL);
	EXPECT_ERR(hv_vm_create(&ok, NULL), -EINVAL);

	const struct hv_vm_config nobe = { .backend = "nosuch" };
	EXPECT_ERR(hv_vm_create(&nobe, &vm), -ENOENT);
	assert_null(vm);
	assert_non_null(strstr(hv_strerror(), "nosuch"));
	assert_non_null(strstr(hv_strerror(), hv_backends()));

	const struct hv_vm_config nommu = { .mmu = "tpd" };
	EXPECT_ERR(hv_vm_create(&nommu, &vm), -ENOENT);
	assert_non_null(strstr(hv_strerror(), hv_mmus()));

	const struct hv_vm_config odd = { .max_mem = HVG_MAX_MEM + 1 };
	EXPECT_ERR(hv_vm_create(&odd, &vm), -EINVAL);
	const struct hv_vm_config huge = { .max_mem = 2ull << 40 };
	EXPECT_ERR(hv_vm_create(&huge, &vm), -EINVAL);

	hv_vm_destroy(NULL);
	const char *name;
	hvg_for_each_backend(i, name) {
		const struct hv_vm_config c = { .backend = name, .max_mem = HVG_MAX_MEM };
		struct hvg g = { .backend = name };
		assert_int_equal(hv_vm_create(&c, &g.vm), 0);
		hvg_adopt(&g);
		assert_string_equal(hv_vm_backend(g.vm), name);
		assert_non_null(strstr(hv_mmus(), hv_vm_mmu(g.vm)));
		hvg_destroy(&g);
	}
}

/* Memory calls on NULL and on bad slot numbers, flags, alignment. */
static void test_memory_errors(void **state)
{
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		uint8_t buf[16] = { 0 };
		hvg_create(&g, name);
		const struct hv_memory_region mr = { .slot = 1, .gpa = 4 * HVG_MiB,
						     .size = 0x1000 };
		EXPECT_ERR(hv_set_memory_region(NULL, &mr), -EINVAL);
		EXPECT_ERR(hv_set_memory_region(g.vm, NULL), -EINVAL);
		struct hv_memory_region bad = mr;
		bad.slot = HV_MAX_SLOTS;
		EXPECT_ERR(hv_set_memory_region(g.vm, &bad), -EINVAL);
		bad = mr;
		bad.flags = 1u << 7;
		EXPECT_ERR(hv_set_memory_region(g.vm, &bad), -EINVAL);
		bad = mr;
		bad.gpa += 0x800;
		EXPECT_ERR(hv_set_memory_region(g.vm, &bad), -EINVAL);
		bad = mr;
		bad.size = 0x1800;
		EXPECT_ERR(hv_set_memory_region(g.vm, &bad), -EINVAL);
		bad = mr;
		bad.gpa = ~0xfffull;		/* wraps around */
		EXPECT_ERR(hv_set_memory_region(g.vm, &bad), -EINVAL);
		bad = mr;
		bad.size = 0;			/* delete of an unused slot */
		EXPECT_ERR(hv_set_memory_region(g.vm, &bad), -EINVAL);

		EXPECT_ERR(hv_write_guest(NULL, 0, buf, 4), -EINVAL);
		EXPECT_ERR(hv_write_guest(g.vm, 0, NULL, 4), -EINVAL);
		EXPECT_ERR(hv_read_guest(NULL, 0, buf, 4), -EINVAL);
		EXPECT_ERR(hv_read_guest(g.vm, 0, NULL, 4), -EINVAL);
		EXPECT_ERR(hv_read_guest(g.vm, HVG_RAM, buf, 4), -EFAULT);
		EXPECT_ERR(hv_read_guest(g.vm, ~0ull - 3, buf, 8), -EFAULT);

		EXPECT_ERR(hv_get_dirty_log(NULL, 0, buf, sizeof(buf)), -EINVAL);
		EXPECT_ERR(hv_get_dirty_log(g.vm, 0, NULL, sizeof(buf)), -EINVAL);
		EXPECT_ERR(hv_get_dirty_log(g.vm, HV_MAX_SLOTS, buf, sizeof(buf)), -EINVAL);
		EXPECT_ERR(hv_get_dirty_log(g.vm, 5, buf, sizeof(buf)), -EINVAL);	/* unused */
		/* A slot that does not log: KVM says -ENOENT. */
		EXPECT_ERR(hv_get_dirty_log(g.vm, 0, buf, sizeof(buf)), -ENOENT);
		hvg_destroy(&g);
	}
}

/* vcpu creation and the register calls. */
static void test_vcpu_errors(void **state)
{
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		struct hv_vcpu *v = (struct hv_vcpu *)&v;
		struct hv_regs r;
		struct hv_sregs s;
		struct hv_translation tr;
		hvg_create(&g, name);
		EXPECT_ERR(hv_vcpu_create(NULL, 0, &v), -EINVAL);
		EXPECT_ERR(hv_vcpu_create(g.vm, 0, NULL), -EINVAL);
		EXPECT_ERR(hv_vcpu_create(g.vm, HV_MAX_VCPUS, &v), -EINVAL);
		assert_null(v);
		EXPECT_ERR(hv_vcpu_create(g.vm, 0, &v), -EEXIST);

		EXPECT_ERR(hv_get_regs(NULL, &r), -EINVAL);
		EXPECT_ERR(hv_get_regs(g.vcpu, NULL), -EINVAL);
		EXPECT_ERR(hv_set_regs(NULL, &r), -EINVAL);
		EXPECT_ERR(hv_set_regs(g.vcpu, NULL), -EINVAL);
		EXPECT_ERR(hv_get_sregs(NULL, &s), -EINVAL);
		EXPECT_ERR(hv_get_sregs(g.vcpu, NULL), -EINVAL);
		EXPECT_ERR(hv_set_sregs(NULL, &s), -EINVAL);
		EXPECT_ERR(hv_set_sregs(g.vcpu, NULL), -EINVAL);
		EXPECT_ERR(hv_translate(NULL, 0, &tr), -EINVAL);
		EXPECT_ERR(hv_translate(g.vcpu, 0, NULL), -EINVAL);
		EXPECT_ERR(hv_interrupt(NULL, 0x20), -EINVAL);
		EXPECT_ERR(hv_irq_line(NULL, 0, true), -EINVAL);
		EXPECT_ERR(hv_irq_line(g.vm, 24, true), -EINVAL);
		EXPECT_ERR(hv_run(NULL, &g.run), -EINVAL);
		EXPECT_ERR(hv_run(g.vcpu, NULL), -EINVAL);
		EXPECT_ERR(hv_get_stats(NULL, NULL, 0), -EINVAL);
		EXPECT_ERR(hv_get_stats(g.vm, NULL, 4), -EINVAL);
		struct hv_guest_debug dbg = { .control = HV_GUESTDBG_ENABLE |
							       HV_GUESTDBG_USE_HW_BP, .nbp = 5 };
		EXPECT_ERR(hv_debug_guest(NULL, &dbg), -EINVAL);
		EXPECT_ERR(hv_debug_guest(g.vcpu, NULL), -EINVAL);
		EXPECT_ERR(hv_debug_guest(g.vcpu, &dbg), -EINVAL);	/* DR0-DR3: four */
		dbg.nbp = 1;
		dbg.bp[0] = 0x0000800000000000ull;	/* not canonical */
		EXPECT_ERR(hv_debug_guest(g.vcpu, &dbg), -EINVAL);
		hv_run_interrupt(NULL);
		assert_int_equal(hv_clock_ns(NULL), 0);
		hvg_destroy(&g);
	}
}

/* RFLAGS: bit 1 must be 1, reserved bits 0 (SDM Vol. 1 3.4.3); the
 * refused value changes nothing. */
static void test_set_regs_rflags(void **state)
{
	static const uint64_t bad[] = { 0x0, 0x2 | 1u << 3, 0x2 | 1u << 5, 0x2 | 1u << 15,
					0x2 | 1u << 22, 0x2 | 1ull << 63 };
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		hvg_create(&g, name);
		struct hv_regs r = hvg_regs(&g);
		r.rax = 0x1234;
		r.rflags = 0x2 | 1u << 0 | 1u << 2 | 1u << 21;	/* CF PF ID: allowed */
		hvg_set_regs(&g, &r);
		for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			struct hv_regs b = r;
			b.rax = 0x5678;
			b.rflags = bad[k];
			EXPECT_ERR(hv_set_regs(g.vcpu, &b), -EINVAL);
		}
		struct hv_regs now = hvg_regs(&g);
		assert_int_equal(now.rax, 0x1234);
		assert_int_equal(now.rflags, r.rflags);
		hvg_destroy(&g);
	}
}

/* One refused hv_set_sregs: -EINVAL, and the state before it intact. */
static void refuse_sregs(struct hvg *g, const struct hv_sregs *good, const struct hv_sregs *s,
			 const char *what)
{
	struct hv_sregs now;
	const int r = hv_set_sregs(g->vcpu, s);
	if (r != -EINVAL)
		fail_msg("%s: hv_set_sregs with %s: %d, not -EINVAL", g->backend, what, r);
	hvg_assert_one_line();
	assert_int_equal(hv_get_sregs(g->vcpu, &now), 0);
	if (now.cr0 != good->cr0 || now.cr3 != good->cr3 || now.cr4 != good->cr4 ||
	    now.efer != good->efer || now.cs.l != good->cs.l || now.cs.db != good->cs.db ||
	    now.gdt.base != good->gdt.base || now.idt.limit != good->idt.limit)
		fail_msg("%s: hv_set_sregs refused %s but changed the state: cr0 %#llx cr4 "
			 "%#llx efer %#llx (were %#llx %#llx %#llx)", g->backend, what,
			 (unsigned long long)now.cr0, (unsigned long long)now.cr4,
			 (unsigned long long)now.efer, (unsigned long long)good->cr0,
			 (unsigned long long)good->cr4, (unsigned long long)good->efer);
}

/* hv_set_sregs refuses states no processor can be in, and a refused
 * call leaves the previous state (here: IA-32e mode) in place. */
static void test_set_sregs_invalid(void **state)
{
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		struct hv_sregs good, s;
		hvg_create(&g, name);
		hvg_enter_long(&g, HVG_CODE);
		hvg_set_gate(&g, 3, HVG_HANDLER);	/* an IDT to notice a change */
		assert_int_equal(hv_get_sregs(g.vcpu, &good), 0);

		s = good;
		s.cs.db = 1;
		refuse_sregs(&g, &good, &s, "CS.L and CS.D");
		s = good;
		s.cr4 &= ~HVG_CR4_PAE;
		refuse_sregs(&g, &good, &s, "IA-32e mode without CR4.PAE");
		s = good;
		s.efer &= ~HVG_EFER_LMA;
		refuse_sregs(&g, &good, &s, "LME and PG without LMA");
		s = good;
		s.efer |= 1ull << 1;
		refuse_sregs(&g, &good, &s, "EFER bit 1 (reserved)");
		s = good;
		s.cr4 |= 1ull << 40;
		refuse_sregs(&g, &good, &s, "CR4 bit 40 (reserved)");
		s = good;
		s.cr0 &= ~HVG_CR0_PE;
		refuse_sregs(&g, &good, &s, "CR0.PG without PE");
		s = good;
		s.cr0 |= 1ull << 29;
		refuse_sregs(&g, &good, &s, "CR0.NW without CD");
		s = good;
		s.cr0 |= 1ull << 32;
		refuse_sregs(&g, &good, &s, "CR0 bit 32");
		s = good;
		s.cr8 = 16;
		refuse_sregs(&g, &good, &s, "CR8 = 16");
		hvg_destroy(&g);
	}
}

/* In IA-32e mode CR3 bits MAXPHYADDR..62 are reserved (Vol. 3A 4.5,
 * Table 4-12; MOV to CR3 is #GP): MAXPHYADDR as the guest's CPUID
 * 80000008H reports it. */
static void test_set_sregs_cr3_maxphyaddr(void **state)
{
	/* mov eax,80000008h; cpuid; hlt */
	static const uint8_t code[] = { 0xb8, 0x08, 0x00, 0x00, 0x80, 0x0f, 0xa2, 0xf4 };
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		struct hv_sregs s;
		hvg_create(&g, name);
		hvg_load(&g, HVG_CODE, code, sizeof(code));
		hvg_enter_long(&g, HVG_CODE);
		assert_int_equal(hvg_run(&g), HV_EXIT_HLT);
		const unsigned maxphyaddr = hvg_regs(&g).rax & 0xff;
		assert_true(maxphyaddr >= 36 && maxphyaddr <= 52);
		assert_int_equal(hv_get_sregs(g.vcpu, &s), 0);
		if (maxphyaddr < 52) {
			s.cr3 = HVG_PML4 | 1ull << maxphyaddr;
			if (hv_set_sregs(g.vcpu, &s) != -EINVAL)
				fail_msg("%s: CR3 bit %u (MAXPHYADDR %u) accepted in IA-32e mode",
					 name, maxphyaddr, maxphyaddr);
		}
		hvg_destroy(&g);
	}
}

/* hv_interrupt: a second vector while the first still waits is refused
 * (KVM_INTERRUPT's contract: one pending interrupt line). */
static void test_interrupt_busy(void **state)
{
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		hvg_create(&g, name);
		assert_int_equal(hv_interrupt(g.vcpu, 0x40), 0);
		const int r = hv_interrupt(g.vcpu, 0x41);
		assert_true(r < 0);
		hvg_assert_one_line();
		hvg_destroy(&g);
	}
}

/* hv_get_stats sizes with n = 0, fills at most n, and the names are
 * unique; "exits" is the sum of the "exits_*" by reason. */
static void test_stats_names(void **state)
{
	/* mov al,1; out 80h,al; cpuid; hlt (32-bit protected mode: real
	 * mode without unrestricted guest is emulated and makes no exits) */
	static const uint8_t code[] = { 0xb0, 0x01, 0xe6, 0x80, 0x0f, 0xa2, 0xf4 };
	const char *name;
	hvg_for_each_backend(i, name) {
		struct hvg g;
		hvg_create(&g, name);
		hvg_load(&g, HVG_CODE, code, sizeof(code));
		hvg_enter_protected(&g, HVG_CODE);
		hvg_expect_io(&g, 0x80, HV_EXIT_IO_OUT, 1, 1);
		assert_int_equal(hvg_run(&g), HV_EXIT_HLT);

		const int n = hv_get_stats(g.vm, NULL, 0);
		assert_true(n > 2);
		struct hv_stat st[512], two[2];
		assert_true(n <= 512);
		assert_int_equal(hv_get_stats(g.vm, two, 2), n);
		assert_int_equal(hv_get_stats(g.vm, st, 512), n);
		assert_string_equal(two[0].name, st[0].name);
		uint64_t exits = 0, sum = 0;
		bool have_exits = false;
		for (int a = 0; a < n; a++) {
			assert_non_null(st[a].name);
			assert_non_null(st[a].help);
			for (int b = a + 1; b < n; b++)
				if (!strcmp(st[a].name, st[b].name))
					fail_msg("statistic '%s' twice", st[a].name);
			if (!strcmp(st[a].name, "exits")) {
				exits = st[a].value;
				have_exits = true;
			} else if (!strncmp(st[a].name, "exits_", 6)) {
				sum += st[a].value;
			}
		}
		assert_true(have_exits);
		assert_true(exits >= 2);	/* the OUT and the HLT at least */
		assert_int_equal(exits, sum);
		hvg_destroy(&g);
	}
}

/* xorshift64: a fixed sequence, so a failure repeats. */
static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Arbitrary segment and control-register states, each either refused
 * by hv_set_sregs (-EINVAL) or run: hv_run then returns 0 with a defined
 * exit reason (a refused state is HV_EXIT_FAIL_ENTRY, a broken one
 * SHUTDOWN, ...) or -EIO, never a crash (run this under ASan + UBSan). */
static void test_arbitrary_state_no_crash(void **state)
{
	const char *name;
	hvg_for_each_backend(i, name) {
		uint64_t x = 0x9e3779b97f4a7c15ull;
		unsigned accepted = 0;
		for (unsigned k = 0; k < 64; k++) {
			struct hvg g;
			struct hv_sregs s;
			hvg_create(&g, name);
			assert_int_equal(hv_get_sregs(g.vcpu, &s), 0);
			struct hv_segment *seg[] = { &s.cs, &s.ds, &s.es, &s.fs, &s.gs, &s.ss,
						     &s.tr, &s.ldt };
			for (unsigned n = 0; n < 8; n++) {
				const uint64_t a = rnd(&x), b = rnd(&x);
				*seg[n] = (struct hv_segment){
					.base = a & 0xfffff, .limit = (uint32_t)(b >> 32),
					.selector = (uint16_t)b, .type = a >> 20 & 15,
					.present = a >> 24 & 1, .dpl = a >> 25 & 3,
					.db = a >> 27 & 1, .s = a >> 28 & 1, .l = a >> 29 & 1,
					.g = a >> 30 & 1, .avl = a >> 31 & 1,
					.unusable = (a >> 32 & 7) == 0,
				};
			}
			const uint64_t c = rnd(&x);
			s.cr0 = (c & 0xe005003f) | HVG_CR0_ET;
			s.cr4 = (c >> 32) & 0x6ff;
			s.cr3 = rnd(&x) & 0x1ff000;
			s.efer = c & 0x10 ? (HVG_EFER_LME | ((c & HVG_CR0_PG) ? HVG_EFER_LMA : 0)) : 0;
			s.gdt = (struct hv_dtable){ .base = rnd(&x) & 0x1fffff, .limit = 0xff };
			s.idt = (struct hv_dtable){ .base = rnd(&x) & 0x1fffff, .limit = 0xfff };
			const int r = hv_set_sregs(g.vcpu, &s);
			if (r) {
				assert_int_equal(r, -EINVAL);
				hvg_assert_one_line();
				hvg_destroy(&g);
				continue;
			}
			accepted++;
			struct hv_regs regs = hvg_regs(&g);
			regs.rip = rnd(&x) & 0x1fffff;
			regs.rsp = rnd(&x) & 0x1fffff;
			hvg_set_regs(&g, &regs);
			for (unsigned run = 0; run < 8; run++) {
				g.run.max_insns = 2000 * (run + 1);
				const int rr = hv_run(g.vcpu, &g.run);
				if (rr) {
					assert_int_equal(rr, -EIO);
					break;
				}
				assert_true(g.run.exit_reason <= HV_EXIT_INTR);
				if (g.run.exit_reason == HV_EXIT_SHUTDOWN ||
				    g.run.exit_reason == HV_EXIT_FAIL_ENTRY ||
				    g.run.exit_reason == HV_EXIT_INTERNAL_ERROR ||
				    g.run.exit_reason == HV_EXIT_HLT)
					break;
			}
			hvg_destroy(&g);
		}
		assert_true(accepted > 8);	/* the test reached hv_run */
	}
}

#define T(fn) cmocka_unit_test_teardown(fn, hvg_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_vm_create_errors),
		T(test_memory_errors),
		T(test_vcpu_errors),
		T(test_set_regs_rflags),
		T(test_set_sregs_invalid),
		T(test_set_sregs_cr3_maxphyaddr),
		T(test_interrupt_busy),
		T(test_stats_names),
		T(test_arbitrary_state_no_crash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
