"""Typed errors of the test PKI. Every bad input maps to one of these, never a traceback."""

from __future__ import annotations


class PkiError(Exception):
    """Base of every test-PKI error."""

    code = "PKI_ERROR"


class PkiStateError(PkiError):
    """The PKI directory is missing pieces, unreadable or from an incompatible version."""

    code = "PKI_STATE"


class UnknownKindError(PkiError, ValueError):
    """A CA kind other than "auth" or "sign"."""

    code = "USAGE"


class UnknownGenerationError(PkiError, LookupError):
    """No CA generation of that name exists for the kind."""

    code = "USAGE"


class InvalidPartitionError(PkiError, ValueError):
    """A partition id that is not "<prefecture_en>/<city_en>" or names unusable text."""

    code = "USAGE"


class UnknownSerialError(PkiError, LookupError):
    """The serial number was never issued by this PKI."""

    code = "UNKNOWN_SERIAL"

    def __init__(self, serial: int) -> None:
        super().__init__(f"serial {serial} was never issued by this PKI")
        self.serial = serial


class UnknownReasonError(PkiError, ValueError):
    """A revocation reason that is neither a JPKI event nor an RFC 5280 CRLReason name."""

    code = "BAD_REASON"


class AlreadyRevokedError(PkiError):
    """Revocation is final: a revoked certificate is never revoked again with a new reason
    or time (that would rewrite history a relying party may already have acted on)."""

    code = "ALREADY_REVOKED"

    def __init__(self, serial: int, reason: str, revoked_at: str) -> None:
        super().__init__(f"serial {serial} is already revoked ({reason} at {revoked_at})")
        self.serial = serial
        self.reason = reason
        self.revoked_at = revoked_at


class IssuanceError(PkiError, ValueError):
    """The persona or keys cannot be certified (e.g. not RSA-2048, unusable names)."""

    code = "ISSUANCE"


class UnknownUrlError(PkiError, LookupError):
    """A URL that names nothing this PKI publishes."""


class InvalidBaseUrlError(PkiError, ValueError):
    """A base URL that is not http(s)://host[:port] with no path."""

    code = "USAGE"
