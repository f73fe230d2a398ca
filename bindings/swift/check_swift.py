#!/usr/bin/env python3
"""Static checks of the Swift binding (there is no Swift compiler here),
against include/onedrive.abi.json (the header as parsed by tools/abi.py).

1. Every .swift file of the package parses with tree-sitter-swift: no ERROR
   and no MISSING node.
2. Every header function is called somewhere (a header function with no
   wrapper fails); every C call (`od_*` in call position, also
   `COneDrive.od_*`) names a header function with the same number of
   arguments, and each argument whose type the syntax shows (nil, a literal,
   a closure, `&x` with `var x: T`) fits the C parameter; a closure typed as a
   C callback (`let t: od_progress_fn = { a, b, c in ... }`) takes as many
   arguments as the callback; every other `od_*` / `OD_*` name is in the ABI.
3. Constants and enum values: od_status -> OneDriveStatus and OneDriveError,
   od_job_state -> JobState, od_conflict -> ConflictBehavior, od_error_field ->
   LastError.field*, the OD_LOG_* constants -> LogLevel, number for number,
   none left over.
4. The C module: module.modulemap names shim.h, and shim.h includes the
   repository's header.

`--self-test` feeds the checker broken sources and altered descriptions and
fails unless it catches each fault.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import tree_sitter_swift
from tree_sitter import Language, Node, Parser

SWIFT = Language(tree_sitter_swift.language())


# ---------------------------------------------------------------- the ABI

INTEGERS = {"int": "Int32", "int32_t": "Int32", "uint32_t": "UInt32", "int64_t": "Int64",
            "uint64_t": "UInt64", "size_t": "Int", "uint8_t": "UInt8"}
# C pointee type -> the Swift type a `var x: T` passed as `&x` must have
POINTEES = {**INTEGERS, "double": "Double", "bool": "Bool", "char *": "UnsafeMutablePointer<CChar>"}


class Abi:
    """include/onedrive.abi.json (tools/abi.py), the one description of the header."""

    def __init__(self, data: dict) -> None:
        self.data = data
        self.functions: Dict[str, List[str]] = {
            name: [p["type"] for p in fn["params"]] for name, fn in data["functions"].items()}
        self.callbacks: Dict[str, int] = {name: len(cb["params"]) for name, cb in data["callbacks"].items()}
        self.enums: Dict[str, Dict[str, int]] = {name: e["values"] for name, e in data["enums"].items()}
        self.enum_types = {name: e["type"] for name, e in data["enums"].items()}
        self.types = set(data["opaque"]) | set(self.callbacks) | set(self.enums) | set(data["typedefs"])
        self.constants = set(data["constants"]) | {c for e in self.enums.values() for c in e}

    def bare(self, c_type: str) -> str:
        t = c_type.replace("const ", "").replace(" const", "")
        return self.enum_types.get(t, t)

    def is_pointer(self, c_type: str) -> bool:
        return c_type.endswith("*") or c_type in self.callbacks

    def pointee(self, c_type: str) -> Optional[str]:
        """The Swift type of `x` in `&x` for a C `T *` argument (None: not checked)."""
        t = self.bare(c_type[:-1].rstrip()) if c_type.endswith("*") else None
        if t is None:
            return None
        if t.endswith("*") and self.bare(t[:-1].rstrip()) in self.data["opaque"]:
            return "OpaquePointer"
        return POINTEES.get(t)


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


def arguments(call: Node) -> List[Node]:
    """The argument expressions of a call (a trailing closure counts as one)."""
    suffix = next((c for c in call.named_children if c.type == "call_suffix"), None)
    out: List[Node] = []
    for c in (suffix.named_children if suffix else []):
        if c.type == "value_arguments":
            out += [a.named_children[-1] for a in c.named_children if a.type == "value_argument"]
        elif c.type == "lambda_literal":
            out.append(c)
    return out


def declared_types(src: bytes, root: Node) -> Dict[str, List[Tuple[int, str]]]:
    """`var x: T` / `let x: T` in a file: name -> [(offset, T without `?`)]."""
    out: Dict[str, List[Tuple[int, str]]] = {}
    for n in walk(root):
        if n.type != "property_declaration":
            continue
        pattern = next((c for c in n.named_children if c.type == "pattern"), None)
        annot = next((c for c in n.named_children if c.type == "type_annotation"), None)
        if pattern is not None and annot is not None and annot.named_children:
            t = text(src, annot.named_children[-1]).rstrip("?").replace(" ", "")
            out.setdefault(text(src, pattern), []).append((n.start_byte, t))
    return out


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
    def __init__(self, abi: Abi) -> None:
        self.abi = abi
        self.errors: List[str] = []
        self.calls = 0
        self.called: set = set()
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

    def check_argument(self, at: str, name: str, i: int, c_type: str, arg: Node, src: bytes,
                       types: Dict[str, List[Tuple[int, str]]]) -> None:
        """What the syntax tells of an argument's type, against the C parameter's."""
        bare = self.abi.bare(c_type)
        kind, want = arg.type, None
        if kind == "nil_literal" and not self.abi.is_pointer(c_type):
            want = "a pointer or callback for nil"
        elif kind == "integer_literal" and bare not in INTEGERS:
            want = "an integer for a literal"
        elif kind == "boolean_literal" and bare != "bool":
            want = "bool for a literal"
        elif kind == "line_string_literal" and bare != "char *":
            want = "const char * for a string literal"
        elif kind == "lambda_literal" and bare not in self.abi.callbacks:
            want = "a callback for a closure"
        elif kind == "prefix_expression" and text(src, arg).startswith("&"):
            if not c_type.endswith("*"):
                want = "a pointer for &"
            else:
                var = text(src, arg)[1:].strip()
                before = [t for at_byte, t in types.get(var, []) if at_byte < arg.start_byte]
                swift, expected = (before[-1] if before else None), self.abi.pointee(c_type)
                c_name = c_type[:-1].rstrip().replace("const ", "")  # od_job_state for od_job_state *
                if swift and expected and swift not in (expected, c_name):
                    self.error(f"{at}: {name} argument {i} is {c_type}, but &{var} is a {swift} (want {expected})")
        if want:
            self.error(f"{at}: {name} argument {i} is {c_type}, not {want}: {text(src, arg)[:40]!r}")

    def check_c_names(self, path: str, src: bytes, root: Node) -> None:
        call_idents = set()
        types = declared_types(src, root)
        for n in walk(root):
            if n.type == "property_declaration":  # let thunk: od_progress_fn = { a, b, c in ... }
                annot = next((c for c in n.named_children if c.type == "type_annotation"), None)
                closure = next((c for c in n.named_children if c.type == "lambda_literal"), None)
                cb = text(src, annot.named_children[-1]).rstrip("?") if annot and annot.named_children else None
                if closure is not None and cb in self.abi.callbacks:
                    params = [c for c in walk(closure) if c.type == "lambda_parameter"]
                    if len(params) != self.abi.callbacks[cb]:
                        self.error(f"{where(path, n)}: a {cb} closure takes {len(params)} argument(s); "
                                   f"the header has {self.abi.callbacks[cb]}")
            if n.type != "call_expression":
                continue
            name, ident = callee_name(src, n)
            if name is None or not name.startswith("od_"):
                continue
            call_idents.add(ident.start_byte)
            self.calls += 1
            self.called.add(name)
            if name not in self.abi.functions:
                self.error(f"{where(path, n)}: calls {name}, which include/onedrive.h does not declare")
                continue
            args, params = arguments(n), self.abi.functions[name]
            if len(args) != len(params):
                self.error(f"{where(path, n)}: {name} called with {len(args)} argument(s); the header has {len(params)}")
                continue
            for i, (arg, c_type) in enumerate(zip(args, params)):
                self.check_argument(where(path, n), name, i, c_type, arg, src, types)
        for n in walk(root):
            if n.type not in ("simple_identifier", "type_identifier") or n.start_byte in call_idents:
                continue
            name = text(src, n)
            if name.startswith("od_"):
                if name not in self.abi.functions and name not in self.abi.types:
                    self.error(f"{where(path, n)}: {name} is not in include/onedrive.h")
            elif name.startswith("OD_"):
                if name not in self.abi.constants:
                    self.error(f"{where(path, n)}: {name} is not in include/onedrive.h")

    def check_unwrapped(self) -> None:
        for name in self.abi.functions:
            if name not in self.called:
                self.error(f"{name}: in the header, no Swift code calls it")

    def find_enum(self, name: str) -> Tuple[Optional[str], bytes, Optional[Node], Dict[str, Optional[int]]]:
        for path, src, root in self.files:
            node, cases = enum_cases(src, root, name)
            if node is not None:
                return path, src, node, cases
        return None, b"", None, {}

    def check_enum(self, c_enum: str, swift_enum: str, to_case, aliases=None, values=None) -> None:
        """`values`: the constants to map when they are not a C enum (then
        `c_enum` only names them in messages)."""
        aliases = aliases or {}
        path, _, node, cases = self.find_enum(swift_enum)
        if node is None:
            self.error(f"enum {swift_enum} not found in the Swift sources")
            return
        wanted = {}
        for constant, value in (values if values is not None else self.abi.enums[c_enum]).items():
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
        for constant in self.abi.enums["od_status"]:
            case = status_case(constant)
            if case == "ok":
                continue
            if case not in cases:
                self.error(f"{path}: od_status {constant} has no case {case}(ErrorDetail) in enum OneDriveError")
            elif f"case.some(.{case}):self=.{case}(detail)" not in body:
                self.error(f"{path}: OneDriveError.init(detail:) does not map .{case}")
        wanted = {status_case(c) for c in self.abi.enums["od_status"]} - {"ok"} | {"unknown"}
        for case in cases:
            if case not in wanted:
                self.error(f"{path}: OneDriveError.{case} has no od_status in the header")

    def check_error_fields(self) -> None:
        """LastError's `static let fieldMessage: Int32 = 0`, one per od_error_field."""
        found: Dict[str, str] = {}
        for path, src, root in self.files:
            for n in walk(root):
                if n.type == "property_declaration":
                    pattern = next((c for c in n.named_children if c.type == "pattern"), None)
                    value = n.named_children[-1]
                    if pattern is not None and text(src, pattern).startswith("field") and value.type == "integer_literal":
                        found[text(src, pattern)] = text(src, value)
        for constant, value in self.abi.enums["od_error_field"].items():
            name = "field" + camel(constant[len("OD_ERROR_"):])[:1].upper() + camel(constant[len("OD_ERROR_"):])[1:]
            if found.get(name) != str(value):
                self.error(f"od_error_field {constant} = {value}, LastError.{name} = {found.get(name)}")

    def check_all(self) -> None:
        self.check_unwrapped()
        self.check_statuses()
        self.check_enum("od_job_state", "JobState", lambda c: camel(c[len("OD_JOB_"):]))
        self.check_enum("od_conflict", "ConflictBehavior", lambda c: camel(c[len("OD_CONFLICT_"):]),
                        aliases={"default": "serviceDefault"})
        self.check_error_fields()
        log_levels = {k: v for k, v in self.abi.data["constants"].items() if k.startswith("OD_LOG_")}
        self.check_enum("OD_LOG_*", "LogLevel", lambda c: camel(c[len("OD_LOG_"):]),
                        aliases={"warn": "warning"}, values=log_levels)


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


