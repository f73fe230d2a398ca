#!/usr/bin/env bash
# The C suite against the Windows DLL, under Wine (make test-windows):
# tests/c/test_api.c and examples/quickstart.c cross-compiled with
# x86_64-w64-mingw32-gcc against the DLL's import library, run under Wine
# with onedrive_native.dll beside them, against the Linux emulator on
# loopback (tests/c/run.sh starts it):
#   1. test_api over HTTPS, the emulator's CA added to the client
#      (od_client_add_ca_file: the extra-CA path), a non-ASCII file name
#      through od_upload_file included;
#   2. test_api over plain HTTP (loopback);
#   3. the quickstart over HTTPS with the CA added, and over plain HTTP;
#   4. the quickstart linked with the static library instead (the system
#      libraries the README names), over HTTPS;
#   4b. the README's C example as written (its URL and token the
#      emulator's), over plain HTTP (readme_c.sh);
#   5. the quickstart over HTTPS trusting the Windows store alone, no CA
#      given to the client: refused, then trusted once its CA is in the Wine
#      prefix's LocalMachine\Root store (system_store.sh: a certificate of
#      its own with a CRL, and why).
#
#   tests/windows/run.sh EMULATOR DLL_DIR
#
# DLL_DIR holds onedrive_native.dll, libonedrive_native.dll.a and
# libonedrive_native.a (make windows). The Wine prefix is target/wine-prefix
# (tests/windows/wine.sh makes it once, ~15 s); the programs, the DLL and the test harness's
# bcryptprimitives.dll (Wine 8.0 lacks the ProcessPrng that Rust's std
# imports: processprng_shim.c; never shipped) go to target/windows-test.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
[ $# = 2 ] || { echo "usage: run.sh EMULATOR DLL_DIR" >&2; exit 2; }
emulator=$(realpath "$1")
dll_dir=$(realpath "$2")
out=$repo/target/windows-test
mkdir -p "$out"
CC=x86_64-w64-mingw32-gcc
CFLAGS=(-std=c11 -Wall -Wextra -Werror -pedantic -g -I"$repo/include")

# ---- the programs ---------------------------------------------------------------
cp "$dll_dir/onedrive_native.dll" "$out/"
"$CC" -O2 -Wall -Wextra -Werror -shared -o "$out/bcryptprimitives.dll" "$here/processprng_shim.c" -ladvapi32
# -static: the mingw runtime (winpthreads, libgcc) inside the programs; the
# library itself through its import library, loaded from onedrive_native.dll.
for prog in tests/c/test_api.c examples/quickstart.c; do
  "$CC" "${CFLAGS[@]}" -static -o "$out/$(basename "$prog" .c).exe" "$repo/$prog" "$dll_dir/libonedrive_native.dll.a" -lpthread
done
# From `cargo rustc --target x86_64-pc-windows-gnu --lib --crate-type staticlib
# -- --print native-static-libs` (README, "Windows").
WIN_NATIVE_LIBS=(-lbcrypt -ladvapi32 -lkernel32 -lntdll -luserenv -lws2_32 -ldbghelp)
"$CC" "${CFLAGS[@]}" -static -o "$out/add_root.exe" "$here/add_root.c" -lcrypt32
"$CC" "${CFLAGS[@]}" -o "$out/quickstart-static.exe" "$repo/examples/quickstart.c" "$dll_dir/libonedrive_native.a" \
  "${WIN_NATIVE_LIBS[@]}"

# ---- under Wine (wine.sh: the prefix, made on first use) -------------------------------
WINE=$here/wine.sh
run() {  # run WHAT ENV... -- RUNNER PROGRAM
  local what=$1
  shift
  echo "== $what" >&2
  env VALGRIND=0 "$@"
}
api=$out/test_api.exe
qs=$out/quickstart.exe
run "test_api, HTTPS, the emulator's CA added to the client" RUNNER="$WINE" "$repo/tests/c/run.sh" "$emulator" "$api"
run "test_api, plain HTTP" EMULATOR_ARGS=--plain-http RUNNER="$WINE" "$repo/tests/c/run.sh" "$emulator" "$api"
run "quickstart, HTTPS, the CA added to the client" RUNNER="$WINE" "$repo/tests/c/run.sh" "$emulator" "$qs"
run "quickstart, plain HTTP" EMULATOR_ARGS=--plain-http RUNNER="$WINE" "$repo/tests/c/run.sh" "$emulator" "$qs"
run "quickstart linked statically, HTTPS" RUNNER="$WINE" "$repo/tests/c/run.sh" "$emulator" "$out/quickstart-static.exe"
run "the README's C example, plain HTTP" EMULATOR_ARGS=--plain-http DLL_DIR="$dll_dir" OUT="$out" \
  "$repo/tests/c/run.sh" "$emulator" "$here/readme_c.sh"
echo "== quickstart, HTTPS, the Windows certificate store alone" >&2
"$here/system_store.sh" "$emulator" "$qs" "$out/add_root.exe"
echo "test-windows: 7 passed, 0 failed"
