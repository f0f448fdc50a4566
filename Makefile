# Circuit in C.  `make` builds bin/circuit and bin/mount.circuit; `make test` runs
# every suite; `make run` sets up a fresh Debian 12 box and starts a mounted server.
#
# Sources are found by directory, so adding a file never needs a Makefile edit:
#   elements/ fs/ net/ *.c  -> linked into every program (object files, not an archive:
#                              element kinds are weak references, see elements/element.c)
#   cmd/*.c                 -> bin/circuit
#   mount-helper/*.c        -> bin/mount.circuit
#   tests/sim/*.c           -> bin/circuit-sim
#   tests/unit/test_*.c     -> build/tests/test_* (Criterion), run by `make unit`
#   tests/sim/test_*.sh     -> run by `make sim-test`
#   tests/integration/test_*.sh -> run by `make integration`
#   tests/fuzz/fuzz_*.c     -> build/fuzz/fuzz_* (libFuzzer, clang), `make fuzz`

CC      ?= cc
BUILD   ?= build
BIN     ?= bin
PREFIX  ?= /usr/local
PKGS     = fuse3 libuv jansson libsodium
WARN     = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith -Wcast-qual -Wno-unused-parameter
ifeq ($(CI),true)
WARN    += -Werror
endif
OPT     ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -MMD -MP -I. \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lldns -lm

LIB_SRC  = $(wildcard elements/*.c fs/*.c net/*.c)
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
CMD_OBJ  = $(patsubst %.c,$(BUILD)/%.o,$(wildcard cmd/*.c))
MNT_OBJ  = $(patsubst %.c,$(BUILD)/%.o,$(wildcard mount-helper/*.c))
SIM_OBJ  = $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/sim/*.c))
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
EX_BIN   = $(patsubst examples/%.c,$(BIN)/example-%,$(wildcard examples/*.c))
FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)

PROGS    = $(BIN)/circuit $(BIN)/mount.circuit $(BUILD)/libcircuit-client.a \
           $(if $(SIM_OBJ),$(BIN)/circuit-sim) $(EX_BIN)

.SECONDARY:
.PHONY: all test suites unit sim-test integration asan bench fuzz run install clean deps
all: $(PROGS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# The client library (net/client.h): what a C program needs to dial a server.  The
# examples link against it, so it is proven to stand alone.
CLIENT_OBJ = $(BUILD)/net/client.o $(BUILD)/net/frame.o $(BUILD)/net/url.o \
	     $(BUILD)/net/key.o $(BUILD)/net/secure.o
$(BUILD)/libcircuit-client.a: $(CLIENT_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BIN)/circuit: $(CMD_OBJ) $(LIB_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The mount helper is self-contained: it only checks, forks and execs circuit.
$(BIN)/mount.circuit: $(MNT_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) -o $@ $^

$(BIN)/circuit-sim: $(SIM_OBJ) $(LIB_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/example-%: $(BUILD)/examples/%.o $(BUILD)/libcircuit-client.a
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) -o $@ $^ $(shell pkg-config --libs jansson libsodium)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcriterion

# Unit tests: every Criterion binary; one failing binary fails the target.
unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t --jobs 2; done

# The simulator once more under AddressSanitizer + UBSan, from its own sources and the
# membership core only (a few seconds to build), for a short run in sim-test.
SIM_ASAN = $(BUILD)/circuit-sim-asan
SAN      = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
$(SIM_ASAN): $(wildcard tests/sim/*.c tests/sim/*.h net/membership*.c net/membership*.h)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -O1 -g $(SAN) $(WARN) -I. -o $@ \
	  $(wildcard tests/sim/*.c net/membership*.c) $(shell pkg-config --libs jansson) -lm

sim-test: all $(SIM_ASAN)
	@set -e; for t in $(wildcard tests/sim/test_*.sh); do echo "== $$t"; \
	  CIRCUIT_SIM_ASAN=$(SIM_ASAN) bash $$t; done

# The single-server suites that call start_target run twice: once on one server, once
# across three (elements on the third, driven through the first one's mount).
CROSS_TESTS = $(shell grep -l '^start_target' tests/integration/test_*.sh)
integration: all
	@bash tests/integration/run.sh $(wildcard tests/integration/test_*.sh)
	@CIRCUIT_CROSS=1 bash tests/integration/run.sh $(CROSS_TESTS)

# `make test` and `make run` must work alone on a fresh machine: .ci/deps installs the
# libraries first, then a second make reads their pkg-config flags (this make computed
# CFLAGS before they existed) and builds.
test: deps
	@$(MAKE) --no-print-directory suites

suites: all unit sim-test integration

# The same suites under AddressSanitizer + UBSan, in a separate build tree.  Servers
# started by the integration tests write their reports to build-asan/reports: any
# report there fails the target.
ASAN_ENV = LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
asan:
	rm -rf build-asan/reports && mkdir -p build-asan/reports
	$(ASAN_ENV) $(MAKE) BUILD=build-asan BIN=build-asan/bin \
	  OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  all unit
	$(ASAN_ENV) CIRCUIT_SIM_ASAN=build-asan/bin/circuit-sim bash tests/sim/test_membership_asan.sh
	$(ASAN_ENV) ASAN_OPTIONS=log_path=$(CURDIR)/build-asan/reports/asan \
	  CIRCUIT_BIN=$(CURDIR)/build-asan/bin \
	  bash tests/integration/run.sh $(wildcard tests/integration/test_*.sh)
	@if ls build-asan/reports/* >/dev/null 2>&1; then \
	  cat build-asan/reports/*; echo "asan: sanitizer reports above"; exit 1; fi
	@echo "asan: clean"

fuzz: $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
build-fuzz/%: tests/fuzz/%.c $(LIB_SRC)
	@mkdir -p build-fuzz
	clang -std=c11 -D_GNU_SOURCE -g -O1 -I. -fsanitize=fuzzer,address,undefined \
	  $(shell pkg-config --cflags $(PKGS)) -o $@ $< $(LIB_SRC) $(LDLIBS)

bench: all
	@bash tests/bench/run.sh

deps:
	@bash .ci/deps

run: deps
	@$(MAKE) --no-print-directory all
	@bash tests/run-server.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)/sbin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 755 $(BIN)/circuit $(DESTDIR)$(PREFIX)/bin/circuit
	install -m 755 $(BIN)/mount.circuit $(DESTDIR)/sbin/mount.circuit
	install -d $(DESTDIR)$(PREFIX)/include/circuit $(DESTDIR)$(PREFIX)/lib
	install -m 644 net/client.h $(DESTDIR)$(PREFIX)/include/circuit/client.h
	install -m 644 $(BUILD)/libcircuit-client.a $(DESTDIR)$(PREFIX)/lib/
	-install -m 644 docs/circuit.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	-install -m 644 docs/mount.circuit.8 $(DESTDIR)$(PREFIX)/share/man/man8/

clean:
	rm -rf build build-asan build-fuzz bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
