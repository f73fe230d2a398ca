#!/usr/bin/env python3
"""The C ABI of include/onedrive.h as JSON (include/onedrive.abi.json).

The header goes through the C preprocessor (gcc -E, C11, with the three
standard #includes replaced by a small prelude of typedefs) and the result
is parsed by pycparser. The macros come from the preprocessor too
(gcc -dM); each OD_ macro's value is parsed by pycparser as a C constant.

    tools/abi.py            print the description
    tools/abi.py --write    write include/onedrive.abi.json
    tools/abi.py --check    fail when the committed file differs from a fresh one

Every binding's check (Python, C#, Swift) reads the JSON, not the header.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

from pycparser import c_ast, c_parser

REPO = Path(__file__).resolve().parent.parent
HEADER = REPO / "include" / "onedrive.h"
OUT = REPO / "include" / "onedrive.abi.json"

# What <stdbool.h>, <stddef.h> and <stdint.h> give the header. The names are
# kept as written: the JSON says `uint64_t`, never `unsigned long`.
PRELUDE = """
typedef _Bool bool;
typedef unsigned long size_t;
typedef signed char int8_t; typedef unsigned char uint8_t;
typedef short int16_t; typedef unsigned short uint16_t;
typedef int int32_t; typedef unsigned int uint32_t;
typedef long long int64_t; typedef unsigned long long uint64_t;
"""
PRELUDE_TYPES = {"bool", "size_t", "int8_t", "uint8_t", "int16_t", "uint16_t",
                 "int32_t", "uint32_t", "int64_t", "uint64_t"}


def preprocess(text: str, *args: str) -> str:
    body = "\n".join("" if line.lstrip().startswith("#include") else line for line in text.splitlines())
    cmd = ["gcc", "-E", "-P", "-std=c11", "-x", "c", *args, "-"]
    return subprocess.run(cmd, input=PRELUDE + body, text=True, capture_output=True, check=True).stdout


def type_name(node: c_ast.Node) -> str:
    """The C spelling of a parameter or return type: `const char *`, `od_item **`."""
    if isinstance(node, c_ast.PtrDecl):
        inner = type_name(node.type)
        star = "*" if inner.endswith("*") else " *"
        return inner + star + (" const" if "const" in node.quals else "")
    if isinstance(node, c_ast.TypeDecl):
        quals = "const " if "const" in node.quals else ""
        t = node.type
        if isinstance(t, c_ast.IdentifierType):
            return quals + " ".join(t.names)
        if isinstance(t, (c_ast.Struct, c_ast.Enum)):
            return quals + ("struct " if isinstance(t, c_ast.Struct) else "enum ") + t.name
    if isinstance(node, c_ast.Typename):
        return type_name(node.type)
    raise SystemExit(f"abi.py: a type this script does not know: {node}")


def signature(fn: c_ast.FuncDecl) -> dict:
    params = []
    for p in (fn.args.params if fn.args else []):
        t = type_name(p.type)
        if t == "void" and p.name is None:  # f(void)
            continue
        params.append({"name": p.name, "type": t})
    return {"return": type_name(fn.type), "params": params}


def constant(name: str, value: str) -> int | str:
    """A macro's value, read by pycparser as the initializer of a declaration."""
    decl = c_parser.CParser().parse(f"int {name} = {value};").ext[0]
    init = decl.init
    if isinstance(init, c_ast.Constant) and init.type == "string":
        return json.loads(init.value)
    if isinstance(init, c_ast.Constant) and "int" in init.type:
        return int(init.value.rstrip("uUlL"), 0)
    raise SystemExit(f"abi.py: #define {name} {value} is not an integer or string literal")


def value_docs(text: str) -> dict:
    """Each enumerator's doc comment (the `//` lines right above `OD_X = n,`),
    which the preprocessor drops: the bindings' status tables quote them."""
    docs, pending = {}, []
    for line in text.splitlines():
        s = line.strip()
        m = re.match(r"(OD_[A-Z0-9_]+)\s*=", s)
        if s.startswith("//"):
            pending.append(s[2:].strip())
        elif m and pending:
            docs[m.group(1)] = " ".join(pending)
            pending = []
        else:
            pending = []
    return docs


def describe(text: str) -> dict:
    ast = c_parser.CParser().parse(preprocess(text), filename=str(HEADER.name))
    functions, enums, callbacks, typedefs, opaque, structs = {}, {}, {}, {}, [], {}
    tags = {}  # enum name -> its tag (`enum od_status { … }`), None for `typedef int32_t od_status; enum { … };`
    previous = None
    for node in ast.ext:
        before, previous = previous, node
        if isinstance(node, c_ast.Typedef):
            if node.name in PRELUDE_TYPES:
                continue
            t = node.type
            if isinstance(t, c_ast.PtrDecl) and isinstance(t.type, c_ast.FuncDecl):
                callbacks[node.name] = signature(t.type)
            elif isinstance(t.type, c_ast.Struct) and t.type.decls is None:
                opaque.append(node.name)
            elif isinstance(t.type, c_ast.Struct):  # a struct with fields (an out-struct)
                structs[node.name] = [{"name": d.name, "type": type_name(d.type)} for d in t.type.decls]
            else:
                typedefs[node.name] = type_name(t)
        elif isinstance(node, c_ast.Decl) and isinstance(node.type, c_ast.FuncDecl):
            functions[node.name] = signature(node.type)
        elif isinstance(node, c_ast.Decl) and isinstance(node.type, c_ast.Enum):
            values, nxt = {}, 0
            for e in node.type.values.enumerators:
                nxt = int(e.value.value, 0) if e.value is not None else nxt
                values[e.name] = nxt
                nxt += 1
            name = node.type.name
            if name is None:  # anonymous: the values of the integer typedef right above
                if not (isinstance(before, c_ast.Typedef) and before.name in typedefs):
                    raise SystemExit("abi.py: an anonymous enum that does not follow the typedef it gives values to")
                name = before.name
            enums[name] = values
            tags[name] = node.type.name
    # The enums' typedefs (`typedef int32_t od_status;`) name their C type; an
    # enum with a tag and no typedef is its own type.
    enum_types = {name: typedefs.get(name, f"enum {tags[name]}") for name in enums}
    docs = value_docs(text)
    defines = {}
    for line in preprocess(text, "-dM").splitlines():
        _, name, *value = line.split(None, 2)
        if name.startswith("OD_") and value:
            defines[name] = constant(name, value[0])
    return {
        "header": "include/onedrive.h",
        "constants": dict(sorted(defines.items())),
        "enums": {name: {"type": enum_types[name], "tag": tags[name], "values": v,
                         "docs": {k: docs[k] for k in v if k in docs}} for name, v in enums.items()},
        "opaque": opaque,
        "structs": structs,
        "callbacks": callbacks,
        "typedefs": {k: v for k, v in typedefs.items() if k not in enums},
        "functions": functions,
    }


def render(text: str) -> str:
    return json.dumps(describe(text), indent=1) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--header", type=Path, default=HEADER)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    fresh = render(args.header.read_text())
    if args.write:
        args.out.write_text(fresh)
    elif args.check:
        if not args.out.is_file() or args.out.read_text() != fresh:
            print(f"abi.py: {args.out} differs from what {args.header} describes: run tools/abi.py --write",
                  file=sys.stderr)
            return 1
        print(f"abi.py: {args.out.name} matches {args.header.name}")
    else:
        sys.stdout.write(fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
