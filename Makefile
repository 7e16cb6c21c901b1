# modelc: build, configure, test. Knobs live in config.mk.
include config.mk

VERSION = 0.1.0
BUILD  = build$(if $(filter 1,$(SAN)),/san)
BIN    = $(BUILD)/bin

LIBS_PC = yaml-0.1 libcurl libsodium libcrypto jansson

# The libraries are looked up only when a recipe needs them, so that `make config` can install
# them first (scripts/deps.sh) and build in a sub-make; a module pkg-config cannot find stops
# the build with its name instead of linking with nothing.
pc_missing = $(strip $(foreach m,$(1),$(if $(shell $(PKG_CONFIG) --exists $(m) 2>/dev/null && echo y),,$(m))))
pc_query = $(if $(call pc_missing,$(2)),$(error pkg-config finds no $(call pc_missing,$(2)): \
	run 'make deps' to install them (or set PKG_CONFIG_PATH)),$(shell $(PKG_CONFIG) $(1) $(2)))
PC_CFLAGS = $(eval PC_CFLAGS := $(call pc_query,--cflags,$(LIBS_PC)))$(PC_CFLAGS)
PC_LIBS = $(eval PC_LIBS := $(call pc_query,--libs,$(LIBS_PC)))$(PC_LIBS)
CUNIT_LIBS = $(eval CUNIT_LIBS := $(call pc_query,--libs,cunit))$(CUNIT_LIBS)

# The layers (docs/architecture.md): each folder and the folders its code may include besides
# its own. An object is compiled with exactly these include paths, and scripts/check-layers.sh
# refuses includes by relative path, so an include that breaks the rule fails the build.
LAYERS = common hub sign compiler runtime/http runtime/switch runtime/proxy runtime/fetch runtime/bench
SEES_common         =
SEES_hub            = common
SEES_sign           = common
SEES_compiler       = common hub sign
SEES_runtime/http   = common
SEES_runtime/switch = common runtime/http
SEES_runtime/proxy  = common runtime/http runtime/switch
SEES_runtime/fetch  = common hub sign
SEES_runtime/bench  = common
layer_inc = $(addprefix -I,$(1) $(SEES_$(1)))

WARN     = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
SANFLAGS_1 = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
SANFLAGS = $(if $(filter 1,$(SAN)),$(SANFLAGS_1))
CPPFLAGS_BASE = -std=c11 -D_POSIX_C_SOURCE=200809L -DMODELC_VERSION='"$(VERSION)"' \
	-DMODELC_DATADIR='"$(PREFIX)/share/modelc"'
CFLAGS  ?= -O2 -g
ALL_CFLAGS = $(CPPFLAGS_BASE) $(WARN) $(CFLAGS) $(SANFLAGS) $(PC_CFLAGS) -MMD -MP
LDLIBS_ALL = $(PC_LIBS) -lm
# Tests and fuzz targets are no layer: they see every folder.
TEST_INC = $(addprefix -I,$(LAYERS))

