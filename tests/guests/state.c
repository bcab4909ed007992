/*
 * state.c — the machine state the runtime promises guest_main()
 * (docs/guests.md, "State when guest_main() runs"), read back from the
 * processor. A loader that enters the image differently (hvlab's
 * multiboot loader, a later ELF64 entry) must still produce it.
 *
 * SDM Vol. 3A: CR0.PE bit 0, CR0.WP bit 16, CR0.PG bit 31 (2.5); CR4.PAE
 * bit 5 (2.5); IA32_EFER (MSR C000_0080H) LME bit 8, LMA bit 10, NXE
 * bit 11 (2.2.1); LMA=1 and CS.L=1 is 64-bit mode (5.2.1, 10.8.5);
 * RFLAGS.IF bit 9; SGDT/SIDT store limit and base, STR the TR selector
 * (Vol. 2); the 64-bit TSS descriptor is 16 bytes (7.2.3).
 *
 * Expected serial output: tests/guests/state.expect.
 * Expected exit status: 1 (guest_exit(0)).
 */
#include "guests/guest.h"

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static int bad;

static void expect(const char *what, uint64_t got, uint64_t want)
{
	if (got == want) {
		guest_printf("%s: ok\n", what);
	} else {
		guest_printf("%s: 0x%lx, expected 0x%lx\n", what, got, want);
		bad++;
	}
}

static uint16_t sel(int which)
{
	uint16_t v = 0;
	switch (which) {
	case 0: __asm__ volatile("mov %%cs, %0" : "=r"(v)); break;
	case 1: __asm__ volatile("mov %%ds, %0" : "=r"(v)); break;
	case 2: __asm__ volatile("mov %%es, %0" : "=r"(v)); break;
	case 3: __asm__ volatile("mov %%ss, %0" : "=r"(v)); break;
	case 4: __asm__ volatile("mov %%fs, %0" : "=r"(v)); break;
	default: __asm__ volatile("mov %%gs, %0" : "=r"(v)); break;
	}
	return v;
}

int guest_main(void)
{
	uint64_t cr0, cr4, rflags;
	uint32_t lo, hi, r[4];
	struct desc_ptr gdtr, idtr;
	uint16_t tr;

	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("pushfq; popq %0" : "=r"(rflags));
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xC0000080));
	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	__asm__ volatile("sidt %0" : "=m"(idtr));
	uint64_t efer = (uint64_t)hi << 32 | lo;
	cpuid(0x80000001, 0, r);

	expect("CS", sel(0), 0x08);
	expect("DS", sel(1), 0x10);
	expect("ES", sel(2), 0x10);
	expect("SS", sel(3), 0x10);
	expect("FS", sel(4), 0);
	expect("GS", sel(5), 0);
	expect("CR0.PE|WP|PG", cr0 & (1u << 0 | 1u << 16 | 1u << 31), 1u << 0 | 1u << 16 | 1u << 31);
	expect("CR4.PAE", cr4 & (1u << 5), 1u << 5);
	expect("EFER.LME|LMA", efer & (1u << 8 | 1u << 10), 1u << 8 | 1u << 10);
	expect("EFER.NXE = CPUID.80000001H:EDX[20]", (efer >> 11) & 1, (r[3] >> 20) & 1);
	expect("RFLAGS.IF", rflags & (1u << 9), 0);
	expect("CR3", read_cr3(), (uint64_t)(uintptr_t)guest_pml4);
	/* gdt.c: null, 2 ring-0 + 2 ring-3 segments, a 16-byte TSS descriptor */
	expect("GDTR.limit", gdtr.limit, 7 * 8 - 1);
	__asm__ volatile("str %0" : "=r"(tr));
	expect("TR", tr, 0x28);
	expect("IDTR.limit", idtr.limit, 256 * 16 - 1);
	expect("PML4E 0 -> PDPT", guest_pml4[0] & ~0xfffull & ~(1ull << 63), (uintptr_t)guest_pdpt);
	expect("PDE 1 GiB + 6 MiB", guest_pd[1][3] & ~(3ull << 5), 0x40600000ull | 0x83);

	guest_printf("state: %s\n", bad ? "MISMATCH" : "as documented");
	return bad ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
