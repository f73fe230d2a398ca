"""Fixtures: a standalone onedrive-emulator per session (and a Business one
on demand), through the emulator's own Python package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

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


# The emulator's own Python package (emulator/python, the wheel users get)
# starts it and speaks its admin API; the suite uses it from the checkout.
sys.path.insert(0, str(REPO / "emulator" / "python"))
import onedrive_emulator  # noqa: E402


class Emulator(onedrive_emulator.Emulator):
    """The shipped ``onedrive_emulator.Emulator`` on the binary this
    checkout builds, with the suite's token and a Graph GET."""

    def __init__(self, *args: str, token: str = TOKEN) -> None:
        os.environ.setdefault(onedrive_emulator.BINARY_ENV, str(emulator_binary()))
        super().__init__(*args, token=token)

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
