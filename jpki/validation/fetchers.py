"""Where CRL bytes and OCSP answers come from, behind small interfaces so tests and
air-gapped counters swap HTTP for files or memory."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse

import httpx

from jpki.validation.errors import FetchError

DEFAULT_MAX_CRL_BYTES = 200 * 1024 * 1024
MAX_OCSP_RESPONSE_BYTES = 1024 * 1024


class CrlFetcher(Protocol):
    def fetch(self, url: str) -> bytes:
        """The DER CRL at `url`. Raises FetchError."""
        ...


class OcspTransport(Protocol):
    def post(self, url: str, request_der: bytes, timeout: float) -> bytes:
        """POST an OCSP request, return the DER response. Raises FetchError."""
        ...


def _scheme(url: str) -> str:
    """The URL's scheme, or "" when it does not parse (e.g. a broken IPv6 host)."""
    try:
        return urlparse(url).scheme.lower()
    except ValueError:
        return ""


def crl_der(data: bytes) -> bytes:
    """Accept a CRL as DER or PEM ("X509 CRL" armour); return DER."""
    stripped = data.lstrip()
    if not stripped.startswith(b"-----BEGIN"):
        return data
    lines = stripped.decode("ascii", "replace").splitlines()
    try:
        begin = next(i for i, line in enumerate(lines) if line.startswith("-----BEGIN X509 CRL"))
        end = next(i for i, line in enumerate(lines) if line.startswith("-----END X509 CRL"))
        return base64.b64decode("".join(lines[begin + 1 : end]), validate=True)
    except (StopIteration, binascii.Error, ValueError) as exc:
        raise FetchError("PEM data holds no X509 CRL", reason_code="FETCH_BAD_PEM") from exc


def _read_capped(response: httpx.Response, cap: int, url: str) -> bytes:
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        raise FetchError(
            f"{url}: {declared} bytes exceed the cap of {cap}", reason_code="FETCH_TOO_LARGE"
        )
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > cap:
            raise FetchError(f"{url}: more than {cap} bytes", reason_code="FETCH_TOO_LARGE")
        chunks.append(chunk)
    return b"".join(chunks)


class HttpCrlFetcher:
    """GET over http(s) with a bounded timeout and size cap. Redirects are not followed
    (a CRL distribution point names the place)."""

    def __init__(
        self,
        *,
        timeout: float = 30.0,
        max_bytes: int = DEFAULT_MAX_CRL_BYTES,
        client: httpx.Client | None = None,
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._client = client

    def fetch(self, url: str) -> bytes:
        if _scheme(url) not in ("http", "https"):
            raise FetchError(f"not an http(s) URL: {url}", reason_code="FETCH_BAD_URL")
        client = self._client or httpx.Client(timeout=self.timeout)
        try:
            with client.stream("GET", url, timeout=self.timeout) as response:
                if response.status_code != 200:
                    raise FetchError(
                        f"{url}: HTTP {response.status_code}", reason_code="FETCH_HTTP_STATUS"
                    )
                return crl_der(_read_capped(response, self.max_bytes, url))
        except httpx.TimeoutException as exc:
            raise FetchError(
                f"{url}: timed out after {self.timeout} s", reason_code="FETCH_TIMEOUT"
            ) from exc
        except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
            raise FetchError(f"{url}: {exc}", reason_code="FETCH_NETWORK") from exc
        finally:
            if self._client is None:
                client.close()


class FileCrlFetcher:
    """Reads `file://` URLs and plain paths; with `base`, relative names resolve there."""

    def __init__(
        self, base: str | Path | None = None, *, max_bytes: int = DEFAULT_MAX_CRL_BYTES
    ) -> None:
        self.base = Path(base) if base is not None else None
        self.max_bytes = max_bytes

    def fetch(self, url: str) -> bytes:
        path = Path(unquote(urlparse(url).path)) if _scheme(url) == "file" else Path(url)
        if self.base is not None and not path.is_absolute():
            path = self.base / path
        try:
            size = path.stat().st_size
            if size > self.max_bytes:
                raise FetchError(
                    f"{path}: {size} bytes exceed the cap of {self.max_bytes}",
                    reason_code="FETCH_TOO_LARGE",
                )
            return crl_der(path.read_bytes())
        except OSError as exc:
            raise FetchError(
                f"{path}: {exc.strerror or exc}", reason_code="FETCH_NOT_FOUND"
            ) from exc


class InMemoryCrlFetcher:
    """URL -> bytes, for tests and for CRLs delivered by another channel."""

    def __init__(self, crls: Mapping[str, bytes] | None = None) -> None:
        self.crls: dict[str, bytes] = dict(crls or {})
        self.fetched: list[str] = []

    def fetch(self, url: str) -> bytes:
        self.fetched.append(url)
        try:
            return self.crls[url]
        except KeyError:
            raise FetchError(f"no CRL at {url}", reason_code="FETCH_NOT_FOUND") from None


class RoutingCrlFetcher:
    """http(s) URLs over HTTP, everything else from files."""

    def __init__(self, http: CrlFetcher | None = None, files: CrlFetcher | None = None) -> None:
        self.http = http or HttpCrlFetcher()
        self.files = files or FileCrlFetcher()

    def fetch(self, url: str) -> bytes:
        if _scheme(url) in ("http", "https"):
            return self.http.fetch(url)
        return self.files.fetch(url)


class HttpOcspTransport:
    """RFC 6960 POST with content type application/ocsp-request."""

    def __init__(self, client: httpx.Client | None = None) -> None:
        self._client = client

    def post(self, url: str, request_der: bytes, timeout: float) -> bytes:
        if _scheme(url) not in ("http", "https"):
            raise FetchError(f"not an http(s) URL: {url}", reason_code="FETCH_BAD_URL")
        client = self._client or httpx.Client()
        try:
            with client.stream(
                "POST",
                url,
                content=request_der,
                timeout=timeout,
                headers={
                    "Content-Type": "application/ocsp-request",
                    "Accept": "application/ocsp-response",
                },
            ) as response:
                if response.status_code != 200:
                    raise FetchError(
                        f"{url}: HTTP {response.status_code}", reason_code="FETCH_HTTP_STATUS"
                    )
                return _read_capped(response, MAX_OCSP_RESPONSE_BYTES, url)
        except httpx.TimeoutException as exc:
            raise FetchError(
                f"{url}: timed out after {timeout} s", reason_code="FETCH_TIMEOUT"
            ) from exc
        except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
            raise FetchError(f"{url}: {exc}", reason_code="FETCH_NETWORK") from exc
        finally:
            if self._client is None:
                client.close()


class InMemoryOcspTransport:
    """Hands the request to a responder function in process (tests, simulators)."""

    def __init__(self, responder: Callable[[bytes], bytes]) -> None:
        self.responder = responder
        self.requests: list[bytes] = []

    def post(self, url: str, request_der: bytes, timeout: float) -> bytes:
        self.requests.append(request_der)
        try:
            return self.responder(request_der)
        except FetchError:
            raise
        except Exception as exc:  # the in-process responder failing is a fetch failure
            raise FetchError(
                f"{url}: responder failed: {exc}", reason_code="FETCH_NETWORK"
            ) from exc
