# Amparo — build, run and test.  `make run` and `make test` are the two commands
# the README promises; everything else here serves them.

CC      ?= gcc
BUILD   ?= build
SAN     ?=
PKGS    := libmicrohttpd jansson libsodium sqlite3 liboath libqrencode icu-uc icu-i18n xlsxwriter libxml-2.0
DATA    ?= data
LISTEN  ?= 127.0.0.1:8080
DEMO_CASES ?= 5000

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-unused-parameter -Wno-missing-field-initializers -Werror
CFLAGS  ?= -O2 -g
CFLAGS  += $(EXTRA_CFLAGS)
CFLAGS  += -std=c11 -D_GNU_SOURCE -pthread -Isrc $(WARN) $(PKG_CFLAGS)
LDLIBS  += $(PKG_LIBS) -lcsv -pthread -lm

ifeq ($(SAN),1)
BUILD   := build-asan
CFLAGS  := $(filter-out -O2,$(CFLAGS)) -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRC := $(filter-out src/cli/main.c,$(wildcard src/*/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/src/embed.o
# The web UI (web/) is compiled in as well: tools/gen-ui-assets.py writes its
# files as C arrays, with gzip copies and ETags (served by src/http/routes_ui.c).
UI_FILES := $(shell find web -type f ! -name '*.md' 2>/dev/null)
LIB_OBJ += $(BUILD)/gen/ui_assets.o
BIN     := $(BUILD)/amparo
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
E2E_SRC  := $(wildcard tests/e2e/e2e_*.c)
E2E_BIN  := $(E2E_SRC:tests/e2e/%.c=$(BUILD)/tests/%)
FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)

.PHONY: all run serve-demo test test-unit test-e2e test-asan test-tsan fuzz deps demo clean format check-format bench bench-seal test-browser ui-size
all: $(BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo '  CC      $<'
	@$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# The field catalogue and the OpenAPI document are compiled into the binary.
$(BUILD)/src/embed.o: src/embed.S schema/catalogue.json docs/openapi.yaml schema/referrals.json \
                     schema/care-picklists.json schema/reintegration-indicators.json
	@mkdir -p $(dir $@)
	$(CC) -c $< -o $@

$(BUILD)/gen/ui_assets.c: $(UI_FILES) tools/gen-ui-assets.py
	@mkdir -p $(dir $@)
	@echo '  GEN     $@'
	@python3 tools/gen-ui-assets.py web $@

$(BUILD)/gen/ui_assets.o: $(BUILD)/gen/ui_assets.c src/http/ui_assets.h
	@echo '  CC      $<'
	@$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libamparo.a: $(LIB_OBJ)
	@ar rcs $@ $^

# The whole archive: modules are found through weak references (route and
# command tables), which alone would not pull their objects out of the archive.
$(BIN): $(BUILD)/src/cli/main.o $(BUILD)/libamparo.a
	$(CC) $(LDFLAGS) -o $@ $(BUILD)/src/cli/main.o -Wl,--whole-archive $(BUILD)/libamparo.a -Wl,--no-whole-archive $(LDLIBS)

$(BUILD)/tests/test_%: tests/unit/test_%.c $(BUILD)/libamparo.a $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(BUILD)/libamparo.a $(LDLIBS) -lcmocka

$(BUILD)/tests/e2e_%: tests/e2e/e2e_%.c $(BUILD)/libamparo.a tests/unit/testutil.h $(wildcard tests/e2e/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -Itests/e2e $(LDFLAGS) -o $@ $< $(BUILD)/libamparo.a $(LDLIBS) -lcmocka -lcurl

# ---- the two commands -------------------------------------------------------
# Packages first, then a fresh make that sees them (pkg-config and flags included).
run: deps
	@$(MAKE) --no-print-directory serve-demo

# The demo admin's password: AMPARO_ADMIN_PASSWORD, else "amparo-admin-2026"
# (a laptop demo only; `amparo init` alone generates one).
serve-demo: $(BIN)
	@if [ ! -f $(DATA)/amparo.db ]; then \
	  AMPARO_ADMIN_PASSWORD=$${AMPARO_ADMIN_PASSWORD:-amparo-admin-2026} \
	    $(BIN) init --data $(DATA) --country EC && \
	  $(BIN) demo --data $(DATA) --cases $(DEMO_CASES) && \
	  tools/demo-users.sh $(BIN) $(DATA) && \
	  $(BIN) demo --data $(DATA) --activity; fi
	@echo "sign in at http://$(LISTEN)/ (admin: $${AMPARO_ADMIN_PASSWORD:-amparo-admin-2026})"
	$(BIN) serve --data $(DATA) --listen $(LISTEN)

# Everything: unit and end-to-end tests, the same under ASan+UBSan, fuzz smoke
# runs, browser tests, the format check.
test: deps
	@tests/run-all.sh

test-unit: $(BIN) $(UNIT_BIN)
	@tests/run.sh $(BUILD) unit

test-e2e: $(BIN) $(E2E_BIN)
	@tests/run.sh $(BUILD) e2e

test-asan:
	@$(MAKE) --no-print-directory SAN=1 test-unit test-e2e

# ThreadSanitizer, on demand (not in `make test`); tests/tsan.supp says what is
# left out and why.
test-tsan:
	@TSAN_OPTIONS="halt_on_error=1 report_signal_unsafe=0 suppressions=$(CURDIR)/tests/tsan.supp" \
	  $(MAKE) --no-print-directory BUILD=build-tsan EXTRA_CFLAGS="-fsanitize=thread -O1" \
	  LDFLAGS=-fsanitize=thread test-unit test-e2e

fuzz:
	@tests/fuzz-smoke.sh

deps:
	@tools/install-deps.sh

# Browser tests of the web UI (Debian's chromium driven by playwright-core).
test-browser: $(BIN)
	@tests/browser/run.sh $(BUILD)

# The web UI's JS + CSS, raw and gzipped (the budget is 200 KB gzipped).
ui-size:
	@tools/ui-size.sh

bench: $(BIN)
	@bench/run.sh

# The cost of encryption at rest per document and per case read (bench/seal.c).
$(BUILD)/bench/seal: bench/seal.c $(BUILD)/libamparo.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libamparo.a $(LDLIBS)

bench-seal: $(BUILD)/bench/seal
	@$(BUILD)/bench/seal

format:
	clang-format -i src/*/*.c src/*/*.h tests/*/*.c tests/*/*.h fuzz/*.c

check-format:
	clang-format --dry-run --Werror src/*/*.c src/*/*.h tests/*/*.c tests/*/*.h fuzz/*.c

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
