# backends/vmx/ objects
obj-$(CONFIG_BACKEND_VMX) += vmx.o vmx_vmcs.o vmx_regs.o vmx_event.o vmx_exit.o vmx_invalid.o
