"""Large uploads: upload sessions from a buffer, a file, a stream; sessions
saved, resumed and cancelled."""

from __future__ import annotations

import asyncio
import io
import random

import pytest

import onedrive_native as od

CHUNK = od.client.CHUNK_UNIT  # 320 KiB, the smallest chunk the service takes
MiB = 1024 * 1024


def content(n: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(n)


@pytest.fixture
def small_chunks(client):
    """Sessions above 1 MiB, in 320 KiB chunks: many chunks, little data."""
    client.set_upload_options(simple_limit=MiB, chunk_size=CHUNK)
    return client


def session_requests(emu):
    log = emu.requests()
    create = [r for r in log if r["origin"] == "api" and "createUploadSession" in r["path"]]
    puts = [r for r in log if r["origin"] == "monitor" and r["method"] == "PUT"]
    return create, puts


def test_a_large_buffer_goes_through_a_session_without_the_token(small_chunks, emu, folder):
    data = content(MiB + CHUNK + 1000)
    emu.clear_requests()
    seen = []
    it = small_chunks.upload(folder, "big.bin", data, progress=lambda d, t: seen.append((d, t)))
    assert it.size == len(data) and it.name == "big.bin"
    create, puts = session_requests(emu)
    assert len(create) == 1 and create[0]["authorization"]
    assert len(puts) == 5  # ceil(size / 320 KiB)
    assert not any(r["authorization"] for r in puts)  # no token to uploadUrl
    # bytes the service has, after each chunk (the last chunk's answer is
    # the item itself: the library may not report that one)
    assert all(t == len(data) for _, t in seen) and seen[-1][0] >= len(data) - CHUNK
    # the same bytes in one PUT hash the same
    small_chunks.set_upload_options(simple_limit=8 * MiB)
    assert small_chunks.upload(folder, "same.bin", data).quick_xor_hash == it.quick_xor_hash


def test_above_the_default_limit_with_default_options(client, folder):
    data = content(4 * MiB + 1)
    it = client.upload(folder, "default.bin", data)
    assert it.size == len(data)


def test_a_large_file_from_disk(small_chunks, folder, tmp_path):
    data = content(2 * MiB + 7)
    p = tmp_path / "large file.bin"
    p.write_bytes(data)
    seen = []
    it = small_chunks.upload(folder, "from-disk.bin", p, progress=lambda d, t: seen.append(d))
    assert it.size == len(data)
    assert seen == sorted(seen) and seen[-1] >= len(data) - CHUNK and len(seen) >= 6
    small_chunks.set_upload_options(simple_limit=8 * MiB)
    assert small_chunks.upload(folder, "ref.bin", data).quick_xor_hash == it.quick_xor_hash


def test_streams(small_chunks, folder, tmp_path):
    data = content(MiB + 5 * CHUNK // 2)
    it = small_chunks.upload_stream(folder, "bytesio.bin", io.BytesIO(data), len(data))
    assert it.size == len(data)

    class ReadOnly:  # only read(n), no readinto
        def __init__(self, b):
            self.f = io.BytesIO(b)

        def read(self, n):
            return self.f.read(min(n, 1000))  # short reads are fine

    assert small_chunks.upload_stream(folder, "read.bin", ReadOnly(data), len(data)).quick_xor_hash == it.quick_xor_hash
    # a binary file object given to upload(): sent from its current position
    p = tmp_path / "f.bin"
    p.write_bytes(b"HEADER" + data)
    with open(p, "rb") as f:
        f.seek(6)
        assert small_chunks.upload(folder, "file-object.bin", f).quick_xor_hash == it.quick_xor_hash
    # small streams go in one PUT
    assert small_chunks.upload(folder, "tiny.bin", io.BytesIO(b"tiny")).size == 4


def test_a_raising_stream_stops_the_upload_and_deletes_the_session(small_chunks, emu, folder):
    class Broken(io.RawIOBase):
        def __init__(self):
            self.sent = 0

        def readable(self):
            return True

        def readinto(self, b):
            if self.sent >= 2 * CHUNK:
                raise ConnectionResetError("the source went away")
            n = min(len(b), 2 * CHUNK - self.sent)
            b[:n] = bytes(n)
            self.sent += n
            return n

    emu.clear_requests()
    with pytest.raises(ConnectionResetError, match="went away"):
        small_chunks.upload_stream(folder, "broken.bin", Broken(), 2 * MiB)
    deletes = [r for r in emu.requests() if r["origin"] == "monitor" and r["method"] == "DELETE"]
    assert len(deletes) == 1
    with pytest.raises(od.NotFoundError):
        small_chunks.item(f"{folder}/broken.bin")


def test_a_stream_shorter_than_its_size_is_an_io_error(small_chunks, folder):
    with pytest.raises(od.LocalIOError):
        small_chunks.upload_stream(folder, "short.bin", io.BytesIO(content(MiB + 10)), 2 * MiB)


class FailsAfter(io.RawIOBase):
    """Serves ``data`` but fails once ``limit`` bytes were read."""

    def __init__(self, data, limit):
        self.f, self.limit, self.pos = io.BytesIO(data), limit, 0

    def readable(self):
        return True

    def readinto(self, b):
        if self.pos >= self.limit:
            raise OSError("interrupted")
        n = self.f.readinto(memoryview(b)[: self.limit - self.pos])
        self.pos += n
        return n


def test_a_session_saved_and_resumed_in_a_new_client(emu, folder, tmp_path):
    data = content(MiB + 3 * CHUNK, seed=7)
    p = tmp_path / "resume.bin"
    p.write_bytes(data)
    with od.Client(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file) as c:
        c.set_upload_options(simple_limit=MiB, chunk_size=CHUNK)
        with c.create_upload_session(folder, "resumed.bin", len(data), conflict="fail") as s:
            assert s.size == len(data)
            # the first attempt stops after two chunks: the session stays
            with pytest.raises(OSError, match="interrupted"):
                c.resume_upload(s, FailsAfter(data, 2 * CHUNK))
            saved = s.to_json()
    assert "upload" in saved
    # "after a restart": another client, the session rebuilt from its JSON
    with od.Client(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file) as c2, od.UploadSession.from_json(saved) as s2:
        c2.set_upload_options(simple_limit=MiB, chunk_size=CHUNK)
        assert s2.size == len(data)
        emu.clear_requests()
        seen = []
        it = c2.resume_upload(s2, p, progress=lambda d, t: seen.append(d))
        assert it.name == "resumed.bin" and it.size == len(data)
        _, puts = session_requests(emu)
        assert len(puts) == 5  # only what the service did not have: 7 chunks - 2
        assert seen[0] >= 2 * CHUNK


def test_resume_from_a_stream(small_chunks, folder):
    data = content(MiB + CHUNK)
    with small_chunks.create_upload_session(folder, "stream-resume.bin", len(data)) as s:
        with pytest.raises(OSError):
            small_chunks.resume_upload(s, FailsAfter(data, CHUNK))
        it = small_chunks.resume_upload(s, io.BytesIO(data))
    assert it.size == len(data)


def test_changed_content_is_a_hash_mismatch(small_chunks, folder, tmp_path):
    data = content(MiB + CHUNK, seed=3)
    with small_chunks.create_upload_session(folder, "changed.bin", len(data)) as s:
        with pytest.raises(OSError):
            small_chunks.resume_upload(s, FailsAfter(data, CHUNK))
        changed = tmp_path / "changed.bin"
        changed.write_bytes(b"X" * CHUNK + data[CHUNK:])  # the part already sent differs
        with pytest.raises(od.HashMismatchError) as e:
            small_chunks.resume_upload(s, changed)
        assert e.value.status is od.Status.HASH_MISMATCH


def test_a_cancelled_session_is_gone_and_resuming_starts_a_new_one(small_chunks, emu, folder):
    data = content(MiB + CHUNK)
    with small_chunks.create_upload_session(folder, "cancelled.bin", len(data)) as s:
        emu.clear_requests()
        small_chunks.cancel_upload_session(s)
        small_chunks.cancel_upload_session(s)  # twice is fine: gone counts as cancelled
        log = emu.requests()
        assert [r["status"] for r in log if r["method"] == "DELETE"][:1] == [204]
        # the library starts a new session when the service lost the old one
        emu.clear_requests()
        assert small_chunks.resume_upload(s, io.BytesIO(data)).size == len(data)
        create, _ = session_requests(emu)
        assert len(create) == 1


def test_bad_sessions_and_options(client, folder):
    with pytest.raises(od.InvalidArgumentError):
        od.UploadSession.from_json("{not json")
    with pytest.raises(od.InvalidArgumentError):
        client.set_upload_options(chunk_size=CHUNK + 1)
    with pytest.raises(od.OneDriveError):
        client.create_upload_session(folder, "zero.bin", 0)
    client.set_upload_options(simple_limit=MiB, chunk_size=CHUNK, hashes=od.Hash.SHA1 | od.Hash.SHA256)
    assert client.upload(folder, "hashed.bin", content(MiB + 1)).size == MiB + 1


def test_cancel_a_session_upload_from_another_thread(small_chunks, folder):
    import threading

    entered, release = threading.Event(), threading.Event()
    out = {}

    def progress(done, total):
        entered.set()
        release.wait(60)

    with od.CancelToken() as token:

        def run():
            try:
                small_chunks.upload(folder, "cancel-big.bin", content(2 * MiB), progress=progress, cancel=token)
            except BaseException as e:  # noqa: BLE001
                out["exc"] = e

        t = threading.Thread(target=run)
        t.start()
        assert entered.wait(60)
        token.cancel()
        release.set()
        t.join(60)
    assert isinstance(out.get("exc"), od.OperationCancelledError), out


def test_async_stream_upload(emu, folder):
    data = content(MiB + CHUNK)

    async def main():
        async with od.AsyncClient(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file) as c:
            c.client.set_upload_options(simple_limit=MiB, chunk_size=CHUNK)
            it = await c.upload_stream(folder, "async-big.bin", io.BytesIO(data), len(data))
            assert it.size == len(data)
            s = await c.create_upload_session(folder, "async-session.bin", len(data))
            assert (await c.resume_upload(s, io.BytesIO(data))).size == len(data)
            s.close()

    asyncio.run(asyncio.wait_for(main(), 120))
