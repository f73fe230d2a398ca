#!/usr/bin/env python3
"""Static checks of the Swift binding (there is no Swift compiler here).

1. Every .swift file of the package parses with tree-sitter-swift: no ERROR
   and no MISSING node.
2. Every C function the Swift code calls (an `od_*` identifier in call
   position, also as `COneDrive.od_*`) exists in include/onedrive.h with the
   same number of arguments; every other `od_*` / `OD_*` name the code uses
   is a function, type or constant the header declares.
3. Every od_status constant in the header is mapped: a case of
   `enum OneDriveStatus` with the same number (OD_ERR_NOT_FOUND -> notFound)
   and, but OD_OK, a case of `enum OneDriveError` that `init(detail:)` makes;
   no case is left that the header lacks. Likewise od_job_state -> JobState and
   od_conflict -> ConflictBehavior.
4. The C module: module.modulemap names shim.h, and shim.h includes the
   repository's header.

The lists are read from the header at run time, so a header that grew is
checked as it is now. `--self-test` feeds the checker broken sources and
fails unless it catches each fault.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import tree_sitter_swift
from tree_sitter import Language, Node, Parser

SWIFT = Language(tree_sitter_swift.language())


# ---------------------------------------------------------------- header

class Header:
    def __init__(self, text: str) -> None:
        self.raw = text
        t = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
        t = re.sub(r"//[^\n]*", " ", t)
        self.defines = {m.group(1): int(m.group(2))
                        for m in re.finditer(r"^\s*#\s*define\s+(OD_[A-Z0-9_]+)\s+(-?\d+)", t, re.M)}
        t = re.sub(r"^[ \t]*#[^\n]*", " ", t, flags=re.M)
        self.text = t
        flat = re.sub(r"\s+", " ", t)
        self.functions: Dict[str, int] = {}
        for m in re.finditer(r"([A-Za-z_][A-Za-z0-9_ \*]*?)\b(od_[a-z0-9_]+)\s*\(([^()]*)\)\s*;", flat):
            if m.group(1).strip().startswith("typedef"):
                continue
            params = m.group(3).strip()
            self.functions[m.group(2)] = 0 if params in ("", "void") else len(params.split(","))
        self.types = set(re.findall(r"typedef\s+[^;]*?\b(od_[a-z0-9_]+)\s*;", flat))
        self.types |= set(re.findall(r"\(\s*\*\s*(od_[a-z0-9_]+)\s*\)", flat))  # function pointer typedefs
        self.types |= set(re.findall(r"\b(?:enum|struct)\s+(od_[a-z0-9_]+)", flat))
        self.enums: Dict[str, Dict[str, int]] = {}
        for m in re.finditer(r"enum\s+(od_[a-z0-9_]+)\s*(?::\s*\w+\s*)?\{(.*?)\}", t, re.S):
            self.enums[m.group(1)] = {c.group(1): int(c.group(2))
                                      for c in re.finditer(r"\b([A-Z][A-Z0-9_]*)\s*=\s*(-?\d+)", m.group(2))}
        self.constants = set(self.defines) | {c for e in self.enums.values() for c in e}
        if len(self.functions) < 10 or "od_status" not in self.enums:
            raise SystemExit("check_swift: could not read the header's functions and od_status")


def camel(words: str) -> str:
    parts = [p.lower() for p in words.split("_") if p]
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def status_case(constant: str) -> str:
    """OD_ERR_NOT_FOUND -> notFound, OD_OK -> ok."""
    return camel(constant[len("OD_ERR_"):] if constant.startswith("OD_ERR_") else constant[len("OD_"):])


# ---------------------------------------------------------------- swift

def text(src: bytes, n: Node) -> str:
    return src[n.start_byte:n.end_byte].decode("utf-8", "replace")


def walk(n: Node) -> Iterator[Node]:
    stack = [n]
    while stack:
        cur = stack.pop()
        yield cur
        stack.extend(reversed(cur.children))


def where(path: str, n: Node) -> str:
    return f"{path}:{n.start_point[0] + 1}:{n.start_point[1] + 1}"


def callee_name(src: bytes, call: Node) -> Tuple[Optional[str], Optional[Node]]:
    fn = call.named_children[0] if call.named_children else None
    if fn is None:
        return None, None
    if fn.type == "simple_identifier":
        return text(src, fn), fn
    if fn.type == "navigation_expression":
        suffixes = [c for c in fn.named_children if c.type == "navigation_suffix"]
        if suffixes:
            ids = [c for c in suffixes[-1].named_children if c.type == "simple_identifier"]
            if ids:
                return text(src, ids[-1]), ids[-1]
    return None, None


def count_arguments(call: Node) -> int:
    suffix = next((c for c in call.named_children if c.type == "call_suffix"), None)
    if suffix is None:
        return 0
    n = 0
    for c in suffix.named_children:
        if c.type == "value_arguments":
            n += sum(1 for a in c.named_children if a.type == "value_argument")
        elif c.type == "lambda_literal":  # a trailing closure
            n += 1
    return n


def enum_cases(src: bytes, root: Node, name: str) -> Tuple[Optional[Node], Dict[str, Optional[int]]]:
    for n in walk(root):
        if n.type == "class_declaration" and any(c.type == "enum" for c in n.children):
            ident = next((c for c in n.named_children if c.type == "type_identifier"), None)
            if ident is None or text(src, ident) != name:
                continue
            cases: Dict[str, Optional[int]] = {}
            body = next((c for c in n.named_children if c.type == "enum_class_body"), None)
            for entry in (body.named_children if body else []):
                if entry.type != "enum_entry":
                    continue
                names = [text(src, c).strip("`") for c in entry.named_children if c.type == "simple_identifier"]
                values = [c for c in entry.named_children if c.type == "integer_literal"]
                for i, nm in enumerate(names):
                    cases[nm] = int(text(src, values[i])) if i < len(values) else None
            return n, cases
    return None, {}


class Checker:
    def __init__(self, header: Header) -> None:
        self.header = header
        self.errors: List[str] = []
        self.calls = 0
        self.files: List[Tuple[str, bytes, Node]] = []
        self.parser = Parser(SWIFT)

    def error(self, msg: str) -> None:
        self.errors.append(msg)

    def add_file(self, path: str, src: bytes) -> None:
        tree = self.parser.parse(src)
        root = tree.root_node
        self.files.append((path, src, root))
        for n in walk(root):
            if n.type == "ERROR" or n.is_missing:
                kind = "MISSING " + n.type if n.is_missing else "ERROR"
                snippet = text(src, n).splitlines()[0][:60] if text(src, n) else ""
                self.error(f"{where(path, n)}: parse {kind} near {snippet!r}")
        self.check_c_names(path, src, root)

    def check_c_names(self, path: str, src: bytes, root: Node) -> None:
        call_idents = set()
        for n in walk(root):
            if n.type != "call_expression":
                continue
            name, ident = callee_name(src, n)
            if name is None or not name.startswith("od_"):
                continue
            call_idents.add(ident.start_byte)
            self.calls += 1
            if name not in self.header.functions:
                self.error(f"{where(path, n)}: calls {name}, which include/onedrive.h does not declare")
                continue
            got, want = count_arguments(n), self.header.functions[name]
            if got != want:
                self.error(f"{where(path, n)}: {name} called with {got} argument(s); the header has {want}")
        for n in walk(root):
            if n.type not in ("simple_identifier", "type_identifier") or n.start_byte in call_idents:
                continue
            name = text(src, n)
            if name.startswith("od_"):
                if name not in self.header.functions and name not in self.header.types:
                    self.error(f"{where(path, n)}: {name} is not in include/onedrive.h")
            elif name.startswith("OD_"):
                if name not in self.header.constants:
                    self.error(f"{where(path, n)}: {name} is not in include/onedrive.h")

    def find_enum(self, name: str) -> Tuple[Optional[str], bytes, Optional[Node], Dict[str, Optional[int]]]:
        for path, src, root in self.files:
            node, cases = enum_cases(src, root, name)
            if node is not None:
                return path, src, node, cases
        return None, b"", None, {}

    def check_enum(self, c_enum: str, swift_enum: str, to_case, aliases=None) -> None:
        aliases = aliases or {}
        path, _, node, cases = self.find_enum(swift_enum)
        if node is None:
            self.error(f"enum {swift_enum} not found in the Swift sources")
            return
        wanted = {}
        for constant, value in self.header.enums[c_enum].items():
            case = to_case(constant)
            case = aliases.get(case, case)
            wanted[case] = value
            if case not in cases:
                self.error(f"{path}: {c_enum} {constant} (= {value}) is not mapped: no case {case} in enum {swift_enum}")
            elif cases[case] != value:
                self.error(f"{path}: {swift_enum}.{case} = {cases[case]}, but {constant} = {value} in the header")
        for case in cases:
            if case not in wanted:
                self.error(f"{path}: {swift_enum}.{case} has no constant in the header's {c_enum}")

    def check_statuses(self) -> None:
        self.check_enum("od_status", "OneDriveStatus", status_case)
        path, src, node, cases = self.find_enum("OneDriveError")
        if node is None:
            self.error("enum OneDriveError not found in the Swift sources")
            return
        body = re.sub(r"\s+", "", text(src, node)).replace("`", "")
        for constant in self.header.enums["od_status"]:
            case = status_case(constant)
            if case == "ok":
                continue
            if case not in cases:
                self.error(f"{path}: od_status {constant} has no case {case}(ErrorDetail) in enum OneDriveError")
            elif f"case.some(.{case}):self=.{case}(detail)" not in body:
                self.error(f"{path}: OneDriveError.init(detail:) does not map .{case}")
        wanted = {status_case(c) for c in self.header.enums["od_status"]} - {"ok"} | {"unknown"}
        for case in cases:
            if case not in wanted:
                self.error(f"{path}: OneDriveError.{case} has no od_status in the header")

    def check_all_enums(self) -> None:
        self.check_statuses()
        self.check_enum("od_job_state", "JobState", lambda c: camel(c[len("OD_JOB_"):]))
        self.check_enum("od_conflict", "ConflictBehavior", lambda c: camel(c[len("OD_CONFLICT_"):]),
                        aliases={"default": "serviceDefault"})


def check_module(root: Path, header_path: Path) -> List[str]:
    errors = []
    modulemap = root / "Sources" / "COneDrive" / "module.modulemap"
    shim = root / "Sources" / "COneDrive" / "shim.h"
    if not modulemap.is_file() or 'header "shim.h"' not in modulemap.read_text():
        errors.append(f"{modulemap}: must exist and name header \"shim.h\"")
    if not shim.is_file():
        errors.append(f"{shim}: missing")
    else:
        m = re.search(r'#\s*include\s+"([^"]+)"', shim.read_text())
        target = (shim.parent / m.group(1)).resolve() if m else None
        if target is None or target != header_path.resolve():
            errors.append(f"{shim}: must include the repository's header {header_path} (includes {target})")
    return errors


def swift_files(root: Path) -> List[Path]:
    files = [root / "Package.swift"] if (root / "Package.swift").is_file() else []
    for sub in ("Sources", "Tests"):
        files += sorted((root / sub).rglob("*.swift"))
    return files


def run(root: Path, header_path: Path) -> int:
    header = Header(header_path.read_text())
    checker = Checker(header)
    files = swift_files(root)
    for f in files:
        checker.add_file(str(f.relative_to(root)), f.read_bytes())
    checker.check_all_enums()
    errors = checker.errors + check_module(root, root / ".." / ".." / "include" / "onedrive.h")
    for e in errors:
        print("FAIL " + e)
    if not files or checker.calls == 0:
        errors.append("no Swift file or no C call found")
        print("FAIL no Swift file or no C call found")
    used = set()
    for path, src, tree in checker.files:
        for n in walk(tree):
            if n.type == "call_expression":
                name, _ = callee_name(src, n)
                if name and name.startswith("od_"):
                    used.add(name)
    unwrapped = sorted(set(header.functions) - used)
    print(f"swift check: {len(files)} files parsed, {checker.calls} C calls to {len(used)} functions checked "
          f"against {len(header.functions)} in the header, {len(header.enums['od_status'])} od_status constants checked")
    if unwrapped:
        print("note: header functions the Swift binding does not call yet: " + ", ".join(unwrapped))
    return 1 if errors else 0


# ---------------------------------------------------------------- self-test

def self_test(root: Path, header_path: Path) -> int:
    """The checker must catch each planted fault; the clean sources must pass."""
    header = Header(header_path.read_text())
    real = [(str(f.relative_to(root)), f.read_bytes()) for f in swift_files(root)]

    def errors_with(extra: List[Tuple[str, bytes]], drop_case: Optional[str] = None,
                    hdr: Optional[Header] = None) -> List[str]:
        c = Checker(hdr or header)
        for p, s in real:
            if drop_case and p.endswith("Status.swift"):
                s = re.sub(rb"\n\s*case " + drop_case.encode() + rb" = \d+", b"", s)
            c.add_file(p, s)
        for p, s in extra:
            c.add_file(p, s)
        c.check_all_enums()
        return c.errors

    failures = []
    planted = [0]

    def expect(label: str, errs: List[str], needle: str) -> None:
        planted[0] += 1
        if not any(needle in e for e in errs):
            failures.append(f"{label}: expected an error containing {needle!r}, got {errs}")

    if errors_with([]):
        failures.append(f"the clean sources fail: {errors_with([])}")
    expect("unknown function", errors_with([("x.swift", b"func f() { od_no_such_function(1) }\n")]),
           "od_no_such_function")
    expect("wrong arity", errors_with([("x.swift", b"func f() { od_client_free(a, b) }\n")]),
           "od_client_free called with 2 argument(s)")
    expect("qualified call", errors_with([("x.swift", b"func f() { COneDrive.od_item_free() }\n")]),
           "od_item_free called with 0 argument(s)")
    expect("syntax error", errors_with([("x.swift", b"func f( { let = }\n")]), "parse")
    expect("unknown constant", errors_with([("x.swift", b"let x = OD_NO_SUCH_FLAG\n")]), "OD_NO_SUCH_FLAG")
    expect("unmapped status", errors_with([], drop_case="hashMismatch"), "OD_ERR_HASH_MISMATCH")
    grown = Header(header.raw.replace("OD_ERR_HASH_MISMATCH = 26,", "OD_ERR_HASH_MISMATCH = 26,\n  OD_ERR_BRAND_NEW = 27,"))
    expect("status added to the header", errors_with([], hdr=grown), "OD_ERR_BRAND_NEW")
    shrunk = Header(re.sub(r"void od_string_free\(char \*s\);", "", header.raw))
    expect("function removed from the header", errors_with([], hdr=shrunk), "od_string_free")
    for f in failures:
        print("SELF-TEST FAIL " + f)
    print(f"swift check self-test: {planted[0] - len(failures)} of {planted[0]} planted faults caught" if failures
          else f"swift check self-test: all {planted[0]} planted faults caught, clean sources pass")
    return 1 if failures else 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parent)
    ap.add_argument("--header", type=Path, default=None)
    ap.add_argument("--self-test", action="store_true", help="only the self-test")
    ap.add_argument("--no-self-test", action="store_true", help="only the checks")
    args = ap.parse_args()
    header = args.header or (args.root / ".." / ".." / "include" / "onedrive.h")
    if not header.is_file():
        print(f"check_swift: no header at {header}")
        return 1
    results = []
    if not args.no_self_test:
        results.append(self_test(args.root, header))
    if not args.self_test:
        results.append(run(args.root, header))
    failed = sum(1 for r in results if r)
    print(f"swift-check: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
