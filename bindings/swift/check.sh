#!/usr/bin/env bash
# The Swift binding's checks, as far as a machine without a Swift compiler
# allows (see README.md): every .swift file of the package parses with
# tree-sitter-swift (no ERROR / MISSING node); checked against
# include/onedrive.abi.json (tools/abi.py): every header function is called,
# every call has the header's arity and argument kinds, every enum value is
# mapped and none is left over; the module map reaches the header; calls of
# the binding's own API fit its declarations (labels); the README's Swift
# blocks are parsed and checked like files. A self-test first plants each
# kind of fault and fails unless the checker catches it. build-xcframework.sh is syntax-checked (bash -n).
#
#   bindings/swift/check.sh
#
# Needs python3 with venv; installs tree-sitter and tree-sitter-swift from
# PyPI into bindings/swift/.venv (and python3-venv with apt-get when missing
# and running as root).
# Environment: PYTHON (default python3), ONEDRIVE_ABI (default
# <repo>/include/onedrive.abi.json).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
PYTHON=${PYTHON:-python3}
venv=$here/.venv
say() { echo "swift/check.sh: $*" >&2; }
# Pinned: a newer grammar may parse differently.
REQS=(tree-sitter==0.26.1 tree-sitter-swift==0.7.4)

apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing $* (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "$@" >/dev/null
  else
    say "missing $*: run as root, or install it (apt-get install -y $*)"
    exit 1
  fi
}

command -v "$PYTHON" >/dev/null || apt_install python3 python3-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import pip' 2>/dev/null; then
  rm -rf "$venv"
  if ! "$PYTHON" -m venv "$venv" >/dev/null 2>&1; then
    rm -rf "$venv"  # a failed venv (no ensurepip) leaves a half-made directory
    apt_install python3-venv
    "$PYTHON" -m venv "$venv"
  fi
fi
if ! "$venv/bin/python" - "${REQS[@]}" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
for req in sys.argv[1:]:
    name, want = req.split("==")
    assert version(name) == want, req
import tree_sitter, tree_sitter_swift
PY
then
  say "installing ${REQS[*]} into $venv"
  "$venv/bin/python" -m pip --disable-pip-version-check -q install "${REQS[@]}"
fi

bash -n "$here/build-xcframework.sh" || { say "build-xcframework.sh has a shell syntax error"; exit 1; }
bash -n "$here/release.sh" || { say "release.sh has a shell syntax error"; exit 1; }

# release.sh on a stand-in XCFramework and a copy of the root manifest: the
# zip has COneDrive.xcframework/ at its top, the manifest gets the URL and
# the zip's SHA-256, and then passes the manifest check as a released one.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/pkg/bindings/swift/Sources/OneDriveNative" "$tmp/fw/COneDrive.xcframework"
cp "$repo/Package.swift" "$tmp/pkg/Package.swift"
echo '<plist/>' >"$tmp/fw/COneDrive.xcframework/Info.plist"
url=https://example.com/onedrive-native/releases/v0.0.0-test/COneDrive.xcframework.zip
"$here/release.sh" --url "$url" --xcframework "$tmp/fw/COneDrive.xcframework" --out "$tmp/out" \
  --manifest "$tmp/pkg/Package.swift" 2>"$tmp/release.log" || { cat "$tmp/release.log" >&2; say "release.sh failed"; exit 1; }
want=$(sha256sum "$tmp/out/COneDrive.xcframework.zip" | cut -d' ' -f1)
grep -qx "let xcframeworkChecksum = \"$want\"" "$tmp/pkg/Package.swift" \
  || { say "release.sh did not write the zip's SHA-256 $want into the manifest"; exit 1; }
grep -qxF "let xcframeworkURL = \"$url\"" "$tmp/pkg/Package.swift" || { say "release.sh did not write the URL"; exit 1; }
unzip -Z1 "$tmp/out/COneDrive.xcframework.zip" | grep -qx 'COneDrive.xcframework/Info.plist' \
  || { say "the release zip does not hold COneDrive.xcframework/ at its top"; exit 1; }
"$venv/bin/python" "$here/check_swift.py" --root "$here" --manifest "$tmp/pkg/Package.swift" --manifest-only
say "release.sh: a stand-in release wrote url and checksum $want; the released manifest passes"

abi=${ONEDRIVE_ABI:-$repo/include/onedrive.abi.json}
"$venv/bin/python" "$here/check_swift.py" --root "$here" --abi "$abi"
