/*
 * test_hw_guest_modes.c — guests outside 64-bit mode: real mode and
 * 32-bit protected mode with paging off, each running a loop to HLT and
 * an INT n through its interrupt table.
 *
 * Real mode runs on VMX only as an unrestricted guest, which needs EPT
 * (SDM Vol. 3C 27.2.1.1: "unrestricted guest" requires "enable EPT";
 * 27.3.1.1: CR0.PE and CR0.PG then escape the fixed bits), and on SVM,
 * which runs any mode (APM Vol. 2 15.5.1 has no rule against CR0.PE = 0);
 * with paging off the guest's addresses are guest-physical, which only
 * EPT/NPT map to its RAM (without them gpa = hpa and the harness's RAM
 * lies above the host area), so both run on the EPT/NPT machines.
 *
 * Real mode (SDM Vol. 3A 20.1): segment base = selector * 16, 16-bit
 * operands; INT n reads the 4-byte IVT entry at vector * 4 (offset,
 * segment), pushes FLAGS, CS, IP, and clears IF, TF, AC (20.1.4);
 * IRET pops them.
 */
#include "test_hw_guest.h"

#define RM_CODE		0x7c00ull
#define RM_STACK	0x7000ull
#define RM_HANDLER	0x7e00ull

static const uint8_t rm_code[] = {
	0xb8, 0x00, 0x00,		/* mov ax, 0 */
	0xb9, 0x0a, 0x00,		/* mov cx, 10 */
	0x01, 0xc8,			/* 1: add ax, cx */
	0xe2, 0xfc,			/* loop 1b */
	0xcd, 0x21,			/* int 0x21 */
	0xf4,				/* hlt */
};

static const uint8_t rm_handler[] = {
	0xbb, 0x34, 0x12,		/* mov bx, 0x1234 */
	0xcf,				/* iret */
};

/* Real-mode segment registers all 0 (base 0, limit 64 KiB), and the IVT
 * at 0 (IDTR limit 0x3ff). VMX access rights: code 0x9b, data 0x93
 * (present, S, accessed; 16-bit); SVM the same attribute bytes. */
static void enter_real_mode(struct gm *m)
{
	if (gm_vmx(m)) {
		hwg_vmwrite(&m->g, VMCS_PROC_BASED_CTLS2, hwg_vmread(&m->g, VMCS_PROC_BASED_CTLS2) |
			    VMX_PROC2_UNRESTRICTED_GUEST);
		for (unsigned i = 0; i < 6; i++) {
			hwg_vmwrite(&m->g, VMCS_GUEST_ES_SELECTOR + 2 * i, 0);
			hwg_vmwrite(&m->g, VMCS_GUEST_ES_BASE + 2 * i, 0);
			hwg_vmwrite(&m->g, VMCS_GUEST_ES_LIMIT + 2 * i, 0xffff);
			hwg_vmwrite(&m->g, VMCS_GUEST_ES_ACCESS_RIGHTS + 2 * i, i == 1 ? 0x9b : 0x93);
		}
	} else {
		struct vmcb *v = hwg_vmcb(&m->g);
		struct vmcb_seg *segs[] = { &v->save.es, &v->save.cs, &v->save.ss, &v->save.ds };
		for (unsigned i = 0; i < 4; i++)
			*segs[i] = (struct vmcb_seg){ .selector = 0, .base = 0, .limit = 0xffff,
						      .attrib = i == 1 ? 0x9b : 0x93 };
		v->save.cpl = 0;
	}
	gm_set_cr(m, 0, CR0_ET | CR0_NE);
	gm_set_cr(m, 4, 0);
	gm_set_efer(m, 0);
	gm_set_dtr(m, true, 0, 0x3ff);
	gm_set_rflags(m, 2);
	hwg_set_entry(&m->g, RM_CODE, RM_STACK);
}

