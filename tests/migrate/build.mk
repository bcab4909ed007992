# tests/migrate/build.mk — the pre-copy migration test (issue 8, dirty
# logging without loss), included from the Makefile after the guests.
#
# tests/migrate/precopy is a host program linked with libhvlab.a: C
# files compiled like the library's (sanitizers included), and guest.S,
# the guest's code, assembled into its data (machine.c copies it into
# guest memory). `make` builds it with everything else; make check runs
# it (scripts/check.sh, family "precopy").
PRECOPY := $(obj)/tests/migrate/precopy
precopy-objs := $(patsubst $(srctree)/%.c,$(obj)/%.o,$(wildcard $(srctree)/tests/migrate/*.c)) \
                $(patsubst $(srctree)/%.S,$(obj)/%.o,$(wildcard $(srctree)/tests/migrate/*.S))

ifneq ($(config-only),y)
all: $(PRECOPY)
endif

$(PRECOPY): $(precopy-objs) $(LIB)
	@echo "  LD      $(patsubst $(obj)/%,%,$@)"
	@mkdir -p $(dir $@) && $(CC) $(LDFLAGS_ALL) -o $@ $^ -lpthread

# guest.S includes layout.h: rebuild it when that changes (the .S rule
# keeps no dependency file).
$(obj)/tests/migrate/guest.o: $(srctree)/tests/migrate/layout.h

-include $(addsuffix .cmd,$(filter %.o,$(precopy-objs)))
