obj-$(CONFIG_MMU_TDP) += tdp.o
