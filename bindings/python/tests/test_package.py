"""The installed package: bundled library, loader rules, typing marker."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import onedrive_native as od
from onedrive_native import _ffi

PKG_DIR = Path(od.__file__).resolve().parent
LIBNAME = _ffi.library_filename()


def python(code: str, env_changes: dict, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("ONEDRIVE_NATIVE_LIB", "PYTHONPATH")}
    env.update({k: v for k, v in env_changes.items() if v is not None})
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(bool(os.environ.get("ONEDRIVE_NATIVE_LIB")), reason="the suite runs on an override library")
def test_the_bundled_library_is_the_one_loaded():
    assert (PKG_DIR / LIBNAME).is_file(), f"no {LIBNAME} inside the installed package {PKG_DIR}"
    assert Path(od.library_path()) == PKG_DIR / LIBNAME


def test_the_package_is_typed():
    assert (PKG_DIR / "py.typed").is_file()


def test_the_environment_variable_overrides(tmp_path):
    copy = tmp_path / ("override-" + LIBNAME)
    shutil.copyfile(od.library_path(), copy)
    r = python(
        "import onedrive_native as od; print(od.library_path()); print(od.native_version())",
        {"ONEDRIVE_NATIVE_LIB": str(copy), "PYTHONPATH": str(PKG_DIR.parent)},
        tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == str(copy)


def test_a_missing_override_is_a_clear_error(tmp_path):
    r = python(
        "import onedrive_native",
        {"ONEDRIVE_NATIVE_LIB": str(tmp_path / "nope.so"), "PYTHONPATH": str(PKG_DIR.parent)},
        tmp_path,
    )
    assert r.returncode != 0
    assert "LibraryNotFoundError" in r.stderr and "ONEDRIVE_NATIVE_LIB" in r.stderr and "nope.so" in r.stderr


def test_neither_library_names_both_places(tmp_path):
    pkg = tmp_path / "site" / "onedrive_native"
    shutil.copytree(PKG_DIR, pkg, ignore=shutil.ignore_patterns(LIBNAME, "__pycache__"))
    r = python("import onedrive_native", {"PYTHONPATH": str(pkg.parent)}, tmp_path)
    assert r.returncode != 0
    msg = r.stderr
    assert "LibraryNotFoundError" in msg
    assert str(pkg / LIBNAME) in msg, msg  # the bundled place
    assert "ONEDRIVE_NATIVE_LIB" in msg  # and the override
