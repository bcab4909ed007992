/*
 * test_hw_svm_exits_dt.c — the SVM intercepts of reads and writes of
 * IDTR, GDTR, LDTR and TR: SIDT, SGDT, SLDT, STR (0x66-0x69) and LIDT,
 * LGDT, LLDT, LTR (0x6a-0x6d), APM Vol. 2 15.9 Table 15-7 and Table B-1
 * (vector 3 bits 6-13). Each with the intercept off (the register stored
 * or loaded) and on (EXITCODE, RIP at the instruction, nRIP after it,
 * nothing stored or loaded).
 *
 * Priority (Table 15-7): "The SVM intercept is checked after #UD and #GP
 * exception checks, but before any memory access is performed." So LIDT,
 * LGDT, LLDT and LTR at CPL 3 are #GP(0) (Vol. 3: CPL 0 only), as are
 * SIDT, SGDT, SLDT and STR at CPL 3 with CR4.UMIP = 1; with CR4.UMIP = 0
 * the stores are allowed at CPL 3 and exit; and an operand on an
 * unmapped page exits where, not intercepted, it would #PF.
 *
 * LDTR and TR are not saved by #VMEXIT (15.5.2): the test reads them
 * with VMSAVE after the exit, as a hypervisor would.
 *
 * Encodings checked with GNU as / objdump -M intel.
 */
#include "tests/unit/test_hw_svm_icpt.h"

/* Descriptors the tests add to the harness's GDT, and what they name. */
#define SEL_LDT		0x28
#define SEL_TSS2	0x38
#define GDT_LIMIT	0x47
#define LDT_BASE	0x32000ull
#define TSS2_BASE	0x33000ull
#define SEL_TSS		0x18		/* the harness's TR */

/*
 * 16-byte system descriptors (APM Vol. 2 4.8.3, Figure 4-22): limit
 * 15:0, base 23:0, type and P in byte 5, base 31:24, base 63:32 in the
 * upper quadword. Type 2 = LDT, 9 = available 64-bit TSS, B = busy.
 */
static void put_sysdesc(unsigned sel, uint64_t base, uint32_t limit, uint8_t type)
{
	const uint64_t gdt = vmcb()->save.gdtr.base;
	const uint64_t lo = (limit & 0xffff) | (base & 0xffffff) << 16 |
			    (uint64_t)(0x80 | type) << 40 | ((base >> 24) & 0xff) << 56;
	sv_put64(gdt + sel, lo);
	sv_put64(gdt + sel + 8, base >> 32);
}

/* The byte holding a descriptor's type and P (byte 5). */
static uint8_t desc_type_byte(unsigned sel)
{
	const uint8_t *p = hwg_ptr(&g, vmcb()->save.gdtr.base + sel + 5, 1);
	assert_non_null(p);
	return *p;
}

/*
 * A guest running @len bytes of @insn then HLT, with an LDT and a second
 * (available) TSS in its GDT, LDTR loaded with the LDT through VMLOAD,
 * RBX = the memory operand, AX = a selector for the register forms.
 */
static void dt_start(const uint8_t *insn, size_t len)
{
	uint8_t code[16];
	memcpy(code, insn, len);
	code[len] = 0xf4;					/* hlt */
	sv_start(code, len + 1);
	put_sysdesc(SEL_LDT, LDT_BASE, 0xff, 0x2);
	put_sysdesc(SEL_TSS2, TSS2_BASE, 0x67, 0x9);
	struct vmcb_save *s = &vmcb()->save;
	s->gdtr.limit = GDT_LIMIT;
	s->ldtr = (struct vmcb_seg){ .selector = SEL_LDT, .attrib = 0x82,
				     .limit = 0xff, .base = LDT_BASE };
	assert_int_equal(vmload(g.cpu, g.ctl), SVM_OK);
	sv_set_gpr(RBX, DATA);
	sv_set_gpr(RAX, 0);
	for (unsigned i = 0; i < 16; i += 8)
		sv_put64(DATA + i, 0xa5a5a5a5a5a5a5a5ull);
}

/* LDTR and TR as the processor holds them after the exit. */
static void save_ldtr_tr(void)
{
	assert_int_equal(vmsave(g.cpu, g.ctl), SVM_OK);
}

struct dt_insn {
	const char *what;
	uint8_t bytes[3];
	uint32_t bit;		/* intercept vector 3 */
	uint64_t exit;
};

static const struct dt_insn reads[] = {
	{ "sidt [rbx]", { 0x0f, 0x01, 0x0b }, V3_IDTR_READ, EXIT_IDTR_READ },
	{ "sgdt [rbx]", { 0x0f, 0x01, 0x03 }, V3_GDTR_READ, EXIT_GDTR_READ },
	{ "sldt [rbx]", { 0x0f, 0x00, 0x03 }, V3_LDTR_READ, EXIT_LDTR_READ },
	{ "str [rbx]", { 0x0f, 0x00, 0x0b }, V3_TR_READ, EXIT_TR_READ },
};

