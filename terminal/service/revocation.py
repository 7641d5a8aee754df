"""Revocation for the service: CRLs fetched from a source, verified by
jpki.validation.CrlStore, refreshed when they are older than `max_age` seconds, so a
certificate revoked while the service runs is refused within that time.

The source is a callable returning the current CRLs (the local test PKI in the demo and
tests). Any failure to get a usable CRL means "cannot decide" (REVOCATION_UNKNOWN), never
"good"."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from cryptography import x509

from jpki.validation import (
    CertificateRevokedError,
    CrlError,
    RevocationResult,
    RevocationUnknownError,
    TrustAnchor,
    TrustStore,
)
from jpki.validation.certinfo import revocation_pointers
from jpki.validation.crlstore import CrlStore

log = logging.getLogger("mynaterm.service.revocation")

CrlSource = Callable[[datetime], list[bytes]]


class RefreshingCrlRevocation:
    def __init__(self, source: CrlSource, trust: TrustStore, *, max_age: float = 30.0) -> None:
        self._source = source
        self._trust = trust
        self._max_age = max_age
        self._store = CrlStore()
        self._loaded_at: float | None = None
        self._lock = threading.Lock()

    def refresh(self, now: datetime | None = None) -> None:
        """Fetch and verify every CRL now. Raises on a source failure."""
        now = now or datetime.now(UTC)
        crls = self._source(now)
        store = CrlStore()
        for crl in crls:
            store.load(crl, self._trust, at=now)
        self._store = store
        self._loaded_at = time.monotonic()

    def _current(self, at: datetime) -> CrlStore:
        with self._lock:
            stale = self._loaded_at is None or time.monotonic() - self._loaded_at >= self._max_age
            if stale:
                try:
                    self.refresh(max(at, datetime.now(UTC)))
                except Exception as exc:
                    # Keep the CRLs held: while fresh (nextUpdate) they still decide.
                    log.warning("CRL refresh failed: %s", type(exc).__name__)
            return self._store

    def check(
        self, cert: x509.Certificate, issuer: TrustAnchor, *, at: datetime
    ) -> RevocationResult:
        store = self._current(at)
        partition = revocation_pointers(cert).partition
        try:
            entry = store.lookup(partition, cert.serial_number, issuer_key_id=issuer.key_id, at=at)
            info = store.index(partition, issuer.key_id).info
        except CrlError as exc:
            raise RevocationUnknownError(
                serial=cert.serial_number, reasons=[("crl", f"{exc.reason_code}: {exc}")]
            ) from exc
        if entry is not None:
            raise CertificateRevokedError(
                serial=cert.serial_number,
                revoked_at=entry.revoked_at,
                reason=entry.reason,
                source="crl",
            )
        return RevocationResult(
            status="good",
            source="crl",
            checked_at=at,
            this_update=info.this_update,
            next_update=info.next_update,
        )


def test_pki_crl_source(pki: object) -> CrlSource:
    """Every current CRL of a simulators.pki.TestPki (both kinds, all partitions). The
    PKI object is not thread-safe, so calls are serialised."""
    lock = threading.Lock()

    def fetch(now: datetime) -> list[bytes]:
        with lock:
            crls: list[bytes] = []
            for kind in ("auth", "sign"):
                for partition in pki.partitions(kind):  # type: ignore[attr-defined]
                    crls.append(pki.crl(kind, partition, now=now))  # type: ignore[attr-defined]
            return crls

    return fetch
