#!/usr/bin/env bash
# The Python binding's test suite: a venv under bindings/python/.venv,
# the package installed into it (non-editable, so the library bundled inside
# the installed package is the one tested), pytest against the emulator.
#
#   bindings/python/run_tests.sh [pytest arguments...]
#
# Environment:
#   ONEDRIVE_NATIVE_LIB  a built libonedrive_native.so to bundle instead of
#                        letting the package build run `cargo build --release`
#                        (faster when one is at hand, e.g. target/debug's).
#                        Used for the install only: the tests load the bundled copy.
#   ONEDRIVE_EMULATOR    the emulator binary; default <target>/debug/onedrive-emulator,
#                        built here with `cargo build -p onedrive-emulator`.
#   CARGO_TARGET_DIR     honoured, as by cargo.
#   PYTHON               the interpreter for the venv (default python3).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
PYTHON=${PYTHON:-python3}
CARGO=${CARGO:-cargo}
venv=$here/.venv

command -v "$PYTHON" >/dev/null || { echo "run_tests.sh: $PYTHON not found (apt-get install python3)" >&2; exit 1; }

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import pip' 2>/dev/null; then
  rm -rf "$venv"
  if ! "$PYTHON" -m venv "$venv" >/dev/null 2>&1; then
    rm -rf "$venv"  # a failed venv (no ensurepip) leaves a half-made directory
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "run_tests.sh: python3 -m venv failed; installing python3-venv" >&2
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      "$PYTHON" -m venv "$venv"
    else
      echo "run_tests.sh: '$PYTHON -m venv' failed: install python3-venv (apt-get install python3-venv)" >&2
      exit 1
    fi
  fi
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install pytest

if [ -z "${ONEDRIVE_EMULATOR:-}" ]; then
  echo "run_tests.sh: cargo build -p onedrive-emulator" >&2
  "$CARGO" build -q -p onedrive-emulator --manifest-path "$repo/Cargo.toml"
fi

if [ -n "${ONEDRIVE_NATIVE_LIB:-}" ]; then
  echo "run_tests.sh: installing the package with the prebuilt $ONEDRIVE_NATIVE_LIB" >&2
else
  echo "run_tests.sh: installing the package (its build runs cargo build --release)" >&2
fi
rm -rf "$here/build"  # no stale files from an earlier build
"${pip[@]}" install --force-reinstall --no-deps "$here"
rm -rf "$here/build" "$here"/*.egg-info

# The tests load the library bundled in the installed package, not an override;
# run from tests/ so the source tree's onedrive_native is not on sys.path.
cd "$here/tests"
# ONEDRIVE_NATIVE_EXPECT_UNDER: test_version_check.py checks that the package
# under test is the one installed in the venv.
exec env -u ONEDRIVE_NATIVE_LIB -u PYTHONPATH ONEDRIVE_NATIVE_EXPECT_UNDER="$venv" "$venv/bin/pytest" "$@"
