"""How a client reaches the service: extra trusted CAs, a proxy, the upload
rate cap, and the library's log lines in Python's logging.

The TLS tests run their own HTTPS server on loopback (a CA and a server
certificate made with the ``openssl`` command), the proxy tests their own
CONNECT proxy: the emulator is used as the existing fixtures give it."""

from __future__ import annotations

import asyncio
import base64
import http.server
import logging
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

import pytest

import onedrive_native as od

LOGGER = "onedrive_native"


def od_records(caplog) -> List[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def host_port(origin: str) -> str:
    return origin.split("://", 1)[1].split("/", 1)[0]


# ---- a CONNECT proxy on loopback -------------------------------------------


class FakeProxy:
    """An HTTP proxy that knows only CONNECT: it answers ``answer`` (200:
    tunnels the bytes to the target; anything else: that status, then
    closes) and records every CONNECT target and its Proxy-Authorization."""

    def __init__(self, answer: int = 200) -> None:
        self.answer = answer
        self.connects: List[Tuple[str, Optional[str]]] = []
        self._stop = threading.Event()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def url(self, credentials: str = "") -> str:
        return f"http://{credentials + '@' if credentials else ''}127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        upstream = None
        try:
            conn.settimeout(30)
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                got = conn.recv(4096)
                if not got:
                    return
                head += got
            head, _, rest = head.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target = lines[0].split(" ")[:2]
            auth = next((v.strip() for k, _, v in (h.partition(":") for h in lines[1:])
                         if k.lower() == "proxy-authorization"), None)
            self.connects.append((target, auth))
            if method != "CONNECT" or self.answer != 200:
                status = 405 if method != "CONNECT" else self.answer
                conn.sendall(f"HTTP/1.1 {status} No\r\nProxy-Authenticate: Basic realm=\"t\"\r\n"
                             "Content-Length: 0\r\nConnection: close\r\n\r\n".encode())
                return
            host, _, port = target.rpartition(":")
            upstream = socket.create_connection((host, int(port)), timeout=30)
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if rest:
                upstream.sendall(rest)
            back = threading.Thread(target=self._pipe, args=(upstream, conn), daemon=True)
            back.start()
            self._pipe(conn, upstream)
            back.join(30)
        except (OSError, ValueError):
            pass
        finally:
            for s in (conn, upstream):
                if s is not None:
                    s.close()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()

    def __enter__(self) -> "FakeProxy":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---- an HTTPS server whose certificate no system trusts -----------------------


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory) -> Path:
    """A test CA (ca.pem) and a certificate it signed for 127.0.0.1 (leaf.pem, leaf.key)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command makes the test certificates")
    d = tmp_path_factory.mktemp("tls")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=onedrive-native test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", *ec, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=127.0.0.1")
    (d / "leaf.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
    )
    openssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "leaf.pem", "-days", "2", "-extfile", "leaf.ext")
    return d


class _NoItems(http.server.BaseHTTPRequestHandler):
    """Answers every GET as Graph answers an unknown item."""

    def do_GET(self) -> None:  # noqa: N802
        body = b'{"error":{"code":"itemNotFound","message":"the TLS test server has no items"}}'
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def tls_server(tls_files: Path) -> Iterator[str]:
    """The base URL of an HTTPS server on loopback with the test CA's certificate."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NoItems)
    server.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(tls_files / "leaf.pem"), str(tls_files / "leaf.key"))
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/v1.0"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# ---- trust -----------------------------------------------------------------------


def test_an_untrusted_certificate_is_a_tls_error_until_its_ca_is_added(tls_server, tls_files, caplog):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with od.Client(token="t", base_url=tls_server, retry=(3, 1.0)) as c:
        with pytest.raises(od.TlsError) as e:
            c.item("/x")
        assert e.value.status is od.Status.TLS and e.value.http_status is None
        assert isinstance(e.value, od.NetworkError) and isinstance(e.value, ConnectionError)
        messages = [r.getMessage() for r in od_records(caplog)]
        assert not any(m.startswith("retrying") for m in messages), "a TLS failure is never retried"
        assert any(r.levelno == logging.ERROR for r in od_records(caplog)), messages
        c.add_ca_file(tls_files / "ca.pem")  # for connections opened afterwards
        with pytest.raises(od.NotFoundError):
            c.item("/x")  # TLS passed: the server's own answer
    pem = (tls_files / "ca.pem").read_bytes()
    for given in (pem, pem.decode(), bytearray(pem), memoryview(pem)):
        with od.Client(token="t", base_url=tls_server, ca_pem=given) as c:
            with pytest.raises(od.NotFoundError):
                c.item("/x")
    with od.Client(token="t", base_url=tls_server, ca_file=str(tls_files / "ca.pem")) as c:
        with pytest.raises(od.NotFoundError):
            c.item("/x")


