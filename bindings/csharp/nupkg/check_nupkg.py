#!/usr/bin/env python3
"""Checks the layout of the OneDriveNative .nupkg that pack.sh built.

  check_nupkg.py PACKAGE.nupkg --version 0.1.0 --license "MIT OR Apache-2.0" --abi include/onedrive.abi.json \
                 [--rid linux-x64 --rid linux-arm64]

- the OPC parts: [Content_Types].xml covers every entry's extension;
  _rels/.rels points at the .nuspec (manifest) and the core properties, which
  exist; no entry name is absolute, has a backslash or repeats;
- the .nuspec: its namespace, id OneDriveNative, the version (Cargo.toml's),
  the license expression, a description, the readme entry present, and two
  dependency groups, .NETStandard2.0 and .NETStandard2.1, with no dependency
  (the assemblies reference only the framework: the consumer test checks
  that at run time);
  the core properties agree on id and version;
- lib/netstandard2.0/ and lib/netstandard2.1/OneDriveNative.dll are .NET
  assemblies (PE with a CLI header) with their XML docs, the 2.1 one naming
  IAsyncDisposable and IAsyncEnumerable`1 and the 2.0 one neither (they
  are not in netstandard2.0); nothing else under lib/;
- runtimes/<rid>/native/libonedrive_native.so for each Linux --rid: an ELF
  shared object for that machine (x86-64, aarch64) exporting every function
  of include/onedrive.abi.json (nm -D); runtimes/win-x64/native/onedrive_native.dll
  for --rid win-x64: an x86-64 DLL exporting them and importing only
  Windows' own DLLs (tools/pe.py), named as .NET resolves the assembly's
  DllImport module name on Windows (the name + ".dll"); no other runtime.

Prints one line per check and "nupkg: N passed, M failed".
"""
from __future__ import annotations

import argparse
import json
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path, PurePosixPath
from typing import Callable, List

NUSPEC_NS = "http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CP_NS = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
DC_NS = "http://purl.org/dc/elements/1.1/"
MANIFEST_REL = "http://schemas.microsoft.com/packaging/2010/07/manifest"
CORE_PROPS_REL = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"
ELF_MACHINE = {"linux-x64": 62, "linux-arm64": 183}  # EM_X86_64, EM_AARCH64
TFMS = {"netstandard2.0": ".NETStandard2.0", "netstandard2.1": ".NETStandard2.1"}
ASYNC_INTERFACES = (b"IAsyncDisposable", b"IAsyncEnumerable`1")
WINDOWS_RIDS = {"win-x64"}
# The module name of the assembly's [DllImport]s (NativeMethods.Lib).
NATIVE_MODULE = "onedrive_native"

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tools"))
import pe  # noqa: E402  (tools/pe.py)


def dll(tfm: str) -> str:
    return f"lib/{tfm}/OneDriveNative.dll"


def native_entry(rid: str) -> str:
    """Where a runtime's native library sits, named as .NET probes for it on that OS."""
    if rid in WINDOWS_RIDS:
        return f"runtimes/{rid}/native/{NATIVE_MODULE}.dll"
    return f"runtimes/{rid}/native/lib{NATIVE_MODULE}.so"


