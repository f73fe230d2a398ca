#!/usr/bin/env bash
# make install into a temporary prefix, then build the C quickstart against
# it (pkg-config + static library; CMake + shared library; pkg-config +
# shared library, run with LD_LIBRARY_PATH and with an rpath) and run each
# against a standalone emulator. Also checks a DESTDIR staged install.
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
if ldd "$tmp/quickstart-static" | grep onedrive_native >/dev/null; then
  echo "the pkg-config static build links the shared library" >&2; exit 1
fi

# 2. CMake, shared
cmake -S tests/packaging -B "$tmp/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$tmp/build" >/dev/null
ldd "$tmp/build/quickstart" | grep "$soname" >/dev/null || { echo "the CMake build does not link $soname" >&2; exit 1; }

VALGRIND=0 tests/c/run.sh "$emulator" "$tmp/quickstart-static"
VALGRIND=0 tests/c/run.sh "$emulator" "$tmp/build/quickstart"

# 3. pkg-config, shared, from a prefix the dynamic loader does not search:
# the program does not start on its own (the README says why and what to
# do), and runs with LD_LIBRARY_PATH or with an rpath.
gcc -std=c11 -Wall -Wextra -Werror -pedantic examples/quickstart.c \
  $(pkg-config --cflags --libs onedrive-native) -o "$tmp/quickstart-shared"
out=$(env -u LD_LIBRARY_PATH "$tmp/quickstart-shared" 2>&1 || true)
case $out in
  *"cannot open shared object file"*) ;;
  *) echo "a shared build from $prefix did not fail to load without LD_LIBRARY_PATH or an rpath: $out" >&2; exit 1 ;;
esac
LD_LIBRARY_PATH=$prefix/lib VALGRIND=0 tests/c/run.sh "$emulator" "$tmp/quickstart-shared"
gcc -std=c11 -Wall -Wextra -Werror -pedantic examples/quickstart.c \
  $(pkg-config --cflags --libs onedrive-native) -Wl,-rpath,"$prefix/lib" -o "$tmp/quickstart-rpath"
VALGRIND=0 tests/c/run.sh "$emulator" "$tmp/quickstart-rpath"

# 4. a staged install (package builders): the files land under DESTDIR
make --no-print-directory install PREFIX=/usr DESTDIR="$tmp/stage" >/dev/null
[ -e "$tmp/stage/usr/lib/pkgconfig/onedrive-native.pc" ] && grep -q '^prefix=/usr$' "$tmp/stage/usr/lib/pkgconfig/onedrive-native.pc"
echo "packaging: 4 passed, 0 failed"
