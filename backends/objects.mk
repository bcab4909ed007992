# backends/ objects
obj-y += machine.o
