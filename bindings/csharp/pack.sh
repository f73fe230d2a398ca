#!/usr/bin/env bash
# Builds the NuGet package of the C# binding (`make nupkg`):
#   target/nupkg/OneDriveNative.<version>.nupkg, <version> from Cargo.toml, holding
#     lib/netstandard2.0/OneDriveNative.dll (+ .xml docs)  the managed assembly (mono's mcs)
#     lib/netstandard2.1/OneDriveNative.dll (+ .xml docs)  the same with IAsyncDisposable, IAsyncEnumerable
#     runtimes/linux-x64/native/libonedrive_native.so      target/release (cargo build --release)
#     runtimes/linux-arm64/native/libonedrive_native.so    target/aarch64-unknown-linux-gnu/release,
#                                                          cross-built here when the toolchain is present
#     runtimes/win-x64/native/onedrive_native.dll          target/x86_64-pc-windows-gnu/release,
#                                                          cross-built here with mingw-w64 when present
#   with the .nuspec, [Content_Types].xml, _rels/.rels and the core properties
#   (nupkg/pack.py assembles the zip: Debian's nuget 2.8 predates runtimes/).
#
#   bindings/csharp/pack.sh
#
# Environment:
#   NUPKG_ARM64       auto (default): linux-arm64 when the cross toolchain
#                     (aarch64-linux-gnu-gcc and the rustup target, as
#                     `.ci/deps.sh arm64` installs them) can build it, or when
#                     its library is already built; 1: required; 0: x64 only
#   NUPKG_WIN         the same for win-x64 (mingw-w64 and the rustup target
#                     x86_64-pc-windows-gnu, as `.ci/deps.sh windows` installs them)
#   ONEDRIVE_ASSEMBLY_DIR  the assemblies built elsewhere to package instead:
#                     <dir>/netstandard2.0/OneDriveNative.dll and netstandard2.1's
#                     (`dotnet build -c Release OneDriveNative/OneDriveNative.csproj`
#                     makes them in OneDriveNative/bin/Release, where a .NET SDK exists)
#   NUPKG_OUT         output directory (default <repo>/target/nupkg)
#   CARGO, CARGO_TARGET_DIR  honoured
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
say() { echo "csharp/pack.sh: $*" >&2; }
die() { say "$*"; exit 1; }
CARGO=${CARGO:-cargo}
target_dir=${CARGO_TARGET_DIR:-$repo/target}
out=${NUPKG_OUT:-$target_dir/nupkg}
arm64_mode=${NUPKG_ARM64:-auto}
win_mode=${NUPKG_WIN:-auto}
ARM64=aarch64-unknown-linux-gnu
WIN=x86_64-pc-windows-gnu

cargo_field() { sed -n "s/^$1 = \"\(.*\)\"/\1/p" "$repo/Cargo.toml" | head -n1; }
version=$(cargo_field version)
license=$(cargo_field license)
[ -n "$license" ] || license=$(sed -n '/^\[workspace.package\]/,/^\[/s/^license = "\(.*\)"/\1/p' "$repo/Cargo.toml")
description=$(cargo_field description)
[ -n "$version" ] && [ -n "$license" ] && [ -n "$description" ] || die "cannot read version/license/description from Cargo.toml"

# The assembly's own version must be the package's (what a consumer sees in
# AssemblyName.Version): AssemblyInfo.cs and the .csproj follow Cargo.toml.
grep -q "AssemblyVersion(\"$version.0\")" "$here/OneDriveNative/AssemblyInfo.cs" \
  || die "OneDriveNative/AssemblyInfo.cs: AssemblyVersion is not \"$version.0\" (Cargo.toml's version $version)"
grep -q "<Version>$version</Version>" "$here/OneDriveNative/OneDriveNative.csproj" \
  || die "OneDriveNative/OneDriveNative.csproj: <Version> is not $version (Cargo.toml)"

stage=$out/stage
rm -rf "$stage"
mkdir -p "$stage/linux-x64" "$stage/linux-arm64" "$stage/win-x64"

# ---- the managed assemblies ---------------------------------------------------
# netstandard2.0, and netstandard2.1 (ONEDRIVE_ASYNC_INTERFACES: IAsyncDisposable
# and IAsyncEnumerable, which netstandard2.1 has and 2.0 lacks without a package).
tfms="netstandard2.0 netstandard2.1"
if [ -n "${ONEDRIVE_ASSEMBLY_DIR:-}" ]; then
  # what `dotnet build -c Release` made: $ONEDRIVE_ASSEMBLY_DIR/<tfm>/OneDriveNative.dll
  for tfm in $tfms; do
    dll=$ONEDRIVE_ASSEMBLY_DIR/$tfm/OneDriveNative.dll
    [ -f "$dll" ] || die "no assembly at $dll"
    mkdir -p "$stage/lib/$tfm"
    cp "$dll" "$stage/lib/$tfm/"
    [ -f "${dll%.dll}.xml" ] && cp "${dll%.dll}.xml" "$stage/lib/$tfm/"
  done
