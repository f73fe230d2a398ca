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
3. Constants and enum values (Swift's raw values must be literals, so these
   are written by hand and checked): od_job_state -> JobState, od_conflict -> ConflictBehavior,
   the queue's od_transfer_state / od_transfer_kind / od_wait_reason /
   od_queue_event_kind -> TransferState / TransferKind / WaitReason /
   QueueEventKind (when the header has them),
   od_error_field -> LastError.field*, the OD_LOG_* constants -> LogLevel,
   number for number, none left over.
4. The error's shape, as Foundation's URLError: `struct OneDriveError`
   conforming to Error and LocalizedError (with `errorDescription`), holding
   `let code: Code`, where `Code` is a RawRepresentable struct over Int32 (not
   an enum: a new status must break no user's exhaustive switch). Its
   members, one per od_status, are generated (StatusCodes.swift, by
   tools/gen_bindings.py; the drift check is tools/check_abi.sh).
5. What a compiler would reject and this checker can see: a type whose
   methods of one base name are both async and not (an unmarked synchronous
   call from an async context resolves to the async one and fails to
   compile); a public async method of the sources without its synchronous
   `…Blocking` twin; `await` inside an XCTAssert argument (an autoclosure
   that cannot be async).
6. The C module: module.modulemap names shim.h, and shim.h includes the
   repository's header.
7. Calls of the binding's own API, as far as the syntax shows the
   receiver's type (`let c = try OneDriveClient(…)`, `let job = try await
   c.copy(…)`, a helper `func client() -> OneDriveClient`): the method exists
   on that type and the argument labels fit one of its declarations (in
   order, defaults skipped, trailing closures last); an initializer
   `OneDriveClient(…)` fits one of the type's `init`s; a call of a function
   of the sources (`succeeded(_:)`) fits its declaration.
8. The Swift code blocks of README.md are checked as files of their own
   (1, 2 and 7): an example that no longer fits the sources fails.
9. The package manifest at the repository's root (what users add by URL):
   it parses, names the product and target OneDriveNative at
   bindings/swift/Sources/OneDriveNative depending on COneDrive, and a
   `.binaryTarget(name: "COneDrive", url:, checksum:)` whose url is https
   and ends in .zip and whose checksum is 64 lowercase hex digits (written
   by release.sh) or the placeholder "unreleased".
10. Types the sources assume of the header (Swift converts no integer
   type implicitly, and its importer takes each C name as the header declares
   it): every header enum type is one C type (`typedef int32_t od_status;`
   and its values in an anonymous enum: an Int32 alias; not also `enum
   od_status`, which Swift would import as a second type); `var x:
   od_job_state = 0` needs od_job_state to be an integer; the values
   (`OD_JOB_FAILED`) are an anonymous enum's, which Swift imports as Int,
   so the sources use none of them; where the syntax
   shows an argument's type (a variable, parameter or property with a
   written type, a C call's return type as Swift imports it, a method's
   declared return type), it is the type the C parameter or the Swift
   parameter takes.

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
#: Swift's value types the checker compares (Swift converts none of them implicitly).
SCALARS = set(INTEGERS.values()) | {"Bool", "Double"}


class Abi:
    """include/onedrive.abi.json (tools/abi.py), the one description of the header."""

    def __init__(self, data: dict) -> None:
        self.data = data
        self.functions: Dict[str, List[str]] = {
            name: [p["type"] for p in fn["params"]] for name, fn in data["functions"].items()}
        self.callbacks: Dict[str, int] = {name: len(cb["params"]) for name, cb in data["callbacks"].items()}
        self.enums: Dict[str, Dict[str, int]] = {name: e["values"] for name, e in data["enums"].items()}
        self.enum_types = {name: e["type"] for name, e in data["enums"].items()}
        self.enum_tags = {name: e.get("tag") for name, e in data["enums"].items()}
        self.returns = {name: fn["return"] for name, fn in data["functions"].items()}
        self.types = set(data["opaque"]) | set(self.callbacks) | set(self.enums) | set(data["typedefs"])
        self.constants = set(data["constants"]) | {c for e in self.enums.values() for c in e}

    def enum_import(self, name: str) -> str:
        """What Swift's importer makes of a C enum type name: "integer" (the
        header's `typedef int32_t od_status;` with its values in an anonymous
        enum: an alias of Int32), "struct" (a tagged enum and no typedef: a
        struct of that name, not an integer) or "ambiguous" (a tag and a
        typedef of one name: two types, both imported)."""
        if self.enum_types[name].startswith("enum "):
            return "struct"
        return "ambiguous" if self.enum_tags.get(name) == name else "integer"

    def swift_type(self, c_type: str) -> Optional[str]:
        """The Swift type of a C value of this type, as far as modelled (None: not)."""
        t = c_type.replace("const ", "").replace(" const", "").strip()
        if t in self.enums:
            kind = self.enum_import(t)
            return INTEGERS.get(self.enum_types[t]) if kind == "integer" else (t if kind == "struct" else None)
        if t in self.data["typedefs"]:
            return self.swift_type(self.data["typedefs"][t])
        return {**INTEGERS, "bool": "Bool", "double": "Double"}.get(t)

    def bare(self, c_type: str) -> str:
        """The C type, an enum type name replaced by its integer type when
        Swift sees it as that integer."""
        t = c_type.replace("const ", "").replace(" const", "")
        if t in self.enums and self.enum_import(t) == "integer":
            return self.enum_types[t]
        return t

    def is_pointer(self, c_type: str) -> bool:
        return c_type.endswith("*") or c_type in self.callbacks

    def pointee(self, c_type: str) -> Optional[str]:
        """The Swift type of `x` in `&x` for a C `T *` argument (None: not checked)."""
        t = self.bare(c_type[:-1].rstrip()) if c_type.endswith("*") else None
        if t is None:
            return None
        if t.endswith("*") and self.bare(t[:-1].rstrip()) in self.data["opaque"]:
            return "OpaquePointer"
        if t in self.enums and self.enum_import(t) == "struct":
            return t
        return POINTEES.get(t)


def camel(words: str) -> str:
    parts = [p.lower() for p in words.split("_") if p]
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


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


TYPE_NODES = ("user_type", "optional_type", "tuple_type", "array_type", "dictionary_type", "function_type")


class Signature:
    """A declared function or init: its parameters' external labels ("_" for
    none), which have a default, and the return type (None: none written)."""

    def __init__(self, params: List[Tuple[str, bool, Optional[str]]], returns: Optional[str]) -> None:
        self.params = params
        self.returns = returns

    def text(self, name: str) -> str:
        return f"{name}(" + "".join(f"{label}:" for label, _, _ in self.params) + ")"

    def fits(self, labels: List[str], trailing: int) -> Optional[List[int]]:
        """Whether a call with these argument labels and trailing closures
        fits (labels in order, parameters with defaults may be skipped, each
        trailing closure takes one of the parameters left): the parameter
        index of each labelled argument, or None."""
        i, taken = 0, []
        for label in labels:
            while i < len(self.params) and self.params[i][0] != label:
                if not self.params[i][1]:
                    return None
                i += 1
            if i == len(self.params):
                return None
            taken.append(i)
            i += 1
        rest = self.params[i:]
        needed = sum(1 for _, has_default, _ in rest if not has_default)
        return taken if needed <= trailing <= len(rest) else None


def parameter_parts(src: bytes, param: Node) -> Tuple[str, str, Optional[str]]:
    """A parameter's external label ("_" for none), its inner name, its type."""
    ids = [x for x in param.named_children if x.type == "simple_identifier"]
    ty = next((x for x in param.named_children if x.type in TYPE_NODES), None)
    label = text(src, ids[0]) if ids else "_"
    inner = text(src, ids[-1]) if ids else "_"
    return label, inner, (text(src, ty).replace(" ", "").rstrip("?") if ty is not None else None)


def signature_of(src: bytes, decl: Node) -> Signature:
    params: List[Tuple[str, bool, Optional[str]]] = []
    returns = None
    children = decl.children
    for i, c in enumerate(children):
        if c.type == "parameter":
            label, _, ty = parameter_parts(src, c)
            has_default = i + 1 < len(children) and children[i + 1].type == "="
            params.append((label, has_default, ty))
        elif c.type in TYPE_NODES and decl.type == "function_declaration":
            returns = text(src, c).replace(" ", "").rstrip("?")
    return Signature(params, returns)


def a(word: str) -> str:
    return ("an " if word[:1].lower() in "aeiou" or word.startswith(("Int", "UInt")) else "a ") + word


def unwrap(expr: Node) -> Node:
    while expr.type in ("try_expression", "await_expression") and expr.named_children:
        expr = expr.named_children[-1]
    return expr


def call_labels(src: bytes, call: Node) -> Tuple[List[str], int]:
    """A call's argument labels ("_" for none) and its trailing closures,
    also those of the `f(a) { … }` form, which parses as a call of the call."""
    labels, trailing = [], 0
    suffix = next((c for c in call.named_children if c.type == "call_suffix"), None)
    for c in (suffix.named_children if suffix else []):
        if c.type == "value_arguments":
            for a in c.named_children:
                if a.type == "value_argument":
                    label = next((x for x in a.named_children if x.type == "value_argument_label"), None)
                    labels.append(text(src, label).strip() if label is not None else "_")
        elif c.type == "lambda_literal":
            trailing += 1
    node = call
    while node.parent is not None and node.parent.type == "call_expression" \
            and node.parent.named_children[0].start_byte == node.start_byte \
            and node.parent.named_children[0].end_byte == node.end_byte:
        node = node.parent
        outer = next((c for c in node.named_children if c.type == "call_suffix"), None)
        trailing += sum(1 for c in (outer.named_children if outer else []) if c.type == "lambda_literal")
    return labels, trailing


class Checker:
    def __init__(self, abi: Abi) -> None:
        self.abi = abi
        self.errors: List[str] = []
        self.calls = 0
        self.api_calls = 0
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
                elif name not in self.abi.data["constants"]:
                    owner = next(e for e, values in self.abi.enums.items() if name in values)
                    if self.abi.enum_import(owner) == "integer":
                        self.error(f"{where(path, n)}: {name} is a value of an anonymous enum, which Swift imports "
                                   f"as Int, not as {owner} ({self.abi.swift_type(owner)}): use the Swift enum "
                                   "or the code's struct")

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

    def find_type(self, name: str, kinds=("struct", "class", "enum")) -> Tuple[Optional[str], bytes, Optional[Node], str]:
        """A type declaration by name (not an extension): path, source, node, kind keyword."""
        for path, src, root in self.files:
            for n in walk(root):
                if n.type != "class_declaration":
                    continue
                kind = next((c.type for c in n.children if c.type in ("struct", "class", "enum", "extension")), "")
                ident = next((c for c in n.named_children if c.type == "type_identifier"), None)
                if kind != "extension" and ident is not None and text(src, ident) == name:
                    return path, src, n, kind
        return None, b"", None, ""

    @staticmethod
    def inherits(src: bytes, n: Node) -> List[str]:
        return [text(src, c).strip() for c in n.named_children if c.type == "inheritance_specifier"]

    @staticmethod
    def body_members(n: Node) -> List[Node]:
        body = next((c for c in n.named_children if c.type == "class_body"), None)
        return list(body.named_children) if body is not None else []

    def check_error_type(self) -> None:
        """OneDriveError: a struct with `let code: Code`, Error + LocalizedError;
        Code: a RawRepresentable struct over Int32 (its members are generated)."""
        path, src, node, kind = self.find_type("OneDriveError")
        if node is None:
            self.error("struct OneDriveError not found in the Swift sources")
            return
        if kind != "struct":
            self.error(f"{where(path, node)}: OneDriveError must be a struct with a code (like URLError), not {'an' if kind[:1] in 'aeiou' else 'a'} {kind}: "
                       "an enum's new case breaks every user's exhaustive switch")
            return
        conforms = self.inherits(src, node)
        for proto in ("Error", "LocalizedError"):
            if proto not in conforms:
                self.error(f"{where(path, node)}: OneDriveError does not conform to {proto} (it has {conforms})")
        members = self.body_members(node)
        props = {}
        for m in members:
            if m.type == "property_declaration":
                pattern = next((c for c in m.named_children if c.type == "pattern"), None)
                annot = next((c for c in m.named_children if c.type == "type_annotation"), None)
                if pattern is not None:
                    props[text(src, pattern).strip("`")] = (text(src, annot.named_children[-1]).replace(" ", "")
                                                            if annot is not None and annot.named_children else None)
        if props.get("code") not in ("Code", "OneDriveError.Code"):
            self.error(f"{where(path, node)}: OneDriveError has no `let code: Code` (found {props.get('code')!r})")
        if "errorDescription" not in props:
            self.error(f"{where(path, node)}: OneDriveError has no errorDescription (LocalizedError: the library's message)")
        code = next((m for m in members if m.type == "class_declaration"
                     and any(c.type == "struct" for c in m.children)
                     and any(c.type == "type_identifier" and text(src, c) == "Code" for c in m.named_children)), None)
        if code is None:
            self.error(f"{where(path, node)}: OneDriveError has no nested `struct Code` (an enum would break "
                       "exhaustive switches when a status is added)")
            return
        if "RawRepresentable" not in self.inherits(src, code):
            self.error(f"{where(path, code)}: OneDriveError.Code does not conform to RawRepresentable")
        raw_type = None
        for m in self.body_members(code):
            pattern = next((c for c in m.named_children if c.type == "pattern"), None)
            annot = next((c for c in m.named_children if c.type == "type_annotation"), None)
            if (m.type == "property_declaration" and pattern is not None and text(src, pattern) == "rawValue"
                    and annot is not None and annot.named_children):
                raw_type = text(src, annot.named_children[-1])
        if raw_type != "Int32":
            self.error(f"{where(path, code)}: OneDriveError.Code.rawValue must be an Int32 (od_status), not {raw_type}")

    def check_async_names(self) -> None:
        """No base name both async and not in one type (extensions count);
        every public async method of the sources has a synchronous
        `…Blocking` twin."""
        by_type: Dict[str, Dict[str, Dict[bool, List[Tuple[str, Node, bool]]]]] = {}
        for path, src, root in self.files:
            for n in walk(root):
                if n.type != "class_declaration":
                    continue
                ident = next((c for c in n.named_children if c.type in ("type_identifier", "user_type")), None)
                if ident is None:
                    continue
                tname = text(src, ident)
                for m in self.body_members(n):
                    if m.type != "function_declaration":
                        continue
                    fname = next((c for c in m.named_children if c.type == "simple_identifier"), None)
                    if fname is None:
                        continue
                    is_async = any(c.type == "async" for c in m.children)
                    mods = next((c for c in m.named_children if c.type == "modifiers"), None)
                    public = mods is not None and any(w in ("public", "open") for w in text(src, mods).split())
                    public_source = public and not path.startswith("Tests")
                    by_type.setdefault(tname, {}).setdefault(text(src, fname), {}).setdefault(is_async, []).append(
                        (path, m, public_source))
        for tname, funcs in by_type.items():
            for fname, kinds in funcs.items():
                if True in kinds and False in kinds:
                    path, m, _ = kinds[False][0]
                    self.error(f"{path}:{m.start_point[0] + 1}: {tname}.{fname} is both synchronous and async: "
                               "an unmarked synchronous call in an async context picks the async one and does not "
                               f"compile; name the synchronous one {fname}Blocking")
                for path, m, public_source in kinds.get(True, []):
                    if public_source and False not in funcs.get(fname + "Blocking", {}):
                        self.error(f"{path}:{m.start_point[0] + 1}: async {tname}.{fname} has no synchronous "
                                   f"{fname}Blocking twin")
                if fname.endswith("Blocking") and True in kinds:
                    path, m, _ = kinds[True][0]
                    self.error(f"{path}:{m.start_point[0] + 1}: {tname}.{fname} is async: …Blocking names the "
                               "synchronous form")

    def check_test_awaits(self) -> None:
        """XCTAssert* take autoclosures that cannot be async: no await inside."""
        for path, src, root in self.files:
            for n in walk(root):
                if n.type != "call_expression":
                    continue
                name, _ = callee_name(src, n)
                if name is None or not name.startswith("XCTAssert"):
                    continue
                for arg in arguments(n):
                    if any(d.type == "await_expression" for d in walk(arg)):
                        self.error(f"{where(path, n)}: await inside {name}(…): its autoclosure cannot be async; "
                                   "await into a local first")

    def collect_api(self) -> None:
        """The types the sources declare, their methods, inits and typed
        properties (an enum's `rawValue` too), and every function by name
        (test helpers too), for `check_api_calls`."""
        self.our_types: set = set()
        self.methods: Dict[str, Dict[str, List[Signature]]] = {}
        self.inits: Dict[str, List[Signature]] = {}
        self.props: Dict[str, Dict[str, str]] = {}
        self.functions: Dict[str, List[Signature]] = {}
        for path, src, root in self.files:
            for n in walk(root):
                if n.type == "function_declaration":
                    name = next((c for c in n.named_children if c.type == "simple_identifier"), None)
                    if name is not None:
                        self.functions.setdefault(text(src, name), []).append(signature_of(src, n))
                if n.type != "class_declaration":
                    continue
                ident = next((c for c in n.named_children if c.type in ("type_identifier", "user_type")), None)
                if ident is None:
                    continue
                tname = text(src, ident).split(".")[-1].strip()
                kind = next((c.type for c in n.children if c.type in ("struct", "class", "enum", "extension")), "")
                if path.startswith("Sources") and kind != "extension":
                    self.our_types.add(tname)
                raw = self.inherits(src, n)[:1]
                if kind == "enum" and raw and raw[0] in SCALARS:  # enum E: Int32 { … }
                    self.props.setdefault(tname, {})["rawValue"] = raw[0]
                    self.inits.setdefault(tname, []).append(Signature([("rawValue", False, raw[0])], tname))
                body = next((c for c in n.named_children if c.type in ("class_body", "enum_class_body")), None)
                for m in (body.named_children if body is not None else []):
                    if m.type == "function_declaration":
                        name = next((c for c in m.named_children if c.type == "simple_identifier"), None)
                        if name is not None:
                            self.methods.setdefault(tname, {}).setdefault(text(src, name), []).append(
                                signature_of(src, m))
                    elif m.type == "init_declaration":
                        self.inits.setdefault(tname, []).append(signature_of(src, m))
                    elif m.type == "property_declaration":
                        pattern = next((c for c in m.named_children if c.type == "pattern"), None)
                        annot = next((c for c in m.named_children if c.type == "type_annotation"), None)
                        if pattern is not None and annot is not None and annot.named_children:
                            self.props.setdefault(tname, {})[text(src, pattern)] = \
                                text(src, annot.named_children[-1]).replace(" ", "").rstrip("?")

    @staticmethod
    def single(types: set) -> Optional[str]:
        return next(iter(types)) if len(types) == 1 else None

    def infer(self, src: bytes, expr: Node, env: Dict[str, List[Tuple[int, Optional[str]]]]) -> Optional[str]:
        """The type of an expression as far as the syntax shows it: a
        variable or parameter bound before, a property of a typed value, a
        call of an initializer, of a C function (its return type as Swift
        imports it), of a function or of a method of a typed receiver (when
        all its declarations agree)."""
        expr = unwrap(expr)
        if expr.type == "simple_identifier":
            before = [t for at, t in env.get(text(src, expr), []) if at < expr.start_byte]
            return before[-1] if before else None
        if expr.type == "navigation_expression" and len(expr.named_children) == 2:
            suffix = expr.named_children[1]
            ids = [c for c in suffix.named_children if c.type == "simple_identifier"]
            receiver = self.infer(src, expr.named_children[0], env)
            if ids and receiver in self.props:
                return self.props[receiver].get(text(src, ids[-1]))
            return None
        if expr.type != "call_expression" or not expr.named_children:
            return None
        callee = expr.named_children[0]
        if callee.type == "call_expression":  # f(a) { … }
            return self.infer(src, callee, env)
        if callee.type == "simple_identifier":
            name = text(src, callee)
            if name in self.abi.returns:
                return self.abi.swift_type(self.abi.returns[name])
            if name in self.our_types:
                return name
            return self.single({sig.returns for sig in self.functions.get(name, [])})
        if callee.type == "navigation_expression":
            name, _ = callee_name(src, expr)
            receiver = self.infer(src, callee.named_children[0], env)
            if receiver in self.methods and name:
                return self.single({sig.returns for sig in self.methods[receiver].get(name, [])})
        return None

    def bindings(self, src: bytes, root: Node) -> Dict[str, List[Tuple[int, Optional[str]]]]:
        """`let x: T`, `let x = <expression>`, parameters `x: T`: name ->
        [(offset, type or None)]; an untyped binding is kept (None) so that it
        hides an earlier one of the same name."""
        env: Dict[str, List[Tuple[int, Optional[str]]]] = {}
        decls = sorted((n for n in walk(root) if n.type in ("property_declaration", "parameter")),
                       key=lambda n: n.start_byte)
        for n in decls:
            if n.type == "parameter":
                _, inner, ty = parameter_parts(src, n)
                env.setdefault(inner, []).append((n.end_byte, ty))
                continue
            pattern = next((c for c in n.named_children if c.type == "pattern"), None)
            if pattern is None or len(pattern.named_children) != 1 \
                    or pattern.named_children[0].type != "simple_identifier":
                continue
            annot = next((c for c in n.named_children if c.type == "type_annotation"), None)
            t = None
            if annot is not None and annot.named_children:
                t = text(src, annot.named_children[-1]).replace(" ", "").rstrip("?")
            elif n.named_children[-1] is not pattern:
                t = self.infer(src, n.named_children[-1], env)
            env.setdefault(text(src, pattern), []).append((n.end_byte, t))
        return env

    def norm(self, t: Optional[str]) -> Optional[str]:
        """A header type name as Swift sees it (od_status: Int32 when an alias)."""
        if t is not None and (t in self.abi.enums or t in self.abi.data["typedefs"]):
            return self.abi.swift_type(t) or t
        return t

    def compared(self, t: Optional[str]) -> bool:
        """A type whose mismatch a compiler would surely reject: Swift's
        scalars and the header's enum types (no implicit conversion)."""
        return t is not None and (t in SCALARS or t in self.abi.enums)

    def check_api_calls(self) -> None:
        """Calls of the binding's own methods and initializers (module doc,
        7), and the types of their arguments and of the C calls' arguments
        where both sides are known (module doc, 10)."""
        self.collect_api()
        for path, src, root in self.files:
            env = self.bindings(src, root)
            for n in walk(root):
                if n.type != "call_expression" or not n.named_children:
                    continue
                callee = n.named_children[0]
                if callee.type == "call_expression":
                    continue  # the trailing closure of the call inside, checked there
                cname, _ = callee_name(src, n)
                if cname in self.abi.functions and len(arguments(n)) == len(self.abi.functions[cname]):
                    for i, (arg, c_type) in enumerate(zip(arguments(n), self.abi.functions[cname])):
                        have, want = self.norm(self.infer(src, arg, env)), self.abi.swift_type(c_type)
                        if self.compared(have) and self.compared(want) and have != want:
                            self.error(f"{where(path, n)}: {cname} argument {i} is {c_type}, which Swift imports "
                                       f"as {want}, but {text(src, arg)[:40]!r} is {a(have)}")
                    continue
                shadowed = callee.type == "simple_identifier" and any(
                    at < callee.start_byte for at, _ in env.get(text(src, callee), []))
                if callee.type == "simple_identifier" and text(src, callee) in self.inits:
                    owner, name, decls = text(src, callee), "init", self.inits[text(src, callee)]
                elif callee.type == "simple_identifier" and text(src, callee) in self.functions and not shadowed:
                    owner, name, decls = "func", text(src, callee), self.functions[text(src, callee)]
                elif callee.type == "navigation_expression":
                    receiver = callee.named_children[0]
                    owner = self.infer(src, receiver, env)
                    name = cname
                    if owner is None and receiver.type == "simple_identifier" and text(src, receiver) in self.our_types:
                        owner = text(src, receiver)  # a static method, or a nested type's init
                        if name in self.inits:
                            owner, decls = name, self.inits[name]
                            name = "init"
                    if owner not in self.methods or name is None:
                        continue
                    if name != "init":
                        decls = self.methods[owner].get(name, [])
                    if not decls:
                        self.error(f"{where(path, n)}: {owner} has no method {name}")
                        continue
                else:
                    continue
                self.api_calls += 1
                labels, trailing = call_labels(src, n)
                fitting = [(sig, sig.fits(labels, trailing)) for sig in decls]
                fitting = [(sig, taken) for sig, taken in fitting if taken is not None]
                if not fitting:
                    call = name + "(" + "".join(f"{label}:" for label in labels) + ")" + \
                        (f" + {trailing} trailing closure(s)" if trailing else "")
                    known = ", ".join(sig.text(name) for sig in decls)
                    self.error(f"{where(path, n)}: {'' if owner == 'func' else owner + '.'}{call} fits no declaration "
                               f"({known})")
                    continue
                args = [a for a in arguments(n) if a.type != "lambda_literal" or a.parent.type == "value_argument"]
                for sig, taken in fitting[:1] if len(fitting) == 1 else []:
                    for arg, j in zip(args, taken):
                        have, want = self.norm(self.infer(src, arg, env)), self.norm(sig.params[j][2])
                        if self.compared(have) and self.compared(want) and have != want:
                            self.error(f"{where(path, n)}: {'' if owner == 'func' else owner + '.'}{name} takes "
                                       f"{a(want)} as {sig.params[j][0]}:, but {text(src, arg)[:40]!r} is {a(have)}")

    def check_enum_types(self) -> None:
        """Each header enum type is one C type that Swift imports as the
        integer the sources take it for; `var x: od_job_state = 0` needs that."""
        for name in self.abi.enums:
            if self.abi.enum_import(name) == "ambiguous":
                self.error(f"include/onedrive.h: {name} is both `enum {name}` and `typedef "
                           f"{self.abi.enum_types[name]} {name}`: two C types of one name, and Swift's importer "
                           "sees both (a struct and an integer alias); the header must declare one "
                           "(build.rs, one_type_per_enum)")
        for path, src, root in self.files:
            for n in walk(root):
                if n.type != "property_declaration":
                    continue
                annot = next((c for c in n.named_children if c.type == "type_annotation"), None)
                t = text(src, annot.named_children[-1]).rstrip("?") if annot and annot.named_children else None
                if t in self.abi.enums and n.named_children[-1].type == "integer_literal" \
                        and self.abi.enum_import(t) != "integer":
                    self.error(f"{where(path, n)}: {text(src, n)[:50]!r} takes {t} for an integer, but the header "
                               f"makes it {'a C enum (a struct in Swift)' if self.abi.enum_import(t) == 'struct' else 'two types'}")

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
        self.check_enum_types()
        self.check_api_calls()
        self.check_error_type()
        self.check_async_names()
        self.check_test_awaits()
        self.check_enum("od_job_state", "JobState", lambda c: camel(c[len("OD_JOB_"):]))
        self.check_enum("od_conflict", "ConflictBehavior", lambda c: camel(c[len("OD_CONFLICT_"):]),
                        aliases={"default": "serviceDefault"})
        self.check_error_fields()
        for c_enum, swift_enum, prefix, aliases in (
                ("od_transfer_state", "TransferState", "OD_TRANSFER_", {}),
                ("od_transfer_kind", "TransferKind", "OD_TRANSFER_", {}),
                ("od_wait_reason", "WaitReason", "OD_WAIT_", {"none": "notWaiting"}),
                ("od_queue_event_kind", "QueueEventKind", "OD_QUEUE_EVENT_", {})):
            if c_enum in self.abi.enums:  # the queue's, in a header that has it
                self.check_enum(c_enum, swift_enum, lambda c, p=prefix: camel(c[len(p):]), aliases=aliases)
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


