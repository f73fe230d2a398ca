"""The durable transfer queue (``od_queue``): uploads, uploads from URL and
copies that survive a restart, run on the queue's own threads.

Events are read by polling (``od_queue_next_event``), never through the C
event callback: that callback runs on the queue's dispatcher thread, where
Python code would need the GIL from a thread Python did not start (and
could be entered during interpreter shutdown), and where Ctrl-C cannot
reach it. Polling keeps every Python call on the caller's thread; each wait
is at most :data:`POLL_SLICE` seconds long, so Ctrl-C on the main thread is
seen within that time.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ctypes
import enum
import json
import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Iterable, Iterator, List, Optional, Union

from . import _ffi
from ._aio_util import _run, _run_cancellable
from ._handle import Handle
from .client import (
    CancelToken,
    Client,
    Conflict,
    Item,
    _conflict,
    _finish,
    _item_from_json,
    _maybe_use,
    _path_arg,
    _s,
    _text,
)
from .errors import InvalidArgumentError, OneDriveError, Status, exception_class, local_error

lib = _ffi.lib

#: The longest single wait in the library while iterating events, in
#: seconds: the bound on how late Ctrl-C (or a timeout) is seen.
POLL_SLICE = 0.25


class _Named(enum.IntEnum):
    def __str__(self) -> str:
        return self.name

    def __format__(self, spec: str) -> str:
        return format(self.name, spec)


class TransferKind(_Named):
    """``od_transfer_kind``: what a transfer does."""

    UPLOAD = _ffi.OD_TRANSFER_UPLOAD
    URL_UPLOAD = _ffi.OD_TRANSFER_URL_UPLOAD
    COPY = _ffi.OD_TRANSFER_COPY


class TransferState(_Named):
    """``od_transfer_state``: where a transfer stands."""

    QUEUED = _ffi.OD_TRANSFER_QUEUED  #: waiting for a free slot
    RUNNING = _ffi.OD_TRANSFER_RUNNING
    PAUSED = _ffi.OD_TRANSFER_PAUSED  #: by the app: :meth:`TransferQueue.resume`
    WAITING = _ffi.OD_TRANSFER_WAITING  #: for the network or a retry (:attr:`Transfer.wait_reason`)
    COMPLETED = _ffi.OD_TRANSFER_COMPLETED
    FAILED = _ffi.OD_TRANSFER_FAILED
    CANCELLED = _ffi.OD_TRANSFER_CANCELLED

    @property
    def is_final(self) -> bool:
        return self in (TransferState.COMPLETED, TransferState.FAILED, TransferState.CANCELLED)


class WaitReason(_Named):
    """``od_wait_reason``: why a waiting transfer waits."""

    NONE = _ffi.OD_WAIT_NONE
    OFFLINE = _ffi.OD_WAIT_OFFLINE  #: :meth:`TransferQueue.set_online` ``(False)``
    RETRY = _ffi.OD_WAIT_RETRY  #: a transient error; retried at :attr:`Transfer.retry_at`


class EventKind(_Named):
    """``od_queue_event_kind``."""

    STATE = _ffi.OD_QUEUE_EVENT_STATE  #: the transfer entered :attr:`QueueEvent.state`
    PROGRESS = _ffi.OD_QUEUE_EVENT_PROGRESS  #: :attr:`QueueEvent.done` of :attr:`QueueEvent.total`


#: every state, for :meth:`TransferQueue.list`
ALL_STATES = tuple(TransferState)
#: what :meth:`TransferQueue.wait_idle` waits for the end of
ACTIVE_STATES = (TransferState.QUEUED, TransferState.RUNNING, TransferState.WAITING)


@dataclass(frozen=True)
class QueueEvent:
    """One event of the queue."""

    id: int
    kind: EventKind
    #: the new state, for a :attr:`EventKind.STATE` event
    state: Optional[TransferState]
    #: progress: uploads in bytes; copies and uploads from URL in hundredths
    #: of a percent, of 10000 (0 for a state event)
    done: int
    total: int


@dataclass(frozen=True)
class Transfer:
    """A transfer as it was when read."""

    id: int
    kind: TransferKind
    state: TransferState
    #: the destination name ("" for a copy keeping its source's)
    name: str
    #: uploads in bytes of the file's size; copies and uploads from URL in
    #: hundredths of a percent, of 10000
    done: int
    total: int
    wait_reason: WaitReason
    #: when a transfer waiting for a retry is due (aware, UTC), else ``None``
    retry_at: Optional[datetime]
    #: the item made, once completed
    item: Optional[Item]
    #: the error of a failed transfer, or the transient one a waiting transfer waits after
    error: Optional[OneDriveError]

    @property
    def percent(self) -> float:
        """``done`` of ``total`` as a percent from 0 to 100."""
        return min(100.0, self.done * 100.0 / self.total) if self.total else 0.0


@dataclass(frozen=True)
class QueueTotals:
    """Files and bytes of the whole queue (:meth:`TransferQueue.totals`)."""

    files: int  #: transfers in every state
    completed: int
    failed: int
    cancelled: int
    #: the uploads' bytes: a completed one counts whole, failed and cancelled ones not at all
    bytes_done: int
    bytes_total: int

    @property
    def finished(self) -> int:
        return self.completed + self.failed + self.cancelled


def _read_transfer(t: Any) -> Transfer:
    status = lib.od_transfer_error_status(t)
    error = None
    if status != Status.OK:
        http = lib.od_transfer_error_http_status(t)
        error = exception_class(status)(
            _text(lib.od_transfer_error_message(t)) or "",
            status=status,
            http_status=http or None,
            code=_text(lib.od_transfer_error_code(t)),
            inner_code=_text(lib.od_transfer_error_inner_code(t)),
            request_id=_text(lib.od_transfer_error_request_id(t)),
        )
    item_json = lib.od_transfer_item_json(t)
    retry_ms = lib.od_transfer_retry_at_ms(t)
    return Transfer(
        id=int(lib.od_transfer_id(t)),
        kind=TransferKind(lib.od_transfer_get_kind(t)),
        state=TransferState(lib.od_transfer_get_state(t)),
        name=_text(lib.od_transfer_name(t)) or "",
        done=int(lib.od_transfer_done(t)),
        total=int(lib.od_transfer_total(t)),
        wait_reason=WaitReason(lib.od_transfer_wait_reason(t)),
        retry_at=None if retry_ms < 0 else datetime.fromtimestamp(retry_ms / 1000.0, timezone.utc),
        item=_item_from_json(json.loads(item_json)) if item_json else None,
        error=error,
    )


def _slice(deadline: Optional[float], now: float) -> float:
    """The next wait for an event: :data:`POLL_SLICE`, less near the deadline."""
    return POLL_SLICE if deadline is None else min(POLL_SLICE, deadline - now)


def _state_mask(states: Optional[Iterable[Union[TransferState, int]]]) -> int:
    if states is None:
        return 0x7F
    mask = 0
    for s in states:
        mask |= 1 << int(TransferState(s))
    return mask


class TransferQueue(Handle):
    """A durable transfer queue kept in ``directory`` (the app's private
    storage; one queue per directory, in any process). Transfers recorded
    there are restored at once: those that were queued, running or waiting
    go on (upload sessions resumed, jobs followed). They run on the queue's
    threads through ``client`` (its token, settings and rate caps apply),
    ``max_running`` at a time.

    - ``online=False``: start offline (nothing runs until
      :meth:`set_online`).
    - ``events=False``: keep no events (:meth:`events` then waits in vain).

    Use it as a context manager, or call :meth:`close`: running transfers
    stop at a safe point and go on at the next opening. Ids are stable
    across openings and never reused. Any number of threads may use one
    queue. The client's token provider (if any) is called on the queue's
    threads: close the queue before the interpreter exits."""

    _free_name = "od_queue_free"
    _kind = "transfer queue"

    def __init__(
        self,
        client: Client,
        directory: Union[str, "os.PathLike[str]"],
        *,
        max_running: int = 4,
        online: bool = True,
        events: bool = True,
    ) -> None:
        if max_running < 1:
            raise local_error(InvalidArgumentError, "max_running must be at least 1")
        flags = (0 if online else _ffi.OD_QUEUE_START_OFFLINE) | (0 if events else _ffi.OD_QUEUE_NO_POLLING)
        out = _ffi.od_queue_p()
        with client._use() as c:
            rc = lib.od_queue_open(c, _path_arg(directory), max_running, flags, ctypes.byref(out))
        _finish(rc, client._take_token_exc())
        super().__init__(out)
        # The queue's threads call the client's token provider (a ctypes
        # function the Python Client keeps): keep it alive while the queue is.
        self.client = client
        self.directory = os.fspath(directory)

    def __repr__(self) -> str:
        return f"<onedrive_native.TransferQueue {self.directory!r}{' closed' if self.closed else ''}>"

    def _id(self, fn: Any, *args: Any) -> int:
        out = ctypes.c_uint64(0)
        with self._use() as q:
            rc = fn(q, *args, ctypes.byref(out))
        _finish(rc)
        return int(out.value)

    # enqueue

    def enqueue_upload(
        self,
        path: Union[str, "os.PathLike[str]"],
        parent: str,
        name: Optional[str] = None,
        *,
        conflict: Union[Conflict, str, int] = Conflict.DEFAULT,
        drive: Optional[str] = None,
    ) -> int:
        """Queues the upload of the local file ``path`` as ``name`` (``None``:
        its own name) in the folder ``parent``; returns the transfer's id.
        The file's size and time are recorded now: a file changed before it
        is sent fails the transfer (:class:`~onedrive_native.HashMismatchError`).
        On disk when this returns."""
        if name is None:
            name = os.path.basename(os.fspath(path))
        return self._id(
            lib.od_queue_enqueue_upload, _path_arg(path), _s(drive, "drive"), _s(parent, "parent"),
            _s(name, "name"), int(_conflict(conflict)),
        )

    def enqueue_url_upload(self, source_url: str, parent: str, name: str, *, drive: Optional[str] = None) -> int:
        """Queues an upload from URL (OneDrive Personal); returns its id. Never
        sent twice: a request whose answer was lost completes when the file
        shows, else fails with :class:`~onedrive_native.UnknownOutcomeError`."""
        return self._id(
            lib.od_queue_enqueue_url_upload, _s(source_url, "source_url"), _s(drive, "drive"),
            _s(parent, "parent"), _s(name, "name"),
        )

    def enqueue_copy(
        self,
        source: str,
        dest_parent: str,
        *,
        name: Optional[str] = None,
        dest_drive_id: Optional[str] = None,
        conflict: Union[Conflict, str, int] = Conflict.DEFAULT,
        drive: Optional[str] = None,
    ) -> int:
        """Queues a server-side copy of ``source`` into ``dest_parent``; returns its id."""
        return self._id(
            lib.od_queue_enqueue_copy, _s(drive, "drive"), _s(source, "source"), _s(dest_parent, "dest_parent"),
            _s(dest_drive_id, "dest_drive_id"), _s(name, "name"), int(_conflict(conflict)),
        )

    # control

    def _call(self, fn: Any, *args: Any) -> None:
        with self._use() as q:
            rc = fn(q, *args)
        _finish(rc)

    def pause(self, id: int) -> None:
        """Pauses a transfer (a running upload keeps its session). A finished
        one: :class:`~onedrive_native.InvalidStateError`; an unknown id:
        :class:`~onedrive_native.NotFoundError`."""
        self._call(lib.od_queue_pause, id)

    def resume(self, id: int) -> None:
        """Resumes a paused transfer (nothing for one not paused)."""
        self._call(lib.od_queue_resume, id)

    def cancel(self, id: int) -> None:
        """Cancels a transfer (an upload session is deleted on the service)."""
        self._call(lib.od_queue_cancel, id)

    def pause_all(self) -> None:
        """Pauses every unfinished transfer."""
        self._call(lib.od_queue_pause_all)

    def resume_all(self) -> None:
        """Resumes every paused transfer."""
        self._call(lib.od_queue_resume_all)

    def cancel_all(self) -> None:
        """Cancels every unfinished transfer."""
        self._call(lib.od_queue_cancel_all)

    def remove(self, id: int) -> None:
        """Forgets a finished transfer."""
        self._call(lib.od_queue_remove, id)

    def remove_finished(self) -> int:
        """Forgets every finished transfer; returns how many."""
        out = ctypes.c_uint64(0)
        self._call(lib.od_queue_remove_finished, ctypes.byref(out))
        return int(out.value)

    def set_max_running(self, n: int) -> None:
        """How many transfers may run at once (at least 1)."""
        if n < 1:
            raise local_error(InvalidArgumentError, "max_running must be at least 1")
        self._call(lib.od_queue_set_max_running, n)

    def set_online(self, online: bool) -> None:
        """``False``: "not now" (offline, metered network): running transfers
        stop and every unfinished one waits, without counting as a failure."""
        self._call(lib.od_queue_set_online, 1 if online else 0)

    # reading

    def get(self, id: int) -> Transfer:
        """One transfer (:class:`~onedrive_native.NotFoundError` for an unknown id)."""
        out = _ffi.od_transfer_p()
        with self._use() as q:
            rc = lib.od_queue_get(q, id, ctypes.byref(out))
        _finish(rc)
        try:
            return _read_transfer(out)
        finally:
            lib.od_transfer_free(out)

    def list(self, states: Optional[Iterable[Union[TransferState, int]]] = None) -> List[Transfer]:
        """The transfers in ``states`` (``None``: all), in id order."""
        out = _ffi.od_transfer_list_p()
        with self._use() as q:
            rc = lib.od_queue_list(q, _state_mask(states), ctypes.byref(out))
        _finish(rc)
        try:
            return [_read_transfer(lib.od_transfer_list_get(out, i)) for i in range(lib.od_transfer_list_count(out))]
        finally:
            lib.od_transfer_list_free(out)

    def _active(self) -> int:
        out = _ffi.od_transfer_list_p()
        with self._use() as q:
            rc = lib.od_queue_list(q, _state_mask(ACTIVE_STATES), ctypes.byref(out))
        _finish(rc)
        try:
            return int(lib.od_transfer_list_count(out))
        finally:
            lib.od_transfer_list_free(out)

    def totals(self) -> QueueTotals:
        """Files and bytes of the whole queue."""
        v = [ctypes.c_uint64(0) for _ in range(6)]
        self._call(lib.od_queue_totals, *(ctypes.byref(x) for x in v))
        return QueueTotals(*(int(x.value) for x in v))

    # events

    def next_event(self, timeout: float = 0.0) -> Optional[QueueEvent]:
        """The next event, waiting up to ``timeout`` seconds; ``None`` when
        none came. State changes are all kept, in order; progress is kept
        as the latest per transfer."""
        ms = max(0, min(int(timeout * 1000), 0xFFFF_FFFF))
        id_, kind, state = ctypes.c_uint64(0), ctypes.c_int32(0), ctypes.c_int32(-1)
        done, total = ctypes.c_uint64(0), ctypes.c_uint64(0)
        with self._use() as q:
            rc = lib.od_queue_next_event(
                q, ms, ctypes.byref(id_), ctypes.byref(kind), ctypes.byref(state), ctypes.byref(done), ctypes.byref(total)
            )
        if rc == Status.TIMEOUT:
            return None
        _finish(rc)
        k = EventKind(kind.value)
        return QueueEvent(
            id=int(id_.value),
            kind=k,
            state=TransferState(state.value) if k is EventKind.STATE else None,
            done=int(done.value),
            total=int(total.value),
        )

    def events(self, *, until_idle: bool = True, timeout: Optional[float] = None) -> Iterator[QueueEvent]:
        """The queue's events as they come, in order. With ``until_idle``
        (the default) the iterator ends once nothing is queued, running or
        waiting and every event up to then was given (paused transfers do
        not hold it); else it runs until ``timeout`` seconds passed
        (``None``: forever) or the loop breaks. Each wait in the library is
        at most :data:`POLL_SLICE` seconds: Ctrl-C is seen meanwhile."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = _slice(deadline, time.monotonic())
            if left <= 0:
                return
            ev = self.next_event(left)
            if ev is not None:
                yield ev
            elif until_idle:
                rest = self._events_after_idle()
                if rest is not None:
                    yield from rest
                    return

    def _events_after_idle(self) -> Optional[List[QueueEvent]]:
        """When nothing is queued, running or waiting: the events still kept
        (each is kept with the change it tells of, so once idle is seen the
        last ones are there); else ``None``."""
        if self._active():
            return None
        rest = []
        ev = self.next_event(0)
        while ev is not None:
            rest.append(ev)
            ev = self.next_event(0)
        return rest

    def wait_idle(self, timeout: Optional[float] = None, cancel: Optional[CancelToken] = None) -> None:
        """Waits until nothing is queued, running or waiting;
        :class:`~onedrive_native.OneDriveTimeoutError` after ``timeout``
        seconds. Waits in slices of :data:`POLL_SLICE` seconds, so Ctrl-C is
        seen; ``cancel`` stops it
        (:class:`~onedrive_native.OperationCancelledError`)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = POLL_SLICE if deadline is None else min(POLL_SLICE, max(0.0, deadline - time.monotonic()))
            with self._use() as q, _maybe_use(cancel) as k:
                rc = lib.od_queue_wait_idle(q, int(left * 1000), k)
            if rc == Status.TIMEOUT and (deadline is None or time.monotonic() < deadline):
                continue
            _finish(rc, what="wait for the queue to be idle")
            return


class AsyncTransferQueue:
    """:class:`~onedrive_native.TransferQueue` for asyncio (made by
    :meth:`AsyncClient.open_queue`): what writes to the queue's directory
    (enqueueing, pausing, cancelling…) and what waits runs on the
    executor; reading (:meth:`get`, :meth:`list`, :meth:`totals`) is
    immediate. ``async for event in queue.events()`` follows the batch."""

    def __init__(self, queue: TransferQueue, executor: Optional[concurrent.futures.Executor]) -> None:
        self.queue = queue
        self._executor = executor

    def __repr__(self) -> str:
        return repr(self.queue).replace("TransferQueue", "AsyncTransferQueue", 1)

    async def enqueue_upload(
        self,
        path: Union[str, "os.PathLike[str]"],
        parent: str,
        name: Optional[str] = None,
        *,
        conflict: Union[Conflict, str, int] = Conflict.DEFAULT,
        drive: Optional[str] = None,
    ) -> int:
        """Queues an upload of a local file; returns its id (:meth:`TransferQueue.enqueue_upload
        <onedrive_native.TransferQueue.enqueue_upload>`)."""
        return await _run(self._executor, self.queue.enqueue_upload, path, parent, name, conflict=conflict, drive=drive)

    async def enqueue_url_upload(self, source_url: str, parent: str, name: str, *, drive: Optional[str] = None) -> int:
        """Queues an upload from URL; returns its id."""
        return await _run(self._executor, self.queue.enqueue_url_upload, source_url, parent, name, drive=drive)

    async def enqueue_copy(
        self,
        source: str,
        dest_parent: str,
        *,
        name: Optional[str] = None,
        dest_drive_id: Optional[str] = None,
        conflict: Union[Conflict, str, int] = Conflict.DEFAULT,
        drive: Optional[str] = None,
    ) -> int:
        """Queues a server-side copy; returns its id."""
        return await _run(
            self._executor, self.queue.enqueue_copy, source, dest_parent,
            name=name, dest_drive_id=dest_drive_id, conflict=conflict, drive=drive,
        )

    async def pause(self, id: int) -> None:
        """Pauses a transfer."""
        await _run(self._executor, self.queue.pause, id)

    async def resume(self, id: int) -> None:
        """Resumes a paused transfer."""
        await _run(self._executor, self.queue.resume, id)

    async def cancel(self, id: int) -> None:
        """Cancels a transfer."""
        await _run(self._executor, self.queue.cancel, id)

    async def pause_all(self) -> None:
        """Pauses every unfinished transfer."""
        await _run(self._executor, self.queue.pause_all)

    async def resume_all(self) -> None:
        """Resumes every paused transfer."""
        await _run(self._executor, self.queue.resume_all)

    async def cancel_all(self) -> None:
        """Cancels every unfinished transfer."""
        await _run(self._executor, self.queue.cancel_all)

    async def remove(self, id: int) -> None:
        """Forgets a finished transfer."""
        await _run(self._executor, self.queue.remove, id)

    async def remove_finished(self) -> int:
        """Forgets every finished transfer; returns how many."""
        return await _run(self._executor, self.queue.remove_finished)

    def set_max_running(self, n: int) -> None:
        """How many transfers may run at once."""
        self.queue.set_max_running(n)

    def set_online(self, online: bool) -> None:
        """``False``: "not now": everything unfinished waits."""
        self.queue.set_online(online)

    def get(self, id: int) -> Transfer:
        """One transfer, as it is now."""
        return self.queue.get(id)

    def list(self, states: Optional[Iterable[Union[TransferState, int]]] = None) -> List[Transfer]:
        """The transfers in ``states`` (``None``: all), in id order."""
        return self.queue.list(states)

    def totals(self) -> QueueTotals:
        """Files and bytes of the whole queue."""
        return self.queue.totals()

    async def events(self, *, until_idle: bool = True, timeout: Optional[float] = None) -> AsyncIterator[QueueEvent]:
        """The queue's events as an async iterator, as
        :meth:`TransferQueue.events <onedrive_native.TransferQueue.events>`:
        each wait runs on the executor (at most ``POLL_SLICE`` seconds), so
        cancelling the task ends the loop at once."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            left = _slice(deadline, loop.time())
            if left <= 0:
                return
            ev = await _run(self._executor, self.queue.next_event, left)
            if ev is not None:
                yield ev
            elif until_idle:
                rest = self.queue._events_after_idle()  # no wait: nothing to hand off
                if rest is not None:
                    for ev in rest:
                        yield ev
                    return

    async def wait_idle(self, timeout: Optional[float] = None, cancel: Optional[CancelToken] = None) -> None:
        """Waits until nothing is queued, running or waiting; cancelling the
        task stops the wait (not the transfers)."""
        await _run_cancellable(self._executor, self.queue.wait_idle, timeout, cancel=cancel)

    def close(self) -> None:
        """Closes the queue: running transfers stop and go on at the next opening."""
        self.queue.close()

    async def aclose(self) -> None:
        """Closes the queue on the executor (it waits for its threads)."""
        await _run(self._executor, self.queue.close)

    @property
    def closed(self) -> bool:
        return self.queue.closed

    async def __aenter__(self) -> "AsyncTransferQueue":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