# One archive per layer; each program's main.c stays out of it so that tests link the modules.
layer_lib = $(BUILD)/lib/lib$(notdir $(1)).a
layer_src = $(filter-out $(1)/main.c,$(wildcard $(1)/*.c))
LIB_SRC = $(foreach l,$(LAYERS),$(call layer_src,$(l)))
LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB_COMMON   = $(call layer_lib,common)
LIB_HUB      = $(call layer_lib,hub)
LIB_COMPILER = $(call layer_lib,compiler)
LIB_HTTP     = $(call layer_lib,runtime/http)
LIB_SWITCH   = $(call layer_lib,runtime/switch)
LIB_FETCH    = $(call layer_lib,runtime/fetch)
LIB_BENCH    = $(call layer_lib,runtime/bench)
UNIT_SRC     = $(wildcard tests/unit/test_*.c)

PROGRAMS = $(BIN)/modelc $(BIN)/fetch $(BIN)/bench

CATALOG ?= models.yaml
GENERATED ?= generated

.PHONY: all config configure test check test-deps check-unit check-golden check-integration bench fuzz \
	install clean deps print-layers print-layer-flags
all: $(PROGRAMS)

$(BUILD)/layers.ok: scripts/check-layers.sh $(foreach l,$(LAYERS),$(wildcard $(l)/*.[ch]))
	@mkdir -p $(dir $@)
	@sh scripts/check-layers.sh $(foreach l,$(LAYERS),'$(l):$(SEES_$(l))') && touch $@

$(BUILD)/%.o: %.c | $(BUILD)/layers.ok
	@mkdir -p $(dir $@)
	$(CC) $(call layer_inc,$(<D)) $(ALL_CFLAGS) -c -o $@ $<

$(foreach l,$(LAYERS),$(eval $(call layer_lib,$(l)): $(patsubst %.c,$(BUILD)/%.o,$(call layer_src,$(l)))))
$(BUILD)/lib/%.a:
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

# Link order: a layer before the layers it sees.
$(BIN)/modelc: $(BUILD)/compiler/main.o $(LIB_COMPILER) $(LIB_HUB) $(call layer_lib,sign) $(LIB_COMMON)
$(BIN)/fetch: $(BUILD)/runtime/fetch/main.o $(LIB_FETCH) $(LIB_HUB) $(call layer_lib,sign) $(LIB_COMMON)
$(BIN)/bench: $(BUILD)/runtime/bench/main.o $(LIB_BENCH) $(LIB_COMMON)
$(PROGRAMS):
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS_ALL)

# The rule as check-layers.sh takes it, and which include paths a folder's code gets
# (tests/integration/test_layers.sh checks with both).
print-layers:
	@echo "$(foreach l,$(LAYERS),'$(l):$(SEES_$(l))')"
print-layer-flags:
	@echo $(call layer_inc,$(DIR))

# switch: static, stripped, libc only (musl). It reads the runtime table modelc writes
# ($(GENERATED)/switch.table) when it runs, so a new modelc build needs no new switch.
# SWITCH_OUT=... builds a copy elsewhere; musl objects never mix with glibc ones.
MUSL_BUILD = $(BUILD)/musl
SWITCH_OUT ?= $(BIN)/switch
# -flto: whole-program size optimisation (about 1 KiB); common-page-size=16: ld would otherwise
# pad the file up to the next 4 KiB page before the data segment whenever that saves a page of RAM;
# -fno-builtin-printf: gcc would turn printf("...\n") into puts, which links puts as well;
# -fno-inline-small-functions -fno-ipa-sra: 128 bytes less at -Oz (measured one by one; most
# other flags, -fno-stack-protector and -fmerge-all-constants included, change nothing).
MUSL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -DMODELC_VERSION='"$(VERSION)"' \
	$(WARN) -Oz -flto -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables -fno-pie \
	-fno-builtin-printf -fno-builtin-fprintf -fno-inline-small-functions -fno-ipa-sra
MUSL_LAYERS = common runtime/http runtime/switch
MUSL_OBJ = $(patsubst %.c,$(MUSL_BUILD)/%.o,$(foreach l,$(MUSL_LAYERS),$(wildcard $(l)/*.c)))

$(MUSL_BUILD)/%.o: %.c | $(BUILD)/layers.ok
	@mkdir -p $(dir $@)
	$(MUSLCC) $(call layer_inc,$(<D)) $(MUSL_CFLAGS) -MMD -MP -c -o $@ $<

# switch-host beside switch: serve, doctor and gpu (what runs once per launch or diagnosis), which
# switch execs from its own folder; runtime/switch/main.c compiled with -DSWITCH_HOST. Building
# switch builds its sibling, so that neither is ever installed or tested without the other.
SWITCH_HOST_OUT ?= $(dir $(SWITCH_OUT))switch-host
MUSL_HOST_MAIN = $(MUSL_BUILD)/runtime/switch/main-host.o
MUSL_HOST_OBJ = $(filter-out $(MUSL_BUILD)/runtime/switch/main.o,$(MUSL_OBJ)) $(MUSL_HOST_MAIN)

$(MUSL_HOST_MAIN): runtime/switch/main.c | $(BUILD)/layers.ok
	@mkdir -p $(dir $@)
	$(MUSLCC) $(call layer_inc,runtime/switch) $(MUSL_CFLAGS) -DSWITCH_HOST -MMD -MP -c -o $@ $<

# musl_link OUT,OBJECTS
define musl_link
	@mkdir -p $(dir $(1))
	$(MUSLCC) $(MUSL_CFLAGS) -static -s -Wl,--gc-sections -Wl,-z,noseparate-code -Wl,-z,norelro \
	    -Wl,-z,common-page-size=16 -o $(1).tmp $(2)
	sh scripts/elf-noshdr.sh $(1).tmp
	mv -f $(1).tmp $(1)
endef

$(SWITCH_OUT): $(MUSL_OBJ) | $(SWITCH_HOST_OUT)
	$(call musl_link,$@,$(MUSL_OBJ))

$(SWITCH_HOST_OUT): $(MUSL_HOST_OBJ)
	$(call musl_link,$@,$(MUSL_HOST_OBJ))

# switch-proxy: switch's modules (launch, re-fit, table) and runtime/proxy, static like switch; a
# sibling that `switch proxy` execs, since its poll loop and routes would not fit switch's 64 KiB.
PROXY_OUT ?= $(BIN)/switch-proxy
PROXY_OBJ = $(filter-out $(MUSL_BUILD)/runtime/switch/main.o,$(MUSL_OBJ)) \
	$(patsubst %.c,$(MUSL_BUILD)/%.o,$(wildcard runtime/proxy/*.c))
$(PROXY_OUT): $(PROXY_OBJ)
	@mkdir -p $(dir $@)
	$(MUSLCC) $(MUSL_CFLAGS) -static -s -Wl,--gc-sections -o $@.tmp $(PROXY_OBJ)
	mv -f $@.tmp $@

# config and test first install what they need (scripts/deps.sh), then build in a sub-make,
# which reads this file again and finds the libraries.
config: deps
	@$(MAKE) --no-print-directory configure

configure: $(BIN)/modelc
	$(BIN)/modelc build $(CATALOG) -o $(GENERATED)
	@$(MAKE) --no-print-directory $(SWITCH_OUT) $(PROXY_OUT) all

deps:
	@sh scripts/deps.sh

test-deps:
	@sh scripts/deps.sh --test

test: test-deps
	@$(MAKE) --no-print-directory check

# In this order: the integration runner's last step compares the messages that all three printed,
# and skips when a program is newer than a record: so everything is built before the first runs.
check:
	@$(MAKE) --no-print-directory all $(BIN)/unit-tests
	@$(MAKE) --no-print-directory check-unit
	@$(MAKE) --no-print-directory check-golden
	@$(MAKE) --no-print-directory check-integration

# A sanitizer build's programs (build/san/bin) look for ../../schemas as the plain build's do.
ifeq ($(SAN),1)
all: build/schemas
build/schemas:
	@mkdir -p build && ln -sfn ../schemas $@
# Tests that preload a fault-injecting shim (test_fetch_diskfull) load it before the ASan runtime.
export ASAN_OPTIONS ?= verify_asan_link_order=0
export UBSAN_OPTIONS ?= print_stacktrace=1
# Tests that link the library themselves (emit_demo.sh, test_table_compiles.sh) run $CC: a
# compiler that adds the sanitizer flags, so they link build/san/lib/*.a.
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
$(BUILD)/tests/unit/%.o: ALL_CFLAGS += -I$(BUILD) -Itests/unit $(TEST_INC)

$(BIN)/unit-tests: $(BUILD)/tests/unit/main.o $(UNIT_SRC:%.c=$(BUILD)/%.o) $(LIB_COMPILER) $(LIB_FETCH) \
	    $(LIB_BENCH) $(LIB_SWITCH) $(LIB_HTTP) $(LIB_HUB) $(call layer_lib,sign) $(LIB_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS_ALL) $(CUNIT_LIBS)

check-unit: $(BIN)/unit-tests
	$(BIN)/unit-tests

check-golden: all
	BIN=$(abspath $(BIN)) sh tests/golden/run.sh

check-integration: all
	BIN=$(abspath $(BIN)) BUILD=$(abspath $(BUILD)) CC="$(or $(SAN_CC),$(CC))" sh tests/integration/run.sh


bench: all
	BIN=$(abspath $(BIN)) sh scripts/bench.sh

# install builds what it installs, switch and switch-host included: make install PREFIX=~/.local (README "Installing").
install: all $(SWITCH_OUT) $(SWITCH_HOST_OUT) $(PROXY_OUT)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/modelc $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(PROGRAMS) $(SWITCH_OUT) $(SWITCH_HOST_OUT) $(PROXY_OUT) $(DESTDIR)$(PREFIX)/bin/
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
FUZZ_LIB_OBJ = $(filter-out $(FUZZ_BUILD)/runtime/switch/% $(FUZZ_BUILD)/runtime/http/% $(FUZZ_BUILD)/runtime/proxy/%,$(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o))

$(FUZZ_BUILD)/%.o: %.c | $(BUILD)/layers.ok
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(call layer_inc,$(<D)) $(CPPFLAGS_BASE) $(PC_CFLAGS) $(FUZZ_FLAGS) -c -o $@ $<

$(FUZZ_BUILD)/libfuzzmodelc.a: $(FUZZ_LIB_OBJ)
	rm -f $@ && $(AR) rcs $@ $^

$(FUZZ_BUILD)/bin/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_BUILD)/libfuzzmodelc.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(TEST_INC) $(CPPFLAGS_BASE) $(PC_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS_ALL)

fuzz: $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/bin/fuzz_%)
	FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh $(FUZZ_TARGETS)
