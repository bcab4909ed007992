# tests/hostile/spin/build.mk — guests that never end by themselves
# (issue 8, denial): tests/run/hostile.sh runs them under hvlab run
# --max-insns and under timeout; scripts/guests.sh does not pick them up
# (they are not in tests/hostile/*.c and have no .expect), since QEMU
# would run them forever. Built as $(obj)/hostile/spin/NAME.elf by the
# pattern rules of tests/hostile/build.mk (% matches spin/NAME).
hostile-spin-images := $(patsubst $(srctree)/tests/hostile/spin/%.c,$(obj)/hostile/spin/%.elf,\
                         $(wildcard $(srctree)/tests/hostile/spin/*.c))

guest-images: $(hostile-spin-images)

-include $(patsubst $(obj)/hostile/spin/%.elf,$(obj)/tests/hostile/spin/%.d,$(hostile-spin-images))
.SECONDARY: $(patsubst $(obj)/hostile/spin/%.elf,$(obj)/tests/hostile/spin/%.o,$(hostile-spin-images))
