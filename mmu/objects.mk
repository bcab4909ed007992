obj-y += gwalk.o
obj-y += walk.o
obj-y += rmap.o
obj-y += pool.o
