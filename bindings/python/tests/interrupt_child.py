"""A host program for test_interrupt.py: one Ctrl-C scenario per run, real
SIGINTs (os.kill / signal.raise_signal from another thread), results as one
JSON line on stdout. Never sleeps to wait: a thread sends the signal once
the main thread is inside the native call (its frame is the wrapper's, or a
callback said so).

    python interrupt_child.py SCENARIO BASE_URL TOKEN CA_FILE FOLDER
"""

from __future__ import annotations

import json
import linecache
import os
import signal
import sys
import threading
from typing import Any, Callable, Dict, Optional

# Started by a runner that ignores SIGINT (a background job of a
# non-interactive shell, nohup), the interpreter kept it ignored; these
# scenarios model an interactive program, where Python's own handler is set.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

SCENARIO, BASE, TOKEN, CA, FOLDER = sys.argv[1:6]
MAIN = threading.main_thread().ident
HOST_CALLS = []


def host_handler(signum: int, frame: Any) -> None:  # a host's handler that does not raise
    HOST_CALLS.append(signum)


if SCENARIO == "host_before":
    signal.signal(signal.SIGINT, host_handler)

import onedrive_native as od  # noqa: E402

RESULT: Dict[str, Any] = {}
BIG = bytes(4 * 1024 * 1024)  # at 256 KiB/s: 16 s unless Ctrl-C ends it


def client() -> od.Client:
    c = od.Client(token=TOKEN, base_url=BASE, ca_file=CA)
    c.set_upload_rate(256 * 1024)
    return c


def in_native_call(fn_name: str) -> Callable[[], bool]:
    """True once the main thread's innermost Python frame is ``fn_name``'s,
    on its line that calls the library: the main thread is in the native call."""

    def check() -> bool:
        f = sys._current_frames().get(MAIN)
        return (f is not None and f.f_code.co_name == fn_name
                and "lib.od_" in linecache.getline(f.f_code.co_filename, f.f_lineno))

    return check


def main_at(marker: str) -> Callable[[], bool]:
    """True once a frame of the main thread is on a line holding ``marker``."""

    def check() -> bool:
        f = sys._current_frames().get(MAIN)
        while f is not None:
            if marker in linecache.getline(f.f_code.co_filename, f.f_lineno):
                return True
            f = f.f_back
        return False

    return check


def ctrl_c_when(cond: Callable[[], bool], how: str = "kill") -> threading.Thread:
    """From another thread, once ``cond()`` holds: a real SIGINT to this process."""

    def run() -> None:
        while not cond():
            threading.Event().wait(0.001)  # polling a condition, not sleeping for one
        if how == "raise_signal":
            signal.raise_signal(signal.SIGINT)
        else:
            os.kill(os.getpid(), signal.SIGINT)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def upload_interrupted(c: od.Client, name: str, progress: Optional[Any] = None, how: str = "kill") -> str:
    """An upload that a Ctrl-C reaches while it runs: what it raised."""
    seen = []

    def on_progress(done: int, total: int) -> None:
        seen.append(done)
        if progress is not None:
            progress(done, total)

    ctrl_c_when(in_native_call("upload") if progress is None else (lambda: len(seen) > 0), how)
    try:
        c.upload(FOLDER, name, BIG, progress=on_progress if progress is not None else None)
    except KeyboardInterrupt:
        return "KeyboardInterrupt"
    except BaseException as e:  # noqa: B036
        return type(e).__name__
    return "completed"


def ctrl_c_outside() -> str:
    fired = threading.Event()
    ctrl_c_when(fired.is_set)
    try:
        fired.set()
        for _ in range(100_000_000):  # the host's handler runs at one of these bytecodes
            pass
    except KeyboardInterrupt:
        return "KeyboardInterrupt"
    return "nothing"


