# modelc: build, configure, test. Knobs live in config.mk.
include config.mk

VERSION = 0.1.0
BUILD  = build$(if $(filter 1,$(SAN)),/san)
BIN    = $(BUILD)/bin

LIBS_PC   = yaml-0.1 libcurl libsodium libcrypto jansson
PC_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(LIBS_PC) 2>/dev/null)
PC_LIBS   := $(shell $(PKG_CONFIG) --libs $(LIBS_PC) 2>/dev/null)
CUNIT_LIBS := $(shell $(PKG_CONFIG) --libs cunit 2>/dev/null || echo -lcunit)

WARN     = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
SANFLAGS_1 = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
SANFLAGS = $(if $(filter 1,$(SAN)),$(SANFLAGS_1))
CPPFLAGS_BASE = -std=c11 -D_POSIX_C_SOURCE=200809L -DMODELC_VERSION='"$(VERSION)"' \
	-DMODELC_DATADIR='"$(PREFIX)/share/modelc"' -Icommon -Icompiler -Iruntime/net
CFLAGS  ?= -O2 -g
ALL_CFLAGS = $(CPPFLAGS_BASE) $(WARN) $(CFLAGS) $(SANFLAGS) $(PC_CFLAGS) -MMD -MP
LDLIBS_ALL = $(PC_LIBS) -lm

# Sources by folder; each program's main.c stays out of the library so tests link the modules.
COMMON_SRC   = $(wildcard common/*.c)
COMPILER_SRC = $(filter-out compiler/main.c,$(wildcard compiler/*.c))
NET_SRC      = $(wildcard runtime/net/*.c)
SWITCH_SRC   = $(filter-out runtime/switch/main.c,$(wildcard runtime/switch/*.c))
FETCH_SRC    = $(filter-out runtime/fetch/main.c,$(wildcard runtime/fetch/*.c))
BENCH_SRC    = $(filter-out runtime/bench/main.c,$(wildcard runtime/bench/*.c))
UNIT_SRC     = $(wildcard tests/unit/test_*.c)

LIB_SRC = $(COMMON_SRC) $(COMPILER_SRC) $(NET_SRC) $(SWITCH_SRC) $(FETCH_SRC) $(BENCH_SRC)
LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB     = $(BUILD)/libmodelc.a

# Programs that exist so far: modelc always; the runtime tools once their main.c lands.
PROGRAMS = $(BIN)/modelc \
	$(if $(wildcard runtime/fetch/main.c),$(BIN)/fetch) \
	$(if $(wildcard runtime/bench/main.c),$(BIN)/bench)

CATALOG ?= models.yaml
GENERATED ?= generated
SWITCH_TABLE ?= $(GENERATED)/model_table.c

.PHONY: all config test check-unit check-golden check-integration bench fuzz install clean deps
all: $(PROGRAMS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(BIN)/modelc: $(BUILD)/compiler/main.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS_ALL)

$(BIN)/fetch: $(BUILD)/runtime/fetch/main.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS_ALL)

$(BIN)/bench: $(BUILD)/runtime/bench/main.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS_ALL)

# switch: static, stripped, libc only (musl), linked with a compiled model table.
# Tests build their own with SWITCH_TABLE=... SWITCH_OUT=...; musl objects never mix with glibc ones.
MUSL_BUILD = $(BUILD)/musl
SWITCH_OUT ?= $(BIN)/switch
# -flto: whole-program size optimisation (about 1 KiB); common-page-size=16: ld would otherwise
# pad the file up to the next 4 KiB page before the data segment whenever that saves a page of RAM.
MUSL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -DMODELC_VERSION='"$(VERSION)"' -Icommon \
	$(WARN) -Oz -flto -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables -fno-pie
MUSL_OBJ = $(patsubst %.c,$(MUSL_BUILD)/%.o,$(wildcard common/*.c) $(wildcard runtime/switch/*.c))

$(MUSL_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(MUSLCC) $(MUSL_CFLAGS) -MMD -MP -c -o $@ $<

$(SWITCH_OUT): $(MUSL_OBJ) $(SWITCH_TABLE)
	@mkdir -p $(dir $@)
	$(MUSLCC) $(MUSL_CFLAGS) -static -s -Wl,--gc-sections -Wl,-z,noseparate-code -Wl,-z,norelro \
	    -Wl,-z,common-page-size=16 -o $@ $(MUSL_OBJ) $(SWITCH_TABLE)

# config: check the dependencies, compile the catalog, then build the runtime with the fresh table.
config: deps $(BIN)/modelc
	$(BIN)/modelc build $(CATALOG) -o $(GENERATED)
	@if [ -f runtime/switch/main.c ]; then $(MAKE) --no-print-directory $(SWITCH_OUT); fi
	@$(MAKE) --no-print-directory all

deps:
	@sh scripts/deps.sh

# A sanitizer build's programs (build/san/bin) look for ../../schemas as the plain build's do.
ifeq ($(SAN),1)
all: build/schemas
build/schemas:
	@mkdir -p build && ln -sfn ../schemas $@
# Tests that preload a fault-injecting shim (test_fetch_diskfull) load it before the ASan runtime.
export ASAN_OPTIONS ?= verify_asan_link_order=0
export UBSAN_OPTIONS ?= print_stacktrace=1
# Tests that link the library themselves (emit_demo.sh, test_table_compiles.sh) run $CC: a
# compiler that adds the sanitizer flags, so they link build/san/libmodelc.a.
SAN_CC = $(abspath $(BUILD))/cc-san
check-integration: $(SAN_CC)
$(SAN_CC):
	@mkdir -p $(dir $@) && printf '#!/bin/sh\nexec %s %s "$$@"\n' '$(CC)' '$(SANFLAGS_1)' >$@ && chmod +x $@
endif

# Unit tests: one CUnit runner over every tests/unit/test_<module>.c.
$(BUILD)/unit_suites.h: $(UNIT_SRC)
	@mkdir -p $(dir $@)
	@for f in $(UNIT_SRC); do b=$${f##*/test_}; echo "SUITE($${b%.c})"; done > $@.tmp && mv $@.tmp $@

