"""Every native handle is freed exactly once, however it ends."""

from __future__ import annotations

import gc
import os

import pytest

import onedrive_native as od
from onedrive_native import _ffi


@pytest.fixture
def frees(monkeypatch):
    """Counts the native _free calls per function (the real ones still run)."""
    counts = {}
    for name in ["od_client_free", "od_job_free", "od_cancel_free", "od_item_free"]:
        real = getattr(_ffi.lib, name)

        def counting(p, _real=real, _name=name):
            counts[_name] = counts.get(_name, 0) + 1
            return _real(p)

        monkeypatch.setattr(_ffi.lib, name, counting)
    return counts


def test_close_then_collect_frees_once(emu, frees):
    c = od.Client(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file)
    c.close()
    c.close()  # a second close does nothing
    assert frees == {"od_client_free": 1}
    del c
    gc.collect()
    assert frees == {"od_client_free": 1}


def test_context_managers_free_once(emu, frees):
    with od.Client(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file) as c:
        it = c.upload("/", "h.txt", b"h", conflict="replace")
        with c.copy(it.id, "/", name="h2.txt", conflict="replace") as job:
            job.wait(timeout=60)
        with od.CancelToken() as token:
            token.cancel()
    assert c.closed and job.closed and token.closed
    del c, job, token
    gc.collect()
    assert frees["od_client_free"] == 1
    assert frees["od_job_free"] == 1
    assert frees["od_cancel_free"] == 1
    # items are copied into Python and their handles freed at once
    assert frees["od_item_free"] == 2


def test_the_collector_frees_what_was_never_closed(emu, frees):
    c = od.Client(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file)
    job = od.Job.resume(c, emu.monitor_origin + "/monitor/x")
    t = od.CancelToken()
    del job, t
    gc.collect()
    assert frees == {"od_job_free": 1, "od_cancel_free": 1}
    # a cycle through the client does not stop it being freed
    c.self_ref = c
    del c
    gc.collect()
    assert frees["od_client_free"] == 1


def test_a_job_outlives_its_closed_client_but_cannot_poll(emu):
    c = od.Client(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file)
    job = od.Job.resume(c, emu.monitor_origin + "/monitor/x")
    c.close()
    assert job.monitor_url.endswith("/monitor/x")  # the job owns its own data
    with pytest.raises(ValueError, match="client is closed"):
        job.poll()
    job.close()
    with pytest.raises(ValueError, match="job is closed"):
        _ = job.state


def test_using_a_closed_client_raises(emu):
    c = od.Client(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file)
    c.close()
    for call in (lambda: c.item("/"), lambda: c.upload("/", "x", b"x"), lambda: c.copy("/a", "/"), lambda: c.set_token("t")):
        with pytest.raises(ValueError, match="closed"):
            call()
    assert "closed" in repr(c)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
def test_many_clients_do_not_grow_memory(emu):
    def churn(n):
        for i in range(n):
            c = od.Client(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file)
            t = od.CancelToken()
            j = od.Job.resume(c, emu.monitor_origin + "/monitor/x")
            if i % 2:
                c.close(), t.close(), j.close()
            del c, t, j  # the others are left to the collector
        gc.collect()

    churn(300)  # warm-up: allocator pools, ctypes caches
    before = _rss_bytes()
    churn(20000)
    growth = _rss_bytes() - before
    # Leaking the three handles (about 2 KB) per round would be some 40 MB
    # here; the bound is generous against allocator noise.
    assert growth < 8 * 1024 * 1024, f"RSS grew by {growth / 1e6:.1f} MB over 20000 rounds"


def test_many_requests_do_not_grow_memory(client, folder):
    def churn(n):
        for i in range(n):
            client.item(folder)
            try:
                client.item(folder + "/missing")
            except od.NotFoundError:
                pass
        gc.collect()

    churn(100)
    before = _rss_bytes()
    churn(3000)
    growth = _rss_bytes() - before
    assert growth < 4 * 1024 * 1024, f"RSS grew by {growth / 1e6:.1f} MB over 3000 rounds"
