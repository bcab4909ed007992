/*
 * vmx_icpt.c — which guest operations cause VM exits in VMX non-root
 * operation (SDM Vol. 3C 26.1.2 unconditional, 26.1.3 conditional,
 * 26.3 changes to instruction behaviour), read from the controls cached
 * at entry (vmx_ctl.h). Exit qualifications per SDM 28.2.1 (Tables 28-1
 * debug .. 28-5 I/O); instruction length and information per 28.2.4-5.
 *
 * The engine calls these ops after the instruction's privilege and #UD
 * checks, which have priority over VM exits (26.1.1), and before it
 * changes any state.
 */
#include "hw/intercept.h"
#include "hw/vmx.h"

static int insn_exit(struct hw_cpu *cpu, uint64_t reason, uint64_t qual)
{
	hw_exit(cpu, reason, qual);
	cpu->exit.insn_len = cpu->emu.insn->len;
	return EMU_STOP;
}

/*
 * VM-exit instruction information for the VMX instructions (28.2.5,
 * Tables 28-13 to 28-15): scaling 1:0, address size 9:7, register
 * operand 10 (VMREAD/VMWRITE), segment 17:15, index 21:18 and invalid
 * 22, base 26:23 and invalid 27, the register operand 31:28 (VMREAD,
 * VMWRITE, INVEPT, INVVPID). The qualification is the displacement.
 */
uint32_t vmx_insn_info(const struct emu_insn *insn)
{
	uint32_t info = (insn->adsize == 2 ? 0u : insn->adsize == 4 ? 1u : 2u) << 7;
	if (insn->flags & EMU_I_MEM) {
		info |= insn->scale | ((uint32_t)insn->seg << 15);
		if (insn->index == EMU_NOREG)
			info |= 1u << 22;
		else
			info |= (uint32_t)insn->index << 18;
		if (insn->base == EMU_NOREG || insn->base == EMU_REG_RIP)
			info |= 1u << 27;
		else
			info |= (uint32_t)insn->base << 23;
	} else {
		info |= 1u << 10 | ((uint32_t)insn->rm << 3);
	}
	info |= (uint32_t)insn->reg << 28;
	return info;
}

/* The displacement an exit qualification reports for a memory operand,
 * plus the next RIP for a RIP-relative one (SDM 28.2.1). */
uint64_t vmx_insn_disp_qual(const struct hw_cpu *cpu, const struct emu_insn *insn)
{
	if (!(insn->flags & EMU_I_MEM))
		return 0;
	uint64_t q = (uint64_t)(int64_t)insn->disp;
	if (insn->base == EMU_REG_RIP)
		q += cpu->emu.next_rip;
	return q;
}

int vmx_icpt_insn(struct hw_cpu *cpu, enum hw_icpt_insn what)
{
	const struct vmx_ctl *c = &cpu->vmx_ctl;
	const bool proc2 = c->proc & VMX_PROC_SECONDARY_CTLS;
	switch (what) {
	case HW_ICPT_CPUID:
		return insn_exit(cpu, VMX_EXIT_CPUID, 0);	/* unconditional */
	case HW_ICPT_RDTSC:
		if (c->proc & VMX_PROC_RDTSC_EXITING)
			return insn_exit(cpu, VMX_EXIT_RDTSC, 0);
		break;
	case HW_ICPT_RDTSCP:
		/* Without "enable RDTSCP", RDTSCP is #UD (26.3). */
		if (!proc2 || !(c->proc2 & VMX_PROC2_RDTSCP))
			return emu_raise(&cpu->emu, EMU_EXC_UD, false, 0);
		if (c->proc & VMX_PROC_RDTSC_EXITING)
			return insn_exit(cpu, VMX_EXIT_RDTSCP, 0);
		break;
	case HW_ICPT_INVPCID:
		if (!proc2 || !(c->proc2 & VMX_PROC2_INVPCID))
			return emu_raise(&cpu->emu, EMU_EXC_UD, false, 0);
		if (c->proc & VMX_PROC_INVLPG_EXITING) {
			/* Qualification: the displacement; information as
			 * INVEPT/INVVPID (28.2.1, Table 28-13). */
			const struct emu_insn *insn = cpu->emu.insn;
			insn_exit(cpu, VMX_EXIT_INVPCID, vmx_insn_disp_qual(cpu, insn));
			cpu->exit.insn_info = vmx_insn_info(insn);
			return EMU_STOP;
		}
		break;
	case HW_ICPT_INVD:
		return insn_exit(cpu, VMX_EXIT_INVD, 0);	/* unconditional */
	case HW_ICPT_WBINVD:
		if (proc2 && (c->proc2 & VMX_PROC2_WBINVD_EXITING))
			return insn_exit(cpu, VMX_EXIT_WBINVD, 0);
		break;
	case HW_ICPT_HLT:
		if (c->proc & VMX_PROC_HLT_EXITING)
			return insn_exit(cpu, VMX_EXIT_HLT, 0);
		break;
	case HW_ICPT_HYPERCALL:
		/* VMCALL exits unconditionally; AMD's VMMCALL is #UD here. */
		if (cpu->emu.insn->op == EMU_OP_VMCALL)
			return insn_exit(cpu, VMX_EXIT_VMCALL, 0);
		break;
	case HW_ICPT_PAUSE:
		if (c->proc & VMX_PROC_PAUSE_EXITING)
			return insn_exit(cpu, VMX_EXIT_PAUSE, 0);
		break;
	}
	return EMU_CONTINUE;
}

