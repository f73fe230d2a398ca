"""Build hook: puts the onedrive-emulator binary inside the package.

With ONEDRIVE_EMULATOR_BIN set to a built binary, that file is bundled as
`onedrive_emulator/bin/onedrive-emulator`; otherwise `cargo build --release
-p onedrive-emulator` runs on the workspace two levels up and its binary is
bundled. The wheel is tagged py3-none-<platform> (a native executable, no
CPython extension); `wheel.sh` repairs it to a manylinux tag with auditwheel.
The console script `onedrive-emulator` execs the bundled binary.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
CRATE = HERE.parent  # emulator/
REPO = CRATE.parent
BIN_ENV = "ONEDRIVE_EMULATOR_BIN"
EXE = "onedrive-emulator.exe" if sys.platform == "win32" else "onedrive-emulator"


def crate_version() -> str:
    """The emulator crate's version: the package has the same."""
    try:
        text = (CRATE / "Cargo.toml").read_text()
    except OSError:
        return os.environ.get("ONEDRIVE_EMULATOR_VERSION", "0.0.0")
    body = text.split("[package]", 1)[-1].split("\n[", 1)[0]
    m = re.search(r'^version\s*=\s*"([^"]+)"', body, flags=re.M)
    return m.group(1) if m else "0.0.0"


def cargo_build() -> Path:
    manifest = REPO / "Cargo.toml"
    if not manifest.is_file():
        raise SystemExit(f"onedrive-emulator: no Cargo workspace at {REPO}; set {BIN_ENV} to a built {EXE}")
    cargo = os.environ.get("CARGO", "cargo")
    cmd = [cargo, "build", "--release", "--bin", "onedrive-emulator", "-p", "onedrive-emulator",
           "--manifest-path", str(manifest), "--message-format=json-render-diagnostics"]
    print("onedrive-emulator: " + " ".join(cmd), file=sys.stderr, flush=True)
    try:
        proc = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True)
    except FileNotFoundError:
        raise SystemExit(f"onedrive-emulator: `{cargo}` not found; set {BIN_ENV} to a built {EXE}") from None
    if proc.returncode != 0:
        raise SystemExit(f"onedrive-emulator: cargo build failed (exit {proc.returncode})")
    for line in proc.stdout.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("reason") == "compiler-artifact" and msg.get("executable"):
            if Path(msg["executable"]).name == EXE:
                return Path(msg["executable"])
    raise SystemExit(f"onedrive-emulator: cargo did not report a {EXE}")


class build_py_with_binary(build_py):
    def run(self) -> None:
        super().run()
        prebuilt = os.environ.get(BIN_ENV)
        if prebuilt:
            src = Path(prebuilt)
            if not src.is_file():
                raise SystemExit(f"onedrive-emulator: {BIN_ENV}={prebuilt!r} is not a file")
        else:
            src = cargo_build()
        print(f"onedrive-emulator: bundling {src}", file=sys.stderr)
        dest = Path(self.build_lib) / "onedrive_emulator" / "bin" / EXE
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        os.chmod(dest, 0o755)


try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1
    from wheel.bdist_wheel import bdist_wheel  # type: ignore[no-redef]


class bdist_wheel_platform(bdist_wheel):
    """py3-none-<this platform>: any Python 3, one machine (the binary's)."""

    def finalize_options(self) -> None:
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):  # type: ignore[no-untyped-def]
        _, _, plat = super().get_tag()
        return "py3", "none", plat


class BinaryDistribution(Distribution):
    """Holds a native executable: installed to platlib (Root-Is-Purelib: false)."""

    def has_ext_modules(self) -> bool:
        return True


setup(
    version=crate_version(),
    cmdclass={"build_py": build_py_with_binary, "bdist_wheel": bdist_wheel_platform},
    distclass=BinaryDistribution,
)