#: The checksum of the root manifest's binary target before release.sh ran:
#: no XCFramework has been published for this version yet.
UNRELEASED = "unreleased"


def check_manifest(manifest: Path) -> List[str]:
    """The package manifest at the repository's root (see the module doc, 7)."""
    if not manifest.is_file():
        return [f"{manifest}: missing: the package manifest users add by URL (repository root)"]
    errors = []
    src = manifest.read_bytes()
    for n in walk(Parser(SWIFT).parse(src).root_node):
        if n.type == "ERROR" or n.is_missing:
            errors.append(f"{manifest}:{n.start_point[0] + 1}: parse {'MISSING ' + n.type if n.is_missing else 'ERROR'}")
    t = re.sub(r"(?m)^\s*//.*$", "", src.decode("utf-8", "replace"))  # whole-line comments only: URLs hold //
    consts = dict(re.findall(r'\blet\s+(\w+)\s*=\s*"([^"]*)"', t))

    def value(token: str) -> Optional[str]:
        return token[1:-1] if token.startswith('"') else consts.get(token)

    m = re.search(r'\.binaryTarget\(\s*name:\s*"COneDrive"\s*,\s*url:\s*("[^"]*"|\w+)\s*,'
                  r'\s*checksum:\s*("[^"]*"|\w+)\s*\)', t)
    if not m:
        errors.append(f'{manifest}: no .binaryTarget(name: "COneDrive", url: …, checksum: …) (the released XCFramework)')
    else:
        url, checksum = value(m.group(1)), value(m.group(2))
        if url is None or not re.fullmatch(r"https://[^\s\"]+\.zip", url):
            errors.append(f"{manifest}: the binary target's url {url!r} is not an https URL of a .zip")
        if checksum is None or not (re.fullmatch(r"[0-9a-f]{64}", checksum) or checksum == UNRELEASED):
            errors.append(f"{manifest}: the binary target's checksum {checksum!r} is neither 64 lowercase hex digits "
                          f"(SHA-256 of the zip, as `swift package compute-checksum`) nor {UNRELEASED!r}")
    if not re.search(r'\.library\(\s*name:\s*"OneDriveNative"\s*,\s*targets:\s*\[\s*"OneDriveNative"\s*\]', t):
        errors.append(f'{manifest}: no product .library(name: "OneDriveNative", targets: ["OneDriveNative"])')
    target = re.search(r'\.target\(\s*name:\s*"OneDriveNative"\s*,\s*dependencies:\s*\[([^\]]*)\]\s*,'
                       r'\s*path:\s*"([^"]+)"', t)
    if not target:
        errors.append(f'{manifest}: no .target(name: "OneDriveNative", dependencies: [...], path: "...")')
    else:
        if '"COneDrive"' not in target.group(1):
            errors.append(f"{manifest}: the OneDriveNative target does not depend on COneDrive")
        want = "bindings/swift/Sources/OneDriveNative"
        if target.group(2) != want or not (manifest.parent / want).is_dir():
            errors.append(f"{manifest}: the OneDriveNative target's path is {target.group(2)!r}, not {want!r} "
                          "(the binding's sources)")
    return errors


