"""Path validation for the single-tier JPKI: one end-entity certificate directly under
one trust anchor, at one instant, fit for one kind, and not revoked."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes

from jpki.clock import utc_now
from jpki.constants import CertKind
from jpki.validation.certinfo import (
    ParsedCertificate,
    RevocationPointers,
    check_fit_for_kind,
    common_name,
    load_signed,
    revocation_pointers,
)
from jpki.validation.errors import (
    LIBRARY_PARSE_ERRORS,
    CertificateExpiredError,
    InvalidInstantError,
    MalformedCertificateError,
    RevocationUnknownError,
    UntrustedCertificateError,
)
from jpki.validation.policy import RevocationPolicy
from jpki.validation.result import RevocationResult, ValidationResult
from jpki.validation.revocation import RevocationChecker
from jpki.validation.trust import TrustAnchor, TrustStore

DEFAULT_PATH_CACHE_SIZE = 10_000
_CA_KINDS = (CertKind.AUTH_CA, CertKind.SIGN_CA)


class RevocationCheck(Protocol):
    """What the validator needs from a revocation checker: a verified "good" result, or
    CertificateRevokedError, or RevocationUnknownError (cannot decide)."""

    def check(
        self, cert: x509.Certificate, issuer: TrustAnchor, *, at: datetime
    ) -> RevocationResult: ...


def as_utc(at: datetime | None) -> datetime:
    """`at` as an aware UTC datetime; None means now; a naive datetime is taken as UTC.
    Raises InvalidInstantError for an instant outside what UTC datetimes can hold (the
    first and last hours of years 1 and 9999 with a far offset), and for one the
    epoch arithmetic later on cannot take."""
    if at is None:
        return utc_now()
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    try:
        when = at.astimezone(UTC)
        when.timestamp()
    except (OverflowError, ValueError, OSError) as exc:
        raise InvalidInstantError(f"instant {at.isoformat()} is out of range") from exc
    return when


@dataclass(frozen=True)
class _VerifiedPath:
    """What holds for one exact certificate whatever the instant: its signature verifies
    under `anchor`, it is fit for the kind, and its parsed facts. Validity at the
    instant, the anchor's validity and revocation are not in here: they are checked on
    every call."""

    anchor: TrustAnchor
    serial: int
    subject: str
    common_name: str
    not_before: datetime
    not_after: datetime
    pointers: RevocationPointers | None  # None for a trust anchor itself
    # Kept so a login verifies its token signature with a key object that has done so
    # before: a freshly extracted RSA key costs about 10 us more on its first
    # verification (extraction and Montgomery set-up) than one already used.
    public_key: CertificatePublicKeyTypes | None  # None: the library cannot load it


@dataclass(frozen=True)
class ParsedValidation(ValidationResult):
    """validate_parsed's result: a ValidationResult that also carries the subject's
    common name, kept with the verified path (the login flow shows it, and reading it
    off a freshly parsed certificate costs about 8 us)."""

    common_name: str


def _result(
    path: _VerifiedPath, kind: CertKind, when: datetime, revocation: RevocationResult
) -> ParsedValidation:
    """The result of one validation, from its verified path."""
    return ParsedValidation(
        serial=path.serial,
        issuer_key_id=path.anchor.key_id,
        subject=path.subject,
        kind=kind,
        not_before=path.not_before,
        not_after=path.not_after,
        validated_at=when,
        anchor=path.anchor.label,
        anchor_sha256=path.anchor.sha256,
        revocation=revocation,
        common_name=path.common_name,
    )


class _PathCache:
    """A bounded, thread-safe LRU of verified paths, keyed by (SHA-256 of the exact
    certificate bytes, kind): another certificate, or the same one for another kind,
    never hits. Only successes are stored. Size 0 disables it."""

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError("the path cache size must not be negative")
        self.size = size
        self._entries: OrderedDict[tuple[bytes, CertKind], _VerifiedPath] = OrderedDict()
        self._lock = threading.Lock()
        # Replaced by clear(): a path verified before a clear (against an old trust
        # store, say) by a thread that started earlier is not stored after it.
        self.epoch = object()

    def get(self, key: tuple[bytes, CertKind]) -> _VerifiedPath | None:
        if not self.size:
            return None
        with self._lock:
            path = self._entries.get(key)
            if path is not None:
                self._entries.move_to_end(key)
            return path

    def put(self, key: tuple[bytes, CertKind], path: _VerifiedPath, epoch: object) -> None:
        if not self.size:
            return
        with self._lock:
            if epoch is not self.epoch:
                return
            self._entries[key] = path
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.epoch = object()

    def __len__(self) -> int:
        return len(self._entries)


class CertificateValidator:
    """Validates certificates against one trust store.

    A certificate seen before (same bytes, same kind) skips what cannot change between
    calls: parsing, the CA signature and kind fitness, remembered in a bounded LRU of
    `path_cache_size` entries. Validity at the instant, the anchor generation's
    validity and revocation are checked on every call."""

    def __init__(
        self,
        trust: TrustStore,
        policy: RevocationPolicy | None = None,
        revocation: RevocationCheck | None = None,
        *,
        path_cache_size: int = DEFAULT_PATH_CACHE_SIZE,
    ) -> None:
        self._paths = _PathCache(path_cache_size)
        self._trust = trust
        self.policy = policy or RevocationPolicy()
        self.revocation = revocation

    @property
    def trust(self) -> TrustStore:
        return self._trust

    @trust.setter
    def trust(self, trust: TrustStore) -> None:
        # Remembered paths name anchors of the old store: forget them.
        self._trust = trust
        self._paths.clear()

    def validate(
        self, cert_der: bytes, kind: CertKind | str, *, at: datetime | None = None
    ) -> ValidationResult:
        """Validate `cert_der` as a `kind` certificate at instant `at` (default now, UTC).

        Raises MalformedCertificateError, CertificateExpiredError,
        UntrustedCertificateError, CertificateRevokedError or RevocationUnknownError
        (hard-fail). Returns a result only when every check passed."""
        kind = _as_kind(kind)
        path, when, revocation = self._checked(cert_der, None, kind, at)
        return _result(path, kind, when, revocation)

    def validate_parsed(
        self, parsed: ParsedCertificate, kind: CertKind | str, *, at: datetime | None = None
    ) -> ParsedValidation:
        """validate() for a certificate the caller already parsed (certinfo.parse_der):
        the same checks, without parsing the bytes a second time."""
        kind = _as_kind(kind)
        path, when, revocation = self._checked(
            parsed.der, parsed.certificate, kind, at, digest=parsed.sha256
        )
        return _result(path, kind, when, revocation)

    def subject_public_key(
        self, parsed: ParsedCertificate, kind: CertKind | str
    ) -> CertificatePublicKeyTypes:
        """The certificate's public key: the object kept with its verified path when this
        exact certificate was validated for `kind` before, else a fresh one. Nothing is
        validated here. Raises MalformedCertificateError when the key does not parse."""
        path = self._paths.get((parsed.sha256, _as_kind(kind)))
        if path is not None and path.public_key is not None:
            return path.public_key
        try:
            return parsed.certificate.public_key()
        except LIBRARY_PARSE_ERRORS as exc:
            raise MalformedCertificateError(f"public key does not parse: {exc}") from exc

    def _checked(
        self,
        data: bytes,
        cert: x509.Certificate | None,
        kind: CertKind,
        at: datetime | None,
        *,
        digest: bytes | None = None,
    ) -> tuple[_VerifiedPath, datetime, RevocationResult]:
        """Every check for `data` (and `cert`, its parse, and `digest`, its SHA-256, when
        the caller has them from a ParsedCertificate)."""
        when = as_utc(at)
        if not isinstance(data, bytes | bytearray | memoryview):
            raise MalformedCertificateError("certificate must be bytes")
        data = bytes(data)
        key = (hashlib.sha256(data).digest() if digest is None else digest, kind)
        epoch = self._paths.epoch  # before the trust store is read (see _PathCache)
        path = self._paths.get(key)
        if path is None:
            cert, path = self._verify_path(data, cert, kind, when)
            self._paths.put(key, path, epoch)
        else:
            _check_validity(path.not_before, path.not_after, when)
            _check_anchor_validity(path.anchor, path.subject, when)
        if kind in _CA_KINDS:
            return (
                path,
                when,
                RevocationResult(
                    status="not-checked",
                    source=None,
                    checked_at=when,
                    soft_fail_reason="trust anchor: no revocation applies",
                ),
            )
        if cert is None:  # a cache hit: the revocation checker takes a parsed certificate
            cert = _parse_known_good(data)
        return path, when, self._revocation(cert, path, when)

    def _verify_path(
        self, data: bytes, parsed: x509.Certificate | None, kind: CertKind, when: datetime
    ) -> tuple[x509.Certificate, _VerifiedPath]:
        """Every check but revocation, in the order that decides which error a bad
        certificate gets: shape, validity, issuer signature, anchor validity, fitness."""
        cert, parts = load_signed(data, parsed)
        not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
        _check_validity(not_before, not_after, when)
        if kind in _CA_KINDS:
            anchor = self._anchor_itself(cert, parts.der)
        else:
            anchor = self._trust.issuer_of(cert, parts)
        subject = cert.subject.rfc4514_string()
        _check_anchor_validity(anchor, subject, when)
        check_fit_for_kind(cert, kind)
        # Read once for the calls to come, and only for a certificate that passed.
        return cert, _VerifiedPath(
            anchor=anchor,
            serial=parts.serial,
            subject=subject,
            common_name=common_name(cert),
            not_before=not_before,
            not_after=not_after,
            pointers=None if kind in _CA_KINDS else revocation_pointers(cert),
            public_key=_public_key_or_none(cert),
        )

    def _anchor_itself(self, cert: x509.Certificate, der: bytes) -> TrustAnchor:
        """A CA certificate (as read from a card) is acceptable only if it IS an anchor."""
        for anchor in self._trust.anchors:
            if anchor.der == der:
                return anchor
        raise UntrustedCertificateError(
            "CA certificate is not one of the configured trust anchors",
            reason="unknown-anchor",
            subject=cert.subject.rfc4514_string(),
            issuer=cert.issuer.rfc4514_string(),
        )

    def _revocation(
        self, cert: x509.Certificate, path: _VerifiedPath, when: datetime
    ) -> RevocationResult:
        try:
            if self.revocation is None:
                raise RevocationUnknownError(
                    serial=path.serial, reasons=[("none", "no revocation source configured")]
                )
            if isinstance(self.revocation, RevocationChecker):
                # The project's checker takes the pointers read once per certificate.
                return self.revocation.check(cert, path.anchor, at=when, pointers=path.pointers)
            return self.revocation.check(cert, path.anchor, at=when)
        except RevocationUnknownError as exc:
            if not self.policy.soft_fail:
                raise
            return RevocationResult(
                status="not-checked", source=None, checked_at=when, soft_fail_reason=exc.message
            )


def _as_kind(kind: CertKind | str) -> CertKind:
    # CertKind(member) goes through the enum machinery: ~0.4 us a call, twice per login.
    return kind if isinstance(kind, CertKind) else CertKind(kind)


def _check_validity(not_before: datetime, not_after: datetime, when: datetime) -> None:
    if not not_before <= when <= not_after:
        raise CertificateExpiredError(not_before=not_before, not_after=not_after, at=when)


def _check_anchor_validity(anchor: TrustAnchor, subject: str, when: datetime) -> None:
    if not anchor.not_before <= when <= anchor.not_after:
        raise UntrustedCertificateError(
            f"issuing CA generation {anchor.label} not valid at {when.isoformat()}",
            reason="anchor-expired",
            subject=subject,
            issuer=anchor.subject,
        )


def _public_key_or_none(cert: x509.Certificate) -> CertificatePublicKeyTypes | None:
    # Path validation never needed the subject key: one cryptography cannot load (an
    # exotic algorithm) is no reason to refuse the certificate here.
    try:
        return cert.public_key()
    except LIBRARY_PARSE_ERRORS:
        return None


def _parse_known_good(data: bytes) -> x509.Certificate:
    """Parse bytes that passed every check before (a path cache hit): only the outer
    parse, which cannot fail on them, and no extensions."""
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except LIBRARY_PARSE_ERRORS as exc:  # only if the library changed under us
        raise MalformedCertificateError(f"not an X.509 certificate: {exc}") from exc
