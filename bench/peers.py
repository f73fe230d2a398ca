#!/usr/bin/env python3
"""Benchmark contenders that run in Python, for bench/run.py. Each command
prints what it measured as one JSON line on stdout. Run with the bench venv
(bench/.venv), which has the onedrive_native binding, requests, msgraph-sdk
and msgraph-core.

  peers.py small binding|requests|msgraph BASE_URL TOKEN DRIVE_ID COUNT SIZE [FOLDER]
      COUNT simple uploads of SIZE bytes to FOLDER/f{i}.bin on one client,
      one after another; the clock runs from the first upload to the last answer.
  peers.py large-msgraph BASE_URL TOKEN DRIVE_ID FILE CHUNK [--as-shipped] [--sink]
      FILE through msgraph-core's LargeFileUploadTask to /bench/large.bin,
      with the two bench-side fixes of patch_large_file_upload_task() unless
      --as-shipped; checks the item's size afterwards.
  peers.py import-msgraph
      only the imports and the client of large-msgraph (its start-up cost).
  peers.py check-msgraph BASE_URL TOKEN DRIVE_ID
      one small upload through msgraph-sdk, then reads the item back with
      requests: proves the SDK's files land where the others' do.

The official SDK is pointed at the emulator as its docs say: a
GraphRequestAdapter over a BaseBearerTokenAuthenticationProvider whose
AccessTokenProvider returns the static token, with 127.0.0.1 allowed. The
token goes to the API origin only (scheme, host and port): the upload URLs
live on the emulator's other origin, on the same host, and refuse a token as
the real service's do (there, they are on other hosts than Graph's).
"""

import asyncio
import json
import os
import resource
import sys
import time
from urllib.parse import urlsplit

MIB = 1024 * 1024


def payload(size):
    return bytes((i * 7 + 13) & 0xFF for i in range(256)) * (size // 256) + bytes(size % 256)


def peak_rss_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def out(**kw):
    print(json.dumps(kw), flush=True)


# --- the official SDK ------------------------------------------------------

def graph_client(base_url, token):
    from kiota_abstractions.authentication import (
        AccessTokenProvider,
        AllowedHostsValidator,
        BaseBearerTokenAuthenticationProvider,
    )
    from msgraph import GraphRequestAdapter, GraphServiceClient

    api = urlsplit(base_url)

    class StaticToken(AccessTokenProvider):
        async def get_authorization_token(self, uri, additional_authentication_context=None):
            u = urlsplit(uri)
            return token if (u.scheme, u.netloc) == (api.scheme, api.netloc) else ""

        def get_allowed_hosts_validator(self):
            return AllowedHostsValidator(["127.0.0.1"])

    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(StaticToken()))
    adapter.base_url = base_url
    return GraphServiceClient(request_adapter=adapter), adapter


def item_builder(client, drive_id, path):
    # The SDK's way to address by path: the whole `root:/a/b:` as the item id.
    return client.drives.by_drive_id(drive_id).items.by_drive_item_id(f"root:{path}:")


async def msgraph_small(base, token, drive_id, count, size, folder):
    client, _ = graph_client(base, token)
    data = payload(size)
    started = time.perf_counter()
    for i in range(count):
        item = await item_builder(client, drive_id, f"{folder}/f{i}.bin").content.put(data)
        if item is None or item.size != size:
            raise SystemExit(f"msgraph upload {i}: {item!r}")
    return time.perf_counter() - started


def patch_large_file_upload_task():
    """Two fixes, in the bench only, without which msgraph-core 1.5's
    LargeFileUploadTask cannot finish an upload against a service that
    answers as the docs say (`"nextExpectedRanges": ["26-"]`):
    1. after each chunk it turns the open range "n-" into "n--" and fails to
       parse it (ValueError, logged and swallowed, for every later chunk): here
       the range it is about to send becomes the chunk at n ("n-e", e the
       chunk's last byte), which is what it means to send;
    2. its chunk count rounds, so after the chunk that finished the upload it
       sends the last chunk once more (404: the session is gone): here that
       re-send is skipped and the finishing answer is taken.
    Everything else (its HTTP stack, reading the file, the requests) is the
    SDK's own."""
    from msgraph_core.tasks.large_file_upload import LargeFileUploadTask

    if getattr(LargeFileUploadTask, "_bench_patched", False):
        return
    next_chunk, last_chunk = LargeFileUploadTask.next_chunk, LargeFileUploadTask.last_chunk

    def fix_range(self):
        nr = self.next_range
        if nr and nr.endswith("--"):
            start = int(nr.split("-")[0])
            self.next_range = f"{start}-{min(start + self.max_chunk_size, self.file_size) - 1}"

    async def patched_next(self, file, range_start=0, range_end=0):
        fix_range(self)
        self._bench_last = await next_chunk(self, file, range_start, range_end)
        return self._bench_last

    async def patched_last(self, file, range_start=0, range_end=0, parsable_factory=None):
        last = getattr(self, "_bench_last", None)
        if last is not None and not getattr(last, "next_expected_ranges", None):
            return last  # the upload is already complete
        fix_range(self)
        return await last_chunk(self, file, range_start, range_end, parsable_factory)

    LargeFileUploadTask.next_chunk = patched_next
    LargeFileUploadTask.last_chunk = patched_last
    LargeFileUploadTask._bench_patched = True


