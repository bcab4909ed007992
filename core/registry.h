/*
 * registry.h — the one place that knows which backends and MMU
 * strategies are built in (STYLE.md: an explicit table filtered by
 * Kconfig, no constructors).
 */
#ifndef HVLAB_CORE_REGISTRY_H
#define HVLAB_CORE_REGISTRY_H

#include "backends/backend.h"
#include "mmu/mmu.h"

/* Find the backend and MMU strategy by name (NULL: the Kconfig default)
 * and check that their required ops are all there. 0, or -ENOENT with
 * a one-line message listing the built-in names. */
int registry_lookup(const char *backend, const char *mmu,
		    const struct hv_backend_ops **be, const struct hv_mmu_ops **mm);

#endif