static const struct dt_insn writes[] = {
	{ "lidt [rbx]", { 0x0f, 0x01, 0x1b }, V3_IDTR_WRITE, EXIT_IDTR_WRITE },
	{ "lgdt [rbx]", { 0x0f, 0x01, 0x13 }, V3_GDTR_WRITE, EXIT_GDTR_WRITE },
	{ "lldt [rbx]", { 0x0f, 0x00, 0x13 }, V3_LDTR_WRITE, EXIT_LDTR_WRITE },
	{ "ltr [rbx]", { 0x0f, 0x00, 0x1b }, V3_TR_WRITE, EXIT_TR_WRITE },
};

/* Intercepted: the exit, and the operand memory untouched. */
static void assert_dt_exit(const struct dt_insn *d)
{
	const uint64_t code = sv_run();
	if (code != d->exit)
		fail_msg("%s: exit %#lx, expected %#lx", d->what,
			 (unsigned long)code, (unsigned long)d->exit);
	assert_int_equal(hwg_rip(&g), CODE);
	assert_int_equal(vmcb()->control.next_rip, CODE + 3);
	assert_int_equal(sv_get64(DATA), 0xa5a5a5a5a5a5a5a5ull);
}

/* ------------------------------------------------------------ reads */

/* SIDT/SGDT store the 2-byte limit and the 8-byte base (64-bit mode);
 * SLDT/STR the 2-byte selector. */
static void reads_off(void **state)
{
	for (unsigned i = 0; i < 4; i++) {
		dt_start(reads[i].bytes, 3);
		const struct vmcb_seg *t = i == 0 ? &vmcb()->save.idtr : &vmcb()->save.gdtr;
		const uint64_t base = t->base;
		const uint16_t limit = (uint16_t)t->limit;
		assert_int_equal(sv_run(), EXIT_HLT);
		assert_int_equal(hwg_rip(&g), CODE + 3);
		const uint64_t lo = sv_get64(DATA), hi = sv_get64(DATA + 8);
		if (i < 2) {
			assert_int_equal(lo & 0xffff, limit);
			assert_int_equal((lo >> 16) | (hi & 0xffff) << 48, base);
			assert_int_equal(hi >> 16, 0xa5a5a5a5a5a5ull);
		} else {
			assert_int_equal(lo, 0xa5a5a5a5a5a50000ull | (i == 2 ? SEL_LDT : SEL_TSS));
		}
		hwg_destroy(&g);
	}
}

static void reads_on(void **state)
{
	for (unsigned i = 0; i < 4; i++) {
		dt_start(reads[i].bytes, 3);
		vmcb()->control.intercept_misc1 |= reads[i].bit;
		assert_dt_exit(&reads[i]);
		hwg_destroy(&g);
	}
}

/* CPL 3: allowed with CR4.UMIP = 0, so the intercept exits; #GP(0)
 * before it with CR4.UMIP = 1 (Vol. 3 SIDT/SGDT/SLDT/STR). */
static void reads_at_cpl3(void **state)
{
	for (unsigned i = 0; i < 4; i++) {
		for (int umip = 0; umip <= 1; umip++) {
			dt_start(reads[i].bytes, 3);
			sv_cpl3();
			vmcb()->control.intercept_misc1 |= reads[i].bit;
			vmcb()->control.intercept_exceptions |= 1u << GP;
			if (umip) {
				vmcb()->save.cr4 |= CR4_UMIP;
				sv_assert_exc(GP, 0, CODE);
			} else {
				assert_dt_exit(&reads[i]);
			}
			hwg_destroy(&g);
		}
	}
}

/* ------------------------------------------------------------ writes */

/* LIDT/LGDT from a 10-byte operand at DATA; the new value is in the
 * VMCB after the exit (#VMEXIT saves IDTR and GDTR, 15.6). */
static void lidt_lgdt_off(void **state)
{
	const uint64_t image_lo = 0x01ffull | 0x00123000ull << 16;	/* limit, base 47:0 */
	for (unsigned i = 0; i < 2; i++) {
		dt_start(writes[i].bytes, 3);
		sv_put64(DATA, image_lo);
		sv_put64(DATA + 8, 0);
		assert_int_equal(sv_run(), EXIT_HLT);
		const struct vmcb_seg *t = i == 0 ? &vmcb()->save.idtr : &vmcb()->save.gdtr;
		assert_int_equal(t->base, 0x123000);
		assert_int_equal(t->limit, 0x1ff);
		hwg_destroy(&g);
	}
}

/* LLDT and LTR (register forms, selector in AX): LDTR and TR take the
 * new selectors, and LTR marks its TSS busy in the GDT. */
