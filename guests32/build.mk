# guests32/build.mk — 32-bit test guests, included from the Makefile's
# "guests" section (after its rules: it uses GUEST_CC, GUEST_CFLAGS and
# the guest-images target defined there).
#
# tests/guests32/NAME.c + the runtime in guests32/ + the portable pieces
# of guests/ (serial.c, printf.c) compiled again with -m32 become
# $(O)/guests32/NAME.elf: an ELF32 multiboot kernel (guests32/guest32.ld,
# 1 MiB) that QEMU's -kernel and `hvlab run` load as they load the
# 64-bit guests. guests32/guest32.h is forced in ahead of the shared
# files: it stands in for guests/guest.h, whose 64-bit inline assembly a
# 32-bit compiler rejects. No 32-bit libgcc is needed (libgcc32.c).
GUEST32_CFLAGS := $(filter-out -mcmodel=% -mno-red-zone,$(GUEST_CFLAGS)) -m32 -march=i686
GUEST32_LDFLAGS := -m32 -nostdlib -static -Wl,--build-id=none -Wl,-z,max-page-size=0x1000 \
                   -Wl,--no-warn-rwx-segments -Wl,-T,$(srctree)/guests32/guest32.ld
guest32-shared := serial printf
guest32-rt-objs := $(patsubst $(srctree)/guests32/%,$(obj)/guests32/rt/%.o,$(basename \
                     $(wildcard $(srctree)/guests32/*.c $(srctree)/guests32/*.S))) \
                   $(patsubst %,$(obj)/guests32/shared/%.o,$(guest32-shared))
guest32-images := $(patsubst $(srctree)/tests/guests32/%.c,$(obj)/guests32/%.elf,\
                    $(wildcard $(srctree)/tests/guests32/*.c))

guest-images: $(guest32-images)

# Objects made only by pattern rules are intermediate to make, which would
# delete them after the link and rebuild them all on every run.
.SECONDARY: $(guest32-rt-objs) \
            $(patsubst $(obj)/guests32/%.elf,$(obj)/tests/guests32/%.o,$(guest32-images))

$(obj)/guests32/rt/%.o: $(srctree)/guests32/%.c
	@mkdir -p $(dir $@)
	@echo "  GCC32   $(patsubst $(obj)/%,%,$@)"
	@$(GUEST_CC) $(GUEST32_CFLAGS) -MMD -MP -c $< -o $@

$(obj)/guests32/rt/%.o: $(srctree)/guests32/%.S
	@mkdir -p $(dir $@)
	@echo "  GAS32   $(patsubst $(obj)/%,%,$@)"
	@$(GUEST_CC) $(GUEST32_CFLAGS) -MMD -MP -c $< -o $@

$(obj)/guests32/shared/%.o: $(srctree)/guests/%.c $(srctree)/guests32/guest32.h
	@mkdir -p $(dir $@)
	@echo "  GCC32   $(patsubst $(obj)/%,%,$@)"
	@$(GUEST_CC) $(GUEST32_CFLAGS) -include $(srctree)/guests32/guest32.h -MMD -MP -c $< -o $@

$(obj)/tests/guests32/%.o: $(srctree)/tests/guests32/%.c
	@mkdir -p $(dir $@)
	@echo "  GCC32   $(patsubst $(obj)/%,%,$@)"
	@$(GUEST_CC) $(GUEST32_CFLAGS) -MMD -MP -c $< -o $@

$(obj)/guests32/%.elf: $(obj)/tests/guests32/%.o $(guest32-rt-objs) $(srctree)/guests32/guest32.ld
	@echo "  LD32    $(patsubst $(obj)/%,%,$@)"
	@$(GUEST_CC) $(GUEST32_CFLAGS) $(GUEST32_LDFLAGS) -o $@ $(filter %.o,$^)

-include $(guest32-rt-objs:.o=.d) \
         $(patsubst $(obj)/guests32/%.elf,$(obj)/tests/guests32/%.d,$(guest32-images))