/* Control-register access qualification (Table 28-3). */
#define CRQ_TO_CR	0
#define CRQ_FROM_CR	1
#define CRQ_CLTS	2
#define CRQ_LMSW	3

static int cr_exit(struct hw_cpu *cpu, unsigned cr, unsigned type)
{
	const struct emu_insn *insn = cpu->emu.insn;
	uint64_t q = cr | (type << 4);
	if (type == CRQ_TO_CR || type == CRQ_FROM_CR)
		q |= (uint64_t)insn->rm << 8;
	if (type == CRQ_LMSW) {
		/* Bit 6: memory operand; 31:16 the source operand. The
		 * engine passes the new CR0 whose bits 3:0 came from it. */
		if (insn->flags & EMU_I_MEM)
			q |= 1u << 6;
		q |= (uint64_t)(cpu->emu.op_src & 0xffff) << 16;
	}
	return insn_exit(cpu, VMX_EXIT_CR_ACCESS, q);
}

int vmx_icpt_cr_read(struct hw_cpu *cpu, unsigned cr)
{
	const struct vmx_ctl *c = &cpu->vmx_ctl;
	if ((cr == 3 && (c->proc & VMX_PROC_CR3_STORE_EXITING)) ||
	    (cr == 8 && (c->proc & VMX_PROC_CR8_STORE_EXITING)))
		return cr_exit(cpu, cr, CRQ_FROM_CR);
	return EMU_CONTINUE;
}

#define CR0_PE (1ull << 0)
#define CR0_TS (1ull << 3)
#define CR0_PG (1ull << 31)

/* The bits CR0 or CR4 must have set (fixed0) and may have set (fixed1)
 * in VMX operation (A.7, A.8); unrestricted guest frees PE and PG. */
static void fixed_bits(struct hw_cpu *cpu, unsigned cr, uint64_t *fixed0, uint64_t *fixed1)
{
	const struct vmx_ctl *c = &cpu->vmx_ctl;
	vmx_cap_rdmsr(cpu, cr ? MSR_IA32_VMX_CR4_FIXED0 : MSR_IA32_VMX_CR0_FIXED0, fixed0);
	vmx_cap_rdmsr(cpu, cr ? MSR_IA32_VMX_CR4_FIXED1 : MSR_IA32_VMX_CR0_FIXED1, fixed1);
	if (!cr && (c->proc & VMX_PROC_SECONDARY_CTLS) &&
	    (c->proc2 & VMX_PROC2_UNRESTRICTED_GUEST))
		*fixed0 &= ~(CR0_PE | CR0_PG);
}

/*
 * CR0 and CR4 writes (26.1.3, 26.3): exit if a host-owned bit (mask = 1)
 * would differ from its read shadow; otherwise the guest's write leaves
 * host-owned bits as they are, and a value the VMX fixed bits forbid
 * raises #GP (with unrestricted guest, PE and PG may be 0).
 */
