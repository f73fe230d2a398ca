"""Exceptions mirroring ``od_status``, filled from the thread's last error.

:class:`Status` and the class per status are generated from the ABI
description (``_status.py``, ``_exceptions.py``: tools/gen_bindings.py);
this module re-exports them with the helpers that build one from the
library's last error.
"""

from __future__ import annotations

import ctypes
from typing import Optional, Type

from . import _ffi
from ._error import OneDriveError
from ._exceptions import *  # noqa: F401,F403
from ._exceptions import EXCEPTIONS
from ._status import Status, status_str

_status_str = status_str


def exception_class(status: int) -> Type[OneDriveError]:
    """The class for a status; the base class for a number not known here."""
    return EXCEPTIONS.get(int(status), OneDriveError)


def _last_error_string(field: int) -> Optional[str]:
    needed = ctypes.c_size_t(0)
    _ffi.lib.od_last_error_string(field, None, 0, ctypes.byref(needed))
    for _ in range(4):  # the detail is thread-local: it cannot change under us
        buf = ctypes.create_string_buffer(max(needed.value, 1))
        rc = _ffi.lib.od_last_error_string(field, buf, len(buf), ctypes.byref(needed))
        if rc == Status.OK:
            text = buf.value.decode("utf-8", "replace")
            return text or None
        if rc != Status.BUFFER_TOO_SMALL:
            return None
    return None


def last_error(status: int) -> OneDriveError:
    """Builds the exception for ``status`` from this thread's last error.
    Call it on the thread that made the failing call, before any other call."""
    lib = _ffi.lib
    http = lib.od_last_error_http_status()
    retry_ms = lib.od_last_error_retry_after_ms()
    message = _last_error_string(_ffi.OD_ERROR_MESSAGE) or _status_str(status)
    cls = exception_class(status)
    return cls(
        message,
        status=status,
        http_status=http or None,
        code=_last_error_string(_ffi.OD_ERROR_CODE),
        inner_code=_last_error_string(_ffi.OD_ERROR_INNER_CODE),
        request_id=_last_error_string(_ffi.OD_ERROR_REQUEST_ID),
        retry_after=None if retry_ms < 0 else retry_ms / 1000.0,
    )


def check(status: int) -> None:
    """Raises the matching exception when ``status`` is not OK."""
    if status != Status.OK:
        raise last_error(status)


def local_error(cls: Type[OneDriveError], message: str) -> OneDriveError:
    """An error found by the binding before calling the library."""
    return cls(message, status=int(cls.status))
