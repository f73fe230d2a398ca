"""Fixtures: a standalone onedrive-emulator per session (and a Business one
on demand), driven through its admin path with plain urllib."""

from __future__ import annotations

import json
import os
import queue
import ssl
import subprocess
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

HERE = Path(__file__).resolve().parent
PKG_SRC = HERE.parent  # bindings/python
REPO = PKG_SRC.parent.parent
HEADER = PKG_SRC / ".." / ".." / "include" / "onedrive.h"
TOKEN = "py-test-token"


def eventually(cond: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Polls ``cond`` until it is truthy (returns its value) or the deadline passes."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def emulator_binary() -> Path:
    env = os.environ.get("ONEDRIVE_EMULATOR")
    if env:
        return Path(env)
    target = Path(os.environ["CARGO_TARGET_DIR"]) if os.environ.get("CARGO_TARGET_DIR") else REPO / "target"
    path = target / "debug" / "onedrive-emulator"
    if not path.is_file():
        subprocess.run(
            ["cargo", "build", "-p", "onedrive-emulator", "--manifest-path", str(REPO / "Cargo.toml")],
            check=True,
        )
    return path


class Emulator:
    """A running standalone emulator and its admin path."""

    def __init__(self, *args: str, argv: Optional[List[str]] = None) -> None:
        """``args``: flags added to the suite's; ``argv``: the whole command line
        instead (an ephemeral port and TOKEN are then up to the caller)."""
        binary = emulator_binary()
        if argv is None:
            # HTTPS with a CA made at start (ca_file=): clients trust it with ca_file=.
            argv = ["--port", "0", "--monitor-port", "0", "--token", TOKEN, *args]
        self.proc = subprocess.Popen(
            [str(binary), *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        lines: "queue.Queue[Optional[str]]" = queue.Queue()

        def pump() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                lines.put(line.rstrip("\n"))
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        info: Dict[str, str] = {}
        deadline = time.monotonic() + 60
        while "default_drive_id" not in info:
            left = deadline - time.monotonic()
            try:
                line = lines.get(timeout=max(left, 0.01))
            except queue.Empty:
                line = None
            if line is None:
                self.stop()
                raise RuntimeError(f"{binary} did not start (info so far: {info})")
            if "=" in line:
                k, v = line.split("=", 1)
                info[k] = v
        self.base_url = info["base_url"]
        self.api_origin = self.base_url[: -len("/v1.0")]
        self.monitor_origin = info["monitor_origin"]
        self.ca_file = info["ca_file"]
        # the admin path's own requests (urllib) trust it too
        self._tls = ssl.create_default_context(cafile=self.ca_file)
        self.token = info["token"]
        self.admin_token = info["admin_token"]
        self.profile = info["profile"]
        self.default_drive_id = info["default_drive_id"]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    # admin path

    def admin(self, method: str, path: str, body: Any = None, raw: Optional[bytes] = None) -> Any:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        req = urllib.request.Request(self.api_origin + "/_emulator" + path, data=data, method=method)
        req.add_header("Authorization", "Bearer " + self.admin_token)
        if body is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=30, context=self._tls) as r:
            text = r.read()
        return json.loads(text) if text else None

    def info(self) -> Dict[str, Any]:
        return self.admin("GET", "/info")

    def requests(self) -> List[Dict[str, Any]]:
        return self.admin("GET", "/requests")

    def clear_requests(self) -> None:
        self.admin("DELETE", "/requests")

    def add_fault(self, rule: Dict[str, Any]) -> None:
        self.admin("POST", "/faults", rule)

    def clear_faults(self) -> None:
        self.admin("DELETE", "/faults")

    def job_config(self) -> Dict[str, Any]:
        return self.admin("GET", "/job")

    def set_job_config(self, **changes: Any) -> None:
        cfg = self.job_config()
        cfg.update(changes)
        self.admin("PUT", "/job", cfg)

    def static(self, name: str, body: bytes) -> str:
        return self.admin("PUT", "/static/" + name, raw=body)["url"]

    def graph(self, path: str) -> Any:
        """A GET on the API with the token (e.g. a drive's owner)."""
        req = urllib.request.Request(self.base_url + path)
        req.add_header("Authorization", "Bearer " + self.token)
        with urllib.request.urlopen(req, timeout=30, context=self._tls) as r:
            return json.loads(r.read())


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    emu = Emulator()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture(scope="session")
def business_emulator() -> Iterator[Emulator]:
    emu = Emulator("--profile", "business")
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def emu(emulator: Emulator) -> Iterator[Emulator]:
    """The session emulator, with faults and job settings reset after the test."""
    default_job = emulator.job_config()
    try:
        yield emulator
    finally:
        emulator.clear_faults()
        emulator.admin("PUT", "/job", default_job)


@pytest.fixture
def client(emu: Emulator) -> Iterator[Any]:
    import onedrive_native as od

    with od.Client(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file) as c:
        yield c


@pytest.fixture
def folder(client: Any) -> str:
    """A fresh folder path for one test, e.g. ``/t-1a2b3c``."""
    path = "/t-" + uuid.uuid4().hex[:10]
    client.upload(path, ".keep", b"")
    return path


@pytest.fixture
def paused_jobs(emu: Emulator) -> Emulator:
    emu.set_job_config(paused=True)
    return emu


# ---- no silent green ---------------------------------------------------------
# Under CI (CI=true, as .ci/run sets it) a skipped test is a failure: a skip
# there means a dependency the suite needs was missing, and the run would
# otherwise be green without having tested it.
_SKIPPED: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):
        _SKIPPED.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("CI", "").lower() in ("1", "true", "yes") and _SKIPPED and exitstatus == 0:
        print(f"\nCI: {len(_SKIPPED)} test(s) skipped, which fails the run: {', '.join(_SKIPPED)}")
        session.exitstatus = 1
