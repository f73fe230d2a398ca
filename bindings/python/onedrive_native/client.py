"""The blocking API: Client, Job, CancelToken, Item."""

from __future__ import annotations

import contextlib
import ctypes
import enum
import itertools
import json
import operator
import os
import re
import sys
import threading
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, Dict, Iterator, List, Optional, Tuple, Union

from . import _ffi, _interrupt, _log
from ._handle import Handle
from .errors import (
    InvalidArgumentError,
    OneDriveError,
    Status,
    last_error,
    local_error,
)

if TYPE_CHECKING:
    from .transfers import TransferQueue

lib = _ffi.lib

#: A transfer's progress callback: ``progress(done, total)`` in bytes.
#: Return ``False`` to stop the call
#: (:class:`~onedrive_native.AbortedByCallbackError`); raise to stop it with
#: your exception. Called on the thread that made the call.
Progress = Callable[[int, int], Optional[bool]]

#: A job's progress callback (:meth:`Job.wait`): ``progress(percent, 100.0)``
#: after each look, the service's percent as a float from 0 to 100. The same
#: two-argument shape as :data:`Progress`, so one callback taking floats (a
#: tqdm bar's: see the README) serves transfers and jobs alike. Return
#: ``False`` to stop the wait, or raise; the job goes on.
JobProgress = Callable[[float, float], Optional[bool]]

#: What :meth:`Client.upload` takes: the bytes themselves (any contiguous
#: buffer), the path of a local file (``str`` or ``os.PathLike``), or a
#: binary file object open for reading (sent from its current position).
Data = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]", BinaryIO]

#: A readable binary stream for :meth:`Client.upload_stream`: anything with
#: ``readinto(buffer)`` or ``read(n)``.
Stream = Any

#: The library's defaults for :meth:`Client.set_upload_options`, from the
#: header (``OD_DEFAULT_SIMPLE_UPLOAD_LIMIT``, ``OD_DEFAULT_CHUNK_SIZE``).
DEFAULT_SIMPLE_LIMIT = _ffi.OD_DEFAULT_SIMPLE_UPLOAD_LIMIT
DEFAULT_CHUNK_SIZE = _ffi.OD_DEFAULT_CHUNK_SIZE
CHUNK_UNIT = _ffi.OD_CHUNK_UNIT  #: chunk sizes are multiples of 320 KiB (``OD_CHUNK_UNIT``)
MAX_SIMPLE_LIMIT = _ffi.OD_MAX_SIMPLE_UPLOAD_LIMIT  #: the largest simple-upload limit (``OD_MAX_SIMPLE_UPLOAD_LIMIT``)


class Hash(enum.IntFlag):
    """Digests to check after an upload, besides quickXorHash (always checked)."""

    NONE = 0
    SHA1 = _ffi.OD_HASH_SHA1
    SHA256 = _ffi.OD_HASH_SHA256


class Conflict(enum.IntEnum):
    """``od_conflict``: what to do when the name is taken. Strings work too:
    ``conflict="rename"``."""

    DEFAULT = _ffi.OD_CONFLICT_DEFAULT  #: send nothing: the service decides (uploads replace, copies fail)
    FAIL = _ffi.OD_CONFLICT_FAIL  #: refuse with ConflictError
    REPLACE = _ffi.OD_CONFLICT_REPLACE  #: replace the existing file
    RENAME = _ffi.OD_CONFLICT_RENAME  #: keep both; the new one gets a free name

    @classmethod
    def _missing_(cls, value: object) -> Optional["Conflict"]:
        if isinstance(value, str):
            try:
                return cls[value.upper()]
            except KeyError:
                return None
        return None

    def __str__(self) -> str:
        return self.name

    def __format__(self, spec: str) -> str:
        return format(self.name, spec)


def _conflict(value: Union[Conflict, str, int]) -> Conflict:
    return Conflict(value)  # type: ignore[arg-type]  # _missing_ takes the strings


class JobState(enum.IntEnum):
    """``od_job_state``: where a job stands. Prints as its name
    (``COMPLETED``); compares equal to the C value."""

    NOT_STARTED = _ffi.OD_JOB_NOT_STARTED
    RUNNING = _ffi.OD_JOB_RUNNING
    COMPLETED = _ffi.OD_JOB_COMPLETED
    FAILED = _ffi.OD_JOB_FAILED
    CANCELLED = _ffi.OD_JOB_CANCELLED
    UNKNOWN = _ffi.OD_JOB_UNKNOWN  #: a status word the library does not know: treat as running

    @classmethod
    def _missing_(cls, value: object) -> "JobState":
        return cls.UNKNOWN

    def __str__(self) -> str:
        return self.name

    def __format__(self, spec: str) -> str:
        return format(self.name, spec)

    @property
    def is_final(self) -> bool:
        return self in (JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED)


@dataclass(frozen=True)
class Item:
    """A driveItem (file or folder) as the service returned it. ``raw`` is
    the whole JSON object; the other fields are read from it (``None`` where
    the service gave none, or something unreadable)."""

    id: str
    name: Optional[str]
    size: Optional[int]
    etag: Optional[str]
    ctag: Optional[str]
    drive_id: Optional[str]
    parent_id: Optional[str]
    quick_xor_hash: Optional[str]
    is_folder: bool
    raw: Dict[str, Any] = field(repr=False, compare=False, hash=False)
    #: ``lastModifiedDateTime`` as an aware :class:`~datetime.datetime` (UTC), or ``None``
    last_modified: Optional[datetime] = None
    #: ``createdDateTime`` as an aware :class:`~datetime.datetime` (UTC), or ``None``
    created: Optional[datetime] = None
    #: ``webUrl``: the item's page in a browser (needs the user's sign-in), or ``None``
    web_url: Optional[str] = None
    #: a folder's ``childCount`` (``None`` for a file, or when not given)
    child_count: Optional[int] = None


@dataclass(frozen=True)
class JobStatus:
    """What one :meth:`Job.poll` saw."""

    state: JobState
    #: 0–100, or ``None`` when the service gave no percentage
    percent: Optional[float]
    #: the new item, once the job completed
    item: Optional[Item] = None
    #: the service's error, when the job failed or was cancelled
    error: Optional[OneDriveError] = None

    @property
    def done(self) -> bool:
        return self.state.is_final


# --- helpers -------------------------------------------------------------------


def _s(value: Optional[str], what: str) -> Optional[bytes]:
    """A str argument for C: UTF-8, NUL-terminated; ``None`` is NULL."""
    if value is None:
        return None
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    if "\0" in value:
        raise local_error(InvalidArgumentError, f"`{what}` contains a NUL character")
    # Lone surrogates pass through as invalid UTF-8, which the library refuses
    # with InvalidUtf8Error rather than this binding guessing.
    return value.encode("utf-8", "surrogatepass")


def _upload_what(parent: str, name: Optional[str]) -> str:
    return f"upload to {parent}" if name is None else f"upload of {name!r} into {parent}"


def _text(b: Optional[bytes]) -> Optional[str]:
    return None if b is None else b.decode("utf-8", "replace")


def _take_item(ptr: Any) -> Item:
    """Copies a native item into an :class:`Item` and frees it. One call
    for the JSON text (the item as the service sent it), read here: one
    foreign call per item instead of ten."""
    try:
        raw_json = lib.od_item_json(ptr)
    finally:
        lib.od_item_free(ptr)
    return _item_from_json(json.loads(raw_json) if raw_json else {})


