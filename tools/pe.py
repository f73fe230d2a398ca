#!/usr/bin/env python3
"""What a Windows DLL (PE/COFF) says about itself, read without Windows tools.

  pe.py check DLL --abi include/onedrive.abi.json
      the DLL is a 64-bit x86-64 DLL, exports every function of the ABI and
      imports nothing but Windows system DLLs (no mingw runtime such as
      libgcc_s_seh-1.dll or libwinpthread-1.dll to ship beside it).
  pe.py def --abi include/onedrive.abi.json
      the module-definition file (.def) of the DLL's exports, for MSVC's
      `lib /def:onedrive_native.def /machine:x64 /out:onedrive_native.lib`.

Used by make windows and test-windows, bindings/csharp/nupkg/check_nupkg.py
(runtimes/win-x64) and bindings/python/wheel.sh (the win_amd64 wheel).
"""
from __future__ import annotations

import argparse
import json
import struct
import sys
from pathlib import Path
from typing import List, NamedTuple

MACHINE_AMD64 = 0x8664
IMAGE_FILE_DLL = 0x2000
# What a DLL may import on every Windows it supports: the system's own DLLs
# (and the api-ms-win-* API sets). Compared case-insensitively.
SYSTEM_DLLS = {
    "kernel32.dll", "ntdll.dll", "advapi32.dll", "ws2_32.dll", "userenv.dll", "bcrypt.dll",
    "bcryptprimitives.dll", "crypt32.dll", "secur32.dll", "user32.dll", "ole32.dll",
    "oleaut32.dll", "shell32.dll", "msvcrt.dll", "ucrtbase.dll", "ncrypt.dll", "iphlpapi.dll",
}


class Pe(NamedTuple):
    machine: int
    characteristics: int
    exports: List[str]
    imports: List[str]


def parse(data: bytes) -> Pe:
    if data[:2] != b"MZ":
        raise ValueError("not a PE file (no MZ header)")
    pe = struct.unpack_from("<I", data, 0x3C)[0]
    if data[pe:pe + 4] != b"PE\0\0":
        raise ValueError("no PE signature")
    machine, nsections, _, _, _, opt_size, characteristics = struct.unpack_from("<HHIIIHH", data, pe + 4)
    opt = pe + 24
    magic = struct.unpack_from("<H", data, opt)[0]
    if magic != 0x20B:
        raise ValueError(f"optional header magic {magic:#x}, not PE32+")
    dirs = opt + 112
    sections = []
    for i in range(nsections):
        s = opt + opt_size + 40 * i
        vsize, va, rawsize, rawptr = struct.unpack_from("<IIII", data, s + 8)
        sections.append((va, max(vsize, rawsize), rawptr))

    def off(rva: int) -> int:
        for va, size, raw in sections:
            if va <= rva < va + size:
                return rva - va + raw
        raise ValueError(f"RVA {rva:#x} is in no section")

    def cstr(rva: int) -> str:
        o = off(rva)
        return data[o:data.index(b"\0", o)].decode("ascii")

    exports: List[str] = []
    exp_rva, exp_size = struct.unpack_from("<II", data, dirs)
    if exp_rva and exp_size:
        e = off(exp_rva)
        # IMAGE_EXPORT_DIRECTORY: NumberOfNames at 24, AddressOfNames at 32
        nnames = struct.unpack_from("<I", data, e + 24)[0]
        names_rva = struct.unpack_from("<I", data, e + 32)[0]
        names = off(names_rva)
        exports = [cstr(struct.unpack_from("<I", data, names + 4 * i)[0]) for i in range(nnames)]
    imports: List[str] = []
    imp_rva, imp_size = struct.unpack_from("<II", data, dirs + 8)
    if imp_rva and imp_size:
        d = off(imp_rva)
        while True:
            name_rva = struct.unpack_from("<I", data, d + 12)[0]
            if name_rva == 0:
                break
            imports.append(cstr(name_rva))
            d += 20
    return Pe(machine, characteristics, exports, imports)


def check(data: bytes, functions: List[str]) -> None:
    """AssertionError naming what is wrong with a DLL meant for win-x64."""
    try:
        pe = parse(data)
    except ValueError as e:
        raise AssertionError(str(e)) from None
    assert pe.machine == MACHINE_AMD64, f"machine {pe.machine:#x}, not x86-64 ({MACHINE_AMD64:#x})"
    assert pe.characteristics & IMAGE_FILE_DLL, "not a DLL"
    missing = sorted(set(functions) - set(pe.exports))
    assert not missing, f"does not export {missing}"
    foreign = sorted(i for i in pe.imports if i.lower() not in SYSTEM_DLLS and not i.lower().startswith("api-ms-win-"))
    assert not foreign, f"imports DLLs Windows does not have: {foreign}"


def abi_functions(abi: Path) -> List[str]:
    return sorted(json.loads(abi.read_text())["functions"])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["check", "def"])
    ap.add_argument("dll", nargs="?", type=Path)
    ap.add_argument("--abi", type=Path, required=True)
    a = ap.parse_args()
    functions = abi_functions(a.abi)
    if a.command == "def":
        print("LIBRARY onedrive_native.dll\nEXPORTS")
        for f in functions:
            print(f"    {f}")
        return 0
    if a.dll is None:
        ap.error("check needs the DLL")
    try:
        check(a.dll.read_bytes(), functions)
    except AssertionError as e:
        print(f"pe.py: {a.dll}: {e}", file=sys.stderr)
        return 1
    pe = parse(a.dll.read_bytes())
    print(f"pe.py: {a.dll.name}: x86-64 DLL, exports the {len(functions)} functions of the ABI "
          f"({len(pe.exports)} exports), imports only {', '.join(sorted(pe.imports, key=str.lower))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
