/*
 * test_hw_guest_exc.c — exceptions and interrupts delivered to a guest
 * through its own IDT, on VMX and SVM with and without EPT/NPT, with no
 * exception intercepted:
 *
 *   - INT3 to a handler that counts and returns (IRETQ / IRET), in a
 *     loop, in 64-bit and 32-bit protected mode (SDM Vol. 3A 6.12);
 *   - #NP error codes for a not-present gate (6.13: EXT bit 0, IDT bit 1,
 *     index in 15:3): INT n (EXT = 0), an exception's gate (EXT = 1);
 *   - #DF for a contributory exception during a contributory one (6.15,
 *     Table 6-5): #NP, then #GP for a gate selector beyond the GDT limit;
 *     and #NP then #NP;
 *   - triple fault (#DF's gate not present either) as a VM exit: VMX
 *     basic reason 2 (SDM Vol. 3C 26.2, Appendix C), SVM VMEXIT_SHUTDOWN
 *     0x7f (APM Vol. 2 15.9, Appendix C);
 *   - the STI interrupt shadow (6.8.3): "sti; hlt" with an interrupt
 *     pending and HLT not intercepted takes the interrupt after HLT,
 *     waking the guest, as the SDM's STI example says (STI, Vol. 2B);
 *   - the state VMLOAD loads (FS, GS, TR, LDTR) is the guest's (APM
 *     15.5.2: VMRUN does not load it; the hypervisor's VMLOAD did).
 */
#include "test_hw_guest.h"

#define CNT		(GM_RES + 0x30)	/* the handler's counter */
#define H_INT3		0x11200ull
#define H_NP		0x11300ull	/* error-code recorders: copies of gm_pf64, */
#define H_DF		0x11400ull	/* the HLT they stop at says which ran */
#define H_INTR		0x11500ull

/* INT3 handler: count, record the return RIP, return. */
static const uint8_t int3_64[] = {
	0xff, 0x04, 0x25, 0x30, 0x20, 0x01, 0x00,	/* inc dword [0x12030] */
	0x48, 0x8b, 0x04, 0x24,				/* mov rax, [rsp] */
	0x48, 0x89, 0x04, 0x25, 0x10, 0x20, 0x01, 0x00,	/* mov [0x12010], rax */
	0x48, 0xcf,					/* iretq */
};

static const uint8_t int3_32[] = {
	0xff, 0x04, 0x25, 0x30, 0x20, 0x01, 0x00,	/* inc dword [0x12030] */
	0x8b, 0x04, 0x24,				/* mov eax, [esp] */
	0x89, 0x04, 0x25, 0x10, 0x20, 0x01, 0x00,	/* mov [0x12010], eax */
	0xcf,						/* iret */
};

static const uint8_t int3_loop[] = {
	0xb9, 0x0a, 0x00, 0x00, 0x00,	/* mov ecx, 10 */
	0xcc,				/* 1: int3 */
	0xff, 0xc9,			/* dec ecx */
	0x75, 0xfb,			/* jnz 1b */
	0xf4,				/* hlt */
};

static void int3_in(enum gm_mode mode)
{
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		struct gm m;
		gm_create(&m, &gm_cfgs[k], mode, 0, 0, 0);
		if (mode == GM_64)
			gm_put(&m, H_INT3, int3_64, sizeof(int3_64));
		else
			gm_put(&m, H_INT3, int3_32, sizeof(int3_32));
		gm_gate(&m, 3, H_INT3, 0, true);
		gm_put(&m, GM_CODE, int3_loop, sizeof(int3_loop));
		gm_put64(&m, CNT, 0);
		const struct hw_counters before = gm_counters(&m);
		assert_int_equal(gm_run_to_hlt(&m), GM_CODE + 10);
		assert_int_equal(gm_get32(&m, CNT), 10);
		/* INT3 is a trap: the frame returns past it (6.5). */
		assert_int_equal(gm_res(&m, RES_RIP), GM_CODE + 6);
		assert_int_equal(hwg_gpr(&m.g, 1), 0);		/* ecx */
		const struct hw_counters *a = hw_cpu_counters(m.g.cpu);
		assert_int_equal(a->exceptions - before.exceptions, 10);
		assert_int_equal(a->exits - before.exits, 1);	/* the HLT only */
		/* mov, then 10 * (int3, 4 in the handler, dec, jnz); the HLT
		 * exits instead of retiring (SDM Vol. 3C 26.1). */
		assert_int_equal(a->insns - before.insns, 1 + 10 * 7);
		gm_destroy(&m);
	}
}

