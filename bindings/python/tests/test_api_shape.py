"""The shape of the public API (issue 24, Python): options keyword-only in
the sync and async clients alike, real signatures with type hints and
docstrings on AsyncClient, readable enums, Item's dates and web URL, and
messages that say what was cancelled or what was missing."""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import threading
from datetime import datetime, timedelta, timezone

import pytest

import onedrive_native as od
from onedrive_native.client import _datetime

KW = inspect.Parameter.KEYWORD_ONLY
POS = inspect.Parameter.POSITIONAL_OR_KEYWORD

#: the positional parameters of each request method; everything after them is keyword-only
POSITIONAL = {
    "upload": ["parent", "name", "data_or_path"],
    "upload_stream": ["parent", "name", "stream", "size"],
    "create_upload_session": ["parent", "name", "size"],
    "resume_upload": ["session", "source"],
    "cancel_upload_session": ["session"],
    "url_upload": ["parent", "name", "source_url"],
    "copy": ["source", "dest_parent"],
    "item": ["path_or_id"],
    "create_folder": ["parent", "name"],
    "delete": ["path_or_id"],
    "download": ["path_or_id", "dest"],
    "list_children": ["folder"],
    "move": ["path_or_id", "dest_parent"],
    "rename": ["path_or_id", "name"],
}
#: not coroutines in AsyncClient: they return an async iterator at once
ITERATORS = {"list_children"}


def params(fn):
    return [p for p in inspect.signature(fn).parameters.values() if p.name != "self"]


@pytest.mark.parametrize("method", sorted(POSITIONAL))
def test_options_are_keyword_only_in_both_clients(method):
    sync = params(getattr(od.Client, method))
    aio = params(getattr(od.AsyncClient, method))
    assert [p.name for p in sync if p.kind == POS] == POSITIONAL[method]
    assert all(p.kind in (POS, KW) for p in sync), "no *args / **kwargs"
    # the async method takes exactly what the sync one does, the same way
    assert [(p.name, p.kind, p.default, p.annotation) for p in aio] == [
        (p.name, p.kind, p.default, p.annotation) for p in sync
    ]
    assert inspect.iscoroutinefunction(getattr(od.AsyncClient, method)) == (method not in ITERATORS)


def test_a_positional_option_is_refused(client, folder):
    item = client.upload(folder, "k.txt", b"k")
    with pytest.raises(TypeError):
        client.copy(item.id, folder, "k2.txt")  # name= is keyword-only now
    with pytest.raises(TypeError):
        client.upload(folder, "k.txt", b"k", "replace")
    with pytest.raises(TypeError):
        client.item(item.id, "/me/drive")
    job = client.copy(item.id, folder, name="k2.txt")
    with pytest.raises(TypeError):
        job.wait(60, None)  # timeout stays positional, progress does not
    assert job.wait(60).name == "k2.txt"


def test_async_client_has_real_signatures_hints_and_docstrings():
    for cls in (od.AsyncClient, od.AsyncJob, od.AsyncListing, od.AsyncTransferQueue, od.TransferQueue):
        for name, fn in inspect.getmembers(cls, inspect.isfunction):
            if name.startswith("_") and name != "__init__":
                continue
            sig = inspect.signature(fn)
            for p in sig.parameters.values():
                assert p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL), f"{cls.__name__}.{name}({p})"
                assert p.name == "self" or p.annotation is not p.empty, f"{cls.__name__}.{name}: {p.name} untyped"
            assert sig.return_annotation is not sig.empty, f"{cls.__name__}.{name} has no return type"
            if name != "__init__":
                assert fn.__doc__, f"{cls.__name__}.{name} has no docstring"
    # the constructor takes what Client's does, plus the executor
    sync = {p.name: p for p in params(od.Client.__init__)}
    aio = {p.name: p for p in params(od.AsyncClient.__init__)}
    assert set(aio) == set(sync) | {"executor"}
    for name, p in sync.items():
        assert (aio[name].kind, aio[name].default) == (p.kind, p.default), name


def test_the_async_constructor_passes_every_setting_on(emu):
    async def main():
        async with od.AsyncClient(
            token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file, log_level="INFO",
            user_agent="shape-test/1", retry=(2, 1.0), timeouts=(5, 30), upload_rate=0,
        ) as c:
            assert c.log_level == 20  # log_level= reached the Client
            assert (await c.item("/")).is_folder  # and ca_file= (HTTPS to the emulator)
            assert "AsyncClient" in repr(c)
        with pytest.raises(TypeError):
            od.AsyncClient(token="t", no_such_option=1)  # type: ignore[call-arg]

    asyncio.run(asyncio.wait_for(main(), 120))


def test_job_state_and_conflict_print_as_their_names():
    assert str(od.JobState.COMPLETED) == "COMPLETED"
    assert f"{od.JobState.RUNNING}" == "RUNNING" and f"{od.JobState.FAILED:>8}" == "  FAILED"
    assert od.JobState.COMPLETED == int(od.JobState.COMPLETED)  # still the C number
    assert str(od.Conflict.RENAME) == "RENAME" and od.Conflict("rename") is od.Conflict.RENAME


