"""Exceptions mirroring ``od_status``, filled from the thread's last error."""

from __future__ import annotations

import ctypes
import enum
from typing import Dict, Optional, Type

from . import _ffi


class Status(enum.IntEnum):
    """``od_status``: the result of every fallible C function."""

    OK = 0
    NULL_ARGUMENT = 1
    INVALID_UTF8 = 2
    INVALID_ARGUMENT = 3
    INVALID_NAME = 4
    NETWORK = 5
    TIMEOUT = 6
    CANCELLED = 7
    ABORTED_BY_CALLBACK = 8
    UNAUTHORIZED = 9
    FORBIDDEN = 10
    NOT_FOUND = 11
    CONFLICT = 12
    TOO_LARGE = 13
    THROTTLED = 14
    QUOTA = 15
    NOT_SUPPORTED = 16
    BAD_REQUEST = 17
    SERVICE = 18
    PROTOCOL = 19
    JOB_FAILED = 20
    JOB_CANCELLED = 21
    IO = 22
    BUFFER_TOO_SMALL = 23
    INVALID_STATE = 24
    PANIC = 25
    HASH_MISMATCH = 26
    TLS = 27
    PROXY = 28

    @property
    def c_name(self) -> str:
        """The name in the C header, e.g. ``OD_ERR_NOT_FOUND``."""
        return "OD_OK" if self is Status.OK else f"OD_ERR_{self.name}"

    def describe(self) -> str:
        """``od_status_str``: the library's static description."""
        return _status_str(int(self))


def _status_str(n: int) -> str:
    s: Optional[bytes] = _ffi.lib.od_status_str(n)
    return (s or b"").decode("utf-8", "replace")


class OneDriveError(Exception):
    """A failed call. Every field comes from the library's last error on the
    thread that made the call, read right after it failed.

    - ``status``: the :class:`Status` (an ``int`` for a number this binding
      does not know yet);
    - ``http_status``: the service's HTTP status, or ``None``;
    - ``code``: Graph's ``error.code`` (e.g. ``nameAlreadyExists``), or ``None``;
    - ``inner_code``: the innermost ``innerError.code``, or ``None``;
    - ``message``: a human-readable message;
    - ``request_id``: the service's ``request-id``, or ``None``;
    - ``retry_after``: the service's Retry-After in seconds, or ``None``.
    """

    status: int = -1

    def __init__(
        self,
        message: str,
        *,
        status: Optional[int] = None,
        http_status: Optional[int] = None,
        code: Optional[str] = None,
        inner_code: Optional[str] = None,
        request_id: Optional[str] = None,
        retry_after: Optional[float] = None,
    ) -> None:
        super().__init__(message)
        if status is not None:
            try:
                self.status = Status(status)
            except ValueError:
                self.status = status
        self.message = message
        self.http_status = http_status
        self.code = code
        self.inner_code = inner_code
        self.request_id = request_id
        self.retry_after = retry_after

    def __str__(self) -> str:
        parts = [self.message]
        extra = []
        if self.http_status:
            extra.append(f"HTTP {self.http_status}")
        if self.code:
            extra.append(self.code if not self.inner_code else f"{self.code}/{self.inner_code}")
        if self.request_id:
            extra.append(f"request-id {self.request_id}")
        if self.retry_after is not None:
            extra.append(f"retry after {self.retry_after:g} s")
        if extra:
            parts.append(f"({', '.join(extra)})")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r}, http_status={self.http_status!r}, code={self.code!r})"


# One class per od_status. Built-in bases are mixed in where a Python
# programmer would reach for them (ValueError, TimeoutError, ConnectionError, OSError).


class NullArgumentError(OneDriveError, ValueError):
    status = Status.NULL_ARGUMENT


class InvalidUtf8Error(OneDriveError, ValueError):
    status = Status.INVALID_UTF8


class InvalidArgumentError(OneDriveError, ValueError):
    status = Status.INVALID_ARGUMENT


class InvalidNameError(InvalidArgumentError):
    status = Status.INVALID_NAME


class NetworkError(OneDriveError, ConnectionError):
    """Connection refused or reset, DNS failure, a cut response. The two
    subclasses below have their own status."""

    status = Status.NETWORK


class TlsError(NetworkError):
    """TLS failed: the server's certificate is not trusted (add its CA with
    :meth:`~onedrive_native.Client.add_ca_pem` or ``ca_file=``), has
    expired, or names another host; or the handshake broke. Never retried.
    A :class:`NetworkError` too (TLS failures had that status before)."""

    status = Status.TLS


class ProxyError(NetworkError):
    """The proxy refused: wrong or missing credentials (HTTP 407), or it
    would not open a tunnel to the target. A proxy that cannot be reached
    at all is a plain :class:`NetworkError`."""

    status = Status.PROXY


class OneDriveTimeoutError(OneDriveError, TimeoutError):
    status = Status.TIMEOUT


class OperationCancelledError(OneDriveError):
    """Stopped through a :class:`~onedrive_native.CancelToken`."""

    status = Status.CANCELLED


class AbortedByCallbackError(OneDriveError):
    """A progress callback returned ``False``. (A callback that raises makes
    the call raise that exception instead.)"""

    status = Status.ABORTED_BY_CALLBACK


class UnauthorizedError(OneDriveError):
    status = Status.UNAUTHORIZED


class ForbiddenError(OneDriveError):
    status = Status.FORBIDDEN


class NotFoundError(OneDriveError):
    status = Status.NOT_FOUND


class ConflictError(OneDriveError):
    status = Status.CONFLICT


class TooLargeError(OneDriveError):
    status = Status.TOO_LARGE


class ThrottledError(OneDriveError):
    status = Status.THROTTLED


class QuotaExceededError(OneDriveError):
    status = Status.QUOTA


class NotSupportedError(OneDriveError):
    status = Status.NOT_SUPPORTED


class BadRequestError(OneDriveError):
    status = Status.BAD_REQUEST


class ServiceError(OneDriveError):
    status = Status.SERVICE


class ProtocolError(OneDriveError):
    status = Status.PROTOCOL


class JobFailedError(OneDriveError):
    status = Status.JOB_FAILED


class JobCancelledError(OneDriveError):
    status = Status.JOB_CANCELLED


class LocalIOError(OneDriveError, OSError):
    status = Status.IO


class BufferTooSmallError(OneDriveError):
    status = Status.BUFFER_TOO_SMALL


class InvalidStateError(OneDriveError):
    status = Status.INVALID_STATE


class InternalError(OneDriveError):
    """A bug in onedrive-native (a Rust panic caught at the boundary)."""

    status = Status.PANIC


class HashMismatchError(OneDriveError):
    """The uploaded file's size or hash differs from what was read."""

    status = Status.HASH_MISMATCH


#: od_status number -> exception class (every status but OK).
EXCEPTIONS: Dict[int, Type[OneDriveError]] = {
    int(cls.status): cls
    for cls in (
        NullArgumentError,
        InvalidUtf8Error,
        InvalidArgumentError,
        InvalidNameError,
        NetworkError,
        OneDriveTimeoutError,
        OperationCancelledError,
        AbortedByCallbackError,
        UnauthorizedError,
        ForbiddenError,
        NotFoundError,
        ConflictError,
        TooLargeError,
        ThrottledError,
        QuotaExceededError,
        NotSupportedError,
        BadRequestError,
        ServiceError,
        ProtocolError,
        JobFailedError,
        JobCancelledError,
        LocalIOError,
        BufferTooSmallError,
        InvalidStateError,
        InternalError,
        HashMismatchError,
        TlsError,
        ProxyError,
    )
}


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
