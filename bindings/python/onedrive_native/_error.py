"""The root of the binding's exceptions (:mod:`onedrive_native.errors` re-exports it)."""

from __future__ import annotations

from typing import Optional

from ._status import Status


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

    __module__ = "onedrive_native.errors"
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