def scenario() -> None:
    r = RESULT
    r["handler_is_default_at_start"] = signal.getsignal(signal.SIGINT) is signal.default_int_handler
    if SCENARIO == "during":
        with client() as c:
            r["no_callback"] = upload_interrupted(c, "a.bin")
            r["with_callback"] = upload_interrupted(c, "b.bin", progress=lambda d, t: None)
            r["raise_signal_from_a_thread"] = upload_interrupted(c, "c.bin", how="raise_signal")
            c.set_upload_rate(0)
            r["after"] = c.upload(FOLDER, "d.bin", b"after").size
        r["outside"] = ctrl_c_outside()
    elif SCENARIO == "after_failed":
        with client() as c:
            token = od.CancelToken()
            token.close()
            for _ in range(3):
                try:
                    c.upload(FOLDER, "x.bin", b"x", cancel=token)
                except Exception as e:
                    r["failed_with"] = type(e).__name__
            r["outside"] = [ctrl_c_outside() for _ in range(3)]
            r["during"] = upload_interrupted(c, "y.bin")
            r["outside_again"] = ctrl_c_outside()
    elif SCENARIO == "host_before":
        with client() as c:
            c.set_upload_rate(4 * 1024 * 1024)
            got = []

            def send_once(done: int, total: int) -> None:
                if not got:
                    got.append(done)
                    os.kill(os.getpid(), signal.SIGINT)

            r["upload"] = c.upload(FOLDER, "h.bin", bytes(1024 * 1024), progress=send_once).size
        r["host_calls"] = len(HOST_CALLS)
    elif SCENARIO == "host_after":
        class Stop(Exception):
            pass

        def raising(signum: int, frame: Any) -> None:
            raise Stop()

        with client() as c:
            c.upload(FOLDER, "first.bin", b"1")
            signal.signal(signal.SIGINT, raising)
            r["during"] = upload_interrupted(c, "s.bin")
            signal.signal(signal.SIGINT, signal.default_int_handler)
            r["during_default_again"] = upload_interrupted(c, "t.bin")
    elif SCENARIO == "worker_thread":
        # a call on a worker thread; Ctrl-C reaches the main thread (waiting), not the call
        with client() as c:
            c.set_upload_rate(0)
            started, main_interrupted, done = threading.Event(), threading.Event(), threading.Event()
            out: Dict[str, Any] = {}

            def progress(d: int, t: int) -> None:  # the call goes on only once main was interrupted
                started.set()
                main_interrupted.wait(60)

            def work() -> None:
                try:
                    out["size"] = c.upload(FOLDER, "w.bin", bytes(2 * 1024 * 1024), progress=progress).size
                except BaseException as e:  # noqa: B036
                    out["error"] = type(e).__name__
                finally:
                    done.set()

            threading.Thread(target=work).start()
            started.wait(60)
            ctrl_c_when(main_at("# main " + "waits here"), "raise_signal")  # (not this line)
            try:
                done.wait(60)  # main waits here
                r["main"] = "not interrupted"
            except KeyboardInterrupt:
                r["main"] = "KeyboardInterrupt"
            main_interrupted.set()
            done.wait(60)
            r["worker"] = out
    elif SCENARIO == "asyncio":
        import asyncio

        steps = []

        async def main() -> None:
            async with od.AsyncClient(token=TOKEN, base_url=BASE, ca_file=CA) as ac:
                await ac.upload(FOLDER, "before.bin", b"b")
                h = signal.getsignal(signal.SIGINT)  # asyncio.Runner's: partial(Runner._on_sigint, main_task=...)
                r["handler_in_loop_is_asyncio_s"] = type(getattr(getattr(h, "func", None), "__self__", None)).__name__ == "Runner"
                ac.client.set_upload_rate(256 * 1024)
                seen = threading.Event()
                ctrl_c_when(seen.is_set)
                try:
                    await ac.upload(FOLDER, "big.bin", BIG, progress=lambda d, t: seen.set())
                    r["upload"] = "completed"
                except asyncio.CancelledError:
                    r["upload"] = "CancelledError"
                    # a critical section: asyncio's graceful Ctrl-C lets it finish
                    for i in range(3):
                        steps.append(i)
                    raise

        with od.Client(token=TOKEN, base_url=BASE, ca_file=CA) as c:  # a call on the main thread first
            c.upload(FOLDER, "sync.bin", b"s")
        try:
            asyncio.run(main())
            r["run"] = "returned"
        except KeyboardInterrupt:
            r["run"] = "KeyboardInterrupt"
        r["steps"] = len(steps)
        with od.Client(token=TOKEN, base_url=BASE, ca_file=CA) as c:
            try:
                c.item(FOLDER + "/big.bin")
                r["big_on_service"] = True
            except od.NotFoundError:
                r["big_on_service"] = False
    elif SCENARIO == "download":
        with client() as c:
            c.set_upload_rate(0)
            c.upload(FOLDER, "dl.bin", BIG)
            c.set_download_rate(256 * 1024)  # 16 s unless Ctrl-C ends it
            target = os.path.join(os.environ["CHILD_TMP"], "dl.bin")
            ctrl_c_when(in_native_call("download"))
            try:
                c.download(FOLDER + "/dl.bin", target)
                r["to_path"] = "completed"
            except KeyboardInterrupt:
                r["to_path"] = "KeyboardInterrupt"
            r["partial_under_the_name"] = os.path.exists(target)
            pieces = []
            ctrl_c_when(lambda: len(pieces) > 0)
            try:
                c.download(FOLDER + "/dl.bin", pieces.append)
                r["to_callable"] = "completed"
            except KeyboardInterrupt:
                r["to_callable"] = "KeyboardInterrupt"
            c.set_download_rate(0)
            r["after"] = len(c.download(FOLDER + "/dl.bin", target).raw) > 0 and os.path.getsize(target)
    elif SCENARIO == "queue_events":
        with client() as c, c.open_queue(os.path.join(os.environ["CHILD_TMP"], "q"), online=False) as q:
            path = os.path.join(os.environ["CHILD_TMP"], "f.bin")
            with open(path, "wb") as f:
                f.write(b"f" * 1000)
            q.enqueue_upload(path, FOLDER)  # offline: waits, so events() would wait forever
            ctrl_c_when(in_native_call("next_event"))  # waiting in the library for an event
            try:
                for _ in q.events():
                    pass
                r["events"] = "ended"
            except KeyboardInterrupt:
                r["events"] = "KeyboardInterrupt"
            ctrl_c_when(in_native_call("wait_idle"))
            try:
                q.wait_idle()
                r["wait_idle"] = "returned"
            except KeyboardInterrupt:
                r["wait_idle"] = "KeyboardInterrupt"
            q.cancel_all()
    else:
        raise SystemExit(f"unknown scenario {SCENARIO}")
    r["handler_is_default_at_end"] = signal.getsignal(signal.SIGINT) is signal.default_int_handler


scenario()
print(json.dumps(RESULT), flush=True)
