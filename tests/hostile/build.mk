# tests/hostile/build.mk — hostile guests (issue 8, docs/reliability.md),
# included from the Makefile's "guests" section (after its rules: it uses
# GUEST_CC, GUEST_CFLAGS, GUEST_LDFLAGS, guest-rt-objs and the
# guest-images target defined there).
#
# tests/hostile/NAME.c + the runtime in guests/ become
# $(O)/hostile/NAME.elf, multiboot images like the test guests:
# scripts/guests.sh runs them on QEMU TCG and every backend x MMU against
# tests/hostile/NAME.expect, as it runs tests/guests/.
hostile-images := $(patsubst $(srctree)/tests/hostile/%.c,$(obj)/hostile/%.elf,\
                    $(wildcard $(srctree)/tests/hostile/*.c))

guest-images: $(hostile-images)

$(obj)/tests/hostile/%.o: $(srctree)/tests/hostile/%.c
	@mkdir -p $(dir $@)
	@echo "  GCC     $(patsubst $(obj)/%,%,$@)"
	@$(GUEST_CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(obj)/hostile/%.elf: $(obj)/tests/hostile/%.o $(guest-rt-objs) $(srctree)/guests/guest.ld
	@mkdir -p $(dir $@)
	@echo "  LD      $(patsubst $(obj)/%,%,$@)"
	@$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^)

-include $(patsubst $(obj)/hostile/%.elf,$(obj)/tests/hostile/%.d,$(hostile-images))
.SECONDARY: $(patsubst $(obj)/hostile/%.elf,$(obj)/tests/hostile/%.o,$(hostile-images))
