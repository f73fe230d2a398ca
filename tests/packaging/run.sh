#!/usr/bin/env bash
# make install into a temporary prefix, then build the C quickstart against
# it twice (pkg-config + static library; CMake + shared library) and run
# both against a standalone emulator. Also checks a DESTDIR staged install.
#   tests/packaging/run.sh EMULATOR_BINARY
set -euo pipefail
cd "$(dirname "$0")/../.."
emulator=$(realpath "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

make --no-print-directory install PREFIX="$prefix" >/dev/null
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
for f in include/onedrive.h lib/libonedrive_native.a "lib/libonedrive_native.so.$version" \
         lib/pkgconfig/onedrive-native.pc lib/pkgconfig/onedrive-native-static.pc \
         lib/cmake/onedrive-native/onedrive-native-config.cmake; do
  [ -e "$prefix/$f" ] || { echo "install is missing $f" >&2; exit 1; }
done
soname=$(readelf -d "$prefix/lib/libonedrive_native.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ -e "$prefix/lib/$soname" ] || { echo "no $soname in the install" >&2; exit 1; }
[ "$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --modversion onedrive-native)" = "$version" ]

# 1. pkg-config, static
PKG_CONFIG_PATH=$prefix/lib/pkgconfig
export PKG_CONFIG_PATH
gcc -std=c11 -Wall -Wextra -Werror -pedantic examples/quickstart.c \
  $(pkg-config --cflags --libs onedrive-native-static) -o "$tmp/quickstart-static"
if ldd "$tmp/quickstart-static" | grep -q onedrive_native; then
  echo "the pkg-config static build links the shared library" >&2; exit 1
fi

# 2. CMake, shared
cmake -S tests/packaging -B "$tmp/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$tmp/build" >/dev/null
ldd "$tmp/build/quickstart" | grep -q "$soname" || { echo "the CMake build does not link $soname" >&2; exit 1; }

VALGRIND=0 tests/c/run.sh "$emulator" "$tmp/quickstart-static"
VALGRIND=0 tests/c/run.sh "$emulator" "$tmp/build/quickstart"

# 3. a staged install (package builders): the files land under DESTDIR
make --no-print-directory install PREFIX=/usr DESTDIR="$tmp/stage" >/dev/null
[ -e "$tmp/stage/usr/lib/pkgconfig/onedrive-native.pc" ] && grep -q '^prefix=/usr$' "$tmp/stage/usr/lib/pkgconfig/onedrive-native.pc"
echo "packaging: 3 passed, 0 failed"
