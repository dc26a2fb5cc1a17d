# forkbox build. `make` builds everything into build/; see README.md.
#   make check        unit + end-to-end tests (installs Debian deps first)
#   make check-asan   the same suite with ASan+UBSan builds
#   make demo         the seed scenario, live
#   make bench        latency benchmarks against a bare fork baseline
#   make install PREFIX=/usr/local

CC      ?= gcc
BUILD   ?= build
PREFIX  ?= /usr/local
SANITIZE ?=
# The zygote and the children it forks run under RLIMIT_AS and seccomp:
# ASan's multi-terabyte shadow reservation and its runtime's syscalls cannot
# live there, so sanitized builds give the zygote UBSan only.
ZYGOTE_SANITIZE ?= $(filter undefined,$(subst $(comma), ,$(SANITIZE)))
comma := ,

VERSION := 0.1.0

PKGS    := libseccomp libcjson uuid
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# libcurl is forkboxd's alone (the Lambda Runtime API client): linking it
# into libforkbox would load it, and what it pulls in, into every zygote,
# whose size is what each fork copies.
DAEMON_PKGS   := libcurl
DAEMON_CFLAGS := $(shell pkg-config --cflags $(DAEMON_PKGS) 2>/dev/null)
DAEMON_LIBS   := $(shell pkg-config --libs $(DAEMON_PKGS) 2>/dev/null)

LIBEXECDIR := $(PREFIX)/libexec/forkbox
POLICYDIR  := $(PREFIX)/share/forkbox/policies

# Extra link flags of the shipped programs (the Lambda zip's $ORIGIN
# rpaths, see scripts/lambda-zip.sh): BIN_ for forkboxd and forkbox,
# ZYGOTE_ for both zygote helpers, PY_ZYGOTE_ for the Python one alone.
BIN_LDFLAGS ?=
ZYGOTE_LDFLAGS ?=
PY_ZYGOTE_LDFLAGS ?=

WARN    := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CFLAGS  ?= -O2 -g
BASE_CFLAGS := -std=gnu11 $(WARN) -fPIC -D_GNU_SOURCE \
	-Isandbox/include -Isandbox -I$(BUILD)/gen $(PKG_CFLAGS)
