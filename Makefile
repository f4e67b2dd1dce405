# synstruct - structured distributions on the command line.
#
#   make            build build/synstruct
#   make deps       install the Debian packages it needs (apt-get)
#   make demo       build, then decode the bundled tagging example
#   make check      build, then run every test (C unit tests and Bats)
#   make bench      time the kernels and the commands (not a test)
#   make install    PREFIX=/usr/local DESTDIR=
#   make SANITIZE=address,undefined check   (builds in build-sanitize/;
#                   every sanitizer report fails the run)
#
# Warnings are errors (WERROR=0 relaxes that for local experiments).
# The binary runs on any machine of its architecture (the kernels are built
# per instruction set, picked at run time); MARCH=native tunes the rest for
# this machine only.
# CFLAGS (default -O3 -g), CPPFLAGS, LDFLAGS and LDLIBS are yours: the
# flags the build needs are added to them (make CFLAGS=-O0 check works).

PREFIX   ?= /usr/local
DESTDIR  ?=
MARCH    ?=
WERROR   ?= 1
SANITIZE ?=

CC       ?= cc
HDF5_PC  := $(shell pkg-config --exists hdf5-serial 2>/dev/null && echo hdf5-serial || echo hdf5)
HDF5_CFLAGS := $(shell pkg-config --cflags $(HDF5_PC) 2>/dev/null)
HDF5_LIBS   := $(shell pkg-config --libs $(HDF5_PC) 2>/dev/null)

# CFLAGS, LDFLAGS and LDLIBS are the user's; what the build needs goes in
# BASIC_*, and the rules use ALL_*, as git's Makefile does.
CFLAGS   ?= -O3 -g
LDFLAGS  ?=
LDLIBS   ?=
BASIC_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -fopenmp -pthread $(if $(MARCH),-march=$(MARCH)) \
            -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wvla -Wformat=2
BASIC_LDFLAGS :=
ifeq ($(WERROR),1)
BASIC_CFLAGS += -Werror
endif
ifneq ($(SANITIZE),)
BASIC_CFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all \
            -fno-omit-frame-pointer
