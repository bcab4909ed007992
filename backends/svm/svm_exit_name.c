/*
 * svm_exit_name.c — a name for every EXITCODE of hw/vmcb.h (APM Vol. 2
 * Appendix C, Table C-1), for stats and traces. The names are the APM's
 * VMEXIT_* without the prefix, as KVM's tracepoints print them.
 */
#include "backends/svm/svm.h"

/* READ_CR0 ... WRITE_DR15: the number is pasted as written, so each
 * of the sixteen is spelled out. */
#define CR_DR(kind, n) [SVM_EXIT_##kind##0 + n] = #kind #n
#define SIXTEEN(kind) \
	CR_DR(kind, 0), CR_DR(kind, 1), CR_DR(kind, 2), CR_DR(kind, 3), \
	CR_DR(kind, 4), CR_DR(kind, 5), CR_DR(kind, 6), CR_DR(kind, 7), \
	CR_DR(kind, 8), CR_DR(kind, 9), CR_DR(kind, 10), CR_DR(kind, 11), \
	CR_DR(kind, 12), CR_DR(kind, 13), CR_DR(kind, 14), CR_DR(kind, 15)

static const char *const names[0x100] = {
	SIXTEEN(READ_CR), SIXTEEN(WRITE_CR), SIXTEEN(READ_DR), SIXTEEN(WRITE_DR),
	[SVM_EXIT_EXCP_BASE + 0] = "EXCP_DE",
	[SVM_EXIT_EXCP_BASE + 1] = "EXCP_DB",
	[SVM_EXIT_EXCP_BASE + 2] = "EXCP_NMI",
	[SVM_EXIT_EXCP_BASE + 3] = "EXCP_BP",
	[SVM_EXIT_EXCP_BASE + 4] = "EXCP_OF",
	[SVM_EXIT_EXCP_BASE + 5] = "EXCP_BR",
	[SVM_EXIT_EXCP_BASE + 6] = "EXCP_UD",
	[SVM_EXIT_EXCP_BASE + 7] = "EXCP_NM",
	[SVM_EXIT_EXCP_BASE + 8] = "EXCP_DF",
	[SVM_EXIT_EXCP_BASE + 9] = "EXCP_9",
	[SVM_EXIT_EXCP_BASE + 10] = "EXCP_TS",
	[SVM_EXIT_EXCP_BASE + 11] = "EXCP_NP",
	[SVM_EXIT_EXCP_BASE + 12] = "EXCP_SS",
	[SVM_EXIT_EXCP_BASE + 13] = "EXCP_GP",
	[SVM_EXIT_EXCP_BASE + 14] = "EXCP_PF",
	[SVM_EXIT_EXCP_BASE + 15] = "EXCP_15",
	[SVM_EXIT_EXCP_BASE + 16] = "EXCP_MF",
	[SVM_EXIT_EXCP_BASE + 17] = "EXCP_AC",
	[SVM_EXIT_EXCP_BASE + 18] = "EXCP_MC",
	[SVM_EXIT_EXCP_BASE + 19] = "EXCP_XF",
	[SVM_EXIT_EXCP_BASE + 20] = "EXCP_20",
	[SVM_EXIT_EXCP_BASE + 21] = "EXCP_CP",
	[SVM_EXIT_EXCP_BASE + 22] = "EXCP_22",
	[SVM_EXIT_EXCP_BASE + 23] = "EXCP_23",
	[SVM_EXIT_EXCP_BASE + 24] = "EXCP_24",
	[SVM_EXIT_EXCP_BASE + 25] = "EXCP_25",
	[SVM_EXIT_EXCP_BASE + 26] = "EXCP_26",
	[SVM_EXIT_EXCP_BASE + 27] = "EXCP_27",
	[SVM_EXIT_EXCP_BASE + 28] = "EXCP_HV",
	[SVM_EXIT_EXCP_BASE + 29] = "EXCP_VC",
	[SVM_EXIT_EXCP_BASE + 30] = "EXCP_SX",
	[SVM_EXIT_EXCP_BASE + 31] = "EXCP_31",
	[SVM_EXIT_INTR] = "INTR",
	[SVM_EXIT_NMI] = "NMI",
	[SVM_EXIT_SMI] = "SMI",
	[SVM_EXIT_INIT] = "INIT",
	[SVM_EXIT_VINTR] = "VINTR",
	[SVM_EXIT_CR0_SEL_WRITE] = "CR0_SEL_WRITE",
	[SVM_EXIT_IDTR_READ] = "IDTR_READ",
	[SVM_EXIT_GDTR_READ] = "GDTR_READ",
	[SVM_EXIT_LDTR_READ] = "LDTR_READ",
	[SVM_EXIT_TR_READ] = "TR_READ",
	[SVM_EXIT_IDTR_WRITE] = "IDTR_WRITE",
	[SVM_EXIT_GDTR_WRITE] = "GDTR_WRITE",
	[SVM_EXIT_LDTR_WRITE] = "LDTR_WRITE",
	[SVM_EXIT_TR_WRITE] = "TR_WRITE",
	[SVM_EXIT_RDTSC] = "RDTSC",
	[SVM_EXIT_RDPMC] = "RDPMC",
	[SVM_EXIT_PUSHF] = "PUSHF",
	[SVM_EXIT_POPF] = "POPF",
	[SVM_EXIT_CPUID] = "CPUID",
	[SVM_EXIT_RSM] = "RSM",
	[SVM_EXIT_IRET] = "IRET",
	[SVM_EXIT_SWINT] = "SWINT",
	[SVM_EXIT_INVD] = "INVD",
	[SVM_EXIT_PAUSE] = "PAUSE",
	[SVM_EXIT_HLT] = "HLT",
	[SVM_EXIT_INVLPG] = "INVLPG",
	[SVM_EXIT_INVLPGA] = "INVLPGA",
	[SVM_EXIT_IOIO] = "IOIO",
	[SVM_EXIT_MSR] = "MSR",
	[SVM_EXIT_TASK_SWITCH] = "TASK_SWITCH",
	[SVM_EXIT_FERR_FREEZE] = "FERR_FREEZE",
	[SVM_EXIT_SHUTDOWN] = "SHUTDOWN",
	[SVM_EXIT_VMRUN] = "VMRUN",
	[SVM_EXIT_VMMCALL] = "VMMCALL",
	[SVM_EXIT_VMLOAD] = "VMLOAD",
	[SVM_EXIT_VMSAVE] = "VMSAVE",
	[SVM_EXIT_STGI] = "STGI",
	[SVM_EXIT_CLGI] = "CLGI",
	[SVM_EXIT_SKINIT] = "SKINIT",
	[SVM_EXIT_RDTSCP] = "RDTSCP",
	[SVM_EXIT_ICEBP] = "ICEBP",
	[SVM_EXIT_WBINVD] = "WBINVD",
	[SVM_EXIT_MONITOR] = "MONITOR",
	[SVM_EXIT_MWAIT] = "MWAIT",
	[SVM_EXIT_MWAIT_COND] = "MWAIT_CONDITIONAL",
	[SVM_EXIT_XSETBV] = "XSETBV",
	[SVM_EXIT_RDPRU] = "RDPRU",
	[SVM_EXIT_EFER_WRITE_TRAP] = "EFER_WRITE_TRAP",
	[SVM_EXIT_INVLPGB] = "INVLPGB",
	[SVM_EXIT_INVLPGB_ILLEGAL] = "INVLPGB_ILLEGAL",
	[SVM_EXIT_INVPCID] = "INVPCID",
	[SVM_EXIT_MCOMMIT] = "MCOMMIT",
	[SVM_EXIT_TLBSYNC] = "TLBSYNC",
};

const char *svm_exit_name(uint64_t raw)
{
	if (raw == SVM_EXIT_INVALID)
		return "INVALID";
	if (raw == SVM_EXIT_NPF)
		return "NPF";
	if (raw < sizeof(names) / sizeof(names[0]) && names[raw])
		return names[raw];
	return "UNKNOWN";
}
