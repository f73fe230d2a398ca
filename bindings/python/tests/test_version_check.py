"""The package loads only the library version it was built for."""

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
SKIP = _ffi.SKIP_VERSION_CHECK_ENV


def python(code: str, env_changes: dict, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("ONEDRIVE_NATIVE_LIB", "PYTHONPATH", SKIP)}
    env.update(env_changes)
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_the_installed_package_has_its_version_baked_in():
    # run_tests.sh and test_wheel.sh test an installed package: the build wrote it.
    baked = PKG_DIR / "_native_version.py"
    assert baked.is_file(), f"no {baked}: setup.py writes it when the package is built"
    assert _ffi.expected_version() == od.native_version() == od.__version__


def test_a_mismatch_is_an_import_error_naming_both_versions(monkeypatch):
    monkeypatch.delenv(SKIP, raising=False)
    monkeypatch.setattr(_ffi, "expected_version", lambda: "9.9.9")
    with pytest.raises(od.LibraryVersionError) as e:
        _ffi.verify_loaded_library()
    assert isinstance(e.value, ImportError)
    msg = str(e.value)
    assert "9.9.9" in msg and od.native_version() in msg, msg
    assert od.library_path() in msg and SKIP in msg, msg


def test_the_override_turns_it_into_a_warning(monkeypatch):
    monkeypatch.setenv(SKIP, "1")
    monkeypatch.setattr(_ffi, "expected_version", lambda: "9.9.9")
    with pytest.warns(RuntimeWarning, match="9.9.9"):
        _ffi.verify_loaded_library()


@pytest.mark.parametrize("value", ["0", "", "yes"])
def test_only_1_overrides(monkeypatch, value):
    monkeypatch.setenv(SKIP, value)
    with pytest.raises(od.LibraryVersionError):
        _ffi.check_version("0.1.0", "0.2.0", "/x/libonedrive_native.so")


def test_the_same_version_or_none_known_passes(monkeypatch):
    monkeypatch.delenv(SKIP, raising=False)
    _ffi.check_version("1.2.3", "1.2.3", "/x/lib.so")
    _ffi.check_version("1.2.3", None, "/x/lib.so")  # a source copy without Cargo.toml: no check


def test_the_message_says_which_variable_named_the_library(monkeypatch):
    monkeypatch.delenv(SKIP, raising=False)
    monkeypatch.setenv(_ffi.LIB_ENV, "/somewhere/libonedrive_native.so")
    with pytest.raises(od.LibraryVersionError, match=f"named by {_ffi.LIB_ENV}.*Unset {_ffi.LIB_ENV}"):
        _ffi.check_version("0.1.0", "0.2.0", "/somewhere/libonedrive_native.so")
    monkeypatch.delenv(_ffi.LIB_ENV)
    with pytest.raises(od.LibraryVersionError, match="reinstall it"):
        _ffi.check_version("0.1.0", "0.2.0", str(PKG_DIR / "libonedrive_native.so"))


def test_import_refuses_a_package_built_for_another_version(tmp_path):
    """The real import path: a copy of the installed package whose baked version is another."""
    pkg = tmp_path / "site" / "onedrive_native"
    shutil.copytree(PKG_DIR, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    (pkg / "_native_version.py").write_text('NATIVE_VERSION = "9.9.9"\n')
    code = "import onedrive_native as od; print(od.native_version())"
    r = python(code, {"PYTHONPATH": str(pkg.parent)}, tmp_path)
    assert r.returncode != 0, r.stdout
    assert "LibraryVersionError" in r.stderr and "9.9.9" in r.stderr and SKIP in r.stderr, r.stderr

    r = python(code, {"PYTHONPATH": str(pkg.parent), SKIP: "1"}, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == od.native_version()
    assert "RuntimeWarning" in r.stderr and "9.9.9" in r.stderr, r.stderr


@pytest.mark.skipif(not os.environ.get("ONEDRIVE_NATIVE_EXPECT_UNDER"), reason="set by test_wheel.sh")
def test_the_package_under_test_is_the_installed_one():
    """test_wheel.sh: the suite runs against the wheel installed in its venv, not the checkout."""
    under = Path(os.environ["ONEDRIVE_NATIVE_EXPECT_UNDER"]).resolve()
    assert PKG_DIR.is_relative_to(under), f"onedrive_native imported from {PKG_DIR}, not from under {under}"
    assert Path(od.library_path()).resolve().is_relative_to(under)