def swift_files(root: Path) -> List[Path]:
    files = [root / "Package.swift"] if (root / "Package.swift").is_file() else []
    for sub in ("Sources", "Tests"):
        files += sorted((root / sub).rglob("*.swift"))
    return files


def readme_blocks(readme: str) -> List[Tuple[int, str]]:
    """The ```swift blocks of a README: (line of the fence, code)."""
    out, lines, start = [], readme.splitlines(), None
    for i, line in enumerate(lines):
        if start is None and line.strip() == "```swift":
            start = i + 1
        elif start is not None and line.strip() == "```":
            out.append((start, "\n".join(lines[start:i]) + "\n"))
            start = None
    return out


def check(root: Path, abi: Abi, edit=None, extra: bytes = b"") -> Checker:
    """Every Swift file and README.md's Swift blocks (after `edit(name,
    source)` when given; plus `extra` as one more file) checked against `abi`."""
    checker = Checker(abi)
    for f in swift_files(root):
        src = f.read_bytes()
        checker.add_file(str(f.relative_to(root)), edit(f.name, src) if edit else src)
    readme = root / "README.md"
    if readme.is_file():
        text_ = readme.read_bytes()
        text_ = edit(readme.name, text_) if edit else text_
        for line, code in readme_blocks(text_.decode("utf-8")):
            # the block's lines keep their README line numbers in messages
            checker.add_file("README.md", ("\n" * line + code).encode())
    if extra:
        checker.add_file("Sources/OneDriveNative/x.swift", extra)
    checker.check_all()
    return checker


