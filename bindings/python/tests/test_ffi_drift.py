"""The ctypes declarations against include/onedrive.h: they cannot drift.

A function added to the header fails here until it is declared in
onedrive_native/_ffi.py (FUNCTIONS) with matching argument types.
"""

from __future__ import annotations

import ctypes
import re
from typing import Dict, List, Tuple

import pytest

import onedrive_native as od
from onedrive_native import _ffi, errors
from onedrive_native.client import Conflict, JobState

from conftest import HEADER


def header_text() -> str:
    assert HEADER.is_file(), f"the C header is not at {HEADER}"
    return HEADER.read_text()


def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))


PROTO = re.compile(r"(?P<ret>[A-Za-z_][\w\s\*]*?)\s*\b(?P<name>od_\w+)\s*\((?P<params>[^()]*)\)\s*;")


def prototypes() -> Dict[str, Tuple[str, List[str]]]:
    """name -> (return type, [parameter types]) for every od_ function."""
    out: Dict[str, Tuple[str, List[str]]] = {}
    for m in PROTO.finditer(strip_comments(header_text())):
        ret = " ".join(m["ret"].split())
        if ret.startswith("typedef"):
            continue
        params = " ".join(m["params"].split())
        types: List[str] = []
        if params and params != "void":
            for p in params.split(","):
                p = p.strip()
                pm = re.fullmatch(r"(.*?)\s*\b(\w+)", p)
                assert pm, f"cannot read parameter {p!r} of {m['name']}"
                types.append(pm[1])
        out[m["name"]] = (ret, types)
    return out


def enum_values(name: str) -> Dict[str, int]:
    text = strip_comments(header_text())
    m = re.search(r"enum\s+" + name + r"\s*(?::\s*\w+\s*)?\{(?P<body>.*?)\}", text, flags=re.S)
    assert m, f"enum {name} not in the header"
    return {k: int(v) for k, v in re.findall(r"\b(OD_\w+)\s*=\s*(-?\d+)", m["body"])}


VERSION_DEFINES = {"OD_VERSION_MAJOR", "OD_VERSION_MINOR", "OD_VERSION_PATCH", "OD_VERSION_STRING"}


def defines() -> Dict[str, str]:
    """Every ``#define OD_…`` with its value (numbers and strings as written)."""
    return dict(re.findall(r"^\s*#define\s+(OD_\w+)\s+(.+?)\s*$", header_text(), flags=re.M))


def normalize(ctype: str) -> str:
    t = re.sub(r"\bconst\b", " ", ctype)
    t = re.sub(r"\s*\*", " *", t)
    return " ".join(t.split()).replace("* *", "**")


OPAQUE = {
    "od_client": _ffi.od_client,
    "od_job": _ffi.od_job,
    "od_item": _ffi.od_item,
    "od_cancel": _ffi.od_cancel,
    "od_session": _ffi.od_session,
}
INT32_ENUMS = {"od_status", "od_job_state", "od_conflict", "od_error_field"}
# C type (const dropped) -> ctypes type; pointers are built by peeling stars
KNOWN = {
    "void": None,
    "bool": ctypes.c_bool,
    "int": ctypes.c_int,
    "uint8_t": ctypes.c_uint8,
    "int32_t": ctypes.c_int32,
    "uint32_t": ctypes.c_uint32,
    "int64_t": ctypes.c_int64,
    "uint64_t": ctypes.c_uint64,
    "size_t": ctypes.c_size_t,
    "double": ctypes.c_double,
    "char *": ctypes.c_char_p,  # NUL-terminated strings
    "void *": ctypes.c_void_p,  # userdata
    "od_progress_fn": _ffi.PROGRESS_FN,
    "od_token_fn": _ffi.TOKEN_FN,
    "od_read_fn": _ffi.READ_FN,
    **{e: ctypes.c_int32 for e in INT32_ENUMS},
    **OPAQUE,
}


def expected_ctype(ctype: str):  # type: ignore[no-untyped-def]
    t = normalize(ctype)
    if t in KNOWN:
        return KNOWN[t]
    if t.endswith("*"):
        return ctypes.POINTER(expected_ctype(t[:-1].rstrip()))
    pytest.fail(f"the drift test does not know the C type {ctype!r}: teach it (KNOWN / OPAQUE)")


def test_the_header_parses_into_many_functions() -> None:
    protos = prototypes()
    assert len(protos) >= 40, sorted(protos)
    assert protos["od_upload"][1][0] == "const od_client *"
    assert protos["od_version"] == ("const char *", [])


