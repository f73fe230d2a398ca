"""Ownership of native handles: each is freed exactly once.

A handle is freed by :meth:`Handle.close`, by leaving a ``with`` block, or
by the garbage collector (``__del__``), whichever comes first; the others
then do nothing. A handle in use by a call on another thread is not freed
under it: ``close()`` marks it closed at once (new calls raise
``ValueError``) and the last running call frees it when it returns.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, ClassVar, Iterator, TypeVar

from . import _ffi

_H = TypeVar("_H", bound="Handle")


class Handle:
    """Base class of every object that owns a native handle."""

    #: Name of the C function that frees this kind of handle.
    _free_name: ClassVar[str] = ""
    _kind: ClassVar[str] = "handle"

    _ptr: Any = None
    _closed: bool = True

    def __init__(self, ptr: Any) -> None:
        if not ptr:
            raise ValueError(f"a {self._kind} needs a non-NULL handle")
        self._lock = threading.Lock()
        self._users = 0
        self._ptr = ptr
        self._closed = False

    @contextmanager
    def _use(self) -> Iterator[Any]:
        """The raw pointer, kept alive (not freed) for the ``with`` block."""
        with self._lock:
            if self._closed:
                raise ValueError(f"the {self._kind} is closed")
            self._users += 1
            ptr = self._ptr
        try:
            yield ptr
        finally:
            to_free = None
            with self._lock:
                self._users -= 1
                if self._closed and self._users == 0 and self._ptr is not None:
                    to_free, self._ptr = self._ptr, None
            if to_free is not None:
                self._free(to_free)

    def _free(self, ptr: Any) -> None:
        getattr(_ffi.lib, self._free_name)(ptr)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (the handle may still be freeing)."""
        return self._closed

    def close(self) -> None:
        """Frees the native handle (once; later calls do nothing)."""
        lock = getattr(self, "_lock", None)
        if lock is None:  # __init__ did not finish
            return
        with lock:
            if self._closed:
                return
            self._closed = True
            if self._users:
                return  # the last call in flight frees it
            ptr, self._ptr = self._ptr, None
        if ptr is not None:
            self._free(ptr)

    def __enter__(self: _H) -> _H:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: modules may be gone
            pass

