"""PIN formats, checked before anything reaches the card."""

from __future__ import annotations

import re
from dataclasses import dataclass

from jpki.constants import PinKind
from jpki.errors import PinFormatError

_FOUR_DIGITS = re.compile(r"[0-9]{4}")
_SIGN_PIN = re.compile(r"[A-Z0-9]{6,16}")


def encode_pin(kind: PinKind, pin: str) -> bytes:
    """The PIN as the card expects it (ASCII), or PinFormatError. The sign PIN is
    upper-cased first, as every client does."""
    if kind is PinKind.SIGN:
        candidate = pin.upper()
        if not _SIGN_PIN.fullmatch(candidate):
            raise PinFormatError("the signature PIN is 6 to 16 characters of A-Z and 0-9")
        return candidate.encode("ascii")
    if not _FOUR_DIGITS.fullmatch(pin):
        raise PinFormatError(f"the {kind.value} PIN is exactly 4 digits")
    return pin.encode("ascii")


@dataclass(frozen=True, slots=True)
class PinStatus:
    """What the card says about a PIN without spending a try.

    `remaining` is None when the card answered 9000 (already verified in this selection;
    the count is not shown then) and when the PIN is not set yet (`is_set` False: the
    card answered 6A88, a new card before the counter set its PINs)."""

    kind: PinKind
    remaining: int | None
    verified: bool
    blocked: bool
    is_set: bool = True

    @property
    def max_tries(self) -> int:
        return self.kind.max_tries
