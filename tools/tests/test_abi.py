"""include/onedrive.abi.json is fresh, and each binding's check (Python,
C#, Swift) fails in the same cases, shown on a copy of the repository:
a header function whose wrapper was deleted, a function (or callback type)
whose arity changed, an enum value or a status number that changed."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))
import abi  # noqa: E402

TARGET = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
LIB = TARGET / "debug" / "libonedrive_native.so"
SWIFT_PY = REPO / "bindings" / "swift" / ".venv" / "bin" / "python"


def test_the_committed_description_is_fresh() -> None:
    assert abi.OUT.read_text() == abi.render(abi.HEADER.read_text()), "run tools/abi.py --write"


def test_the_description_has_what_the_bindings_need() -> None:
    d = json.loads(abi.OUT.read_text())
    c = d["constants"]
    assert c["OD_CHUNK_UNIT"] == 320 * 1024 and c["OD_DEFAULT_CHUNK_SIZE"] % c["OD_CHUNK_UNIT"] == 0
    assert c["OD_DEFAULT_SIMPLE_UPLOAD_LIMIT"] == 4 * 1024 * 1024 and c["OD_HASH_SHA256"] == 2
    assert d["enums"]["od_status"]["values"]["OD_ERR_HASH_MISMATCH"] == 26
    assert d["functions"]["od_version"] == {"return": "const char *", "params": []}
    assert d["functions"]["od_job_item"]["params"][1] == {"name": "out_item", "type": "od_item **"}
    assert d["callbacks"]["od_read_fn"]["return"] == "int64_t" and len(d["functions"]) >= 50


def test_a_define_that_is_not_a_literal_is_refused() -> None:
    with pytest.raises(SystemExit):
        abi.constant("OD_X", "(1 << 3)")


# ---- the three faults, planted in a copy of the repository, for each binding

def delete_wrapper(root: Path, lang: str) -> None:
    """Removes od_cancel_reset's declaration (Python, C#) or its one call (Swift)."""
    if lang == "python":
        f = root / "bindings/python/onedrive_native/_ffi.py"
        new = re.sub(r'\n\s*"od_cancel_reset": [^\n]*', "", f.read_text())
    elif lang == "csharp":
        f = root / "bindings/csharp/OneDriveNative/NativeMethods.cs"
        new = re.sub(r"\[DllImport\([^\]]*\)\]\s*internal static extern void od_cancel_reset\([^)]*\);", "", f.read_text())
    else:
        f = root / "bindings/swift/Sources/OneDriveNative/Handles.swift"
        new = f.read_text().replace("od_cancel_reset(raw)", "")
    assert new != f.read_text(), f"no od_cancel_reset wrapper found in {f}"
    f.write_text(new)


def edit_abi(root: Path, change) -> None:  # type: ignore[no-untyped-def]
    f = root / "include/onedrive.abi.json"
    d = json.loads(f.read_text())
    change(d)
    f.write_text(json.dumps(d))


FAULTS = {
    "clean": (lambda root, lang: None, None),
    "wrapper deleted": (delete_wrapper, "od_cancel_reset"),
    "arity changed": (lambda root, lang: edit_abi(root, lambda d: d["functions"]["od_item_size"]["params"].append(
        {"name": "x", "type": "int32_t"})), "od_item_size"),
    "enum value changed": (lambda root, lang: edit_abi(root, lambda d: d["enums"]["od_conflict"]["values"].update(
        OD_CONFLICT_RENAME=7)), "OD_CONFLICT_RENAME"),
    # a callback type's arity: od_log_fn loses its message
    "callback arity changed": (lambda root, lang: edit_abi(root, lambda d: d["callbacks"]["od_log_fn"]["params"].pop()),
                               "od_log_fn"),
    # a status renumbered: Python's Status, C#'s OneDriveStatus, Swift's
    # OneDriveError.Code member (a struct's static let, not an enum case)
    "status value changed": (lambda root, lang: edit_abi(root, lambda d: d["enums"]["od_status"]["values"].update(
        OD_ERR_PROXY=29)), "OD_ERR_PROXY"),
}


def run_check(root: Path, lang: str) -> subprocess.CompletedProcess:
    b = root / "bindings" / lang
    if lang == "python":
        assert LIB.is_file(), f"no {LIB}: make build first"
        cmd = [sys.executable, str(b / "tests/abi_check.py")]
        return subprocess.run(cmd, env={**os.environ, "ONEDRIVE_NATIVE_LIB": str(LIB)}, capture_output=True, text=True)
    if lang == "csharp":
        assert shutil.which("mcs") and shutil.which("mono"), "mono is missing (bindings/csharp/run_tests.sh installs it)"
        mcs = ["mcs", "-langversion:7", "-nologo", "-nowarn:1591", "-r:System.dll", "-r:System.Core.dll"]
        subprocess.run(mcs + ["-target:library", f"-out:{b}/OneDriveNative.dll", *map(str, (b / "OneDriveNative").glob("*.cs"))],
                       check=True)
        subprocess.run(mcs + ["-target:exe", f"-out:{b}/AbiContract.exe", str(b / "tests/AbiContract.cs"),
                              str(b / "tests/Json.cs")], check=True)
        cmd = ["mono", str(b / "AbiContract.exe"), str(b / "OneDriveNative.dll"), str(root / "include/onedrive.abi.json")]
        return subprocess.run(cmd, capture_output=True, text=True)
    if not SWIFT_PY.is_file():
        subprocess.run([str(REPO / "bindings/swift/check.sh")], check=True)  # makes the venv
    return subprocess.run([str(SWIFT_PY), str(b / "check_swift.py"), "--root", str(b), "--no-self-test"],
                          capture_output=True, text=True)


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("lang", ["python", "csharp", "swift"])
def test_each_check_fails_on_each_fault(tmp_path: Path, lang: str, fault: str) -> None:
    shutil.copytree(REPO / "include", tmp_path / "include")
    shutil.copytree(REPO / "bindings" / lang, tmp_path / "bindings" / lang,
                    ignore=shutil.ignore_patterns(".venv", "build", "__pycache__", "*.egg-info", "*.so"))
    if lang == "swift":  # its check reads the root manifest too
        shutil.copy(REPO / "Package.swift", tmp_path / "Package.swift")
    plant, needle = FAULTS[fault]
    plant(tmp_path, lang)
    r = run_check(tmp_path, lang)
    out = r.stdout + r.stderr
    if needle is None:
        assert r.returncode == 0, out
    else:
        assert r.returncode != 0, f"the {lang} check passed with the fault '{fault}':\n{out}"
        assert needle in out, out
