"""asyncio variants: the blocking calls run in a thread executor, off the
event loop. Cancelling the awaiting task raises the call's
:class:`~onedrive_native.CancelToken`, so an upload or a wait stops promptly
instead of running on in the background.

Progress callbacks run on the executor's thread, not the loop's: use
``loop.call_soon_threadsafe`` to touch loop objects from them.

An async credential (``get_token`` a coroutine function, as
azure-identity's ``aio`` credentials have it) is driven from the library's
blocking token callback, which runs on the executor thread of the call that
needs a token: the coroutine is handed to the client's event loop with
``asyncio.run_coroutine_threadsafe`` and the thread waits for its result.
The loop is free meanwhile (it is awaiting the executor), so this cannot
deadlock; the client must be used from one loop.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import inspect
import os
from typing import TYPE_CHECKING, Any, Callable, Optional, Tuple, Union

from .client import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_SIMPLE_LIMIT,
    GRAPH_SCOPE,
    CancelToken,
    Client,
    Conflict,
    Data,
    Hash,
    Item,
    Job,
    JobProgress,
    JobState,
    JobStatus,
    Listing,
    Progress,
    Sink,
    Stream,
    UploadSession,
)

from ._aio_util import _run, _run_cancellable

if TYPE_CHECKING:
    from .transfers import AsyncTransferQueue


class AsyncJob:
    """:class:`~onedrive_native.Job` for asyncio: :meth:`poll` and
    :meth:`wait` run on the executor; closing does not stop the job."""

    def __init__(self, job: Job, executor: Optional[concurrent.futures.Executor] = None) -> None:
        self.job = job
        self._executor = executor

    @classmethod
    def resume(
        cls, client: Union["AsyncClient", Client], url: str, *, drive: Optional[str] = None
    ) -> "AsyncJob":
        """Rebuilds a job from a saved monitor URL (no request is made);
        ``drive``: the destination's drive prefix (``None``: ``/me/drive``)."""
        if isinstance(client, AsyncClient):
            return cls(Job.resume(client.client, url, drive=drive), client._executor)
        return cls(Job.resume(client, url, drive=drive))

    @property
    def monitor_url(self) -> str:
        """The opaque, pre-authorized monitor URL (a capability: store it as a secret)."""
        return self.job.monitor_url

    @property
    def state(self) -> JobState:
        """The state the job was last seen in (no request)."""
        return self.job.state

    def __repr__(self) -> str:
        return repr(self.job).replace("onedrive_native.Job", "onedrive_native.AsyncJob", 1)

    async def poll(self) -> JobStatus:
        """Looks at the job once (:meth:`Job.poll <onedrive_native.Job.poll>`)."""
        return await _run(self._executor, self.job.poll)

    async def wait(
        self,
        timeout: Optional[float] = None,
        *,
        progress: Optional[JobProgress] = None,
        cancel: Optional[CancelToken] = None,
    ) -> Item:
        """Follows the job until it ends and returns the new item
        (:meth:`Job.wait <onedrive_native.Job.wait>`). ``progress(percent, 100.0)``
        runs on the executor's thread. Cancelling the awaiting task stops the
        wait (not the job) and raises :class:`asyncio.CancelledError`."""
        return await _run_cancellable(
            self._executor, self.job.wait, timeout, progress=progress, cancel=cancel
        )

    def item(self) -> Item:
        """The item a completed job made (no request)."""
        return self.job.item()

    def close(self) -> None:
        """Frees the job's handle; the job goes on on the service."""
        self.job.close()

    async def __aenter__(self) -> "AsyncJob":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class AsyncListing:
    """:class:`~onedrive_native.Listing` for asyncio, an async iterator of
    :class:`~onedrive_native.Item`: ``async for item in
    client.list_children("/Photos")``. Items are fetched on the executor
    up to a page at a time, lazily: nothing is asked for before the first
    ``__anext__``, and leaving the loop early stops the requests.
    Cancelling the awaiting task stops a page fetch under way (the listing
    can go on afterwards: the same page is asked for again)."""

    def __init__(
        self,
        listing: Listing,
        executor: Optional[concurrent.futures.Executor],
        batch: int,
    ) -> None:
        self.listing = listing
        self._executor = executor
        self._batch = max(1, batch)
        self._items: "collections.deque[Item]" = collections.deque()

    def __aiter__(self) -> "AsyncListing":
        return self

    async def __anext__(self) -> Item:
        if not self._items:
            if self.listing.closed:
                raise StopAsyncIteration
            batch = await _run_cancellable(
                self._executor, self.listing._next_batch, self._batch, cancel=self.listing.cancel
            )
            self._items.extend(batch)
            if not self._items:
                raise StopAsyncIteration
        return self._items.popleft()

    def close(self) -> None:
        """Frees the listing (no further requests)."""
        self.listing.close()

    async def aclose(self) -> None:
        """:meth:`close`, for ``contextlib.aclosing``."""
        self.close()

    async def __aenter__(self) -> "AsyncListing":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class AsyncClient:
    """:class:`~onedrive_native.Client` for asyncio. Takes the same arguments,
    plus ``executor``: where the blocking calls run (``None``: a thread pool
    of the client's own, 16 threads, closed with the client).

    Every request method is a coroutine running the blocking call on the
    executor. Cancelling the awaiting task raises
    :class:`asyncio.CancelledError`; for transfers, waits, folder creation
    and deletes the native call is stopped too (through a
    :class:`~onedrive_native.CancelToken`), the others finish in the
    background and their result is dropped. Progress callbacks and log
    lines run on the executor's thread: use ``loop.call_soon_threadsafe``
    to touch loop objects from them."""

    def __init__(
        self,
        token: Optional[str] = None,
        base_url: Optional[str] = None,
        allow_insecure_http: bool = False,
        *,
        executor: Optional[concurrent.futures.Executor] = None,
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
        # Its own threads by default: the loop's default executor also runs
        # asyncio's DNS lookups, which long uploads would starve.
        self._own_executor = executor is None
        self._executor = executor or concurrent.futures.ThreadPoolExecutor(
            max_workers=16, thread_name_prefix="onedrive-native"
        )
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._credential, self._scopes = credential, scopes
        if credential is not None and inspect.iscoroutinefunction(getattr(credential, "get_token", None)):
            if token_provider is not None:
                raise TypeError("give a credential or a token_provider, not both")
            token_provider, credential = self._token_from_async_credential, None
        try:
            self.client = Client(
                token,
                base_url,
                allow_insecure_http,
                token_provider=token_provider,
                credential=credential,
                scopes=scopes,
                user_agent=user_agent,
                timeouts=timeouts,
                retry=retry,
                ca_pem=ca_pem,
                ca_file=ca_file,
                proxy=proxy,
                upload_rate=upload_rate,
                log_level=log_level,
            )
        except BaseException:
            if self._own_executor:
                self._executor.shutdown(wait=False)
            raise

    def __repr__(self) -> str:
        return repr(self.client).replace("onedrive_native.Client", "onedrive_native.AsyncClient", 1)

    def _token_from_async_credential(self) -> Any:
        # On the executor thread of the call that needs the token.
        loop = self._loop
        if loop is None or loop.is_closed():
            raise RuntimeError("use the AsyncClient with `async with` (or `await client.start()`)")
        fut = asyncio.run_coroutine_threadsafe(self._credential.get_token(*self._scopes), loop)
        return fut.result()

    async def start(self) -> "AsyncClient":
        """Binds the client to the running loop and, with an async credential,
        gets the first token (``async with`` does this)."""
        self._loop = asyncio.get_running_loop()
        if self._credential is not None and self._loop is not None and self.client._token_provider is not None:
            if inspect.iscoroutinefunction(getattr(self._credential, "get_token", None)):
                from .client import _token_and_expiry

                self.client.set_token(*_token_and_expiry(await self._credential.get_token(*self._scopes)))
        return self

    async def upload(
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
        """Uploads a file and returns its item: bytes-like data, the path
        of a local file or a binary file object (:meth:`Client.upload
        <onedrive_native.Client.upload>`). A file object is read on the
        executor's thread."""
        return await _run_cancellable(
            self._executor,
            self.client.upload,
            parent,
            name,
            data_or_path,
            conflict=conflict,
            drive=drive,
            progress=progress,
            cancel=cancel,
        )

    async def upload_stream(
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
        """Uploads exactly ``size`` bytes read from ``stream``
        (:meth:`Client.upload_stream <onedrive_native.Client.upload_stream>`).
        The stream is read on the executor's thread."""
        return await _run_cancellable(
            self._executor,
            self.client.upload_stream,
            parent,
            name,
            stream,
            size,
            conflict=conflict,
            drive=drive,
            progress=progress,
            cancel=cancel,
        )

    async def create_upload_session(
        self,
        parent: str,
        name: Optional[str],
        size: int,
        *,
        conflict: Union[Conflict, str, int] = Conflict.DEFAULT,
        drive: Optional[str] = None,
    ) -> UploadSession:
        """Creates an upload session for a file of ``size`` bytes; nothing is
        sent yet (:meth:`Client.create_upload_session
        <onedrive_native.Client.create_upload_session>`)."""
        return await _run(
            self._executor, self.client.create_upload_session, parent, name, size, conflict=conflict, drive=drive
        )

    async def resume_upload(
        self,
        session: UploadSession,
        source: Union[str, "os.PathLike[str]", Stream],
        *,
        progress: Optional[Progress] = None,
        cancel: Optional[CancelToken] = None,
    ) -> Item:
        """Sends a file through ``session`` from wherever the service stands
        (:meth:`Client.resume_upload <onedrive_native.Client.resume_upload>`)."""
        return await _run_cancellable(
            self._executor, self.client.resume_upload, session, source, progress=progress, cancel=cancel
        )

    async def cancel_upload_session(self, session: UploadSession) -> None:
        """Cancels the session on the service; the handle still needs closing."""
        await _run(self._executor, self.client.cancel_upload_session, session)

    async def url_upload(
        self, parent: str, name: str, source_url: str, *, drive: Optional[str] = None
    ) -> AsyncJob:
        """Asks the service to fetch ``source_url`` into ``parent/name``; returns
        the :class:`AsyncJob` (OneDrive Personal only)."""
        job = await _run(self._executor, self.client.url_upload, parent, name, source_url, drive=drive)
        return AsyncJob(job, self._executor)

    async def copy(
        self,
        source: str,
        dest_parent: str,
        *,
        name: Optional[str] = None,
        dest_drive_id: Optional[str] = None,
        conflict: Union[Conflict, str, int] = Conflict.DEFAULT,
        legacy: bool = False,
        drive: Optional[str] = None,
    ) -> AsyncJob:
        """Starts a server-side copy of ``source`` into the folder
        ``dest_parent``; returns the :class:`AsyncJob` (:meth:`Client.copy
        <onedrive_native.Client.copy>`)."""
        job = await _run(
            self._executor,
            self.client.copy,
            source,
            dest_parent,
            name=name,
            dest_drive_id=dest_drive_id,
            conflict=conflict,
            legacy=legacy,
            drive=drive,
        )
        return AsyncJob(job, self._executor)

    async def item(self, path_or_id: str, *, drive: Optional[str] = None) -> Item:
        """Reads an item's metadata: ``/path``, an id, or ``ID:/rel``."""
        return await _run(self._executor, self.client.item, path_or_id, drive=drive)

    async def create_folder(
        self,
        parent: str,
        name: str,
        *,
        conflict: Union[Conflict, str, int] = Conflict.DEFAULT,
        parents: bool = False,
        drive: Optional[str] = None,
        cancel: Optional[CancelToken] = None,
    ) -> Item:
        """Creates the folder ``name`` in ``parent``; ``parents=True`` works
        as ``mkdir -p`` (:meth:`Client.create_folder
        <onedrive_native.Client.create_folder>`)."""
        return await _run_cancellable(
            self._executor,
            self.client.create_folder,
            parent,
            name,
            conflict=conflict,
            parents=parents,
            drive=drive,
            cancel=cancel,
        )

    async def delete(
        self,
        path_or_id: str,
        *,
        if_match: Optional[str] = None,
        drive: Optional[str] = None,
        cancel: Optional[CancelToken] = None,
    ) -> None:
        """Deletes an item (a folder with all it holds); with ``if_match``
        (an etag) only if unchanged (:meth:`Client.delete
        <onedrive_native.Client.delete>`)."""
        await _run_cancellable(
            self._executor, self.client.delete, path_or_id, if_match=if_match, drive=drive, cancel=cancel
        )

    async def download(
        self,
        path_or_id: str,
        dest: Sink,
        *,
        drive: Optional[str] = None,
        progress: Optional[Progress] = None,
        cancel: Optional[CancelToken] = None,
    ) -> Item:
        """Downloads a file to a local path, a binary file object or a
        callable taking ``bytes`` (:meth:`Client.download
        <onedrive_native.Client.download>`); the file object or callable is
        called on the executor's thread."""
        return await _run_cancellable(
            self._executor, self.client.download, path_or_id, dest, drive=drive, progress=progress, cancel=cancel
        )

    def list_children(
        self,
        folder: str,
        *,
        drive: Optional[str] = None,
        page_size: int = 0,
        cancel: Optional[CancelToken] = None,
    ) -> AsyncListing:
        """The children of ``folder`` as an async iterator, a page fetched at
        a time as it is consumed (:meth:`Client.list_children
        <onedrive_native.Client.list_children>`); no request is made here::

            async for item in client.list_children("/Photos"):
                print(item.name)
        """
        listing = self.client.list_children(folder, drive=drive, page_size=page_size, cancel=cancel)
        return AsyncListing(listing, self._executor, page_size or 200)

    async def move(
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
        """Moves and/or renames an item (:meth:`Client.move <onedrive_native.Client.move>`)."""
        return await _run_cancellable(
            self._executor,
            self.client.move,
            path_or_id,
            dest_parent,
            name=name,
            conflict=conflict,
            if_match=if_match,
            dest_drive_id=dest_drive_id,
            drive=drive,
            cancel=cancel,
        )

    async def rename(
        self,
        path_or_id: str,
        name: str,
        *,
        conflict: Union[Conflict, str, int] = Conflict.DEFAULT,
        if_match: Optional[str] = None,
        drive: Optional[str] = None,
        cancel: Optional[CancelToken] = None,
    ) -> Item:
        """Renames an item in its folder (:meth:`Client.rename <onedrive_native.Client.rename>`)."""
        return await _run_cancellable(
            self._executor,
            self.client.rename,
            path_or_id,
            name,
            conflict=conflict,
            if_match=if_match,
            drive=drive,
            cancel=cancel,
        )

    def open_queue(
        self,
        directory: Union[str, "os.PathLike[str]"],
        *,
        max_running: int = 4,
        online: bool = True,
        events: bool = True,
    ) -> "AsyncTransferQueue":
        """Opens the durable transfer queue kept in ``directory``
        (:class:`~onedrive_native.TransferQueue`; reads the directory on the
        calling thread): ``async with client.open_queue(path) as queue:``."""
        from .transfers import AsyncTransferQueue, TransferQueue

        queue = TransferQueue(self.client, directory, max_running=max_running, online=online, events=events)
        return AsyncTransferQueue(queue, self._executor)

    # settings: quick, no request: called directly

    def set_token(self, token: str, expires_on: Optional[float] = None) -> None:
        """Replaces the bearer token (:meth:`Client.set_token <onedrive_native.Client.set_token>`)."""
        self.client.set_token(token, expires_on)

    def set_token_provider(self, provider: Optional[Callable[[], Any]]) -> None:
        """Installs (``None``: removes) a blocking token provider, called on
        the executor thread of the call that needs a token."""
        self.client.set_token_provider(provider)

    def set_timeouts(self, connect: float, request: float) -> None:
        """Connect and request (stall) timeouts, in seconds."""
        self.client.set_timeouts(connect, request)

    def set_retry(self, max_attempts: int, max_wait: float) -> None:
        """At most ``max_attempts`` attempts per request, ``max_wait`` seconds between them."""
        self.client.set_retry(max_attempts, max_wait)

    def set_user_agent(self, user_agent: str) -> None:
        """The User-Agent of every request from now on."""
        self.client.set_user_agent(user_agent)

    def set_upload_options(
        self,
        simple_limit: int = DEFAULT_SIMPLE_LIMIT,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        hashes: Union[Hash, int] = Hash.NONE,
    ) -> None:
        """How files are uploaded (:meth:`Client.set_upload_options
        <onedrive_native.Client.set_upload_options>`)."""
        self.client.set_upload_options(simple_limit, chunk_size, hashes)

    def add_ca_pem(self, pem: Union[bytes, bytearray, memoryview, str]) -> None:
        """Trusts the CA certificates of a PEM bundle besides the system's."""
        self.client.add_ca_pem(pem)

    def add_ca_file(self, path: Union[str, "os.PathLike[str]"]) -> None:
        """Reads a small local file: called directly, like the other settings."""
        self.client.add_ca_file(path)

    def set_proxy(self, url: Optional[str]) -> None:
        """Sends every request through a proxy (``None``: the environment's)."""
        self.client.set_proxy(url)

    def set_upload_rate(self, bytes_per_second: int) -> None:
        """Caps all uploads together at ``bytes_per_second`` (0: no cap)."""
        self.client.set_upload_rate(bytes_per_second)

    def set_download_rate(self, bytes_per_second: int) -> None:
        """Caps all downloads together at ``bytes_per_second`` (0: no cap)."""
        self.client.set_download_rate(bytes_per_second)

    def set_log_level(self, level: Optional[Union[int, str]] = None) -> None:
        """Which of the library's lines go to the ``onedrive_native`` logger
        (``None``: follow the logger's effective level)."""
        self.client.set_log_level(level)

    def refresh_logging(self) -> None:
        """The same as ``set_log_level(None)``."""
        self.client.refresh_logging()

    @property
    def log_level(self) -> Optional[int]:
        """The most verbose logging level the library sends lines of (``None``: none)."""
        return self.client.log_level

    def close(self) -> None:
        """Frees the client (deferred until calls in flight return) and its
        own executor (calls in flight finish first)."""
        self.client.close()
        if self._own_executor:
            self._executor.shutdown(wait=False)

    async def aclose(self) -> None:
        """:meth:`close`, for ``contextlib.aclosing`` and the like."""
        self.close()

    @property
    def closed(self) -> bool:
        return self.client.closed

    async def __aenter__(self) -> "AsyncClient":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        self.close()
