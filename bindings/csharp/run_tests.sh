#!/usr/bin/env bash
# The C# binding's test suite: compiles bindings/csharp/OneDriveNative with
# mono's mcs, compiles the NUnit 2.6 tests, and runs them with nunit-console
# on mono against a standalone onedrive-emulator (the tests start it).
#
#   bindings/csharp/run_tests.sh [nunit-console arguments, e.g. -run=OneDriveNative.Tests.ErrorTests]
#
# Environment:
#   ONEDRIVE_NATIVE_LIB_DIR  directory holding libonedrive_native.so and
#                            onedrive-emulator (default: <repo>/target/debug,
#                            or $CARGO_TARGET_DIR/debug; built with cargo when
#                            this variable is unset and they are missing)
#   ONEDRIVE_EMULATOR        the emulator binary (default: $ONEDRIVE_NATIVE_LIB_DIR/onedrive-emulator)
#
# Needs mono-mcs, mono-runtime, nunit-console and libnunit-cil-dev; installs
# them with apt-get when missing and running as root on Debian/Ubuntu, and
# fails with a message saying what to install otherwise.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$here/build
say() { echo "csharp/run_tests.sh: $*" >&2; }

# ---- tools ----------------------------------------------------------------
nunit_dll() {
  local d
  for d in /usr/lib/cli/nunit.framework-2.6*/nunit.framework.dll /usr/lib/mono/gac/nunit.framework/2.6*/nunit.framework.dll; do
    [ -f "$d" ] && { echo "$d"; return 0; }
  done
  return 1
}
have_tools() {
  command -v mcs >/dev/null && command -v mono >/dev/null && command -v nunit-console >/dev/null \
    && [ -f /usr/lib/nunit/nunit-console.exe ] && nunit_dll >/dev/null
}
if ! have_tools; then
  pkgs="mono-mcs mono-runtime nunit-console libnunit-cil-dev"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing $pkgs (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq $pkgs >/dev/null
  else
    say "mono and NUnit 2.6 are missing: run as root, or install them: apt-get install -y $pkgs"
    exit 1
  fi
  have_tools || { say "still missing mcs/mono/nunit-console/nunit.framework.dll after installing $pkgs"; exit 1; }
fi
NUNIT_FRAMEWORK=$(nunit_dll)

# ---- the native library and the emulator -----------------------------------
default_dir=${CARGO_TARGET_DIR:-$repo/target}/debug
lib_dir=${ONEDRIVE_NATIVE_LIB_DIR:-$default_dir}
if [ -z "${ONEDRIVE_NATIVE_LIB_DIR:-}" ] && { [ ! -f "$lib_dir/libonedrive_native.so" ] || [ ! -x "$lib_dir/onedrive-emulator" ]; }; then
  say "building the library and the emulator (cargo build -p onedrive-native-capi -p onedrive-emulator)"
  (cd "$repo" && ${CARGO:-cargo} build -q -p onedrive-native-capi -p onedrive-emulator)
fi
lib_dir=$(cd "$lib_dir" && pwd)
[ -f "$lib_dir/libonedrive_native.so" ] || { say "no libonedrive_native.so in $lib_dir (set ONEDRIVE_NATIVE_LIB_DIR)"; exit 1; }
emulator=${ONEDRIVE_EMULATOR:-$lib_dir/onedrive-emulator}
[ -x "$emulator" ] || { say "no emulator at $emulator (cargo build -p onedrive-emulator, or set ONEDRIVE_EMULATOR)"; exit 1; }

# ---- compile ---------------------------------------------------------------
rm -rf "$build"
mkdir -p "$build"
# Two flavours, as in the package: netstandard2.1's (IAsyncDisposable,
# IAsyncEnumerable: mono's mscorlib has them), which the tests run, and
# netstandard2.0's (plain DisposeAsync / ListAsync methods), compiled only.
say "compiling OneDriveNative.dll (mcs $(mcs --version | awk '{print $NF}'))"
mcs -target:library -langversion:7 -warnaserror+ -debug -nologo -define:ONEDRIVE_ASYNC_INTERFACES \
  -out:"$build/OneDriveNative.dll" -doc:"$build/OneDriveNative.xml" -nowarn:1591 \
  -r:System.dll -r:System.Core.dll \
  "$here"/OneDriveNative/*.cs
mkdir -p "$build/netstandard2.0"
mcs -target:library -langversion:7 -warnaserror+ -nologo \
  -out:"$build/netstandard2.0/OneDriveNative.dll" -nowarn:1591 \
  -r:System.dll -r:System.Core.dll \
  "$here"/OneDriveNative/*.cs
# The tests include the TokenCredential adapter (OneDriveNative.Azure),
# compiled against the tests' stand-in of the few Azure.Core types it uses
# (Azure.Core cannot be fetched here).
say "compiling OneDriveNative.Tests.dll"
mcs -target:library -langversion:7 -warnaserror+ -debug -nologo -define:ONEDRIVE_ASYNC_INTERFACES \
  -out:"$build/OneDriveNative.Tests.dll" \
  -r:"$build/OneDriveNative.dll" -r:"$NUNIT_FRAMEWORK" -r:System.dll -r:System.Core.dll \
  "$here"/tests/*.cs "$here"/tests/AzureStandIn/*.cs "$here"/OneDriveNative.Azure/*.cs

# ---- run -------------------------------------------------------------------
export ONEDRIVE_EMULATOR=$emulator
export ONEDRIVE_HEADER=$repo/include/onedrive.h
# DllImport("onedrive_native") finds libonedrive_native.so through the loader path.
export LD_LIBRARY_PATH=$lib_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
say "running the tests (library: $lib_dir/libonedrive_native.so, emulator: $emulator)"
cd "$build"
status=0
mono --debug /usr/lib/nunit/nunit-console.exe -nologo -noshadow -labels \
  -xml="$build/TestResult.xml" "$build/OneDriveNative.Tests.dll" "$@" || status=$?
if [ "$status" != 0 ]; then
  say "FAILED (nunit-console exit status $status)"
  exit 1
fi
summary=$(grep -o '<test-results[^>]*>' "$build/TestResult.xml" | head -n1)
attr() { echo "$summary" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
total=$(attr total); failures=$(attr failures); errors=$(attr errors)
if [ -z "$total" ] || [ "$total" = 0 ]; then
  say "no test ran"
  exit 1
fi
failed=$(( ${failures:-0} + ${errors:-0} ))
# NUnit 2.6 counts ignored, skipped and invalid tests as not-run, apart from
# total; under CI (CI=true) any of them fails the run: it means a dependency
# was missing.
notrun=$(( $(attr not-run) + 0 ))
echo "csharp: $(( total - failed )) passed, $failed failed, $notrun ignored or not run"
[ "$failed" = 0 ] || exit 1
case "${CI:-}" in
  1|true|yes)
    if [ "$notrun" != 0 ]; then
      say "CI: $notrun test(s) ignored or not run, which fails the run:"
      grep -o '<test-case name="[^"]*" executed="False"[^>]*>' "$build/TestResult.xml" >&2 || true
      exit 1
    fi ;;
esac
