"""The durable transfer queue (issue 23) from Python, against the emulator:
a class with close() and a context manager, enqueue / pause / resume /
cancel / list / totals, events as an iterator and an async iterator (by
polling: no Python runs on the queue's threads)."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest
from test_tqdm_recipe import StandInTqdm, tqdm_class  # noqa: F401  (the fixture)

import onedrive_native as od


def files(tmp_path, n, size=10_000):
    paths = []
    for i in range(n):
        p = tmp_path / f"f{i}.bin"
        p.write_bytes(os.urandom(size))
        paths.append(p)
    return paths


def test_a_batch_of_uploads_with_events_until_idle(client, folder, tmp_path):
    paths = files(tmp_path, 5)
    with client.open_queue(tmp_path / "q", max_running=2) as q:
        assert isinstance(q, od.TransferQueue)
        ids = [q.enqueue_upload(p, folder) for p in paths]
        assert ids == sorted(ids) and len(set(ids)) == 5
        events = list(q.events())
        assert q.totals() == od.QueueTotals(5, 5, 0, 0, 5 * 10_000, 5 * 10_000)
        transfers = q.list()
    assert q.closed
    assert [t.id for t in transfers] == ids
    for t, p in zip(transfers, paths):
        assert t.state is od.TransferState.COMPLETED and t.kind is od.TransferKind.UPLOAD
        assert t.name == p.name and t.done == t.total == 10_000 and t.percent == 100.0
        assert t.item is not None and t.item.size == 10_000 and t.error is None
        assert client.item(f"{folder}/{p.name}").id == t.item.id
    finals = [e for e in events if e.kind is od.EventKind.STATE and e.state is od.TransferState.COMPLETED]
    assert sorted(e.id for e in finals) == ids  # every transfer's end was given before the iterator ended
    assert all(e.state is None for e in events if e.kind is od.EventKind.PROGRESS)
    assert str(od.TransferState.COMPLETED) == "COMPLETED"


def test_pause_resume_cancel_remove_and_errors(client, folder, tmp_path):
    (p,) = files(tmp_path, 1)
    with client.open_queue(tmp_path / "q", online=False) as q:  # nothing runs yet
        a = q.enqueue_upload(p, folder, "a.bin")
        b = q.enqueue_upload(p, folder, "b.bin")
        c = q.enqueue_copy("/no/such/source", folder, name="c.bin")
        q.pause(a)
        assert q.get(a).state is od.TransferState.PAUSED
        q.cancel(b)
        assert q.get(b).state is od.TransferState.CANCELLED
        with pytest.raises(od.InvalidStateError):
            q.pause(b)  # finished
        with pytest.raises(od.NotFoundError):
            q.get(10_000)
        waiting = q.get(c)
        assert waiting.state is od.TransferState.WAITING and waiting.wait_reason is od.WaitReason.OFFLINE
        q.set_online(True)
        q.wait_idle(timeout=60)  # a paused transfer does not hold it
        failed = q.get(c)
        assert failed.state is od.TransferState.FAILED and isinstance(failed.error, od.NotFoundError)
        assert failed.kind is od.TransferKind.COPY
        assert [t.id for t in q.list([od.TransferState.PAUSED])] == [a]
        q.resume(a)
        q.wait_idle(timeout=60)
        assert q.get(a).state is od.TransferState.COMPLETED
        assert q.remove_finished() == 3 and q.list() == []
        with pytest.raises(od.InvalidArgumentError):
            q.set_max_running(0)
    with pytest.raises(ValueError):
        q.pause(a)  # closed


def test_a_queue_survives_closing_and_one_directory_has_one_queue(client, folder, tmp_path):
    (p,) = files(tmp_path, 1)
    q = client.open_queue(tmp_path / "q", online=False)
    tid = q.enqueue_upload(p, folder, "later.bin")
    with pytest.raises(od.InvalidStateError):
        client.open_queue(tmp_path / "q")
    q.close()
    q.close()  # twice is fine
    with client.open_queue(tmp_path / "q") as again:
        again.wait_idle(timeout=60)
        assert again.get(tid).state is od.TransferState.COMPLETED
    assert client.item(folder + "/later.bin").size == 10_000


def test_events_iterator_with_a_timeout_and_a_copy_in_hundredths(client, folder, tmp_path):
    item = client.upload(folder, "src.bin", b"s" * 1000)
    with client.open_queue(tmp_path / "q") as q:
        assert list(q.events(until_idle=False, timeout=0.3)) == []
        tid = q.enqueue_copy(item.id, folder, name="copied.bin")
        events = list(q.events())
        t = q.get(tid)
    assert t.state is od.TransferState.COMPLETED and t.item.name == "copied.bin"
    assert any(e.id == tid and e.state is od.TransferState.COMPLETED for e in events)
    assert all(e.total in (0, 10_000) for e in events if e.kind is od.EventKind.PROGRESS)


def test_wait_idle_can_be_cancelled_and_timed_out(client, folder, tmp_path):
    (p,) = files(tmp_path, 1)
    with client.open_queue(tmp_path / "q", online=False) as q:
        q.enqueue_upload(p, folder)
        with pytest.raises(od.OneDriveTimeoutError):
            q.wait_idle(timeout=0.3)
        token = od.CancelToken()
        threading.Timer(0.2, token.cancel).start()
        with pytest.raises(od.OperationCancelledError) as e:
            q.wait_idle(cancel=token)
        assert "wait for the queue to be idle was cancelled" in str(e.value)
        q.cancel_all()
        q.wait_idle(timeout=60)


def test_async_queue(emu, folder, tmp_path):
    paths = files(tmp_path, 3)

    async def main():
        async with od.AsyncClient(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file) as c:
            async with c.open_queue(tmp_path / "q") as q:
                assert isinstance(q, od.AsyncTransferQueue)
                ids = [await q.enqueue_upload(p, folder) for p in paths]
                events = [e async for e in q.events()]
                await q.wait_idle(timeout=60)
                return ids, events, q.totals(), q

    ids, events, totals, q = asyncio.run(asyncio.wait_for(main(), 120))
    assert q.closed and totals.completed == 3 and totals.bytes_done == 30_000
    done = {e.id for e in events if e.state is od.TransferState.COMPLETED}
    assert done == set(ids)


def test_async_events_cancelled_ends_at_once(emu, folder, tmp_path):
    (p,) = files(tmp_path, 1)

    async def main():
        async with od.AsyncClient(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file) as c:
            async with c.open_queue(tmp_path / "q", online=False) as q:
                await q.enqueue_upload(p, folder)  # waits offline: no event ends the loop

                async def follow():
                    return [e async for e in q.events()]

                task = asyncio.ensure_future(follow())
                await asyncio.sleep(0)  # let it start waiting
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                await q.cancel_all()

    asyncio.run(asyncio.wait_for(main(), 120))


def test_the_readme_batch_recipe_runs_as_written(tqdm_class, emu, client, tmp_path, monkeypatch):
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## The transfer queue"):]
    code = re.search(r"```python\n(.*?)^```", section, re.S | re.M).group(1)
    assert code.count("Client(token=TOKEN)") == 1
    code = code.replace("Client(token=TOKEN)", "Client(token=TOKEN, base_url=BASE_URL, ca_file=CA_FILE)")
    (tmp_path / "photos").mkdir()
    sizes = [150_000, 5_000, 0, 70_000]
    for i, n in enumerate(sizes):
        (tmp_path / "photos" / f"p{i}.jpg").write_bytes(os.urandom(n))
    monkeypatch.chdir(tmp_path)
    ns = {"__name__": "readme_batch_recipe", "TOKEN": emu.token, "BASE_URL": emu.base_url, "CA_FILE": emu.ca_file}
    exec(compile(code, "README.md (The transfer queue)", "exec"), ns)
    (bar,) = tqdm_class.bars
    assert bar.total == sum(sizes) and bar.n == sum(sizes)
    for i, n in enumerate(sizes):
        assert client.item(f"/Photos/p{i}.jpg").size == n
    assert (tmp_path / "upload-queue").is_dir()


def test_a_token_provider_is_asked_from_the_queue_s_threads(emu, folder, tmp_path):
    (p,) = files(tmp_path, 1)
    calls = []

    def provider():  # the client has no token yet: the queue's first request gets a 401
        calls.append(threading.get_ident())
        return emu.token

    c = od.Client(base_url=emu.base_url, ca_file=emu.ca_file, token_provider=provider)
    q = c.open_queue(tmp_path / "q")
    del c  # the queue keeps the Python client (and its callback) alive
    tid = q.enqueue_upload(p, folder, "tok.bin")
    q.wait_idle(timeout=60)
    assert q.get(tid).state is od.TransferState.COMPLETED
    q.close()
    q.client.close()
    assert calls and threading.get_ident() not in calls
