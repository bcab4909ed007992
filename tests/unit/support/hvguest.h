/*
 * hvguest.h — small guests for the core/ tests (tests/unit/test_core_*.c):
 * a VM with one vcpu and RAM at gpa 0, hand-assembled code written with
 * hv_write_guest, and the processor put into real, 32-bit protected or
 * IA-32e mode through hv_set_sregs — the public API (include/hvlab/hv.h)
 * and nothing else, so each scenario runs unchanged on every backend.
 *
 * Guest-physical layout (all in slot 0, HVG_RAM bytes at 0 unless the
 * test asks for more with hvg_create_with):
 *
 *   0x1000  GDT: null, 0x08 32-bit code, 0x10 data, 0x18 64-bit code
 *           (at g->gdt instead when a test that needs 0x1000 moves it)
 *   0x2000  IDT, 256 gates (16 bytes each in IA-32e mode, 8 otherwise)
 *   0x4000  code (HVG_CODE)        0x5000  handlers (HVG_HANDLER)
 *   0x8000  stack top (HVG_STACK)  0x9000  data the guest writes (HVG_DATA)
 *   0x10000 PML4, 0x11000 PDPT, 0x12000-0x15fff four PDs: [0, 4 GiB)
 *           identity-mapped with 2 MiB pages (SDM Vol. 3A 4.5, Table 4-17),
 *           so MMIO addresses below 4 GiB are reachable in IA-32e mode
 *
 * The helpers fail the running cmocka test on any unexpected error.
 */
#ifndef TESTS_UNIT_SUPPORT_HVGUEST_H
#define TESTS_UNIT_SUPPORT_HVGUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlab/hv.h"

#define HVG_MiB (1ull << 20)
#define HVG_RAM (2 * HVG_MiB)
#define HVG_MAX_MEM (64 * HVG_MiB)

#define HVG_GDT 0x1000ull
#define HVG_IDT 0x2000ull
#define HVG_CODE 0x4000ull
#define HVG_HANDLER 0x5000ull
#define HVG_STACK 0x8000ull
#define HVG_DATA 0x9000ull
#define HVG_PML4 0x10000ull

#define HVG_SEL_CODE32 0x08
#define HVG_SEL_DATA 0x10
#define HVG_SEL_CODE64 0x18

/* SDM Vol. 3A 2.5 / 2.2.1: the control bits the set-ups use. */
#define HVG_CR0_PE (1ull << 0)
#define HVG_CR0_ET (1ull << 4)
#define HVG_CR0_NE (1ull << 5)
#define HVG_CR0_WP (1ull << 16)
#define HVG_CR0_PG (1ull << 31)
#define HVG_CR4_PAE (1ull << 5)
#define HVG_EFER_LME (1ull << 8)
#define HVG_EFER_LMA (1ull << 10)
#define HVG_RFLAGS_IF (1ull << 9)

struct hvg {
	const char *backend;
	struct hv_vm *vm;
	struct hv_vcpu *vcpu;
	struct hv_run run;
	bool long_mode;		/* the IDT takes 16-byte gates */
	uint64_t gdt;		/* where the enter_* helpers write the GDT */
};

/* The i-th backend compiled in (hv_backends()), or NULL past the last. */
const char *hvg_backend(unsigned i);
#define hvg_for_each_backend(i, name) \
	for (unsigned i = 0; ((name) = hvg_backend(i)) != NULL; i++)

/* A VM on @backend with the default MMU, max_mem HVG_MAX_MEM, slot 0 =
 * [0, HVG_RAM) and vcpu 0; hvg_destroy frees it. */
void hvg_create(struct hvg *g, const char *backend);
/* ... with MMU strategy @mmu (NULL: the default) and slot 0 = [0, @ram). */
void hvg_create_with(struct hvg *g, const char *backend, const char *mmu, uint64_t ram);
void hvg_destroy(struct hvg *g);
/* hvg_destroy and hvg_teardown also free a VM the test made itself in
 * g->vm, once adopted. */
void hvg_adopt(struct hvg *g);
/* cmocka teardown: free the VMs a failed test left behind. */
int hvg_teardown(void **state);