def _item_from_json(raw: Dict[str, Any]) -> Item:
    """An :class:`Item` from a driveItem's JSON object."""
    get = raw.get
    parent = get("parentReference")
    parent = parent if isinstance(parent, dict) else {}
    hashes = get("file")
    hashes = hashes.get("hashes") if isinstance(hashes, dict) else None
    hashes = hashes if isinstance(hashes, dict) else {}
    size = get("size")
    return Item(
        id=_str(get("id")) or "",
        name=_str(get("name")),
        size=size if type(size) is int and size >= 0 else None,
        etag=_str(get("eTag")),
        ctag=_str(get("cTag")),
        drive_id=_str(parent.get("driveId")),
        parent_id=_str(parent.get("id")),
        quick_xor_hash=_str(hashes.get("quickXorHash")),
        is_folder=isinstance(get("folder"), dict),
        raw=raw,
        last_modified=_datetime(get("lastModifiedDateTime")),
        created=_datetime(get("createdDateTime")),
        web_url=_str(get("webUrl")),
        child_count=_child_count(get("folder")),
    )


def _child_count(folder: Any) -> Optional[int]:
    n = folder.get("childCount") if isinstance(folder, dict) else None
    return n if type(n) is int and n >= 0 else None


def _str(v: Any) -> Optional[str]:
    return v if type(v) is str else None


_ISO_8601 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:[.,](\d+))?\s*(?:([Zz])|([+-])(\d\d):?(\d\d))?"
)


#: ``datetime.fromisoformat`` reads "Z" and up to 7 fraction digits from 3.11.
_FROMISOFORMAT_Z = sys.version_info >= (3, 11)


def _datetime(v: Any) -> Optional[datetime]:
    """A Graph timestamp (``2024-05-01T12:30:45.1234567Z``: ISO 8601, up to
    7 fraction digits, which ``datetime.fromisoformat`` refuses before 3.11)
    as an aware datetime; no offset is taken as UTC. ``None`` for anything
    else, a malformed value included (the item is still usable)."""
    if _FROMISOFORMAT_Z and type(v) is str and len(v) >= 20 and v[-1] == "Z" and v[-2].isdigit() and v[7] == "-":
        # What Graph sends: a C parser for it (0.1 µs, not 4: two per item
        # were a tenth of a small upload's Python side); else the regex.
        # (v[7]: no week dates; v[-2]: no "45.Z", which the regex refuses.)
        try:
            return datetime.fromisoformat(v)
        except ValueError:
            pass
    m = _ISO_8601.fullmatch(v) if type(v) is str else None
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.group(1, 2, 3, 4, 5, 6))
    micro = int((m.group(7) or "0")[:6].ljust(6, "0"))
    tz = timezone.utc
    if m.group(9):
        offset = timedelta(hours=int(m.group(10)), minutes=int(m.group(11)))
        tz = timezone(-offset if m.group(9) == "-" else offset)
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError:  # day 31 of a 30-day month, hour 24…
        return None


def _buffer(data: Union[bytes, bytearray, memoryview]) -> Tuple[Any, int, Any]:
    """(pointer, length, keep-alive) for a bytes-like object, without a copy
    where ctypes allows it."""
    if isinstance(data, bytes):
        if not data:
            return None, 0, None
        p = ctypes.cast(ctypes.c_char_p(data), ctypes.POINTER(ctypes.c_uint8))
        return p, len(data), (data, p)
    mv = memoryview(data)
    if not mv.c_contiguous:
        mv = memoryview(mv.tobytes())
    if mv.format != "B" or mv.ndim != 1:
        mv = mv.cast("B")
    n = mv.nbytes
    if n == 0:
        return None, 0, None
    arr_t = ctypes.c_uint8 * n
    arr = arr_t.from_buffer_copy(mv) if mv.readonly else arr_t.from_buffer(mv)
    return ctypes.cast(arr, ctypes.POINTER(ctypes.c_uint8)), n, (arr, mv)


#: Every live :class:`_Callback` by its key: all calls share one C progress
#: function, which finds its callback through the userdata (a ctypes callback
#: made for each call cost more than the rest of a small upload's Python side).
_LIVE_CALLBACKS: "weakref.WeakValueDictionary[int, _Callback]" = weakref.WeakValueDictionary()
_callback_keys = itertools.count(1)


@_interrupt.entry_safe
def _progress_trampoline(userdata: Optional[int], done: int, total: int) -> int:
    try:  # first: Ctrl-C may be raised at the first call in here (see _interrupt)
        cb = _LIVE_CALLBACKS.get(userdata or 0)
        return 1 if cb is None else cb._call(userdata, done, total)
    except BaseException as e:  # a signal handler's exception before the callback was found
        _interrupt.note(e)
        return 1


_PROGRESS = _ffi.PROGRESS_FN(_progress_trampoline)


class _Callback:
    """A Python progress callback for a C call (``*self.args``: the shared C
    function and this callback's key as userdata). An exception
    raised by the callback is kept, the call is stopped (non-zero), and the
    exception is raised again from the call.

    It is installed even when the caller gave no callback, so that Ctrl-C
    can stop a long upload or wait: the host's SIGINT handler (Python's
    default one raises KeyboardInterrupt) runs inside this callback, which
    catches what it raises, stops the call and keeps it for :meth:`take`
    (see :mod:`onedrive_native._interrupt`). No signal handler is installed."""

    __slots__ = ("fn", "percent", "exc", "key", "args", "__weakref__")

    def __init__(self, fn: Optional[Callable[[Any, Any], Optional[bool]]], percent: bool = False) -> None:
        self.fn = fn
        #: a job: the library reports (percent × 100, 10000); the callback
        #: gets (percent, 100.0)
        self.percent = percent
        self.exc: Optional[BaseException] = None
        self.key = next(_callback_keys)
        _LIVE_CALLBACKS[self.key] = self
        #: the (progress function, userdata) pair of a C call
        self.args = (_PROGRESS, ctypes.c_void_p(self.key))

    def _call(self, _userdata: Any, done: int, total: int) -> int:
        try:
            if self.exc is not None:
                return 1
            if _interrupt.pending is not None:  # Ctrl-C caught in a token or log callback
                self.exc = _interrupt.take()
                if self.exc is not None:
                    return 1
            if self.fn is None:
                return 0
            if self.percent:
                pct = min(100.0, done * 100.0 / total) if total else 0.0
                return 1 if self.fn(pct, 100.0) is False else 0
            return 1 if self.fn(done, total) is False else 0
        except BaseException as e:  # KeyboardInterrupt too: stop the transfer
            self.exc = e
            return 1

    def take(self) -> Optional[BaseException]:
        """The callback's exception (or Ctrl-C's), once."""
        e, self.exc = self.exc, None
        return e


