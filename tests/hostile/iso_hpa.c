/*
 * iso_hpa.c — a guest that aims at the host-physical addresses of its
 * own MMU tables (EPT/NPT tables, shadow pages) and of its own page
 * tables, and maps each as a guest-physical address: what it reaches is
 * only ever its own RAM at that gpa, or nothing (reads all ones, writes
 * vanish). A gpa equal to an hpa is just a gpa.
 *
 * The guest cannot learn hpas: tests/hostile/host/canary.c tells it. An
 * OUT to HPA_PORT asks the driver for a list of the table pages reachable
 * from the vcpu's current hardware roots; each IN from HPA_PORT then
 * reads the next dword of [count, lo0, hi0, lo1, hi1, ...]. Without the
 * driver (QEMU, hvlab run) the port reads all ones (or 0) and only the
 * guest's own list is probed: its page tables' addresses, RAM's end,
 * 3 GiB, 4 GiB.
 *
 * For each address P (a page): a 4 KiB mapping in this guest's window
 * (tests/hostile/iso.h; SDM Vol. 3A 4.5, Table 4-20). If P is RAM
 * (the multiboot map: below mem_lower, or 1 MiB up to mem_upper;
 * Multiboot 0.6.96 3.3) a read through the window equals a read through
 * the identity map, and a write through it lands in RAM (checked through
 * the identity map, then undone) unless P is in the image; if P is past
 * RAM and below the PCI devices (0xfe000000) or from 4 GiB up, a read
 * gives all ones, a write is lost. Addresses in neither (the 640 KiB-1
 * MiB hole, reserved RAM, the devices) are only read.
 *
 * Expected serial output: tests/hostile/iso_hpa.expect (the same
 * whatever the list held: only a failure names an address).
 * Expected exit status: 1 (guest_exit(0)).
 * QEMU 7.2's pc machine reads unassigned addresses as 0:
 * iso_hpa.qemu.expect.
 * Expected exit status on QEMU: 3
 */
#include "tests/hostile/iso.h"

#define HPA_PORT	0x5e0
#define MAX_PROBES	96

extern char __bss_end[];

static uint64_t probes[MAX_PROBES];
static unsigned nprobes;

static void add(uint64_t gpa)
{
	if (nprobes < MAX_PROBES)
		probes[nprobes++] = gpa & ~0xfffull;
}

static bool in_ram(uint64_t p)
{
	const volatile uint32_t *mbi = (const uint32_t *)(uintptr_t)guest_mb_info;
	return p < (uint64_t)mbi[1] * 1024 ||
	       (p >= MiB && p < MiB + (uint64_t)mbi[2] * 1024);
}

/* RAM's end rounded up to 2 MiB: the pc machine keeps its ACPI tables
 * in reserved RAM just below the end (the map's type-2 range). */
static uint64_t ram_top(void)
{
	const volatile uint32_t *mbi = (const uint32_t *)(uintptr_t)guest_mb_info;
	return (MiB + (uint64_t)mbi[2] * 1024 + 2 * MiB - 1) & ~(2 * MiB - 1);
}

static bool unassigned(uint64_t p)
{
	return (p >= ram_top() && p < 0xfe000000ull) || p >= 4 * GiB;
}

/* One address; false when it did something it must not. */
static bool probe(uint64_t p)
{
	struct touch t;
	const uint64_t va = iso_map_4k(1, p, PTE_P | PTE_RW) + 0x7f8;
	volatile uint32_t *id = (volatile uint32_t *)(uintptr_t)(p + 0x7f8);

	touch(&t, 0, TOUCH_READ, (uintptr_t)va, 0);
	if (t.faulted)
		return false;
	if (in_ram(p)) {
		const uint32_t old = *id;
		if ((uint32_t)t.value != old)
			return false;
		if (p >= MiB && p < (uint64_t)(uintptr_t)__bss_end)
			return true;	/* the image: read only */
		touch(&t, 0, TOUCH_WRITE, (uintptr_t)va, 0);
		const bool landed = !t.faulted && *id == TOUCH_WRITE_VALUE;
		*id = old;
		return landed;
	}
	if (!unassigned(p))
		return true;
	if ((uint32_t)t.value != ONES32)
		return false;
	touch(&t, 0, TOUCH_WRITE, (uintptr_t)va, 0);
	if (t.faulted)
		return false;
	touch(&t, 0, TOUCH_READ, (uintptr_t)va, 0);
	return !t.faulted && (uint32_t)t.value == ONES32;
}

static void run(const char *what, unsigned from)
{
	unsigned bad = 0;
	for (unsigned i = from; i < nprobes; i++)
		if (!probe(probes[i])) {
			guest_printf("  gpa 0x%llx: reached something not its own\n",
				     (unsigned long long)probes[i]);
			bad++;
		}
	guest_check(what, bad == 0);
}

int guest_main(void)
{
	iso_window_init();
	add((uint64_t)(uintptr_t)guest_pml4);
	add((uint64_t)(uintptr_t)guest_pdpt);
	for (unsigned i = 0; i < 4; i++)
		add((uint64_t)(uintptr_t)guest_pd[i]);
	add((uint64_t)(uintptr_t)iso_pt);
	add(ram_top());
	add(3 * GiB);
	add(4 * GiB);
	run("own page tables, RAM's end, 3 GiB, 4 GiB: only its own RAM or nothing", 0);

	/* The host's list: the hpas of the tables the MMU walks for us now. */
	const unsigned own = nprobes;
	outl(HPA_PORT, 0);
	const uint32_t n = inl(HPA_PORT);
	if (n != 0 && n != ONES32)
		for (uint32_t i = 0; i < n; i++) {
			const uint64_t lo = inl(HPA_PORT), hi = inl(HPA_PORT);
			add(hi << 32 | lo);
		}
	run("the host's table hpas as gpas: only its own RAM or nothing", own);

	iso_window_fini();
	guest_printf("iso_hpa: %s\n", guest_check_status() ? "MISMATCH" : "all match");
	return guest_check_status();
}