SAN_FLAGS := $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all)
ZSAN_FLAGS := $(if $(ZYGOTE_SANITIZE),-fsanitize=$(ZYGOTE_SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all)
ALL_CFLAGS := $(BASE_CFLAGS) $(CFLAGS)
LIBS    := $(PKG_LIBS) -lpthread

LIB_SRCS    := $(filter-out sandbox/zygote_main.c sandbox/runtime_python.c,$(wildcard sandbox/*.c))
DAEMON_SRCS := $(wildcard daemon/*.c)
CLIENT_SRCS := $(wildcard client/*.c)
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
TMOD_SRCS   := $(wildcard tests/modules/*.c)
TPROG_SRCS  := $(wildcard tests/progs/*.c)
EX_SRCS     := $(wildcard examples/*.c)
XMOD_SRCS   := $(wildcard tests/modules/exec/*.c)
BENCH_SRCS  := $(filter-out bench/lambda_bench_server.c,$(wildcard bench/*.c))

LIB_OBJS    := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
ZLIB_OBJS   := $(LIB_SRCS:%.c=$(BUILD)/zobj/%.o)
DAEMON_OBJS := $(DAEMON_SRCS:%.c=$(BUILD)/obj/%.o)
CLIENT_OBJS := $(CLIENT_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_BINS   := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TMOD_SOS    := $(TMOD_SRCS:tests/modules/%.c=$(BUILD)/tests/modules/%.so) \
	$(foreach i,1 2 3 4 5 6 7 8 9,$(BUILD)/tests/modules/value_$(i).so)
TPROG_BINS  := $(TPROG_SRCS:tests/progs/%.c=$(BUILD)/tests/%)
EX_SOS      := $(EX_SRCS:examples/%.c=$(BUILD)/examples/%.so)
XMOD_BINS   := $(XMOD_SRCS:tests/modules/exec/%.c=$(BUILD)/tests/modules/exec/%)
BENCH_BINS  := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

BINS := $(BUILD)/forkboxd $(BUILD)/forkbox $(BUILD)/forkbox-zygote \
	$(BUILD)/forkbox-zygote-python \
	$(BUILD)/libforkbox.so $(BUILD)/libforkbox.a $(BUILD)/forkbox.pc

.PHONY: FORCE all deps check check-asan check-unit check-e2e demo bench install \
	clean format lint fuzz lambda-zip lambda-zip-x86_64 lambda-zip-arm64
all: $(BINS) $(TMOD_SOS) $(XMOD_BINS) $(TPROG_BINS) $(EX_SOS) $(UNIT_BINS) $(BENCH_BINS)

deps:
	@scripts/install-deps.sh

# Installed paths compiled into libforkbox. Rewritten only when PREFIX
# changes, so `make install PREFIX=...` rebuilds exactly what it must.
PATHS_H := $(BUILD)/gen/fbx_paths.h
$(PATHS_H): FORCE
	@mkdir -p $(dir $@)
	@printf '#define FBX_LIBEXECDIR "%s"\n#define FBX_POLICYDIR "%s"\n' \
		'$(LIBEXECDIR)' '$(POLICYDIR)' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
FORCE:

# forkboxd --version; rewritten only when VERSION changes.
VERSION_H := $(BUILD)/gen/fbxd_version.h
$(VERSION_H): FORCE
	@mkdir -p $(dir $@)
	@printf '#define FORKBOXD_VERSION "%s"\n' '$(VERSION)' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
$(DAEMON_OBJS): $(VERSION_H)
$(DAEMON_OBJS): ALL_CFLAGS += $(DAEMON_CFLAGS)

$(BUILD)/obj/%.o: %.c $(wildcard sandbox/*.h sandbox/include/*.h daemon/*.h client/*.h) $(PATHS_H)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(BUILD)/zobj/%.o: %.c $(wildcard sandbox/*.h sandbox/include/*.h) $(PATHS_H)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ZSAN_FLAGS) -c $< -o $@

$(BUILD)/libforkbox.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libforkbox-zygote.a: $(ZLIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libforkbox.so: $(LIB_OBJS)
	$(CC) -shared -Wl,-soname,libforkbox.so.0 $(SAN_FLAGS) -o $@ $^ $(LIBS)

$(BUILD)/forkbox-zygote: $(BUILD)/zobj/sandbox/zygote_main.o $(BUILD)/libforkbox-zygote.a
	$(CC) $(ZSAN_FLAGS) $(ZYGOTE_LDFLAGS) -o $@ $^ $(LIBS)

# The Python zygote: the same helper plus runtime_python.c and libpython
# (Debian's python3-dev, the embedding flags of python3-embed.pc; never a
# python3-config first on PATH, which may belong to another Python).
PY_CFLAGS := $(shell pkg-config --cflags python3-embed 2>/dev/null)
PY_LIBS   := $(shell pkg-config --libs python3-embed 2>/dev/null)
PY_GEN    := $(BUILD)/gen/forkbox_runtime_py.h
# The interpreter's home and executable are pinned to the Python we link:
# left to itself, an embedded CPython derives them from $PATH, and a
# pyenv or venv python3 there would hand it a foreign stdlib.
PY_PREFIX := $(shell pkg-config --variable=prefix python3-embed 2>/dev/null)
PY_VER    := $(shell pkg-config --modversion python3-embed 2>/dev/null)
PY_DEFS   := -DFBX_PYTHON_HOME='"$(PY_PREFIX)"' \
	-DFBX_PYTHON_EXECUTABLE='"$(PY_PREFIX)/bin/python$(PY_VER)"'

$(PY_GEN): sandbox/python/forkbox_runtime.py scripts/embed-text.py
	@mkdir -p $(dir $@)
	python3 scripts/embed-text.py $< $@ fbx_python_runtime_source

$(BUILD)/pyobj/runtime_python.o: sandbox/runtime_python.c $(PY_GEN) $(wildcard sandbox/*.h sandbox/include/*.h) $(PATHS_H)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PY_CFLAGS) $(PY_DEFS) $(ZSAN_FLAGS) -c $< -o $@

$(BUILD)/pyobj/runtime.o: sandbox/runtime.c $(wildcard sandbox/*.h sandbox/include/*.h) $(PATHS_H)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DFBX_WITH_PYTHON $(ZSAN_FLAGS) -c $< -o $@

$(BUILD)/forkbox-zygote-python: $(BUILD)/zobj/sandbox/zygote_main.o $(BUILD)/pyobj/runtime.o $(BUILD)/pyobj/runtime_python.o $(BUILD)/libforkbox-zygote.a
	$(CC) $(ZSAN_FLAGS) $(ZYGOTE_LDFLAGS) $(PY_ZYGOTE_LDFLAGS) -o $@ $^ $(LIBS) $(PY_LIBS)

$(BUILD)/forkboxd: $(DAEMON_OBJS) $(BUILD)/libforkbox.a
	$(CC) $(SAN_FLAGS) $(BIN_LDFLAGS) -o $@ $^ $(LIBS) $(DAEMON_LIBS)

$(BUILD)/forkbox: $(CLIENT_OBJS) $(BUILD)/libforkbox.a
	$(CC) $(SAN_FLAGS) $(BIN_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/forkbox.pc: forkbox.pc.in Makefile
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' $< > $@

$(BUILD)/tests/test_%: tests/unit/test_%.c $(BUILD)/libforkbox.a $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -o $@ $(filter-out %.h,$^) $(LIBS) -lcmocka

# forkboxd lambda's pure response reading, tested in-process.
$(BUILD)/tests/test_lambda_response: $(BUILD)/obj/daemon/lambda_response.o

$(BUILD)/tests/%: tests/progs/%.c $(BUILD)/libforkbox.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LIBS)

# Test and example modules are plain shared objects: no sanitizer runtime.
$(BUILD)/tests/modules/%.so: tests/modules/%.c sandbox/include/forkbox_module.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WARN) -O2 -g -fPIC -shared -Isandbox/include -o $@ $<

# The seed scenario: one module source built to return 1..9.
$(BUILD)/tests/modules/value_%.so: tests/modules/value.c sandbox/include/forkbox_module.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WARN) -O2 -g -fPIC -shared -Isandbox/include -DVALUE=$* -o $@ $<

# Programs for the exec runtime: like modules, no sanitizer runtime (its
# own syscalls would meet the policy before the program's).
$(BUILD)/tests/modules/exec/%: tests/modules/exec/%.c tests/modules/try_syscall.c sandbox/include/forkbox_module.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WARN) -O2 -g -Isandbox/include -o $@ $<

$(BUILD)/examples/%.so: examples/%.c sandbox/include/forkbox_module.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WARN) -O2 -g -fPIC -shared -Isandbox/include -o $@ $<

# lambda_bench's Runtime API server is a file of its own, not a program.
$(BUILD)/bench/lambda_bench: bench/lambda_bench_server.c bench/lambda_bench_server.h

$(BUILD)/bench/%: bench/%.c $(BUILD)/libforkbox.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -o $@ $(filter %.c %.o %.a,$^) $(LIBS)

# The in-process Lambda loop forkboxd lambda is benchmarked against links
# forkboxd's own Runtime API client (the same code, the same libcurl
# options) and dlopen()s the module.
$(BUILD)/bench/lambda_inproc: $(BUILD)/obj/daemon/lambda_api.o $(BUILD)/obj/daemon/diag.o
$(BUILD)/bench/lambda_inproc: ALL_CFLAGS += $(DAEMON_CFLAGS) -Idaemon
$(BUILD)/bench/lambda_inproc: LIBS += $(DAEMON_LIBS) -ldl

# AWS Lambda (provided.al2023) deployment zips in dist/, each built in its
# own build-zip-ARCH/ with paths under /var/task; arm64 is cross-compiled
# (scripts/install-lambda-deps.sh installs the toolchain). README.md,
# "Deploying to AWS Lambda", has the layout.
lambda-zip: lambda-zip-x86_64 lambda-zip-arm64
lambda-zip-x86_64:
	+scripts/lambda-zip.sh x86_64
lambda-zip-arm64:
	+scripts/lambda-zip.sh arm64

check: deps
	$(MAKE) all
	tests/run-all.sh $(BUILD)

check-asan: deps
	$(MAKE) BUILD=build-asan CC=clang SANITIZE=address,undefined all
	tests/run-all.sh build-asan

demo: deps
	$(MAKE) all
	scripts/demo.sh $(BUILD)

bench:
	scripts/install-deps.sh --bench
	$(MAKE) all
	bench/run.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(LIBEXECDIR) \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include \
		$(DESTDIR)$(POLICYDIR)
	install -m 0755 $(BUILD)/forkboxd $(BUILD)/forkbox $(DESTDIR)$(PREFIX)/bin/
	install -m 0755 $(BUILD)/forkbox-zygote $(BUILD)/forkbox-zygote-python \
		$(DESTDIR)$(LIBEXECDIR)/
	install -m 0644 $(BUILD)/libforkbox.a $(DESTDIR)$(PREFIX)/lib/
	install -m 0755 $(BUILD)/libforkbox.so $(DESTDIR)$(PREFIX)/lib/libforkbox.so.0
	ln -sf libforkbox.so.0 $(DESTDIR)$(PREFIX)/lib/libforkbox.so
	install -m 0644 sandbox/include/forkbox.h sandbox/include/forkbox_module.h \
		$(DESTDIR)$(PREFIX)/include/
	install -m 0644 policies/*.policy $(DESTDIR)$(POLICYDIR)/
	install -m 0644 $(BUILD)/forkbox.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/

format:
	clang-format -i $(wildcard sandbox/*.[ch] sandbox/include/*.h daemon/*.[ch] client/*.[ch] tests/unit/*.c tests/modules/*.c tests/progs/*.c examples/*.c bench/*.c)

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--inline-suppr -D_GNU_SOURCE -Isandbox/include -Isandbox \
		sandbox daemon client

clean:
	rm -rf build build-asan build-fuzz build-install build-zip-x86_64 build-zip-arm64 dist

# --- fuzzing ---------------------------------------------------------------
# libFuzzer targets for the pure parsers (tests/fuzz/fuzz_*.c), built with
# clang, ASan and UBSan into build-fuzz/ (library objects included: the
# sub-make reuses the rules above with BUILD=build-fuzz), then each run for
# FUZZ_SECONDS. libFuzzer writes new inputs into its first corpus dir, a
# scratch copy under build-fuzz/, so tests/fuzz/corpus/ stays as committed;
# failing inputs are saved as build-fuzz/crashes/<target>-{crash,timeout,
# leak,oom}-*.
# Fails when any target finds a crash, leak, timeout or OOM.
#   make fuzz FUZZ_SECONDS=600
#   build-fuzz/fuzz_policy build-fuzz/crashes/fuzz_policy-...   (replays one)
FUZZ_SECONDS ?= 60
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(FUZZ_SRCS:tests/fuzz/%.c=%)
FUZZ_BINS  := $(FUZZ_NAMES:%=$(BUILD)/%)

.PHONY: fuzz-bins
fuzz: deps
	$(MAKE) BUILD=build-fuzz CC=clang SANITIZE=address,undefined \
		CFLAGS='-g -O1 -fsanitize=fuzzer-no-link' fuzz-bins
	@mkdir -p build-fuzz/crashes; failed=""; \
	for t in $(FUZZ_NAMES); do \
		c=$${t#fuzz_}; \
		mkdir -p build-fuzz/corpus-$$c; \
		cp tests/fuzz/corpus/$$c/* build-fuzz/corpus-$$c/; \
		echo "== $$t: $(FUZZ_SECONDS) s"; \
		build-fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
			-rss_limit_mb=2048 -print_final_stats=1 \
			-dict=tests/fuzz/$$c.dict \
			-artifact_prefix=build-fuzz/crashes/$$t- \
			build-fuzz/corpus-$$c tests/fuzz/corpus/$$c || \
			failed="$$failed $$t"; \
	done; \
	if [ -n "$$failed" ]; then \
		echo "fuzz: failed:$$failed (inputs in build-fuzz/crashes/)" >&2; \
		exit 1; \
	fi

# Only meaningful in the sub-make above (BUILD=build-fuzz, clang, sanitizers).
fuzz-bins: $(FUZZ_BINS)

$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(BUILD)/libforkbox.a
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS)