class _Reader:
    """A readable binary stream as an ``od_read_fn``: bytes go straight into
    the library's buffer with ``readinto`` where the stream has it. An
    exception from the stream stops the upload and is raised again from the call."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self.readinto = getattr(stream, "readinto", None)
        if self.readinto is None and not callable(getattr(stream, "read", None)):
            raise TypeError(f"{type(stream).__name__} has neither readinto() nor read()")
        self.exc: Optional[BaseException] = None
        self.c = _ffi.READ_FN(self._call)

    @_interrupt.entry_safe
    def _call(self, _userdata: Any, buf: Any, n: int) -> int:
        try:  # first: Ctrl-C may be raised at the first call in here (see _interrupt)
            if self.exc is not None:
                return -1
            if n == 0:
                return 0
            addr = ctypes.cast(buf, ctypes.c_void_p).value
            assert addr is not None, "the library passed a NULL buffer"
            if self.readinto is not None:
                view = memoryview((ctypes.c_char * n).from_address(addr)).cast("B")
                got = self.readinto(view)
                if got is None:
                    raise BlockingIOError("the stream has no data ready (non-blocking?)")
            else:
                chunk = self.stream.read(n)
                if chunk is None:
                    raise BlockingIOError("the stream has no data ready (non-blocking?)")
                got = len(chunk)
                if got > n:
                    raise ValueError(f"read({n}) returned {got} bytes")
                ctypes.memmove(addr, bytes(chunk), got)
            return int(got)
        except BaseException as e:
            self.exc = e
            return -1

    def take(self) -> Optional[BaseException]:
        e, self.exc = self.exc, None
        return e


#: Where :meth:`Client.download` puts the bytes: a local path, a binary file
#: object open for writing (anything with ``write(bytes)``), or a callable
#: taking each piece as ``bytes``.
Sink = Union[str, "os.PathLike[str]", BinaryIO, Callable[[bytes], Any]]


class _Writer:
    """A file object's ``write`` or a callable as an ``od_write_fn``. Each
    piece is copied into ``bytes`` (the library's buffer lives only during
    the call); a short write is finished. An exception from the sink stops
    the download and is raised again from the call."""

    def __init__(self, sink: Any) -> None:
        write = getattr(sink, "write", None)
        self.write: Callable[[bytes], Any] = write if callable(write) else sink
        if not callable(self.write):
            raise TypeError(f"{type(sink).__name__} is neither a path, a writable file nor a callable")
        self.exc: Optional[BaseException] = None
        self.c = _ffi.WRITE_FN(self._call)

    @_interrupt.entry_safe
    def _call(self, _userdata: Any, data: Any, n: int) -> int:
        try:  # first: Ctrl-C may be raised at the first call in here (see _interrupt)
            if self.exc is not None:
                return 1
            if n == 0:
                return 0
            piece = ctypes.string_at(data, n)
            chunk = memoryview(piece)
            while chunk:
                wrote = self.write(piece if len(chunk) == n else bytes(chunk))
                # file objects return the count written (a raw file may write
                # less); callables usually return None: all taken
                if type(wrote) is not int or wrote >= len(chunk):
                    break
                if wrote <= 0:
                    raise BlockingIOError("the sink took no bytes (non-blocking?)")
                chunk = chunk[wrote:]
            return 0
        except BaseException as e:  # KeyboardInterrupt too: stop the download
            self.exc = e
            return 1

    def take(self) -> Optional[BaseException]:
        e, self.exc = self.exc, None
        return e


def _path_arg(path: Union[str, "os.PathLike[str]"]) -> bytes:
    b = os.fsencode(path)  # the file name's own bytes; the library wants UTF-8
    if b"\0" in b:
        raise local_error(InvalidArgumentError, "`path` contains a NUL character")
    return b


def _remaining_size(stream: Any) -> int:
    try:
        return int(os.fstat(stream.fileno()).st_size - stream.tell())
    except (AttributeError, OSError, ValueError):
        pass
    try:
        here = stream.tell()
        end = stream.seek(0, os.SEEK_END)
        stream.seek(here)
        return int(end - here)
    except (AttributeError, OSError, ValueError):
        raise TypeError(
            "cannot tell the size of this stream: use Client.upload_stream(..., size=...)"
        ) from None


def _finish(rc: int, *pending: Optional[BaseException], what: Optional[str] = None) -> None:
    """After a call (its result already taken): raise a Ctrl-C caught during
    the call, else what a callback raised, else the library's error. Reads
    the last error at once, on this thread. ``what``: the call, as
    :class:`~onedrive_native.OperationCancelledError`'s message names it
    ("upload of 'a.txt' into /Documents")."""
    err = last_error(rc) if rc != Status.OK else None
    if err is not None and what is not None and rc == Status.CANCELLED:
        err.message = f"{what} was cancelled (its CancelToken was triggered)"
        err.args = (err.message,)
    for exc in (_interrupt.take(), *pending):
        if exc is not None:
            try:
                raise exc
            finally:
                exc = None  # no frame -> exception cycle
    if err is not None:
        raise err


@contextlib.contextmanager
def _maybe_use(h: Optional[Handle]) -> Iterator[Any]:
    if h is None:
        yield None
    else:
        with h._use() as p:
            yield p


def _rate(bytes_per_second: int) -> int:
    try:
        rate = operator.index(bytes_per_second)
    except TypeError:
        raise TypeError(f"bytes_per_second must be an int, not {type(bytes_per_second).__name__}") from None
    if rate < 0 or rate > 0xFFFF_FFFF_FFFF_FFFF:
        raise local_error(InvalidArgumentError, "bytes_per_second must be between 0 (no cap) and 2**64 - 1")
    return rate


def _ms(seconds: float) -> int:
    if seconds < 0:
        raise ValueError("a duration must be >= 0 seconds")
    return int(round(seconds * 1000))


def _timeout_ms(timeout: Optional[float]) -> int:
    if timeout is None:
        return 0
    if timeout < 0:
        raise ValueError("timeout must be >= 0 seconds, or None")
    return max(1, int(round(timeout * 1000)))


# --- CancelToken --------------------------------------------------------------


class CancelToken(Handle):
    """A cancellation flag (``od_cancel``). Pass it to :meth:`Client.upload`
    or :meth:`Job.wait`; :meth:`cancel` from any thread stops them with
    :class:`~onedrive_native.OperationCancelledError`."""

    _free_name = "od_cancel_free"
    _kind = "cancel token"

    def __init__(self) -> None:
        out = _ffi.od_cancel_p()
        rc = lib.od_cancel_new(ctypes.byref(out))
        _finish(rc)
        super().__init__(out)

    def cancel(self) -> None:
        """Raises the flag. Any thread, any number of times."""
        with self._use() as p:
            lib.od_cancel_trigger(p)

    def reset(self) -> None:
        """Lowers the flag so that it can serve another call."""
        with self._use() as p:
            lib.od_cancel_reset(p)

    @property
    def cancelled(self) -> bool:
        with self._use() as p:
            return bool(lib.od_cancel_is_triggered(p))

    def __repr__(self) -> str:
        state = "closed" if self.closed else ("cancelled" if self.cancelled else "lowered")
        return f"<CancelToken {state}>"


# --- UploadSession ---------------------------------------------------------------


class UploadSession(Handle):
    """An upload session (``od_session``) that can be saved and finished
    later, by another client or another process.

    Make one with :meth:`Client.create_upload_session`, save it with
    :meth:`to_json` (it holds the upload URL, a credential for this one
    upload: store it as you would a token), rebuild it with
    :meth:`from_json`, send the bytes with :meth:`Client.resume_upload`.
    Closing the handle does not cancel the session on the service; see
    :meth:`Client.cancel_upload_session`."""

    _free_name = "od_session_free"
    _kind = "upload session"

    @classmethod
    def from_json(cls, text: str) -> "UploadSession":
        """Rebuilds a saved session (no request is made)."""
        out = _ffi.od_session_p()
        rc = lib.od_session_from_json(_s(text, "json"), ctypes.byref(out))
        session = cls(out) if rc == Status.OK and out else None
        _finish(rc)
        assert session is not None
        return session

    def to_json(self) -> str:
        """The session as JSON text, for :meth:`from_json`."""
        out = ctypes.c_char_p()
        with self._use() as p:
            rc = lib.od_session_to_json(p, ctypes.byref(out))
        if rc != Status.OK:
            _finish(rc)
        try:
            return (out.value or b"").decode("utf-8")
        finally:
            lib.od_string_free(out)

    @property
    def size(self) -> int:
        """The file size the session was made for."""
        with self._use() as p:
            return int(lib.od_session_size(p))

    def __repr__(self) -> str:
        return "<UploadSession closed>" if self.closed else f"<UploadSession {self.size} bytes>"


# --- Listing ---------------------------------------------------------------------


class Listing(Handle):
    """The children of a folder (``od_listing``), an iterator of
    :class:`Item`: one page (``page_size`` children) is held at a time and
    the next one is fetched when it is used up, so a folder of any size
    takes little memory and ``break`` stops the requests. Made by
    :meth:`Client.list_children`; closed at the end, by ``close()``, a
    ``with`` block, or the garbage collector. A folder that does not exist
    raises :class:`~onedrive_native.NotFoundError` at the first item.
    After an error the listing is over, except after
    :class:`~onedrive_native.OperationCancelledError`: iterating again asks
    for the same page. It needs its client open."""

    _free_name = "od_list_free"
    _kind = "listing"

    def __init__(self, ptr: Any, client: "Client", folder: str, cancel: Optional[CancelToken] = None) -> None:
        super().__init__(ptr)
        self.client = client  # its token provider's exceptions, and kept alive
        self.folder = folder
        self.cancel = cancel
        self._pending: Optional[BaseException] = None

    def __iter__(self) -> "Listing":
        return self

    def __next__(self) -> Item:
        item = self._next(self.cancel)
        if item is None:
            self.close()
            raise StopIteration
        return item

    def _next(self, cancel: Optional[CancelToken]) -> Optional[Item]:
        if self.closed:
            return None
        out = _ffi.od_item_p()
        # the client too: its token callback gets the client's pointer, which
        # must outlive the call (a close meanwhile is deferred to its end)
        with self.client._use(), self._use() as lp, _maybe_use(cancel) as k:
            rc = lib.od_list_next(lp, k, ctypes.byref(out))
        item = _take_item(out) if rc == Status.OK and out else None
        _finish(rc, self.client._take_token_exc(), what=f"listing of {self.folder}")
        return item

    def _next_batch(self, n: int, cancel: Optional[CancelToken]) -> List[Item]:
        """Up to ``n`` items, for the async iterator: fewer at the end, or
        when an error came after some (the error then comes at the next
        call, so no item taken from the listing is lost)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            try:
                raise pending
            finally:
                pending = None
        batch: List[Item] = []
        while len(batch) < n:
            try:
                item = self._next(cancel)
            except BaseException as e:
                if not batch:
                    raise
                self._pending = e
                break
            if item is None:
                self.close()
                break
            batch.append(item)
        return batch

    def __repr__(self) -> str:
        return f"<onedrive_native.Listing of {self.folder}{' (closed)' if self.closed else ''}>"


