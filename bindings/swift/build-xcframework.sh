#!/usr/bin/env bash
# Builds bindings/swift/COneDrive.xcframework from the Rust static library:
#   - iOS devices:    aarch64-apple-ios
#   - iOS simulator:  aarch64-apple-ios-sim + x86_64-apple-ios (one fat library, lipo)
#   - macOS:          aarch64-apple-darwin + x86_64-apple-darwin (lipo), unless NO_MACOS=1
# each with include/onedrive.h and a module map for the `COneDrive` module.
# The root Package.swift uses the XCFramework as a binary target when it is present.
#
# IT CANNOT RUN ON THIS PROJECT'S MACHINES (Debian, no Xcode): it needs macOS
# with Xcode (xcodebuild, lipo, the iOS SDKs), rustup and cargo. Neither
# `make test` nor CI runs it; check.sh only checks its shell syntax.
#
#   bindings/swift/build-xcframework.sh            # release build
#   PROFILE=debug bindings/swift/build-xcframework.sh
#
# Environment: PROFILE (release|debug, default release), NO_MACOS=1,
# IPHONEOS_DEPLOYMENT_TARGET (default 13.0), MACOSX_DEPLOYMENT_TARGET
# (default 10.15), CARGO_TARGET_DIR (honoured).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
profile=${PROFILE:-release}
out=$here/COneDrive.xcframework
work=$here/build/xcframework
target_dir=${CARGO_TARGET_DIR:-$repo/target}
export IPHONEOS_DEPLOYMENT_TARGET=${IPHONEOS_DEPLOYMENT_TARGET:-13.0}
export MACOSX_DEPLOYMENT_TARGET=${MACOSX_DEPLOYMENT_TARGET:-10.15}

if [ "$(uname -s)" != Darwin ] || ! command -v xcodebuild >/dev/null; then
  echo "build-xcframework.sh: needs macOS with Xcode (xcodebuild); this machine has neither." >&2
  exit 1
fi
for tool in cargo rustup lipo; do
  command -v "$tool" >/dev/null || { echo "build-xcframework.sh: $tool not found" >&2; exit 1; }
done

ios=(aarch64-apple-ios)
sim=(aarch64-apple-ios-sim x86_64-apple-ios)
mac=(aarch64-apple-darwin x86_64-apple-darwin)
targets=("${ios[@]}" "${sim[@]}")
[ "${NO_MACOS:-0}" = 1 ] || targets+=("${mac[@]}")

rustup target add "${targets[@]}"

cargo_flags=()
[ "$profile" = release ] && cargo_flags+=(--release)
for t in "${targets[@]}"; do
  echo "== $t" >&2
  # Only the static library; also prints the system libraries it needs
  # (add them to the app if the linker asks: see README.md).
  (cd "$repo" && cargo rustc "${cargo_flags[@]}" --lib --crate-type staticlib --target "$t" \
      -- --print native-static-libs)
done

lib() { echo "$target_dir/$1/$profile/libonedrive_native.a"; }

rm -rf "$work" "$out"
mkdir -p "$work/headers" "$work/ios-sim" "$work/macos"
cp "$repo/include/onedrive.h" "$work/headers/"
cat >"$work/headers/module.modulemap" <<'MAP'
module COneDrive {
    header "onedrive.h"
    export *
}
MAP

lipo -create "$(lib aarch64-apple-ios-sim)" "$(lib x86_64-apple-ios)" -output "$work/ios-sim/libonedrive_native.a"
args=(-library "$(lib aarch64-apple-ios)" -headers "$work/headers"
      -library "$work/ios-sim/libonedrive_native.a" -headers "$work/headers")
if [ "${NO_MACOS:-0}" != 1 ]; then
  lipo -create "$(lib aarch64-apple-darwin)" "$(lib x86_64-apple-darwin)" -output "$work/macos/libonedrive_native.a"
  args+=(-library "$work/macos/libonedrive_native.a" -headers "$work/headers")
fi
xcodebuild -create-xcframework "${args[@]}" -output "$out"
echo "build-xcframework.sh: wrote $out" >&2
