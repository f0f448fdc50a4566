# Circuit in C.  `make` builds bin/circuit and bin/mount.circuit; `make test` runs
# every suite; `make run` sets up a fresh Debian 12 box and starts a mounted server.
#
# Sources are found by directory, so adding a file never needs a Makefile edit:
#   elements/ fs/ net/ *.c  -> linked into every program (object files, not an archive:
#                              element kinds are weak references, see elements/element.c)
#   cmd/*.c                 -> bin/circuit
#   mount-helper/*.c        -> bin/mount.circuit
#   exec-helper/*.c         -> bin/circuit-exec (static, libc only)
#   tests/sim/*.c           -> bin/circuit-sim
#   tests/unit/test_*.c     -> build/tests/test_* (Criterion), run by `make unit`
#   tests/sim/test_*.sh     -> run by `make sim-test`
#   tests/integration/test_*.sh -> run by `make integration`
#   tests/fuzz/fuzz_*.c     -> build/fuzz/fuzz_* (libFuzzer, clang), `make fuzz`

CC      ?= cc
BUILD   ?= build
BIN     ?= bin
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
# mount(8) looks for helpers in /sbin only, whatever the PREFIX.
SBINDIR ?= /sbin
LOGDIR  ?= /var/log/circuit
PKGS     = fuse3 libuv jansson libsodium
WARN     = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith -Wcast-qual -Wno-unused-parameter
ifeq ($(CI),true)
WARN    += -Werror
endif
OPT     ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -MMD -MP -I. \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
# ldns is loaded by the first mkdns (elements/dns_ldns.h), not linked into circuit; the
# DNS unit test and fuzz target call it directly too.
LDNS_LIBS = -lldns

