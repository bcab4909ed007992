# tests/hostile/host/build.mk — the canary driver of the isolation tests
# (issue 8; tests/run/canary.sh runs it): a host program linked with
# libhvlab.a (internal headers: it audits MMU tables) and the vmm/
# objects that build the pc machine (vmm/machine.c), not the program's
# main() or its commands.
CANARY := $(obj)/tests/hostile/host/canary
canary-objs := $(patsubst $(srctree)/%.c,$(obj)/%.o,$(wildcard $(srctree)/tests/hostile/host/*.c))
canary-vmm-objs := $(filter-out $(obj)/vmm/main.o $(obj)/vmm/cmd_%.o,$(prog-objs))
-include $(addsuffix .cmd,$(canary-objs))

$(CANARY): $(canary-objs) $(canary-vmm-objs) $(LIB)
	@echo "  LD      $(patsubst $(obj)/%,%,$@)"
	@mkdir -p $(dir $@) && $(CC) $(LDFLAGS_ALL) -o $@ $^ -lpthread

# Host code, not a guest: more specific than tests/hostile/build.mk's
# guest rule for $(obj)/tests/hostile/%.o, so this one is used.
$(obj)/tests/hostile/host/%.o: $(srctree)/tests/hostile/host/%.c | $(AUTOCONF_H)
	@mkdir -p $(dir $@)
	@echo "  CC      $(patsubst $(obj)/%,%,$@)"
	@$(CC) $(CFLAGS_ALL) -MMD -MP -MF $@.d -c $< -o $@
	@$(srctree)/scripts/fixdep.sh $@.d $(obj) > $@.cmd && rm -f $@.d
