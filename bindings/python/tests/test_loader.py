"""Which library file the loader picks on each platform (no Windows or macOS
Python runs here: the platform is faked, the choice of file checked)."""

from __future__ import annotations

from pathlib import Path

import pytest

from onedrive_native import _ffi

NAMES = {
    "win32": "onedrive_native.dll",  # what cargo names the cdylib for *-pc-windows-*
    "darwin": "libonedrive_native.dylib",
    "linux": "libonedrive_native.so",
}


@pytest.mark.parametrize("platform,name", sorted(NAMES.items()))
def test_the_library_file_name_follows_the_platform(monkeypatch, platform, name):
    monkeypatch.setattr(_ffi.sys, "platform", platform)
    assert _ffi.library_filename() == name


@pytest.mark.parametrize("platform,name", sorted(NAMES.items()))
def test_the_bundled_library_is_found_beside_the_package(monkeypatch, tmp_path, platform, name):
    # a package directory holding the libraries of every platform: the
    # loader takes this platform's, and only its
    for n in NAMES.values():
        (tmp_path / n).write_bytes(b"")
    monkeypatch.setattr(_ffi.sys, "platform", platform)
    monkeypatch.setattr(_ffi, "__file__", str(tmp_path / "_ffi.py"))
    monkeypatch.delenv(_ffi.LIB_ENV, raising=False)
    assert Path(_ffi.find_library()) == (tmp_path / name).resolve()


def test_on_windows_a_missing_dll_is_named_in_the_error(monkeypatch, tmp_path):
    (tmp_path / "libonedrive_native.so").write_bytes(b"")  # another platform's: not taken
    monkeypatch.setattr(_ffi.sys, "platform", "win32")
    monkeypatch.setattr(_ffi, "__file__", str(tmp_path / "_ffi.py"))
    monkeypatch.delenv(_ffi.LIB_ENV, raising=False)
    with pytest.raises(_ffi.LibraryNotFoundError) as e:
        _ffi.find_library()
    assert "onedrive_native.dll" in str(e.value)
    assert "libonedrive_native.so" not in str(e.value)
