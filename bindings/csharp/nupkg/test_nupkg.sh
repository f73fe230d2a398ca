#!/usr/bin/env bash
# The NuGet package checked and consumed (`make test-nupkg`, after `make nupkg`):
#   1. its layout: check_nupkg.py (OPC parts, nuspec id/version/license/
#      dependencies, the assembly, each runtime's library and its exports);
#   2. restored as NuGet lays a package out (unzipped into
#      <packages>/onedrivenative/<version>/), an application compiled with mcs
#      against lib/netstandard2.0/OneDriveNative.dll (then again against
#      lib/netstandard2.1's) and run on mono with that
#      assembly and runtimes/<this machine's rid>/native/libonedrive_native.so
#      beside it (what a build for that runtime copies; no LD_LIBRARY_PATH):
#      an upload and a copy against a standalone emulator, trusting its CA
#      (Consumer.cs);
#   3. when the package holds linux-arm64: examples/quickstart.c cross-compiled
#      against that library (found beside it through $ORIGIN) and run under
#      qemu against the emulator: the package's arm64 library uploads and copies;
#   4. when the package holds win-x64: examples/quickstart.c cross-compiled
#      with mingw-w64 against the package's onedrive_native.dll and run under
#      Wine with it beside the program, over HTTPS with the emulator's CA
#      (the test harness's bcryptprimitives.dll too: tests/windows/run.sh).
#
#   bindings/csharp/nupkg/test_nupkg.sh EMULATOR [PACKAGE.nupkg]
#
# The arm64 library is required when the cross toolchain is present (pack.sh
# then builds it); NUPKG_ARM64=1 requires it anyway, 0 never. The same for
# win-x64 with mingw-w64 and NUPKG_WIN.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
say() { echo "test_nupkg.sh: $*" >&2; }
die() { say "$*"; exit 1; }
[ $# -ge 1 ] || die "usage: test_nupkg.sh EMULATOR [PACKAGE.nupkg]"
emulator=$(realpath "$1")
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$repo/Cargo.toml" | head -n1)
license=$(sed -n '/^\[workspace.package\]/,/^\[/s/^license = "\(.*\)"/\1/p' "$repo/Cargo.toml")
nupkg=${2:-${CARGO_TARGET_DIR:-$repo/target}/nupkg/OneDriveNative.$version.nupkg}
[ -f "$nupkg" ] || die "no package at $nupkg (make nupkg)"
for tool in mcs mono nm; do command -v "$tool" >/dev/null || die "$tool not found"; done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- 1. layout -------------------------------------------------------------------
rids=(--rid linux-x64)
case ${NUPKG_ARM64:-auto} in
  1) rids+=(--rid linux-arm64) ;;
  0) ;;
  *) if command -v aarch64-linux-gnu-gcc >/dev/null && rustup target list --installed 2>/dev/null \
        | grep -qx aarch64-unknown-linux-gnu; then rids+=(--rid linux-arm64); fi ;;
esac
case ${NUPKG_WIN:-auto} in
  1) rids+=(--rid win-x64) ;;
  0) ;;
  *) if command -v x86_64-w64-mingw32-gcc >/dev/null && rustup target list --installed 2>/dev/null \
        | grep -qx x86_64-pc-windows-gnu; then rids+=(--rid win-x64); fi ;;
esac
python3 "$here/check_nupkg.py" "$nupkg" --version "$version" --license "$license" \
  --abi "$repo/include/onedrive.abi.json" "${rids[@]}"

# ---- 2. restore, build, run on mono ----------------------------------------------
pkg=$tmp/packages/onedrivenative/$version      # NuGet's global-packages layout
mkdir -p "$pkg"
python3 -m zipfile -e "$nupkg" "$pkg"
# A NuGet client, when there is one (Debian's nuget 2.8: apt-get install nuget):
# it must accept the package and lay out the same payload.
if command -v nuget >/dev/null; then
  (cd "$tmp" && nuget install OneDriveNative -Version "$version" -Source "$(dirname "$nupkg")" \
     -OutputDirectory nuget-packages -NonInteractive >/dev/null) || die "nuget install refused the package"
  payload() { (cd "$1" && find lib runtimes -type f | sort | xargs sha256sum); }
  [ "$(payload "$tmp/nuget-packages/OneDriveNative.$version")" = "$(payload "$pkg")" ] \
    || die "nuget install laid out another payload than the package's"
  echo "nuget install ($(nuget help 2>/dev/null | head -n1 | tr -d '\r')): 1 passed, 0 failed"
