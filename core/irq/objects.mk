# core/irq/ objects
obj-y += irq.o
obj-y += lapic.o
obj-y += lapic_regs.o
obj-y += lapic_timer.o
obj-y += ioapic.o
obj-y += pic.o