def test_item_has_dates_and_web_url(client, folder):
    before = datetime.now(timezone.utc) - timedelta(minutes=5)
    item = client.upload(folder, "dated.txt", b"d")
    for when in (item.last_modified, item.created):
        assert isinstance(when, datetime) and when.tzinfo is not None
        assert before <= when <= datetime.now(timezone.utc) + timedelta(minutes=5)
    assert item.web_url == item.raw["webUrl"] and item.web_url.startswith("http")
    again = client.item(item.id)
    assert again.created == item.created and again.web_url == item.web_url


def test_graph_timestamps_parse():
    utc = timezone.utc
    assert _datetime("2024-05-01T12:30:45Z") == datetime(2024, 5, 1, 12, 30, 45, tzinfo=utc)
    assert _datetime("2024-05-01T12:30:45.1234567Z") == datetime(2024, 5, 1, 12, 30, 45, 123456, tzinfo=utc)
    assert _datetime("2024-05-01T12:30:45.5+02:00") == datetime(2024, 5, 1, 10, 30, 45, 500000, tzinfo=utc)
    assert _datetime("2024-05-01T12:30:45") == datetime(2024, 5, 1, 12, 30, 45, tzinfo=utc)
    assert _datetime("2024-05-01t12:30:45.1z") == datetime(2024, 5, 1, 12, 30, 45, 100000, tzinfo=utc)
    # The fast path (3.11+, "…Z") and the regex agree, offsets and all.
    for text in ("2024-05-01T12:30:45.1Z", "2024-05-01T12:30:45,25Z", "2024-12-31T23:59:59.9999999Z"):
        assert _datetime(text) == _datetime(text[:-1] + "+00:00"), text
    for bad in ("", "yesterday", "2024-02-30T00:00:00Z", "2024-05-01", None, 17, "2024-05-01T12:30:45Zjunk",
                "2024-02-30T00:00:00.5Z", "2024-05-01T12:30:45.Z", "2024-W18-3T12:30:45Z"):
        assert _datetime(bad) is None, bad


def test_not_found_and_conflict_messages_name_the_path(client, folder):
    with pytest.raises(od.NotFoundError) as e:
        client.item(folder + "/Backup/missing.txt")
    assert folder + "/Backup/missing.txt" in str(e.value), str(e.value)
    client.create_folder(folder, "taken")
    with pytest.raises(od.ConflictError) as c:
        client.create_folder(folder, "taken", conflict="fail")
    assert "taken" in str(c.value), str(c.value)


def test_operation_cancelled_says_what_was_cancelled(client, folder):
    token = od.CancelToken()
    token.cancel()
    with pytest.raises(od.OperationCancelledError) as e:
        client.upload(folder, "never.txt", b"n" * 1000, cancel=token)
    assert str(e.value).startswith(f"upload of 'never.txt' into {folder} was cancelled"), str(e.value)
    with pytest.raises(od.OperationCancelledError) as e:
        client.create_folder(folder, "never", cancel=token)
    assert f"folder 'never' in {folder}" in str(e.value)
    with pytest.raises(od.OperationCancelledError) as e:
        client.delete(folder, cancel=token)
    assert f"delete of {folder} was cancelled" in str(e.value)
    assert client.item(folder).is_folder  # nothing was deleted


def _cancel_while_running(make_call, started: threading.Event, release: threading.Event):
    """Runs ``make_call()`` as a task, cancels it once ``started`` is set (a
    callback of the call, which waits for ``release``), and returns what
    awaiting it raised. ``release`` is set once the task is done."""

    async def main():
        task = asyncio.ensure_future(make_call())
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 60)
        task.cancel()
        try:
            await task
        except BaseException as e:  # noqa: B036 - what the caller sees is the point
            return e
        finally:
            release.set()
        return None

    return asyncio.run(asyncio.wait_for(main(), 120))


def test_cancelling_an_awaited_upload_raises_cancelled_error_and_stops_it(emu, folder):
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    started, release = threading.Event(), threading.Event()

    def progress(done, total):
        started.set()
        release.wait(60)  # the transfer is held until the task was cancelled

    c = od.AsyncClient(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file, executor=pool)
    c.set_upload_options(chunk_size=od.client.CHUNK_UNIT)
    data = bytes(6 * 1024 * 1024)  # an upload session of many chunks
    raised = _cancel_while_running(lambda: c.upload(folder, "big.bin", data, progress=progress), started, release)
    assert isinstance(raised, asyncio.CancelledError), repr(raised)
    # the native upload stopped (through its CancelToken): the single worker is free again
    assert pool.submit(lambda: "free").result(timeout=60) == "free"
    with pytest.raises(od.NotFoundError):
        c.client.item(folder + "/big.bin")
    c.close()
    pool.shutdown()


def test_cancelling_an_awaited_call_without_a_token_raises_cancelled_error(emu):
    started, release = threading.Event(), threading.Event()

    def provider():  # asked after the 401 of a client with no token yet
        started.set()
        release.wait(60)
        return emu.token

    c = od.AsyncClient(base_url=emu.base_url, ca_file=emu.ca_file, token_provider=provider)
    raised = _cancel_while_running(lambda: c.item("/"), started, release)
    assert isinstance(raised, asyncio.CancelledError), repr(raised)
    c.close()