else
  say "no nuget client here: the package is unzipped as a restore would (apt-get install nuget adds a real install)"
fi
case $(uname -m) in
  x86_64) rid=linux-x64 ;;
  aarch64) rid=linux-arm64 ;;
  *) die "no runtime of the package for $(uname -m)" ;;
esac
# Each assembly as a build for that TFM takes it: netstandard2.0's (what
# .NET Framework and older runtimes get), netstandard2.1's (.NET Core 3+ /
# .NET 5+: IAsyncDisposable; mono has it too).
for tfm in netstandard2.0 netstandard2.1; do
  app=$tmp/app-$tfm
  mkdir -p "$app"
  cp "$pkg/lib/$tfm/OneDriveNative.dll" "$app/"
  cp "$pkg/runtimes/$rid/native/libonedrive_native.so" "$app/"
  define=
  [ "$tfm" = netstandard2.1 ] && define=-define:ONEDRIVE_ASYNC_INTERFACES
  mcs -nologo -langversion:7 -warnaserror+ $define -r:"$pkg/lib/$tfm/OneDriveNative.dll" \
    -r:System.dll -r:System.Core.dll -out:"$app/consumer.exe" "$here/Consumer.cs"
  say "running the consumer on mono from $app (the $tfm OneDriveNative.dll and $rid's library out of the package)"
  env -u LD_LIBRARY_PATH -u MONO_PATH EXPECTED_VERSION="$version" RUNNER=mono VALGRIND=0 \
    "$repo/tests/c/run.sh" "$emulator" "$app/consumer.exe"
done

# ---- 3. the arm64 library, under qemu ----------------------------------------------
arm=$pkg/runtimes/linux-arm64/native/libonedrive_native.so
if [ -f "$arm" ]; then
  if command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64-static >/dev/null; then
    mkdir -p "$tmp/arm64"
    cp "$arm" "$tmp/arm64/"
    # a program linked with -lonedrive_native asks for the SONAME (build.rs sets it)
    soname=$(readelf -d "$arm" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
    [ -z "$soname" ] || [ "$soname" = libonedrive_native.so ] || ln -s libonedrive_native.so "$tmp/arm64/$soname"
    aarch64-linux-gnu-gcc -std=c11 -Wall -Wextra -Werror -pedantic -I"$repo/include" "$repo/examples/quickstart.c" \
      -L"$tmp/arm64" -lonedrive_native -Wl,-rpath,'$ORIGIN' -o "$tmp/arm64/quickstart"
    say "running the C quickstart on aarch64 (qemu) with the package's linux-arm64 library"
    env -u LD_LIBRARY_PATH RUNNER="qemu-aarch64-static -L /usr/aarch64-linux-gnu" VALGRIND=0 \
      "$repo/tests/c/run.sh" "$emulator" "$tmp/arm64/quickstart"
    echo "nupkg arm64: 1 passed, 0 failed"
  else
    say "SKIPPED the arm64 run: aarch64-linux-gnu-gcc or qemu-aarch64-static missing (bash .ci/deps.sh arm64)"
  fi
fi

# ---- 4. the win-x64 DLL, under Wine -------------------------------------------------
dll=$pkg/runtimes/win-x64/native/onedrive_native.dll
if [ -f "$dll" ]; then
  if command -v x86_64-w64-mingw32-gcc >/dev/null && command -v wine >/dev/null; then
    mkdir -p "$tmp/win"
    cp "$dll" "$tmp/win/"
    # GNU ld links against the DLL itself; nothing else from the package is needed.
    x86_64-w64-mingw32-gcc -std=c11 -Wall -Wextra -Werror -pedantic -I"$repo/include" "$repo/examples/quickstart.c" \
      "$tmp/win/onedrive_native.dll" -o "$tmp/win/quickstart.exe"
    x86_64-w64-mingw32-gcc -O2 -shared -o "$tmp/win/bcryptprimitives.dll" "$repo/tests/windows/processprng_shim.c" -ladvapi32
    say "running the C quickstart under Wine with the package's win-x64 onedrive_native.dll"
    RUNNER="$repo/tests/windows/wine.sh" VALGRIND=0 "$repo/tests/c/run.sh" "$emulator" "$tmp/win/quickstart.exe"
    echo "nupkg win-x64: 1 passed, 0 failed"
  else
    say "SKIPPED the win-x64 run: x86_64-w64-mingw32-gcc or wine missing (bash .ci/deps.sh windows)"
  fi
fi
