# celerywatch: eBPF recorder of Celery worker lives and deaths, and its explainer.
# `make` builds build/celerywatch; `make test` runs unit and (as root) integration tests.

BUILD    ?= build
CC       ?= cc
CLANG    ?= clang
BPFTOOL  ?= $(shell command -v bpftool || echo /usr/sbin/bpftool)
ARCH     := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)

WARN     := -Wall -Wextra -Werror
CFLAGS   ?= -O2 -g
# the one C++ file (user/log/jflat_simd.cpp: simdjson behind a C interface) takes CFLAGS too
CXX      ?= g++
CXXFLAGS ?= $(CFLAGS)
CPPFLAGS += -Iinclude -Iuser -I$(BUILD) -D_GNU_SOURCE
DEPFLAGS  = -MMD -MP
LDLIBS   += -lbpf -lelf -lz -lhiredis -ljson-c -lsimdjson -lstdc++ -lsystemd -lcap -lpthread -lm
TEST_LIBS = -lcmocka

BPF_SRC  := bpf/celerywatch.bpf.c
BPF_OBJ  := $(BUILD)/celerywatch.bpf.o
SKEL     := $(BUILD)/celerywatch.skel.h
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ibpf -Iinclude -I$(BUILD) $(WARN) \
	-Wno-unused-parameter -Wno-missing-field-initializers $(BPF_DEFS)