LIB_SRC  = $(wildcard elements/*.c fs/*.c net/*.c)
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
CMD_OBJ  = $(patsubst %.c,$(BUILD)/%.o,$(wildcard cmd/*.c))
MNT_OBJ  = $(patsubst %.c,$(BUILD)/%.o,$(wildcard mount-helper/*.c))
SIM_OBJ  = $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/sim/*.c))
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
EX_BIN   = $(patsubst examples/%.c,$(BIN)/example-%,$(wildcard examples/*.c))
FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)

SONAME   = libcircuit.so.0
SOVERSION = 0.1.0
PROGS    = $(BIN)/circuit $(BIN)/circuit-exec $(BIN)/mount.circuit $(BUILD)/libcircuit.a $(BUILD)/$(SONAME) \
           $(if $(SIM_OBJ),$(BIN)/circuit-sim) $(EX_BIN)

.SECONDARY:
.PHONY: FORCE all test suites unit sim-test integration asan bench fuzz run install clean deps
all: $(PROGS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# The client library (net/client.h), installed as <circuit/client.h>: libcircuit.a and
# libcircuit.so.0 (position-independent objects of their own; only circuit_* is
# exported, see dist/libcircuit.map).  The examples include <circuit/client.h> and link
# the static one, so it is proven to stand alone.
CLIENT_SRC = net/client.c net/client_io.c net/client_stream.c net/frame.c net/url.c net/key.c net/secure.c
CLIENT_OBJ = $(CLIENT_SRC:%.c=$(BUILD)/pic/%.o)
$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -c -o $@ $<
$(BUILD)/libcircuit.a: $(CLIENT_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(BUILD)/$(SONAME): $(CLIENT_OBJ) dist/libcircuit.map
	$(CC) $(CFLAGS) -shared -Wl,-soname,$(SONAME) -Wl,--version-script,dist/libcircuit.map \
	  -o $@ $(CLIENT_OBJ) $(shell pkg-config --libs jansson libsodium 2>/dev/null)
$(BUILD)/include/circuit/client.h: net/client.h
	@mkdir -p $(dir $@)
	cp $< $@

$(BIN)/circuit: $(CMD_OBJ) $(LIB_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The mount helper is self-contained: it only checks, forks and execs circuit, which
# it finds at the path compiled in here (mount(8) gives helpers a minimal PATH).
# config.h is rewritten only when a path changes, so `make install PREFIX=...` after
# `make` rebuilds the helper with the right one.
$(BUILD)/config.h: FORCE
	@mkdir -p $(dir $@)
	@printf '#define CIRCUIT_PATH "%s"\n#define LOG_DIR "%s"\n' '$(BINDIR)/circuit' '$(LOGDIR)' >$@.new
	@if cmp -s $@.new $@; then rm -f $@.new; else mv $@.new $@; fi
$(MNT_OBJ): $(BUILD)/config.h
$(MNT_OBJ): CFLAGS += -I$(BUILD)
FORCE:

$(BIN)/mount.circuit: $(MNT_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) -o $@ $^

# The exec helper runs before every process element's program (elements/proc_exec.h),
# so it is static and libc-only: it loads in a fraction of what circuit's libraries
# take.  Its own flags, without $(OPT): sanitizers cannot link statically.  The server
# finds it beside its own program; the unit tests get a copy beside theirs.
EXEC_SRC = $(wildcard exec-helper/*.c)
$(BIN)/circuit-exec: $(EXEC_SRC) elements/proc_exec.h
	@mkdir -p $(BIN)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -g $(WARN) -I. -static -o $@ $(EXEC_SRC)
$(BUILD)/tests/circuit-exec: $(BIN)/circuit-exec
	@mkdir -p $(dir $@)
	cp $< $@

$(BIN)/circuit-sim: $(SIM_OBJ) $(LIB_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/examples/%.o: CFLAGS += -I$(BUILD)/include
$(BUILD)/examples/%.o: examples/%.c $(BUILD)/include/circuit/client.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<
$(BIN)/example-%: $(BUILD)/examples/%.o $(BUILD)/libcircuit.a
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) -o $@ $^ $(shell pkg-config --libs jansson libsodium)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIB_OBJ) | $(BUILD)/tests/circuit-exec
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(LDNS_LIBS) -lcriterion

# Unit tests: every Criterion binary; one failing binary fails the target.
unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t --jobs 2; done

# The simulator once more under AddressSanitizer + UBSan, from its own sources and the
# membership core only (a few seconds to build), for a short run in sim-test.
SIM_ASAN = $(BUILD)/circuit-sim-asan
SAN      = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
$(SIM_ASAN): $(wildcard tests/sim/*.c tests/sim/*.h net/membership*.c net/membership*.h) net/bucket.h
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
	  $(shell pkg-config --cflags $(PKGS)) -o $@ $< $(LIB_SRC) $(LDLIBS) $(LDNS_LIBS)

bench: all
	@bash tests/bench/run.sh

deps:
	@bash .ci/deps

run: deps
	@$(MAKE) --no-print-directory all
	@bash tests/run-server.sh

# Where `make install` puts things; DESTDIR stages them (the paths compiled in and
# written into the files stay the final ones).
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
UNITDIR    ?= $(PREFIX)/lib/systemd/system
COMPDIR    ?= $(PREFIX)/share/bash-completion/completions
SYSCONFDIR ?= /etc
SUBST = sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@PREFIX@|$(PREFIX)|g' \
	    -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@LOGDIR@|$(LOGDIR)|g' \
	    -e 's|@VERSION@|$(SOVERSION)|g'
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man1 \
	  $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(INCLUDEDIR)/circuit $(DESTDIR)$(LIBDIR)/pkgconfig \
	  $(DESTDIR)$(UNITDIR) $(DESTDIR)$(COMPDIR) $(DESTDIR)$(SYSCONFDIR)/default \
	  $(DESTDIR)$(SYSCONFDIR)/logrotate.d
	install -m 755 $(BIN)/circuit $(DESTDIR)$(BINDIR)/circuit
	install -m 755 $(BIN)/circuit-exec $(DESTDIR)$(BINDIR)/circuit-exec
	install -m 755 $(BIN)/mount.circuit $(DESTDIR)$(SBINDIR)/mount.circuit
	install -m 644 net/client.h $(DESTDIR)$(INCLUDEDIR)/circuit/client.h
	install -m 644 $(BUILD)/libcircuit.a $(DESTDIR)$(LIBDIR)/libcircuit.a
	install -m 755 $(BUILD)/$(SONAME) $(DESTDIR)$(LIBDIR)/libcircuit.so.$(SOVERSION)
	ln -sf libcircuit.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libcircuit.so
	$(SUBST) dist/circuit.pc.in >$(DESTDIR)$(LIBDIR)/pkgconfig/circuit.pc
	$(SUBST) dist/circuit.service.in >$(DESTDIR)$(UNITDIR)/circuit.service
	chmod 644 $(DESTDIR)$(LIBDIR)/pkgconfig/circuit.pc $(DESTDIR)$(UNITDIR)/circuit.service
	@# The environment file and the logrotate policy are configuration: an existing
	@# one is the admin's.
	[ -e $(DESTDIR)$(SYSCONFDIR)/default/circuit ] || \
	  install -m 644 dist/circuit.default $(DESTDIR)$(SYSCONFDIR)/default/circuit
	[ -e $(DESTDIR)$(SYSCONFDIR)/logrotate.d/circuit ] || \
	  { $(SUBST) dist/circuit.logrotate >$(DESTDIR)$(SYSCONFDIR)/logrotate.d/circuit && \
	    chmod 644 $(DESTDIR)$(SYSCONFDIR)/logrotate.d/circuit; }
	install -m 644 dist/circuit.bash-completion $(DESTDIR)$(COMPDIR)/circuit
	install -m 644 docs/circuit.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 docs/mount.circuit.8 $(DESTDIR)$(MANDIR)/man8/

clean:
	rm -rf build build-asan build-fuzz bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
