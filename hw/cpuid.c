/*
 * cpuid.c — the processor's CPUID (SDM Vol. 2A "CPUID"; APM Vol. 3
 * appendix E): a GenuineIntel with VMX on an Intel machine, an
 * AuthenticAMD with SVM on an AMD machine.
 *
 * It advertises only what the model implements: the integer instruction
 * set emulate/ executes (no x87, MMX or SSE: those raise #UD), the paging
 * features of hw/walk.c, and VMX or SVM. Leaves above the maximum return
 * the highest basic leaf's values on Intel and zeros on AMD, as those
 * processors do.
 */
#include <string.h>

#include "hw/cpu.h"

#define MAX_BASIC 0x7
#define MAX_EXT 0x8000000a

/* Leaf 1 EDX (SDM Table 3-11). */
#define F1D_DE (1u << 2)
#define F1D_PSE (1u << 3)
#define F1D_TSC (1u << 4)
#define F1D_MSR (1u << 5)
#define F1D_PAE (1u << 6)
#define F1D_MCE (1u << 7)
#define F1D_CX8 (1u << 8)
#define F1D_SEP (1u << 11)
#define F1D_MTRR (1u << 12)
#define F1D_PGE (1u << 13)
#define F1D_CMOV (1u << 15)
#define F1D_PAT (1u << 16)
#define F1D_PSE36 (1u << 17)
#define F1D_CLFSH (1u << 19)
/* Leaf 1 ECX (SDM Table 3-10). */
#define F1C_MONITOR (1u << 3)
#define F1C_VMX (1u << 5)
#define F1C_PCID (1u << 17)
#define F1C_POPCNT (1u << 23)
/* Leaf 7.0 (SDM Table 3-8). */
#define F7B_SMEP (1u << 7)
#define F7B_INVPCID (1u << 10)
#define F7B_SMAP (1u << 20)
#define F7C_UMIP (1u << 2)
#define F7C_RDPID (1u << 22)
/* Leaf 0x80000001 (SDM; APM Vol. 3 E.4.2). */
#define FX1C_LAHF (1u << 0)
#define FX1C_SVM (1u << 2)
#define FX1C_LZCNT (1u << 5)
#define FX1D_SYSCALL (1u << 11)
#define FX1D_NX (1u << 20)
#define FX1D_PAGE1GB (1u << 26)
#define FX1D_RDTSCP (1u << 27)
#define FX1D_LM (1u << 29)
/* Leaf 0x8000000a EDX (APM Vol. 3 E.4.9). */
#define SVMF_NP (1u << 0)
#define SVMF_NRIPS (1u << 3)
#define SVMF_FLUSH_BY_ASID (1u << 6)

/* Number of ASIDs (0x8000000a EBX): the TLB tag holds 16 bits. */
#define HW_NR_ASIDS 0x10000

static void vendor_string(bool amd, uint32_t out[4])
{
	const char *v = amd ? "AuthenticAMD" : "GenuineIntel";
	memcpy(&out[1], v, 4);		/* EBX */
	memcpy(&out[3], v + 4, 4);	/* EDX */
	memcpy(&out[2], v + 8, 4);	/* ECX */
}

static void policy_cpuid(struct hw_cpu *cpu, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

/* Clear the bits of features the machine leaves out (struct hw_features). */
static void drop_features(const struct hw_features *f, uint32_t leaf, uint32_t subleaf,
			  uint32_t out[4])
{
	enum { C = 2, B = 1, D = 3 };
	if (leaf == 1) {
		if (!f->pge)
			out[D] &= ~F1D_PGE;
		if (!f->pcid)
			out[C] &= ~F1C_PCID;
	} else if (leaf == 7 && subleaf == 0) {
		if (!f->smep)
			out[B] &= ~F7B_SMEP;
		if (!f->smap)
			out[B] &= ~F7B_SMAP;
		if (!f->pcid)
			out[B] &= ~F7B_INVPCID;
	} else if (leaf == 0x80000001) {
		if (!f->nx)
			out[D] &= ~FX1D_NX;
		if (!f->page1gb)
			out[D] &= ~FX1D_PAGE1GB;
	}
}

void hw_cpuid(struct hw_cpu *cpu, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	policy_cpuid(cpu, leaf, subleaf, out);
	drop_features(&cpu->m->cfg.features, leaf, subleaf, out);
}

static void policy_cpuid(struct hw_cpu *cpu, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	const bool amd = cpu->m->cfg.vendor == HW_VENDOR_AMD;
	enum { A, B, C, D };

	memset(out, 0, 4 * sizeof(uint32_t));
	const uint32_t max_ext = amd ? MAX_EXT : 0x80000008u;
	if ((leaf > MAX_BASIC && leaf < 0x80000000u) || leaf > max_ext) {
		if (amd)
			return;
		leaf = MAX_BASIC;
	}
	switch (leaf) {
	case 0:
		out[A] = MAX_BASIC;
		vendor_string(amd, out);
		break;
	case 1:
		/* Family 6 model 0x5e stepping 3 (Intel), family 0x17 model
		 * 0x31 (AMD, extended family 8): a Skylake / Zen 2 identity. */
		out[A] = amd ? 0x00830f10 : 0x000506e3;
		out[B] = (8u << 8) | (1u << 16) | ((uint32_t)(cpu->id & 0xff) << 24);
		out[C] = F1C_MONITOR | F1C_PCID | F1C_POPCNT | (amd ? 0 : F1C_VMX);
		out[D] = F1D_DE | F1D_PSE | F1D_TSC | F1D_MSR | F1D_PAE |
			 F1D_MCE | F1D_CX8 | F1D_SEP | F1D_MTRR | F1D_PGE | F1D_CMOV |
			 F1D_PAT | F1D_PSE36 | F1D_CLFSH;
		break;
	case 5:
		/* MONITOR/MWAIT (SDM CPUID leaf 05H): 64-byte monitor lines,
		 * extensions enumerated, interrupts as break events (MWAIT
		 * ECX[0]); no C-state sub-states. */
		out[A] = 64;
		out[B] = 64;
		out[C] = 3;
		break;
	case 7:
		if (subleaf == 0) {
			out[B] = F7B_SMEP | F7B_INVPCID | F7B_SMAP;
			out[C] = F7C_UMIP | F7C_RDPID;
		}
		break;
	case 0x80000000:
		out[A] = max_ext;
		if (amd)
			vendor_string(true, out);
		break;
	case 0x80000001:
		out[C] = FX1C_LAHF | FX1C_LZCNT | (amd ? FX1C_SVM : 0);
		out[D] = FX1D_SYSCALL | FX1D_NX | FX1D_PAGE1GB | FX1D_RDTSCP | FX1D_LM;
		break;
	case 0x80000008:
		out[A] = 46 | (48u << 8);	/* physical / linear address bits */
		break;
	case 0x8000000a:
		out[A] = 1;			/* SVM revision */
		out[B] = HW_NR_ASIDS;
		out[D] = SVMF_NP | SVMF_NRIPS | SVMF_FLUSH_BY_ASID;
		break;
	default:
		break;
	}
}
