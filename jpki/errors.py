"""Domain errors of the applet sessions. Card-level errors (InvalidPinError,
PinBlockedError, CardRemovedError, ...) live in card.errors and are re-raised as is."""

from __future__ import annotations

from card.errors import CardError, MalformedResponseError


class PinFormatError(CardError, ValueError):
    """The PIN does not have the format the card requires. Raised BEFORE any APDU is
    sent, so no try is spent on a PIN that cannot be right."""

    code: str = "PIN_FORMAT"
    show_message: bool = True  # says what the format is, never the PIN


class NotAMyNumberCardError(CardError):
    """The card does not answer the JPKI applet's SELECT: not an Individual Number Card."""

    code: str = "NOT_A_MYNUMBER_CARD"


class CardDataError(MalformedResponseError):
    """Data read from the card is inconsistent (bad check digit, integrity hashes that
    do not match, impossible dates)."""


class DigestError(ValueError):
    """A digest of the wrong length, or an algorithm the policy refuses (SHA-1)."""

    code: str = "DIGEST_INVALID"


# What asn1crypto raises, often lazily (on `.native`, `.dump()`, item access), for bytes
# it cannot decode: besides ValueError and TypeError, crafted input reaches code paths
# that fail with AttributeError, IndexError, KeyError or OverflowError. Parsers of
# untrusted ASN.1 turn all of these into their own typed error, in one place.
ASN1_PARSE_ERRORS: tuple[type[Exception], ...] = (
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    IndexError,
    OverflowError,
    RecursionError,
)
