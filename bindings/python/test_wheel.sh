#!/usr/bin/env bash
# The Python suite against an installed wheel, as a user gets it: a fresh
# venv, the wheel installed with no Rust toolchain on PATH, and pytest run
# from outside the checkout so that `import onedrive_native` finds the
# installed package (the suite asserts it: test_version_check.py).
#
#   bindings/python/test_wheel.sh WHEEL [pytest arguments...]
#
# Environment:
#   ONEDRIVE_EMULATOR  the emulator binary (default <target>/debug/onedrive-emulator,
#                      which must exist: nothing is built here)
#   PYTHON             the interpreter for the venv (default python3)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
die() { echo "test_wheel.sh: $*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: test_wheel.sh WHEEL [pytest arguments...]"
whl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
[ -f "$whl" ] || die "no wheel at $whl"
emulator=${ONEDRIVE_EMULATOR:-${CARGO_TARGET_DIR:-$repo/target}/debug/onedrive-emulator}
[ -x "$emulator" ] || die "no emulator at $emulator (cargo build -p onedrive-emulator)"
python=$(command -v "${PYTHON:-python3}") || die "${PYTHON:-python3} not found"
# The interpreter itself, not a shim (pyenv's resolve through PATH).
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

run() {  # a command with the clean PATH, no cargo, no override of the library
  env -u ONEDRIVE_NATIVE_LIB -u ONEDRIVE_NATIVE_SKIP_VERSION_CHECK -u PYTHONPATH -u CARGO -u RUSTUP_TOOLCHAIN \
    PATH="$venv/bin:$clean_path" "$@"
}
if run sh -c 'command -v cargo || command -v rustc'; then
  die "cargo is still on the PATH the test uses"
fi

echo "test_wheel.sh: installing $(basename "$whl") into a fresh venv (no cargo on PATH)" >&2
run "$venv/bin/python" -m pip --disable-pip-version-check -q install pytest
# --no-index: the wheel as it is, nothing built or fetched for it.
run "$venv/bin/python" -m pip --disable-pip-version-check -q install --no-index --no-deps "$whl"

# From an empty directory: neither the checkout nor its tests' folder is on
# sys.path for the import below; pytest puts only bindings/python/tests (no
# __init__.py) first, which holds no onedrive_native.
cd "$work"
where=$(run "$venv/bin/python" -c 'import onedrive_native as od; print(od.__file__); print(od.library_path()); print(od.native_version())')
echo "$where" | sed 's/^/test_wheel.sh: /' >&2
case "$(head -1 <<<"$where")" in
"$venv"/*) ;;
*) die "onedrive_native was imported from $(head -1 <<<"$where"), not from the venv $venv" ;;
esac

run env ONEDRIVE_EMULATOR="$emulator" ONEDRIVE_NATIVE_EXPECT_UNDER="$venv" \
  "$venv/bin/python" -m pytest -p no:cacheprovider --rootdir "$here" -c "$here/pyproject.toml" "$here/tests" "$@"
