"""asyncio variants: the blocking calls run off the event loop."""

from __future__ import annotations

import asyncio
import concurrent.futures

import pytest

import onedrive_native as od


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 120))


def test_the_four_operations_async(emu, folder):
    async def main():
        async with od.AsyncClient(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file) as c:
            it = await c.upload(folder, "a.txt", b"async")
            assert it.size == 5
            assert (await c.item(it.id)).name == "a.txt"
            job = await c.copy(it.id, folder, name="a2.txt")
            assert isinstance(job, od.AsyncJob) and job.monitor_url
            copied = await job.wait(timeout=60)
            assert copied.name == "a2.txt"
            url = emu.serve_static("async-src.bin", b"s" * 1000)
            fetched = await (await c.url_upload(folder, "f.bin", url)).wait(timeout=60)
            assert fetched.size == 1000
            with pytest.raises(od.NotFoundError):
                await c.item("/missing-async")
        assert c.closed

    run(main())


def test_the_loop_keeps_running_while_a_wait_blocks(emu, paused_jobs, folder):
    async def main():
        async with od.AsyncClient(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file) as c:
            it = await c.upload(folder, "l.bin", b"l" * 1000)
            job = await c.copy(it.id, folder, name="l2.bin")
            inside = asyncio.Event()
            loop = asyncio.get_running_loop()
            waiting = asyncio.ensure_future(
                job.wait(timeout=60, progress=lambda d, t: loop.call_soon_threadsafe(inside.set))
            )
            await inside.wait()  # the loop ran this while the wait blocked in a thread
            st = await job.poll()
            assert not st.done and not waiting.done()
            await asyncio.to_thread(paused_jobs.set_job_config, paused=False)
            assert (await waiting).name == "l2.bin"

    run(main())


def test_cancelling_the_task_cancels_the_native_wait(emu, paused_jobs, folder):
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)

    async def main():
        async with od.AsyncClient(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file, executor=pool) as c:
            it = await c.upload(folder, "x.bin", b"x")
            job = await c.copy(it.id, folder, name="x2.bin")
            inside = asyncio.Event()
            loop = asyncio.get_running_loop()
            task = asyncio.ensure_future(job.wait(progress=lambda d, t: loop.call_soon_threadsafe(inside.set)))
            await inside.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    run(main())
    # The single worker is free again only once the native wait returned:
    # without the cancel reaching it, a wait on a paused job with no timeout
    # would hold it forever.
    assert pool.submit(lambda: "free").result(timeout=60) == "free"
    pool.shutdown()


def test_async_job_resume(emu, paused_jobs):
    async def main():
        async with od.AsyncClient(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file) as c:
            it = await c.upload("/", "ar.bin", b"r", conflict="replace")
            job = await c.copy(it.id, "/", name="ar2.bin", conflict="replace")
            url = job.monitor_url
            job.close()
            async with od.AsyncJob.resume(c, url) as again:
                await asyncio.to_thread(paused_jobs.set_job_config, paused=False)
                assert (await again.wait(timeout=60)).name == "ar2.bin"
                assert again.state is od.JobState.COMPLETED

    run(main())
