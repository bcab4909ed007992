# hvlab top-level Makefile: GNU Make + kconfig-frontends.
#
#   make defconfig / make NAME_defconfig   configure from configs/
#   make menuconfig / olddefconfig / savedefconfig
#   make                                   library, program and tests
#   make check                             set up, build, run every test family
#   make bench                             the benchmark suite
#   make O=build/NAME ...                  a side-by-side build directory
#
# Each directory lists its objects in objects.mk as `obj-y += x.o` or
# `obj-$(CONFIG_X) += x.o`. Every object is compiled with the generated
# autoconf.h force-included; scripts/fixdep.sh rewrites the compiler's
# dependency file so an object depends on the per-option files
# include/config/*.h of exactly the CONFIG_ symbols its sources mention
# (the Kbuild scheme), so a configuration change rebuilds what it must.

srctree := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
O ?= build
obj := $(abspath $(O))

KCONFIG_CONF  ?= kconfig-conf
KCONFIG_MCONF ?= kconfig-mconf
CC ?= cc
ifeq ($(origin CC),default)
CC := gcc
endif
AR ?= ar
LD ?= ld
ifeq ($(origin LD),default)
LD := ld
endif
OBJCOPY ?= objcopy
CLANG ?= clang

CONFIG_FILE := $(obj)/.config
AUTOCONF_H  := $(obj)/include/generated/autoconf.h
AUTO_CONF   := $(obj)/include/config/auto.conf

kconfig-env = KCONFIG_CONFIG=$(CONFIG_FILE) srctree=$(srctree)

# Goals that only configure must not read auto.conf (it may not exist yet
# or be stale while the configuration changes); check, bench and the fuzz
# targets are scripts that call make again for the build. For every other
# goal auto.conf is an included makefile with a rule, so make brings the
# configuration up to date first and then re-reads everything: the
# per-option timestamps are fresh before any object is considered.
config-goals := defconfig %_defconfig menuconfig olddefconfig savedefconfig \
                clean distclean help deps check bench bench-micro papers fuzz fuzz-% guests guest-images \
                bench-workloads coverage coverage-matrix
ifneq ($(filter $(config-goals),$(MAKECMDGOALS)),)
  ifneq ($(filter-out $(config-goals),$(MAKECMDGOALS)),)
    $(error configuration goals ($(filter $(config-goals),$(MAKECMDGOALS))) \
      must run on their own; run 'make $(filter $(config-goals),$(MAKECMDGOALS))' first)
  endif
  config-only := y
endif

ifneq ($(config-only),y)
  -include $(AUTO_CONF)
endif

.DEFAULT_GOAL := all
.PHONY: all check bench bench-micro papers coverage coverage-matrix bench-workloads guests guest-images difftest decodetest fuzz clean distclean help \
        defconfig menuconfig olddefconfig savedefconfig deps FORCE

# ---------------------------------------------------------------- config
$(obj)/.kdirs:
	@mkdir -p $(obj)/include/generated $(obj)/include/config && touch $@

defconfig: $(obj)/.kdirs
	@cp $(srctree)/configs/defconfig $(CONFIG_FILE)
	@cd $(obj) && $(kconfig-env) $(KCONFIG_CONF) --olddefconfig $(srctree)/Kconfig >/dev/null
	@echo "configured $(O) from configs/defconfig"

%_defconfig: $(obj)/.kdirs
	@test -f $(srctree)/configs/$@ || { echo "no configuration '$@'; available: $(notdir $(wildcard $(srctree)/configs/*defconfig))"; exit 1; }
	@cp $(srctree)/configs/$@ $(CONFIG_FILE)
	@cd $(obj) && $(kconfig-env) $(KCONFIG_CONF) --olddefconfig $(srctree)/Kconfig >/dev/null
	@echo "configured $(O) from configs/$@"

menuconfig: $(obj)/.kdirs
	@cd $(obj) && $(kconfig-env) $(KCONFIG_MCONF) $(srctree)/Kconfig