$(BUILD)/tests/unit/main.o: $(BUILD)/unit_suites.h
$(BUILD)/tests/unit/%.o: ALL_CFLAGS += -I$(BUILD) -Itests/unit

$(BIN)/unit-tests: $(BUILD)/tests/unit/main.o $(UNIT_SRC:%.c=$(BUILD)/%.o) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS_ALL) $(CUNIT_LIBS)

check-unit: $(BIN)/unit-tests
	$(BIN)/unit-tests

check-golden: all
	BIN=$(abspath $(BIN)) sh tests/golden/run.sh

check-integration: all
	BIN=$(abspath $(BIN)) BUILD=$(abspath $(BUILD)) CC="$(or $(SAN_CC),$(CC))" sh tests/integration/run.sh

test: check-unit check-golden check-integration

bench: all
	BIN=$(abspath $(BIN)) sh scripts/bench.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/modelc $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(PROGRAMS) $(wildcard $(SWITCH_OUT)) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 schemas/*.json $(DESTDIR)$(PREFIX)/share/modelc/
	$(if $(wildcard docs/*.1),install -m 644 $(wildcard docs/*.1) $(DESTDIR)$(PREFIX)/share/man/man1/)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)

# Fuzzing (libFuzzer, clang): each tests/fuzz/fuzz_<target>.c links the library built with
# coverage instrumentation; `make fuzz FUZZ_SECONDS=N` runs every target on its seed corpus.
FUZZ_CC = clang
FUZZ_BUILD = build/fuzz
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fprofile-instr-generate -fcoverage-mapping
FUZZ_TARGETS = $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 30
FUZZ_LIB_OBJ = $(filter-out $(FUZZ_BUILD)/runtime/switch/%,$(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o))

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS_BASE) $(PC_CFLAGS) $(FUZZ_FLAGS) -c -o $@ $<

$(FUZZ_BUILD)/libfuzzmodelc.a: $(FUZZ_LIB_OBJ)
	rm -f $@ && $(AR) rcs $@ $^

$(FUZZ_BUILD)/bin/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_BUILD)/libfuzzmodelc.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS_BASE) $(PC_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS_ALL)

fuzz: $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/bin/fuzz_%)
	FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh $(FUZZ_TARGETS)
