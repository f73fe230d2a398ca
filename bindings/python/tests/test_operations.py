"""The four operations, every addressing form, against the emulator."""

from __future__ import annotations

import base64
import pathlib

import pytest

import onedrive_native as od
from conftest import eventually

BODY = b"The contents of the file goes here."


def test_upload_bytes_by_parent_and_name(client, folder):
    it = client.upload(folder, "a.txt", BODY)
    assert isinstance(it, od.Item)
    assert it.name == "a.txt" and it.size == len(BODY) and not it.is_folder
    assert it.id and it.etag and it.ctag and it.drive_id and it.parent_id
    assert it.quick_xor_hash and len(base64.b64decode(it.quick_xor_hash)) == 20
    assert it.raw["name"] == "a.txt" and it.raw["size"] == len(BODY)
    assert it.raw["id"] == it.id
    again = client.item(f"{folder}/a.txt")
    assert again.id == it.id and again.etag == it.etag


def test_upload_accepts_every_kind_of_data(client, folder, tmp_path):
    data = bytes(range(256)) * 40
    p = tmp_path / "local.bin"
    p.write_bytes(data)
    cases = {
        "bytes.bin": data,
        "bytearray.bin": bytearray(data),
        "memoryview.bin": memoryview(data),
        "mv-writable.bin": memoryview(bytearray(data)),
        "mv-slice.bin": memoryview(b"xx" + data + b"yy")[2:-2],
        "path-str.bin": str(p),
        "path-obj.bin": p,
        "array.bin": __import__("array").array("B", data),
    }
    hashes = set()
    for name, value in cases.items():
        it = client.upload(folder, name, value)
        assert it.size == len(data), name
        hashes.add(it.quick_xor_hash)
    assert len(hashes) == 1  # the same content everywhere
    empty = client.upload(folder, "empty.txt", b"")
    assert empty.size == 0


def test_upload_a_missing_path_is_an_os_error(client, folder, tmp_path):
    with pytest.raises(OSError) as e:
        client.upload(folder, "x", tmp_path / "nope")
    assert isinstance(e.value, od.LocalIOError) and "nope" in str(e.value)
    with pytest.raises(TypeError):
        client.upload(folder, "x", 42)  # type: ignore[arg-type]


def test_every_addressing_form_of_upload(client, folder):
    seed = client.upload(f"{folder}/dir/seed.txt", None, b"x")  # a path, name None
    assert seed.name == "seed.txt"
    dir_id = seed.parent_id
    a = client.upload(dir_id, "a.txt", b"a")  # parent by id
    assert a.parent_id == dir_id
    b = client.upload(f"{folder}/dir", "b.txt", b"bb")  # parent by path
    assert b.parent_id == dir_id and b.size == 2
    top = client.upload("/", f"{folder[1:]}-top.txt", b"t")  # the root
    root = client.item("/")
    assert root.is_folder and top.parent_id == root.id
    d = client.upload(f"{dir_id}:/sub", "d.txt", b"d")  # ID:/rel
    assert d.name == "d.txt"
    assert client.item(f"{dir_id}:/sub/d.txt").id == d.id
    assert client.item(f"{folder}/dir/sub/d.txt").id == d.id
    r = client.upload(a.id, None, b"replaced")  # replace by id
    assert r.id == a.id and r.size == 8
    assert client.item(a.id).size == 8


def test_names_that_need_encoding(client, folder):
    for name in ["with space.txt", "hash#sign.txt", "per%cent.txt", "ünïcødé ✓.txt", "a+b&c=d.txt"]:
        it = client.upload(f"{folder}/sub dir #1", name, name.encode())
        assert it.name == name
        assert client.item(f"{folder}/sub dir #1/{name}").id == it.id


def test_every_drive_prefix(client, emu):
    info = emu.info()
    default = info["default_drive_id"]
    assert len(info["drive_ids"]) >= 3
    owners = {}
    for d in info["drive_ids"]:
        owner = emu.graph(f"/drives/{d}")["owner"]
        kind = next(iter(owner))
        owners[kind] = (owner[kind]["id"], d)
    user_id, _ = owners["user"]
    prefixes = {
        "/me/drive": default,
        "/drive": default,
        f"/drives/{default}": default,
        f"/users/{user_id}/drive": default,
        f"/groups/{owners['group'][0]}/drive": owners["group"][1],
        f"/sites/{owners['site'][0]}/drive": owners["site"][1],
    }
    for i, (prefix, drive_id) in enumerate(prefixes.items()):
        it = client.upload("/prefixes", f"f{i}.txt", prefix.encode(), drive=prefix)
        assert it.drive_id == drive_id, prefix
        assert client.item(it.id, drive=prefix).name == f"f{i}.txt"
        assert client.item(f"/prefixes/f{i}.txt", drive=f"/drives/{drive_id}").id == it.id


