"""Build hook: puts the native shared library inside the package.

`pip install ./bindings/python` runs `cargo build --release` on the
workspace two levels up and copies the cdylib into `onedrive_native/`.
With ONEDRIVE_NATIVE_LIB set to a built library, that file is copied
instead and cargo is not run. The wheel is tagged py3-none-<platform>: it
holds a native library but no CPython extension; the platform's machine is
the bundled library's (an aarch64 library built on x86_64 makes a
linux_aarch64 wheel, which auditwheel then retags manylinux).

The version the package is built for (the crate's, from Cargo.toml) is
baked into `onedrive_native/_native_version.py`; the package refuses at
import a library whose od_version() differs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
LIB_ENV = "ONEDRIVE_NATIVE_LIB"


def lib_filename() -> str:
    if sys.platform == "win32":
        return "onedrive_native.dll"
    if sys.platform == "darwin":
        return "libonedrive_native.dylib"
    return "libonedrive_native.so"


def crate_version() -> str:
    """The onedrive-native crate's version: the package has the same."""
    try:
        text = (REPO / "Cargo.toml").read_text()
    except OSError:
        return os.environ.get("ONEDRIVE_NATIVE_VERSION", "0.0.0")
    for table in ("[package]", "[workspace.package]"):  # `version.workspace = true` defers
        if table in text:
            body = text.split(table, 1)[1].split("\n[", 1)[0]
            m = re.search(r'^version\s*=\s*"([^"]+)"', body, flags=re.M)
            if m:
                return m.group(1)
    return "0.0.0"


def cargo_build() -> Path:
    manifest = REPO / "Cargo.toml"
    if not manifest.is_file():
        raise SystemExit(
            f"onedrive-native: no Cargo workspace at {REPO} to build the library from; "
            f"set {LIB_ENV} to a built {lib_filename()}"
        )
    cargo = os.environ.get("CARGO", "cargo")
    cmd = [
        cargo, "build", "--release", "--lib", "-p", "onedrive-native",
        "--manifest-path", str(manifest), "--message-format=json-render-diagnostics",
    ]
    print("onedrive-native: " + " ".join(cmd), file=sys.stderr, flush=True)
    try:
        proc = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True)
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
        dest = Path(self.build_lib) / "onedrive_native" / lib_filename()
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        os.chmod(dest, 0o755)
        BUNDLED["machine"] = elf_machine(dest)
        # The ABI description: _ffi reads its constants from it.
        abi = REPO / "include" / "onedrive.abi.json"
        if not abi.is_file():
            raise SystemExit(f"onedrive-native: {abi} is missing (tools/abi.py --write makes it)")
        shutil.copyfile(abi, dest.with_name("abi.json"))
        # The version of the library this package is made for: checked at import.
        dest.with_name("_native_version.py").write_text(
            "# Written by setup.py when the package was built: the onedrive-native\n"
            "# library version it was made for (od_version() must return it).\n"
            f"NATIVE_VERSION = {crate_version()!r}\n"
        )


#: What build_py bundled (the library's ELF machine), for the wheel's tag.
BUNDLED: dict = {}

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


cmdclass = {"build_py": build_py_with_native_lib}

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