def run(root: Path, abi_path: Path, manifest: Path) -> int:
    abi = Abi(json.loads(abi_path.read_text()))
    checker = check(root, abi)
    errors = checker.errors + check_module(root, root / ".." / ".." / "include" / "onedrive.h")
    errors += check_manifest(manifest)
    if not checker.files or checker.calls == 0:
        errors.append("no Swift file or no C call found")
    for e in errors:
        print("FAIL " + e)
    print(f"swift check: {len(checker.files)} files parsed (README.md's Swift blocks included), {checker.calls} C "
          f"calls to {len(checker.called)} functions checked against {len(abi.functions)} in {abi_path.name}, "
          f"{checker.api_calls} calls of the binding's API checked; root manifest {manifest.name} checked")
    return 1 if errors else 0


# ---------------------------------------------------------------- self-test

def self_test(root: Path, abi_path: Path, manifest: Path) -> int:
    """The checker must catch each planted fault; the clean sources must pass."""
    data = json.loads(abi_path.read_text())
    failures = []
    planted = [0]

    def errors_with(extra: bytes = b"", edit=None, change=None) -> List[str]:
        d = json.loads(json.dumps(data))
        if change:
            change(d)
        return check(root, Abi(d), edit, extra).errors

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
    expect("error as an enum again",
           errors_with(edit=lambda n, s: s.replace(b"public struct OneDriveError:", b"public enum OneDriveError:")),
           "OneDriveError must be a struct")
    expect("code as an enum",
           errors_with(edit=lambda n, s: s.replace(b"public struct Code:", b"public enum Code:")),
           "no nested `struct Code`")
    expect("not LocalizedError",
           errors_with(edit=lambda n, s: s.replace(b"Error, LocalizedError, CustomStringConvertible",
                                                   b"Error, CustomStringConvertible")),
           "LocalizedError")
    expect("no errorDescription",
           errors_with(edit=lambda n, s: s.replace(b"public var errorDescription:", b"public var errorText:")),
           "errorDescription")
    expect("sync and async of one name",
           errors_with(b"extension OneDriveClient {\n"
                       b"    public func item(_ item: String, drive: String? = nil) throws -> DriveItem {\n"
                       b"        return try itemBlocking(item, drive: drive)\n    }\n}\n"),
           "OneDriveClient.item is both synchronous and async")
    expect("async without its Blocking twin",
           errors_with(edit=lambda n, s: s.replace(b"public func pollBlocking(", b"public func pollOnce(")),
           "async OneDriveClient.poll has no synchronous pollBlocking")
    expect("await in an XCTAssert",
           errors_with(b"func t() async throws { XCTAssertEqual(try await c.item(\"x\").size, 3) }\n"),
           "await inside XCTAssertEqual")
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
    expect("README example calls a label the sources do not have",
           errors_with(edit=lambda n, s: s.replace(b"name: \"hello.txt\", from: file", b"name: \"hello.txt\", path: file")
                       if n == "README.md" else s),
           "README.md:")
    expect("README example does not parse",
           errors_with(edit=lambda n, s: s.replace(b"let folder = try await", b"let folder = try await (")
                       if n == "README.md" else s),
           "README.md:")
    expect("method the type does not have",
           errors_with(b"func f() throws { let c = try OneDriveClient(token: \"t\"); _ = try c.itemz(\"/\") }\n"),
           "OneDriveClient has no method itemz")
    expect("initializer label",
           errors_with(b"func f() throws { let c = try OneDriveClient(base: \"x\") }\n"),
           "OneDriveClient.init(base:) fits no declaration")
    expect("a required argument left out",
           errors_with(b"func f(c: OneDriveClient) async throws { let d = try OneDriveClient(); "
                       b"_ = try await d.copy(\"/a\", newName: \"b\") }\n"),
           "OneDriveClient.copy(_:newName:) fits no declaration")
    expect("typed through a helper and a returned job",
           errors_with(b"func mk() throws -> OneDriveClient { return try OneDriveClient() }\n"
                       b"func f() throws { let c = try mk(); let job = try c.copyBlocking(\"/a\", to: \"/\"); "
                       b"_ = try job.item(x: 1) }\n"),
           "OneDriveJob.item(x:) fits no declaration")
    def enum_as_c_enum(names):
        def change(d):
            for n in names:
                d["enums"][n].update(type=f"enum {n}", tag=n)
        return change

    expect("enum and typedef of one name (the header before issue 24)",
           errors_with(change=lambda d: d["enums"]["od_job_state"].update(tag="od_job_state")),
           "od_job_state is both `enum od_job_state` and `typedef int32_t od_job_state`")
    expect("an enum type taken for an integer",
           errors_with(change=enum_as_c_enum(["od_job_state"])), "'var state: od_job_state = 0' takes od_job_state")
    expect("a C enum result passed as an Int32",
           errors_with(change=enum_as_c_enum(["od_status"])), "takes an Int32 as _:, but")
    expect("an argument of another integer type",
           errors_with(b"func f(c: OneDriveClient) { let n: Int64 = 5; _ = od_client_set_upload_rate(c.raw, n) }\n"),
           "od_client_set_upload_rate argument 1 is uint64_t, which Swift imports as UInt64, but 'n' is an Int64")
    expect("an anonymous enum's value used (an Int in Swift)",
           errors_with(b"func f() -> Bool { return JobState(rawValue: OD_JOB_FAILED) != nil }\n"),
           "OD_JOB_FAILED is a value of an anonymous enum")
    expect("a function of the sources called with a wrong label",
           errors_with(b"func f() { _ = succeeded(status: 0) }\n"), "succeeded(status:) fits no declaration")
    # the root manifest: the real one passes; each fault is caught
    manifest_text = manifest.read_text() if manifest.is_file() else ""
    if check_manifest(manifest):
        failures.append(f"the root manifest fails: {check_manifest(manifest)}")

    def manifest_errors(edit) -> List[str]:
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            copy = Path(d) / "Package.swift"
            copy.write_text(edit(manifest_text))
            (Path(d) / "bindings/swift/Sources/OneDriveNative").mkdir(parents=True)
            return check_manifest(copy)

    expect("manifest checksum malformed",
           manifest_errors(lambda t: re.sub(r'(let xcframeworkChecksum = )"[^"]*"', r'\1"abc123"', t)), "checksum 'abc123'")
    expect("manifest checksum in capitals",
           manifest_errors(lambda t: re.sub(r'(let xcframeworkChecksum = )"[^"]*"', r'\1"' + "AB" * 32 + '"', t)),
           "neither 64 lowercase hex")
    expect("manifest url not https",
           manifest_errors(lambda t: re.sub(r'(let xcframeworkURL = )"https:', r'\1"http:', t)), "not an https URL")
    expect("manifest without the binary target",
           manifest_errors(lambda t: t.replace(".binaryTarget(", ".binaryTargetX(")), "no .binaryTarget")
    expect("manifest target path",
           manifest_errors(lambda t: t.replace('"bindings/swift/Sources/OneDriveNative"', '"Sources/OneDriveNative"')),
           "target's path")
    planted[0] += 1
    good = manifest_errors(lambda t: re.sub(r'(let xcframeworkChecksum = )"[^"]*"', r'\1"' + "0f" * 32 + '"', t))
    if good:
        failures.append(f"a released manifest (64 hex) fails: {good}")
    for f in failures:
        print("SELF-TEST FAIL " + f)
    print(f"swift check self-test: {planted[0] - len(failures)} of {planted[0]} planted faults caught" if failures
          else f"swift check self-test: all {planted[0]} planted faults caught, clean sources pass")
    return 1 if failures else 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parent)
    ap.add_argument("--abi", type=Path, default=None)
    ap.add_argument("--manifest", type=Path, default=None,
                    help="the root package manifest (default: <root>/../../Package.swift)")
    ap.add_argument("--self-test", action="store_true", help="only the self-test")
    ap.add_argument("--no-self-test", action="store_true", help="only the checks")
    ap.add_argument("--manifest-only", action="store_true", help="only the root manifest (--manifest)")
    args = ap.parse_args()
    abi = args.abi or (args.root / ".." / ".." / "include" / "onedrive.abi.json")
    if not abi.is_file():
        print(f"check_swift: no ABI description at {abi} (tools/abi.py --write)")
        return 1
    manifest = args.manifest or (args.root / ".." / ".." / "Package.swift")
    if args.manifest_only:
        errors = check_manifest(manifest)
        for e in errors:
            print("FAIL " + e)
        print(f"swift manifest check: {manifest}: {'FAILED' if errors else 'ok'}")
        return 1 if errors else 0
    results = []
    if not args.no_self_test:
        results.append(self_test(args.root, abi, manifest))
    if not args.self_test:
        results.append(run(args.root, abi, manifest))
    failed = sum(1 for r in results if r)
    print(f"swift-check: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