static int cr0_cr4_write(struct hw_cpu *cpu, unsigned cr, uint64_t *val)
{
	const struct vmx_ctl *c = &cpu->vmx_ctl;
	const unsigned op = cpu->emu.insn->op;
	const uint64_t mask = cr ? c->cr4_mask : c->cr0_mask;
	const uint64_t shadow = cr ? c->cr4_shadow : c->cr0_shadow;
	const uint64_t cur = cr ? cpu->emu.cpu.cr4 : cpu->emu.cpu.cr0;
	bool exit;

	if (cr == 0 && op == EMU_OP_CLTS) {
		exit = (mask & CR0_TS) && (shadow & CR0_TS);
	} else if (cr == 0 && op == EMU_OP_LMSW) {
		/* LMSW can set PE but never clear it, and writes bits 3:0. */
		const uint64_t src = cpu->emu.op_src & 0xf;
		exit = ((mask & CR0_PE) && !(shadow & CR0_PE) && (src & CR0_PE)) ||
		       ((mask & 0xe) & (shadow ^ src));
	} else {
		exit = (mask & (shadow ^ *val)) != 0;
	}
	if (exit)
		return cr_exit(cpu, cr, op == EMU_OP_CLTS ? CRQ_CLTS :
					op == EMU_OP_LMSW ? CRQ_LMSW : CRQ_TO_CR);
	*val = (*val & ~mask) | (cur & mask);

	uint64_t fixed0, fixed1;
	fixed_bits(cpu, cr, &fixed0, &fixed1);
	if ((*val & fixed0) != fixed0 || (*val & ~fixed1))
		return emu_raise(&cpu->emu, EMU_EXC_GP, true, 0);
	return EMU_CONTINUE;
}

int vmx_icpt_cr_write(struct hw_cpu *cpu, unsigned cr, uint64_t *val)
{
	const struct vmx_ctl *c = &cpu->vmx_ctl;
	switch (cr) {
	case 0:
	case 4:
		return cr0_cr4_write(cpu, cr, val);
	case 3:
		if (!(c->proc & VMX_PROC_CR3_LOAD_EXITING))
			return EMU_CONTINUE;
		for (unsigned i = 0; i < c->cr3_target_count && i < 4; i++)
			if (c->cr3_target[i] == *val)
				return EMU_CONTINUE;
		return cr_exit(cpu, 3, CRQ_TO_CR);
	case 8:
		if (c->proc & VMX_PROC_CR8_LOAD_EXITING)
			return cr_exit(cpu, 8, CRQ_TO_CR);
		return EMU_CONTINUE;
	}
	return EMU_CONTINUE;
}

uint64_t vmx_icpt_cr_shadowed(const struct hw_cpu *cpu, unsigned cr, uint64_t val)
{
	const struct vmx_ctl *c = &cpu->vmx_ctl;
	const uint64_t mask = cr ? c->cr4_mask : c->cr0_mask;
	const uint64_t shadow = cr ? c->cr4_shadow : c->cr0_shadow;
	return (val & ~mask) | (shadow & mask);
}

int vmx_icpt_dr(struct hw_cpu *cpu, unsigned dr, bool write)
{
	if (!(cpu->vmx_ctl.proc & VMX_PROC_MOV_DR_EXITING))
		return EMU_CONTINUE;
	/* Table 28-4: DR number 2:0, direction 4 (1 = MOV from DR), GPR 11:8. */
	const uint64_t q = dr | (write ? 0 : 1u << 4) | ((uint64_t)cpu->emu.insn->rm << 8);
	return insn_exit(cpu, VMX_EXIT_DR_ACCESS, q);
}

/* One bit of a bitmap page in host-physical memory; a bitmap outside
 * the arena reads as all ones (the bus), so everything exits. */
static bool bitmap_bit(struct hw_cpu *cpu, hpa_t page, unsigned bit)
{
	const uint8_t *p = hw_hpa_ptr(cpu->m, page + bit / 8, 1);
	return p ? (*p >> (bit % 8)) & 1 : true;
}

