#!/usr/bin/env python3
"""Assembles a NuGet package (.nupkg) from built files, without a NuGet client.

A .nupkg is an OPC zip: the .nuspec (the package's metadata) at the top,
[Content_Types].xml, _rels/.rels pointing at the nuspec and at the core
properties (package/services/metadata/core-properties/*.psmdcp), and the
payload: lib/<tfm>/ for managed assemblies, runtimes/<rid>/native/ for the
native libraries that a restore picks by runtime identifier (linux-x64,
linux-arm64, ...). Debian's nuget (2.8) predates runtimes/ and `dotnet pack`
is not on the project's machines, hence this script (bindings/csharp/pack.sh
calls it).

  pack.py --id OneDriveNative --version 0.1.0 --description TEXT --license "MIT OR Apache-2.0" \
          --lib netstandard2.0=build/OneDriveNative.dll \
          --native linux-x64=libonedrive_native.so [--native linux-arm64=...] \
          [--readme README.md] [--commit SHA] --out OneDriveNative.0.1.0.nupkg

The zip is reproducible: entries sorted, fixed timestamps
(SOURCE_DATE_EPOCH when set), ids derived from the package id and version.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import time
import zipfile
from pathlib import Path
from typing import Dict, List, Tuple
from xml.sax.saxutils import escape, quoteattr

NUSPEC_NS = "http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd"
# what `dotnet pack` writes for netstandard2.0 / 2.1 libraries
TFM_GROUPS = {"netstandard2.0": ".NETStandard2.0", "netstandard2.1": ".NETStandard2.1"}
MANIFEST_REL = "http://schemas.microsoft.com/packaging/2010/07/manifest"
CORE_PROPS_REL = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"


def pair(text: str) -> Tuple[str, Path]:
    key, _, value = text.partition("=")
    if not key or not value:
        raise argparse.ArgumentTypeError(f"expected KEY=PATH, got {text!r}")
    path = Path(value)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"no file at {value}")
    return key, path


def nuspec(a: argparse.Namespace, tfms: List[str]) -> str:
    license_url = "https://licenses.nuget.org/" + a.license.replace(" ", "%20")
    groups = "\n".join(f'      <group targetFramework="{TFM_GROUPS.get(t, t)}" />' for t in tfms)
    repo = f'\n    <repository type="git" commit={quoteattr(a.commit)} />' if a.commit else ""
    readme = "\n    <readme>README.md</readme>" if a.readme else ""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<package xmlns="{NUSPEC_NS}">
  <metadata>
    <id>{escape(a.id)}</id>
    <version>{escape(a.version)}</version>
    <title>{escape(a.id)}</title>
    <authors>{escape(a.authors)}</authors>
    <requireLicenseAcceptance>false</requireLicenseAcceptance>
    <license type="expression">{escape(a.license)}</license>
    <licenseUrl>{escape(license_url)}</licenseUrl>{readme}
    <description>{escape(a.description)}</description>
    <tags>{escape(a.tags)}</tags>{repo}
    <dependencies>
{groups}
    </dependencies>
  </metadata>
</package>
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--id", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--description", required=True)
    ap.add_argument("--license", required=True, help="an SPDX license expression")
    ap.add_argument("--authors", default="onedrive-native contributors")
    ap.add_argument("--tags", default="onedrive sharepoint microsoft-graph upload native")
    ap.add_argument("--lib", type=pair, action="append", default=[], help="TFM=assembly.dll (its .xml beside it too)")
    ap.add_argument("--native", type=pair, action="append", default=[], help="RID=native library")
    ap.add_argument("--readme", type=Path)
    ap.add_argument("--commit", default="")
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    if not a.lib:
        ap.error("at least one --lib")

    files: Dict[str, bytes] = {}
    for tfm, dll in a.lib:
        files[f"lib/{tfm}/{dll.name}"] = dll.read_bytes()
        doc = dll.with_suffix(".xml")
        if doc.is_file():
            files[f"lib/{tfm}/{doc.name}"] = doc.read_bytes()
    for rid, lib in a.native:
        files[f"runtimes/{rid}/native/{lib.name}"] = lib.read_bytes()
    if a.readme:
        files["README.md"] = a.readme.read_bytes()
    files[f"{a.id}.nuspec"] = nuspec(a, [t for t, _ in a.lib]).encode()

    seed = hashlib.sha256(f"{a.id}/{a.version}".encode()).hexdigest()
    props = f"package/services/metadata/core-properties/{seed[:32]}.psmdcp"
    files[props] = f"""<?xml version="1.0" encoding="utf-8"?>
<coreProperties xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.openxmlformats.org/package/2006/metadata/core-properties">
  <dc:creator>{escape(a.authors)}</dc:creator>
  <dc:description>{escape(a.description)}</dc:description>
  <dc:identifier>{escape(a.id)}</dc:identifier>
  <version>{escape(a.version)}</version>
  <keywords>{escape(a.tags)}</keywords>
  <lastModifiedBy>bindings/csharp/nupkg/pack.py</lastModifiedBy>
</coreProperties>
""".encode()
    files["_rels/.rels"] = f"""<?xml version="1.0" encoding="utf-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
  <Relationship Type="{MANIFEST_REL}" Target="/{a.id}.nuspec" Id="R{seed[32:48].upper()}" />
  <Relationship Type="{CORE_PROPS_REL}" Target="/{props}" Id="R{seed[48:64].upper()}" />
</Relationships>
""".encode()
    extensions = sorted({Path(n).suffix[1:].lower() for n in files if Path(n).suffix} - {"rels", "psmdcp"})
    defaults = ['  <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml" />',
                '  <Default Extension="psmdcp" ContentType="application/vnd.openxmlformats-package.core-properties+xml" />']
    defaults += [f'  <Default Extension="{e}" ContentType="application/octet" />' for e in extensions]
    files["[Content_Types].xml"] = ('<?xml version="1.0" encoding="utf-8"?>\n'
                                    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\n'
                                    + "\n".join(defaults) + "\n</Types>\n").encode()

    stamp = time.gmtime(max(int(os.environ.get("SOURCE_DATE_EPOCH", "315532800")), 315532800))[:6]
    a.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = a.out.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, files[name])
    tmp.replace(a.out)
    print(f"pack.py: wrote {a.out} ({a.out.stat().st_size} bytes, {len(files)} entries)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
