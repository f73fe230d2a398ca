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
import concurrent.futures
import functools
import inspect
import os
from typing import Any, Callable, Optional, Tuple, TypeVar, Union

from .client import (
    GRAPH_SCOPE,
    CancelToken,
    Client,
    Conflict,
    Data,
    Item,
    Job,
    JobProgress,
    JobState,
    JobStatus,
    Progress,
    Stream,
    UploadSession,
)

_T = TypeVar("_T")


async def _run(
    executor: Optional[concurrent.futures.Executor],
    fn: Callable[..., _T],
    *args: Any,
    **kwargs: Any,
) -> _T:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor, functools.partial(fn, *args, **kwargs))


async def _run_cancellable(
    executor: Optional[concurrent.futures.Executor],
    fn: Callable[..., _T],
    *args: Any,
    cancel: Optional[CancelToken] = None,
    **kwargs: Any,
) -> _T:
    token = cancel if cancel is not None else CancelToken()
    loop = asyncio.get_running_loop()
    fut = loop.run_in_executor(executor, functools.partial(fn, *args, cancel=token, **kwargs))
    try:
        return await fut
    except asyncio.CancelledError:
        token.cancel()  # the native call returns soon; its result is dropped
        raise


class AsyncJob:
    """:class:`~onedrive_native.Job` for asyncio."""

    def __init__(self, job: Job, executor: Optional[concurrent.futures.Executor] = None) -> None:
        self.job = job
        self._executor = executor

    @classmethod
    def resume(
        cls, client: Union["AsyncClient", Client], url: str, drive: Optional[str] = None
    ) -> "AsyncJob":
        """Rebuilds a job from a saved monitor URL (no request is made)."""
        if isinstance(client, AsyncClient):
            return cls(Job.resume(client.client, url, drive), client._executor)
        return cls(Job.resume(client, url, drive))

    @property
    def monitor_url(self) -> str:
        return self.job.monitor_url

    @property
    def state(self) -> JobState:
        return self.job.state

    async def poll(self) -> JobStatus:
        return await _run(self._executor, self.job.poll)

    async def wait(
        self,
        timeout: Optional[float] = None,
        progress: Optional[JobProgress] = None,
        cancel: Optional[CancelToken] = None,
    ) -> Item:
        return await _run_cancellable(
            self._executor, self.job.wait, timeout=timeout, progress=progress, cancel=cancel
        )

    def close(self) -> None:
        self.job.close()

    async def __aenter__(self) -> "AsyncJob":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class AsyncClient:
    """:class:`~onedrive_native.Client` for asyncio: the same arguments
    (``ca_pem``, ``ca_file``, ``proxy``, ``upload_rate`` and ``log_level``
    too), plus ``executor`` (``None``: the loop's default thread pool).
    Log lines are emitted on the executor thread that made the request."""

    def __init__(
        self,
        token: Optional[str] = None,
        base_url: Optional[str] = None,
        allow_insecure_http: bool = False,
        *,
        executor: Optional[concurrent.futures.Executor] = None,
        credential: Any = None,
        scopes: Tuple[str, ...] = (GRAPH_SCOPE,),
        **kwargs: Any,
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
            kwargs["token_provider"] = self._token_from_async_credential
        elif credential is not None:
            kwargs["credential"], kwargs["scopes"] = credential, scopes
        self.client = Client(token, base_url, allow_insecure_http, **kwargs)

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
        conflict: Union[Conflict, str, int] = Conflict.DEFAULT,
        drive: Optional[str] = None,
        progress: Optional[Progress] = None,
        cancel: Optional[CancelToken] = None,
    ) -> Item:
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
        conflict: Union[Conflict, str, int] = Conflict.DEFAULT,
        drive: Optional[str] = None,
        progress: Optional[Progress] = None,
        cancel: Optional[CancelToken] = None,
    ) -> Item:
        """The stream is read on the executor's thread."""
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
        conflict: Union[Conflict, str, int] = Conflict.DEFAULT,
        drive: Optional[str] = None,
    ) -> UploadSession:
        return await _run(
            self._executor, self.client.create_upload_session, parent, name, size, conflict=conflict, drive=drive
        )

    async def resume_upload(
        self,
        session: UploadSession,
        source: Any,
        progress: Optional[Progress] = None,
        cancel: Optional[CancelToken] = None,
    ) -> Item:
        return await _run_cancellable(
            self._executor, self.client.resume_upload, session, source, progress=progress, cancel=cancel
        )

    async def cancel_upload_session(self, session: UploadSession) -> None:
        await _run(self._executor, self.client.cancel_upload_session, session)

    async def url_upload(
        self, parent: str, name: str, source_url: str, drive: Optional[str] = None
    ) -> AsyncJob:
        job = await _run(self._executor, self.client.url_upload, parent, name, source_url, drive)
        return AsyncJob(job, self._executor)

    async def copy(
        self,
        source: str,
        dest_parent: str,
        name: Optional[str] = None,
        dest_drive_id: Optional[str] = None,
        conflict: Union[Conflict, str, int] = Conflict.DEFAULT,
        legacy: bool = False,
        drive: Optional[str] = None,
    ) -> AsyncJob:
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

    async def item(self, path_or_id: str, drive: Optional[str] = None) -> Item:
        return await _run(self._executor, self.client.item, path_or_id, drive)

    async def create_folder(
        self,
        parent: str,
        name: str,
        conflict: Union[Conflict, str, int] = Conflict.DEFAULT,
        parents: bool = False,
        drive: Optional[str] = None,
    ) -> Item:
        return await _run_cancellable(
            self._executor, self.client.create_folder, parent, name, conflict, parents, drive
        )

    async def delete(self, path_or_id: str, if_match: Optional[str] = None, drive: Optional[str] = None) -> None:
        await _run_cancellable(self._executor, self.client.delete, path_or_id, if_match, drive)

    # settings: quick, no request: called directly

    def set_token(self, token: str, expires_on: Optional[float] = None) -> None:
        self.client.set_token(token, expires_on)

    def set_token_provider(self, provider: Optional[Callable[[], Any]]) -> None:
        self.client.set_token_provider(provider)

    def set_timeouts(self, connect: float, request: float) -> None:
        self.client.set_timeouts(connect, request)

    def set_retry(self, max_attempts: int, max_wait: float) -> None:
        self.client.set_retry(max_attempts, max_wait)

    def set_user_agent(self, user_agent: str) -> None:
        self.client.set_user_agent(user_agent)

    def set_upload_options(self, *args: Any, **kwargs: Any) -> None:
        self.client.set_upload_options(*args, **kwargs)

    def add_ca_pem(self, pem: Union[bytes, bytearray, memoryview, str]) -> None:
        self.client.add_ca_pem(pem)

    def add_ca_file(self, path: Union[str, "os.PathLike[str]"]) -> None:
        """Reads a small local file: called directly, like the other settings."""
        self.client.add_ca_file(path)

    def set_proxy(self, url: Optional[str]) -> None:
        self.client.set_proxy(url)

    def set_upload_rate(self, bytes_per_second: int) -> None:
        self.client.set_upload_rate(bytes_per_second)

    def set_log_level(self, level: Optional[Union[int, str]] = None) -> None:
        self.client.set_log_level(level)

    def refresh_logging(self) -> None:
        self.client.refresh_logging()

    @property
    def log_level(self) -> Optional[int]:
        return self.client.log_level

    def close(self) -> None:
        """Frees the client (deferred until calls in flight return) and its
        own executor (calls in flight finish first)."""
        self.client.close()
        if self._own_executor:
            self._executor.shutdown(wait=False)

    async def aclose(self) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self.client.closed

    async def __aenter__(self) -> "AsyncClient":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        self.close()
