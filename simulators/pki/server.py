"""The test PKI over HTTP, so the URLs baked into its certificates answer:

  GET  /crl/<kind>/<prefecture_en>/<city_en>.crl   application/pkix-crl (DER)
       ...?generation=<gen>                         the same, signed by an older generation
  POST /ocsp/<kind>                                application/ocsp-request -> -response
  GET  /ocsp/<kind>/<base64 DER request>           RFC 6960 appendix A.1
  GET  /ca/<kind>-<generation>.cer                 application/pkix-cert (DER)
  GET  /ocsp-responder/<kind>-<generation>.cer     the delegated responder certificate
  GET  /cps.html                                   a note saying this is a test PKI

stdlib ThreadingHTTPServer in a daemon thread: small, no event loop to share.
"""

from __future__ import annotations

import base64
import binascii
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import ClassVar
from urllib.parse import unquote, urlsplit

from simulators.pki.errors import PkiError
from simulators.pki.names import as_kind
from simulators.pki.ocsp import MAX_REQUEST_BYTES
from simulators.pki.testpki import TestPki

log = logging.getLogger(__name__)

CPS_TEXT = (
    "mynaterm test JPKI. NOT the Japan Agency for Local Authority Information Systems.\n"
    "Certificates from this authority certify nothing about anyone; they exist for tests.\n"
)


class _Handler(BaseHTTPRequestHandler):
    pki: ClassVar[TestPki]
    server_version = "mynaterm-test-pki/1"
    protocol_version = "HTTP/1.1"
    # Send headers and body in one segment: otherwise Nagle's algorithm and the client's
    # delayed ACK add ~40 ms to every kept-alive exchange.
    wbufsize = -1
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _send(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: HTTPStatus, message: str) -> None:
        self._send(status, (message + "\n").encode())

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        path = url.path
        try:
            if path.startswith("/crl/"):
                der = self.pki.crl_for_url(self.path)
                self._send(HTTPStatus.OK, der, "application/pkix-crl")
            elif path.startswith("/ocsp/"):
                kind, _, encoded = path.removeprefix("/ocsp/").partition("/")
                try:
                    request = base64.b64decode(unquote(encoded), validate=True)
                except (binascii.Error, ValueError):
                    request = b""  # the responder answers malformedRequest
                self._answer_ocsp(kind, request)
            elif path.startswith("/ca/") and path.endswith(".cer"):
                kind, _, generation = path[len("/ca/") : -len(".cer")].partition("-")
                self._send(
                    HTTPStatus.OK,
                    self.pki.ca_certificate(kind, generation),
                    "application/pkix-cert",
                )
            elif path.startswith("/ocsp-responder/") and path.endswith(".cer"):
                name = path[len("/ocsp-responder/") : -len(".cer")]
                kind, _, generation = name.partition("-")
                self._send(
                    HTTPStatus.OK,
                    self.pki.ocsp_responder_certificate(kind, generation),
                    "application/pkix-cert",
                )
            elif path in ("/cps.html", "/"):
                self._send(HTTPStatus.OK, CPS_TEXT.encode(), "text/plain; charset=utf-8")
            else:
                self._error(HTTPStatus.NOT_FOUND, "not found")
        except PkiError as exc:
            self._error(HTTPStatus.NOT_FOUND, str(exc))
        except Exception:  # a bug must still answer, and leave the server running
            log.exception("test PKI failed to answer GET %s", path)
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error")

    def do_POST(self) -> None:
        # Read (or refuse) the body before anything else: on a kept-alive connection an
        # unread body would be taken for the next request.
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self.close_connection = True
            self._error(HTTPStatus.LENGTH_REQUIRED, "Content-Length required")
            return
        if length < 0 or length > MAX_REQUEST_BYTES:
            self.close_connection = True
            self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "OCSP request too large")
            return
        body = self.rfile.read(length)
        path = urlsplit(self.path).path
        if not path.startswith("/ocsp/") or path.count("/") != 2:
            self._error(HTTPStatus.NOT_FOUND, "POST only to /ocsp/<kind>")
            return
        try:
            self._answer_ocsp(path.removeprefix("/ocsp/"), body)
        except PkiError as exc:
            self._error(HTTPStatus.NOT_FOUND, str(exc))
        except Exception:
            log.exception("test PKI failed to answer POST %s", path)
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error")

    def _answer_ocsp(self, kind: str, request: bytes) -> None:
        response = self.pki.ocsp_response(request, kind=as_kind(kind))
        self._send(HTTPStatus.OK, response, "application/ocsp-response")


class PkiServer:
    """A running HTTP server for one TestPki. Stop it with `.stop()` or a with-block."""

    def __init__(self, pki: TestPki, host: str, port: int) -> None:
        handler = type("PkiHandler", (_Handler,), {"pki": pki})
        self._httpd = ThreadingHTTPServer((host, port), handler)
        self._httpd.daemon_threads = True
        self.host = host
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name=f"test-pki-http-{self.port}", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self._httpd.server_close()

    def __enter__(self) -> PkiServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def serve(pki: TestPki, host: str = "127.0.0.1", port: int | None = None) -> PkiServer:
    """Serve `pki` in a background thread. `port=None` uses the port of the PKI's base URL
    (so the URLs in its certificates work); `port=0` picks a free one."""
    if port is None:
        port = urlsplit(pki.base_url).port or 80
    return PkiServer(pki, host, port)