BASIC_LDFLAGS += -fsanitize=$(SANITIZE)
endif
ALL_CFLAGS  = $(CPPFLAGS) $(CFLAGS) $(BASIC_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(BASIC_LDFLAGS)
ALL_LDLIBS  = $(LDLIBS) -lm
DEPFLAGS    = -MMD -MP

B ?= $(if $(SANITIZE),build-sanitize,build)
# The kernels are built once per instruction set of the target and one is
# picked at run time (lib/isa.c), so that one binary runs on any machine of
# its kind; MARCH=native builds the rest for this machine only.
TARGET   := $(shell $(CC) -dumpmachine)
ifneq ($(filter x86_64%,$(TARGET)),)
ISAS     := scalar avx2 avx512
else ifneq ($(filter aarch64%,$(TARGET)),)
ISAS     := neon
else
ISAS     := scalar
endif
ISA_CFLAGS_scalar :=
ISA_CFLAGS_avx2   := -mavx2 -mfma
ISA_CFLAGS_avx512 := -mavx2 -mfma -mavx512f -mavx512dq -mavx512vl -mavx512bw
ISA_CFLAGS_neon   :=
KERNEL_SRC := lib/chart.c lib/chart_hvp.c lib/dep_nonprojective.c lib/vec.c
LIB_SRC  := $(filter-out $(KERNEL_SRC),$(wildcard lib/*.c))
CLI_SRC  := $(wildcard cli/*.c)
UNIT_SRC := $(wildcard tests/unit*.c)
TOOLS    := $(B)/tools/h5mk $(B)/tools/h5get $(B)/tools/jsonq
EXAMPLES := $(patsubst examples/%.txt,$(B)/examples/%.h5,$(wildcard examples/*.txt))

LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o) \
            $(foreach isa,$(ISAS),$(KERNEL_SRC:%.c=$(B)/%-$(isa).o))
CLI_OBJ  := $(CLI_SRC:%.c=$(B)/%.o)
UNIT_OBJ := $(UNIT_SRC:%.c=$(B)/%.o)

BUILD_INFO = -DSS_BUILD_CFLAGS='"$(strip $(ALL_CFLAGS))"'

.PHONY: all deps demo check unit bats bench install clean FORCE
all: $(B)/synstruct

# The flags of the last build: what is built with other flags is rebuilt
# (make CFLAGS=-O0 after make), as git's GIT-CFLAGS does.
TRACK_FLAGS = $(subst ','\'',$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(HDF5_CFLAGS) $(ALL_LDFLAGS) $(HDF5_LIBS) $(ALL_LDLIBS) $(foreach isa,$(ISAS),$(ISA_CFLAGS_$(isa))))
$(B)/build-flags: FORCE
	@mkdir -p $(B)
	@flags='$(TRACK_FLAGS)'; \
	[ "$$flags" = "$$(cat $@ 2>/dev/null)" ] || printf '%s\n' "$$flags" > $@

# make deps installs the packages (apt-get); nothing else installs anything.
# check and demo stop at once, naming what is missing. In make deps demo,
# demo waits for deps (even under -j).
deps:
	@scripts/deps.sh
ifneq ($(filter deps,$(MAKECMDGOALS)),)
demo check bench: deps
endif

# The engine's kernels and vec.c never read floating-point flags: without
# trapping math GCC turns their guarded selects into vector blends.
$(B)/lib/chart-%.o: KERNEL_CFLAGS = -fno-trapping-math
$(B)/lib/vec-%.o: KERNEL_CFLAGS = -fno-trapping-math
# The elimination's short rows run faster in 256-bit vectors (measured:
# non-projective marginals 25 ms against 35 ms with 512-bit ones).
$(B)/lib/dep_nonprojective-avx512.o: KERNEL_CFLAGS = -mprefer-vector-width=256

# A kernel file once per instruction set, its functions suffixed with it.
define kernel_rule
$(B)/lib/%-$(1).o: lib/%.c $(B)/build-flags
	@mkdir -p $$(dir $$@)
	@echo "CC $$< ($(1))"
	@$$(CC) $$(ALL_CFLAGS) $$(KERNEL_CFLAGS) $$(ISA_CFLAGS_$(1)) -DSSI_ISA=$(1) -Ilib $$(DEPFLAGS) -c $$< -o $$@
endef
$(foreach isa,$(ISAS),$(eval $(call kernel_rule,$(isa))))

# Each object depends on the headers it includes: -MMD writes them to its
# .d file beside it, -MP adds a rule per header so a removed one is no error.
$(B)/%.o: %.c $(B)/build-flags
	@mkdir -p $(dir $@)
	@echo "CC $<"
	@$(CC) $(ALL_CFLAGS) $(KERNEL_CFLAGS) $(HDF5_CFLAGS) -Ilib $(BUILD_INFO) $(DEPFLAGS) -c $< -o $@

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(UNIT_OBJ:.o=.d)

# Made anew, so that a renamed or removed source leaves no member behind.
$(B)/libsynstruct.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/synstruct: $(CLI_OBJ) $(B)/libsynstruct.a $(B)/build-flags
	@echo "LD $@"
	@$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(filter %.o %.a,$^) $(HDF5_LIBS) -lcjson $(ALL_LDLIBS)

$(B)/unit: $(UNIT_OBJ) $(B)/libsynstruct.a $(B)/build-flags
	@echo "LD $@"
	@$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(filter %.o %.a,$^) $(ALL_LDLIBS)

$(B)/tools/h5mk $(B)/tools/h5get: $(B)/tools/%: tests/tools/%.c $(B)/build-flags
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(HDF5_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(HDF5_LIBS) $(ALL_LDLIBS)

$(B)/tools/jsonq: tests/tools/jsonq.c $(B)/build-flags
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< -lcjson $(ALL_LDLIBS)

$(B)/examples/%.h5: examples/%.txt $(B)/tools/h5mk
	@mkdir -p $(dir $@)
	$(B)/tools/h5mk $< $@

demo:
	@CC='$(CC)' scripts/deps.sh --check build
	@$(MAKE) --no-print-directory all $(EXAMPLES)
	$(B)/synstruct argmax $(B)/examples/tagging.h5

check:
	@CC='$(CC)' scripts/deps.sh --check
	@$(MAKE) --no-print-directory all $(B)/unit $(TOOLS) $(EXAMPLES)
	@B=$(B) tests/run.sh

bench:
	@$(MAKE) --no-print-directory all $(TOOLS)
	@scripts/bench.sh

install: $(B)/synstruct
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 755 $(B)/synstruct $(DESTDIR)$(PREFIX)/bin/
	install -m 644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 man/*.7 $(DESTDIR)$(PREFIX)/share/man/man7/

clean:
	rm -rf $(B)
