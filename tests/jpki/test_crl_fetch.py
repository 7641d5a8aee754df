"""Fetchers: HTTP with bounded time and size, files, PEM input; every failure a typed
FetchError with a reason code."""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from jpki.validation import FetchError, FileCrlFetcher, HttpCrlFetcher, HttpOcspTransport
from jpki.validation.fetchers import RoutingCrlFetcher, crl_der

BODY = b"\x30\x03\x02\x01\x07"
PEM = b"-----BEGIN X509 CRL-----\n" + base64.b64encode(BODY) + b"\n-----END X509 CRL-----\n"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        if self.path == "/ok.crl":
            self._send(200, BODY)
        elif self.path == "/pem.crl":
            self._send(200, PEM)
        elif self.path == "/slow.crl":
            time.sleep(1.5)
            self._send(200, BODY)
        elif self.path == "/big.crl":
            self._send(200, b"\x00" * 5000)
        elif self.path == "/chunked.crl":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(10):
                self.wfile.write(b"3e8\r\n" + b"\x00" * 1000 + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self._send(404, b"no")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers["Content-Type"] != "application/ocsp-request":
            self._send(415, b"")
            return
        self._send(200, b"answer:" + body)

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def reason_of(fn: object, *args: object) -> str:
    with pytest.raises(FetchError) as info:
        fn(*args)  # type: ignore[operator]
    return info.value.reason_code


def test_http_fetch(server: str) -> None:
    fetcher = HttpCrlFetcher(timeout=1.0, max_bytes=4096)
    assert fetcher.fetch(f"{server}/ok.crl") == BODY
    assert fetcher.fetch(f"{server}/pem.crl") == BODY
    assert reason_of(fetcher.fetch, f"{server}/missing.crl") == "FETCH_HTTP_STATUS"
    assert reason_of(fetcher.fetch, f"{server}/big.crl") == "FETCH_TOO_LARGE"
    assert reason_of(fetcher.fetch, f"{server}/chunked.crl") == "FETCH_TOO_LARGE"
    assert reason_of(fetcher.fetch, "ftp://example.invalid/x.crl") == "FETCH_BAD_URL"


def test_http_timeout_is_bounded(server: str) -> None:
    # The server answers after 1.5 s; a 0.3 s timeout must fire first (FETCH_TIMEOUT
    # only comes from httpx's timeout, so no wall-clock assertion is needed).
    assert reason_of(HttpCrlFetcher(timeout=0.3).fetch, f"{server}/slow.crl") == "FETCH_TIMEOUT"


def test_connection_refused() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert (
        reason_of(HttpCrlFetcher(timeout=1).fetch, f"http://127.0.0.1:{port}/x.crl")
        == "FETCH_NETWORK"
    )


def test_ocsp_transport(server: str) -> None:
    transport = HttpOcspTransport()
    assert transport.post(f"{server}/ocsp", b"req", 1.0) == b"answer:req"
    assert reason_of(transport.post, "file:///etc/passwd", b"", 1.0) == "FETCH_BAD_URL"


def test_files(tmp_path: Path) -> None:
    (tmp_path / "a.crl").write_bytes(BODY)
    (tmp_path / "b.pem").write_bytes(PEM)
    fetcher = FileCrlFetcher(tmp_path, max_bytes=100)
    assert fetcher.fetch("a.crl") == BODY
    assert fetcher.fetch(f"file://{tmp_path}/b.pem") == BODY
    assert FileCrlFetcher().fetch(str(tmp_path / "a.crl")) == BODY
    assert reason_of(fetcher.fetch, "missing.crl") == "FETCH_NOT_FOUND"
    (tmp_path / "big.crl").write_bytes(b"\x00" * 101)
    assert reason_of(fetcher.fetch, "big.crl") == "FETCH_TOO_LARGE"
    routed = RoutingCrlFetcher(files=fetcher)
    assert routed.fetch("a.crl") == BODY


def test_pem_without_crl() -> None:
    assert crl_der(BODY) == BODY
    with pytest.raises(FetchError):
        crl_der(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(FetchError):
        crl_der(b"-----BEGIN X509 CRL-----\n!!!\n-----END X509 CRL-----\n")
