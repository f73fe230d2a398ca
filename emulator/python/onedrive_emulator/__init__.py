"""onedrive-emulator: a local emulator of the Microsoft Graph OneDrive drive API.

The package bundles the emulator's binary (``binary_path()``; the console
script ``onedrive-emulator`` runs it) and starts it for Python programs and
tests::

    from onedrive_emulator import Emulator

    with Emulator() as emu:            # HTTPS on ephemeral loopback ports
        print(emu.base_url, emu.token, emu.ca_file)
        emu.reset()                    # back to a fresh drive

Its pytest plugin (loaded by pytest once the package is installed) provides
the fixtures ``onedrive_emulator``, ``onedrive_drive``, ``onedrive_connection``
and ``onedrive_client``: see ``onedrive_emulator.pytest_plugin``.
"""

from __future__ import annotations

import json
import os
import queue
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional

__all__ = ["BINARY_ENV", "Connection", "Emulator", "EmulatorError", "binary_path"]

#: Set to a path, runs that emulator binary instead of the bundled one.
BINARY_ENV = "ONEDRIVE_EMULATOR_BIN"

_EXE = "onedrive-emulator.exe" if sys.platform == "win32" else "onedrive-emulator"


class EmulatorError(RuntimeError):
    """The emulator could not be found, did not start, or refused an admin request."""


def binary_path() -> Path:
    """The emulator binary: ``$ONEDRIVE_EMULATOR_BIN`` when set, else the bundled one."""
    env = os.environ.get(BINARY_ENV)
    path = Path(env) if env else Path(__file__).resolve().parent / "bin" / _EXE
    if not path.is_file():
        where = f"${BINARY_ENV} = {env}" if env else f"the package ({path})"
        raise EmulatorError(f"no onedrive-emulator binary in {where}")
    return path


class Connection(NamedTuple):
    """What a client needs to reach the emulator's Graph API."""

    base_url: str
    token: str
    #: the CA to trust (PEM file); None with ``--plain-http``
    ca_file: Optional[str]


class Emulator:
    """A running emulator (a child process) and its admin API.

    ``args`` are extra command-line flags (e.g. ``"--profile", "business"``);
    ports are ephemeral and the host is 127.0.0.1 unless ``args`` say
    otherwise. Stops with ``stop()`` or at the end of a ``with`` block.
    """

    def __init__(self, *args: str, token: str = "test-token", start_timeout: float = 60.0) -> None:
        exe = binary_path()
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [str(exe), "--port", "0", "--monitor-port", "0", "--token", token, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        info = self._read_announcement(start_timeout)
        self.base_url: str = info["base_url"]
        self.api_origin: str = self.base_url[: -len("/v1.0")]
        self.monitor_origin: str = info["monitor_origin"]
        self.ca_file: Optional[str] = info.get("ca_file")
        self.token: str = info["token"]
        self.admin_token: str = info["admin_token"]
        self.profile: str = info["profile"]
        self.default_drive_id: str = info["default_drive_id"]
        self._tls = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else None

    def _read_announcement(self, timeout: float) -> Dict[str, str]:
        lines: "queue.Queue[Optional[str]]" = queue.Queue()

        def pump() -> None:  # until the process ends (EOF), then closes the pipe
            assert self.proc.stdout is not None
            with self.proc.stdout as out:
                for line in out:
                    lines.put(line.rstrip("\n"))
            lines.put(None)

        threading.Thread(target=pump, daemon=True, name="onedrive-emulator-stdout").start()
        info: Dict[str, str] = {}
        deadline = time.monotonic() + timeout
        while "default_drive_id" not in info:  # always the last line
            try:
                line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                line = None
            if line is None:
                self._terminate()
                self._stderr.seek(0)
                err = self._stderr.read().decode(errors="replace").strip()
                self.stop()
                why = err or f"no announcement within {timeout} s"
                raise EmulatorError(f"onedrive-emulator did not start: {why}")
            if "=" in line:
                key, value = line.split("=", 1)
                info[key] = value
        return info

    @property
    def connection(self) -> Connection:
        return Connection(self.base_url, self.token, self.ca_file)

    def stop(self) -> None:
        """SIGTERM, then wait (SIGKILL after 20 s). The emulator removes its temporary files."""
        self._terminate()
        self._stderr.close()

    def _terminate(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> "Emulator":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ---- the admin API (/_emulator, with the admin token) -------------------

    def admin(self, method: str, path: str, body: Any = None, raw: Optional[bytes] = None) -> Any:
        """One admin request; its JSON answer (None when empty)."""
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        req = urllib.request.Request(self.api_origin + "/_emulator" + path, data=data, method=method)
        req.add_header("Authorization", "Bearer " + self.admin_token)
        if body is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30, context=self._tls) as r:
                text = r.read()
        except urllib.error.HTTPError as e:
            raise EmulatorError(f"{method} /_emulator{path}: HTTP {e.code} {e.read()[:500]!r}") from None
        return json.loads(text) if text else None

    def reset(self) -> None:
        """Back to a fresh drive (items, sessions, jobs, faults, log go; ids and tokens stay)."""
        self.admin("POST", "/reset")

    def info(self) -> Dict[str, Any]:
        return self.admin("GET", "/info")

    def stats(self) -> Dict[str, int]:
        """``running_jobs``, ``held_jobs``, ``held_requests``, ``connections_accepted``,
        ``upload_sessions``."""
        return self.admin("GET", "/stats")

    def running_jobs(self) -> int:
        """Copies and uploads from URL still running: 0 once their results have landed."""
        return int(self.stats()["running_jobs"])

    def held_jobs(self) -> int:
        """Jobs a ``hold_job`` fault holds in progress (see :meth:`release_jobs`)."""
        return int(self.stats()["held_jobs"])

    def release_jobs(self) -> int:
        """Lets every held job run on; returns how many were held."""
        return int(self.admin("POST", "/jobs/release")["released"])

    def held_requests(self) -> int:
        """Requests a ``hold_request`` fault holds before handling them: wait for your
        request to be counted here before acting on it, then :meth:`release_requests`."""
        return int(self.stats()["held_requests"])

    def release_requests(self) -> int:
        """Lets every held request be handled; returns how many were held."""
        return int(self.admin("POST", "/requests/release")["released"])

    def requests(self) -> List[Dict[str, Any]]:
        return self.admin("GET", "/requests")

    def clear_requests(self) -> None:
        self.admin("DELETE", "/requests")

    def add_fault(self, rule: Dict[str, Any]) -> None:
        """A fault rule, e.g. ``{"times": {"next": 1}, "action": {"status": {"status": 503}}}``."""
        self.admin("POST", "/faults", rule)

    def clear_faults(self) -> None:
        self.admin("DELETE", "/faults")

    def job_config(self) -> Dict[str, Any]:
        return self.admin("GET", "/job")

    def set_job_config(self, **changes: Any) -> None:
        """Change some job settings (``base_ms``, ``bytes_per_sec``, ``paused``, ``fail``)."""
        cfg = self.job_config()
        cfg.update(changes)
        self.admin("PUT", "/job", cfg)

    def serve_static(self, name: str, body: bytes) -> str:
        """Serve ``body`` on the monitor origin (a source for upload from URL); its URL."""
        return self.admin("PUT", "/static/" + name, raw=body)["url"]
