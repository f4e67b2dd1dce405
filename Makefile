# synstruct - structured distributions on the command line.
#
#   make            build build/synstruct
#   make demo       build, then decode the bundled tagging example
#   make check      build, then run every test (C unit tests and Bats)
#   make bench      time the kernels and the commands (not a test)
#   make install    PREFIX=/usr/local DESTDIR=
#   make SANITIZE=address,undefined check   (builds in build-sanitize/;
#                   every sanitizer report fails the run)
#
# Warnings are errors (WERROR=0 relaxes that for local experiments).

PREFIX   ?= /usr/local
DESTDIR  ?=
MARCH    ?= native
WERROR   ?= 1
SANITIZE ?=

CC       ?= cc
HDF5_PC  := $(shell pkg-config --exists hdf5-serial 2>/dev/null && echo hdf5-serial || echo hdf5)
HDF5_CFLAGS := $(shell pkg-config --cflags $(HDF5_PC) 2>/dev/null)
HDF5_LIBS   := $(shell pkg-config --libs $(HDF5_PC) 2>/dev/null)

CFLAGS   ?= -O3 -g
CFLAGS   += -std=c11 -D_POSIX_C_SOURCE=200809L -fopenmp -march=$(MARCH) \
            -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wvla -Wformat=2
ifeq ($(WERROR),1)
CFLAGS   += -Werror
endif
ifneq ($(SANITIZE),)
CFLAGS   += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all \
            -fno-omit-frame-pointer
LDFLAGS  += -fsanitize=$(SANITIZE)
endif
LDLIBS   += -lm

B ?= $(if $(SANITIZE),build-sanitize,build)
LIB_SRC  := $(wildcard lib/*.c)
CLI_SRC  := $(wildcard cli/*.c)
UNIT_SRC := $(wildcard tests/unit*.c)
TOOLS    := $(B)/tools/h5mk $(B)/tools/h5get $(B)/tools/jsonq
EXAMPLES := $(patsubst examples/%.txt,$(B)/examples/%.h5,$(wildcard examples/*.txt))

LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(B)/%.o)
UNIT_OBJ := $(UNIT_SRC:%.c=$(B)/%.o)

BUILD_INFO := -DSS_BUILD_CFLAGS='"$(strip $(CFLAGS))"'

.PHONY: all deps demo check unit bats bench install clean
all: $(B)/synstruct

deps:
	@scripts/deps.sh

$(B)/%.o: %.c $(wildcard lib/*.h cli/*.h tests/*.h)
	@mkdir -p $(dir $@)
	@echo "CC $<"
	@$(CC) $(CFLAGS) $(HDF5_CFLAGS) -Ilib $(BUILD_INFO) -c $< -o $@

$(B)/libsynstruct.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

$(B)/synstruct: $(CLI_OBJ) $(B)/libsynstruct.a
	@echo "LD $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(HDF5_LIBS) -lcjson $(LDLIBS)

$(B)/unit: $(UNIT_OBJ) $(B)/libsynstruct.a
	@echo "LD $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tools/h5mk $(B)/tools/h5get: $(B)/tools/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(HDF5_CFLAGS) $(LDFLAGS) -o $@ $< $(HDF5_LIBS) $(LDLIBS)

$(B)/tools/jsonq: tests/tools/jsonq.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -lcjson $(LDLIBS)

$(B)/examples/%.h5: examples/%.txt $(B)/tools/h5mk
	@mkdir -p $(dir $@)
	$(B)/tools/h5mk $< $@

demo:
	@scripts/deps.sh --quiet
	@$(MAKE) --no-print-directory all $(EXAMPLES)
	$(B)/synstruct argmax $(B)/examples/tagging.h5

check:
	@scripts/deps.sh --quiet
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
