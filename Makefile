# nemori: build, run and test.
#
#   make setup      install Debian packages and fetch DuckDB (scripts/setup.sh; root, idempotent)
#   make build      configure and build in build/ (RelWithDebInfo, Ninja)
#   make run        setup (unless done) + build the `nemori` command only, then the demo
#                   (scripts/run-demo.sh); extra args: ARGS="..."
#   make test       setup + build + ctest, a bounded fuzz run (scripts/fuzz.sh, FUZZ_SECONDS=60
#                   in build-fuzz/), then the tests again under ASan+UBSan in build-asan/
#   make test-fast  setup + build + ctest, no sanitizer build
#   make format     clang-format -i on our sources
#   make crash-test the crash harness with 50 kills per command (CRASH_KILLS=N to change)
#   make fuzz       only the fuzz run (FUZZ_SECONDS=600 make fuzz for a longer one)
#   make clean      remove build/, build-asan/ and build-fuzz/ (distclean also removes third_party/)
#
# The tests get a throwaway PostgreSQL server (scripts/pg-test-server.sh) whose URL is exported
# as NEMORI_TEST_POSTGRES_URL (and POSTGRESQL_TEST_URL); set NEMORI_TEST_POSTGRES_URL yourself
# to use another server instead.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build

JOBS ?= 2
BUILD_TYPE ?= RelWithDebInfo
ASAN_BUILD_TYPE ?= RelWithDebInfo
# Optimisation and debug info of the sanitizer build: -O1 -g1 (line tables, enough for the
# sanitizers' stack traces) compiles about 1.8x faster than -O2 -g on this code.
ASAN_CXX_FLAGS ?= -O1 -g1 -DNDEBUG
CMAKE_ARGS ?=
# Seconds of fuzzing in `make test` (all targets together; scripts/fuzz.sh).
FUZZ_SECONDS ?= 60
ARGS ?=

CTEST := ctest --output-on-failure -j$(JOBS)
FORMAT_DIRS := $(wildcard include src apps tests bench examples)

# Sanitizer run-time options for the ASan+UBSan test run.
ASAN_ENV := ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=1 \
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# $(call with_pg,COMMANDS): run COMMANDS with a throwaway PostgreSQL server, stopped afterwards
# (keep $(MAKE) out of COMMANDS, or `make -n` would start a server).
define with_pg
if [[ -z "$${NEMORI_TEST_POSTGRES_URL:-}" ]]; then \
  pgdir="$$(mktemp -d /tmp/nemori-pg.XXXXXX)"; \
  trap 'scripts/pg-test-server.sh stop "$$pgdir"' EXIT; \
  NEMORI_TEST_POSTGRES_URL="$$(scripts/pg-test-server.sh start "$$pgdir")"; \
  echo "test PostgreSQL server: $$NEMORI_TEST_POSTGRES_URL"; \
fi; \
export NEMORI_TEST_POSTGRES_URL; \
export POSTGRESQL_TEST_URL="$${POSTGRESQL_TEST_URL:-$$NEMORI_TEST_POSTGRES_URL}"; \
$(1)
endef

.PHONY: all setup build build-asan run test test-fast crash-test fuzz format format-check clean distclean

all: build

setup:
	scripts/setup.sh

build:
	cmake -G Ninja -S . -B build -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS)
	cmake --build build -j$(JOBS)

build-asan:
	cmake -G Ninja -S . -B build-asan -DCMAKE_BUILD_TYPE=$(ASAN_BUILD_TYPE) \
	  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$(ASAN_CXX_FLAGS)" \
	  -DNEMORI_SANITIZE=ON -DNEMORI_BUILD_BENCH=OFF $(CMAKE_ARGS)
	cmake --build build-asan -j$(JOBS)

# `make run` builds only the `nemori` command the demo needs (not the tests), and runs
# scripts/setup.sh only when it has never completed here: the DuckDB stamp it writes last says
# it did (`bash scripts/setup.sh && make run` runs it once; `make setup` runs it again).
SETUP_STAMP := third_party/duckdb/.stamp
run:
	@if [[ ! -f $(SETUP_STAMP) ]]; then scripts/setup.sh; fi
	cmake -G Ninja -S . -B build -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS)
	cmake --build build -j$(JOBS) --target nemori
	scripts/run-demo.sh $(ARGS)

# Sub-makes keep the order setup -> build -> test even under `make -j`.
test-fast: setup
	@$(MAKE) --no-print-directory build
	$(call with_pg,$(CTEST) --test-dir build)

# The sanitizer build starts only once the plain tests and the fuzz run pass.
test: setup
	@$(MAKE) --no-print-directory build
	$(call with_pg,$(CTEST) --test-dir build)
	scripts/fuzz.sh $(FUZZ_SECONDS)
	@$(MAKE) --no-print-directory build-asan
	$(call with_pg,$(ASAN_ENV) NEMORI_CRASH_KILLS=1 $(CTEST) --test-dir build-asan)

# The crash harness alone, with many kills per command (tests/crash/, docs/duckdb.md).
CRASH_KILLS ?= 50
crash-test: setup
	@$(MAKE) --no-print-directory build
	$(call with_pg,NEMORI_CRASH_KILLS=$(CRASH_KILLS) build/tests/nemori_crash_tests)

fuzz: setup
	@$(MAKE) --no-print-directory build
	scripts/fuzz.sh $(FUZZ_SECONDS)

format:
	@if [[ -n "$(FORMAT_DIRS)" ]]; then \
	  find $(FORMAT_DIRS) -type f \( -name '*.h' -o -name '*.cpp' \) -print0 | xargs -0 -r clang-format -i; \
	fi

# Fails (and lists the files) when something is not formatted.
format-check:
	@if [[ -n "$(FORMAT_DIRS)" ]]; then \
	  find $(FORMAT_DIRS) -type f \( -name '*.h' -o -name '*.cpp' \) -print0 | \
	    xargs -0 -r clang-format --dry-run -Werror; \
	fi

clean:
	rm -rf build build-asan build-fuzz

distclean: clean
	rm -rf third_party
