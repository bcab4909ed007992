/*
 * fault.c — the first half of a shadow #PF exit (fault.h):
 *
 *   hardware error code             action
 *   RSVD set                        RET_PF_ERROR: hvlab never writes a
 *                                   reserved bit in an spte (spte.h)
 *   guest walk faults (W/U/I of     the guest's #PF, its error code from
 *   the error code; the real        the walk (SDM Vol. 3A 4.7), CR2 =
 *   EFER.NXE is always 1 under      gva: RET_PF_GUEST
 *   shadow paging, so a fetch
 *   always reports I/D)
 *   gpa in no memslot, or a write   RET_PF_EMULATE (MMIO)
 *   to a read-only one
 *   otherwise                       the leaf's rights and flags
 *
 * Rights: the walk's, combined over the path. CR0.WP = 0 (4.6.1): a
 * supervisor write to a read-only page succeeds, so the leaf grants W
 * to supervisor mode only (U dropped: a user access faults and gets its
 * own, stricter leaf — KVM's trick). With SMEP or SMAP on, a
 * supervisor-only leaf for a user page would let the supervisor fetch
 * or read what the guest's rules forbid (4.6.1), so that write is
 * emulated instead.
 *
 * Flags (spte.h's table): D from the walk, which set it for a write
 * (4.8: a clean guest leaf maps read-only, so the first write faults and
 * the walk sets D before the data lands); host-writable unless the slot
 * is read-only; dirty logging: a write is logged now, a read maps
 * read-only so the first write faults and is logged; XD usable when the
 * guest's EFER.NXE is set.
 */
#include <errno.h>

#include "core/cr.h"
#include "core/event.h"
#include "core/vm.h"
#include "mmu/shadow/fault.h"
#include "mmu/spte.h"
#include "mmu/walk.h"

enum ret_pf shadow_fault_begin(struct hv_vcpu *vcpu, gva_t gva, uint32_t error_code,
			       struct shadow_fault *f)
{
	struct hv_vm *vm = vcpu->vm;

	if (error_code & PFERR_RSVD) {
		vm_err(-EIO, "reserved-bit #PF at %#llx in the shadow tables",
		       (unsigned long long)gva);
		return RET_PF_ERROR;
	}
	f->acc = error_code & (HV_ACC_WRITE | HV_ACC_USER | HV_ACC_FETCH);
	f->write = f->acc & HV_ACC_WRITE;
	if (mmu_walk_gva(vcpu, gva, f->acc, &f->w)) {
		vm->stats.pf_guest++;
		vcpu_queue_pf(vcpu, gva, f->w.error_code);
		return RET_PF_GUEST;
	}
	f->gfn = gpa_to_gfn(f->w.gpa);
	f->slot = vm_slot_of(vm, f->gfn);
	if (!f->slot || (f->write && (f->slot->flags & HV_MEM_READONLY))) {
		vm->stats.pf_emulate++;
		return RET_PF_EMULATE;
	}

	f->rights = f->w.rights;
	if (f->write && !(f->acc & HV_ACC_USER) && !(f->rights & SPTE_ACC_W)) {
		struct gwalk_cfg cfg;
		if (mmu_walk_cfg(vcpu, &cfg) && !cfg.wp) {
			if ((f->rights & SPTE_ACC_U) && (cfg.smep || cfg.smap)) {
				vm->stats.pf_emulate++;
				return RET_PF_EMULATE;
			}
			f->rights = (f->rights | SPTE_ACC_W) & ~SPTE_ACC_U;
		}
	}

	f->flags = 0;
	if (f->w.dirty)
		f->flags |= SPTE_F_DIRTY;
	if (!(f->slot->flags & HV_MEM_READONLY))
		f->flags |= SPTE_F_HOST_WRITABLE;
	if (f->slot->dirty) {
		if (f->write)
			vm_mark_dirty(vm, f->slot, f->gfn);
		else
			f->flags |= SPTE_F_LOG_DIRTY;
	}
	if (vm->backend->get_efer(vcpu) & EFER_NXE)
		f->flags |= SPTE_F_NXE;
	return RET_PF_RETRY;
}
