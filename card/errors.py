"""Errors of the card layer. Every failure a caller can act on has its own type."""

from __future__ import annotations

from card.sw import format_sw, retries_from_sw


class CardError(Exception):
    """Base of every error raised by card/ and the layers built on it. `code` is the
    stable error code callers report (the terminal maps it to an HTTP status and an
    exit code)."""

    code: str = "CARD_ERROR"
    # Messages name reader internals and status words: callers show the code's text.
    show_message: bool = False


class TransportError(CardError):
    """The link to the card failed (reader, pcscd, socket)."""

    # These messages name the reader and say how to fix it (start pcscd, ...).
    show_message: bool = True


class CardRemovedError(TransportError):
    """The card was removed or reset by someone else mid-operation."""

    code: str = "CARD_REMOVED"


class NoCardError(TransportError):
    """No card is present in the reader."""

    code: str = "NO_CARD"


class NoReaderError(TransportError):
    """The named reader does not exist (or no reader is attached)."""

    code: str = "NO_READER"


class ReaderRemovedError(TransportError):
    """The reader was detached while in use."""

    code: str = "NO_READER"


class ReaderBusyError(TransportError):
    """Another client holds the card exclusively (sharing violation)."""

    code: str = "READER_BUSY"


class PcscUnavailableError(TransportError):
    """The PC/SC service (pcscd) is not running or not reachable."""

    code: str = "PCSC_UNAVAILABLE"


class PcscNotInstalledError(PcscUnavailableError, ImportError):
    """pyscard (the optional `pcsc` extra) is not installed. Raised when card.pcsc is
    imported; an ImportError too, so import guards keep working."""

    code: str = "PCSC_NOT_INSTALLED"


class CardTimeoutError(TransportError):
    """The card did not answer within the allowed time."""

    code: str = "CARD_TIMEOUT"


class MalformedResponseError(CardError):
    """The card's answer does not have the expected shape (too short, bad TLV, lying
    lengths). Never retried: a card that lies once is not trusted for the operation."""

    code: str = "MALFORMED_CARD_RESPONSE"


class MalformedApduError(CardError):
    """A command APDU that cannot be decoded (used by the software card)."""


class ApduError(CardError):
    """A command ended with a status word other than 9000."""

    def __init__(self, data: bytes, sw: int, message: str | None = None) -> None:
        self.data = bytes(data)
        self.sw = sw
        text = format_sw(sw)
        super().__init__(f"{message}: {text}" if message else text)


class SecurityStatusNotSatisfiedError(ApduError):
    """6982: the PIN protecting this file or key has not been verified."""

    code: str = "SECURITY_STATUS_NOT_SATISFIED"


class NotFoundError(ApduError):
    """6A82: applet or file not present on this card."""

    code: str = "NOT_A_MYNUMBER_CARD"


class InvalidPinError(ApduError):
    """63Cx: the PIN was wrong; `remaining` tries are left."""

    def __init__(self, data: bytes, sw: int, message: str | None = None) -> None:
        super().__init__(data, sw, message)
        remaining = retries_from_sw(sw)
        self.remaining: int = remaining if remaining is not None else 0
        # 63C0 on the exhausting try: the PIN is now blocked.
        self.code = "PIN_INCORRECT" if self.remaining > 0 else "PIN_BLOCKED"


class PinBlockedError(ApduError):
    """6983/6984 (or 63C0 on the exhausting try): the PIN is blocked; only the municipal
    counter can reset it."""

    code: str = "PIN_BLOCKED"


class PinNotSetError(ApduError):
    """6A88 in a PIN context: the PIN has no reference data yet (a new card before the
    holder set the PINs at the counter). Nothing was spent."""

    code: str = "PIN_NOT_SET"


def error_for_sw(data: bytes, sw: int, message: str | None = None) -> ApduError:
    """The most specific ApduError for a status word outside a PIN context."""
    if sw == 0x6982:
        return SecurityStatusNotSatisfiedError(data, sw, message)
    if sw == 0x6A82:
        return NotFoundError(data, sw, message)
    if sw in (0x6983, 0x6984):
        return PinBlockedError(data, sw, message)
    return ApduError(data, sw, message)
