#!/usr/bin/env bash
# Builds onedrive-native for the Android ABIs with cargo-ndk:
#   jniLibs/<abi>/libonedrive_native.so (for an app's src/main/jniLibs) and
#   target/<triple>/mobile/libonedrive_native.a (for an NDK/CMake build).
#
# Needs the Android NDK (ANDROID_NDK_HOME) and cargo-ndk (cargo install
# cargo-ndk). Neither is on this project's CI machine, so this script is not
# run there; ring's C code needs the NDK's clang to cross-compile.
#
#   packaging/build-android.sh [OUT_DIR]     (default: target/android/jniLibs)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/android/jniLibs}
: "${ANDROID_NDK_HOME:?set ANDROID_NDK_HOME to the Android NDK}"
command -v cargo-ndk >/dev/null || { echo "install cargo-ndk: cargo install cargo-ndk" >&2; exit 1; }
rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android i686-linux-android
# API level 24 (Android 7.0) is the oldest with every libc function Rust's std uses here.
cargo ndk -t arm64-v8a -t armeabi-v7a -t x86_64 -t x86 --platform 24 -o "$out" \
  build --profile mobile --lib
echo "jniLibs in $out; the header is include/onedrive.h"