static void exc_int3_64(void **state) { int3_in(GM_64); }
static void exc_int3_32(void **state) { int3_in(GM_32); }

/* The error-code recorder for vector @vec at @at (gm_pf64's code). */
static void recorder(struct gm *m, unsigned vec, uint64_t at)
{
	gm_put(m, at, gm_pf64, sizeof(gm_pf64));
	gm_gate(m, vec, at, 0, true);
}

static uint64_t recorder_hlt(uint64_t at)
{
	return at + sizeof(gm_pf64) - 1;
}

/* INT 0x40 through a not-present interrupt gate (a valid type with
 * P = 0; an all-zero entry is no gate at all and gives #GP): #NP(0x40 *
 * 8 + 2), EXT = 0 (a software interrupt is the program's own), saved RIP
 * at the INT (#NP is a fault). #UD's gate not present: #NP(6 * 8 + 2 +
 * 1), EXT = 1 (6.13). */
static void exc_np_error_codes(void **state)
{
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		struct gm m;
		gm_create(&m, &gm_cfgs[k], GM_64, 0, 0, 0);
		recorder(&m, 11, H_NP);
		gm_gate(&m, 0x40, H_INT3, 0, false);
		static const uint8_t intn[] = { 0xcd, 0x40 };		/* int 0x40 */
		gm_put(&m, GM_CODE, intn, sizeof(intn));
		assert_int_equal(gm_run_to_hlt(&m), recorder_hlt(H_NP));
		assert_int_equal(gm_res(&m, RES_ERR), 0x202);
		assert_int_equal(gm_res(&m, RES_RIP), GM_CODE);	/* at the INT: a fault */
		gm_destroy(&m);

		gm_create(&m, &gm_cfgs[k], GM_64, 0, 0, 0);
		recorder(&m, 11, H_NP);
		gm_gate(&m, 6, H_INT3, 0, false);
		static const uint8_t ud[] = { 0x0f, 0x0b };		/* ud2 */
		gm_put(&m, GM_CODE, ud, sizeof(ud));
		assert_int_equal(gm_run_to_hlt(&m), recorder_hlt(H_NP));
		assert_int_equal(gm_res(&m, RES_ERR), 0x33);
		assert_int_equal(gm_res(&m, RES_RIP), GM_CODE);
		gm_destroy(&m);
	}
}

/*
 * #DF (Table 6-5: contributory then contributory): INT 0x40's gate is not
 * present (#NP); #NP's gate names selector 0x80, beyond the GDT limit
 * (#GP(0x80 | EXT)); the two combine into #DF with error code 0 (6.15,
 * "Interrupt 8"). Then the same with #NP's own gate not present.
 */
static void exc_double_fault(void **state)
{
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		for (unsigned variant = 0; variant < 2; variant++) {
			struct gm m;
			gm_create(&m, &gm_cfgs[k], GM_64, 0, 0, 0);
			recorder(&m, 8, H_DF);
			recorder(&m, 13, H_NP);		/* #GP alone would land here */
			gm_gate(&m, 0x40, H_INT3, 0, false);
			gm_gate(&m, 11, H_NP, 0, false);
			if (variant == 0) {
				/* 64-bit gate to selector 0x80 (index 16 > limit 0x4f). */
				gm_put64(&m, GM_IDT + 16 * 11, 0x00008e0000800000ull | (H_NP & 0xffff) |
					 ((H_NP >> 16) & 0xffff) << 48);
				gm_put64(&m, GM_IDT + 16 * 11 + 8, 0);
			}
			static const uint8_t intn[] = { 0xcd, 0x40 };	/* int 0x40 */
			gm_put(&m, GM_CODE, intn, sizeof(intn));
			const struct hw_counters before = gm_counters(&m);
			assert_int_equal(gm_run_to_hlt(&m), recorder_hlt(H_DF));
			assert_int_equal(gm_res(&m, RES_ERR), 0);
			assert_int_equal(gm_res(&m, RES_CS), SEL_KCODE64);
			/* Only #DF reached its handler. */
			assert_int_equal(hw_cpu_counters(m.g.cpu)->exceptions - before.exceptions, 1);
			gm_destroy(&m);
		}
	}
}