# user/ is split by stage (docs/architecture.md); objects mirror it under build/obj/.
USER_DIRS := cli capture identity broker log explain engine metrics alert common
USER_SRC := $(wildcard $(addprefix user/,$(addsuffix /*.c,$(USER_DIRS))))
USER_CXX := $(wildcard $(addprefix user/,$(addsuffix /*.cpp,$(USER_DIRS))))
USER_OBJ := $(patsubst user/%.c,$(BUILD)/obj/%.o,$(USER_SRC)) \
	    $(patsubst user/%.cpp,$(BUILD)/obj/%.o,$(USER_CXX))
MAIN_OBJ := $(BUILD)/obj/cli/main.o
LIB_OBJ  := $(filter-out $(MAIN_OBJ),$(USER_OBJ))
LIB      := $(BUILD)/libcw.a
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

.PHONY: all deps test unit integration man-check service-check monitoring-check test-asan fuzz-build fuzz fuzzers run demo bench bench-quick bench-explain bench-discovery soak \
	install uninstall clean
all: $(BUILD)/celerywatch $(UNIT_BIN)

# Dependencies are Debian packages; the script installs only what is missing.
deps:
	@./tools/install-deps.sh

$(BUILD) $(BUILD)/tests:
	@mkdir -p $@

# The BPF object is compiled against bpf/vmlinux_min.h, a minimal CO-RE header kept in the
# tree: the build never reads the build host's /sys/kernel/btf.
$(BPF_OBJ): $(BPF_SRC) $(wildcard bpf/*.h) include/events.h | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp.o
	$(BPFTOOL) gen object $@ $@.tmp.o
	@rm -f $@.tmp.o

$(SKEL): $(BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name celerywatch_bpf > $@.tmp && mv $@.tmp $@

# The version lives in a header rewritten only when `git describe` changes: the objects that
# print it are rebuilt then (-MMD lists it), and only then.
$(BUILD)/version.h: FORCE | $(BUILD)
	@echo '#define CW_VERSION "$(VERSION)"' > $@.tmp; cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp
FORCE:

# /proc/PID/syscall gives numbers: their names come from the system's <asm/unistd.h>.
$(BUILD)/syscall_names.h: tools/gen_syscalls.sh | $(BUILD)
	./tools/gen_syscalls.sh $(CC) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/%.o: user/%.c | $(SKEL) $(BUILD)/version.h $(BUILD)/syscall_names.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(DEPFLAGS) -c $< -o $@

# -fno-sanitize=vptr: the C programs are linked by the C driver, without UBSan's C++ runtime
$(BUILD)/obj/%.o: user/%.cpp | $(BUILD)/version.h
	@mkdir -p $(@D)
	$(CXX) $(CPPFLAGS) -std=c++17 $(CXXFLAGS) $(if $(findstring undefined,$(CXXFLAGS)),-fno-sanitize=vptr) $(WARN) $(DEPFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/celerywatch: $(MAIN_OBJ) $(LIB)
	$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/unit/%.c $(LIB) | $(BUILD)/tests
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(DEPFLAGS) $< $(LIB) $(LDLIBS) $(TEST_LIBS) -o $@

-include $(USER_OBJ:.o=.d) $(UNIT_BIN:=.d) $(FUZZ_BIN:=.d)

# Every test binary runs, even after one fails (or crashes); the target fails at the end.
unit: $(UNIT_BIN)
	@failed=""; for t in $(UNIT_BIN); do echo "== $$t"; $$t || failed="$$failed $$t"; done; \
	if [ -n "$$failed" ]; then echo "unit tests FAILED:$$failed"; exit 1; fi

# Integration tests need root, the real kernel, redis-server and Debian's Celery.
integration: $(BUILD)/celerywatch
	/usr/bin/python3 -m unittest discover -v -s tests/integration -p 'test_*.py'

test: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) integration
	$(MAKE) man-check
	$(MAKE) service-check
	$(MAKE) monitoring-check

# The man page renders without a single warning, and shows every long option of every
# subcommand's --help (tests/man_options.sh against the binary just built).
MAN_PAGE := docs/man/celerywatch.8
man-check: $(BUILD)/celerywatch
	@err=$$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l $(MAN_PAGE) 2>&1 >/dev/null); rc=$$?; \
	if [ $$rc -ne 0 ] || [ -n "$$err" ]; then \
		printf '%s\n' "$$err" >&2; echo "man-check: $(MAN_PAGE) does not render cleanly (man exit $$rc)" >&2; exit 1; \
	fi; echo "man-check: $(MAN_PAGE) renders without warnings"
	./tests/man_options.sh $(BUILD)/celerywatch $(MAN_PAGE)

# Unit tests under AddressSanitizer and UndefinedBehaviorSanitizer, in their own build dir.
test-asan: deps
	$(MAKE) BUILD=build/asan CFLAGS='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all' \
		unit

# N minutes of churn with real Celery on real Redis, the recorder running all along: worker
# kills, Redis restarts, log rotations; checks RSS, fds, lost events and explain (README, Soak).
SOAK_MINUTES ?= 30
soak: $(BUILD)/celerywatch
	/usr/bin/python3 tests/soak/soak.py --minutes $(SOAK_MINUTES) --out $(BUILD)/soak
# libFuzzer targets (docs/fuzzing.md): tests/fuzz/fuzz_*.c against the library rebuilt by
# clang with coverage and ASan/UBSan in its own build dir. `make fuzz FUZZ_SECONDS=N` runs each
# for N seconds over a copy of its seed corpus and fails on the first crash it finds.
FUZZ_SECONDS ?= 60
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

fuzz-build: deps
	$(MAKE) BUILD=build/fuzz CC=clang CXX=clang++ CFLAGS='-O1 -g -fsanitize=fuzzer-no-link $(FUZZ_SAN)' fuzzers

fuzzers: $(FUZZ_BIN)

$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fsanitize=fuzzer $(WARN) $(DEPFLAGS) $< $(LIB) $(LDLIBS) -o $@

fuzz: fuzz-build
	./tests/fuzz/run.sh build/fuzz/fuzz $(FUZZ_SECONDS)

run: deps all
	./$(BUILD)/celerywatch record -o -

demo: deps all
	./tools/demo.sh

# Not part of `make test`: minutes of CPU, and only ratios on a quiet host mean anything.
bench: deps all
	./tools/bench.sh $(BENCH_ARGS)

# The short form for CI: celerywatch's default against no tracer, small workloads.
bench-quick: all
	./tools/bench.sh --quick --reps 2 --scale 0.2

# `make install` (PREFIX, DESTDIR): the binary, the man page, the systemd unit (its ExecStart
# follows PREFIX), an example /etc/default/celerywatch (never over an existing one), the
# logrotate snippet, the Prometheus rules and the Grafana dashboard. `make uninstall` removes them, and leaves /etc/default/celerywatch if it
# was edited.
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/celerywatch
UNITDIR    ?= $(PREFIX)/lib/systemd/system
DATADIR    ?= $(PREFIX)/share/celerywatch
SYSCONFDIR ?= /etc
INSTALLED  := $(SBINDIR)/celerywatch $(MANDIR)/man8/celerywatch.8 $(UNITDIR)/celerywatch.service \
	$(DOCDIR)/celerywatch.default $(SYSCONFDIR)/logrotate.d/celerywatch \
	$(DATADIR)/prometheus/celerywatch.rules.yml $(DATADIR)/grafana/celerywatch.json

install: $(BUILD)/celerywatch
	install -D -m 0755 $(BUILD)/celerywatch $(DESTDIR)$(SBINDIR)/celerywatch
	install -D -m 0644 $(MAN_PAGE) $(DESTDIR)$(MANDIR)/man8/celerywatch.8
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|/usr/local/sbin/celerywatch|$(SBINDIR)/celerywatch|' tools/systemd/celerywatch.service \
		> $(DESTDIR)$(UNITDIR)/celerywatch.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/celerywatch.service
	install -D -m 0644 tools/systemd/celerywatch.default $(DESTDIR)$(DOCDIR)/celerywatch.default
	install -D -m 0644 tools/logrotate/celerywatch $(DESTDIR)$(SYSCONFDIR)/logrotate.d/celerywatch
	install -D -m 0644 tools/prometheus/celerywatch.rules.yml $(DESTDIR)$(DATADIR)/prometheus/celerywatch.rules.yml
	install -D -m 0644 tools/grafana/celerywatch.json $(DESTDIR)$(DATADIR)/grafana/celerywatch.json
	@if [ ! -e $(DESTDIR)$(SYSCONFDIR)/default/celerywatch ]; then \
		install -D -m 0640 tools/systemd/celerywatch.default $(DESTDIR)$(SYSCONFDIR)/default/celerywatch; \
		echo "installed $(DESTDIR)$(SYSCONFDIR)/default/celerywatch: set the broker URL there"; \
	fi

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	@if cmp -s tools/systemd/celerywatch.default $(DESTDIR)$(SYSCONFDIR)/default/celerywatch; then \
		rm -f $(DESTDIR)$(SYSCONFDIR)/default/celerywatch; \
	else [ ! -e $(DESTDIR)$(SYSCONFDIR)/default/celerywatch ] || \
		echo "kept $(DESTDIR)$(SYSCONFDIR)/default/celerywatch (edited)"; fi

# The unit as installed passes `systemd-analyze verify`, install/uninstall leave nothing
# behind, and the recorder speaks the notify protocol (tests/service_check.sh).
service-check: $(BUILD)/celerywatch
	./tests/service_check.sh

# Queue discovery's broker-side cost and time to discovery, 10k and 1M keys, tracking on and
# off (README, OVERHEAD; about 10 minutes, as root): tests/integration/test_discovery.py.
# explain on a generated 1,000,000-line log: best of 3, wall and max RSS, beside `jq -c .`
bench-explain: $(BUILD)/celerywatch $(BUILD)/live_judge
	LIVE_JUDGE=$(BUILD)/live_judge ./tools/bench_explain.sh 1000000 $(BUILD)/celerywatch

$(BUILD)/live_judge: tools/bench/live_judge.c $(LIB)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $< $(LIB) $(LDLIBS) -o $@

bench-discovery: $(BUILD)/celerywatch
	cd tests/integration && CW_DISCOVERY_LONG=1 /usr/bin/python3 -m unittest -v test_discovery

# The Prometheus rules pass `promtool test rules`; the dashboard's queries parse.
monitoring-check:
	./tests/monitoring_check.sh

clean:
	rm -rf $(BUILD)
