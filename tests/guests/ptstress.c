/*
 * ptstress.c — 20,000 random page-table operations under 4-level paging,
 * each followed by the flushes the SDM asks for, every access checked
 * against the guest's own model of its tables (guests/ptstress_tmpl.h has
 * the engine and the flush rules).
 *
 * SDM Vol. 3A:
 *  - 4.5: 4-level paging; a PDE with PS=1 maps 2 MiB (Table 4-18); bit 7
 *    of a PTE is PAT, so a PDE read as a PTE maps the 4 KiB frame at its
 *    address.
 *  - 4.6.1: CPL 0 with CR0.WP=1 writes only where every entry has R/W=1;
 *    4.7: #PF error code P and W/R, CR2; 4.8: A and D.
 *  - 4.10.2.3, 4.10.3.3, 4.10.4.1-4.10.4.3: what may stay cached until
 *    INVLPG or MOV to CR3, and which changes need neither.
 *
 * Layout. Four roots (PML4s) share the runtime's PML4E 0 (the identity
 * map: code, stack, the tables, the data blocks at 16 and 18 MiB); PML4E
 * 1 (512 GiB) is the arena, PML4E 2 the recursive entry (PML4E 2 -> the
 * PML4 itself), so 0x100_0000_0000 + ... shows the tables as data. Each
 * root's arena is PDPTEs 0-1 x PDEs 0-7: sixteen 2 MiB regions. Tables:
 * roots 0-3, PDPTs 4-7 (root r links PDPT 4+r), PDs 8-13 (PD 9 sits under
 * roots 0 and 1, PD 11 under roots 2 and 3), page tables 14-31 (PT 14
 * under two PDEs of root 0 and under root 1 at the start; ops relink
 * the rest at random). 20,000 operations keep a run on the shadow-paging
 * variants, which exit at every INVLPG, CR3 load and shadow fault, to a
 * few seconds.
 *
 * Expected serial output: tests/guests/ptstress.expect.
 * Expected exit status: 1 (guest_exit(0)).
 */
#include "guests/guest.h"

#define pts_invlpg(va)		invlpg((const volatile void *)(uintptr_t)(va))
#define pts_load_cr3(pa)	write_cr3(pa)

#include "guests/ptstress64.h"

#define NOPS		20000

static void on_pf(struct guest_frame *f)
{
	if (pts_on_pf(&f->rip, &f->rax, (uint32_t)f->error_code, read_cr2()))
		return;
	guest_printf("ptstress: #PF outside a probe: rip 0x%lx error 0x%lx cr2 0x%lx\n",
		     f->rip, f->error_code, read_cr2());
	guest_exit(GUEST_EXIT_FAIL);
}

int guest_main(void)
{
	pts_init();
	pts64_setup();

	idt_set_handler(14, on_pf);
	pts_load_cr3(pts_table_pa(0));
	int status = pts_run("ptstress", NOPS);
	write_cr3((uint64_t)(uintptr_t)guest_pml4);
	return status;
}
