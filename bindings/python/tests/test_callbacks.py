"""Progress callbacks (also ones that raise), cancellation, token callbacks."""

from __future__ import annotations

import threading
import time

import pytest

import onedrive_native as od
from conftest import eventually


class Boom(Exception):
    pass


def test_upload_progress_reaches_the_total(client, folder):
    data = bytes(1_000_000)
    seen = []
    it = client.upload(folder, "p.bin", data, progress=lambda d, t: seen.append((d, t)))
    assert it.size == len(data)
    assert seen and all(t == len(data) for _, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert seen[-1][0] == len(data)


def test_job_progress_is_a_percent_of_100(client, folder):
    src = client.upload(folder, "j.bin", b"j" * 100_000)
    seen = []
    client.copy(src.id, folder, name="j2.bin").wait(timeout=60, progress=lambda d, t: seen.append((d, t)))
    assert seen and all(t == 100.0 and 0.0 <= d <= 100.0 for d, t in seen), seen
    assert all(isinstance(d, float) and isinstance(t, float) for d, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert seen[-1][0] == 100.0  # the completed job's last look


def test_a_raising_upload_callback_raises_that_exception_and_ends_cleanly(client, folder):
    err = Boom("stop here")

    def cb(done, total):
        raise err

    with pytest.raises(Boom) as e:
        client.upload(folder, "r.bin", bytes(500_000), progress=cb)
    assert e.value is err  # the very exception, not a copy or a wrapper
    # the call ended cleanly: the client goes on working
    assert client.upload(folder, "r.bin", b"ok").size == 2


def test_a_callback_returning_false_aborts(client, folder):
    with pytest.raises(od.AbortedByCallbackError) as e:
        client.upload(folder, "f.bin", bytes(100_000), progress=lambda d, t: False)
    assert e.value.status is od.Status.ABORTED_BY_CALLBACK
    # None / True / anything else goes on
    assert client.upload(folder, "f.bin", b"x", progress=lambda d, t: None).size == 1


def test_a_raising_wait_callback_stops_the_wait_not_the_job(client, paused_jobs, folder):
    src = client.upload(folder, "w.bin", b"w" * 1000)
    job = client.copy(src.id, folder, name="w2.bin")
    with pytest.raises(Boom):
        job.wait(timeout=60, progress=lambda d, t: (_ for _ in ()).throw(Boom()))
    paused_jobs.set_job_config(paused=False)
    assert job.wait(timeout=60).name == "w2.bin"


def test_keyboard_interrupt_in_a_callback_propagates(client, folder):
    def cb(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        client.upload(folder, "k.bin", bytes(10_000), progress=cb)
    assert client.item("/").is_folder


def test_cancel_a_wait_from_another_thread(client, paused_jobs, folder):
    src = client.upload(folder, "c.bin", b"c" * 1000)
    job = client.copy(src.id, folder, name="c2.bin")
    entered = threading.Event()
    result = {}
    with od.CancelToken() as token:

        def waiter():
            try:
                job.wait(timeout=120, progress=lambda d, t: entered.set(), cancel=token)
            except BaseException as e:  # noqa: BLE001 - recorded for the assertion
                result["exc"] = e

        t = threading.Thread(target=waiter)
        t.start()
        eventually(entered.is_set, 60, "the wait to start")
        assert not token.cancelled
        token.cancel()
        assert token.cancelled
        t.join(60)
        assert not t.is_alive()
    assert isinstance(result.get("exc"), od.OperationCancelledError), result
    assert not job.poll().done  # the job itself goes on


def test_cancel_an_upload_from_another_thread(client, folder):
    entered = threading.Event()
    cancelled = threading.Event()
    result = {}

    def progress(done, total):
        entered.set()
        cancelled.wait(60)  # hold the transfer until the other thread has cancelled

    with od.CancelToken() as token:

        def uploader():
            try:
                result["item"] = client.upload(folder, "u.bin", bytes(2_000_000), progress=progress, cancel=token)
            except BaseException as e:  # noqa: BLE001
                result["exc"] = e

        t = threading.Thread(target=uploader)
        t.start()
        eventually(entered.is_set, 60, "the upload to start")
        token.cancel()
        cancelled.set()
        t.join(60)
        assert not t.is_alive()
    assert isinstance(result.get("exc"), od.OperationCancelledError), result


def test_a_raised_token_cancels_at_once_and_reset_reuses_it(client, folder):
    token = od.CancelToken()
    token.cancel()
    with pytest.raises(od.OperationCancelledError):
        client.upload(folder, "pre.bin", b"x", cancel=token)
    token.reset()
    assert not token.cancelled
    assert client.upload(folder, "pre.bin", b"x", cancel=token).size == 1
    assert "lowered" in repr(token)
    token.close()
    with pytest.raises(ValueError):
        token.cancel()


def test_a_wait_times_out(client, paused_jobs, folder):
    src = client.upload(folder, "t.bin", b"t")
    job = client.copy(src.id, folder, name="t2.bin")
    with pytest.raises(od.OneDriveTimeoutError) as e:
        job.wait(timeout=0.3)
    assert isinstance(e.value, TimeoutError)


def test_a_token_provider_is_asked_after_a_401(emu):
    calls = []

    def provider():
        calls.append(threading.get_ident())
        return emu.token

    with od.Client(token="expired", base_url=emu.base_url, ca_file=emu.ca_file, token_provider=provider) as c:
        assert c.item("/").is_folder
        assert calls == [threading.get_ident()]  # on the calling thread
        c.item("/")
        assert len(calls) == 1  # the fresh token stays


def test_a_token_provider_may_decline_or_raise(emu):
    with od.Client(token="expired", base_url=emu.base_url, ca_file=emu.ca_file, token_provider=lambda: None) as c:
        with pytest.raises(od.UnauthorizedError):
            c.item("/")

    def broken():
        raise Boom("vault unreachable")

    with od.Client(token="expired", base_url=emu.base_url, ca_file=emu.ca_file, token_provider=broken) as c:
        with pytest.raises(Boom):
            c.item("/")
        c.set_token_provider(None)
        c.set_token(emu.token)
        assert c.item("/").is_folder


def _access_token_type():
    """azure-core's AccessToken when installed; a stand-in of the same shape otherwise."""
    try:
        from azure.core.credentials import AccessToken  # type: ignore[import-not-found]

        return AccessToken
    except ImportError:
        import collections

        return collections.namedtuple("AccessToken", ["token", "expires_on"])


class FakeCredential:
    """Shaped like an azure-identity credential: get_token(*scopes) -> AccessToken."""

    def __init__(self, token, lifetimes):
        self.token, self.lifetimes, self.calls = token, list(lifetimes), []

    def get_token(self, *scopes):
        self.calls.append(scopes)
        life = self.lifetimes.pop(0) if self.lifetimes else 3600
        return _access_token_type()(self.token, int(time.time()) + life)


def test_a_credential_is_asked_before_expiry_and_after_a_401(emu, folder):
    # the first token lives a minute (inside the 5-minute margin): the
    # first request refreshes it; the second one (an hour) is kept
    cred = FakeCredential(emu.token, [60, 3600])
    with od.Client(base_url=emu.base_url, ca_file=emu.ca_file, credential=cred) as c:
        assert len(cred.calls) == 1 and cred.calls[0] == (od.GRAPH_SCOPE,)
        c.upload(folder, "cred.txt", b"x")
        assert len(cred.calls) == 2
        for _ in range(3):
            c.item(f"{folder}/cred.txt")
        assert len(cred.calls) == 2
        c.set_token("expired")  # a 401: asked once more
        c.item(f"{folder}/cred.txt")
        assert len(cred.calls) == 3
    with od.Client(base_url=emu.base_url, ca_file=emu.ca_file, credential=cred, scopes=("a", "b")) as c:
        assert cred.calls[-1] == ("a", "b")


def test_an_async_credential_drives_the_async_client(emu, folder):
    import asyncio

    class AsyncCredential(FakeCredential):
        async def get_token(self, *scopes):
            await asyncio.sleep(0)
            return FakeCredential.get_token(self, *scopes)

    cred = AsyncCredential(emu.token, [60, 3600])

    async def main():
        async with od.AsyncClient(base_url=emu.base_url, ca_file=emu.ca_file, credential=cred) as c:
            await c.upload(folder, "acred.txt", b"x")
            return await c.item(f"{folder}/acred.txt")

    assert asyncio.run(main()).name == "acred.txt"
    assert len(cred.calls) == 2  # the first token, then one refresh before it expired


def test_the_async_client_has_its_own_executor_and_the_setters(emu):
    import asyncio

    async def main():
        async with od.AsyncClient(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file) as c:
            assert c._executor is not None
            c.set_timeouts(10, 30)
            c.set_retry(3, 5)
            c.set_user_agent("async-test/1")
            c.set_token(emu.token)
            return await c.item("/")

    assert asyncio.run(main()).is_folder
