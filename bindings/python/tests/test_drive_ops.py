"""Download (to a path, a file object, a callable), listing (an iterator and
an async iterator fetching pages lazily), move and rename: issue 22, against
the emulator."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import threading

import pytest

import onedrive_native as od


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 120))


def aclient(emu):
    return od.AsyncClient(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file)


# ---- download --------------------------------------------------------------------


def test_download_to_a_path_a_file_object_and_a_callable(client, folder, tmp_path):
    data = os.urandom(300_000)
    up = client.upload(folder, "d.bin", data)
    seen = []
    item = client.download(folder + "/d.bin", tmp_path / "d.bin", progress=lambda d, t: seen.append((d, t)))
    assert (tmp_path / "d.bin").read_bytes() == data
    assert item.id == up.id and item.size == len(data)
    assert seen and seen[-1] == (len(data), len(data))
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".odpart")]

    buf = io.BytesIO()
    assert client.download(up.id, buf).name == "d.bin"
    assert buf.getvalue() == data

    pieces = []
    client.download(up.id, pieces.append)
    assert b"".join(pieces) == data and all(isinstance(p, bytes) for p in pieces)


def test_download_of_an_empty_file_and_a_file_with_short_writes(client, folder):
    client.upload(folder, "empty.bin", b"")
    buf = io.BytesIO()
    assert client.download(folder + "/empty.bin", buf).size == 0 and buf.getvalue() == b""

    class Short(io.RawIOBase):  # takes at most 1000 bytes per write, as a raw file may
        def __init__(self):
            self.data = bytearray()

        def writable(self):
            return True

        def write(self, b):
            n = min(len(b), 1000)
            self.data += bytes(b[:n])
            return n

    data = os.urandom(70_000)
    client.upload(folder, "s.bin", data)
    sink = Short()
    client.download(folder + "/s.bin", sink)
    assert bytes(sink.data) == data


def test_download_errors(client, folder, tmp_path):
    with pytest.raises(od.NotFoundError) as e:
        client.download(folder + "/missing.bin", tmp_path / "m.bin")
    assert "missing.bin" in str(e.value)
    assert not (tmp_path / "m.bin").exists()
    with pytest.raises(od.InvalidArgumentError):
        client.download(folder, tmp_path / "folder.bin")  # a folder
    with pytest.raises(TypeError):
        client.download(folder + "/x", 42)  # type: ignore[arg-type]


def test_a_sink_that_raises_stops_the_download_with_its_exception(client, folder, tmp_path):
    client.upload(folder, "r.bin", os.urandom(200_000))

    def sink(b):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        client.download(folder + "/r.bin", sink)
    with pytest.raises(od.AbortedByCallbackError):
        client.download(folder + "/r.bin", tmp_path / "r.bin", progress=lambda d, t: False)
    assert not (tmp_path / "r.bin").exists()


def test_a_cancelled_download_says_so_and_resumes_into_place(client, folder, tmp_path):
    data = os.urandom(1_000_000)
    client.upload(folder, "c.bin", data)
    token = od.CancelToken()

    def progress(done, total):
        if done >= 100_000:
            token.cancel()

    with pytest.raises(od.OperationCancelledError) as e:
        client.download(folder + "/c.bin", tmp_path / "c.bin", progress=progress, cancel=token)
    assert f"download of {folder}/c.bin was cancelled" in str(e.value)
    assert not (tmp_path / "c.bin").exists()
    assert (tmp_path / ".c.bin.odpart").exists()  # kept for the next call
    item = client.download(folder + "/c.bin", tmp_path / "c.bin")
    assert (tmp_path / "c.bin").read_bytes() == data and item.size == len(data)


def test_set_download_rate_checks_its_argument(client):
    client.set_download_rate(0)
    client.set_download_rate(10_000_000)
    with pytest.raises(od.InvalidArgumentError):
        client.set_download_rate(-1)
    with pytest.raises(TypeError):
        client.set_download_rate(1.5)  # type: ignore[arg-type]
    client.set_download_rate(0)


def test_async_download(emu, folder, tmp_path):
    data = os.urandom(100_000)

    async def main():
        async with aclient(emu) as c:
            await c.upload(folder, "a.bin", data)
            await c.download(folder + "/a.bin", tmp_path / "a.bin")
            buf = io.BytesIO()
            item = await c.download(folder + "/a.bin", buf)
            return item, buf.getvalue()

    item, got = run(main())
    assert got == data and (tmp_path / "a.bin").read_bytes() == data and item.size == len(data)


# ---- listing ---------------------------------------------------------------------


def test_listing_is_an_iterator_fetching_pages_as_consumed(emu, client, folder):
    emu.admin("POST", "/seed", {"path": folder + "/big", "count": 25, "prefix": "f-"})
    emu.clear_requests()
    listing = client.list_children(folder + "/big", page_size=10)
    assert not [r for r in emu.requests() if "children" in str(r)], "nothing is asked for before the first item"
    first = next(listing)
    assert first.name == "f-0000000" or first.name.startswith("f-")
    pages = lambda: len([r for r in emu.requests() if "children" in str(r)])  # noqa: E731
    assert pages() == 1
    rest = list(listing)
    assert len(rest) == 24 and pages() == 3
    names = [first.name] + [i.name for i in rest]
    assert names == sorted(names, key=str.lower) and len(set(names)) == 25
    assert listing.closed  # freed at the end
    assert list(listing) == []  # and stays at its end


def test_a_folder_item_has_its_child_count_and_listing_errors(client, folder):
    client.upload(folder + "/sub", "one.txt", b"1")
    client.upload(folder + "/sub", "two.txt", b"2")
    sub = client.item(folder + "/sub")
    assert sub.is_folder and sub.child_count == 2
    assert client.item(folder + "/sub/one.txt").child_count is None
    items = {i.name: i for i in client.list_children(folder + "/sub")}
    assert set(items) == {"one.txt", "two.txt"} and items["one.txt"].size == 1
    with pytest.raises(od.NotFoundError) as e:
        next(client.list_children(folder + "/nope"))
    assert "nope" in str(e.value)
    with pytest.raises(od.InvalidArgumentError):
        client.list_children(folder, page_size=-1)
    with client.list_children(folder + "/sub") as listing:  # a context manager; break early
        next(listing)
    assert listing.closed


def test_a_cancelled_page_fetch_can_be_asked_for_again(client, folder):
    client.upload(folder + "/cl", "x.txt", b"x")
    token = od.CancelToken()
    token.cancel()
    listing = client.list_children(folder + "/cl", cancel=token)
    with pytest.raises(od.OperationCancelledError) as e:
        next(listing)
    assert f"listing of {folder}/cl was cancelled" in str(e.value)
    token.reset()
    assert [i.name for i in listing] == ["x.txt"]


def test_async_listing_fetches_lazily_and_stops_early(emu, folder):
    emu.admin("POST", "/seed", {"path": folder + "/abig", "count": 30, "prefix": "a-"})

    async def main():
        async with aclient(emu) as c:
            listing = c.list_children(folder + "/abig", page_size=10)
            assert isinstance(listing, od.AsyncListing)
            emu.clear_requests()
            names = []
            async for item in listing:
                names.append(item.name)
                if len(names) == 5:
                    break
            listing.close()
            first_pages = len([r for r in emu.requests() if "children" in str(r)])
            async with c.list_children(folder + "/abig", page_size=7) as again:
                every = [i.name async for i in again]
            return names, first_pages, every

    names, first_pages, every = run(main())
    assert len(names) == 5 and first_pages == 1  # one page for five items
    assert len(every) == 30 and every[:5] == names


def test_async_listing_cancelled_mid_fetch(emu, folder):
    client_started = threading.Event()
    release = threading.Event()

    def provider():  # a client with no token yet: the first page waits here
        client_started.set()
        release.wait(60)
        return emu.token

    async def main():
        async with od.AsyncClient(base_url=emu.base_url, ca_file=emu.ca_file, token_provider=provider) as c:
            listing = c.list_children("/")
            task = asyncio.ensure_future(listing.__anext__())
            await asyncio.get_running_loop().run_in_executor(None, client_started.wait, 60)
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                cancelled = True
            else:
                cancelled = False
            release.set()
            listing.close()
            return cancelled

    assert run(main())


# ---- move / rename -----------------------------------------------------------------


def test_move_and_rename(client, folder):
    item = client.upload(folder, "m.txt", b"move me")
    client.create_folder(folder, "dest")
    moved = client.move(folder + "/m.txt", folder + "/dest")
    assert moved.id == item.id and moved.name == "m.txt"
    assert client.item(folder + "/dest/m.txt").id == item.id
    renamed = client.rename(item.id, "n.txt")
    assert renamed.name == "n.txt" and renamed.id == item.id
    both = client.move(item.id, folder, name="o.txt")
    assert both.name == "o.txt" and client.item(folder + "/o.txt").id == item.id
    with pytest.raises(od.NotFoundError):
        client.item(folder + "/dest/n.txt")


def test_move_conflicts_and_refusals(client, folder):
    a = client.upload(folder, "a.txt", b"a")
    client.upload(folder, "b.txt", b"b")
    with pytest.raises(od.ConflictError) as e:
        client.rename(a.id, "b.txt", conflict="fail")
    assert a.id in str(e.value), str(e.value)  # what was asked for
    kept = client.rename(a.id, "b.txt", conflict="rename")
    assert kept.name != "b.txt" and kept.name.startswith("b")
    with pytest.raises(od.ConflictError):
        client.rename(a.id, "c.txt", if_match='"stale-etag"')
    with pytest.raises(od.InvalidArgumentError):
        client.move(a.id)  # neither a destination nor a name
    with pytest.raises(od.InvalidNameError):
        client.rename(a.id, "bad:name?.txt")
    with pytest.raises(TypeError):
        client.move(a.id, folder, "positional-name")  # type: ignore[misc]


def test_async_move_and_rename(emu, folder):
    async def main():
        async with aclient(emu) as c:
            it = await c.upload(folder, "am.txt", b"m")
            await c.create_folder(folder, "adest")
            moved = await c.move(it.id, folder + "/adest", name="am2.txt")
            renamed = await c.rename(moved.id, "am3.txt")
            return it, moved, renamed

    it, moved, renamed = run(main())
    assert moved.id == it.id == renamed.id and renamed.name == "am3.txt"


# ---- the README's example ------------------------------------------------------------


def test_the_readme_downloads_example_runs_as_written(emu, client, tmp_path, monkeypatch):
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Downloads, listings, moves"):]
    code = re.search(r"```python\n(.*?)^```", section, re.S | re.M).group(1)
    assert code.count("Client(token=TOKEN)") == 1
    code = code.replace("Client(token=TOKEN)", "Client(token=TOKEN, base_url=BASE_URL, ca_file=CA_FILE)")
    # what it expects on the drive: the report, the folders (a re-run finds its own result)
    report = os.urandom(50_000)
    client.upload("/Documents", "report.pdf", report, conflict="replace")
    client.create_folder("/", "Archive", parents=True)
    client.upload("/Photos", "a.jpg", b"jpeg", conflict="replace")
    for leftover in ("/Archive/report-2024.pdf", "/Archive/report-final.pdf"):
        try:
            client.delete(leftover)
        except od.NotFoundError:
            pass
    monkeypatch.chdir(tmp_path)
    ns = {"__name__": "readme_downloads", "TOKEN": emu.token, "BASE_URL": emu.base_url, "CA_FILE": emu.ca_file}
    exec(compile(code, "README.md (Downloads, listings, moves)", "exec"), ns)
    assert (tmp_path / "report.pdf").read_bytes() == report == (tmp_path / "copy.pdf").read_bytes()
    assert client.item("/Archive/report-final.pdf").size == len(report)
    with pytest.raises(od.NotFoundError):
        client.item("/Documents/report.pdf")
