/*
 * layout.h — the pre-copy migration guest's memory, shared by the guest
 * (guest.S, through the C preprocessor) and the host (precopy.c,
 * machine.c). Plain numbers only, so the assembler reads it too.
 *
 * One memory slot, [0, MG_SLOT_SIZE), logging dirty pages:
 *
 *   0x7000              parameters the host writes (seed, vcpu count);
 *                       the guest only reads them
 *   0x8000              the guest's code (guest.S) and GDT; the page an
 *                       AP's STARTUP vector 0x08 points at (SDM Vol. 3A
 *                       8.4.4.1: CS:IP = VV00:0000)
 *   0x10000 + v*0x10000 vcpu v's own page tables, MG_PT_PAGES pages
 *                       (MG_PT_* offsets); the guest writes them
 *   0x400000            the data region the guest writes, MG_DATA_PAGES
 *   0x1400000           the guard region: mapped writable, dirty flag
 *                       set, only ever read
 *
 * Guest-virtual: the slot identity-mapped with 2 MiB pages (tables,
 * code, data, guard); the data region a second time at MG_WINDOW_VA, its
 * first 2 MiB through 4 KiB pages (PT_A, whose entries the guest
 * permutes) and its second 2 MiB through a 2 MiB page or 4 KiB pages
 * (PT_B), which the guest switches between, the rest through 2 MiB
 * pages; the local APIC's page at its reset address 0xFEE00000 (SDM
 * Vol. 3A 11.4.1), for the STARTUP IPI.
 */
#ifndef TESTS_MIGRATE_LAYOUT_H
#define TESTS_MIGRATE_LAYOUT_H

#define MG_SLOT_SIZE	0x1600000
#define MG_PARAMS	0x7000
#define MG_PARAM_SEED	0x7000		/* u64: the run's seed */
#define MG_PARAM_NCPUS	0x7008		/* u64: vcpus in the VM */
#define MG_CODE		0x8000
#define MG_SIPI_VECTOR	0x08		/* MG_CODE >> 12 */

#define MG_PT_BASE	0x10000
#define MG_PT_STRIDE	0x10000
#define MG_PT_PML4	0x0000
#define MG_PT_PDPT	0x1000
#define MG_PT_PD_LOW	0x2000		/* identity, 2 MiB pages */
#define MG_PT_PD_WIN	0x3000		/* the data window */
#define MG_PT_A		0x4000		/* window's first 2 MiB, 4 KiB pages */
#define MG_PT_B		0x5000		/* window's second 2 MiB, 4 KiB pages */
#define MG_PT_PD_APIC	0x6000		/* 3-4 GiB: the local APIC's page */
#define MG_PT_PAGES	7

#define MG_DATA		0x400000
#define MG_DATA_PAGES	4096		/* 16 MiB */
#define MG_DATA_B	0x600000	/* the half behind PT_B or a 2 MiB page */
#define MG_GUARD	0x1400000
#define MG_GUARD_SIZE	0x200000

#define MG_WINDOW_VA	0x40000000
#define MG_APIC_ICR_LO	0xfee00300

/* Every MG_PTE_EVERY iterations (at iteration MG_PTE_AT of each period)
 * a vcpu swaps two PT_A entries; every MG_PDE_EVERY (at MG_PDE_AT) it
 * switches the window's second half between one 2 MiB page and PT_B and
 * reloads CR3; every MG_BEAT_EVERY (at 0) it writes its APIC ID to port
 * MG_BEAT_PORT (periods are powers of two). The phases differ so that no
 * heartbeat, when the host makes its rounds, comes right after the TLB
 * flush an INVLPG or a CR3 load makes (a shadow MMU flushes the whole
 * TLB at INVLPG): the TLB holds writable translations then. */
#define MG_PTE_EVERY	256
#define MG_PTE_AT	128
#define MG_PDE_EVERY	4096
#define MG_PDE_AT	2112
#define MG_BEAT_EVERY	1024
#define MG_BEAT_PORT	0xe0

/* Page-table entry bits (SDM Vol. 3A 4.5, Tables 4-15 to 4-20). */
#define MG_P		0x1
#define MG_RW		0x2
#define MG_PWT		0x8
#define MG_PCD		0x10
#define MG_A		0x20
#define MG_D		0x40
#define MG_PS		0x80

#endif
