# emulate/: the x86 instruction engine.
obj-y += decode.o
obj-y += names.o
