obj-$(CONFIG_MMU_SHADOW_FLUSH) += flush.o
obj-$(CONFIG_MMU_SHADOW_CACHED) += cached.o cached_fault.o cached_sync.o
obj-$(CONFIG_MMU_SHADOW) += fault.o