def check(root: Path, abi: Abi, edit=None) -> Checker:
    """Every Swift file (after `edit(path, source)` when given) checked against `abi`."""
    checker = Checker(abi)
    for f in swift_files(root):
        src = f.read_bytes()
        checker.add_file(str(f.relative_to(root)), edit(f.name, src) if edit else src)
    checker.check_all()
    return checker


def run(root: Path, abi_path: Path) -> int:
    abi = Abi(json.loads(abi_path.read_text()))
    checker = check(root, abi)
    errors = checker.errors + check_module(root, root / ".." / ".." / "include" / "onedrive.h")
    if not checker.files or checker.calls == 0:
        errors.append("no Swift file or no C call found")
    for e in errors:
        print("FAIL " + e)
    print(f"swift check: {len(checker.files)} files parsed, {checker.calls} C calls to {len(checker.called)} "
          f"functions checked against {len(abi.functions)} in {abi_path.name}")
    return 1 if errors else 0


# ---------------------------------------------------------------- self-test

def self_test(root: Path, abi_path: Path) -> int:
    """The checker must catch each planted fault; the clean sources must pass."""
    data = json.loads(abi_path.read_text())
    failures = []
    planted = [0]

    def errors_with(extra: bytes = b"", edit=None, change=None) -> List[str]:
        d = json.loads(json.dumps(data))
        if change:
            change(d)
        c = check(root, Abi(d), edit)
        if extra:
            c.add_file("x.swift", extra)
        return c.errors

    def expect(label: str, errs: List[str], needle: str) -> None:
        planted[0] += 1
        if not any(needle in e for e in errs):
            failures.append(f"{label}: expected an error containing {needle!r}, got {errs}")

    if errors_with():
        failures.append(f"the clean sources fail: {errors_with()}")
    expect("unknown function", errors_with(b"func f() { od_no_such_function(1) }\n"), "od_no_such_function")
    expect("wrong arity", errors_with(b"func f() { od_client_free(a, b) }\n"), "od_client_free called with 2 argument(s)")
    expect("qualified call", errors_with(b"func f() { COneDrive.od_item_free() }\n"),
           "od_item_free called with 0 argument(s)")
    expect("nil for a number", errors_with(b"func f() { od_status_str(nil) }\n"), "od_status_str argument 0")
    expect("literal for a pointer", errors_with(b"func f() { od_item_free(0) }\n"), "od_item_free argument 0")
    expect("wrong out type", errors_with(b"func f() { var p: Int64 = 0; od_cancel_new(&p) }\n"),
           "od_cancel_new argument 0")
    expect("callback arity", errors_with(b"let t: od_read_fn = { a, b in 0 }\n"), "od_read_fn closure")
    expect("syntax error", errors_with(b"func f( { let = }\n"), "parse")
    expect("unknown constant", errors_with(b"let x = OD_NO_SUCH_FLAG\n"), "OD_NO_SUCH_FLAG")
    expect("unwrapped function", errors_with(edit=lambda n, s: s.replace(b"od_cancel_reset(raw)", b"")),
           "od_cancel_reset: in the header")
    expect("unmapped status", errors_with(edit=lambda n, s: re.sub(rb"\n\s*case hashMismatch = \d+", b"", s)),
           "OD_ERR_HASH_MISMATCH")
    expect("status added to the header",
           errors_with(change=lambda d: d["enums"]["od_status"]["values"].update(OD_ERR_BRAND_NEW=99)),
           "OD_ERR_BRAND_NEW")
    expect("enum value changed",
           errors_with(change=lambda d: d["enums"]["od_conflict"]["values"].update(OD_CONFLICT_RENAME=7)),
           "OD_CONFLICT_RENAME")
    expect("log level changed",
           errors_with(change=lambda d: d["constants"].update(OD_LOG_DEBUG=5)), "OD_LOG_DEBUG")
    expect("log level added to the header",
           errors_with(change=lambda d: d["constants"].update(OD_LOG_TRACE=5)), "OD_LOG_TRACE")
    expect("log callback arity", errors_with(b"let t: od_log_fn = { a, b in }\n"), "od_log_fn closure")
    expect("error field changed",
           errors_with(change=lambda d: d["enums"]["od_error_field"]["values"].update(OD_ERROR_CODE=9)),
           "OD_ERROR_CODE")
    expect("function removed from the header",
           errors_with(change=lambda d: d["functions"].pop("od_string_free")), "od_string_free")
    for f in failures:
        print("SELF-TEST FAIL " + f)
    print(f"swift check self-test: {planted[0] - len(failures)} of {planted[0]} planted faults caught" if failures
          else f"swift check self-test: all {planted[0]} planted faults caught, clean sources pass")
    return 1 if failures else 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parent)
    ap.add_argument("--abi", type=Path, default=None)
    ap.add_argument("--self-test", action="store_true", help="only the self-test")
    ap.add_argument("--no-self-test", action="store_true", help="only the checks")
    args = ap.parse_args()
    abi = args.abi or (args.root / ".." / ".." / "include" / "onedrive.abi.json")
    if not abi.is_file():
        print(f"check_swift: no ABI description at {abi} (tools/abi.py --write)")
        return 1
    results = []
    if not args.no_self_test:
        results.append(self_test(args.root, abi))
    if not args.self_test:
        results.append(run(args.root, abi))
    failed = sum(1 for r in results if r)
    print(f"swift-check: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
