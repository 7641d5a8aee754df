"""Typed linkage errors, each with a stable `code` the service and CLI report."""

from __future__ import annotations

from terminal.db.errors import StoreBusy, StoreError, StoreUnavailable


class LinkageError(Exception):
    code = "LINKAGE_ERROR"


class InvalidCertInfo(LinkageError):
    """Certificate facts that cannot be right (serial out of range, bad key id, dates)."""

    code = "INVALID_CERT_INFO"


class InvalidRequest(LinkageError):
    """A request the registry refuses as malformed (missing portal symbol, bad reason)."""

    code = "INVALID_REQUEST"


class LinkConflict(LinkageError):
    """The serial (or symbol) is already linked: to another person, or by another
    issuance. Exactly one of two concurrent issuances of a card gets through."""

    code = "LINK_CONFLICT"


class SymbolConflict(LinkConflict):
    """An agency symbol given for this person already belongs to someone else, or the
    person already has a different symbol for that agency."""

    code = "SYMBOL_CONFLICT"


class ChainLoop(LinkageError):
    """A renewal would chain a certificate back into its own history."""

    code = "CHAIN_LOOP"


class AlreadyRenewed(LinkageError):
    """The old certificate already has a successor (a different renewal happened)."""

    code = "ALREADY_RENEWED"


class UnknownSerial(LinkageError):
    code = "UNKNOWN_SERIAL"


class AmbiguousSerial(LinkageError):
    """The serial is linked under more than one issuer; give the issuer key id."""

    code = "AMBIGUOUS_SERIAL"


class UnknownPerson(LinkageError):
    code = "UNKNOWN_PERSON"


class ActiveCardExists(LinkageError):
    """The person still has an active card; revoke it (loss, return) or renew it."""

    code = "ACTIVE_CARD_EXISTS"


class NotLinked(LinkageError):
    """No person is linked to this certificate (or it is not an auth certificate)."""

    code = "NOT_LINKED"


class CertRevoked(LinkageError):
    """The certificate was revoked or superseded by renewal; it no longer resolves."""

    code = "CERT_REVOKED"

    def __init__(self, message: str, *, status: str, reason: str | None) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class CertExpired(LinkageError):
    code = "CERT_EXPIRED"


class MyNumberIndexMissing(LinkageError):
    """A My Number was given but no index secret is configured."""

    code = "MYNUMBER_INDEX_NOT_CONFIGURED"


__all__ = [
    "ActiveCardExists",
    "AlreadyRenewed",
    "AmbiguousSerial",
    "CertExpired",
    "CertRevoked",
    "ChainLoop",
    "InvalidCertInfo",
    "InvalidRequest",
    "LinkConflict",
    "LinkageError",
    "MyNumberIndexMissing",
    "NotLinked",
    "StoreBusy",
    "StoreError",
    "StoreUnavailable",
    "SymbolConflict",
    "UnknownPerson",
    "UnknownSerial",
]
