"""Ctrl-C (issue 25 items 1-2): real SIGINTs, in a host process of their own
(interrupt_child.py) where the signal state matters, here otherwise. The
binding installs no SIGINT handler: the host's runs inside the call's
callbacks, which stop the call and hand what it raised back to the caller."""

from __future__ import annotations

import ast
import dis
import inspect
import json
import linecache
import os
import signal
import subprocess
import sys
import textwrap
import threading
import uuid
from pathlib import Path
from typing import Any, Dict

import pytest

import onedrive_native as od
from onedrive_native import _interrupt, _log, client as client_mod

CHILD = Path(__file__).with_name("interrupt_child.py")


def run_child(emu: Any, scenario: str) -> Dict[str, Any]:
    folder = "/ctrl-c-" + uuid.uuid4().hex[:8]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    r = subprocess.run(
        [sys.executable, str(CHILD), scenario, emu.base_url, emu.token, emu.ca_file or "", folder],
        capture_output=True, text=True, timeout=300, env=env,  # a hang guard only
    )
    assert r.returncode == 0, f"{scenario}: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    assert "Exception ignored" not in r.stderr, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_ctrl_c_during_a_call_raises_keyboard_interrupt_and_the_handler_stays_python_s(emu):
    r = run_child(emu, "during")
    assert r["handler_is_default_at_start"] and r["handler_is_default_at_end"], r
    # no progress callback of the caller's, one of the caller's, the signal raised on another thread
    assert r["no_callback"] == r["with_callback"] == r["raise_signal_from_a_thread"] == "KeyboardInterrupt", r
    assert r["after"] == 5 and r["outside"] == "KeyboardInterrupt", r


def test_ctrl_c_after_a_call_that_failed_before_starting_is_not_swallowed(emu):
    r = run_child(emu, "after_failed")
    assert r["failed_with"] == "ValueError", r  # the closed cancel token, refused before the native call
    assert r["outside"] == ["KeyboardInterrupt"] * 3 and r["outside_again"] == "KeyboardInterrupt", r
    assert r["during"] == "KeyboardInterrupt", r


def test_a_host_handler_installed_before_import_keeps_its_meaning(emu):
    r = run_child(emu, "host_before")
    assert not r["handler_is_default_at_start"] and not r["handler_is_default_at_end"], r
    assert r["host_calls"] == 1 and r["upload"] == 1024 * 1024, r  # ran once, did not stop the call


def test_a_host_handler_installed_after_import_is_the_one_that_runs(emu):
    r = run_child(emu, "host_after")
    assert r["during"] == "Stop", r  # its exception, from the call it stopped
    assert r["during_default_again"] == "KeyboardInterrupt", r


def test_ctrl_c_reaches_the_main_thread_not_a_call_on_another_thread(emu):
    r = run_child(emu, "worker_thread")
    assert r["main"] == "KeyboardInterrupt", r
    assert r["worker"] == {"size": 2 * 1024 * 1024}, r


def test_asyncio_run_keeps_its_graceful_ctrl_c_and_cancellation_stops_the_call(emu):
    r = run_child(emu, "asyncio")
    assert r["handler_in_loop_is_asyncio_s"], r  # a binding call before did not replace it
    assert r["upload"] == "CancelledError" and r["steps"] == 3, r  # the task was cancelled, cleanup ran
    assert r["run"] == "KeyboardInterrupt", r  # asyncio.run's own ending of a Ctrl-C
    assert r["big_on_service"] is False, r  # the call's cancel token stopped the upload
    assert r["handler_is_default_at_end"], r


def test_ctrl_c_stops_a_wait_that_has_no_progress_callback(client, folder, paused_jobs):
    src = client.upload(folder, "k.bin", b"k" * 1000)
    job = client.copy(src.id, folder, name="k2.bin")
    main = threading.main_thread().ident
    unraisable = []
    old_hook = sys.unraisablehook

    def in_wait() -> bool:
        f = sys._current_frames().get(main)
        return f is not None and "lib.od_wait_job(" in linecache.getline(f.f_code.co_filename, f.f_lineno)

    def ctrl_c() -> None:
        while not in_wait():
            threading.Event().wait(0.001)
        os.kill(os.getpid(), signal.SIGINT)

    sys.unraisablehook = unraisable.append
    try:
        threading.Thread(target=ctrl_c, daemon=True).start()
        with pytest.raises(KeyboardInterrupt):
            job.wait(timeout=120)  # the job is paused: only Ctrl-C ends this before the timeout
    finally:
        sys.unraisablehook = old_hook
    assert not unraisable, unraisable
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_every_callback_begins_with_try_and_runs_no_signal_handler_at_its_entry():
    for fn in (client_mod._progress_trampoline, client_mod._Reader._call, od.Client._on_token, _log._on_log):
        body = ast.parse(textwrap.dedent(inspect.getsource(fn))).body[0].body
        if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]  # the docstring
        assert isinstance(body[0], ast.Try), f"{fn.__qualname__}: its first statement is not try:"
        if sys.version_info >= (3, 11):
            first = next(i for i in dis.get_instructions(fn) if i.opname == "RESUME")
            assert first.arg == 2, f"{fn.__qualname__}: {first}"


def test_an_exception_kept_for_the_main_thread_is_raised_once_by_its_call():
    _interrupt.pending = None
    e = KeyboardInterrupt()
    _interrupt.note(e)
    seen = []
    t = threading.Thread(target=lambda: seen.append(_interrupt.take()))
    t.start()
    t.join()
    assert seen == [None]  # another thread's call does not take it
    assert _interrupt.take() is e and _interrupt.take() is None