static void mode_real(void **state)
{
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		if (!gm_cfgs[k].tdp)
			continue;
		struct gm m;
		gm_create(&m, &gm_cfgs[k], GM_64, 0, 0, 0);
		enter_real_mode(&m);
		gm_put(&m, RM_CODE, rm_code, sizeof(rm_code));
		gm_put(&m, RM_HANDLER, rm_handler, sizeof(rm_handler));
		gm_put32(&m, 0x21 * 4, (uint32_t)RM_HANDLER);	/* IVT[0x21] = 0000:7e00 */
		for (unsigned r = 0; r < 4; r++)
			hwg_set_gpr(&m.g, r, 0xffff0000u);	/* upper halves must survive */
		const struct hw_counters before = gm_counters(&m);
		assert_int_equal(gm_run_to_hlt(&m), RM_CODE + 12);
		assert_int_equal(hwg_gpr(&m.g, 0), 0xffff0000u + 55);	/* AX = 10 + ... + 1 */
		assert_int_equal(hwg_gpr(&m.g, 1), 0xffff0000u);	/* CX counted down */
		assert_int_equal(hwg_gpr(&m.g, 3), 0xffff1234u);	/* BX from the handler */
		assert_int_equal(hwg_gpr(&m.g, 4), RM_STACK);		/* IRET popped 6 bytes */
		/* The frame INT 0x21 pushed: FLAGS (0x0002: the last ADD left
		 * 55 with PF, AF, ZF, SF, CF, OF all 0), CS 0, IP after INT. */
		uint16_t frame[3];
		memcpy(frame, hwg_ptr(&m.g, RM_STACK - 6, 6), 6);
		assert_int_equal(frame[0], RM_CODE + 12);
		assert_int_equal(frame[1], 0);
		assert_int_equal(frame[2], 0x0002);
		/* mov, mov, 10 * (add, loop), int, 2 in the handler; HLT exits. */
		assert_int_equal(hw_cpu_counters(m.g.cpu)->insns - before.insns, 25);
		gm_destroy(&m);
	}
}

/* Real mode segments: CS = 0x07c0 (base 0x7c00), the same code at IP 0. */
static void mode_real_segments(void **state)
{
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		if (!gm_cfgs[k].tdp)
			continue;
		struct gm m;
		gm_create(&m, &gm_cfgs[k], GM_64, 0, 0, 0);
		enter_real_mode(&m);
		if (gm_vmx(&m)) {
			hwg_vmwrite(&m.g, VMCS_GUEST_CS_SELECTOR, 0x07c0);
			hwg_vmwrite(&m.g, VMCS_GUEST_CS_BASE, 0x7c00);
		} else {
			hwg_vmcb(&m.g)->save.cs.selector = 0x07c0;
			hwg_vmcb(&m.g)->save.cs.base = 0x7c00;
		}
		hwg_set_entry(&m.g, 0, RM_STACK);
		gm_put(&m, RM_CODE, rm_code, sizeof(rm_code));
		gm_put(&m, RM_HANDLER, rm_handler, sizeof(rm_handler));
		gm_put32(&m, 0x21 * 4, (uint32_t)RM_HANDLER);
		assert_int_equal(gm_run_to_hlt(&m), 12);		/* IP, CS base 0x7c00 */
		assert_int_equal(hwg_gpr(&m.g, 0) & 0xffff, 55);
		uint16_t frame[2];
		memcpy(frame, hwg_ptr(&m.g, RM_STACK - 6, 4), 4);
		assert_int_equal(frame[0], 12);				/* IP */
		assert_int_equal(frame[1], 0x07c0);			/* CS */
		gm_destroy(&m);
	}
}

static const uint8_t pm_code[] = {
	0xb9, 0xe8, 0x03, 0x00, 0x00,	/* mov ecx, 1000 */
	0x31, 0xc0,			/* xor eax, eax */
	0x01, 0xc8,			/* 1: add eax, ecx */
	0x49,				/* dec ecx */
	0x75, 0xfb,			/* jnz 1b */
	0xcd, 0x40,			/* int 0x40 */
	0xf4,				/* hlt */
};

static const uint8_t pm_handler[] = {
	0xbb, 0x78, 0x56, 0x34, 0x12,	/* mov ebx, 0x12345678 */
	0xcf,				/* iret */
};

/*
 * 32-bit protected mode: flat 32-bit code through GM_GDT, a 32-bit
 * interrupt gate (SDM Vol. 3A 6.11), no privilege change (6.12.1: EFLAGS,
 * CS, EIP pushed). @paging: CR0.PG with 32-bit paging (all four
 * machines), else PG = 0 (EPT/NPT machines; VMX as an unrestricted guest).
 */
static void pm32(bool paging)
{
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		if (!paging && !gm_cfgs[k].tdp)
			continue;
		struct gm m;
		gm_create(&m, &gm_cfgs[k], GM_32, 0, 0, 0);
		if (!paging) {
			if (gm_vmx(&m))
				hwg_vmwrite(&m.g, VMCS_PROC_BASED_CTLS2,
					    hwg_vmread(&m.g, VMCS_PROC_BASED_CTLS2) |
					    VMX_PROC2_UNRESTRICTED_GUEST);
			gm_set_cr(&m, 0, CR0_PE | CR0_ET | CR0_NE);
		}
		gm_put(&m, GM_CODE, pm_code, sizeof(pm_code));
		gm_put(&m, 0x11200, pm_handler, sizeof(pm_handler));
		gm_gate(&m, 0x40, 0x11200, 0, true);
		hwg_set_gpr(&m.g, 3, 0);
		const struct hw_counters before = gm_counters(&m);
		assert_int_equal(gm_run_to_hlt(&m), GM_CODE + 14);
		assert_int_equal(hwg_gpr(&m.g, 0), 500500);
		assert_int_equal(hwg_gpr(&m.g, 3), 0x12345678);
		assert_int_equal(hwg_gpr(&m.g, 4), GM_STACK);
		uint32_t frame[3];
		memcpy(frame, hwg_ptr(&m.g, GM_STACK - 12, 12), 12);
		assert_int_equal(frame[0], GM_CODE + 14);		/* EIP after INT */
		assert_int_equal(frame[1], SEL_KCODE32);
		/* EFLAGS: bit 1, and ZF, PF from the last DEC (1 -> 0); CF 0
		 * from the last ADD; IF was 0 at entry. */
		assert_int_equal(frame[2], 0x46);
		const struct hw_counters *a = hw_cpu_counters(m.g.cpu);
		/* mov, xor, 1000 * (add, dec, jnz), int, 2 in the handler. */
		assert_int_equal(a->insns - before.insns, 2 + 3 * 1000 + 1 + 2);
		gm_destroy(&m);
	}
}

