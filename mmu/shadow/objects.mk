obj-$(CONFIG_MMU_SHADOW_FLUSH) += flush.o