olddefconfig: $(obj)/.kdirs
	@test -f $(CONFIG_FILE) || { echo "no $(O)/.config; run 'make defconfig' first"; exit 1; }
	@cd $(obj) && $(kconfig-env) $(KCONFIG_CONF) --olddefconfig $(srctree)/Kconfig >/dev/null

savedefconfig: $(obj)/.kdirs
	@test -f $(CONFIG_FILE) || { echo "no $(O)/.config; run 'make defconfig' first"; exit 1; }
	@cd $(obj) && $(kconfig-env) $(KCONFIG_CONF) --savedefconfig=$(obj)/defconfig $(srctree)/Kconfig
	@echo "wrote $(O)/defconfig"

# The build needs a .config; make check creates one (scripts/check.sh).
$(CONFIG_FILE):
	@echo "no $(O)/.config: run 'make defconfig' (or 'make NAME_defconfig', see configs/)"; exit 1

# silentoldconfig writes autoconf.h, auto.conf and the per-option files
# under include/config/ (touching only those whose value changed). An
# option new since the .config was written takes its default first
# (olddefconfig): silentoldconfig would ask for it, and with no terminal
# it gives up, so a build directory would stop building after a pull.
# A value of the user's that olddefconfig would replace (out of range,
# wrong type, dependencies unmet) stops the build first, with one line
# per value (scripts/config-check.sh).
$(AUTO_CONF) $(AUTOCONF_H) &: $(CONFIG_FILE) $(shell find $(srctree) -name 'Kconfig*' -not -path '*/build/*' 2>/dev/null) | $(obj)/.kdirs
	@$(srctree)/scripts/config-check.sh $(obj) $(srctree) $(KCONFIG_CONF)
	@cd $(obj) && $(kconfig-env) $(KCONFIG_CONF) --olddefconfig $(srctree)/Kconfig >/dev/null
	@cd $(obj) && $(kconfig-env) KCONFIG_AUTOHEADER=$(AUTOCONF_H) \
	  KCONFIG_AUTOCONFIG=$(AUTO_CONF) $(KCONFIG_CONF) -s --silentoldconfig $(srctree)/Kconfig </dev/null
	@touch $(AUTO_CONF) $(AUTOCONF_H)

# ---------------------------------------------------------------- flags
WARNINGS := -Wall -Wextra -Wno-unused-parameter -Wmissing-prototypes \
            -Wstrict-prototypes -Wold-style-definition -Wshadow -Wundef \
            -Wpointer-arith -Wformat=2 -Wvla -Wimplicit-fallthrough
OPT-$(CONFIG_OPTIMIZE_O2) := -O2
OPT-$(CONFIG_OPTIMIZE_OG) := -Og
SAN-$(CONFIG_SANITIZE_ADDRESS) += address
SAN-$(CONFIG_SANITIZE_UNDEFINED) += undefined
empty :=
space := $(empty) $(empty)
comma := ,
SANFLAGS := $(if $(SAN-y),-fsanitize=$(subst $(space),$(comma),$(strip $(SAN-y))) -fno-omit-frame-pointer -fno-sanitize-recover=all)
# gcov counts (make coverage, docs/coverage.md).
COVFLAGS := $(if $(CONFIG_COVERAGE),--coverage)

CFLAGS_ALL := -std=gnu11 -g $(OPT-y) $(WARNINGS) $(if $(CONFIG_WERROR),-Werror) \
              $(SANFLAGS) $(COVFLAGS) -I$(srctree) -I$(srctree)/include -include $(AUTOCONF_H) \
              $(EXTRA_CFLAGS)
LDFLAGS_ALL := $(SANFLAGS) $(COVFLAGS) $(EXTRA_LDFLAGS)

# ---------------------------------------------------------------- objects
# Library directories, in dependency order.
lib-dirs := emulate hw core core/irq backends backends/vmx backends/svm mmu mmu/tdp mmu/shadow

