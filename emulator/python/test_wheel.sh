#!/usr/bin/env bash
# The onedrive-emulator wheel as a user gets it: a fresh venv, the wheel
# installed with no Rust toolchain on PATH, then emulator/python/tests run
# twice from outside the checkout: without onedrive_native (the client
# fixture hands out the connection settings), and with it importable (from
# bindings/python with ONEDRIVE_NATIVE_LIB, when given: the fixture hands out
# a configured onedrive_native.Client).
#
#   emulator/python/test_wheel.sh WHEEL [NATIVE_LIB]
#
# PYTHON: the interpreter for the venv (default python3).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
die() { echo "emulator test_wheel.sh: $*" >&2; exit 1; }

[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: test_wheel.sh WHEEL [NATIVE_LIB]"
whl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ -f "$whl" ] || die "no wheel at $whl"
native_lib=${2:-}
[ -z "$native_lib" ] || [ -f "$native_lib" ] || die "no library at $native_lib"
python=$(command -v "${PYTHON:-python3}") || die "${PYTHON:-python3} not found"
python=$("$python" -c 'import sys; print(sys.executable)')

# PATH without any directory that holds cargo or rustc (~/.cargo/bin).
clean_path=
IFS=: read -ra dirs <<<"$PATH"
for d in "${dirs[@]}"; do
  [ -n "$d" ] && [ ! -e "$d/cargo" ] && [ ! -e "$d/rustc" ] && clean_path=${clean_path:+$clean_path:}$d
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
venv=$work/venv
"$python" -m venv "$venv" || die "'$python -m venv' failed (apt-get install python3-venv)"
run() {  # the clean PATH, nothing of the checkout or of an emulator elsewhere
  env -u ONEDRIVE_EMULATOR_BIN -u ONEDRIVE_EMULATOR -u ONEDRIVE_NATIVE_LIB -u PYTHONPATH -u CARGO \
    PATH="$venv/bin:$clean_path" "$@"
}
run sh -c '! command -v cargo && ! command -v rustc' >/dev/null || die "cargo is still on the PATH the test uses"

echo "emulator test_wheel.sh: installing $(basename "$whl") into a fresh venv (no cargo on PATH)" >&2
run "$venv/bin/python" -m pip --disable-pip-version-check -q install pytest
run "$venv/bin/python" -m pip --disable-pip-version-check -q install --no-index --no-deps "$whl"

cd "$work"  # neither the checkout nor emulator/python on sys.path
where=$(run "$venv/bin/python" -c 'import onedrive_emulator as e; print(e.__file__); print(e.binary_path())')
echo "$where" | sed 's/^/emulator test_wheel.sh: /' >&2
case "$where" in "$venv"/*) ;; *) die "onedrive_emulator was not imported from the venv: $where" ;; esac
run "$venv/bin/onedrive-emulator" --help >/dev/null || die "the console script failed"

pytest=("$venv/bin/python" -m pytest -p no:cacheprovider --rootdir "$here" -c "$here/pyproject.toml" -q -rfs "$here/tests")
echo "emulator test_wheel.sh: pytest without onedrive_native" >&2
run env EXPECT_ONEDRIVE_NATIVE=0 "${pytest[@]}"
if [ -n "$native_lib" ]; then
  echo "emulator test_wheel.sh: pytest with onedrive_native (bindings/python, $native_lib)" >&2
  run env EXPECT_ONEDRIVE_NATIVE=1 PYTHONPATH="$repo/bindings/python" ONEDRIVE_NATIVE_LIB="$native_lib" "${pytest[@]}"
fi
