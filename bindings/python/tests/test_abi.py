"""The binding against include/onedrive.abi.json. The declarations are
generated from it (``_abi.py``, ``_status.py``, ``_exceptions.py``:
tools/gen_bindings.py, checked for drift by tools/check_abi.sh); what is
left to test is what only the installed package and the loaded library can
tell, and the one thing a compiler would check: that the hand-written
wrappers call only functions the header declares."""

from __future__ import annotations

import json
import re
from pathlib import Path

import onedrive_native as od
from onedrive_native import _abi, _ffi, errors

ABI_FILE = Path(__file__).resolve().parents[3] / "include" / "onedrive.abi.json"
ABI = json.loads(ABI_FILE.read_text())


def test_the_installed_declarations_are_the_repositorys() -> None:
    assert set(_abi.FUNCTIONS) == set(ABI["functions"]), "reinstall the package (make build regenerates _abi.py)"
    for name, fn in ABI["functions"].items():
        assert len(_abi.FUNCTIONS[name][1]) == len(fn["params"]), name
    for name, value in ABI["constants"].items():
        assert getattr(_ffi, name) == value, name


def called_functions(package: Path) -> dict:
    """Every `lib.od_x` and every quoted "od_x_free" in the hand-written modules."""
    found: dict = {}
    for f in sorted(package.glob("*.py")):
        if f.name in ("_abi.py", "_status.py", "_exceptions.py"):
            continue
        for m in re.finditer(r"\blib\.(od_\w+)|[\"'](od_\w+_free)[\"']", f.read_text()):
            found.setdefault(m.group(1) or m.group(2), f.name)
    return found


def test_the_wrappers_call_only_declared_functions() -> None:
    called = called_functions(Path(od.__file__).parent)
    assert len(called) >= 40, called
    unknown = {n: f for n, f in called.items() if n not in _abi.FUNCTIONS}
    assert not unknown, f"called but not in include/onedrive.h: {unknown}"


def test_a_function_the_header_lacks_is_an_attribute_error() -> None:
    try:
        _ffi.lib.od_brand_new
    except AttributeError as e:
        assert "od_brand_new" in str(e) and "include/onedrive.h" in str(e)
    else:
        raise AssertionError("lib.od_brand_new did not raise")
    assert _ffi.lib.od_version is not None


def test_the_chunk_defaults_are_the_headers() -> None:
    c = ABI["constants"]
    assert od.DEFAULT_CHUNK_SIZE == c["OD_DEFAULT_CHUNK_SIZE"] and od.DEFAULT_CHUNK_SIZE % od.client.CHUNK_UNIT == 0
    assert od.client.CHUNK_UNIT == c["OD_CHUNK_UNIT"] == 320 * 1024
    assert od.DEFAULT_SIMPLE_LIMIT == c["OD_DEFAULT_SIMPLE_UPLOAD_LIMIT"]


def test_the_loaded_library_exports_every_declared_function() -> None:
    assert not _ffi.MISSING, f"{_ffi.library_path} lacks {_ffi.MISSING}"
    for name, (restype, argtypes) in _ffi.FUNCTIONS.items():
        fn = getattr(_ffi.lib, name)
        assert list(fn.argtypes) == argtypes, name
        assert fn.restype is restype or (restype is None and fn.restype is None), name


def test_every_status_maps_to_an_exception_class() -> None:
    statuses = ABI["enums"]["od_status"]["values"]
    assert statuses["OD_OK"] == 0 and len(statuses) >= 26
    for cname, number in statuses.items():
        if number:
            cls = od.exception_class(number)
            assert cls is not od.OneDriveError, f"{cname} has no exception class"
            assert issubclass(cls, od.OneDriveError) and cls.status == number, cname
            assert getattr(od, cls.__name__) is cls, f"{cls.__name__} is not exported by onedrive_native"
        assert errors.Status(number).c_name == cname
        assert errors.Status(number).describe().startswith(cname), cname
    assert set(errors.EXCEPTIONS) == {n for n in statuses.values() if n}
    assert issubclass(od.InvalidNameError, od.InvalidArgumentError) and issubclass(od.TlsError, od.NetworkError)
    assert issubclass(od.OneDriveTimeoutError, TimeoutError) and issubclass(od.LocalIOError, OSError)


def test_the_loaded_library_is_the_version_the_header_describes() -> None:
    c = ABI["constants"]
    version = c["OD_VERSION_STRING"]
    assert f"{c['OD_VERSION_MAJOR']}.{c['OD_VERSION_MINOR']}.{c['OD_VERSION_PATCH']}" == version
    assert od.native_version() == version, f"{_ffi.library_path} is {od.native_version()}"
    assert od.__version__ == version, "the package version is not the crate's"