/*
 * Triple fault: INT 0x40 -> #NP -> #NP -> #DF, and #DF's gate is not
 * present either. VMX: exit reason 2, qualification 0 (SDM Vol. 3C 26.2,
 * 28.2.1). SDM 28.2.4 names the cases that are not "VM exits during event
 * delivery", among them "the VM exit is caused by a triple fault": the
 * IDT-vectoring information is invalid (bit 31 = 0). The activity state
 * saved is the processor's before the exit (28.3.4): active, since the
 * exit happens instead of the shutdown. SVM: the SHUTDOWN intercept
 * (0x7f, APM Vol. 2 15.9). Either way no exception reached a handler.
 */
static void exc_triple_fault(void **state)
{
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		struct gm m;
		gm_create(&m, &gm_cfgs[k], GM_64, 0, 0, 0);
		gm_gate(&m, 0x40, H_INT3, 0, false);
		gm_gate(&m, 11, H_NP, 0, false);
		gm_gate(&m, 8, H_DF, 0, false);
		static const uint8_t intn[] = { 0xcd, 0x40 };		/* int 0x40 */
		gm_put(&m, GM_CODE, intn, sizeof(intn));
		const struct hw_counters before = gm_counters(&m);
		const uint64_t r = gm_run(&m);
		if (gm_vmx(&m)) {
			assert_int_equal(r, VMX_EXIT_TRIPLE_NR);
			assert_int_equal(hwg_vmread(&m.g, VMCS_EXIT_QUALIFICATION), 0);
			const uint64_t idt = hwg_vmread(&m.g, VMCS_IDT_VECTORING_INFO);
			assert_int_equal(idt & (1u << 31), 0);
			assert_int_equal(hwg_vmread(&m.g, VMCS_GUEST_ACTIVITY_STATE), 0);
		} else {
			assert_int_equal(r, SVM_EXIT_SHUTDOWN_NR);
		}
		const struct hw_counters *a = hw_cpu_counters(m.g.cpu);
		assert_int_equal(a->exit[r] - before.exit[r], 1);
		assert_int_equal(a->exceptions - before.exceptions, 0);
		gm_destroy(&m);
	}
}

/* Interrupt handler: count, record the return RIP, IRETQ. */
static const uint8_t intr_64[] = {
	0xff, 0x04, 0x25, 0x30, 0x20, 0x01, 0x00,	/* inc dword [0x12030] */
	0x48, 0x8b, 0x04, 0x24,				/* mov rax, [rsp] */
	0x48, 0x89, 0x04, 0x25, 0x10, 0x20, 0x01, 0x00,	/* mov [0x12010], rax */
	0x48, 0xcf,					/* iretq */
};

/* The guest takes external interrupts itself: no external-interrupt
 * exiting / INTR intercept, no HLT exiting / intercept, and (SVM) no
 * V_INTR_MASKING, so the guest's RFLAGS.IF governs INTR (APM 15.21.1). */
static void own_interrupts(struct gm *m)
{
	if (gm_vmx(m)) {
		hwg_vmwrite(&m->g, VMCS_PIN_BASED_CTLS,
			    hwg_vmread(&m->g, VMCS_PIN_BASED_CTLS) & ~(uint64_t)VMX_PIN_EXT_INTR_EXITING);
		hwg_vmwrite(&m->g, VMCS_PROC_BASED_CTLS,
			    hwg_vmread(&m->g, VMCS_PROC_BASED_CTLS) & ~(uint64_t)VMX_PROC_HLT_EXITING);
	} else {
		struct vmcb *v = hwg_vmcb(&m->g);
		v->control.intercept_misc1 &= ~(SVM_INTERCEPT_INTR | SVM_INTERCEPT_HLT);
		v->control.v_intr_masking = 0;
	}
	gm_put(m, H_INTR, intr_64, sizeof(intr_64));
	gm_gate(m, 0x30, H_INTR, 0, true);
	gm_put64(m, CNT, 0);
	hw_cpu_set_intr(m->g.cpu, true, 0x30);
}

/*
 * "sti; hlt" with the interrupt already pending: the STI shadow covers
 * HLT, so HLT executes and halts; the interrupt then wakes it and is
 * delivered with the return address after HLT; the handler returns to
 * the OUT, whose I/O exit ends the run (SDM Vol. 2B STI: "the processor
 * ... allows ... the next instruction (HLT) ... then recognizes the
 * interrupt"). With a NOP after STI instead, the interrupt comes after
 * the NOP, before the instruction after it.
 */
