obj-y += walk.o