else
  if ! command -v mcs >/dev/null || ! command -v mono >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      say "installing mono-mcs mono-runtime (apt-get)"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mono-mcs mono-runtime >/dev/null
    else
      die "mcs not found: apt-get install mono-mcs mono-runtime"
    fi
  fi
  for tfm in $tfms; do
    say "compiling OneDriveNative.dll for $tfm (mcs, release)"
    mkdir -p "$stage/lib/$tfm"
    define=
    [ "$tfm" = netstandard2.1 ] && define=-define:ONEDRIVE_ASYNC_INTERFACES
    mcs -target:library -langversion:7 -warnaserror+ -optimize+ -nologo $define \
      -out:"$stage/lib/$tfm/OneDriveNative.dll" -doc:"$stage/lib/$tfm/OneDriveNative.xml" -nowarn:1591 \
      -r:System.dll -r:System.Core.dll "$here"/OneDriveNative/*.cs
  done
fi

# ---- the native libraries -----------------------------------------------------
# Stripped copies: the symbol tables are half the file, and nothing needs them
# at run time (the exported functions stay in the dynamic symbol table).
strip_into() {  # strip_into TOOL SRC DEST
  if command -v "$1" >/dev/null; then "$1" --strip-unneeded -o "$3" "$2"; else cp "$2" "$3"; fi
}
x64=$target_dir/release/libonedrive_native.so
if [ ! -f "$x64" ]; then
  say "building the release library ($CARGO build --release --lib)"
  (cd "$repo" && "$CARGO" build --release --lib)
fi
strip_into strip "$x64" "$stage/linux-x64/libonedrive_native.so"
natives=(--native "linux-x64=$stage/linux-x64/libonedrive_native.so")
rids=linux-x64

# cross_lib VAR MODE TRIPLE LIB COMPILER DEPS [ENV=VALUE...]: cross-builds the
# release library for TRIPLE when COMPILER and the rustup target are there (or
# takes the one built before); true when LIB then exists. MODE (the value of
# the variable VAR): 0 never, 1 required, auto.
cross_lib() {
  local var=$1 mode=$2 triple=$3 lib=$4 cc=$5 deps=$6
  shift 6
  [ "$mode" != 0 ] || return 1
  if command -v "$cc" >/dev/null && command -v rustup >/dev/null \
    && rustup target list --installed 2>/dev/null | grep -qx "$triple"; then
    say "cross-building the release library for $triple"
    (cd "$repo" && env "$@" "$CARGO" build --release --lib --target "$triple")
  elif [ -f "$lib" ]; then
    say "no $cc: packaging the $triple library built before ($lib)"
  fi
  [ -f "$lib" ] && return 0
  [ "$mode" != 1 ] || die "$var=1 but no $triple library and no $cc (bash .ci/deps.sh $deps)"
  say "no $triple library and no $cc: left out (bash .ci/deps.sh $deps adds it)"
  return 1
}

arm64=$target_dir/$ARM64/release/libonedrive_native.so
if cross_lib NUPKG_ARM64 "$arm64_mode" "$ARM64" "$arm64" aarch64-linux-gnu-gcc arm64 \
  CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc; then
  # ELF e_machine (bytes 18-19, little-endian) 183: EM_AARCH64
  [ "$(od -An -tx1 -j18 -N2 "$arm64" | tr -d ' \n')" = b700 ] || die "$arm64 is not an aarch64 ELF"
  strip_into aarch64-linux-gnu-strip "$arm64" "$stage/linux-arm64/libonedrive_native.so"
  natives+=(--native "linux-arm64=$stage/linux-arm64/libonedrive_native.so")
  rids="$rids and linux-arm64"
fi

# win-x64: onedrive_native.dll, the name .NET looks for on Windows for
# DllImport("onedrive_native") (it appends .dll; no lib prefix).
win=$target_dir/$WIN/release/onedrive_native.dll
if cross_lib NUPKG_WIN "$win_mode" "$WIN" "$win" x86_64-w64-mingw32-gcc windows; then
  strip_into x86_64-w64-mingw32-strip "$win" "$stage/win-x64/onedrive_native.dll"
  python3 "$repo/tools/pe.py" check "$stage/win-x64/onedrive_native.dll" --abi "$repo/include/onedrive.abi.json" >&2 \
    || die "$win is not a win-x64 DLL exporting the ABI"
  natives+=(--native "win-x64=$stage/win-x64/onedrive_native.dll")
  rids="${rids/ and /, } and win-x64"
fi

commit=$(git -C "$repo" rev-parse HEAD 2>/dev/null || true)
nupkg=$out/OneDriveNative.$version.nupkg
python3 "$here/nupkg/pack.py" --id OneDriveNative --version "$version" \
  --description "$description. The .NET binding (netstandard2.0, netstandard2.1) with the native library for $rids." \
  --license "$license" --lib "netstandard2.0=$stage/lib/netstandard2.0/OneDriveNative.dll" \
  --lib "netstandard2.1=$stage/lib/netstandard2.1/OneDriveNative.dll" "${natives[@]}" \
  --readme "$here/README.md" ${commit:+--commit "$commit"} --out "$nupkg"
rm -rf "$stage"
echo "$nupkg"