static void exc_sti_shadow(void **state)
{
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		for (unsigned nop = 0; nop < 2; nop++) {
			struct gm m;
			gm_create(&m, &gm_cfgs[k], GM_64, 0, 0, 0);
			own_interrupts(&m);
			const uint8_t code[] = {
				0xfb,				/* sti */
				nop ? 0x90 : 0xf4,		/* hlt / nop */
				0xe6, 0x80,			/* out 0x80, al */
			};
			gm_put(&m, GM_CODE, code, sizeof(code));
			const struct hw_counters before = gm_counters(&m);
			const uint64_t r = gm_run(&m);
			assert_int_equal(r, gm_vmx(&m) ? VMX_EXIT_IO_NR : SVM_EXIT_IOIO_NR);
			assert_int_equal(hwg_rip(&m.g), GM_CODE + 2);		/* at the OUT */
			assert_int_equal(gm_get32(&m, CNT), 1);
			assert_int_equal(gm_res(&m, RES_RIP), GM_CODE + 2);	/* after HLT/NOP */
			const struct hw_counters *a = hw_cpu_counters(m.g.cpu);
			assert_int_equal(a->interrupts - before.interrupts, 1);
			/* sti, hlt/nop, 4 handler instructions: the OUT exits. */
			assert_int_equal(a->insns - before.insns, 2 + 4);
			gm_destroy(&m);
		}
	}
}

/*
 * With IF = 1 and nothing blocking, the pending interrupt is taken at the
 * first instruction boundary after entry, before the guest's first
 * instruction (SDM Vol. 3C 27.7: recognised after VM entry completes).
 */
static void exc_intr_at_entry(void **state)
{
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		struct gm m;
		gm_create(&m, &gm_cfgs[k], GM_64, 0, 0, 0);
		own_interrupts(&m);
		gm_set_rflags(&m, 0x202);		/* IF */
		static const uint8_t code[] = {
			0x90,				/* nop */
			0xe6, 0x80,			/* out 0x80, al */
		};
		gm_put(&m, GM_CODE, code, sizeof(code));
		gm_run(&m);
		assert_int_equal(hwg_rip(&m.g), GM_CODE + 1);
		assert_int_equal(gm_get32(&m, CNT), 1);
		assert_int_equal(gm_res(&m, RES_RIP), GM_CODE);
		gm_destroy(&m);
	}
}

/*
 * VMLOAD (APM Vol. 2 15.5.2, "VMSAVE and VMLOAD Instructions") loads FS,
 * GS, TR and LDTR (with their hidden parts), KernelGsBase and the
 * SYSCALL/SYSENTER MSRs from a VMCB; VMRUN does not touch them, so the
 * guest runs with what the hypervisor VMLOADed. The harness VMLOADs TR
 * selector 0x18; here FS.base is set to GM_TPAGE and VMLOADed too. The
 * guest reads STR and a word at FS:0.
 */
static void exc_svm_vmload_state(void **state)
{
	for (size_t k = 2; k < GM_NR_CFGS; k++) {
		struct gm m;
		gm_create(&m, &gm_cfgs[k], GM_64, 0, 0, 0);
		struct vmcb *v = hwg_vmcb(&m.g);
		v->save.fs = (struct vmcb_seg){ .selector = SEL_KDATA, .attrib = 0xc93,
						.limit = 0xffffffff, .base = GM_TPAGE };
		assert_int_equal(vmload(m.g.cpu, m.g.ctl), SVM_OK);
		gm_put32(&m, GM_TPAGE, 0xf5f5f5f5);
		static const uint8_t code[] = {
			0x0f, 0x00, 0xc8,				/* str eax */
			0x89, 0x04, 0x25, 0x00, 0x20, 0x01, 0x00,	/* mov [0x12000], eax */
			0x64, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x00, 0x00,	/* mov eax, fs:[0] */
			0x89, 0x04, 0x25, 0x08, 0x20, 0x01, 0x00,	/* mov [0x12008], eax */
			0xf4,						/* hlt */
		};
		gm_put(&m, GM_CODE, code, sizeof(code));
		assert_int_equal(gm_run_to_hlt(&m), GM_CODE + sizeof(code) - 1);
		assert_int_equal((uint32_t)gm_res(&m, RES_CR2), SEL_TSS);	/* STR */
		assert_int_equal((uint32_t)gm_res(&m, RES_ERR), 0xf5f5f5f5);	/* FS:0 */
		gm_destroy(&m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exc_int3_64),
		cmocka_unit_test(exc_int3_32),
		cmocka_unit_test(exc_np_error_codes),
		cmocka_unit_test(exc_double_fault),
		cmocka_unit_test(exc_triple_fault),
		cmocka_unit_test(exc_sti_shadow),
		cmocka_unit_test(exc_intr_at_entry),
		cmocka_unit_test(exc_svm_vmload_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