async def msgraph_large(base, token, drive_id, path, chunk, patched, sink=False):
    from msgraph.generated.drives.item.items.item.create_upload_session.create_upload_session_post_request_body import (
        CreateUploadSessionPostRequestBody,
    )
    from msgraph.generated.models.drive_item import DriveItem
    from msgraph.generated.models.drive_item_uploadable_properties import DriveItemUploadableProperties
    from msgraph_core.tasks.large_file_upload import LargeFileUploadTask

    if patched:
        patch_large_file_upload_task()
    client, adapter = graph_client(base, token)
    size = os.path.getsize(path)
    started = time.perf_counter()
    body = CreateUploadSessionPostRequestBody(
        item=DriveItemUploadableProperties(
            additional_data={"@microsoft.graph.conflictBehavior": "replace"}, file_size=size
        )
    )
    session = await item_builder(client, drive_id, "/bench/large.bin").create_upload_session.post(body)
    with open(path, "rb") as f:
        task = LargeFileUploadTask(session, adapter, f, DriveItem, max_chunk_size=chunk)
        result = await task.upload()
    seconds = time.perf_counter() - started
    # The task logs chunk errors and goes on: check what the service ended up with
    # (a sink keeps nothing: there, the item its last answer gave back).
    if sink:
        item = result.item_response  # the last answer, parsed as an upload session: the item is in its extra data
        if (getattr(item, "additional_data", None) or {}).get("size") != size:
            raise SystemExit(f"LargeFileUploadTask did not finish the upload: its last answer {item!r}")
        return seconds
    import requests

    r = requests.get(
        f"{base}/drives/{drive_id}/root:/bench/large.bin:", headers={"Authorization": f"Bearer {token}"}
    )
    if not r.ok or r.json().get("size") != size:
        raise SystemExit(f"LargeFileUploadTask did not finish the upload: HTTP {r.status_code} {r.text[:300]}")
    return seconds


# --- the others ------------------------------------------------------------

def binding_small(base, token, count, size, folder):
    import onedrive_native

    with onedrive_native.Client(token=token, base_url=base, ca_file=os.environ.get("ONEDRIVE_CA_FILE")) as od:
        data = payload(size)
        started = time.perf_counter()
        for i in range(count):
            item = od.upload(folder, f"f{i}.bin", data)
            if item.size != size:
                raise SystemExit(f"binding upload {i}: size {item.size}")
        return time.perf_counter() - started


def requests_small(base, token, count, size, folder):
    import requests

    data = payload(size)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/octet-stream"}
    with requests.Session() as s:
        started = time.perf_counter()
        for i in range(count):
            r = s.put(f"{base}/me/drive/root:{folder}/f{i}.bin:/content", data=data, headers=headers)
            r.raise_for_status()
            if r.json()["size"] != size:
                raise SystemExit(f"requests upload {i}: {r.text[:200]}")
        return time.perf_counter() - started


def check_msgraph(base, token, drive_id):
    """One upload through the SDK, read back with a plain GET."""
    import requests

    data = payload(12345)
    client, _ = graph_client(base, token)
    item = asyncio.run(item_builder(client, drive_id, "/bench/sdk-check.bin").content.put(data))
    r = requests.get(f"{base}/drives/{drive_id}/root:/bench/sdk-check.bin:", headers={"Authorization": f"Bearer {token}"})
    r.raise_for_status()
    got = r.json()
    ok = got["size"] == len(data) and got["id"] == item.id
    content = requests.get(
        f"{base}/drives/{drive_id}/items/{got['id']}/content", headers={"Authorization": f"Bearer {token}"}
    )
    ok = ok and content.ok and content.content == data
    return {"ok": bool(ok), "id": got["id"], "size": got["size"]}


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "small":
        kind, base, token, drive_id, count, size = args[:6]
        count, size = int(count), int(size)
        folder = args[6] if len(args) > 6 else "/bench/small"
        if kind == "binding":
            seconds = binding_small(base, token, count, size, folder)
        elif kind == "requests":
            seconds = requests_small(base, token, count, size, folder)
        elif kind == "msgraph":
            seconds = asyncio.run(msgraph_small(base, token, drive_id, count, size, folder))
        else:
            raise SystemExit(f"unknown contender {kind}")
        out(seconds=seconds, count=count, bytes=count * size)
    elif cmd == "large-msgraph":
        base, token, drive_id, path, chunk = args[:5]
        patched = "--as-shipped" not in args[5:]
        sink = "--sink" in args[5:]
        seconds = asyncio.run(msgraph_large(base, token, drive_id, path, int(chunk), patched, sink))
        out(seconds=seconds, peak_rss_kib=peak_rss_kib())
    elif cmd == "import-msgraph":
        # what the large-msgraph command costs before it uploads anything
        import msgraph_core.tasks.large_file_upload  # noqa: F401
        import requests  # noqa: F401
        from msgraph.generated.drives.item.items.item.create_upload_session.create_upload_session_post_request_body import (  # noqa: F401,E501
            CreateUploadSessionPostRequestBody,
        )
        from msgraph.generated.models.drive_item import DriveItem  # noqa: F401

        graph_client("http://127.0.0.1:1/v1.0", "t")
        out(ok=True)
    elif cmd == "check-msgraph":
        out(**check_msgraph(*args))
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
