"""The installed package: its console script, and the pytest plugin's fixtures
(run by emulator/python/test_wheel.sh in a fresh venv, once without and once
with onedrive_native importable)."""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, Optional

import pytest

import onedrive_emulator
from onedrive_emulator import Connection, Emulator

try:
    import onedrive_native
except ImportError:
    onedrive_native = None  # type: ignore[assignment]

#: "1": onedrive_native must be importable in this run; "0": it must not be
WANT_NATIVE = os.environ.get("EXPECT_ONEDRIVE_NATIVE")


def call(conn: Connection, method: str, path: str, body: Optional[bytes] = None) -> Dict[str, Any]:
    """A Graph request with the connection's token and CA; the JSON answer."""
    req = urllib.request.Request(conn.base_url + path, data=body, method=method)
    req.add_header("Authorization", "Bearer " + conn.token)
    ctx = ssl.create_default_context(cafile=conn.ca_file) if conn.ca_file else None
    with urllib.request.urlopen(req, timeout=30, context=ctx) as r:
        return json.loads(r.read())


def start_copy(conn: Connection, path: str, name: str) -> int:
    """POSTs a copy of the file at ``path`` as ``name`` beside it; the status (202)."""
    req = urllib.request.Request(
        conn.base_url + f"/me/drive/root:{path}:/copy",
        data=json.dumps({"name": name}).encode(),
        method="POST",
        headers={"Authorization": "Bearer " + conn.token, "Content-Type": "application/json"},
    )
    ctx = ssl.create_default_context(cafile=conn.ca_file)
    with urllib.request.urlopen(req, timeout=30, context=ctx) as r:
        return int(r.status)


def test_the_bundled_binary_is_used() -> None:
    exe = onedrive_emulator.binary_path()
    package = Path(onedrive_emulator.__file__).parent
    assert package.is_relative_to(sys.prefix), f"{package} is not installed in {sys.prefix}"
    assert package in exe.parents, exe
    assert os.access(exe, os.X_OK)
    assert onedrive_emulator.BINARY_ENV not in os.environ
    assert shutil.which("cargo") is None, "the test runs with no cargo on PATH"


def test_the_console_script_runs_the_emulator(tmp_path: Path) -> None:
    script = shutil.which("onedrive-emulator")
    assert script is not None and Path(script).parent == Path(sys.executable).parent, script
    proc = subprocess.Popen(
        [script, "--port", "0", "--monitor-port", "0", "--ca-out", str(tmp_path / "ca.pem")],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        info = {}
        assert proc.stdout is not None
        for line in proc.stdout:  # default_drive_id= is the last line
            key, _, value = line.rstrip("\n").partition("=")
            info[key] = value
            if key == "default_drive_id":
                break
        assert info["ca_file"] == str(tmp_path / "ca.pem")
        ctx = ssl.create_default_context(cafile=info["ca_file"])
        health = info["base_url"][: -len("/v1.0")] + "/health"
        with urllib.request.urlopen(health, timeout=30, context=ctx) as r:
            assert json.loads(r.read()) == {"status": "ok"}
    finally:
        proc.terminate()
        # exec'd: the signal reached the emulator itself, which stops cleanly
        assert proc.wait(timeout=30) == 0


def test_the_drive_is_fresh_in_each_test_a(onedrive_drive: Emulator) -> None:
    conn = onedrive_drive.connection
    # conflict=fail: the name is new only if the previous test's file went
    made = call(conn, "PUT", "/me/drive/root:/fresh.txt:/content?@microsoft.graph.conflictBehavior=fail", b"a")
    assert made["size"] == 1
    onedrive_drive.add_fault({"action": {"status": {"status": 503}}})


def test_the_drive_is_fresh_in_each_test_b(onedrive_drive: Emulator) -> None:
    conn = onedrive_drive.connection
    # and the fault rule went with the reset
    made = call(conn, "PUT", "/me/drive/root:/fresh.txt:/content?@microsoft.graph.conflictBehavior=fail", b"bb")
    assert made["size"] == 2


def test_running_jobs_reaches_zero_once_a_copy_landed(onedrive_drive: Emulator) -> None:
    conn = onedrive_drive.connection
    call(conn, "PUT", "/me/drive/root:/src.txt:/content", b"abc")
    onedrive_drive.set_job_config(paused=True)
    assert start_copy(conn, "/src.txt", "dst.txt") == 202
    assert onedrive_drive.running_jobs() == 1
    onedrive_drive.set_job_config(paused=False)
    deadline = time.monotonic() + 60  # a hang guard only
    while onedrive_drive.running_jobs() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert onedrive_drive.running_jobs() == 0
    assert call(conn, "GET", "/me/drive/root:/dst.txt")["size"] == 3


def test_a_held_copy_runs_once_released(onedrive_drive: Emulator) -> None:
    conn = onedrive_drive.connection
    call(conn, "PUT", "/me/drive/root:/held/src.txt:/content", b"abc")
    onedrive_drive.add_fault({"method": "POST", "path_contains": "/held/", "action": "hold_job"})
    assert start_copy(conn, "/held/src.txt", "dst.txt") == 202
    assert (onedrive_drive.held_jobs(), onedrive_drive.running_jobs()) == (1, 1)
    assert onedrive_drive.held_requests() == 0 and onedrive_drive.release_requests() == 0
    assert onedrive_drive.release_jobs() == 1
    deadline = time.monotonic() + 60  # a hang guard only
    while onedrive_drive.running_jobs() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert onedrive_drive.held_jobs() == 0 and onedrive_drive.running_jobs() == 0
    assert call(conn, "GET", "/me/drive/root:/held/dst.txt")["size"] == 3


def test_the_client_fixture(onedrive_client: Any, onedrive_emulator: Emulator) -> None:
    if WANT_NATIVE is not None:
        assert (onedrive_native is not None) == (WANT_NATIVE == "1"), "onedrive_native importable?"
    if onedrive_native is None:
        assert isinstance(onedrive_client, Connection)
        assert onedrive_client == onedrive_emulator.connection
        assert onedrive_client.ca_file and Path(onedrive_client.ca_file).is_file()
        made = call(onedrive_client, "PUT", "/me/drive/root:/c.txt:/content", b"via urllib")
        assert made["size"] == 10
        return
    assert isinstance(onedrive_client, onedrive_native.Client)
    item = onedrive_client.upload("/", "c.txt", b"via onedrive_native")
    assert item.size == 19
    assert onedrive_client.item("/c.txt").id == item.id
    with pytest.raises(onedrive_native.NotFoundError):
        onedrive_client.item("/not-there.txt")


def test_more_emulators_with_their_own_flags() -> None:
    with Emulator("--profile", "business", token="B") as emu:
        assert emu.profile == "business"
        assert emu.connection == Connection(emu.base_url, "B", emu.ca_file)
        assert call(emu.connection, "GET", "/me/drive")["driveType"] == "business"
        stats = emu.stats()
        assert stats["running_jobs"] == 0 and stats["upload_sessions"] == 0, stats
        assert stats["connections_accepted"] >= 1, stats
    assert emu.proc.returncode == 0, "stopped cleanly by SIGTERM"
    # a refused start says why
    with pytest.raises(onedrive_emulator.EmulatorError, match="--no-such-flag"):
        Emulator("--no-such-flag")


def test_python_dash_m_runs_the_binary() -> None:
    out = subprocess.run([sys.executable, "-m", "onedrive_emulator", "--help"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0 and "usage: onedrive-emulator" in out.stdout, out
