#!/usr/bin/env python3
"""Where the bytes of libonedrive_native.so go, grouped by crate.

    python3 bench/bloat.py PATH_TO_SO [--top N] [--stripped PATH]

PATH_TO_SO must still have its symbol table (a release build does: cargo
strips only debug info there; the `mobile` profile strips all, so build it
with CARGO_PROFILE_MOBILE_STRIP=false). Needs only binutils' `nm`.

Prints a markdown table: code (.text) and read-only data per crate, then the
parts no symbol owns (unwind tables, relocations, ...). With --top N, the N
largest functions too.

A monomorphised generic counts for the first non-std crate in its name
(`core::ptr::drop_in_place::<ureq::Agent>` is ureq's), as cargo-bloat does
roughly; ring's C and assembly symbols (`ring_core_*` and the static ones
between them) count for ring.
"""

import argparse
import re
import subprocess
import sys
from collections import defaultdict

STD = {"std", "core", "alloc", "proc_macro"}
# std's own dependencies (backtrace symbolisation, hash maps, ...).
STD_DEPS = {
    "gimli",
    "addr2line",
    "miniz_oxide",
    "rustc_demangle",
    "hashbrown",
    "object",
    "std_detect",
    "adler",
    "adler2",
    "memchr_std",
    "panic_unwind",
    "unwind",
}
OUR_CRATE = "onedrive_native"
CRATE_TOKEN = re.compile(r"(?:^|[<\s&(,*\[;])(?:dyn |mut |const )*([A-Za-z_][A-Za-z0-9_]*)::")


def crate_of(name):
    """The crate a demangled Rust symbol is charged to, or None if not Rust."""
    crates = CRATE_TOKEN.findall(name)
    if not crates:
        return None
    for c in crates:
        if c in STD or c in STD_DEPS:
            continue
        if c[0].isupper():  # a type path without crate (`Self::`, `T::`)
            continue
        return c
    return "std"


def section_sizes(path):
    out = subprocess.run(
        ["readelf", "-SW", path], capture_output=True, text=True, check=True
    ).stdout
    sizes = {}
    for line in out.splitlines():
        m = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)", line)
        if m and m.group(1).startswith("."):
            sizes[m.group(1)] = int(m.group(2), 16)
    return sizes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("so")
    ap.add_argument("--top", type=int, default=0, help="also list the N largest functions")
    args = ap.parse_args()

    out = subprocess.run(
        ["nm", "-S", "--defined-only", "--demangle", args.so],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    syms = []
    for line in out.splitlines():
        parts = line.split(" ", 3)
        if len(parts) != 4:
            continue
        addr, size, kind, name = parts
        syms.append((int(addr, 16), int(size, 16), kind, name))
    if not syms:
        sys.exit(f"{args.so}: no symbol table (build it without strip)")
    syms.sort()

    # ring's C/assembly objects are linked contiguously: anything unmangled
    # between its first and last ring_core_ symbol is ring's.
    ring_addrs = [a for a, _, k, n in syms if n.startswith("ring_core_") and k in "tT"]
    ring_lo, ring_hi = (min(ring_addrs), max(ring_addrs)) if ring_addrs else (1, 0)

    code = defaultdict(int)
    data = defaultdict(int)
    funcs = []
    seen = set()
    for addr, size, kind, name in syms:
        if (addr, size) in seen or size == 0:
            continue  # aliases
        seen.add((addr, size))
        crate = crate_of(name)
        if crate is None:
            if name.startswith(("ring_core_", "GFp_")) or ring_lo <= addr <= ring_hi:
                crate = "ring"
            elif name.startswith("od_"):
                crate = OUR_CRATE
            else:
                crate = "[C: libc, compiler-rt, ...]"
        if kind in "tTwW":
            code[crate] += size
            funcs.append((size, crate, name))
        else:
            data[crate] += size

    secs = section_sizes(args.so)
    file_size = sum(v for k, v in secs.items() if not k.startswith((".symtab", ".strtab", ".debug", ".comment", ".bss", ".tbss")))
    crates = sorted(set(code) | set(data), key=lambda c: -(code[c] + data[c]))
    total_sym = sum(code.values()) + sum(data.values())

    print(f"| crate | code | data | total | share |")
    print(f"| --- | ---: | ---: | ---: | ---: |")
    for c in crates:
        t = code[c] + data[c]
        print(f"| {c} | {code[c]:,} | {data[c]:,} | {t:,} | {100 * t / file_size:.1f} % |")
    print(f"| **symbols** | {sum(code.values()):,} | {sum(data.values()):,} | {total_sym:,} | {100 * total_sym / file_size:.1f} % |")
    rest = [
        (".eh_frame + .eh_frame_hdr (unwind tables)", secs.get(".eh_frame", 0) + secs.get(".eh_frame_hdr", 0)),
        (".gcc_except_table (landing pads)", secs.get(".gcc_except_table", 0)),
        (".rela.dyn + .data.rel.ro + .got (relocations)", secs.get(".rela.dyn", 0) + secs.get(".data.rel.ro", 0) + secs.get(".got", 0)),
    ]
    for label, n in rest:
        print(f"| {label} | | | {n:,} | {100 * n / file_size:.1f} % |")
    other = file_size - total_sym - sum(n for _, n in rest)
    print(f"| other (string literals, padding, dynsym, ...) | | | {other:,} | {100 * other / file_size:.1f} % |")
    print(f"| **loaded sections** | | | {file_size:,} | |")

    if args.top:
        print()
        print("| size | crate | function |")
        print("| ---: | --- | --- |")
        for size, crate, name in sorted(funcs, reverse=True)[: args.top]:
            short = name if len(name) <= 110 else name[:107] + "..."
            short = short.replace("|", "\\|")
            print(f"| {size:,} | {crate} | `{short}` |")


if __name__ == "__main__":
    main()