define collect-objs
obj-y :=
include $(srctree)/$(1)/objects.mk
lib-objs += $$(addprefix $(obj)/$(1)/,$$(obj-y))
endef
lib-objs :=
$(foreach d,$(lib-dirs),$(eval $(call collect-objs,$(d))))

LIB := $(obj)/libhvlab.a
PROG := $(obj)/hvlab
prog-objs := $(patsubst $(srctree)/%.c,$(obj)/%.o,$(wildcard $(srctree)/vmm/*.c))

# Test programs: each tests/unit/test_*.c is one cmocka program, linked
# with the shared fakes in tests/unit/support/.
unit-tests := $(patsubst $(srctree)/tests/unit/%.c,$(obj)/tests/unit/%,$(wildcard $(srctree)/tests/unit/test_*.c))
# A backend's own tests exist only when it is built in (a configuration
# may leave one out: configs/vmx_tdp_defconfig, ...).
# The backend tests program the tdp style (their guests need no shadow
# MMU), so they need tdp built in too.
unit-tests := $(filter-out $(if $(CONFIG_BACKEND_VMX),,$(obj)/tests/unit/test_backend_vmx%) \
                           $(if $(CONFIG_BACKEND_SVM),,$(obj)/tests/unit/test_backend_svm%) \
                           $(if $(CONFIG_MMU_TDP),,$(obj)/tests/unit/test_backend_%),$(unit-tests))
unit-support-objs := $(patsubst $(srctree)/%.c,$(obj)/%.o,$(wildcard $(srctree)/tests/unit/support/*.c))
# Builders and harnesses shared by unit tests and benchmarks (no cmocka).
test-support-objs := $(patsubst $(srctree)/%.c,$(obj)/%.o,$(wildcard $(srctree)/tests/support/*.c))
difftest-objs := $(patsubst $(srctree)/%.c,$(obj)/%.o,$(wildcard $(srctree)/tests/difftest/*.c)) \
                 $(patsubst $(srctree)/%.S,$(obj)/%.o,$(wildcard $(srctree)/tests/difftest/*.S))
decodetest-objs := $(patsubst $(srctree)/%.c,$(obj)/%.o,$(wildcard $(srctree)/tests/decodetest/*.c))
bench-emu-objs := $(patsubst $(srctree)/%.c,$(obj)/%.o,$(wildcard $(srctree)/bench/emulate/*.c))
bench-hw-objs := $(patsubst $(srctree)/%.c,$(obj)/%.o,$(wildcard $(srctree)/bench/hw/*.c))
bench-hv-objs := $(patsubst $(srctree)/%.c,$(obj)/%.o,$(wildcard $(srctree)/bench/hv/*.c))
DIFFTEST := $(obj)/tests/difftest/difftest
DECODETEST := $(obj)/tests/decodetest/decodetest
BENCH_EMU := $(obj)/bench/emulate/bench-emulate
BENCH_HW := $(obj)/bench/hw/bench-hw
BENCH_HV := $(obj)/bench/hv/bench-hv

all-objs := $(lib-objs) $(prog-objs) $(difftest-objs) $(decodetest-objs) $(bench-emu-objs) \
            $(bench-hw-objs) $(bench-hv-objs) \
            $(addsuffix .o,$(unit-tests)) $(unit-support-objs) $(test-support-objs)

ifneq ($(config-only),y)
all: $(LIB) $(PROG) $(unit-tests) $(if $(difftest-objs),$(DIFFTEST)) \
     $(if $(decodetest-objs),$(DECODETEST)) $(if $(bench-emu-objs),$(BENCH_EMU)) \
     $(if $(bench-hw-objs),$(BENCH_HW)) $(if $(bench-hv-objs),$(BENCH_HV))
endif

$(obj)/%.o: $(srctree)/%.c | $(AUTOCONF_H)
	@mkdir -p $(dir $@)
	@echo "  CC      $(patsubst $(obj)/%,%,$@)"
	@$(CC) $(CFLAGS_ALL) $(CFLAGS_$(notdir $(@D))) -MMD -MP -MF $@.d -c $< -o $@
	@$(srctree)/scripts/fixdep.sh $@.d $(obj) > $@.cmd && rm -f $@.d

$(obj)/%.o: $(srctree)/%.S
	@mkdir -p $(dir $@)
	@echo "  AS      $(patsubst $(obj)/%,%,$@)"
	@$(CC) $(SANFLAGS) -g -c $< -o $@

-include $(addsuffix .cmd,$(all-objs))

# The configuration as a C string, for `hvlab config`.
$(obj)/include/generated/config_str.h: $(AUTO_CONF)
	@{ echo 'static const char hv_config_str[] ='; \
	   grep '^CONFIG_' $< | sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$$/\\n"/'; echo ';'; } > $@
$(obj)/vmm/cmd_config.o: $(obj)/include/generated/config_str.h
CFLAGS_vmm := -I$(obj)/include

$(LIB): $(lib-objs)
	@echo "  AR      $(patsubst $(obj)/%,%,$@)"
	@rm -f $@ && $(AR) rcs $@ $^

# The program sees libhvlab as any VMM would: the calls of
# include/hvlab/hv.h (and, for `hvlab decode`, the engine's decoder);
# every other symbol of the library is made local first, so a use of
# anything else fails to link. Tests link libhvlab.a with everything.
API_SYMS := $(obj)/include/generated/api.syms
$(API_SYMS): $(srctree)/include/hvlab/hv.h | $(obj)/.kdirs
	@{ sed -n 's/.*[ *]\(hv_[a-z_]*\)(.*/\1/p' $< | sort -u; echo emu_decode; echo emu_op_name; } > $@

$(obj)/libhvlab-api.o: $(lib-objs) $(API_SYMS)
	@echo "  API     $(patsubst $(obj)/%,%,$@)"
	@$(LD) -r -o $@.tmp $(lib-objs) && \
	 $(OBJCOPY) --keep-global-symbols=$(API_SYMS) $@.tmp $@ && rm -f $@.tmp

$(PROG): $(prog-objs) $(obj)/libhvlab-api.o
	@echo "  LD      $(patsubst $(obj)/%,%,$@)"
	@mkdir -p $(dir $@) && $(CC) $(LDFLAGS_ALL) -o $@ $^

$(obj)/tests/unit/%: $(obj)/tests/unit/%.o $(unit-support-objs) $(test-support-objs) $(LIB)
	@echo "  LD      $(patsubst $(obj)/%,%,$@)"
	@mkdir -p $(dir $@) && $(CC) $(LDFLAGS_ALL) -o $@ $^ -lcmocka

# The loader tests also link the guest-image loaders from vmm/: pure code
# that needs neither the VM API nor the program's main().
vmm-loader-objs := $(addprefix $(obj)/vmm/,loader.o elf.o multiboot.o)
$(filter $(obj)/tests/unit/test_vmm_%,$(unit-tests)): $(vmm-loader-objs)
# The device tests link the device models (vmm/dev.h) with fakes of the
# few hv_* calls they make.
vmm-dev-objs := $(addprefix $(obj)/vmm/,bus.o serial.o debugexit.o pit.o cmos.o fwcfg.o pci.o \
                  pmtimer.o acpi.o testdev.o port80.o)
$(filter $(obj)/tests/unit/test_dev_%,$(unit-tests)): $(vmm-dev-objs)

$(DIFFTEST): $(difftest-objs) $(LIB)
	@echo "  LD      $(patsubst $(obj)/%,%,$@)"
	@mkdir -p $(dir $@) && $(CC) $(LDFLAGS_ALL) -o $@ $^

$(DECODETEST): $(decodetest-objs) $(LIB)
	@echo "  LD      $(patsubst $(obj)/%,%,$@)"
	@mkdir -p $(dir $@) && $(CC) $(LDFLAGS_ALL) -o $@ $^ -lZydis

$(BENCH_EMU): $(bench-emu-objs) $(LIB)
	@echo "  LD      $(patsubst $(obj)/%,%,$@)"
	@mkdir -p $(dir $@) && $(CC) $(LDFLAGS_ALL) -o $@ $^

$(BENCH_HW): $(bench-hw-objs) $(test-support-objs) $(LIB)
	@echo "  LD      $(patsubst $(obj)/%,%,$@)"
	@mkdir -p $(dir $@) && $(CC) $(LDFLAGS_ALL) -o $@ $^

$(BENCH_HV): $(bench-hv-objs) $(LIB)
	@echo "  LD      $(patsubst $(obj)/%,%,$@)"
	@mkdir -p $(dir $@) && $(CC) $(LDFLAGS_ALL) -o $@ $^

# ---------------------------------------------------------------- guests
# Test guests (tests/guests/NAME.c + the runtime in guests/) are bare-metal
# x86-64 images, not hosted objects: their own flags, no autoconf.h, no
# sanitizers, linked with guests/guest.ld at 1 MiB. Each becomes
# $(O)/guests/NAME.elf, a multiboot v1 image for QEMU's -kernel (and
# `hvlab run`). scripts/guests.sh builds them with `guest-images` and runs them.
GUEST_CC ?= gcc
GUEST_CFLAGS := -std=gnu11 -g -O2 $(WARNINGS) -ffreestanding -fno-builtin -nostdlib \
                -fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only -mcmodel=small \
                -fno-stack-protector -fno-asynchronous-unwind-tables \
                -fcf-protection=none -I$(srctree)
# One flat RWX segment is what the multiboot a.out-kludge load needs:
# the linker's warning about it says nothing new.
GUEST_LDFLAGS := -nostdlib -static -Wl,--build-id=none -Wl,-z,max-page-size=0x1000 \
                 -Wl,--no-warn-rwx-segments -Wl,-T,$(srctree)/guests/guest.ld
guest-rt-objs := $(patsubst $(srctree)/%,$(obj)/%.o,$(basename $(wildcard $(srctree)/guests/*.c $(srctree)/guests/*.S)))
guest-images := $(patsubst $(srctree)/tests/guests/%.c,$(obj)/guests/%.elf,$(wildcard $(srctree)/tests/guests/*.c))

guest-images: $(guest-images)

$(obj)/guests/%.o: $(srctree)/guests/%.c
	@mkdir -p $(dir $@)
	@echo "  GCC     $(patsubst $(obj)/%,%,$@)"
	@$(GUEST_CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(obj)/guests/%.o: $(srctree)/guests/%.S
	@mkdir -p $(dir $@)
	@echo "  GAS     $(patsubst $(obj)/%,%,$@)"
	@$(GUEST_CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(obj)/tests/guests/%.o: $(srctree)/tests/guests/%.c
	@mkdir -p $(dir $@)
	@echo "  GCC     $(patsubst $(obj)/%,%,$@)"
	@$(GUEST_CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(obj)/guests/%.elf: $(obj)/tests/guests/%.o $(guest-rt-objs) $(srctree)/guests/guest.ld
	@echo "  LD      $(patsubst $(obj)/%,%,$@)"
	@$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^)

-include $(guest-rt-objs:.o=.d) $(patsubst $(obj)/guests/%.elf,$(obj)/tests/guests/%.d,$(guest-images))

# Objects made only by pattern rules are intermediate to make, which would
# delete them after the link and rebuild them on every run.
.SECONDARY: $(guest-rt-objs) $(patsubst $(obj)/guests/%.elf,$(obj)/tests/guests/%.o,$(guest-images))

# Benchmark workloads: bench/workloads/NAME.c on the same runtime, with the
# same flags, into $(O)/bench/workloads/NAME.elf (bench/mmu/bench-mmu runs
# them). Their headers live next to them; every .c file is one guest.
bench-workload-images := $(patsubst $(srctree)/bench/workloads/%.c,$(obj)/bench/workloads/%.elf,$(wildcard $(srctree)/bench/workloads/*.c))

bench-workloads: $(bench-workload-images)

$(obj)/bench/workloads/%.o: $(srctree)/bench/workloads/%.c
	@mkdir -p $(dir $@)
	@echo "  GCC     $(patsubst $(obj)/%,%,$@)"
	@$(GUEST_CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(obj)/bench/workloads/%.elf: $(obj)/bench/workloads/%.o $(guest-rt-objs) $(srctree)/guests/guest.ld
	@echo "  LD      $(patsubst $(obj)/%,%,$@)"
	@$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^)

-include $(bench-workload-images:.elf=.d)
.SECONDARY: $(bench-workload-images:.elf=.o)

# 32-bit guests: tests/guests32/ on the runtime in guests32/.
include $(srctree)/guests32/build.mk
# Hostile guests (issue 8, docs/reliability.md): tests/hostile/ on the
# runtime in guests/, the ones that never end by themselves, and the
# canary driver that runs them beside a second VM.
include $(srctree)/tests/hostile/build.mk
include $(srctree)/tests/hostile/spin/build.mk
include $(srctree)/tests/hostile/host/build.mk
# The pre-copy migration test: tests/migrate/ (dirty logging, issue 8).
include $(srctree)/tests/migrate/build.mk

# ---------------------------------------------------------------- test families
N ?=
SEED ?=
SECONDS ?= 60

deps:
	@$(srctree)/scripts/deps.sh

# make check SANITIZE=address,undefined: the same families built with
# those sanitizers, in build/san-address-undefined unless O= is given.
SANITIZE ?=
check-dir := $(if $(SANITIZE),$(if $(filter command line environment,$(origin O)),$(O),build/san-$(subst $(comma),-,$(SANITIZE))),$(O))
check:
	@SANITIZE="$(SANITIZE)" $(srctree)/scripts/check.sh "$(check-dir)"

# The benchmark suite (bench/run, docs/workflow.md): every backend x MMU
# variant built in build/<variant>, SUITE's workloads on each, results in
# bench/results/<date>/ (or RESULTS=DIR). VARIANTS and WORKLOADS restrict
# it, RUNS repeats each job, JOBS runs jobs at once, PERF=stat|record
# wraps every run in perf.
SUITE ?= quick
RUNS ?= 1
JOBS ?= 1
bench:
	@$(srctree)/bench/run -s "$(SUITE)" -r "$(RUNS)" -j "$(JOBS)" $(if $(PERF),-p "$(PERF)") \
	  $(if $(VARIANTS),-V "$(VARIANTS)") $(if $(WORKLOADS),-w "$(WORKLOADS)") $(if $(RESULTS),-o "$(RESULTS)")

# The reproduction studies in papers/ (papers/README.md): each reruns its
# suite on the variants it needs and redraws its figures.
papers:
	@for d in $(srctree)/papers/*/; do $(MAKE) -C "$$d" || exit 1; done

# The component benchmarks, one table each: the engine, the silicon
# model, the run loop (scripts/bench.sh, in O/bench from
# configs/bench_defconfig), then the MMU strategies on ctxswitch and fork
# (bench/mmu/bench-mmu) and SMP shootdowns over 1-8 vcpus and both
# scheduler modes (bench/smp/bench-smp), all from that one build.
bench-micro:
	@$(srctree)/scripts/bench.sh "$(O)"
	@echo
	@$(srctree)/bench/mmu/bench-mmu "$(obj)/bench"
	@echo
	@$(srctree)/bench/smp/bench-smp "$(obj)/bench"

# gcov + lcov in their own build directory, O/coverage (docs/coverage.md).
coverage:
	@$(srctree)/scripts/coverage.sh "$(O)/coverage"

coverage-matrix:
	@$(srctree)/scripts/coverage-matrix.sh "$(O)/coverage"

guests:
	@$(srctree)/scripts/guests.sh "$(O)"

difftest: $(DIFFTEST)
	@$(DIFFTEST) $(if $(N),-n $(N)) $(if $(SEED),-s $(SEED))

decodetest: $(DECODETEST)
	@$(DECODETEST) $(if $(N),-n $(N)) $(if $(SEED),-s $(SEED))

# libFuzzer needs clang; the fuzz build has its own directory and flags.
# make fuzz runs every tests/fuzz/fuzz_*.c target SECONDS each; make
# fuzz-NAME runs one.
fuzz-targets := $(patsubst $(srctree)/tests/fuzz/fuzz_%.c,fuzz-%,$(wildcard $(srctree)/tests/fuzz/fuzz_*.c))
.PHONY: $(fuzz-targets)
fuzz:
	@$(srctree)/scripts/fuzz.sh "$(O)" all "$(SECONDS)"

$(fuzz-targets): fuzz-%:
	@$(srctree)/scripts/fuzz.sh "$(O)" $* "$(SECONDS)"

# ---------------------------------------------------------------- housekeeping
clean:
	@rm -rf $(obj)/libhvlab-api.o $(obj)/emulate $(obj)/hw $(obj)/core $(obj)/backends $(obj)/mmu $(obj)/vmm $(obj)/tests $(obj)/bench $(obj)/fuzz $(obj)/guests $(obj)/guests32 $(LIB) $(PROG)

distclean:
	@rm -rf $(obj)

help:
	@echo "hvlab build targets (add O=build/NAME for a side-by-side build):"
	@echo "  make defconfig          configure from configs/defconfig"
	@echo "  make NAME_defconfig     configure from configs/NAME_defconfig:"
	@echo "                          $(notdir $(wildcard $(srctree)/configs/*_defconfig))"
	@echo "  make menuconfig         edit the configuration (ncurses)"
	@echo "  make olddefconfig       update .config after Kconfig changes, new options at defaults"
	@echo "  make savedefconfig      write the minimal defconfig of the current .config"
	@echo "  make                    build libhvlab.a, hvlab, tests and benchmarks"
	@echo "  make check              install what is missing, configure, build, run all tests"
	@echo "  make check SANITIZE=address,undefined   every family under ASan + UBSan (build/san-...)"
	@echo "  make bench              the benchmark suite: every variant, results in bench/results/<date>/"
	@echo "                          (SUITE=quick|full|FILE PERF=stat|record VARIANTS= WORKLOADS= RUNS= JOBS= RESULTS=)"
	@echo "  make bench-micro        the component benchmarks (engine, model, run loop, bench-mmu, bench-smp)"
	@echo "  make papers             rerun every study in papers/ and redraw its figures"
	@echo "  make coverage           lcov report of make check's families (O/coverage, docs/coverage.md)"
	@echo "  make coverage-matrix    mmu/ and backends/ functions reached per workload x backend x MMU"
	@echo "  make bench-workloads    build the workloads (bench/workloads/) into O/bench/workloads/"
	@echo "  make guests             build the test guests and run them under QEMU (TCG)"
	@echo "  make difftest N= SEED=  emulate/ against the host CPU (random sequences)"
	@echo "  make decodetest N= SEED= the decoder against Zydis (random bytes)"
	@echo "  make fuzz SECONDS=      every libFuzzer target in tests/fuzz/, SECONDS each (clang)"
	@echo "  make fuzz-NAME SECONDS= one: emulate, loaders, vmentry, gwalk, wholevm"
	@echo "  make deps               install the Debian packages the build needs"
	@echo "  make clean / distclean  remove objects / the whole build directory"
