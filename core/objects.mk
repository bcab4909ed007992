# core/: VMs, vcpus, memslots, the run loop, exit dispatch, stats.
obj-y += arena.o
obj-y += vm.o
obj-y += registry.o
obj-y += memslot.o
obj-y += vcpu.o
obj-y += cr.o
obj-y += cpuid.o
obj-y += msr.o
obj-y += clock.o
obj-y += event.o
obj-y += emulate.o
obj-y += exit.o
obj-y += run.o
obj-y += stats.o
obj-y += debug.o
obj-y += invalid_state.o