static void mode_pm32_paging(void **state) { pm32(true); }
static void mode_pm32_flat(void **state) { pm32(false); }

/*
 * Task switches (SDM Vol. 3A 7.3) are the hypervisor's to perform: a JMP
 * to a TSS and INT n through a task gate exit (VMX: reason 9,
 * qualification = TSS selector | source << 30, Table 28-2: 2 = JMP,
 * 3 = task gate in the IDT; SVM with the task-switch intercept, bit 29 of
 * the vector at 0x00c: #VMEXIT 0x7d, EXITINFO1 = the selector, EXITINFO2
 * bit 38 for JMP, APM 15.14.3). RIP stays at the instruction.
 */
#define TS_SEL 0x30
#define TS_BASE 0x13000ull

static void task_switch_exits(void **state)
{
	static const uint8_t jmp_tss[] = { 0xea, 0, 0, 0, 0, TS_SEL, 0 };	/* jmp 0x30:0 */
	static const uint8_t int41[] = { 0xcd, 0x41 };			/* int 0x41 */
	for (size_t k = 0; k < GM_NR_CFGS; k++) {
		for (int via_gate = 0; via_gate < 2; via_gate++) {
			struct gm m;
			gm_create(&m, &gm_cfgs[k], GM_32, 0, 0, 0);
			/* An available 32-bit TSS (type 9) at TS_BASE, and a task
			 * gate (type 5) for vector 0x41 naming it. */
			gm_put64(&m, GM_GDT + TS_SEL, 0x0000890000000067ull |
				 ((TS_BASE & 0xffffff) << 16) | ((TS_BASE >> 24) & 0xff) << 56);
			gm_put64(&m, GM_IDT + 8 * 0x41, ((uint64_t)TS_SEL << 16) | (0x85ull << 40));
			if (via_gate)
				gm_put(&m, GM_CODE, int41, sizeof(int41));
			else
				gm_put(&m, GM_CODE, jmp_tss, sizeof(jmp_tss));
			int st;
			gm_load_pdptes(&m);
			if (gm_vmx(&m)) {
				assert_int_equal(hwg_run(&m.g, &st), 9);
				assert_int_equal(hwg_vmread(&m.g, VMCS_EXIT_QUALIFICATION),
						 TS_SEL | (uint64_t)(via_gate ? 3 : 2) << 30);
				assert_int_equal(hwg_vmread(&m.g, VMCS_EXIT_INSTRUCTION_LEN),
						 via_gate ? 2 : 7);
				/* Through the IDT: the event is the IDT-vectoring
				 * information (vector 0x41, type 4, valid). */
				assert_int_equal(hwg_vmread(&m.g, VMCS_IDT_VECTORING_INFO),
						 via_gate ? 0x80000441u : 0);
			} else {
				hwg_run(&m.g, &st);
				assert_int_equal(st, SVM_MODEL_UNSUPPORTED);	/* not intercepted */
				hwg_set_rip(&m.g, GM_CODE);
				hwg_vmcb(&m.g)->control.intercept_misc1 |= 1u << 29;
				assert_int_equal(hwg_run(&m.g, &st), 0x7d);
				assert_int_equal(st, 0);
				assert_int_equal(hwg_vmcb(&m.g)->control.exitinfo1, TS_SEL);
				assert_int_equal(hwg_vmcb(&m.g)->control.exitinfo2,
						 via_gate ? 0 : 1ull << 38);
			}
			assert_int_equal(hwg_rip(&m.g), GM_CODE);
			gm_destroy(&m);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mode_real),
		cmocka_unit_test(mode_real_segments),
		cmocka_unit_test(mode_pm32_paging),
		cmocka_unit_test(mode_pm32_flat),
		cmocka_unit_test(task_switch_exits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
