"""Ctrl-C during a native call, with no signal handler of ours.

While the main thread blocks in the library, CPython's C-level signal
handler only records a SIGINT; the host's Python-level handler
(``signal.default_int_handler`` unless the host installed another) runs at
the next bytecode the main thread executes, which is inside one of our
callbacks (progress, stream read, token, log). With the default handler
that raises KeyboardInterrupt there: each callback catches it, tells the
library to stop (a progress callback returns non-zero, a read -1) and the
call raises it once the library has returned. A host handler that does not
raise (asyncio's "cancel the main task") keeps its own meaning. The host's
handler is never replaced.

Two details make that reliable:

- The first check for pending signals in a Python function is its entry
  (the ``RESUME`` instruction, 3.11+), before any ``try`` block is active: a
  KeyboardInterrupt raised there would escape into ctypes, which prints
  "Exception ignored on calling ctypes callback function", drops it and
  hands the library an undefined return value. :func:`entry_safe` rewrites a
  callback's entry ``RESUME`` to the form that does not check (the one a
  generator resumes with after ``yield from``), so the first check happens
  at the first call inside the callback's ``try``. Before 3.11 a function
  whose first statement is ``try:`` starts with ``SETUP_FINALLY``, which the
  interpreter never interrupts, so the callbacks are written that way.
- A Ctrl-C caught where the call cannot be stopped at once (a token or log
  callback, or the progress trampoline before it found its callback) is
  kept in :data:`pending` for the main thread: the next progress callback
  stops the call, and the call raises it. A host handler that raises
  something else (its own exception) gets the same treatment.
"""

from __future__ import annotations

import dis
import threading
from types import FunctionType
from typing import Optional, TypeVar

_F = TypeVar("_F")
_MAIN = threading.main_thread().ident
_RESUME = dis.opmap.get("RESUME")
#: RESUME's argument after ``yield from``: the interpreter does not look for
#: pending signals there (it does for 0, a function's start, and 1).
_RESUME_NO_CHECK = 2

#: What a signal handler raised in a callback of the main thread's current
#: call where the call could not be stopped at once; raised by that call (``take``).
pending: Optional[BaseException] = None


def entry_safe(fn: _F) -> _F:
    """``fn`` (a function, or the function under a method) with its entry
    ``RESUME`` made one that does not run signal handlers. Unchanged before
    3.11 (no RESUME). Returns ``fn``."""
    func = getattr(fn, "__func__", fn)
    if _RESUME is None or not isinstance(func, FunctionType):
        return fn
    code = func.__code__
    for ins in dis.get_instructions(code):
        if ins.opcode == _RESUME:
            if ins.arg == 0:
                raw = bytearray(code.co_code)
                assert raw[ins.offset] == _RESUME and raw[ins.offset + 1] == 0
                raw[ins.offset + 1] = _RESUME_NO_CHECK
                func.__code__ = code.replace(co_code=bytes(raw))
            break
    return fn


def on_main() -> bool:
    return threading.get_ident() == _MAIN


def note(e: BaseException) -> None:
    """Keeps what the host's signal handler raised in a callback of a
    main-thread call (KeyboardInterrupt, or whatever a host's handler raises)
    where the callback could not hand it to the call itself."""
    global pending
    if pending is None and on_main():
        pending = e


def take() -> Optional[BaseException]:
    """The main thread's pending Ctrl-C, once (None on other threads)."""
    global pending
    if pending is None or not on_main():
        return None
    e, pending = pending, None
    return e