def test_conflict_behaviours(client, folder):
    first = client.upload(folder, "c.txt", b"1")
    with pytest.raises(od.ConflictError) as e:
        client.upload(folder, "c.txt", b"2", conflict=od.Conflict.FAIL)
    assert e.value.http_status == 409 and e.value.code == "nameAlreadyExists"
    renamed = client.upload(folder, "c.txt", b"3", conflict="rename")
    assert renamed.name != "c.txt" and renamed.id != first.id
    replaced = client.upload(folder, "c.txt", b"44", conflict=od.Conflict.REPLACE)
    assert replaced.id == first.id and replaced.size == 2
    default = client.upload(folder, "c.txt", b"555")  # uploads replace by default
    assert default.id == first.id and default.size == 3
    with pytest.raises(ValueError):
        client.upload(folder, "c.txt", b"x", conflict="sideways")


def test_item_reads_folders_and_files(client, folder):
    f = client.item(folder)
    assert f.is_folder and f.quick_xor_hash is None
    assert f.raw.get("folder") is not None


def test_copy_by_id_path_name_and_legacy(client, folder):
    src = client.upload(folder, "src.bin", b"s" * 5000)
    dest = client.upload(f"{folder}/dest", ".keep", b"").parent_id
    job = client.copy(src.id, dest)
    assert isinstance(job, od.Job) and job.monitor_url.startswith("http")
    done = job.wait(timeout=60)
    assert done.name == "src.bin" and done.size == 5000 and done.id != src.id
    assert done.parent_id == dest
    assert job.state is od.JobState.COMPLETED
    assert job.item().id == done.id
    by_path = client.copy(f"{folder}/src.bin", f"{folder}/dest", name="by-path.bin").wait(timeout=60)
    assert by_path.name == "by-path.bin"
    rel = client.copy(f"{dest}:/src.bin", folder, name="rel.bin", conflict=od.Conflict.FAIL).wait(timeout=60)
    assert rel.name == "rel.bin" and rel.parent_id == client.item(folder).id
    legacy = client.copy(src.id, f"{folder}/dest", name="legacy.bin", legacy=True).wait(timeout=60)
    assert legacy.name == "legacy.bin" and legacy.quick_xor_hash == src.quick_xor_hash
    legacy_path = client.copy(f"{folder}/src.bin", dest, name="legacy2.bin", legacy=True, drive="/drive")
    assert legacy_path.wait(timeout=60).size == 5000


def test_copy_to_another_drive_and_of_a_folder(client, emu, folder):
    other = emu.info()["drive_ids"][1]
    client.upload(f"{folder}/tree/x", "1.txt", b"1")
    client.upload(f"{folder}/tree", "2.txt", b"22")
    dest_root = client.item("/", drive=f"/drives/{other}")
    job = client.copy(f"{folder}/tree", dest_root.id, name=folder[1:] + "-tree", dest_drive_id=other)
    copied = job.wait(timeout=60)
    assert copied.is_folder and copied.drive_id == other
    got = client.item(f"/{folder[1:]}-tree/x/1.txt", drive=f"/drives/{other}")
    assert got.size == 1


def test_copy_conflicts(client, folder):
    client.upload(folder, "k.txt", b"k")
    with pytest.raises(od.ConflictError) as e:
        client.copy(f"{folder}/k.txt", folder, conflict=od.Conflict.FAIL).wait(timeout=60)
    assert e.value.http_status == 409
    assert e.value.code == "nameAlreadyExists"
    renamed = client.copy(f"{folder}/k.txt", folder, conflict=od.Conflict.RENAME).wait(timeout=60)
    assert renamed.name != "k.txt"


def test_url_upload(client, emu, folder):
    payload = bytes(range(256)) * 200
    url = emu.serve_static("py-source.bin", payload)
    job = client.url_upload(folder, "fetched.bin", url)
    it = job.wait(timeout=60)
    assert it.name == "fetched.bin" and it.size == len(payload)
    local = client.upload(folder, "local.bin", payload)
    assert it.quick_xor_hash == local.quick_xor_hash
    posts = [r for r in emu.requests() if r["method"] == "POST" and r["path"].endswith("/children")]
    assert posts and posts[-1]["status"] == 202


def test_url_upload_of_an_unreachable_source_fails_the_job(client, folder):
    job = client.url_upload(folder, "gone.bin", "http://127.0.0.1:9/nothing")
    with pytest.raises(od.JobFailedError) as e:
        job.wait(timeout=60)
    assert e.value.message
    assert job.state is od.JobState.FAILED


def test_poll_until_completion(client, paused_jobs, folder):
    src = client.upload(folder, "p.bin", b"p" * 200_000)
    job = client.copy(src.id, folder, name="p2.bin")
    st = job.poll()
    assert not st.done and st.item is None and st.error is None
    assert st.state in (od.JobState.NOT_STARTED, od.JobState.RUNNING)
    paused_jobs.set_job_config(paused=False)
    seen = []

    def completed():
        s = job.poll()
        seen.append(s)
        return s.state is od.JobState.COMPLETED

    eventually(completed, 60, "the copy to complete")
    percents = [s.percent for s in seen if s.percent is not None]
    assert percents == sorted(percents)
    final = seen[-1]
    assert final.item is not None and final.item.name == "p2.bin" and final.done
    assert job.poll().item.id == final.item.id  # a finished job can be looked at again


