"""Failures come out as exceptions carrying the service's detail."""

from __future__ import annotations

import pytest

import onedrive_native as od


def test_not_found(client):
    with pytest.raises(od.NotFoundError) as e:
        client.item("/no/such/thing.txt")
    err = e.value
    assert isinstance(err, od.OneDriveError)
    assert err.status is od.Status.NOT_FOUND and err.http_status == 404
    assert err.code == "itemNotFound" and err.message
    assert err.retry_after is None
    assert "itemNotFound" in str(err) and "404" in str(err)


def test_request_id_is_kept(client):
    with pytest.raises(od.NotFoundError) as e:
        client.item("NOSUCHID")
    assert e.value.request_id  # the emulator sends one, like the service


def test_conflict_carries_the_graph_code(client, folder):
    client.upload(folder, "dup.txt", b"1")
    with pytest.raises(od.ConflictError) as e:
        client.upload(folder, "dup.txt", b"2", conflict=od.Conflict.FAIL)
    assert (e.value.http_status, e.value.code) == (409, "nameAlreadyExists")


def test_unauthorized(emu):
    with od.Client(token="wrong", base_url=emu.base_url, ca_file=emu.ca_file) as bad:
        with pytest.raises(od.UnauthorizedError) as e:
            bad.item("/")
    assert e.value.http_status == 401 and e.value.status is od.Status.UNAUTHORIZED
    with od.Client(base_url=emu.base_url, ca_file=emu.ca_file) as none:  # no token at all
        with pytest.raises(od.UnauthorizedError):
            none.item("/")


@pytest.mark.parametrize("name", ["a:b.txt", "a*b", "what?", "x<y", "x>y", "p|q", 'say"hi"', "back\\slash", "sl/ash", ""])
def test_invalid_names_are_refused_before_any_request(client, emu, name):
    emu.clear_requests()
    with pytest.raises(od.InvalidNameError) as e:
        client.upload("/", name, b"x")
    assert isinstance(e.value, ValueError)
    assert e.value.http_status is None and e.value.message
    assert [r for r in emu.requests() if r["origin"] != "admin"] == []


def test_bad_arguments(client, emu):
    with pytest.raises(od.InvalidArgumentError):
        client.item("/", drive="/nowhere/drive")
    with pytest.raises(od.InvalidArgumentError):
        client.item("/a\0b")  # NUL would cut a C string: refused here
    with pytest.raises(od.InvalidUtf8Error):
        client.item("/bad-\udc80")  # a lone surrogate reaches C as invalid UTF-8
    with pytest.raises(od.InvalidArgumentError):
        od.Client(token="t", base_url="not a url")
    with pytest.raises(od.InvalidArgumentError):
        client.set_timeouts(0, 1)
    with pytest.raises(ValueError):
        od.Job.resume(client, emu.monitor_origin + "/monitor/x").wait(timeout=-1)


def test_plain_http_off_loopback_needs_the_flag():
    with pytest.raises(od.InvalidArgumentError):
        od.Client(token="t", base_url="http://example.invalid/v1.0")
    with od.Client(token="t", base_url="http://example.invalid/v1.0", allow_insecure_http=True):
        pass


def test_url_upload_is_not_supported_on_business(business_emulator):
    emu = business_emulator
    assert emu.profile == "business"
    url = emu.serve_static("biz.bin", b"b" * 100)
    with od.Client(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file) as c:
        with pytest.raises(od.NotSupportedError) as e:
            c.url_upload("/", "biz.bin", url)
        assert e.value.message and e.value.status is od.Status.NOT_SUPPORTED
        # the rest works on Business
        it = c.upload("/", "b.txt", b"b")
        assert c.copy(it.id, "/", name="b2.txt").wait(timeout=60).size == 1


def test_throttling_beyond_the_retry_policy_carries_retry_after(client, emu):
    emu.add_fault({"origin": "api", "times": {"next": 1}, "action": {"status": {"status": 429, "retry_after": 7}}})
    client.set_retry(5, 1.0)  # a 7 s Retry-After is beyond 1 s of patience
    with pytest.raises(od.ThrottledError) as e:
        client.item("/")
    assert e.value.http_status == 429 and e.value.retry_after == 7.0


def test_throttling_within_the_policy_is_retried(client, emu):
    emu.add_fault({"origin": "api", "times": {"next": 2}, "action": {"status": {"status": 503, "retry_after": 0}}})
    assert client.item("/").is_folder


def test_service_errors_that_retries_do_not_cure(client, emu):
    client.set_retry(2, 0.5)
    emu.add_fault({"origin": "api", "times": {"next": 5}, "action": {"status": {"status": 500}}})
    with pytest.raises(od.ServiceError) as e:
        client.item("/")
    assert e.value.http_status == 500


def test_too_large(client, emu, folder):
    emu.add_fault({"origin": "api", "method": "PUT", "times": {"next": 1}, "action": {"status": {"status": 413}}})
    with pytest.raises(od.TooLargeError) as e:
        client.upload(folder, "big.bin", b"x" * 100)
    assert e.value.http_status == 413


def test_network_error(emu):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with od.Client(token="t", base_url=f"http://127.0.0.1:{port}/v1.0") as c:
        c.set_retry(1, 0)
        with pytest.raises(od.NetworkError) as e:
            c.item("/")
    assert isinstance(e.value, ConnectionError) and e.value.http_status is None


def test_a_dropped_response_is_a_network_error(client, emu):
    client.set_retry(1, 0)
    emu.add_fault({"origin": "api", "method": "GET", "times": {"next": 1}, "action": {"drop_response_after": 10}})
    with pytest.raises(od.NetworkError):
        client.item("/")


def test_errors_are_per_thread_and_cleared_by_success(client):
    import threading

    results = {}

    def fail():
        try:
            client.item("/missing-in-thread")
        except od.OneDriveError as e:
            results["thread"] = e

    t = threading.Thread(target=fail)
    t.start()
    t.join()
    assert isinstance(results["thread"], od.NotFoundError)
    assert client.item("/").is_folder  # this thread's calls are not affected


def test_the_exception_hierarchy():
    assert issubclass(od.InvalidNameError, od.InvalidArgumentError)
    assert issubclass(od.OneDriveTimeoutError, TimeoutError)
    assert issubclass(od.NetworkError, ConnectionError)
    assert issubclass(od.LocalIOError, OSError)
    for status, cls in od.EXCEPTIONS.items():
        assert issubclass(cls, od.OneDriveError) and cls.status == status
    unknown = od.exception_class(999)
    assert unknown is od.OneDriveError
    e = od.NotFoundError("x", status=11, http_status=404, code="itemNotFound")
    assert "NotFoundError" in repr(e)
