"""The binding against include/onedrive.abi.json (see abi_check.py), plus
what only the loaded library can tell."""

from __future__ import annotations

import json

import onedrive_native as od
from onedrive_native import _ffi, errors

import abi_check

ABI = abi_check.load()


def test_the_binding_matches_the_abi_description() -> None:
    found = abi_check.problems(ABI, od)
    assert not found, "\n".join(found)


def test_the_bundled_description_is_the_repositorys() -> None:
    assert _ffi.abi_path().name == "abi.json", "the installed package has no bundled abi.json"
    assert json.loads(_ffi.abi_path().read_text()) == ABI


def test_the_check_fails_on_each_kind_of_drift() -> None:
    fn = json.loads(json.dumps(ABI))
    fn["functions"]["od_brand_new"] = {"return": "void", "params": []}
    assert any("od_brand_new" in p for p in abi_check.problems(fn, od))
    arity = json.loads(json.dumps(ABI))
    arity["functions"]["od_item_size"]["params"].append({"name": "x", "type": "int32_t"})
    assert any("od_item_size" in p for p in abi_check.problems(arity, od))
    kind = json.loads(json.dumps(ABI))
    kind["functions"]["od_client_set_retry"]["params"][2]["type"] = "uint32_t"
    assert any("od_client_set_retry argument 2" in p for p in abi_check.problems(kind, od))
    const = json.loads(json.dumps(ABI))
    const["constants"]["OD_DEFAULT_CHUNK_SIZE"] += 1
    assert any("OD_DEFAULT_CHUNK_SIZE" in p for p in abi_check.problems(const, od))
    enum = json.loads(json.dumps(ABI))
    enum["enums"]["od_conflict"]["values"]["OD_CONFLICT_RENAME"] = 7
    assert any("OD_CONFLICT_RENAME" in p for p in abi_check.problems(enum, od))


def test_the_chunk_defaults_are_the_headers() -> None:
    c = ABI["constants"]
    assert od.DEFAULT_CHUNK_SIZE == c["OD_DEFAULT_CHUNK_SIZE"] and od.DEFAULT_CHUNK_SIZE % od.client.CHUNK_UNIT == 0
    assert od.client.CHUNK_UNIT == c["OD_CHUNK_UNIT"] == 320 * 1024
    assert od.DEFAULT_SIMPLE_LIMIT == c["OD_DEFAULT_SIMPLE_UPLOAD_LIMIT"]


def test_the_loaded_library_exports_every_declared_function() -> None:
    assert not _ffi.MISSING, f"{_ffi.library_path} lacks {_ffi.MISSING}"
    for name, (restype, argtypes) in _ffi.FUNCTIONS.items():
        fn = getattr(_ffi.lib, name)
        assert fn.argtypes == tuple(argtypes) or list(fn.argtypes) == argtypes, name
        assert fn.restype is restype or (restype is None and fn.restype is None), name


def test_every_status_maps_to_an_exception_class() -> None:
    statuses = ABI["enums"]["od_status"]["values"]
    assert statuses["OD_OK"] == 0 and len(statuses) >= 26
    for cname, number in statuses.items():
        if number:
            cls = od.exception_class(number)
            assert cls is not od.OneDriveError, f"{cname} has no exception class"
            assert issubclass(cls, od.OneDriveError) and cls.status == number, cname
        assert errors.Status(number).describe().startswith(cname), cname
    assert set(errors.EXCEPTIONS) == {n for n in statuses.values() if n}


def test_the_loaded_library_is_the_version_the_header_describes() -> None:
    c = ABI["constants"]
    version = c["OD_VERSION_STRING"]
    assert f"{c['OD_VERSION_MAJOR']}.{c['OD_VERSION_MINOR']}.{c['OD_VERSION_PATCH']}" == version
    assert od.native_version() == version, f"{_ffi.library_path} is {od.native_version()}"
    assert od.__version__ == version, "the package version is not the crate's"