/* MSR bitmaps (25.6.9): read low/high at 0/1024, write low/high at
 * 2048/3072 bytes; MSRs outside 0..1fff and c0000000..c0001fff exit. */
int vmx_icpt_msr(struct hw_cpu *cpu, uint32_t msr, bool write)
{
	const struct vmx_ctl *c = &cpu->vmx_ctl;
	const uint64_t reason = write ? VMX_EXIT_WRMSR : VMX_EXIT_RDMSR;
	if (!(c->proc & VMX_PROC_MSR_BITMAPS))
		return insn_exit(cpu, reason, 0);
	unsigned base;
	if (msr <= 0x1fff)
		base = 0;
	else if (msr >= 0xc0000000 && msr <= 0xc0001fff)
		base = 1024;
	else
		return insn_exit(cpu, reason, 0);
	if (write)
		base += 2048;
	if (bitmap_bit(cpu, c->msr_bitmap, base * 8 + (msr & 0x1fff)))
		return insn_exit(cpu, reason, 0);
	return EMU_CONTINUE;
}

/*
 * I/O (26.1.3): unconditional I/O exiting when I/O bitmaps are off;
 * with them, any port of the access with its bit set (bitmap A for
 * 0..7fff, B for 8000..ffff), and an access that wraps past ffff exits.
 */
static bool io_exits(struct hw_cpu *cpu, uint16_t port, unsigned size)
{
	const struct vmx_ctl *c = &cpu->vmx_ctl;
	if (!(c->proc & VMX_PROC_IO_BITMAPS))
		return c->proc & VMX_PROC_UNCOND_IO_EXITING;
	if ((unsigned)port + size > 0x10000)
		return true;
	for (unsigned p = port; p < (unsigned)port + size; p++)
		if (bitmap_bit(cpu, c->io_bitmap[p >> 15], p & 0x7fff))
			return true;
	return false;
}

int vmx_icpt_io(struct hw_cpu *cpu, uint16_t port, unsigned size, bool in)
{
	if (!io_exits(cpu, port, size))
		return EMU_CONTINUE;
	const struct emu_insn *insn = cpu->emu.insn;
	const bool str = insn->op == EMU_OP_INS || insn->op == EMU_OP_OUTS;
	/* Table 28-5: size-1 in 2:0, IN 3, string 4, REP 5, immediate
	 * operand 6, port 31:16. */
	uint64_t q = (size - 1) | (in ? 1u << 3 : 0) | ((uint64_t)port << 16);
	if (str) {
		q |= 1u << 4;
		if (insn->flags & (EMU_I_REP | EMU_I_REPNE))
			q |= 1u << 5;
	} else if (insn->src == EMU_LOC_IMM || insn->dst == EMU_LOC_IMM) {
		q |= 1u << 6;
	}
	insn_exit(cpu, VMX_EXIT_IO_INSTRUCTION, q);
	if (str) {
		/* INS/OUTS information (28.2.5, VMX_BASIC[54]): address size
		 * 9:7 (0 16-bit, 1 32-bit, 2 64-bit), segment 17:15 (OUTS). */
		cpu->exit.insn_info = (insn->adsize == 2 ? 0u : insn->adsize == 4 ? 1u : 2u) << 7;
		if (insn->op == EMU_OP_OUTS)
			cpu->exit.insn_info |= (uint32_t)insn->seg << 15;
		/* The linear address of the memory operand (28.2.1). */
		const uint64_t amask = insn->adsize == 8 ? ~0ull :
				       insn->adsize == 4 ? 0xffffffffull : 0xffff;
		const struct emu_cpu *r = &cpu->emu.cpu;
		cpu->exit.gla = insn->op == EMU_OP_OUTS ?
			r->seg[insn->seg].base + (r->gpr[EMU_RSI] & amask) :
			r->seg[EMU_ES].base + (r->gpr[EMU_RDI] & amask);
	}
	return EMU_STOP;
}

int vmx_icpt_invlpg(struct hw_cpu *cpu, uint64_t la)
{
	if (cpu->vmx_ctl.proc & VMX_PROC_INVLPG_EXITING)
		return insn_exit(cpu, VMX_EXIT_INVLPG, la);
	return EMU_CONTINUE;
}
