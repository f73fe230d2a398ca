"""Build hook: puts the native shared library inside the package.

`pip install ./bindings/python` runs `cargo build --release` on the
workspace two levels up and copies the cdylib into `onedrive_native/`.
With ONEDRIVE_NATIVE_LIB set to a built library, that file is copied
instead and cargo is not run. The wheel is tagged py3-none-<platform>: it
holds a native library but no CPython extension; the platform's machine is
the bundled library's (an aarch64 library built on x86_64 makes a
linux_aarch64 wheel, which auditwheel then retags manylinux). A Windows DLL
(a PE file, cross-built here for x86_64-pc-windows-gnu) is bundled as
onedrive_native.dll, the name the loader looks for on Windows, in a
win_amd64 wheel, whatever platform builds it.

The version the package is built for (the crate's, from Cargo.toml) is
baked into `onedrive_native/_native_version.py`; the package refuses at
import a library whose od_version() differs.

An sdist carries the crate under `rust/` (a standalone Cargo.toml without
the workspace and its dev-dependencies, the Cargo.lock pruned to match,
build.rs, cbindgen.toml, src/, include/, and capi/, the package that builds
the C library, as its workspace's member): `pip install
onedrive_native-X.tar.gz` builds it with `cargo build --release --locked`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
#: In an sdist, the crate (standalone) sits beside setup.py under this name.
SDIST_CRATE = HERE / "rust"
LIB_ENV = "ONEDRIVE_NATIVE_LIB"


def crate_dir() -> Optional[Path]:
    """The crate to build: the sdist's own copy, else the workspace two levels up."""
    for d in (SDIST_CRATE, REPO):
        if (d / "Cargo.toml").is_file() and (d / "src").is_dir():
            return d
    return None


def lib_filename() -> str:
    if sys.platform == "win32":
        return "onedrive_native.dll"
    if sys.platform == "darwin":
        return "libonedrive_native.dylib"
    return "libonedrive_native.so"


def crate_version() -> str:
    """The onedrive-native crate's version: the package has the same."""
    crate = crate_dir()
    try:
        text = (crate / "Cargo.toml").read_text() if crate else ""
    except OSError:
        text = ""
    if not text:
        return os.environ.get("ONEDRIVE_NATIVE_VERSION", "0.0.0")
    for table in ("[package]", "[workspace.package]"):  # `version.workspace = true` defers
        if table in text:
            body = text.split(table, 1)[1].split("\n[", 1)[0]
            m = re.search(r'^version\s*=\s*"([^"]+)"', body, flags=re.M)
            if m:
                return m.group(1)
    return "0.0.0"


def cargo_build() -> Path:
    crate = crate_dir()
    if crate is None:
        raise SystemExit(
            f"onedrive-native: no crate at {SDIST_CRATE} (an sdist) nor Cargo workspace at {REPO} "
            f"to build the library from; set {LIB_ENV} to a built {lib_filename()}"
        )
    manifest = crate / "Cargo.toml"
    cargo = os.environ.get("CARGO", "cargo")
    cmd = [
        cargo, "build", "--release", "--lib", "-p", "onedrive-native-capi",
        "--manifest-path", str(manifest), "--message-format=json-render-diagnostics",
    ]
    if crate == SDIST_CRATE:
        cmd.append("--locked")  # the sdist's Cargo.lock, exactly
    print("onedrive-native: " + " ".join(cmd), file=sys.stderr, flush=True)
    try:
        proc = subprocess.run(cmd, cwd=crate, stdout=subprocess.PIPE, text=True)
    except FileNotFoundError:
        raise SystemExit(
            f"onedrive-native: `{cargo}` not found. Install Rust (https://rustup.rs) "
            f"or set {LIB_ENV} to a built {lib_filename()}"
        ) from None
    if proc.returncode != 0:
        raise SystemExit(f"onedrive-native: cargo build failed (exit {proc.returncode})")
    want = lib_filename()
    for line in proc.stdout.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("reason") != "compiler-artifact":
            continue
        if msg.get("target", {}).get("name") != "onedrive_native":
            continue
        for f in msg.get("filenames", []):
            if Path(f).name == want:
                return Path(f)
    raise SystemExit(f"onedrive-native: cargo did not report a {want}")