def test_job_item_before_completion_is_invalid_state(client, paused_jobs, folder):
    src = client.upload(folder, "s.bin", b"s")
    with client.copy(src.id, folder, name="s2.bin") as job:
        with pytest.raises(od.InvalidStateError):
            job.item()


def test_job_resumed_from_its_saved_monitor_url(emu, paused_jobs):
    with od.Client(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file) as c:
        src = c.upload("/resume", "r.bin", b"r" * 1000)
        job = c.copy(src.id, "/resume", name="r2.bin", conflict="replace")
        saved = job.monitor_url
        job.close()
    # "the app restarted": a new client, the job rebuilt from the saved URL
    with od.Client(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file) as c2:
        with od.Job.resume(c2, saved) as job2:
            assert job2.monitor_url == saved
            assert job2.state is od.JobState.UNKNOWN  # not looked at yet
            paused_jobs.set_job_config(paused=False)
            it = job2.wait(timeout=60)
            assert it.name == "r2.bin" and it.size == 1000
        with od.Job.resume(c2, saved, drive="/me/drive") as job3:
            assert job3.poll().state is od.JobState.COMPLETED


def test_failed_jobs_in_both_forms(client, emu, folder):
    src = client.upload(folder, "f.bin", b"f" * 1000)
    for mode in ["status", "http500"]:
        emu.set_job_config(fail=mode)
        job = client.copy(src.id, folder, name=f"f-{mode}.bin")
        with pytest.raises(od.JobFailedError) as e:
            job.wait(timeout=60)
        assert e.value.status is od.Status.JOB_FAILED and e.value.message
        st = job.poll()
        assert st.state is od.JobState.FAILED and isinstance(st.error, od.JobFailedError)
    emu.set_job_config(fail=None)


def test_unknown_job_is_not_found(client, emu):
    job = od.Job.resume(client, emu.monitor_origin + "/monitor/no-such-job")
    with pytest.raises(od.NotFoundError):
        job.poll()


def test_the_token_never_goes_to_the_monitor_origin(client, emu, folder):
    src = client.upload(folder, "t.txt", b"t")
    emu.clear_requests()
    client.copy(src.id, folder, name="u.txt").wait(timeout=60)
    client.url_upload(folder, "v.txt", emu.serve_static("v.txt", b"v")).wait(timeout=60)
    log = emu.requests()
    monitor = [r for r in log if r["origin"] == "monitor"]
    api = [r for r in log if r["origin"] == "api"]
    assert monitor and api
    assert not any(r["authorization"] for r in monitor), monitor
    assert all(r["authorization"] for r in api), api


def test_native_version():
    assert od.native_version().count(".") == 2


def test_create_folder_and_delete(client, folder):
    made = client.create_folder(folder, "Backup")
    assert made.is_folder and made.name == "Backup"
    with pytest.raises(od.ConflictError):
        client.create_folder(folder, "Backup")
    assert client.create_folder(folder, "Backup", conflict="rename").name == "Backup 1"
    with pytest.raises(od.NotFoundError):
        client.create_folder(f"{folder}/x/y", "z")
    deep = client.create_folder(f"{folder}/x/y", "z", parents=True)
    assert client.item(f"{folder}/x/y/z").id == deep.id
    with pytest.raises(od.InvalidNameError):
        client.create_folder(folder, "a|b")
    it = client.upload(f"{folder}/Backup", "f.txt", BODY)
    client.upload(f"{folder}/Backup", "f.txt", b"changed")
    with pytest.raises(od.ConflictError):
        client.delete(f"{folder}/Backup/f.txt", if_match=it.etag)
    client.delete(f"{folder}/Backup/f.txt")
    with pytest.raises(od.NotFoundError):
        client.delete(f"{folder}/Backup/f.txt")
    client.delete(made.id)
    with pytest.raises(od.NotFoundError):
        client.item(f"{folder}/Backup")


def test_create_folder_and_delete_async(emu, folder):
    import asyncio

    async def go():
        async with od.AsyncClient(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file) as ac:
            f = await ac.create_folder(f"{folder}/a", "Async", parents=True)
            await ac.delete(f.id)
            return f

    assert asyncio.run(go()).name == "Async"


def test_reprs_and_errors_carry_no_capability_url(client, folder):
    it = client.upload(folder, "r.txt", BODY)
    job = client.copy(it.id, folder, name="r2.txt")
    try:
        assert job.monitor_url.startswith("http")
        path = job.monitor_url.split("://", 1)[1].split("/", 1)[1]
        assert path and path not in repr(job)
        job.wait(timeout=60)
    finally:
        job.close()
    url = "http://127.0.0.1:9/upload/SESSION-SECRET?tempauth=TOKEN-SECRET"
    with pytest.raises(od.OneDriveError) as e:
        od.Job.resume(client, url).poll()
    assert "SECRET" not in str(e.value) and "SECRET" not in repr(e.value)