def test_every_header_function_is_declared_in_ffi() -> None:
    missing = sorted(set(prototypes()) - set(_ffi.FUNCTIONS))
    assert not missing, (
        f"functions in {HEADER.name} with no ctypes declaration in onedrive_native/_ffi.py "
        f"FUNCTIONS: {missing}"
    )


def test_no_stale_declarations() -> None:
    stale = sorted(set(_ffi.FUNCTIONS) - set(prototypes()))
    assert not stale, f"declared in _ffi but gone from the header: {stale}"


def test_declared_argument_counts_and_types_match_the_header() -> None:
    problems = []
    for name, (ret, params) in sorted(prototypes().items()):
        if name not in _ffi.FUNCTIONS:
            continue
        restype, argtypes = _ffi.FUNCTIONS[name]
        if len(argtypes) != len(params):
            problems.append(f"{name}: header has {len(params)} arguments, _ffi declares {len(argtypes)}")
            continue
        want_ret = expected_ctype(ret)
        if restype is not want_ret:
            problems.append(f"{name}: returns {ret!r}, _ffi declares {restype}")
        for i, (p, a) in enumerate(zip(params, argtypes)):
            want = expected_ctype(p)
            if a is not want:
                problems.append(f"{name} argument {i}: {p!r} wants {want}, _ffi declares {a}")
    assert not problems, "\n".join(problems)


def test_the_loaded_library_exports_every_declared_function() -> None:
    assert not _ffi.MISSING, f"{_ffi.library_path} lacks {_ffi.MISSING}"
    for name, (restype, argtypes) in _ffi.FUNCTIONS.items():
        fn = getattr(_ffi.lib, name)
        assert fn.argtypes == tuple(argtypes) or list(fn.argtypes) == argtypes, name
        assert fn.restype is restype or (restype is None and fn.restype is None), name


def test_every_status_maps_to_an_exception_class() -> None:
    statuses = enum_values("od_status")
    assert statuses["OD_OK"] == 0 and len(statuses) >= 26
    for cname, number in statuses.items():
        assert errors.Status(number).c_name == cname, f"{cname} = {number} not in errors.Status"
        if number == 0:
            continue
        cls = od.exception_class(number)
        assert cls is not od.OneDriveError, f"{cname} has no exception class"
        assert issubclass(cls, od.OneDriveError) and cls.status == number, cname
    # and nothing stale on the Python side
    assert {s.c_name for s in errors.Status} == set(statuses)
    assert set(errors.EXCEPTIONS) == {n for n in statuses.values() if n}
    # the library's own texts agree on the names
    for cname, number in statuses.items():
        assert errors.Status(number).describe().startswith(cname), cname


def test_other_enums_and_flags_match() -> None:
    assert enum_values("od_conflict") == {f"OD_CONFLICT_{c.name}": c.value for c in Conflict}
    assert enum_values("od_job_state") == {f"OD_JOB_{s.name}": s.value for s in JobState}
    fields = enum_values("od_error_field")
    for k, v in fields.items():
        assert getattr(_ffi, k) == v, k
    flags = {k: int(v) for k, v in defines().items() if k not in VERSION_DEFINES}
    assert flags["OD_CLIENT_ALLOW_INSECURE_HTTP"] == _ffi.OD_CLIENT_ALLOW_INSECURE_HTTP
    assert flags["OD_COPY_LEGACY"] == _ffi.OD_COPY_LEGACY
    for k, v in flags.items():
        assert getattr(_ffi, k, None) == v, f"#define {k} {v} in the header is not in _ffi"
    assert od.Hash.SHA1 == flags["OD_HASH_SHA1"] and od.Hash.SHA256 == flags["OD_HASH_SHA256"]


def test_the_loaded_library_is_the_version_the_header_describes() -> None:
    found = defines()
    if "OD_VERSION_STRING" not in found:
        pytest.skip("the header has no OD_VERSION_STRING")
    header_version = found["OD_VERSION_STRING"].strip('"')
    parts = [found.get(f"OD_VERSION_{p}") for p in ("MAJOR", "MINOR", "PATCH")]
    assert ".".join(str(p) for p in parts) == header_version
    assert od.native_version() == header_version, f"{_ffi.library_path} is {od.native_version()}"
    assert od.__version__ == header_version, "the package version is not the crate's"