class build_py_with_native_lib(build_py):
    def run(self) -> None:
        super().run()
        prebuilt = os.environ.get(LIB_ENV)
        if prebuilt:
            src = Path(prebuilt)
            if not src.is_file():
                raise SystemExit(f"onedrive-native: {LIB_ENV}={prebuilt!r} is not a file")
            print(f"onedrive-native: bundling {src} ({LIB_ENV})", file=sys.stderr)
        else:
            src = cargo_build()
            print(f"onedrive-native: bundling {src} (cargo build --release)", file=sys.stderr)
        pe = pe_platform(src)
        # A DLL keeps its Windows name whatever platform builds the wheel.
        dest = Path(self.build_lib) / "onedrive_native" / ("onedrive_native.dll" if pe else lib_filename())
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        os.chmod(dest, 0o755)
        BUNDLED["machine"] = elf_machine(dest)
        BUNDLED["windows"] = pe
        # The version of the library this package is made for: checked at import.
        dest.with_name("_native_version.py").write_text(
            "# Written by setup.py when the package was built: the onedrive-native\n"
            "# library version it was made for (od_version() must return it).\n"
            f"NATIVE_VERSION = {crate_version()!r}\n"
        )


#: What build_py bundled (the library's ELF machine, or the Windows platform
#: tag of a DLL), for the wheel's tag.
BUNDLED: dict = {}

# PE/COFF Machine -> the Windows platform tag
PE_MACHINES = {0x8664: "win_amd64", 0xAA64: "win_arm64", 0x14C: "win32"}


def pe_platform(path: Path) -> Optional[str]:
    """The wheel platform tag of a Windows DLL ("win_amd64", ...); None if not a PE file."""
    with open(path, "rb") as f:
        head = f.read(4096)
    if len(head) < 0x40 or head[:2] != b"MZ":
        return None
    pe = int.from_bytes(head[0x3C:0x40], "little")
    if head[pe:pe + 4] != b"PE\0\0":
        return None
    machine = int.from_bytes(head[pe + 4:pe + 6], "little")
    if machine not in PE_MACHINES:
        raise SystemExit(f"onedrive-native: {path} is a DLL for machine {machine:#x}, which no wheel tag names")
    return PE_MACHINES[machine]

# e_machine -> the platform tag's machine (the manylinux architectures)
ELF_MACHINES = {0x3E: "x86_64", 0xB7: "aarch64", 0x03: "i686", 0x28: "armv7l",
                0x15: "ppc64", 0x16: "s390x", 0xF3: "riscv64"}


def elf_machine(path: Path) -> Optional[str]:
    """The machine an ELF file is for ("x86_64", "aarch64", ...); None if not ELF."""
    with open(path, "rb") as f:
        head = f.read(20)
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return None
    order = "little" if head[5] == 1 else "big"
    machine = ELF_MACHINES.get(int.from_bytes(head[18:20], order))
    if machine == "ppc64" and order == "little":
        machine = "ppc64le"
    return machine


# ---- the sdist: the package plus the crate it builds -------------------------

#: What the crate's build needs, besides src/ (build.rs reads src/ffi and
#: src/graph/limits.rs, cbindgen.toml).
CRATE_FILES = ["build.rs", "cbindgen.toml", "include/onedrive.h"]
#: The package that builds the C libraries (see capi/Cargo.toml), shipped
#: whole: the sdist's workspace has it as its member.
CAPI_FILES = ["capi/Cargo.toml", "capi/build.rs", "capi/lib.rs"]
#: The standalone crate's own workspace: the C library package only.
SDIST_WORKSPACE = {"members": ["capi"], "default-members": [".", "capi"]}


def standalone_manifest(text: str) -> str:
    """The workspace's Cargo.toml as a crate of its own.

    Drops the `[workspace]` tables (the `emulator` member is not shipped),
    the dev-dependencies (the emulator by path; no test is shipped) and the
    `[[example]]` tables (no example is shipped either), writes
    the values inherited with `key.workspace = true` in place, and starts a
    `[workspace]` of its own, with capi/ (the C library) as its member, so
    that cargo never looks for one above the unpacked sdist.
    """
    import tomllib  # Python 3.11+: only who makes the sdist needs it

    ws = tomllib.loads(text).get("workspace", {}).get("package", {})
    out: List[str] = [
        "# The onedrive-native crate as shipped in the Python sdist: the workspace's",
        "# Cargo.toml without the workspace (the emulator member) and without the",
        "# dev-dependencies; setup.py builds capi/ with `cargo build --release --locked`.",
        "[workspace]",
        *(f"{k} = {json.dumps(v)}" for k, v in SDIST_WORKSPACE.items()),
        "",
    ]
    table = ""
    for line in text.splitlines():
        header = re.match(r"^\s*\[\[?([^\]]+)\]\]?\s*(#.*)?$", line)
        if header:
            table = header.group(1).strip()
        # [[example]]: no example is shipped, and cargo refuses a manifest
        # naming an example whose file is missing.
        if (table == "workspace" or table.startswith("workspace.") or table.endswith("dev-dependencies")
                or table == "example"):
            continue
        inherited = re.match(r"^(\s*)([A-Za-z0-9_-]+)\.workspace\s*=\s*true\s*$", line)
        if inherited and table == "package":
            key = inherited.group(2)
            if key not in ws:
                raise SystemExit(f"onedrive-native: Cargo.toml inherits {key} but [workspace.package] has none")
            line = f"{inherited.group(1)}{key} = {json.dumps(ws[key])}"
        out.append(line)
    result = "\n".join(out).rstrip() + "\n"
    parsed = tomllib.loads(result)  # still TOML, and nothing left of the workspace
    if "workspace = true" in result or "dev-dependencies" in parsed or parsed["workspace"] != SDIST_WORKSPACE:
        raise SystemExit("onedrive-native: could not make a standalone Cargo.toml")
    return result


