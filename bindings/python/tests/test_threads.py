"""Blocking calls release the GIL; one client serves many threads."""

from __future__ import annotations

import threading
import time

import pytest

import onedrive_native as od
from onedrive_native import _ffi
from conftest import eventually


def test_two_threads_transfers_overlap_in_time(client, paused_jobs, folder):
    """Each thread waits on a (paused, so slow) copy job. Each records when it
    was first seen inside the native wait (its progress callback runs inside
    od_wait_job) and when the wait returned. The jobs are only let go once
    both threads are inside: had the first wait kept the GIL, the second
    thread could not have entered, and the main thread could not run at all.
    """
    src = client.upload(folder, "g.bin", b"g" * 10_000)
    jobs = [client.copy(src.id, folder, name=f"g{i}.bin") for i in range(2)]
    inside = [threading.Event(), threading.Event()]
    spans = [[None, None], [None, None]]
    errors = []

    def run(i):
        def progress(done, total):
            if spans[i][0] is None:
                spans[i][0] = time.monotonic()
                inside[i].set()

        try:
            jobs[i].wait(timeout=120, progress=progress)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)
        spans[i][1] = time.monotonic()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    # the main thread runs Python while both threads are blocked in C
    eventually(lambda: all(e.is_set() for e in inside), 60, "both waits to be inside the library")
    assert all(s[1] is None for s in spans), "a wait returned before the jobs were let go"
    paused_jobs.set_job_config(paused=False)
    for t in threads:
        t.join(120)
    assert not errors, errors
    (a0, a1), (b0, b1) = spans
    assert max(a0, b0) < min(a1, b1), f"the two transfers did not overlap: {spans}"


def test_eight_threads_share_one_client(client, folder):
    results = {}

    def work(i):
        data = bytes([i]) * (50_000 + i)
        it = client.upload(folder, f"t{i}.bin", data)
        copy = client.copy(it.id, folder, name=f"t{i}-copy.bin").wait(timeout=120)
        results[i] = (it.size, copy.size, client.item(copy.id).name)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert results == {i: (50_000 + i, 50_000 + i, f"t{i}-copy.bin") for i in range(8)}


def test_closing_a_client_while_another_thread_waits_defers_the_free(emu, paused_jobs, monkeypatch):
    frees = []
    real = _ffi.lib.od_client_free
    monkeypatch.setattr(_ffi.lib, "od_client_free", lambda p: (frees.append(1), real(p)))
    c = od.Client(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file)
    src = c.upload("/", "defer.bin", b"d", conflict="replace")
    job = c.copy(src.id, "/", name="defer2.bin", conflict="replace")
    inside = threading.Event()
    out = {}

    def waiter():
        out["item"] = job.wait(timeout=120, progress=lambda d, t: inside.set())

    t = threading.Thread(target=waiter)
    t.start()
    eventually(inside.is_set, 60, "the wait to start")
    c.close()  # returns at once; the client is still in use by the wait
    assert c.closed and frees == []
    with pytest.raises(ValueError):
        c.item("/")
    paused_jobs.set_job_config(paused=False)
    t.join(120)
    assert out["item"].name == "defer2.bin"
    assert frees == [1]  # freed by the wait that was last to use it, once
    c.close()
    del c, job
    import gc

    gc.collect()
    assert frees == [1]
