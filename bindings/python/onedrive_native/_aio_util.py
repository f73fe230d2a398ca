"""The executor helpers of the asyncio API (:mod:`onedrive_native.aio`)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
from typing import Any, Callable, Optional, TypeVar

from .client import CancelToken

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
