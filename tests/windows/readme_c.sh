#!/usr/bin/env bash
# The README's C example under Wine: run by tests/windows/run.sh through
# tests/c/run.sh (which starts the emulator and exports its URL and token).
# tests/readme/run_examples.py writes the example as the README has it, the
# emulator's URL and token put in; it is cross-built against the DLL's
# import library and run in a folder of its own (it downloads a file there).
#
#   RUNNER= tests/c/run.sh EMULATOR tests/windows/readme_c.sh   (DLL_DIR, OUT set)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
: "${DLL_DIR:?the directory of onedrive_native.dll and its import library}"
: "${OUT:?the directory the programs and the DLL are in}"
python3 "$repo/tests/readme/run_examples.py" --c-source "$OUT/readme.c"
x86_64-w64-mingw32-gcc -std=c11 -Wall -Wextra -Werror -pedantic -g -I"$repo/include" -static \
  -o "$OUT/readme.exe" "$OUT/readme.c" "$DLL_DIR/libonedrive_native.dll.a" -lpthread
rm -f "$OUT/hello-local.txt"
cd "$OUT"
"$here/wine.sh" "$OUT/readme.exe"
test "$(cat "$OUT/hello-local.txt")" = hello