class Checks:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def run(self, what: str, fn: Callable[[], None]) -> None:
        try:
            fn()
        except AssertionError as e:
            self.failed += 1
            print(f"FAIL {what}: {e}")
        else:
            self.passed += 1
            print(f"ok   {what}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("nupkg", type=Path)
    ap.add_argument("--version", required=True)
    ap.add_argument("--license", required=True)
    ap.add_argument("--abi", type=Path, required=True)
    ap.add_argument("--rid", action="append", default=[], help="a runtime that must be there (repeat)")
    a = ap.parse_args()

    z = zipfile.ZipFile(a.nupkg)
    names = z.namelist()
    entries = set(names)
    c = Checks()

    def names_are_clean() -> None:
        assert len(names) == len(entries), f"repeated entries: {sorted(n for n in entries if names.count(n) > 1)}"
        bad = [n for n in names if n.startswith("/") or "\\" in n or ".." in PurePosixPath(n).parts]
        assert not bad, f"bad entry names {bad}"

    def content_types() -> None:
        root = ET.fromstring(z.read("[Content_Types].xml"))
        assert root.tag == f"{{{CT_NS}}}Types", root.tag
        exts = {d.get("Extension", "").lower() for d in root.findall(f"{{{CT_NS}}}Default")}
        overrides = {o.get("PartName") for o in root.findall(f"{{{CT_NS}}}Override")}
        # OPC: the extension is what follows the last dot of the last segment (".rels" -> "rels")
        missing = [n for n in names if n != "[Content_Types].xml" and "/" + n not in overrides
                   and n.rsplit("/", 1)[-1].rpartition(".")[2].lower() not in exts]
        assert not missing, f"no content type for {missing}"

    def rels() -> None:
        root = ET.fromstring(z.read("_rels/.rels"))
        targets = {r.get("Type"): r.get("Target", "").lstrip("/") for r in root.findall(f"{{{REL_NS}}}Relationship")}
        assert targets.get(MANIFEST_REL) == "OneDriveNative.nuspec", f"manifest relationship: {targets}"
        props = targets.get(CORE_PROPS_REL, "")
        assert props.startswith("package/services/metadata/core-properties/") and props.endswith(".psmdcp"), targets
        for t in targets.values():
            assert t in entries, f"_rels/.rels points at {t}, which is not in the package"

    nuspecs = [n for n in names if "/" not in n and n.endswith(".nuspec")]
    md = {}

    def nuspec() -> None:
        assert nuspecs == ["OneDriveNative.nuspec"], f"top-level nuspecs: {nuspecs}"
        root = ET.fromstring(z.read(nuspecs[0]))
        assert root.tag == f"{{{NUSPEC_NS}}}package", root.tag
        meta = root.find(f"{{{NUSPEC_NS}}}metadata")
        assert meta is not None, "no <metadata>"
        for child in meta:
            md[child.tag.split("}")[1]] = child
        assert md["id"].text == "OneDriveNative", md["id"].text
        assert md["version"].text == a.version, f"version {md['version'].text}, Cargo.toml says {a.version}"
        lic = md["license"]
        assert lic.get("type") == "expression" and lic.text == a.license, f"license {lic.attrib} {lic.text}"
        assert (md["description"].text or "").strip(), "empty description"
        assert md["authors"].text, "no authors"
        readme = md.get("readme")
        assert readme is not None and readme.text in entries, f"readme {readme.text if readme is not None else None}"

    def dependencies() -> None:
        deps = md["dependencies"]
        groups = deps.findall(f"{{{NUSPEC_NS}}}group")
        loose = deps.findall(f"{{{NUSPEC_NS}}}dependency")
        assert not loose, "dependencies outside a target-framework group"
        assert [g.get("targetFramework") for g in groups] == list(TFMS.values()), \
            f"groups {[g.get('targetFramework') for g in groups]}"
        for g in groups:
            assert not list(g), f"the assembly needs no package, yet {g.get('targetFramework')} lists {[d.attrib for d in g]}"

    def core_properties() -> None:
        props = [n for n in names if n.startswith("package/services/metadata/core-properties/")]
        assert len(props) == 1, props
        root = ET.fromstring(z.read(props[0]))
        assert root.tag == f"{{{CP_NS}}}coreProperties", root.tag
        assert root.findtext(f"{{{DC_NS}}}identifier") == "OneDriveNative"
        assert root.findtext(f"{{{CP_NS}}}version") == a.version

    def lib_holds_the_assemblies() -> None:
        libs = sorted(n for n in names if n.startswith("lib/"))
        want = sorted(f for t in TFMS for f in (dll(t), dll(t)[:-4] + ".xml"))
        assert libs == want, f"lib/ holds {libs}"

    def managed(tfm: str) -> None:
        data = z.read(dll(tfm))
        for name in ASYNC_INTERFACES:
            assert (name in data) == (tfm != "netstandard2.0"), \
                f"{name.decode()} {'named' if name in data else 'missing'} in the {tfm} assembly"
        assert data[:2] == b"MZ", "not a PE file"
        pe = struct.unpack_from("<I", data, 0x3C)[0]
        assert data[pe:pe + 4] == b"PE\0\0", "no PE signature"
        opt = pe + 24
        magic = struct.unpack_from("<H", data, opt)[0]
        dirs = opt + (96 if magic == 0x10B else 112)
        cli_rva, cli_size = struct.unpack_from("<II", data, dirs + 14 * 8)
        assert cli_rva and cli_size, "no CLI header: not a .NET assembly"
        doc = ET.fromstring(z.read(dll(tfm)[:-4] + ".xml"))
        assert doc.findtext("assembly/name") == "OneDriveNative", "the XML docs name another assembly"

    functions = sorted(json.loads(a.abi.read_text())["functions"])

    def native(rid: str) -> Callable[[], None]:
        def check() -> None:
            entry = native_entry(rid)
            assert entry in entries, f"no {entry}"
            data = z.read(entry)
            if rid in WINDOWS_RIDS:
                pe.check(data, functions)
                # The assembly's ModuleRef, a NUL-terminated name in its #Strings heap:
                # "onedrive_native", to which .NET on Windows appends ".dll".
                for tfm in TFMS:
                    assert b"\0" + NATIVE_MODULE.encode() + b"\0" in z.read(dll(tfm)), \
                        f"{dll(tfm)} imports no module named {NATIVE_MODULE!r}"
                return
            assert data[:4] == b"\x7fELF" and data[4] == 2, "not a 64-bit ELF"
            e_type, e_machine = struct.unpack_from("<HH", data, 16)
            assert e_type == 3, f"ELF type {e_type}, not a shared object"
            assert e_machine == ELF_MACHINE[rid], f"ELF machine {e_machine}, not {ELF_MACHINE[rid]} ({rid})"
            with tempfile.NamedTemporaryFile(suffix=".so") as f:
                f.write(data)
                f.flush()
                out = subprocess.run(["nm", "-D", "--defined-only", f.name], capture_output=True, text=True,
                                     check=True).stdout
            exported = {line.split()[-1] for line in out.splitlines() if line.split()[1:2] == ["T"]}
            missing = [fn for fn in functions if fn not in exported]
            assert not missing, f"does not export {missing}"
        return check

    def no_other_runtime() -> None:
        rids = sorted({n.split("/")[1] for n in names if n.startswith("runtimes/")})
        assert set(rids) <= set(ELF_MACHINE) | WINDOWS_RIDS, f"runtimes {rids}"
        extra = [n for n in names if n.startswith("runtimes/") and n != native_entry(n.split("/")[1])]
        assert not extra, f"unexpected runtime files {extra}"

    c.run("entry names (relative, forward slashes, no repeats)", names_are_clean)
    c.run("[Content_Types].xml covers every entry", content_types)
    c.run("_rels/.rels: the manifest and the core properties", rels)
    c.run(f"nuspec: id OneDriveNative, version {a.version}, license {a.license!r}, readme", nuspec)
    if md:
        c.run("nuspec: two dependency groups, .NETStandard2.0 and 2.1, empty", dependencies)
    c.run("core properties: id and version", core_properties)
    c.run("lib/: the two assemblies and their XML docs, nothing else", lib_holds_the_assemblies)
    for tfm in TFMS:
        c.run(f"{dll(tfm)}: a .NET assembly, with its XML docs; the async interfaces where {tfm} has them",
              lambda tfm=tfm: managed(tfm))
    for rid in a.rid or ["linux-x64"]:
        kind = "PE DLL" if rid in WINDOWS_RIDS else "ELF"
        c.run(f"{native_entry(rid)}: {kind} for {rid}, exports the {len(functions)} "
              "functions of the ABI", native(rid))
    c.run("runtimes/: nothing but the native libraries", no_other_runtime)
    print(f"nupkg: {c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
