# onedrive-native: build, demo, test (every language), lint.
#   make demo   the four operations against the embedded emulator
#   make test   every test: Rust, C (under valgrind), header drift
SHELL := /bin/bash
CARGO ?= cargo
PROFILE_DIR := target/debug
LIB_A := $(PROFILE_DIR)/libonedrive_native.a
EMULATOR := $(PROFILE_DIR)/onedrive-emulator
# From `cargo rustc --lib --crate-type staticlib -- --print native-static-libs`
# on Linux; see the README for other platforms.
NATIVE_LIBS := -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
CFLAGS_STRICT := -std=c11 -Wall -Wextra -Werror -pedantic -g -Iinclude
CXXFLAGS_STRICT := -std=c++17 -Wall -Wextra -Werror -pedantic -g -Iinclude
C_BUILD := tests/c/build

.PHONY: all build demo demo-c test test-rust test-c header-check lint deps clean

all: build

build:
	$(CARGO) build --workspace --all-targets

demo:
	$(CARGO) run --quiet --example demo

# The C quickstart against a standalone emulator.
demo-c: build | $(C_BUILD)
	gcc $(CFLAGS_STRICT) examples/quickstart.c $(LIB_A) $(NATIVE_LIBS) -o $(C_BUILD)/quickstart
	VALGRIND=0 tests/c/run.sh $(EMULATOR) $(C_BUILD)/quickstart

deps:
	@bash .ci/deps.sh

test: deps build header-check test-rust test-c
	@echo "make test: all suites passed"

# The committed header must equal the one build.rs just wrote.
header-check: build
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
	  git diff --exit-code --stat -- include/onedrive.h || \
	  { echo "include/onedrive.h differs from the header build.rs generates: commit the fresh one" >&2; exit 1; }; \
	fi

test-rust:
	$(CARGO) test --workspace

$(C_BUILD):
	mkdir -p $@

test-c: build | $(C_BUILD)
	gcc $(CFLAGS_STRICT) -fsyntax-only -x c include/onedrive.h
	g++ $(CXXFLAGS_STRICT) tests/c/header_cpp.cpp $(LIB_A) $(NATIVE_LIBS) -o $(C_BUILD)/header_cpp
	$(C_BUILD)/header_cpp
	gcc $(CFLAGS_STRICT) tests/c/test_api.c $(LIB_A) $(NATIVE_LIBS) -o $(C_BUILD)/test_api
	tests/c/run.sh $(EMULATOR) $(C_BUILD)/test_api
	gcc $(CFLAGS_STRICT) examples/quickstart.c $(LIB_A) $(NATIVE_LIBS) -o $(C_BUILD)/quickstart
	tests/c/run.sh $(EMULATOR) $(C_BUILD)/quickstart

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

clean:
	$(CARGO) clean
	rm -rf $(C_BUILD)
