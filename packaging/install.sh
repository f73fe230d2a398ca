#!/usr/bin/env bash
# Installs the header, the static and shared libraries (versioned SONAME),
# pkg-config files and a CMake package config. Called by `make install`.
#   packaging/install.sh PROFILE_DIR PREFIX LIBDIR INCLUDEDIR [DESTDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
profile_dir=$1 prefix=$2 libdir=$3 includedir=$4 destdir=${5:-}
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
major=${version%%.*}
rest=${version#*.}
minor=${rest%%.*}
if [ "$major" = 0 ]; then abi="0.$minor"; else abi=$major; fi

# The system libraries the static library needs, as rustc reports them.
native_libs=$(cargo rustc --quiet --release --lib --crate-type staticlib -- --print native-static-libs 2>&1 \
  | sed -n 's/.*native-static-libs: //p' | tail -n1)
[ -n "$native_libs" ] || { echo "could not learn the native static libs from rustc" >&2; exit 1; }

for f in libonedrive_native.a libonedrive_native.so; do
  [ -f "$profile_dir/$f" ] || { echo "$profile_dir/$f is missing: build first" >&2; exit 1; }
done

install -d "$destdir$libdir/pkgconfig" "$destdir$includedir" "$destdir$libdir/cmake/onedrive-native"
install -m 644 include/onedrive.h "$destdir$includedir/onedrive.h"
install -m 644 "$profile_dir/libonedrive_native.a" "$destdir$libdir/libonedrive_native.a"
install -m 755 "$profile_dir/libonedrive_native.so" "$destdir$libdir/libonedrive_native.so.$version"
ln -sf "libonedrive_native.so.$version" "$destdir$libdir/libonedrive_native.so.$abi"
ln -sf "libonedrive_native.so.$abi" "$destdir$libdir/libonedrive_native.so"

subst() {
  sed -e "s|@PREFIX@|$prefix|g" -e "s|@LIBDIR@|$libdir|g" -e "s|@INCLUDEDIR@|$includedir|g" \
      -e "s|@VERSION@|$version|g" -e "s|@VERSION_MAJOR@|$major|g" -e "s|@VERSION_MINOR@|$minor|g" \
      -e "s|@ABI@|$abi|g" -e "s|@NATIVE_LIBS@|$native_libs|g" \
      -e "s|@CMAKE_NATIVE_LIBS@|$cmake_libs|g" -e "s|@CMAKE_TO_PREFIX@|$to_prefix|g" \
      -e "s|@LIB_REL@|$lib_rel|g" -e "s|@INCLUDE_REL@|$include_rel|g" "$1" > "$2"
}
# CMake wants "-lpthread -lm" as "pthread;m".
cmake_libs=$(echo "$native_libs" | tr ' ' '\n' | sed -n 's/^-l//p' | awk '!seen[$0]++' | paste -sd ';')
# Paths relative to the prefix, so the CMake config is relocatable.
lib_rel=${libdir#"$prefix"/}
include_rel=${includedir#"$prefix"/}
to_prefix=$(echo "$lib_rel/cmake/onedrive-native" | sed 's|[^/][^/]*|..|g')
subst packaging/onedrive-native.pc.in "$destdir$libdir/pkgconfig/onedrive-native.pc"
subst packaging/onedrive-native-static.pc.in "$destdir$libdir/pkgconfig/onedrive-native-static.pc"
subst packaging/onedrive-native-config.cmake.in "$destdir$libdir/cmake/onedrive-native/onedrive-native-config.cmake"
subst packaging/onedrive-native-config-version.cmake.in \
  "$destdir$libdir/cmake/onedrive-native/onedrive-native-config-version.cmake"
echo "installed onedrive-native $version into $destdir$prefix"