def lock_packages(path: Path) -> set:
    import tomllib

    return {(p["name"], p["version"]) for p in tomllib.loads(path.read_text()).get("package", [])}


def stage_crate(dest: Path) -> None:
    """Writes the standalone crate into `dest` (the sdist's rust/)."""
    if SDIST_CRATE.is_dir() and (SDIST_CRATE / "Cargo.toml").is_file():  # an sdist of an sdist
        shutil.copytree(SDIST_CRATE, dest, ignore=shutil.ignore_patterns("target"))
        return
    if not (REPO / "Cargo.toml").is_file():
        raise SystemExit(f"onedrive-native: no workspace at {REPO} to take the crate from")
    dest.mkdir(parents=True)
    for rel in CRATE_FILES + CAPI_FILES:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, dest / rel)
    shutil.copytree(REPO / "src", dest / "src", ignore=shutil.ignore_patterns("__pycache__", "*.orig", "*.rej"))
    (dest / "Cargo.toml").write_text(standalone_manifest((REPO / "Cargo.toml").read_text()))
    # The workspace's lock, pruned to the crate's own dependencies by cargo:
    # `update --workspace` keeps every locked version and drops what nothing
    # needs any more (the emulator's and the dev-dependencies' crates).
    shutil.copy2(REPO / "Cargo.lock", dest / "Cargo.lock")
    cargo = os.environ.get("CARGO", "cargo")
    cmd = [cargo, "update", "--workspace", "--quiet", "--manifest-path", str(dest / "Cargo.toml")]
    print("onedrive-native: " + " ".join(cmd), file=sys.stderr, flush=True)
    try:
        subprocess.run(cmd, cwd=dest, check=True)
    except FileNotFoundError:
        raise SystemExit(f"onedrive-native: making the sdist needs `{cargo}` (to prune Cargo.lock)") from None
    except subprocess.CalledProcessError as e:
        raise SystemExit(f"onedrive-native: {' '.join(cmd)} failed (exit {e.returncode})") from None
    changed = lock_packages(dest / "Cargo.lock") - lock_packages(REPO / "Cargo.lock")
    if changed:
        raise SystemExit(f"onedrive-native: pruning Cargo.lock changed versions: {sorted(changed)}")


class sdist_with_crate(sdist):
    def make_release_tree(self, base_dir, files) -> None:  # type: ignore[no-untyped-def]
        super().make_release_tree(base_dir, files)
        stage_crate((Path(base_dir) / SDIST_CRATE.name).resolve())


cmdclass = {"build_py": build_py_with_native_lib, "sdist": sdist_with_crate}

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1
    from wheel.bdist_wheel import bdist_wheel  # type: ignore[no-redef]


class bdist_wheel_platform(bdist_wheel):
    def finalize_options(self) -> None:
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):  # type: ignore[no-untyped-def]
        _, _, plat = super().get_tag()
        if BUNDLED.get("windows"):
            return "py3", "none", BUNDLED["windows"]
        # The machine is the bundled library's, not the interpreter's.
        machine = BUNDLED.get("machine")
        if machine and plat.startswith("linux_"):
            plat = "linux_" + machine
        return "py3", "none", plat


cmdclass["bdist_wheel"] = bdist_wheel_platform


class NativeDistribution(Distribution):
    """Holds a native library: installed to platlib, so the wheel's files sit at
    its root (Root-Is-Purelib: false), where auditwheel looks for them."""

    def has_ext_modules(self) -> bool:
        return True


setup(version=crate_version(), cmdclass=cmdclass, distclass=NativeDistribution)
