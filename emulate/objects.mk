# emulate/: the x86 instruction engine.
obj-y += decode.o
obj-y += names.o
obj-y += exec.o
obj-y += mem.o
obj-y += cond.o
obj-y += exec_alu.o
obj-y += exec_muldiv.o
obj-y += exec_shift.o
obj-y += exec_bits.o
obj-y += exec_move.o
obj-y += exec_branch.o
obj-y += exec_stack.o
obj-y += exec_string.o
# System half (seg.c .. reset.c): see sys.h.
obj-y += desc.o
obj-y += seg.o
obj-y += exec_far.o
obj-y += exec_cr.o
obj-y += exec_system.o
obj-y += exec_syscall.o
obj-y += exec_int.o
obj-y += io.o
obj-y += reset.o
obj-$(CONFIG_EMU_DECODE_CACHE) += dcache.o
obj-y += deliver.o
obj-y += exec_virt.o
