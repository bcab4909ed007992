/*
 * cr.h — control registers and EFER as the architecture checks them on
 * a guest write (MOV to CR, CLTS, LMSW, WRMSR EFER) and on
 * hv_set_sregs(): the #GP conditions of SDM Vol. 3A 2.5 / Vol. 2B MOV
 * (Control Registers) and APM Vol. 2 3.1, then the write through the
 * backend and, when the paging mode changed, the MMU's reset_context.
 */
#ifndef HVLAB_CORE_CR_H
#define HVLAB_CORE_CR_H

#include <stdint.h>

struct hv_vcpu;

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_AM (1ull << 18)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)

#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_PGE (1ull << 7)
#define CR4_PCIDE (1ull << 17)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)

#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

/* CR4 bits the guest may set: those its CPUID advertises. */
uint64_t vcpu_cr4_valid(struct hv_vcpu *vcpu);

/* Write CR0, CR3, CR4 or CR8 as a guest MOV would. 0, or -EINVAL when
 * the write raises #GP (the caller injects it). */
int vcpu_set_cr(struct hv_vcpu *vcpu, unsigned cr, uint64_t val);
uint64_t vcpu_get_cr(struct hv_vcpu *vcpu, unsigned cr);

/* WRMSR IA32_EFER. 0 or -EINVAL (#GP). */
int vcpu_set_efer(struct hv_vcpu *vcpu, uint64_t efer);

#endif
