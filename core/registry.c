/*
 * registry.c — see registry.h.
 */
#include <errno.h>
#include <string.h>

#include "core/registry.h"
#include "core/vm.h"
#ifdef CONFIG_MMU_SHADOW_FLUSH
#include "mmu/shadow/flush.h"
#endif
#ifdef CONFIG_MMU_SHADOW_CACHED
#include "mmu/shadow/cached.h"
#endif

#if !defined(CONFIG_BACKEND_VMX) && !defined(CONFIG_BACKEND_SVM)
#error "no backend configured: enable BACKEND_VMX or BACKEND_SVM (make menuconfig)"
#endif
#if !defined(CONFIG_MMU_TDP) && !defined(CONFIG_MMU_SHADOW_FLUSH) && \
	!defined(CONFIG_MMU_SHADOW_CACHED)
#error "no MMU strategy configured: enable MMU_TDP, MMU_SHADOW_FLUSH or MMU_SHADOW_CACHED"
#endif

static const struct hv_backend_ops *const backends[] = {
#ifdef CONFIG_BACKEND_VMX
	&vmx_backend_ops,
#endif
#ifdef CONFIG_BACKEND_SVM
	&svm_backend_ops,
#endif
};

static const struct hv_mmu_ops *const mmus[] = {
#ifdef CONFIG_MMU_TDP
	&tdp_mmu_ops,
#endif
#ifdef CONFIG_MMU_SHADOW_FLUSH
	&shadow_flush_mmu_ops,
#endif
#ifdef CONFIG_MMU_SHADOW_CACHED
	&shadow_cached_mmu_ops,
#endif
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

#if defined(CONFIG_DEFAULT_BACKEND_VMX)
#define DEFAULT_BACKEND "vmx"
#elif defined(CONFIG_DEFAULT_BACKEND_SVM)
#define DEFAULT_BACKEND "svm"
#else
#define DEFAULT_BACKEND ""
#endif

#if defined(CONFIG_DEFAULT_MMU_TDP)
#define DEFAULT_MMU "tdp"
#elif defined(CONFIG_DEFAULT_MMU_SHADOW_FLUSH)
#define DEFAULT_MMU "shadow-flush"
#elif defined(CONFIG_DEFAULT_MMU_SHADOW_CACHED)
#define DEFAULT_MMU "shadow-cached"
#else
#define DEFAULT_MMU ""
#endif

static char backend_names[64], mmu_names[64];

const char *hv_backends(void)
{
	if (!backend_names[0])
		for (size_t i = 0; i < N(backends); i++) {
			if (i)
				strcat(backend_names, " ");
			strcat(backend_names, backends[i]->name);
		}
	return backend_names;
}

const char *hv_mmus(void)
{
	if (!mmu_names[0])
		for (size_t i = 0; i < N(mmus); i++) {
			if (i)
				strcat(mmu_names, " ");
			strcat(mmu_names, mmus[i]->name);
		}
	return mmu_names;
}

/* Every op but the ones backend.h / mmu.h call optional. */
static bool backend_complete(const struct hv_backend_ops *b)
{
	return b->vm_init && b->vm_destroy && b->hpa_written && b->tdp_format &&
	       b->vcpu_create && b->vcpu_free && b->run && b->decode_exit &&
	       b->skip_instruction && b->set_deadline && b->get_rip && b->set_rip &&
	       b->get_rflags && b->set_rflags && b->get_segment && b->set_segment &&
	       b->get_dtable && b->set_dtable && b->get_cr && b->set_cr && b->get_efer &&
	       b->set_efer && b->get_msr && b->set_msr && b->get_dr && b->set_dr &&
	       b->get_interrupt_shadow && b->set_interrupt_shadow && b->inject_event &&
	       b->interrupt_allowed && b->nmi_allowed && b->set_irq_window &&
	       b->set_nmi_window && b->set_exception_intercepts && b->set_tdp_root &&
	       b->flush_tlb && b->host_cpuid && b->adjust_tsc && b->read_counters &&
	       b->exit_name;
}

static bool mmu_complete(const struct hv_mmu_ops *m)
{
	return m->vm_init && m->vm_destroy && m->memslot_changed && m->dirty_log_rearm &&
	       m->vcpu_init && m->vcpu_destroy && m->reset_context && m->page_fault &&
	       m->gva_to_gpa &&
	       (m->style == HV_MMU_TDP || (m->new_cr3 && m->invlpg && m->flush_tlb));
}

int registry_lookup(const char *backend, const char *mmu,
		    const struct hv_backend_ops **be, const struct hv_mmu_ops **mm)
{
	const char *bname = backend ? backend : DEFAULT_BACKEND;
	const char *mname = mmu ? mmu : DEFAULT_MMU;
	*be = NULL;
	*mm = NULL;
	for (size_t i = 0; i < N(backends); i++)
		if (!strcmp(backends[i]->name, bname))
			*be = backends[i];
	if (!*be)
		return vm_err(-ENOENT, "no such backend '%s'; built-in: %s", bname, hv_backends());
	for (size_t i = 0; i < N(mmus); i++)
		if (!strcmp(mmus[i]->name, mname))
			*mm = mmus[i];
	if (!*mm)
		return vm_err(-ENOENT, "no such MMU strategy '%s'; built-in: %s", mname, hv_mmus());
	if (!backend_complete(*be))
		return vm_err(-ENOSYS, "backend '%s' lacks a required op", bname);
	if (!mmu_complete(*mm))
		return vm_err(-ENOSYS, "MMU strategy '%s' lacks a required op", mname);
	if ((*mm)->style == HV_MMU_SHADOW && !(*be)->set_shadow_root)
		return vm_err(-ENOSYS, "backend '%s' cannot run shadow paging", bname);
	return 0;
}