# --- Client ----------------------------------------------------------------------


#: The scope of Microsoft Graph for a credential's ``get_token``.
GRAPH_SCOPE = "https://graph.microsoft.com/.default"


def _token_and_expiry(value: Any) -> Tuple[str, Optional[float]]:
    """A provider's answer as (token, expires_on): a string, a pair, or an
    object with ``token`` and ``expires_on`` (azure-core's AccessToken)."""
    if isinstance(value, str):
        return value, None
    if hasattr(value, "token"):
        return value.token, getattr(value, "expires_on", None)
    token, expires_on = value
    return token, expires_on


def _credential_provider(credential: Any, scopes: Tuple[str, ...]) -> Callable[[], Any]:
    """A token provider over anything with ``get_token(*scopes)`` (the
    protocol of azure-identity's credentials)."""
    if not callable(getattr(credential, "get_token", None)):
        raise TypeError("a credential needs a get_token(*scopes) method")
    return lambda: credential.get_token(*scopes)


class Client(Handle):
    """A client of one Graph endpoint with one token (``od_client``).

    One client serves any number of threads at once. Use it as a context
    manager, or call :meth:`close`; the garbage collector frees it otherwise.

    - ``token``: the bearer token (``None``: none yet; see :meth:`set_token`
      and ``token_provider``). It goes to the ``base_url`` origin only.
    - ``base_url``: the API root; ``None`` is ``https://graph.microsoft.com/v1.0``.
    - ``allow_insecure_http``: allow ``http://`` to non-loopback hosts.
    - ``token_provider``: called (on the calling thread) after a 401 to get a
      fresh token; return the token, or ``None`` to let the 401 stand.
    - ``user_agent``, ``timeouts`` (connect, request; seconds),
      ``retry`` (max attempts, max wait in seconds): see the setters.
    - ``ca_pem`` (PEM text or bytes), ``ca_file`` (a PEM file): CA
      certificates to trust besides the system's (:meth:`add_ca_pem`).
    - ``proxy``: ``http://``, ``https://``, ``socks5://``, ``socks5h://``,
      ``socks4://`` or ``socks4a://`` URL, credentials allowed
      (:meth:`set_proxy`).
    - ``upload_rate``: a cap in bytes per second on all uploads together
      (:meth:`set_upload_rate`).
    - ``log_level``: the most verbose :mod:`logging` level of the library's
      lines sent to the ``onedrive_native`` logger; ``None`` (default): the
      logger's effective level, followed as the logging configuration
      changes (:meth:`set_log_level`).
    """

    _free_name = "od_client_free"
    _kind = "client"

    def __init__(
        self,
        token: Optional[str] = None,
        base_url: Optional[str] = None,
        allow_insecure_http: bool = False,
        *,
        token_provider: Optional[Callable[[], Any]] = None,
        credential: Any = None,
        scopes: Tuple[str, ...] = (GRAPH_SCOPE,),
        user_agent: Optional[str] = None,
        timeouts: Optional[Tuple[float, float]] = None,
        retry: Optional[Tuple[int, float]] = None,
        ca_pem: Optional[Union[bytes, bytearray, memoryview, str]] = None,
        ca_file: Optional[Union[str, "os.PathLike[str]"]] = None,
        proxy: Optional[str] = None,
        upload_rate: Optional[int] = None,
        log_level: Optional[Union[int, str]] = None,
    ) -> None:
        flags = _ffi.OD_CLIENT_ALLOW_INSECURE_HTTP if allow_insecure_http else 0
        out = _ffi.od_client_p()
        rc = lib.od_client_new(_s(base_url, "base_url"), _s(token, "token"), flags, ctypes.byref(out))
        _finish(rc)
        super().__init__(out)
        self.base_url = base_url
        self._tls = threading.local()
        self._token_cbs: List[Any] = []
        self._token_provider: Optional[Callable[[], Any]] = None
        self._log_native = 0  # the OD_LOG_* installed; 0: no log callback
        #: follow the logger's effective level (set_log_level(None)), checked
        #: as each call starts; False once a level was set explicitly
        self._log_follow = True
        self._log_lock = threading.Lock()
        try:
            if credential is not None:
                if token_provider is not None:
                    raise TypeError("give a credential or a token_provider, not both")
                token_provider = _credential_provider(credential, scopes)
                if token is None:
                    self.set_token(*_token_and_expiry(token_provider()))
            if token_provider is not None:
                self.set_token_provider(token_provider)
            if user_agent is not None:
                self.set_user_agent(user_agent)
            if timeouts is not None:
                self.set_timeouts(*timeouts)
            if retry is not None:
                self.set_retry(*retry)
            if ca_pem is not None:
                self.add_ca_pem(ca_pem)
            if ca_file is not None:
                self.add_ca_file(ca_file)
            if proxy is not None:
                self.set_proxy(proxy)
            if upload_rate is not None:
                self.set_upload_rate(upload_rate)
            self.set_log_level(log_level)
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        return f"<onedrive_native.Client {self.base_url or 'https://graph.microsoft.com/v1.0'}{state}>"

    # settings

    def set_token(self, token: str, expires_on: Optional[float] = None) -> None:
        """Replaces the bearer token for every request from now on.
        ``expires_on`` (Unix seconds, as azure-core's ``AccessToken`` has
        it): with a token provider, the token is refreshed 5 minutes before."""
        with self._use() as c:
            if expires_on is None:
                _finish(lib.od_client_set_token(c, _s(token, "token")))
            else:
                _finish(lib.od_client_set_token_with_expiry(c, _s(token, "token"), int(expires_on)))

    def set_token_provider(self, provider: Optional[Callable[[], Any]]) -> None:
        """Installs (``None``: removes) the callable asked for a new token
        shortly before the current one expires and after a 401. It returns a
        token string, a ``(token, expires_on)`` pair or an object with
        ``token`` and ``expires_on`` (azure-core's ``AccessToken``), or
        ``None``. Concurrent requests share one call. An exception it raises
        comes out of the call that needed the token."""
        cb = _ffi.TOKEN_FN(self._on_token) if provider is not None else _ffi.TOKEN_FN()
        # Keep every C function pointer installed alive as long as the
        # client: the library waits for a replaced callback to end, except
        # when the replacement is made from inside a callback, where another
        # thread may still be running the old one.
        self._token_cbs.append(cb)
        self._token_provider = provider
        with self._use() as c:
            _finish(lib.od_client_set_token_callback(c, cb, None))

    @_interrupt.entry_safe
    def _on_token(self, _userdata: Any, client_ptr: Any) -> int:
        try:  # first: Ctrl-C may be raised at the first call in here (see _interrupt)
            provider = self._token_provider
            value = provider() if provider is not None else None
            if not value:
                return 1
            token, expires_on = _token_and_expiry(value)
            rc = lib.od_client_set_token_with_expiry(client_ptr, _s(token, "token"), int(expires_on or 0))
            return 0 if rc == Status.OK else 1
        except BaseException as e:
            self._tls.exc = e
            if isinstance(e, KeyboardInterrupt):
                _interrupt.note(e)  # the next progress callback stops the call
            return 1

    def _take_token_exc(self) -> Optional[BaseException]:
        e = getattr(self._tls, "exc", None)
        self._tls.exc = None
        return e

    def set_timeouts(self, connect: float, request: float) -> None:
        """Connect timeout and request (stall) timeout, in seconds, both > 0."""
        with self._use() as c:
            _finish(lib.od_client_set_timeouts(c, _ms(connect), _ms(request)))

    def set_retry(self, max_attempts: int, max_wait: float) -> None:
        """At most ``max_attempts`` attempts per request (1: never retry), and at
        most ``max_wait`` seconds waiting between them (Retry-After beyond
        that fails with ThrottledError)."""
        with self._use() as c:
            _finish(lib.od_client_set_retry(c, max_attempts, _ms(max_wait)))

    def set_user_agent(self, user_agent: str) -> None:
        with self._use() as c:
            _finish(lib.od_client_set_user_agent(c, _s(user_agent, "user_agent")))

    def set_upload_options(
        self,
        simple_limit: int = DEFAULT_SIMPLE_LIMIT,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        hashes: Union[Hash, int] = Hash.NONE,
    ) -> None:
        """How files are uploaded, for calls started afterwards: bodies up to
        ``simple_limit`` bytes go in one PUT, larger ones through an upload
        session in chunks of ``chunk_size`` (a multiple of 320 KiB below
        60 MiB); ``hashes``: digests to check besides quickXorHash."""
        with self._use() as c:
            _finish(lib.od_client_set_upload_options(c, simple_limit, chunk_size, int(hashes)))

    # network: trust, proxy, rate, log

    def add_ca_pem(self, pem: Union[bytes, bytearray, memoryview, str]) -> None:
        """Trusts the CA certificates of a PEM bundle (one or more
        ``-----BEGIN CERTIFICATE-----`` sections; other sections are
        skipped) besides the system's trust store, for connections opened
        from now on. Call again to add more. A bundle with no certificate, or
        a malformed one, raises :class:`~onedrive_native.InvalidArgumentError`
        (a ``ValueError``). Certificate checks cannot be turned off."""
        if isinstance(pem, str):
            pem = pem.encode("utf-8")
        if not isinstance(pem, (bytes, bytearray, memoryview)):
            raise TypeError(f"pem must be bytes or str, not {type(pem).__name__}")
        ptr, n, keep = _buffer(pem)
        with self._use() as c:
            rc = lib.od_client_add_ca_pem(c, ptr, n)
        del keep
        _finish(rc)

    def add_ca_file(self, path: Union[str, "os.PathLike[str]"]) -> None:
        """As :meth:`add_ca_pem`, with the PEM bundle read from the file at
        ``path``; a file that cannot be read raises
        :class:`~onedrive_native.LocalIOError` (an ``OSError``)."""
        with self._use() as c:
            _finish(lib.od_client_add_ca_file(c, _path_arg(path)))

    def set_proxy(self, url: Optional[str]) -> None:
        """Sends every request of this client (the API, monitor and upload
        hosts, loopback too) through a proxy, for connections opened from now
        on: ``http://[user:password@]host:port`` (a CONNECT tunnel, Basic
        authentication when the URL has credentials; percent-encode ``@ : /``
        in them), ``https://…`` (TLS to the proxy too), ``socks5://``,
        ``socks5h://`` (names resolved by the proxy), ``socks4://``,
        ``socks4a://``. ``None`` removes it; then a proxy from the environment
        (``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``…) is used, never for
        loopback. Another scheme or a malformed URL raises
        :class:`~onedrive_native.InvalidArgumentError` (whose message never
        repeats the URL). A proxy that refuses the credentials or the tunnel
        makes calls raise :class:`~onedrive_native.ProxyError`."""
        with self._use() as c:
            _finish(lib.od_client_set_proxy(c, _s(url, "proxy")))

    def set_upload_rate(self, bytes_per_second: int) -> None:
        """Caps what this client's uploads send, all together, at
        ``bytes_per_second`` (0: no cap, the default), simple uploads and
        upload sessions alike; uploads under way follow a new cap from their
        next piece. A capped upload's total deadline grows to match."""
        rate = _rate(bytes_per_second)
        with self._use() as c:
            _finish(lib.od_client_set_upload_rate(c, rate))

    def _use(self) -> Any:
        """The handle for a call, after following a change of the logging
        configuration (a few dict lookups when nothing changed)."""
        if self._log_follow and _log.effective_native_level() != self._log_native:
            self._install_log_level(None)
        return super()._use()

    def _install_log_level(self, level: Optional[int]) -> None:
        """Installs the callback for the logging level ``level`` (``None``:
        the logger's effective level, and follow it from now on)."""
        with self._log_lock:
            native = _log.effective_native_level() if level is None else _log.native_level(level)
            self._log_follow = level is None
            if native == self._log_native:
                return
            with super()._use() as c:
                if native:
                    _finish(lib.od_client_set_log_callback(c, native, _log.CALLBACK, None))
                else:
                    _finish(lib.od_client_set_log_callback(c, 0, _log.NO_CALLBACK, None))
            self._log_native = native

    def open_queue(
        self,
        directory: Union[str, "os.PathLike[str]"],
        *,
        max_running: int = 4,
        online: bool = True,
        events: bool = True,
    ) -> "TransferQueue":
        """Opens the durable transfer queue kept in ``directory``
        (:class:`~onedrive_native.TransferQueue`), whose transfers run
        through this client."""
        from .transfers import TransferQueue

        return TransferQueue(self, directory, max_running=max_running, online=online, events=events)

    def set_download_rate(self, bytes_per_second: int) -> None:
        """Caps what this client's downloads receive, all together, at
        ``bytes_per_second`` (0: no cap, the default); apart from the upload
        cap. Downloads under way follow a new cap from their next piece."""
        rate = _rate(bytes_per_second)
        with self._use() as c:
            _finish(lib.od_client_set_download_rate(c, rate))

    def set_log_level(self, level: Optional[Union[int, str]] = None) -> None:
        """Which of the library's lines go to the ``onedrive_native`` logger.

        ``level`` is a :mod:`logging` level (``logging.INFO``, ``"DEBUG"``):
        the library makes lines of that level and the more severe ones, and
        no others (a line not wanted is never made, and costs nothing). Its
        levels: ERROR (a call failed), WARNING (a request failed and will be
        retried, or a recovery began), INFO (one line per request: method,
        host, path without query, status, duration, attempt, request-id; each
        upload-session decision), DEBUG (every look at a job, and the wait
        before the next). Above ERROR (``logging.CRITICAL``) no callback is
        installed at all. ``None`` (the default, as when the client was
        made): follow the logger's effective level, ``logging.disable``
        included, which each call reads as it starts, so logging configured
        after the client was made applies from the next call. A level given
        here stays until ``set_log_level(None)``. The logger and its
        handlers still filter what arrives."""
        self._install_log_level(None if level is None else _log.python_level(level))

    def refresh_logging(self) -> None:
        """The same as ``set_log_level(None)``: follow the ``onedrive_native``
        logger's effective level again, after an explicit
        :meth:`set_log_level`. Not needed after ``logging.basicConfig`` or
        ``setLevel``: a client following the logger sees those at its next call."""
        self.set_log_level(None)

    @property
    def log_level(self) -> Optional[int]:
        """The most verbose :mod:`logging` level the library sends lines of
        (``None``: no log callback installed)."""
        return _log.to_python(self._log_native)

    # operations

    def upload(
        self,
        parent: str,
        name: Optional[str],
        data_or_path: Data,
        *,
        conflict: Union[Conflict, str, int] = Conflict.DEFAULT,
        drive: Optional[str] = None,
        progress: Optional[Progress] = None,
        cancel: Optional[CancelToken] = None,
    ) -> Item:
        """Uploads a file and returns its item.

        - ``parent``: the folder (``"/"``, ``"/a/b"``, an item id, or
          ``"ID:/rel"``), with ``name`` the file's name in it; with ``name``
          ``None``, ``parent`` is the file itself (a path is created or
          replaced, an id replaced).
        - ``data_or_path``: ``bytes``/``bytearray``/``memoryview`` (any
          contiguous buffer), or a ``str``/``os.PathLike`` naming a local file.
        - ``conflict``: a :class:`Conflict` (or ``"fail"``, ``"replace"``, ``"rename"``).
        - ``drive``: a drive prefix (``/me/drive``, ``/drives/ID``,
          ``/groups/ID/drive``, ``/sites/ID/drive``, ``/users/ID/drive``,
          ``/drive``); ``None`` is ``/me/drive``.
        - ``progress``: ``progress(bytes_sent, total)``; ``cancel``: a :class:`CancelToken`.

        Forbidden names raise :class:`~onedrive_native.InvalidNameError`
        before any request.
        """
        conflict = _conflict(conflict)
        if isinstance(data_or_path, (str, os.PathLike)):
            return self._upload_file(parent, name, data_or_path, conflict, drive, progress, cancel)
        if not isinstance(data_or_path, (bytes, bytearray, memoryview)) and (
            hasattr(data_or_path, "readinto") or hasattr(data_or_path, "read")
        ):
            size = _remaining_size(data_or_path)
            return self.upload_stream(
                parent, name, data_or_path, size, conflict=conflict, drive=drive, progress=progress, cancel=cancel
            )
        try:
            data = data_or_path if isinstance(data_or_path, bytes) else memoryview(data_or_path)  # type: ignore[arg-type]
        except TypeError:
            raise TypeError(
                "data_or_path must be bytes-like, a str / os.PathLike path or a binary file, "
                f"not {type(data_or_path).__name__}"
            ) from None
        args = (_s(drive, "drive"), _s(parent, "parent"), _s(name, "name"))
        ptr, n, keep = _buffer(data)
        cb = _Callback(progress)
        out = _ffi.od_item_p()
        with self._use() as c, _maybe_use(cancel) as k:
            rc = lib.od_upload(c, *args, ptr, n, int(conflict), *cb.args, k, ctypes.byref(out))
        del keep
        item = _take_item(out) if rc == Status.OK and out else None
        _finish(rc, cb.take(), self._take_token_exc(), what=_upload_what(parent, name))
        assert item is not None
        return item

    def _upload_file(
        self,
        parent: str,
        name: Optional[str],
        path: Union[str, "os.PathLike[str]"],
        conflict: Conflict,
        drive: Optional[str],
        progress: Optional[Progress],
        cancel: Optional[CancelToken],
    ) -> Item:
        args = (_s(drive, "drive"), _s(parent, "parent"), _s(name, "name"), _path_arg(path))
        cb = _Callback(progress)
        out = _ffi.od_item_p()
        with self._use() as c, _maybe_use(cancel) as k:
            rc = lib.od_upload_file(c, *args, int(conflict), *cb.args, k, ctypes.byref(out))
        item = _take_item(out) if rc == Status.OK and out else None
        _finish(rc, cb.take(), self._take_token_exc(), what=_upload_what(parent, name))
        assert item is not None
        return item

    def upload_stream(
        self,
        parent: str,
        name: Optional[str],
        stream: Stream,
        size: int,
        *,
        conflict: Union[Conflict, str, int] = Conflict.DEFAULT,
        drive: Optional[str] = None,
        progress: Optional[Progress] = None,
        cancel: Optional[CancelToken] = None,
    ) -> Item:
        """Uploads exactly ``size`` bytes read from ``stream`` (``readinto`` or
        ``read``): one PUT up to the simple-upload limit, an upload session
        above it, about one chunk in memory. A stream that raises stops the
        upload with its exception; one that ends early or runs on raises
        :class:`~onedrive_native.LocalIOError`."""
        conflict = _conflict(conflict)
        if size < 0:
            raise ValueError("size must be >= 0")
        args = (_s(drive, "drive"), _s(parent, "parent"), _s(name, "name"))
        reader = _Reader(stream)
        cb = _Callback(progress)
        out = _ffi.od_item_p()
        with self._use() as c, _maybe_use(cancel) as k:
            rc = lib.od_upload_stream(c, *args, size, reader.c, None, int(conflict), *cb.args, k, ctypes.byref(out))
        item = _take_item(out) if rc == Status.OK and out else None
        _finish(rc, reader.take(), cb.take(), self._take_token_exc(), what=_upload_what(parent, name))
        assert item is not None
        return item

    def create_upload_session(
        self,
        parent: str,
        name: Optional[str],
        size: int,
        *,
        conflict: Union[Conflict, str, int] = Conflict.DEFAULT,
        drive: Optional[str] = None,
    ) -> UploadSession:
        """Creates an upload session for a file of ``size`` bytes (above 0),
        addressed as for :meth:`upload`. Nothing is sent yet."""
        conflict = _conflict(conflict)
        out = _ffi.od_session_p()
        with self._use() as c:
            rc = lib.od_session_create(
                c, _s(drive, "drive"), _s(parent, "parent"), _s(name, "name"), size, int(conflict), ctypes.byref(out)
            )
        session = UploadSession(out) if rc == Status.OK and out else None
        _finish(rc, self._take_token_exc())
        assert session is not None
        return session

    def resume_upload(
        self,
        session: UploadSession,
        source: Union[str, "os.PathLike[str]", Stream],
        *,
        progress: Optional[Progress] = None,
        cancel: Optional[CancelToken] = None,
    ) -> Item:
        """Sends a file through ``session`` from wherever the service stands
        and returns the item. ``source``: the path of the file the session was
        made for, or a stream positioned at its byte 0 (what the service
        already has is read and hashed, not sent). On failure the session
        stays on the service: call again later, or cancel it. Content that
        changed raises :class:`~onedrive_native.HashMismatchError`."""
        cb = _Callback(progress)
        out = _ffi.od_item_p()
        reader = None
        with self._use() as c, session._use() as sp, _maybe_use(cancel) as k:
            if isinstance(source, (str, os.PathLike)):
                rc = lib.od_session_upload_file(c, sp, _path_arg(source), *cb.args, k, ctypes.byref(out))
            else:
                reader = _Reader(source)
                rc = lib.od_session_upload_stream(c, sp, reader.c, None, *cb.args, k, ctypes.byref(out))
        item = _take_item(out) if rc == Status.OK and out else None
        _finish(
            rc, reader.take() if reader else None, cb.take(), self._take_token_exc(),
            what=f"upload through an upload session ({session.size} bytes)",
        )
        assert item is not None
        return item

    def cancel_upload_session(self, session: UploadSession) -> None:
        """Cancels the session on the service (one it no longer knows counts
        as cancelled). The handle still needs closing."""
        with self._use() as c, session._use() as sp:
            _finish(lib.od_session_cancel(c, sp), self._take_token_exc())

    def url_upload(
        self,
        parent: str,
        name: str,
        source_url: str,
        *,
        drive: Optional[str] = None,
    ) -> "Job":
        """Asks the service to fetch ``source_url`` into a new file ``name`` in
        ``parent``; returns the :class:`Job`. OneDrive Personal only (retired
        by the service): refusals raise :class:`~onedrive_native.NotSupportedError`."""
        out = _ffi.od_job_p()
        with self._use() as c:
            rc = lib.od_url_upload(
                c,
                _s(drive, "drive"),
                _s(parent, "parent"),
                _s(name, "name"),
                _s(source_url, "source_url"),
                ctypes.byref(out),
            )
        job = Job(out, self) if rc == Status.OK and out else None
        _finish(rc, self._take_token_exc())
        assert job is not None
        return job

    def copy(
        self,
        source: str,
        dest_parent: str,
        *,
        name: Optional[str] = None,
        dest_drive_id: Optional[str] = None,
        conflict: Union[Conflict, str, int] = Conflict.DEFAULT,
        legacy: bool = False,
        drive: Optional[str] = None,
    ) -> "Job":
        """Starts a server-side copy of ``source`` into the folder
        ``dest_parent`` and returns the :class:`Job`.

        - ``source``, ``dest_parent``: ``/path``, an id, or ``ID:/rel``;
          ``drive`` is the source's drive prefix (``None``: ``/me/drive``).
        - ``name``: a name for the copy (``None``: the source's).
        - ``dest_drive_id``: the destination drive's id (``None``: same drive).
        - ``conflict``: copies fail by default; a name in use may be refused at
          once with :class:`~onedrive_native.ConflictError`.
        - ``legacy``: send the older ``…/action.copy`` form.
        """
        conflict = _conflict(conflict)
        flags = _ffi.OD_COPY_LEGACY if legacy else 0
        out = _ffi.od_job_p()
        with self._use() as c:
            rc = lib.od_copy(
                c,
                _s(drive, "drive"),
                _s(source, "source"),
                _s(dest_parent, "dest_parent"),
                _s(dest_drive_id, "dest_drive_id"),
                _s(name, "name"),
                int(conflict),
                flags,
                ctypes.byref(out),
            )
        job = Job(out, self) if rc == Status.OK and out else None
        _finish(rc, self._take_token_exc())
        assert job is not None
        return job

    def item(self, path_or_id: str, *, drive: Optional[str] = None) -> Item:
        """Reads an item's metadata: ``/path``, an id, or ``ID:/rel``."""
        out = _ffi.od_item_p()
        with self._use() as c:
            rc = lib.od_item_get(c, _s(drive, "drive"), _s(path_or_id, "path_or_id"), ctypes.byref(out))
        item = _take_item(out) if rc == Status.OK and out else None
        _finish(rc, self._take_token_exc())
        assert item is not None
        return item

    def create_folder(
        self,
        parent: str,
        name: str,
        *,
        conflict: Union[Conflict, str, int] = Conflict.DEFAULT,
        parents: bool = False,
        drive: Optional[str] = None,
        cancel: Optional[CancelToken] = None,
    ) -> Item:
        """Creates the folder ``name`` in ``parent`` (``/``, ``/a/b``, an id or
        ``ID:/rel``) and returns it. A name in use raises
        :class:`~onedrive_native.ConflictError` unless ``conflict`` says
        rename or replace. ``parents=True`` works as ``mkdir -p``: missing
        folders of the path are made, existing ones (``name`` too, which is
        then returned as it is) are kept."""
        conflict = _conflict(conflict)
        flags = _ffi.OD_FOLDER_PARENTS if parents else 0
        out = _ffi.od_item_p()
        with self._use() as c, _maybe_use(cancel) as k:
            rc = lib.od_folder_create(
                c, _s(drive, "drive"), _s(parent, "parent"), _s(name, "name"), int(conflict), flags, k,
                ctypes.byref(out),
            )
        item = _take_item(out) if rc == Status.OK and out else None
        _finish(rc, self._take_token_exc(), what=f"creation of the folder {name!r} in {parent}")
        assert item is not None
        return item

    def delete(
        self,
        path_or_id: str,
        *,
        if_match: Optional[str] = None,
        drive: Optional[str] = None,
        cancel: Optional[CancelToken] = None,
    ) -> None:
        """Deletes an item (a folder with all it holds). With ``if_match`` (an
        :attr:`Item.etag` read earlier) a changed item is not deleted:
        :class:`~onedrive_native.ConflictError`. A missing item raises
        :class:`~onedrive_native.NotFoundError`."""
        with self._use() as c, _maybe_use(cancel) as k:
            rc = lib.od_item_delete(c, _s(drive, "drive"), _s(path_or_id, "path_or_id"), _s(if_match, "if_match"), k)
        _finish(rc, self._take_token_exc(), what=f"delete of {path_or_id}")

    def download(
        self,
        path_or_id: str,
        dest: Sink,
        *,
        drive: Optional[str] = None,
        progress: Optional[Progress] = None,
        cancel: Optional[CancelToken] = None,
    ) -> Item:
        """Downloads a file and returns its item (as read before the download).

        - ``path_or_id``: ``/a/b.txt``, an id, or ``ID:/rel``; a folder raises
          :class:`~onedrive_native.InvalidArgumentError`.
        - ``dest``: a local path (``str`` / ``os.PathLike``; its folder must
          exist, a file there is replaced), a binary file object open for
          writing, or a callable taking each piece as ``bytes``.
        - ``progress(bytes_had, size)``, ``cancel``: as for :meth:`upload`.

        To a path, the bytes go to ``.NAME.odpart`` beside it and are renamed
        into place only once complete and verified (size, quickXorHash, and
        SHA-1 where the service gives it): a failed or cancelled download
        never leaves a partial file under the name, and the next call for
        the same path resumes where it stopped if the file on the service is
        unchanged. To a file object or callable, a connection cut is resumed
        within the call and no byte comes twice; but the bytes are the
        file's only if the call returns: after an error (a
        :class:`~onedrive_native.HashMismatchError` included) drop what was
        written. An exception the sink raises stops the download and comes
        out of the call."""
        cb = _Callback(progress)
        out = _ffi.od_item_p()
        args = (_s(drive, "drive"), _s(path_or_id, "path_or_id"))
        writer = None
        with self._use() as c, _maybe_use(cancel) as k:
            if isinstance(dest, (str, os.PathLike)):
                rc = lib.od_download_file(c, *args, _path_arg(dest), *cb.args, k, ctypes.byref(out))
            else:
                writer = _Writer(dest)
                rc = lib.od_download_stream(c, *args, writer.c, None, *cb.args, k, ctypes.byref(out))
        item = _take_item(out) if rc == Status.OK and out else None
        _finish(
            rc, writer.take() if writer else None, cb.take(), self._take_token_exc(),
            what=f"download of {path_or_id}",
        )
        assert item is not None
        return item

    def list_children(
        self,
        folder: str,
        *,
        drive: Optional[str] = None,
        page_size: int = 0,
        cancel: Optional[CancelToken] = None,
    ) -> Listing:
        """The children of ``folder`` (``/``, ``/a/b``, an id, ``ID:/rel``) as
        an iterator of :class:`Item`, fetched a page at a time as it is
        consumed (``page_size`` children per request; 0: the service's
        default, 200 on Graph). No request is made until the first item is
        asked for. ``cancel`` stops a page fetch
        (:class:`~onedrive_native.OperationCancelledError`)::

            for item in od.list_children("/Photos"):
                print(item.name, item.size)
        """
        if not 0 <= page_size <= 0xFFFF_FFFF:
            raise local_error(InvalidArgumentError, "page_size must be between 0 (the service's default) and 2**32 - 1")
        out = _ffi.od_listing_p()
        with self._use() as c:
            rc = lib.od_list_open(c, _s(drive, "drive"), _s(folder, "folder"), page_size, ctypes.byref(out))
        listing = Listing(out, self, folder, cancel) if rc == Status.OK and out else None
        _finish(rc)
        assert listing is not None
        return listing

    def move(
        self,
        path_or_id: str,
        dest_parent: Optional[str] = None,
        *,
        name: Optional[str] = None,
        conflict: Union[Conflict, str, int] = Conflict.DEFAULT,
        if_match: Optional[str] = None,
        dest_drive_id: Optional[str] = None,
        drive: Optional[str] = None,
        cancel: Optional[CancelToken] = None,
    ) -> Item:
        """Moves an item into the folder ``dest_parent`` and/or renames it to
        ``name``; returns it as it is now (its id does not change).

        - ``dest_parent``: ``/``, ``/a/b``, an id or ``ID:/rel``; ``None``:
          stay in the same folder (then ``name`` is required).
        - ``conflict``: a name in use raises
          :class:`~onedrive_native.ConflictError` with ``"fail"``;
          ``"replace"`` replaces, ``"rename"`` picks a free name.
        - ``if_match``: an :attr:`Item.etag` read earlier: an item changed
          since is not moved (:class:`~onedrive_native.ConflictError`).
        - ``dest_drive_id``: Graph moves within one drive only: another
          drive's id raises :class:`~onedrive_native.NotSupportedError`
          (copy, then delete).

        A move is never sent twice: when its answer is lost the call raises
        :class:`~onedrive_native.NetworkError` or
        :class:`~onedrive_native.OneDriveTimeoutError` and the item may or
        may not have moved: read it by its id to know."""
        conflict = _conflict(conflict)
        out = _ffi.od_item_p()
        with self._use() as c, _maybe_use(cancel) as k:
            rc = lib.od_item_move(
                c, _s(drive, "drive"), _s(path_or_id, "path_or_id"), _s(dest_parent, "dest_parent"),
                _s(dest_drive_id, "dest_drive_id"), _s(name, "name"), int(conflict), _s(if_match, "if_match"),
                k, ctypes.byref(out),
            )
        item = _take_item(out) if rc == Status.OK and out else None
        _finish(rc, self._take_token_exc(), what=f"move of {path_or_id}")
        assert item is not None
        return item

    def rename(
        self,
        path_or_id: str,
        name: str,
        *,
        conflict: Union[Conflict, str, int] = Conflict.DEFAULT,
        if_match: Optional[str] = None,
        drive: Optional[str] = None,
        cancel: Optional[CancelToken] = None,
    ) -> Item:
        """Renames an item in its folder: :meth:`move` with only ``name``."""
        return self.move(path_or_id, None, name=name, conflict=conflict, if_match=if_match, drive=drive, cancel=cancel)


