"""The library's log lines (``od_client_set_log_callback``) into Python's
:mod:`logging`, under the logger named ``onedrive_native``.

How it is installed, and why it costs nothing when nobody listens:

- The library makes a line only when its level is wanted (the level given
  to ``od_client_set_log_callback``); a line that is not wanted is never
  formatted and the callback is never entered. So a client asks for the
  levels the ``onedrive_native`` logger would keep *when the client is
  made* (its effective level, ``logging.disable`` included) and for no
  more: with logging left as Python sets it up (WARNING), a successful
  upload makes no line and never enters Python; at INFO one line per
  request crosses into Python. When even ERROR is off, no callback is
  installed at all.
- Logging configured after the client was made is picked up by
  :meth:`Client.refresh_logging`; :meth:`Client.set_log_level` sets the
  level explicitly.
- The C function pointer is one module-level object shared by every
  client: it lives as long as the interpreter, so it outlives every client
  that may call it (also a client whose callback is replaced while a
  request on another thread is still logging). It holds no reference to
  any client, so it keeps none alive.
- It never raises into C: whatever a handler or filter raises is dropped.

Lines never hold the token, a query string (``tempauth`` included) or an
upload URL's path: the library removes them before the line is made.
"""

from __future__ import annotations

import logging
from typing import Any, Optional, Tuple, Union

from . import _ffi, _interrupt

#: The logger the library's lines go to.
LOGGER_NAME = "onedrive_native"

logger = logging.getLogger(LOGGER_NAME)
# A library's logger gets no handler but this one: nothing is printed (not
# even by logging's last-resort handler) until the application configures
# logging.
logger.addHandler(logging.NullHandler())

#: ``OD_LOG_*`` and the :mod:`logging` level of each, most severe first.
LEVELS: Tuple[Tuple[int, int], ...] = (
    (_ffi.OD_LOG_ERROR, logging.ERROR),
    (_ffi.OD_LOG_WARN, logging.WARNING),
    (_ffi.OD_LOG_INFO, logging.INFO),
    (_ffi.OD_LOG_DEBUG, logging.DEBUG),
)
_TO_PYTHON = dict(LEVELS)


@_interrupt.entry_safe
def _on_log(_userdata: Any, level: int, message: Optional[bytes]) -> None:
    """``od_log_fn``: one line, on the thread of the request that made it."""
    try:  # first: Ctrl-C may be raised at the first call in here (see _interrupt)
        py_level = _TO_PYTHON.get(level, logging.DEBUG)
        if logger.isEnabledFor(py_level):
            logger.log(py_level, (message or b"").decode("utf-8", "replace"))
    except BaseException as e:  # noqa: B036 - nothing may unwind into C
        if not isinstance(e, Exception):  # Ctrl-C: the call's next progress callback stops it
            _interrupt.note(e)  # (a broken logging handler's error is dropped, as before)


#: The ``od_log_fn`` every client installs (userdata NULL).
CALLBACK = _ffi.LOG_FN(_on_log)
#: A NULL ``od_log_fn``: removes the callback.
NO_CALLBACK = _ffi.LOG_FN()


def python_level(level: Union[int, str]) -> int:
    """A :mod:`logging` level from a number or a name (``"DEBUG"``)."""
    if isinstance(level, bool):
        raise TypeError("a logging level is an int or a level name, not a bool")
    if isinstance(level, int):
        return level
    if isinstance(level, str):
        number = logging.getLevelName(level.upper())
        if isinstance(number, int):
            return number
        raise ValueError(f"{level!r} is not a logging level name")
    raise TypeError(f"a logging level is an int or a level name, not {type(level).__name__}")


def native_level(threshold: int) -> int:
    """The most verbose ``OD_LOG_*`` whose lines a logger at ``threshold``
    keeps; 0 when it keeps none (not even ERROR)."""
    wanted = 0
    for od, py in LEVELS:
        if py >= threshold:
            wanted = od
    return wanted


def effective_native_level() -> int:
    """:func:`native_level` for the ``onedrive_native`` logger as it is
    configured now (its effective level and ``logging.disable``)."""
    wanted = 0
    for od, py in LEVELS:
        if logger.isEnabledFor(py):
            wanted = od
    return wanted


def to_python(native: int) -> Optional[int]:
    """The :mod:`logging` level of an ``OD_LOG_*`` (None for 0)."""
    return _TO_PYTHON.get(native)
