/*
 * svm_perm.c — the permission maps that make IN/OUT and RDMSR/WRMSR of
 * an SVM guest intercept per port and per MSR (APM Vol. 2 15.10.1 IOPM,
 * 15.11 MSRPM; layouts in hw/vmcb.h). The processor reads them from
 * host-physical memory at each intercept check, so a hypervisor may edit
 * them between runs without telling anyone.
 *
 * A map byte outside the arena reads as 0xff, every bit set: the access
 * is intercepted. That is what the bus gives the processor for a read of
 * an address nothing decodes (hw/hw.h), and it fails safe: a hypervisor
 * whose map points nowhere sees the access instead of the guest reaching
 * the port or MSR unchecked.
 */
#include "hw/svm_internal.h"

/* Bit @bit of the map at @base (page aligned); set when unreadable. */
static bool map_bit(struct hw_machine *m, hpa_t base, uint64_t bit)
{
	const hpa_t pa = base + bit / 8;
	if (pa < base)
		return true;		/* wrapped past the top of the address space */
	const uint8_t *p = hw_hpa_ptr(m, pa, 1);
	return !p || ((*p >> (bit % 8)) & 1);
}

/*
 * One bit per port, for each port the access touches (APM 15.10.1): a
 * 4-byte access to 0x3fe checks 0x3fe-0x401. Bit numbers run on past
 * 0xffff into the map's third page rather than wrapping to port 0, which
 * is why the map is 12 KiB and not 8.
 */
bool svm_iopm_intercepted(struct hw_machine *m, hpa_t iopm_pa, uint16_t port,
			  unsigned size)
{
	const hpa_t base = iopm_pa & HV_PAGE_MASK;
	for (unsigned i = 0; i < size; i++)
		if (map_bit(m, base, (uint64_t)port + i))
			return true;
	return false;
}

/* The three MSR ranges the MSRPM covers (APM Table 15-5). */
static const struct {
	uint32_t first_msr;
	uint32_t map_offset;	/* byte offset of its vector in the map */
} msrpm_ranges[] = {
	{ 0x00000000u, 0 * SVM_MSRPM_RANGE_BYTES },
	{ 0xc0000000u, 1 * SVM_MSRPM_RANGE_BYTES },
	{ 0xc0010000u, 2 * SVM_MSRPM_RANGE_BYTES },
};

bool svm_msrpm_intercepted(struct hw_machine *m, hpa_t msrpm_pa, uint32_t msr,
			   bool write)
{
	const hpa_t base = msrpm_pa & HV_PAGE_MASK;
	for (unsigned r = 0; r < sizeof(msrpm_ranges) / sizeof(msrpm_ranges[0]); r++) {
		const uint32_t idx = msr - msrpm_ranges[r].first_msr;
		if (idx >= SVM_MSRPM_RANGE_MSRS)
			continue;
		const uint64_t bit = (uint64_t)msrpm_ranges[r].map_offset * 8 +
				     (uint64_t)idx * 2 + (write ? 1 : 0);
		return map_bit(m, base, bit);
	}
	return true;		/* not covered by the map: always intercepted */
}
