obj-y += gwalk.o
obj-y += walk.o
