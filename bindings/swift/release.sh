#!/usr/bin/env bash
# Cuts a release of the Swift package: COneDrive.xcframework zipped, the
# zip's SHA-256 computed (what `swift package compute-checksum` prints: the
# SHA-256 of the file, lowercase hex), and the repository's root Package.swift
# rewritten to name it (its `xcframeworkURL` and `xcframeworkChecksum`).
#
#   bindings/swift/release.sh --url https://HOST/…/v0.1.0/COneDrive.xcframework.zip
#       builds the XCFramework with build-xcframework.sh (macOS with Xcode
#       only), zips it into bindings/swift/build/COneDrive.xcframework.zip
#       and rewrites Package.swift
#   … --xcframework DIR   zips an XCFramework built before (no build)
#   … --zip FILE          takes a zip made elsewhere (a macOS CI job): no build, no zip
#   … --manifest FILE     rewrites FILE instead of the repository's Package.swift
#   … --out DIR           where the zip goes (default bindings/swift/build)
#
# Then: attach the zip to the release at exactly that URL, commit
# Package.swift, and tag that commit with the version (SwiftPM resolves
# `from: "0.1.0"` through tags). Users resolving the tag download the zip and
# SwiftPM refuses it unless its SHA-256 matches the manifest's.
#
# Needs zip (or ditto on macOS), sha256sum or shasum, python3.
# check.sh runs it on a stand-in XCFramework and a copy of the manifest.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
say() { echo "release.sh: $*" >&2; }
die() { say "$*"; exit 1; }

url="" zip_in="" xcframework="" manifest=$repo/Package.swift out=$here/build
while [ $# -gt 0 ]; do
  case $1 in
    --url) url=$2; shift 2 ;;
    --zip) zip_in=$2; shift 2 ;;
    --xcframework) xcframework=$2; shift 2 ;;
    --manifest) manifest=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (--help)" ;;
  esac
done
[ -n "$url" ] || die "--url is required: where the zip will be published (https://….zip)"
[[ $url =~ ^https://[^[:space:]\"]+\.zip$ ]] || die "--url must be an https URL ending in .zip (SwiftPM's rule): $url"
[ -f "$manifest" ] || die "no manifest at $manifest"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$repo/Cargo.toml" | head -n1)
case $url in *"$version"*) ;; *) say "warning: the URL does not name the version $version" ;; esac

sha256() {
  if command -v sha256sum >/dev/null; then sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null; then shasum -a 256 "$1" | cut -d' ' -f1
  else die "neither sha256sum nor shasum found"; fi
}

if [ -n "$zip_in" ]; then
  [ -f "$zip_in" ] || die "no zip at $zip_in"
  zip_file=$zip_in
else
  if [ -z "$xcframework" ]; then
    "$here/build-xcframework.sh"
    xcframework=$here/COneDrive.xcframework
  fi
  [ -d "$xcframework" ] || die "no XCFramework at $xcframework"
  [ "$(basename "$xcframework")" = COneDrive.xcframework ] || die "the XCFramework must be named COneDrive.xcframework (the binary target's name)"
  mkdir -p "$out"
  zip_file=$(cd "$out" && pwd)/COneDrive.xcframework.zip
  rm -f "$zip_file"
  parent=$(cd "$(dirname "$xcframework")" && pwd)
  # The zip holds COneDrive.xcframework/ at its top, as SwiftPM expects.
  if command -v ditto >/dev/null; then
    (cd "$parent" && ditto -c -k --sequesterRsrc --keepParent COneDrive.xcframework "$zip_file")
  else
    command -v zip >/dev/null || die "zip not found (apt-get install zip)"
    (cd "$parent" && zip -qry -X "$zip_file" COneDrive.xcframework)
  fi
fi

checksum=$(sha256 "$zip_file")
[[ $checksum =~ ^[0-9a-f]{64}$ ]] || die "unexpected checksum '$checksum'"

python3 - "$manifest" "$url" "$checksum" <<'PY'
import re, sys
path, url, checksum = sys.argv[1:]
text = open(path, encoding="utf-8").read()
new, n_url = re.subn(r'(?m)^(let xcframeworkURL = )"[^"]*"', lambda m: f'{m.group(1)}"{url}"', text)
new, n_sum = re.subn(r'(?m)^(let xcframeworkChecksum = )"[^"]*"', lambda m: f'{m.group(1)}"{checksum}"', new)
if (n_url, n_sum) != (1, 1):
    sys.exit(f"release.sh: {path} must hold exactly one `let xcframeworkURL = \"…\"` and one "
             f"`let xcframeworkChecksum = \"…\"` line (found {n_url}, {n_sum})")
open(path, "w", encoding="utf-8").write(new)
PY

say "zip:      $zip_file"
say "checksum: $checksum"
say "wrote both into $manifest; now attach the zip at $url, commit the manifest and tag it v$version"