def test_a_bad_pem_is_an_invalid_argument(client):
    for bad in (b"hello", "hello", b"", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"):
        with pytest.raises(od.InvalidArgumentError) as e:
            client.add_ca_pem(bad)
        assert isinstance(e.value, ValueError) and e.value.status is od.Status.INVALID_ARGUMENT
    with pytest.raises(TypeError):
        client.add_ca_pem(12)  # type: ignore[arg-type]
    assert client.item("/").is_folder  # the client goes on working


def test_a_missing_ca_file_is_an_os_error(client, emu, tmp_path):
    with pytest.raises(od.LocalIOError) as e:
        client.add_ca_file(tmp_path / "no-such-ca.pem")
    assert isinstance(e.value, OSError) and e.value.status is od.Status.IO
    (tmp_path / "empty.pem").write_bytes(b"not a certificate\n")
    with pytest.raises(od.InvalidArgumentError):
        client.add_ca_file(tmp_path / "empty.pem")
    with pytest.raises(od.LocalIOError):
        od.Client(token=emu.token, base_url=emu.base_url, ca_file=tmp_path / "no-such-ca.pem")


# ---- proxy ---------------------------------------------------------------------


def test_set_proxy_checks_the_url_and_never_repeats_it(client):
    for bad in ("ftp://x", "ftp://user:SECRET@127.0.0.1:1", "user:SECRET@h:1", ""):
        with pytest.raises(od.InvalidArgumentError) as e:
            client.set_proxy(bad)
        assert "SECRET" not in str(e.value) and "SECRET" not in repr(e.value)
    with pytest.raises(od.InvalidArgumentError):
        client.set_proxy("http://127.0.0.1:1\0")  # refused here: NUL would cut the C string
    with pytest.raises(TypeError):
        client.set_proxy(8080)  # type: ignore[arg-type]
    client.set_proxy(None)
    assert client.item("/").is_folder


def test_a_proxy_nobody_listens_on_is_a_network_error(client, caplog):
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    client.refresh_logging()
    client.set_retry(1, 0)
    client.set_proxy(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(od.NetworkError) as e:
        client.item("/")
    assert type(e.value) is od.NetworkError and e.value.status is od.Status.NETWORK
    levels = {r.levelno for r in od_records(caplog)}
    assert logging.ERROR in levels and logging.WARNING in levels, [r.getMessage() for r in od_records(caplog)]
    client.set_proxy(None)
    assert client.item("/").is_folder


def test_a_proxy_carries_every_request_with_its_credentials(emu, folder):
    with FakeProxy() as proxy:
        with od.Client(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file, proxy=proxy.url("user:pa55")) as c:
            item = c.upload(folder, "via-proxy.txt", b"through the proxy")
            copy = c.copy(item.id, folder, name="via-proxy-2.txt").wait(timeout=60)
            assert copy.size == len(b"through the proxy")
        targets = {t for t, _ in proxy.connects}
        assert host_port(emu.api_origin) in targets and host_port(emu.monitor_origin) in targets, targets
        want = "Basic " + base64.b64encode(b"user:pa55").decode()
        assert {a for _, a in proxy.connects} == {want}


def test_a_proxy_that_refuses_the_credentials_is_a_proxy_error(emu, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    with FakeProxy(answer=407) as proxy:
        with od.Client(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file, proxy=proxy.url("user:WRONGPW")) as c:
            with pytest.raises(od.ProxyError) as e:
                c.item("/")
        assert e.value.status is od.Status.PROXY and isinstance(e.value, od.NetworkError)
        assert "WRONGPW" not in str(e.value)
        assert len(proxy.connects) == 1, "a refusal is not retried"
    assert all("WRONGPW" not in r.getMessage() for r in od_records(caplog))


# ---- upload rate -------------------------------------------------------------------


def test_set_upload_rate_takes_zero_and_large_numbers_and_refuses_negative_ones(client):
    client.set_upload_rate(0)
    client.set_upload_rate(10**12)
    client.set_upload_rate(2**64 - 1)
    for bad in (-1, 2**64):
        with pytest.raises(od.InvalidArgumentError) as e:
            client.set_upload_rate(bad)
        assert "bytes_per_second" in str(e.value), "refused by the binding, before any C call"
    with pytest.raises(TypeError):
        client.set_upload_rate(1.5)  # type: ignore[arg-type]
    client.close()
    with pytest.raises(od.InvalidArgumentError):  # checked before the closed handle is even looked at
        client.set_upload_rate(-5)


def test_an_upload_rate_cap_holds_an_upload_back(emu, folder):
    with od.Client(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file, upload_rate=40_000) as c:
        started = time.monotonic()
        assert c.upload(folder, "slow.bin", bytes(60_000)).size == 60_000
        assert time.monotonic() - started >= 1.0  # the first 4 KB go at once, the rest at 40 kB/s
        c.set_upload_rate(0)
        assert c.upload(folder, "fast.bin", bytes(60_000)).size == 60_000


# ---- logging ---------------------------------------------------------------------


def test_log_lines_reach_logging_with_their_levels_and_no_secret(emu, folder, caplog):
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    with od.Client(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file) as c:  # reads the level now
        assert c.log_level == logging.DEBUG
        item = c.upload(folder, "logged.txt", bytes(4096))
        job = c.copy(item.id, folder, name="logged-copy.txt")
        job.wait(timeout=60)
        with pytest.raises(od.NotFoundError):
            c.item(folder + "/no-such-file.txt")
        monitor_path = job.monitor_url.split("://", 1)[1].split("/", 1)[1]
        assert monitor_path and monitor_path not in repr(job) and "tempauth" not in repr(job)
        job.close()
    lines = [(r.levelno, r.getMessage()) for r in od_records(caplog)]
    text = "\n".join(f"{logging.getLevelName(lv)} {m}" for lv, m in lines)

    def has(level: int, *parts: str) -> bool:
        return any(lv == level and all(p in m for p in parts) for lv, m in lines)

    assert has(logging.INFO, "PUT ", "logged.txt", "-> 20"), text
    assert has(logging.INFO, "POST ", "/copy", "-> 202"), text
    assert has(logging.DEBUG, "job look"), text
    assert has(logging.INFO, "GET ", "no-such-file.txt", "-> 404"), text
    for level, message in lines:
        assert level in (logging.ERROR, logging.WARNING, logging.INFO, logging.DEBUG)
        assert emu.token not in message and "Bearer" not in message, message
        assert "tempauth" not in message and "?" not in message, message
        assert monitor_path not in message and "\n" not in message, message


def test_logging_configured_after_the_client_is_followed_from_the_next_call(emu, folder, caplog):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with od.Client(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file) as c:
        assert c.log_level == logging.WARNING  # what logging keeps by default
        c.upload(folder, "quiet.txt", bytes(4096))
        assert od_records(caplog) == []
        # configured after the client was made: no refresh_logging() needed
        caplog.set_level(logging.INFO, logger=LOGGER)
        c.upload(folder, "heard.txt", bytes(4096))
        assert c.log_level == logging.INFO
        assert any("heard.txt" in r.getMessage() for r in od_records(caplog))
        caplog.clear()
        caplog.set_level(logging.ERROR, logger=LOGGER)
        c.upload(folder, "quiet-again.txt", bytes(4096))
        assert c.log_level == logging.ERROR and od_records(caplog) == []


def test_an_explicit_level_holds_and_lines_not_wanted_never_reach_python(emu, folder, caplog):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with od.Client(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file) as c:
        c.set_log_level(logging.WARNING)  # explicit: no longer follows the logger
        # The logger wants more now; the library was asked for warnings only,
        # so a successful upload makes no line and never enters Python.
        caplog.set_level(logging.DEBUG, logger=LOGGER)  # the logger and the capturing handler
        c.upload(folder, "quiet.txt", bytes(4096))
        assert od_records(caplog) == [] and c.log_level == logging.WARNING
        c.refresh_logging()  # follow the logger again (= set_log_level(None))
        assert c.log_level == logging.DEBUG
        c.upload(folder, "loud.txt", bytes(4096))
        assert any("loud.txt" in r.getMessage() for r in od_records(caplog))


def test_no_callback_when_even_errors_are_off_and_explicit_levels(emu, caplog):
    caplog.set_level(logging.CRITICAL, logger=LOGGER)
    with od.Client(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file) as c:
        assert c.log_level is None
        with pytest.raises(od.NotFoundError):
            c.item("/no-such-thing")
        assert od_records(caplog) == []
        c.set_log_level("info")
        assert c.log_level == logging.INFO
        c.set_log_level(15)  # between DEBUG and INFO: INFO lines are kept, DEBUG ones not
        assert c.log_level == logging.INFO
        c.set_log_level(logging.DEBUG)
        assert c.log_level == logging.DEBUG
        c.set_log_level(logging.CRITICAL)
        assert c.log_level is None
        with pytest.raises(ValueError):
            c.set_log_level("LOUD")
        with pytest.raises(TypeError):
            c.set_log_level(True)
    with od.Client(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file, log_level="WARNING") as c:
        assert c.log_level == logging.WARNING
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    logging.disable(logging.ERROR)
    try:
        with od.Client(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file) as c:
            assert c.log_level is None, "logging.disable counts"
    finally:
        logging.disable(logging.NOTSET)


def test_a_raising_handler_never_reaches_the_library(emu, folder, caplog, monkeypatch):
    unraisable: list = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)

    class Raising(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            raise RuntimeError("a broken handler")

        def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802
            raise RuntimeError("and a broken error handler")

    handler = Raising()
    logger = logging.getLogger(LOGGER)
    logger.addHandler(handler)
    try:
        caplog.set_level(logging.DEBUG, logger=LOGGER)
        with od.Client(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file) as c:
            assert c.upload(folder, "h.txt", b"handler").size == 7
            with pytest.raises(od.NotFoundError):
                c.item("/no-such-file")
    finally:
        logger.removeHandler(handler)
    assert unraisable == []


def test_lines_from_many_threads_at_once(emu, folder, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    with od.Client(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file) as c:
        names = [f"t{i}.txt" for i in range(8)]
        threads = [threading.Thread(target=c.upload, args=(folder, n, bytes(4096))) for n in names]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    messages = [r.getMessage() for r in od_records(caplog)]
    for n in names:
        assert any(m.startswith("PUT ") and n in m for m in messages), n
    assert {r.thread for r in od_records(caplog)} >= {t.ident for t in threads}


def test_the_async_client_takes_the_same_settings(emu, folder, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)

    async def main() -> None:
        async with od.AsyncClient(token=emu.token, base_url=emu.base_url, ca_file=emu.ca_file, upload_rate=0) as c:
            assert c.log_level == logging.INFO
            c.set_proxy(None)
            c.set_upload_rate(10**9)
            with pytest.raises(od.InvalidArgumentError):
                c.add_ca_pem(b"nope")
            with pytest.raises(od.LocalIOError):
                c.add_ca_file("/no/such/ca.pem")
            await c.upload(folder, "async-logged.txt", b"a")
            c.set_log_level(logging.CRITICAL)
            assert c.log_level is None
            c.refresh_logging()
            assert c.log_level == logging.INFO

    asyncio.run(asyncio.wait_for(main(), 120))
    assert any("async-logged.txt" in r.getMessage() for r in od_records(caplog))


def test_the_new_errors_are_exported_and_mapped():
    assert od.exception_class(27) is od.TlsError and od.TlsError.status is od.Status.TLS
    assert od.exception_class(28) is od.ProxyError and od.ProxyError.status is od.Status.PROXY
    assert od.Status.TLS.c_name == "OD_ERR_TLS" and od.Status.PROXY.c_name == "OD_ERR_PROXY"
    assert issubclass(od.TlsError, od.NetworkError) and issubclass(od.ProxyError, od.NetworkError)
    assert "TlsError" in od.__all__ and "ProxyError" in od.__all__