/* Guest memory. */
void hvg_load(struct hvg *g, uint64_t gpa, const void *bytes, size_t len);
void hvg_put32(struct hvg *g, uint64_t gpa, uint32_t v);
void hvg_put64(struct hvg *g, uint64_t gpa, uint64_t v);
uint32_t hvg_get32(struct hvg *g, uint64_t gpa);
uint64_t hvg_get64(struct hvg *g, uint64_t gpa);

/* RIP = @rip, RSP = @rsp, RFLAGS = 2 (the other registers unchanged). */
void hvg_start_at(struct hvg *g, uint64_t rip, uint64_t rsp);
/* RIP = @rip and nothing else. */
void hvg_set_rip(struct hvg *g, uint64_t rip);

/* Modes; each leaves RIP = @rip, RSP = HVG_STACK and RFLAGS = 2. */
void hvg_enter_real(struct hvg *g, uint64_t rip);
void hvg_enter_protected(struct hvg *g, uint64_t rip);
/* IA-32e mode with the identity map at HVG_PML4 ... */
void hvg_enter_long(struct hvg *g, uint64_t rip);
/* ... or with page tables of the test's own at @cr3, CR0 = @cr0. */
void hvg_enter_long_cr3(struct hvg *g, uint64_t rip, uint64_t cr3, uint64_t cr0);

/* An interrupt gate for @vector to @handler, DPL 0, in the IDT at HVG_IDT
 * (SDM Vol. 3A 6.14.1 Figure 6-8 in IA-32e mode, 6.11 Figure 6-2
 * otherwise); the first call also loads IDTR with the whole table. */
void hvg_set_gate(struct hvg *g, unsigned vector, uint64_t handler);

struct hv_regs hvg_regs(struct hvg *g);
void hvg_set_regs(struct hvg *g, const struct hv_regs *r);

/* hv_run must return 0; the exit reason (an internal error's reason is
 * printed). */
uint32_t hvg_run(struct hvg *g);
/* hvg_run, which must exit for @reason; the exit's record (g->run). */
struct hv_run *hvg_expect_exit(struct hvg *g, uint32_t reason);
/* hvg_run and check that the exit is port I/O with these fields (for OUT,
 * also the data). */
void hvg_expect_io(struct hvg *g, uint16_t port, uint8_t dir, uint8_t size, uint32_t data);

/* hvg_run, which must be an MMIO write of @len bytes at @gpa with @data
 * (little-endian, @len <= 8) ... */
void hvg_expect_mmio_write(struct hvg *g, uint64_t gpa, uint32_t len, uint64_t data);
/* ... or an MMIO read of @len bytes at @gpa, which the next hvg_run
 * completes with @data. */
void hvg_expect_mmio_read(struct hvg *g, uint64_t gpa, uint32_t len, uint64_t data);

/* The value of statistic @name (fails the test when there is none). */
uint64_t hvg_stat(struct hvg *g, const char *name);

/* hv_strerror() is one line of text: not empty, no newline. */
void hvg_assert_one_line(void);

/*
 * hvguest.c reaches the API through weak references (see there), which
 * bind only to calls the program links anyway. These strong references,
 * in each test that includes this header, make sure every call the
 * helpers make is linked. (hvguest.c itself defines HVG_WEAK_API.)
 */
#ifndef HVG_WEAK_API
#define HVG_REF(fn) static __typeof__(&fn) const hvg_ref_##fn __attribute__((used)) = fn
HVG_REF(hv_backends);
HVG_REF(hv_vm_create);
HVG_REF(hv_vm_destroy);
HVG_REF(hv_set_memory_region);
HVG_REF(hv_vcpu_create);
HVG_REF(hv_write_guest);
HVG_REF(hv_read_guest);
HVG_REF(hv_get_regs);
HVG_REF(hv_set_regs);
HVG_REF(hv_get_sregs);
HVG_REF(hv_set_sregs);
HVG_REF(hv_run);
HVG_REF(hv_get_stats);
HVG_REF(hv_strerror);
#undef HVG_REF
#endif

#endif
