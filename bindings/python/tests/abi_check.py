"""The Python binding against include/onedrive.abi.json, field by field.

Fails (returns problems) in the three cases every binding's check fails in:
a header function with no ctypes declaration in ``_ffi.FUNCTIONS``, a
declaration whose arity or types differ (also the callback types), and a
constant or enum value that differs.

    python abi_check.py [--package-dir DIR] [--abi FILE]

imports ``onedrive_native`` from DIR (it loads the library named by
ONEDRIVE_NATIVE_LIB or the bundled one) and exits 1 on any problem.
"""
from __future__ import annotations

import argparse
import ctypes
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, List

ABI_FILE = Path(__file__).resolve().parents[3] / "include" / "onedrive.abi.json"


def load(path: Path = ABI_FILE) -> Dict[str, Any]:
    return json.loads(path.read_text())


def ctypes_for(abi: Dict[str, Any], ffi: ModuleType) -> Dict[str, Any]:
    """C type name (without const) -> the ctypes type the binding must use."""
    known: Dict[str, Any] = {
        "void": None, "bool": ctypes.c_bool, "int": ctypes.c_int, "double": ctypes.c_double,
        "uint8_t": ctypes.c_uint8, "int32_t": ctypes.c_int32, "uint32_t": ctypes.c_uint32,
        "int64_t": ctypes.c_int64, "uint64_t": ctypes.c_uint64, "size_t": ctypes.c_size_t,
        "char *": ctypes.c_char_p,  # NUL-terminated strings
        "void *": ctypes.c_void_p,  # userdata
    }
    for name in abi["opaque"]:
        known[name] = getattr(ffi, name, "missing _ffi." + name)
    for name, enum in abi["enums"].items():
        known[name] = known[enum["type"]]
    for name in abi["callbacks"]:  # od_progress_fn -> _ffi.PROGRESS_FN
        known[name] = getattr(ffi, name[3:].upper(), "missing _ffi." + name[3:].upper())
    return known


def expected(c_type: str, known: Dict[str, Any]) -> Any:
    t = c_type.replace("const ", "").replace(" const", "")
    if t in known:
        return known[t]
    if t.endswith("*"):
        inner = expected(t[:-1].rstrip(), known)
        return inner if isinstance(inner, str) else ctypes.POINTER(inner)
    return f"a C type abi_check.py does not know ({c_type!r}): teach ctypes_for"


def compare(what: str, c_ret: str, c_params: List[Dict[str, str]], restype: Any, argtypes: List[Any],
            known: Dict[str, Any]) -> List[str]:
    if len(argtypes) != len(c_params):
        return [f"{what}: the header has {len(c_params)} arguments, the binding declares {len(argtypes)}"]
    out = []
    want = expected(c_ret, known)
    if restype is not want:
        out.append(f"{what}: returns {c_ret} ({want}), the binding declares {restype}")
    for i, (p, got) in enumerate(zip(c_params, argtypes)):
        want = expected(p["type"], known)
        if got is not want:
            out.append(f"{what} argument {i} ({p['name']}): {p['type']} wants {want}, the binding declares {got}")
    return out


def check_enum(c_name: str, values: Dict[str, int], binding: Dict[str, int]) -> List[str]:
    out = [f"{c_name} {k} = {v} in the header, {binding.get(k)} in the binding"
           for k, v in values.items() if binding.get(k) != v]
    out += [f"{c_name}: the binding has {k}, the header does not" for k in binding if k not in values]
    return out


def problems(abi: Dict[str, Any], package: ModuleType) -> List[str]:
    ffi, client, errors = package._ffi, package.client, package.errors
    known = ctypes_for(abi, ffi)
    out = []
    # 1. every header function declared, none stale
    out += [f"{n}: in the header, no ctypes declaration in _ffi.FUNCTIONS"
            for n in abi["functions"] if n not in ffi.FUNCTIONS]
    out += [f"{n}: declared in _ffi.FUNCTIONS, not in the header" for n in ffi.FUNCTIONS if n not in abi["functions"]]
    # 2. arity and types, functions and callbacks
    for name, fn in abi["functions"].items():
        if name in ffi.FUNCTIONS:
            restype, argtypes = ffi.FUNCTIONS[name]
            out += compare(name, fn["return"], fn["params"], restype, argtypes, known)
    for name, cb in abi["callbacks"].items():
        proto = known[name]
        if isinstance(proto, str):
            out.append(f"{name}: {proto}")
        else:
            out += compare(name, cb["return"], cb["params"], proto._restype_, list(proto._argtypes_), known)
    # 3. constants and enum values
    for name, value in abi["constants"].items():
        if not name.startswith("OD_VERSION_") and getattr(ffi, name, None) != value:
            out.append(f"#define {name} {value} in the header, _ffi.{name} = {getattr(ffi, name, None)}")
    defaults = {"DEFAULT_CHUNK_SIZE": "OD_DEFAULT_CHUNK_SIZE", "CHUNK_UNIT": "OD_CHUNK_UNIT",
                "DEFAULT_SIMPLE_LIMIT": "OD_DEFAULT_SIMPLE_UPLOAD_LIMIT"}
    for py, c in defaults.items():
        if getattr(client, py) != abi["constants"][c]:
            out.append(f"client.{py} = {getattr(client, py)}, the header's {c} = {abi['constants'][c]}")
    if (client.Hash.SHA1, client.Hash.SHA256) != (abi["constants"]["OD_HASH_SHA1"], abi["constants"]["OD_HASH_SHA256"]):
        out.append("client.Hash differs from OD_HASH_SHA1 / OD_HASH_SHA256")
    enums = {name: e["values"] for name, e in abi["enums"].items()}
    out += check_enum("od_status", enums["od_status"], {s.c_name: s.value for s in errors.Status})
    out += check_enum("od_conflict", enums["od_conflict"], {f"OD_CONFLICT_{c.name}": c.value for c in client.Conflict})
    out += check_enum("od_job_state", enums["od_job_state"], {f"OD_JOB_{s.name}": s.value for s in client.JobState})
    out += check_enum("od_error_field", enums["od_error_field"],
                      {k: getattr(ffi, k) for k in dir(ffi) if k.startswith("OD_ERROR_")})
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--package-dir", type=Path, default=Path(__file__).resolve().parents[1])
    ap.add_argument("--abi", type=Path, default=ABI_FILE)
    args = ap.parse_args()
    sys.path.insert(0, str(args.package_dir))
    import onedrive_native

    found = problems(load(args.abi), onedrive_native)
    for p in found:
        print("FAIL " + p)
    print(f"python abi check: {len(found)} problem(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