def _redact(url: str) -> str:
    """A URL as a message may show it: its origin only."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/…" if parts.netloc else "(not a URL)"
    except ValueError:
        return "(not a URL)"


# --- Job -------------------------------------------------------------------------


class Job(Handle):
    """An asynchronous job on the service (a copy, an upload from URL).

    Save :attr:`monitor_url` to follow the job after a restart with
    :meth:`Job.resume`. Closing a job does not stop it on the service.
    """

    _free_name = "od_job_free"
    _kind = "job"

    def __init__(self, ptr: Any, client: Client) -> None:
        super().__init__(ptr)
        self.client = client
        with self._use() as j:
            self._monitor_url = _text(lib.od_job_monitor_url(j)) or ""

    @classmethod
    def resume(cls, client: Client, url: str, *, drive: Optional[str] = None) -> "Job":
        """Rebuilds a job from a saved monitor URL. ``drive`` is the
        destination's drive prefix (``None``: ``/me/drive``). No request is made."""
        out = _ffi.od_job_p()
        rc = lib.od_job_from_monitor_url(_s(url, "url"), _s(drive, "drive"), ctypes.byref(out))
        job = cls(out, client) if rc == Status.OK and out else None
        _finish(rc)
        assert job is not None
        return job

    @property
    def monitor_url(self) -> str:
        """The opaque, pre-authorized monitor URL (never sent a token)."""
        return self._monitor_url

    @property
    def state(self) -> JobState:
        """The state the job was last seen in (no request)."""
        with self._use() as j:
            return JobState(lib.od_job_last_state(j))

    def __repr__(self) -> str:
        state = "closed" if self.closed else self.state.name
        # The monitor URL is a capability (a tempauth query, a job id): only
        # its origin is shown; Job.monitor_url gives it whole on request.
        return f"<onedrive_native.Job {state} {_redact(self._monitor_url)}>"

    def poll(self) -> JobStatus:
        """Looks at the job once. A failed or cancelled job is not raised
        here: it comes back with ``state`` and ``error`` set."""
        state = _ffi.od_job_state(0)
        percent = ctypes.c_double(-1.0)
        with self.client._use() as c, self._use() as j:
            rc = lib.od_poll_job(c, j, ctypes.byref(state), ctypes.byref(percent))
            if rc != Status.OK:
                _finish(rc, self.client._take_token_exc())
            st = JobState(state.value)
            error = None
            if st in (JobState.FAILED, JobState.CANCELLED):
                last = lib.od_last_error_status()
                if last != Status.OK:
                    error = last_error(last)
            item = self._item(j) if st is JobState.COMPLETED else None
        pct = None if percent.value < 0 else percent.value
        return JobStatus(state=st, percent=pct, item=item, error=error)

    def wait(
        self,
        timeout: Optional[float] = None,
        *,
        progress: Optional[JobProgress] = None,
        cancel: Optional[CancelToken] = None,
    ) -> Item:
        """Follows the job until it ends and returns the new item.

        - ``timeout``: seconds (``None``: no limit), then
          :class:`~onedrive_native.OneDriveTimeoutError`;
        - ``progress``: ``progress(percent, 100.0)`` after each look, the
          percent the service last gave as a float from 0 to 100 (0.0 before
          it gave any);
        - ``cancel``: a :class:`CancelToken`.

        Raises :class:`~onedrive_native.JobFailedError` /
        :class:`~onedrive_native.JobCancelledError` when the job did not
        complete. Stopping the wait does not stop the job."""
        ms = _timeout_ms(timeout)
        cb = _Callback(progress, percent=True)
        out = _ffi.od_item_p()
        with self.client._use() as c, self._use() as j, _maybe_use(cancel) as k:
            rc = lib.od_wait_job(c, j, ms, *cb.args, k, ctypes.byref(out))
        item = _take_item(out) if rc == Status.OK and out else None
        _finish(rc, cb.take(), self.client._take_token_exc(), what="wait for the job (the job goes on)")
        assert item is not None
        return item

    def item(self) -> Item:
        """The item a completed job made (no request);
        :class:`~onedrive_native.InvalidStateError` before completion."""
        with self._use() as j:
            return self._item(j)

    @staticmethod
    def _item(j: Any) -> Item:
        out = _ffi.od_item_p()
        rc = lib.od_job_item(j, ctypes.byref(out))
        item = _take_item(out) if rc == Status.OK and out else None
        _finish(rc)
        assert item is not None
        return item