static void lldt_ltr_off(void **state)
{
	static const uint8_t lldt_ax[] = { 0x0f, 0x00, 0xd0 };
	static const uint8_t ltr_ax[] = { 0x0f, 0x00, 0xd8 };

	dt_start(lldt_ax, 3);
	vmcb()->save.ldtr.selector = 0;			/* LDTR: null */
	vmcb()->save.ldtr.attrib = 0;
	assert_int_equal(vmload(g.cpu, g.ctl), SVM_OK);
	sv_set_gpr(RAX, SEL_LDT);
	assert_int_equal(sv_run(), EXIT_HLT);
	save_ldtr_tr();
	assert_int_equal(vmcb()->save.ldtr.selector, SEL_LDT);
	assert_int_equal(vmcb()->save.ldtr.base, LDT_BASE);
	assert_int_equal(vmcb()->save.ldtr.limit, 0xff);
	hwg_destroy(&g);

	dt_start(ltr_ax, 3);
	sv_set_gpr(RAX, SEL_TSS2);
	assert_int_equal(desc_type_byte(SEL_TSS2), 0x89);
	assert_int_equal(sv_run(), EXIT_HLT);
	save_ldtr_tr();
	assert_int_equal(vmcb()->save.tr.selector, SEL_TSS2);
	assert_int_equal(vmcb()->save.tr.base, TSS2_BASE);
	assert_int_equal(desc_type_byte(SEL_TSS2), 0x8b);
}

/* Intercepted: nothing loaded (the VMCB's IDTR/GDTR as before, LDTR
 * and TR as VMLOAD set them, the second TSS still available). */
static void writes_on(void **state)
{
	for (unsigned i = 0; i < 4; i++) {
		dt_start(writes[i].bytes, 3);
		const struct vmcb_save before = vmcb()->save;
		sv_put64(DATA, 0x01ffull | 0x00123000ull << 16);	/* LIDT/LGDT image */
		sv_put64(DATA + 8, 0);
		if (i == 2)
			sv_put64(DATA, SEL_LDT);
		if (i == 3)
			sv_put64(DATA, SEL_TSS2);
		const uint64_t image = sv_get64(DATA);
		vmcb()->control.intercept_misc1 |= writes[i].bit;
		const uint64_t code = sv_run();
		if (code != writes[i].exit)
			fail_msg("%s: exit %#lx", writes[i].what, (unsigned long)code);
		assert_int_equal(hwg_rip(&g), CODE);
		assert_int_equal(vmcb()->control.next_rip, CODE + 3);
		assert_int_equal(sv_get64(DATA), image);
		assert_int_equal(vmcb()->save.idtr.base, before.idtr.base);
		assert_int_equal(vmcb()->save.gdtr.base, before.gdtr.base);
		assert_int_equal(vmcb()->save.gdtr.limit, GDT_LIMIT);
		save_ldtr_tr();
		assert_int_equal(vmcb()->save.ldtr.selector, SEL_LDT);
		assert_int_equal(vmcb()->save.tr.selector, SEL_TSS);
		assert_int_equal(desc_type_byte(SEL_TSS2), 0x89);
		hwg_destroy(&g);
	}
}

/* CPL 3: the loads are CPL 0 instructions, #GP(0) before the intercept. */
static void writes_gp_at_cpl3(void **state)
{
	for (unsigned i = 0; i < 4; i++) {
		dt_start(writes[i].bytes, 3);
		sv_cpl3();
		vmcb()->control.intercept_misc1 |= writes[i].bit;
		vmcb()->control.intercept_exceptions |= 1u << GP;
		sv_assert_exc(GP, 0, CODE);
		hwg_destroy(&g);
	}
}

/* ------------------------------------------------------------ memory */

/*
 * Operand on an unmapped page: #PF when not intercepted (EXITINFO1 the
 * error code - a write for the stores, a read for the loads, not
 * present, supervisor; EXITINFO2 the address); the intercept exits
 * before the access.
 */
static void intercept_before_memory(void **state)
{
	const struct { const struct dt_insn *d; uint32_t ec; } c[] = {
		{ &reads[0], PFE_W }, { &reads[1], PFE_W }, { &reads[2], PFE_W },
		{ &reads[3], PFE_W }, { &writes[0], 0 }, { &writes[1], 0 },
		{ &writes[2], 0 }, { &writes[3], 0 },
	};
	for (unsigned i = 0; i < 8; i++) {
		for (int on = 0; on <= 1; on++) {
			dt_start(c[i].d->bytes, 3);
			sv_set_gpr(RBX, UNMAPPED);
			vmcb()->control.intercept_exceptions |= 1u << PF;
			if (on) {
				vmcb()->control.intercept_misc1 |= c[i].d->bit;
				const uint64_t code = sv_run();
				if (code != c[i].d->exit)
					fail_msg("%s: exit %#lx", c[i].d->what,
						 (unsigned long)code);
				assert_int_equal(vmcb()->control.next_rip, CODE + 3);
			} else {
				sv_assert_exc(PF, c[i].ec, CODE);
				assert_int_equal(vmcb()->control.exitinfo2, UNMAPPED);
			}
			assert_int_equal(hwg_rip(&g), CODE);
			hwg_destroy(&g);
		}
	}
}

#define T(f) cmocka_unit_test_teardown(f, sv_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(reads_off),
		T(reads_on),
		T(reads_at_cpl3),
		T(lidt_lgdt_off),
		T(lldt_ltr_off),
		T(writes_on),
		T(writes_gp_at_cpl3),
		T(intercept_before_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
