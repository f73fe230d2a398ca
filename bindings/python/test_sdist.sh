#!/usr/bin/env bash
# The sdist builds from itself: copied into a temporary directory outside
# the repository, installed with `pip install onedrive_native-X.tar.gz` into
# a fresh venv (pip's isolated build: setuptools from PyPI; setup.py runs
# `cargo build --release --locked` on the crate inside the sdist, in its
# own target directory), then the Python suite against that installed
# package, run as test_wheel.sh runs it.
#
#   bindings/python/test_sdist.sh SDIST [pytest arguments...]
#
# Environment: ONEDRIVE_EMULATOR (default <target>/debug/onedrive-emulator),
# PYTHON (default python3). cargo must be on PATH.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
die() { echo "test_sdist.sh: $*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: test_sdist.sh SDIST [pytest arguments...]"
sdist=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
[ -f "$sdist" ] || die "no sdist at $sdist"
emulator=${ONEDRIVE_EMULATOR:-${CARGO_TARGET_DIR:-$repo/target}/debug/onedrive-emulator}
[ -x "$emulator" ] || die "no emulator at $emulator (cargo build -p onedrive-emulator)"
command -v cargo >/dev/null || die "cargo is not on PATH: the sdist builds the library with it"
python=$("${PYTHON:-python3}" -c 'import sys; print(sys.executable)')

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
case "$work/" in "$repo"/*) die "the temporary directory $work is inside the repository" ;; esac
cp "$sdist" "$work/"
cd "$work"
"$python" -m venv venv || die "'$python -m venv' failed (apt-get install python3-venv)"
pip=(env -u ONEDRIVE_NATIVE_LIB -u PYTHONPATH -u CARGO_TARGET_DIR venv/bin/python -m pip --disable-pip-version-check)

echo "test_sdist.sh: pip install $(basename "$sdist") in $work (one release build)" >&2
start=$SECONDS
# --no-cache-dir: built now, not a wheel pip kept from an earlier run.
if ! "${pip[@]}" install -v --no-cache-dir "$work/$(basename "$sdist")" >"$work/pip.log" 2>&1; then
  tail -60 "$work/pip.log" >&2
  die "pip install $(basename "$sdist") failed"
fi
echo "test_sdist.sh: built and installed in $((SECONDS - start)) s" >&2
# setup.py built the crate shipped in the sdist, with its Cargo.lock as is.
grep -E "onedrive-native: .*cargo build .*--manifest-path [^ ]*/rust/Cargo.toml .*--locked" "$work/pip.log" >&2 || {
  grep -E "onedrive-native:|cargo" "$work/pip.log" | tail -20 >&2
  die "the build did not run cargo on the sdist's rust/Cargo.toml with --locked (its lines above)"
}
"${pip[@]}" -q install pytest

# The library came from the sdist's build, not from the workspace's target.
venv/bin/python - "$work" "$repo" <<'EOF'
import sys
from pathlib import Path
import onedrive_native as od
work, repo = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
pkg = Path(od.__file__).resolve().parent
assert pkg.is_relative_to(work / "venv"), pkg
assert Path(od.library_path()).resolve() == pkg / "libonedrive_native.so", od.library_path()
assert od.native_version() == od.__version__ == od._ffi.expected_version(), (od.native_version(), od.__version__)
print(f"test_sdist.sh: onedrive_native {od.__version__} from {pkg}", file=sys.stderr)
EOF

env -u ONEDRIVE_NATIVE_LIB -u ONEDRIVE_NATIVE_SKIP_VERSION_CHECK -u PYTHONPATH \
  ONEDRIVE_EMULATOR="$emulator" ONEDRIVE_NATIVE_EXPECT_UNDER="$work/venv" \
  venv/bin/python -m pytest -p no:cacheprovider --rootdir "$here" -c "$here/pyproject.toml" "$here/tests" "$@"
