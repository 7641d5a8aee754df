"""Combining CRL and OCSP per the policy: the first source that gives a verified answer
decides; when none does, RevocationUnknownError lists why each failed.

CRL: the certificate's directoryName distribution point names the partition; the CRL
comes from the held store, else from a configured location for the partition, else from
the certificate's URI distribution points. Only the CA generation that issued the
certificate is accepted as the CRL's signer (fail closed after a key rollover)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from datetime import datetime

from cryptography import x509

from jpki.validation.certinfo import RevocationPointers, revocation_pointers
from jpki.validation.crlstore import COMPLETE, CrlStore
from jpki.validation.errors import (
    CertificateRevokedError,
    CrlError,
    OcspError,
    RevocationSourceError,
    RevocationUnknownError,
)
from jpki.validation.fetchers import CrlFetcher, RoutingCrlFetcher
from jpki.validation.ocsp import OcspClient
from jpki.validation.policy import RevocationPolicy
from jpki.validation.result import RevocationResult
from jpki.validation.trust import TrustAnchor

log = logging.getLogger("mynaterm.validation.revocation")

# A held CRL that cannot answer for one of these reasons is worth fetching again.
_REFETCH = {"CRL_NOT_HELD", "CRL_EXPIRED", "CRL_NOT_YET_VALID"}


class RevocationChecker:
    """Implements validator.RevocationCheck. Thread-safe; one fetch per partition at a
    time, and after a failed fetch the partition is not fetched again for
    `retry_after` seconds (a national outage must not become a download storm).

    The policy decides the mode and the order of sources. Timeouts, skews and the OCSP
    max age configure the store and client that `with_defaults` builds; a store or
    client passed in keeps its own (an OCSP client must then require nonces whenever
    the policy does)."""

    def __init__(
        self,
        policy: RevocationPolicy | None = None,
        *,
        crl_store: CrlStore | None = None,
        crl_fetcher: CrlFetcher | None = None,
        ocsp: OcspClient | None = None,
        crl_locations: Mapping[str, str] | None = None,
        ocsp_url: str | None = None,
        retry_after: float = 30.0,
    ) -> None:
        self.policy = policy or RevocationPolicy()
        self.crl_store = (
            crl_store
            if crl_store is not None
            else CrlStore(
                None,
                max_bytes=self.policy.max_crl_bytes,
                max_entries=self.policy.max_crl_entries,
                clock_skew=self.policy.crl_max_clock_skew,
            )
        )
        self.crl_fetcher = crl_fetcher
        if ocsp is not None and self.policy.require_nonce and not ocsp.require_nonce:
            # A client built elsewhere keeps its own settings; it may be stricter than the
            # policy, never laxer on replay protection.
            raise ValueError("the policy requires OCSP nonces but the OCSP client does not")
        self.ocsp = ocsp
        self.crl_locations = dict(crl_locations or {})
        self.ocsp_url = ocsp_url
        self.retry_after = retry_after
        self._fetch_locks: dict[str, threading.Lock] = {}
        self._failed: dict[str, tuple[float, str]] = {}
        self._guard = threading.Lock()

    @classmethod
    def with_defaults(
        cls,
        policy: RevocationPolicy | None = None,
        *,
        crl_directory: str | None = None,
        crl_index_key: bytes | None = None,
        trust: Iterable[TrustAnchor] | None = None,
    ) -> RevocationChecker:
        """HTTP OCSP and HTTP/file CRL fetching with the policy's timeouts. A persisted
        CRL index is used after a restart only under `crl_index_key`; otherwise its
        signed CRL is verified again against `trust` (see CrlStore)."""
        from jpki.validation.fetchers import HttpCrlFetcher

        policy = policy or RevocationPolicy()
        return cls(
            policy,
            crl_store=CrlStore(
                crl_directory,
                max_bytes=policy.max_crl_bytes,
                max_entries=policy.max_crl_entries,
                clock_skew=policy.crl_max_clock_skew,
                index_key=crl_index_key,
                trust=trust,
            ),
            crl_fetcher=RoutingCrlFetcher(
                HttpCrlFetcher(timeout=policy.crl_timeout, max_bytes=policy.max_crl_bytes)
            ),
            ocsp=OcspClient(
                timeout=policy.ocsp_timeout,
                require_nonce=policy.require_nonce,
                max_age=policy.ocsp_max_age,
                clock_skew=policy.ocsp_max_clock_skew,
            ),
        )

    def check(
        self,
        cert: x509.Certificate,
        issuer: TrustAnchor,
        *,
        at: datetime,
        pointers: RevocationPointers | None = None,
    ) -> RevocationResult:
        """`pointers`, when the caller already read them from this same certificate
        (the path validator keeps them per certificate), spare re-reading its
        extensions: about 100 us for a freshly parsed JPKI certificate."""
        reasons: list[tuple[str, str]] = []
        for source in self.policy.sources:
            try:
                if source == "ocsp":
                    return self._ocsp(cert, issuer, at, pointers)
                return self._crl(cert, issuer, at, pointers)
            except RevocationSourceError as exc:
                reasons.append((source, f"{exc.reason_code}: {exc.message}"))
            except CertificateRevokedError:
                raise
            except Exception as exc:  # any other failure: cannot decide
                # Unexpected (a library raising on odd input, a bug): never "good", and
                # the caller still gets the typed RevocationUnknownError.
                log.warning("revocation source %s failed: %s", source, type(exc).__name__)
                reasons.append((source, f"SOURCE_FAILED: {type(exc).__name__}: {exc}"))
        raise RevocationUnknownError(serial=cert.serial_number, reasons=reasons)

    def _ocsp(
        self,
        cert: x509.Certificate,
        issuer: TrustAnchor,
        at: datetime,
        pointers: RevocationPointers | None,
    ) -> RevocationResult:
        if self.ocsp is None:
            raise OcspError("no OCSP client configured", reason_code="OCSP_NOT_CONFIGURED")
        url = self.ocsp_url
        if url is None and pointers is not None and pointers.ocsp_urls:
            url = pointers.ocsp_urls[0]  # what the client would read from the certificate
        answer = self.ocsp.check(cert, issuer, url=url, at=at)
        if answer.status == "revoked":
            raise CertificateRevokedError(
                serial=cert.serial_number,
                revoked_at=answer.revoked_at,
                reason=answer.reason,
                source="ocsp",
            )
        return RevocationResult(
            status="good",
            source="ocsp",
            checked_at=at,
            this_update=answer.this_update,
            next_update=answer.next_update,
        )

    def _crl(
        self,
        cert: x509.Certificate,
        issuer: TrustAnchor,
        at: datetime,
        pointers: RevocationPointers | None,
    ) -> RevocationResult:
        if pointers is None:
            pointers = revocation_pointers(cert)
        partition = pointers.partition_id or COMPLETE
        serial = cert.serial_number
        try:
            entry = self.crl_store.lookup(partition, serial, issuer_key_id=issuer.key_id, at=at)
        except CrlError as exc:
            if exc.reason_code not in _REFETCH:
                raise
            self._refresh(partition, pointers.crl_urls, issuer, at, exc)
            entry = self.crl_store.lookup(partition, serial, issuer_key_id=issuer.key_id, at=at)
        info = self.crl_store.index(partition, issuer.key_id).info
        if entry is not None:
            raise CertificateRevokedError(
                serial=serial, revoked_at=entry.revoked_at, reason=entry.reason, source="crl"
            )
        return RevocationResult(
            status="good",
            source="crl",
            checked_at=at,
            this_update=info.this_update,
            next_update=info.next_update,
        )

    def _refresh(
        self,
        partition: str,
        urls: tuple[str, ...],
        issuer: TrustAnchor,
        at: datetime,
        why: CrlError,
    ) -> None:
        locations = (
            [self.crl_locations[partition]] if partition in self.crl_locations else list(urls)
        )
        if not locations or self.crl_fetcher is None:
            raise CrlError(
                f"{why.message}; and no place to fetch the CRL from"
                + ("" if self.crl_fetcher else " (no fetcher configured)"),
                reason_code=why.reason_code,
            )
        with self._guard:
            lock = self._fetch_locks.setdefault(partition, threading.Lock())
        with lock:
            try:  # another thread may have fetched it while this one waited
                self.crl_store.lookup(partition, 1, issuer_key_id=issuer.key_id, at=at)
                return
            except CrlError:
                pass
            failed = self._failed.get(partition)
            if failed is not None and time.monotonic() - failed[0] < self.retry_after:
                raise CrlError(
                    f"{why.message}; last fetch failed: {failed[1]}", reason_code=why.reason_code
                )
            errors = []
            for location in locations:
                try:
                    crl = self.crl_fetcher.fetch(location)
                    self.crl_store.load(crl, [issuer], partition=partition, at=at)
                    self._failed.pop(partition, None)
                    return
                except RevocationSourceError as exc:
                    errors.append(f"{location}: {exc.reason_code}: {exc.message}")
            detail = "; ".join(errors)
            self._failed[partition] = (time.monotonic(), detail)
            raise CrlError(f"{why.message}; fetch failed: {detail}", reason_code=why.reason_code)
